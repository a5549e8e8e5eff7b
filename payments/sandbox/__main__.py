"""``python -m payments.sandbox --port 8090``: run the SumUp sandbox on its own."""

from __future__ import annotations

import argparse
import secrets
import sys
from decimal import Decimal

from payments.sandbox.app import create_sandbox_app
from payments.sandbox.ledger import DEFAULT_FAILING_AMOUNTS
from payments.sandbox.notify import WEBHOOK_SHAPES
from payments.sandbox.state import SandboxSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m payments.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--api-key", help="the Bearer key to accept (default: a new random one, printed)"
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        help="an origin redirect_url and return_url may point at; repeat for more",
    )
    parser.add_argument("--merchant-code", help="accept only this merchant (default: any)")
    parser.add_argument("--public-url", help="origin browsers use to reach the sandbox")
    parser.add_argument("--webhook-shape", choices=WEBHOOK_SHAPES, default="legacy")
    parser.add_argument("--webhook-copies", type=int, default=1)
    parser.add_argument("--webhook-delay", type=float, default=0.0, help="seconds")
    parser.add_argument(
        "--failing-amount",
        action="append",
        type=Decimal,
        help="an amount whose payment fails; repeat for more (default: "
        + ", ".join(map(str, sorted(DEFAULT_FAILING_AMOUNTS)))
        + ")",
    )
    parser.add_argument(
        "--log-level", default="info", help="uvicorn's (warning: no line a request)"
    )
    args = parser.parse_args(argv)
    api_key = args.api_key or secrets.token_urlsafe(24)
    if not args.api_key:
        print(f"sandbox API key: {api_key}", file=sys.stderr)
    settings = SandboxSettings(
        api_keys=(api_key,),
        allowed_origins=tuple(args.allow_origin or ()),
        merchant_code=args.merchant_code,
        public_url=args.public_url,
        webhook_shape=args.webhook_shape,
        webhook_copies=args.webhook_copies,
        webhook_delay=args.webhook_delay,
        failing_amounts=frozenset(args.failing_amount or DEFAULT_FAILING_AMOUNTS),
    )
    app = create_sandbox_app(settings)
    import uvicorn

    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
