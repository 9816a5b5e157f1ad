"""``securinfer serve``: serve the servables saved in a directory over HTTP.

    securinfer serve --models DIR [--host 127.0.0.1] [--port 8000] [--token T]

The token comes from ``--token`` or the ``SECURINFER_TOKEN`` environment
variable (preferred: command lines are visible to other local users); with
neither, a fresh one is made and printed once. ``--no-auth`` serves without
a token (trusted networks only). See docs/serve.md.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from typing import List, Optional

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="securinfer serve", description="Serve encrypted inference over HTTP.")
    p.add_argument("--models", required=True, help="directory of saved servables (see docs/serve.md)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--token", default=os.environ.get("SECURINFER_TOKEN"),
                   help="bearer token (default: $SECURINFER_TOKEN, else a new one is printed)")
    p.add_argument("--no-auth", action="store_true", help="serve without a token (trusted networks only)")
    p.add_argument("--max-sessions", type=int, default=64)
    p.add_argument("--session-ttl", type=float, default=900.0, help="idle seconds before a session's keys are freed")
    p.add_argument("--workers", type=int, default=None, help="compute threads (default: CPU count)")
    p.add_argument("--max-pending", type=int, default=64, help="requests that may wait for a worker (503 beyond)")
    p.add_argument("--max-inputs", type=int, default=64,
                   help="ciphertexts per run for servables whose description does not say how many")
    p.add_argument("--log-level", default="info")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    import uvicorn

    from .app import create_app
    from .config import ServiceConfig
    from .discovery import discover

    args = _parser().parse_args(argv)
    servables = discover(args.models)
    token = None if args.no_auth else args.token
    if token is None and not args.no_auth:
        token = secrets.token_urlsafe(32)
        print(f"securinfer serve: no token given; clients must send: Authorization: Bearer {token}", file=sys.stderr)
    config = ServiceConfig(token=token, allow_anonymous=args.no_auth, max_sessions=args.max_sessions,
                           session_ttl=args.session_ttl, workers=args.workers, max_pending=args.max_pending,
                           default_max_inputs=args.max_inputs)
    app = create_app(servables, config)
    print(f"securinfer serve: {len(servables)} servable(s) on http://{args.host}:{args.port} "
          f"({', '.join(app.state.catalog.names())})", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
