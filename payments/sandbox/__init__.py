"""A SumUp sandbox: a real HTTP app speaking the API subset rose-cart uses.

Same paths, fields, statuses (PENDING/PAID/FAILED/EXPIRED) and error shapes as SumUp's
OpenAPI description; a hosted checkout page with Pay and Decline; webhooks to ``return_url``
in either documented shape. ``rose-cart serve`` uses it when no SumUp credentials are set;
``python -m payments.sandbox --port 8090`` runs it alone. State lives in memory.
"""

from payments.sandbox.app import create_sandbox_app
from payments.sandbox.state import Sandbox

__all__ = ["Sandbox", "create_sandbox_app"]
