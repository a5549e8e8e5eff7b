"""A SumUp sandbox: a real HTTP app speaking the API subset rose-cart uses.

Same paths, fields, statuses (PENDING/PAID/FAILED/EXPIRED) and error shapes as SumUp's
OpenAPI description; a hosted checkout page with Pay and Decline; webhooks to ``return_url``
in either documented shape. ``rose-cart serve`` mounts it only when told to
(``ROSE_CART_SUMUP_SANDBOX=true``: a demo, never a fallback); ``python -m payments.sandbox
--port 8090 --allow-origin URL`` runs it alone. State lives in memory. It checks its own
keys, scopes each key to its own checkouts, and sends browsers and webhooks only to the
origins it was given (see ``state``).
"""

from payments.sandbox.app import create_sandbox_app
from payments.sandbox.state import Sandbox, SandboxSettings

__all__ = ["Sandbox", "SandboxSettings", "create_sandbox_app"]
