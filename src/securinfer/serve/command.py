"""``securinfer serve``: serve the servables saved in a directory over HTTP(S).

    securinfer serve --models DIR [--host 127.0.0.1] [--port 8000] [--token T]
                     [--tls-cert CERT --tls-key KEY] [limits...]

The token comes from ``--token`` or the ``SECURINFER_TOKEN`` environment
variable (preferred: command lines are visible to other local users); with
neither, a fresh one is made and printed once. ``--tokens-file`` adds one
token per line, each a tenant with its own session quota. ``--no-auth``
serves without a token (trusted networks only). Every limit has a safe
default (docs/serve.md lists them).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from typing import List, Optional

__all__ = ["main"]

_MIB = 1 << 20


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="securinfer serve", description="Serve encrypted inference over HTTP.")
    p.add_argument("--models", required=True, help="directory of saved servables (see docs/serve.md)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--token", default=os.environ.get("SECURINFER_TOKEN"),
                   help="bearer token (default: $SECURINFER_TOKEN, else a new one is printed)")
    p.add_argument("--tokens-file", default=None, help="more tokens, one per line (each a tenant with its own quota)")
    p.add_argument("--no-auth", action="store_true", help="serve without a token (trusted networks only)")
    p.add_argument("--tls-cert", default=None, help="PEM certificate (chain): serve HTTPS")
    p.add_argument("--tls-key", default=None, help="PEM private key of --tls-cert")
    p.add_argument("--api-docs", action="store_true", help="serve /docs, /redoc and /openapi.json (token needed)")
    g = p.add_argument_group("limits (docs/serve.md)")
    g.add_argument("--max-sessions", type=int, default=64)
    g.add_argument("--session-ttl", type=float, default=900.0, help="idle seconds before a session's keys are freed")
    g.add_argument("--max-session-mib", type=int, default=1024, help="MiB of keys all sessions may hold (1024)")
    g.add_argument("--token-session-mib", type=int, default=None,
                   help="MiB of keys one token's sessions may hold (default: all with one token, 1/4 with several)")
    g.add_argument("--workers", type=int, default=None, help="compute threads (default: CPU count)")
    g.add_argument("--max-pending", type=int, default=64, help="requests that may wait for a worker (503 beyond)")
    g.add_argument("--max-inputs", type=int, default=64,
                   help="ciphertexts per run for servables whose description does not say how many")
    g.add_argument("--max-uploads", type=int, default=4, help="context uploads read at once (503 beyond)")
    g.add_argument("--max-uploads-per-token", type=int, default=2)
    g.add_argument("--max-bodies", type=int, default=64, help="run bodies read at once (503 beyond)")
    g.add_argument("--max-bodies-per-token", type=int, default=32)
    g.add_argument("--body-timeout", type=float, default=30.0, help="seconds to send a body (408 beyond)")
    g.add_argument("--header-timeout", type=float, default=10.0, help="seconds to send request headers")
    g.add_argument("--keep-alive", type=int, default=5, help="idle seconds a connection is kept between requests")
    g.add_argument("--max-connections", type=int, default=4096, help="connections at once (503 beyond)")
    g.add_argument("--max-header-kib", type=int, default=16, help="KiB of request line and headers")
    q = p.add_argument_group("query budget (docs/face.md): queries to galleries, counted per session and per "
                             "token; without it a client may ask without limit")
    q.add_argument("--queries-per-session", type=int, default=None)
    q.add_argument("--queries-per-token", type=int, default=None)
    q.add_argument("--query-window", type=float, default=None,
                   help="seconds of the token's sliding window (default: the service's life)")
    p.add_argument("--log-level", default="info")
    return p


def _read_tokens(path: Optional[str]) -> tuple:
    if path is None:
        return ()
    with open(path, encoding="utf-8") as f:
        return tuple(line.strip() for line in f if line.strip() and not line.startswith("#"))


def main(argv: Optional[List[str]] = None) -> int:
    import uvicorn

    from .app import create_app
    from .config import ServiceConfig
    from .discovery import discover
    from .protocol import ServerLimits, uvicorn_config
    from .query_budget import QueryBudget

    args = _parser().parse_args(argv)
    servables = discover(args.models)
    token = None if args.no_auth else args.token
    if token is None and not args.no_auth:
        token = secrets.token_urlsafe(32)
        print(f"securinfer serve: no token given; clients must send: Authorization: Bearer {token}", file=sys.stderr)
    config = ServiceConfig(
        token=token, allow_anonymous=args.no_auth, extra_tokens=_read_tokens(args.tokens_file),
        max_sessions=args.max_sessions, session_ttl=args.session_ttl, max_session_bytes=args.max_session_mib * _MIB,
        token_session_bytes=None if args.token_session_mib is None else args.token_session_mib * _MIB,
        workers=args.workers, max_pending=args.max_pending, default_max_inputs=args.max_inputs,
        max_uploads=args.max_uploads, max_uploads_per_token=args.max_uploads_per_token, max_bodies=args.max_bodies,
        max_bodies_per_token=args.max_bodies_per_token, body_timeout=args.body_timeout, api_docs=args.api_docs)
    limits = ServerLimits(header_timeout=args.header_timeout, keep_alive_timeout=args.keep_alive,
                          max_connections=args.max_connections, max_header_bytes=args.max_header_kib << 10)
    budget = None
    if (args.queries_per_session, args.queries_per_token, args.query_window) != (None, None, None):
        budget = QueryBudget(per_session=args.queries_per_session, per_token=args.queries_per_token,
                             window=args.query_window)
    elif any(QueryBudget().applies(s) for s in servables):
        print("securinfer serve: galleries are served without a query budget; every answer leaks something "
              "(docs/face.md): consider --queries-per-token", file=sys.stderr)
    app = create_app(servables, config, query_budget=budget)
    scheme = "https" if args.tls_cert else "http"
    print(f"securinfer serve: {len(servables)} servable(s) on {scheme}://{args.host}:{args.port} "
          f"({', '.join(app.state.catalog.names())})", file=sys.stderr, flush=True)
    uvicorn.Server(uvicorn_config(app, args.host, args.port, limits, tls_cert=args.tls_cert, tls_key=args.tls_key,
                                  log_level=args.log_level)).run()
    return 0
