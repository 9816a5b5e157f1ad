"""The ASGI application: sessions of public keys, servables run on ciphertexts.

Routes (every one but ``/healthz`` needs ``Authorization: Bearer <token>``):

| method and path              | body in                        | answer                               |
|------------------------------|--------------------------------|--------------------------------------|
| ``GET /healthz``             |                                | ``{"status": "ok"}``                 |
| ``GET /v1/info``             |                                | version, kernels, limits (JSON)      |
| ``GET /v1/servables``        |                                | every ``describe()`` (JSON)          |
| ``GET /v1/servables/{name}`` |                                | one ``describe()`` (JSON)            |
| ``POST /v1/sessions``        | ``ctx.public().serialize()``   | 201 ``{"session": id, ...}``         |
| ``DELETE /v1/sessions``      | (``X-Session`` header)         | 204                                  |
| ``POST /v1/run/{name}``      | container of ciphertexts       | container of ciphertexts             |
| ``GET /v1/metrics``          |                                | counts, latencies, sessions, bytes   |

Binary bodies are ``application/octet-stream``; the container is described
in :mod:`securinfer.serve.container`. The session id travels in the
``X-Session`` header (not in the path, so it stays out of access logs).
Loading keys and ciphertexts and computing run in a thread pool (the core
releases the GIL), never on the event loop. ``/docs`` and ``/openapi.json``
describe it all.

Example (serving in a thread, as the tests do)::

    app = create_app([LinearModel(W, b, context={"preset": "fast"}, name="m")], token="s3cret-token")
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Iterable, Optional

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from .._system import simd_info
from ..ciphertext import Ciphertext
from ..errors import ContextMismatchError, SecurinferError
from . import container
from .bodies import OCTET_STREAM, read_body
from .catalog import Catalog
from .config import ServiceConfig
from .http_errors import Refusal, status_of
from .metrics import Metrics
from .observe import MetricsMiddleware
from .process import rss_bytes
from .sessions import SessionStore
from .uploads import load_public_context

__all__ = ["create_app"]

log = logging.getLogger("securinfer.serve")

_BINARY_BODY = {"requestBody": {"required": True, "content": {OCTET_STREAM: {"schema": {"type": "string",
                                                                                          "format": "binary"}}}}}
_BINARY_ANSWER = {200: {"content": {OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}}},
                        "description": "a container of result ciphertexts"}}


def create_app(servables: Iterable, config: Optional[ServiceConfig] = None, **settings) -> FastAPI:
    """The service for ``servables`` (objects meeting the servable contract).

    ``config`` or keyword settings of :class:`~securinfer.serve.config.ServiceConfig`
    (``token=...`` is required unless ``allow_anonymous=True``)."""
    config = config or ServiceConfig(**settings)
    catalog = Catalog(servables, default_max_inputs=config.default_max_inputs)
    sessions = SessionStore(config.max_sessions, config.session_ttl)
    metrics = Metrics()
    state = {"pending": 0, "executor": None}
    token_digest = hashlib.sha256(config.token.encode()).digest() if config.token is not None else None

    @asynccontextmanager
    async def lifespan(_app):
        state["executor"] = ThreadPoolExecutor(config.worker_count, thread_name_prefix="securinfer-serve")
        try:
            yield
        finally:
            state["executor"].shutdown(wait=False, cancel_futures=True)
            sessions.clear()

    app = FastAPI(title="securinfer", version=__version__, lifespan=lifespan,
                  description="Inference on homomorphically encrypted data (RNS-CKKS). The server holds only "
                              "public and evaluation keys; clients decrypt the answers.")
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.state.catalog, app.state.sessions, app.state.metrics = catalog, sessions, metrics

    # ------------------------------------------------------------------ plumbing
    def authorize(request: Request) -> None:
        if token_digest is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # Compare digests: constant time, and independent of the given length.
        if scheme.lower() != "bearer" or not hmac.compare_digest(hashlib.sha256(given.strip().encode()).digest(),
                                                                 token_digest):
            raise Refusal(401, "bad_token", "missing or wrong bearer token (Authorization: Bearer <token>)",
                          headers={"WWW-Authenticate": "Bearer"})

    async def off_loop(function, *args):
        """Run blocking work in the pool; 503 when too much already waits."""
        if state["pending"] >= config.max_pending:
            raise Refusal(503, "busy", f"{state['pending']} requests are already waiting; retry shortly",
                          headers={"Retry-After": "1"})
        state["pending"] += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(state["executor"], function, *args)
        finally:
            state["pending"] -= 1

    def session_of(request: Request):
        sid = request.headers.get("x-session")
        if not sid:
            raise Refusal(400, "missing_session", "send the session id from POST /v1/sessions in the X-Session header")
        session = sessions.get(sid)
        if session is None:
            raise Refusal(404, "unknown_session", "no such session (expired, evicted, closed, or the server "
                                                  "restarted): upload the context again")
        return session

    def servable_name(name: str) -> str:
        if name not in catalog:
            raise Refusal(404, "unknown_servable", f"no servable named {name!r}; GET /v1/servables lists them")
        return name

    @app.exception_handler(Refusal)
    async def _refusal(_request, error: Refusal):
        return JSONResponse({"error": error.code, "detail": error.detail}, error.status, headers=error.headers)

    @app.exception_handler(SecurinferError)
    async def _securinfer_error(_request, error: SecurinferError):
        status, code = status_of(error)
        return JSONResponse({"error": code, "detail": str(error)}, status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request, error: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse({"error": code, "detail": str(error.detail)}, error.status_code,
                            headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request, error: Exception):
        log.exception("internal error")
        return JSONResponse({"error": "internal", "detail": "internal server error (logged on the server)"}, 500)

    # ------------------------------------------------------------------ routes
    @app.get("/healthz", tags=["service"], summary="Liveness (no token needed)")
    async def healthz():
        return {"status": "ok"}

    @app.get("/v1/info", tags=["service"], dependencies=[Depends(authorize)], summary="Version, kernels, limits")
    async def info():
        return {"version": __version__, "simd": simd_info()["active"], "servables": catalog.names(),
                "limits": {"max_sessions": config.max_sessions, "session_ttl_s": config.session_ttl,
                           "max_context_bytes": catalog.max_context_body(),
                           "max_run_bytes": {n: catalog.max_run_body(n) for n in catalog.names()},
                           "max_pending": config.max_pending, "workers": config.worker_count}}

    @app.get("/v1/servables", tags=["servables"], dependencies=[Depends(authorize)],
             summary="Every servable's describe()")
    async def list_servables():
        return {"servables": [catalog.describe(n) for n in catalog.names()]}

    @app.get("/v1/servables/{name}", tags=["servables"], dependencies=[Depends(authorize)],
             summary="One servable's describe()")
    async def describe(name: str):
        return catalog.describe(servable_name(name))

    @app.post("/v1/sessions", tags=["sessions"], status_code=201, dependencies=[Depends(authorize)],
              summary="Upload a public context (evaluation keys); get a session id", openapi_extra=_BINARY_BODY)
    async def create_session(request: Request):
        body = await read_body(request, catalog.max_context_body(), "context", config.drain_limit)
        context = await off_loop(load_public_context, body, catalog.context_caps())
        sid = sessions.add(context, nbytes=len(body))
        return {"session": sid, "ttl_s": config.session_ttl, "servables": catalog.compatible(context)}

    @app.delete("/v1/sessions", tags=["sessions"], status_code=204, dependencies=[Depends(authorize)],
                summary="Close the session named in X-Session (frees its keys)")
    async def close_session(request: Request):
        sessions.remove(session_of(request).id)
        return Response(status_code=204)

    @app.post("/v1/run/{name}", tags=["servables"], dependencies=[Depends(authorize)], openapi_extra=_BINARY_BODY,
              responses=_BINARY_ANSWER, response_class=Response,
              summary="Run a servable on a container of ciphertexts (session in X-Session)")
    async def run(name: str, request: Request):
        name = servable_name(name)
        # The body first: an HTTP/1.1 client sends all of it before reading the
        # answer, so it reliably sees a refusal (say 404 unknown_session,
        # upon which it uploads its keys again) only once the body is read.
        body = await read_body(request, catalog.max_run_body(name), "ciphertext container", config.drain_limit)
        session = session_of(request)
        if not catalog.parameters(name).matches(session.context):
            raise Refusal(409, "mismatch", f"this session's parameters are not {name!r}'s; build the context from "
                                           f"GET /v1/servables/{name}")
        answer = await off_loop(_compute, catalog.servable(name), session.context, body, catalog.max_inputs(name),
                                catalog.parameters(name).max_ciphertext_bytes())
        return Response(answer, media_type=OCTET_STREAM)

    @app.get("/v1/metrics", tags=["service"], dependencies=[Depends(authorize)],
             summary="Request counts, latencies, sessions, bytes, memory")
    async def get_metrics():
        return metrics.snapshot() | {"sessions": sessions.stats(), "pending": state["pending"],
                                     "process": {"rss_bytes": rss_bytes()}}

    return app


def _compute(servable, context, body, max_inputs: int, max_item_bytes: int) -> bytes:
    """Unpack, load under the session's keys, run, serialize (in a worker thread)."""
    items = container.unpack(body, max_items=max_inputs, max_item_bytes=max_item_bytes)
    inputs = [Ciphertext.load(item, context) for item in items]
    outputs = servable(inputs)
    if not isinstance(outputs, (list, tuple)) or not all(isinstance(c, Ciphertext) for c in outputs):
        raise TypeError(f"{servable!r} returned {type(outputs).__name__}, not a list of ciphertexts")
    if any(not c.context.same_parameters(context) for c in outputs):
        raise ContextMismatchError("the servable answered under other parameters")
    return container.pack([c.serialize() for c in outputs])
