"""The ASGI application: sessions of public keys, servables run on ciphertexts.

Routes (every one but ``/healthz`` needs ``Authorization: Bearer <token>``;
``/docs``, ``/redoc`` and ``/openapi.json`` exist only with ``api_docs=True``,
and need the token too):

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
in :mod:`securinfer.ciphertext_batch`. The session id travels in the
``X-Session`` header (not in the path, so it stays out of access logs).
Loading keys and ciphertexts and computing run in a thread pool (the core
releases the GIL), never on the event loop. Bodies are read under the
bounds of :mod:`securinfer.serve.limits` (concurrency per token and in all)
and :mod:`securinfer.serve.bodies` (bytes and seconds); sessions under those
of :mod:`securinfer.serve.sessions` (key bytes per token and in all).

Example (serving in a thread, as the tests do)::

    app = create_app([LinearModel(W, b, context={"preset": "fast"}, name="m")], token="a-long-s3cret-token")
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
from .. import ciphertext_batch
from .bodies import OCTET_STREAM, read_body
from .catalog import Catalog
from .config import ServiceConfig
from .http_errors import Refusal, status_of
from .metrics import Metrics
from .observe import MetricsMiddleware
from .process import rss_bytes
from .limits import Gate
from .sessions import QuotaExceeded, SessionStore
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
    sessions = SessionStore(config.max_sessions, config.session_ttl, max_bytes=config.max_session_bytes,
                            tenant_bytes=config.session_bytes_per_token)
    # Within its token's share a request waits for a slot as long as a body may take to arrive.
    uploads = Gate("context uploads", config.max_uploads, config.max_uploads_per_token, wait=config.body_timeout)
    bodies = Gate("run bodies", config.max_bodies, config.max_bodies_per_token, wait=config.body_timeout)
    metrics = Metrics()
    state = {"pending": 0, "executor": None}
    # Token digest -> tenant name (a digest prefix: it names the token in metrics without revealing it).
    tenants = {hashlib.sha256(t.encode()).digest(): hashlib.sha256(t.encode()).hexdigest()[:12]
               for t in config.tokens}

    @asynccontextmanager
    async def lifespan(_app):
        state["executor"] = ThreadPoolExecutor(config.worker_count, thread_name_prefix="securinfer-serve")
        try:
            yield
        finally:
            state["executor"].shutdown(wait=False, cancel_futures=True)
            sessions.clear()

    app = FastAPI(title="securinfer", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None,  # behind the token, below, if asked for
                  description="Inference on homomorphically encrypted data (RNS-CKKS). The server holds only "
                              "public and evaluation keys; clients decrypt the answers.")
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.state.catalog, app.state.sessions, app.state.metrics = catalog, sessions, metrics

    # ------------------------------------------------------------------ plumbing
    def authorize(request: Request) -> str:
        """The caller's tenant (its token's name); 401 without a valid token."""
        if not tenants:
            return "anonymous"
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # Compare digests: constant time, independent of the given length; every token is compared.
        digest = hashlib.sha256(given.strip().encode()).digest()
        found = None
        for known, tenant in tenants.items():
            if hmac.compare_digest(digest, known):
                found = tenant
        if scheme.lower() != "bearer" or found is None:
            raise Refusal(401, "bad_token", "missing or wrong bearer token (Authorization: Bearer <token>)",
                          headers={"WWW-Authenticate": "Bearer"})
        return found

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
                           "max_session_bytes": config.max_session_bytes,
                           "token_session_bytes": config.session_bytes_per_token,
                           "max_uploads": config.max_uploads, "max_uploads_per_token": config.max_uploads_per_token,
                           "max_bodies": config.max_bodies, "max_bodies_per_token": config.max_bodies_per_token,
                           "body_timeout_s": config.body_timeout,
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

    @app.post("/v1/sessions", tags=["sessions"], status_code=201,
              summary="Upload a public context (evaluation keys); get a session id", openapi_extra=_BINARY_BODY)
    async def create_session(request: Request, tenant: str = Depends(authorize)):
        async with uploads.enter(tenant):  # the body and the parsed keys are held only under this bound
            body = await read_body(request, catalog.max_context_body(), "context", config.drain_limit,
                                   config.body_timeout)
            context = await off_loop(load_public_context, body, catalog.context_caps())
            # The header's fingerprint let the bytes in; the parameters themselves must match too.
            compatible = [n for n in catalog.names() if _same_parameters(catalog.parameters(n), context)]
            if not compatible:
                raise Refusal(409, "mismatch", "these parameters match no servable here; build the context from "
                                               "a servable's describe()['context']")
            try:
                sid = sessions.add(context, nbytes=len(body), tenant=tenant)
            except QuotaExceeded as error:
                raise Refusal(413, "too_large", str(error)) from None
        return {"session": sid, "ttl_s": config.session_ttl, "servables": compatible}

    @app.delete("/v1/sessions", tags=["sessions"], status_code=204,
                summary="Close the session named in X-Session (frees its keys)")
    async def close_session(request: Request, tenant: str = Depends(authorize)):
        if not sessions.remove(session_of(request).id, tenant):
            raise Refusal(404, "unknown_session", "no such session for this token")
        return Response(status_code=204)

    @app.post("/v1/run/{name}", tags=["servables"], openapi_extra=_BINARY_BODY,
              responses=_BINARY_ANSWER, response_class=Response,
              summary="Run a servable on a container of ciphertexts (session in X-Session)")
    async def run(name: str, request: Request, tenant: str = Depends(authorize)):
        name = servable_name(name)
        # The body first: an HTTP/1.1 client sends all of it before reading the
        # answer, so it reliably sees a refusal (say 404 unknown_session,
        # upon which it uploads its keys again) only once the body is read.
        async with bodies.enter(tenant):
            body = await read_body(request, catalog.max_run_body(name), "ciphertext container", config.drain_limit,
                                   config.body_timeout)
        session = session_of(request)
        if not _same_parameters(catalog.parameters(name), session.context):
            raise Refusal(409, "mismatch", f"this session's parameters are not {name!r}'s; build the context from "
                                           f"GET /v1/servables/{name}")
        answer = await off_loop(_compute, catalog.servable(name), session.context, body, catalog.max_inputs(name),
                                catalog.parameters(name).max_ciphertext_bytes())
        return Response(answer, media_type=OCTET_STREAM)

    @app.get("/v1/metrics", tags=["service"], dependencies=[Depends(authorize)],
             summary="Request counts, latencies, sessions, bytes, memory")
    async def get_metrics():
        return metrics.snapshot() | {"sessions": sessions.stats(), "pending": state["pending"],
                                     "uploads": uploads.stats(), "bodies": bodies.stats(),
                                     "process": {"rss_bytes": rss_bytes()}}

    if config.api_docs:
        _add_api_docs(app, authorize)
    return app


def _same_parameters(prepared, context) -> bool:
    """Whether a client's context has exactly the parameters a servable was
    prepared for. The one place the service compares parameters: every
    check (session upload, run, the servable's answer) goes through here."""
    return prepared.parameters == context.parameters   # securinfer.Parameters: compared in full


def _add_api_docs(app: FastAPI, authorize) -> None:
    """``/openapi.json``, ``/docs`` and ``/redoc``, each needing the token."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(authorize)])
    async def openapi():
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(authorize)])
    async def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="securinfer")

    @app.get("/redoc", include_in_schema=False, dependencies=[Depends(authorize)])
    async def redoc():
        return get_redoc_html(openapi_url="/openapi.json", title="securinfer")


def _compute(servable, context, body, max_inputs: int, max_item_bytes: int) -> bytes:
    """Unpack, load under the session's keys, run, serialize (in a worker thread)."""
    inputs = ciphertext_batch.unpack(body, context, max_items=max_inputs, max_item_bytes=max_item_bytes)
    outputs = servable(inputs)
    if not isinstance(outputs, (list, tuple)) or not all(isinstance(c, Ciphertext) for c in outputs):
        raise TypeError(f"{servable!r} returned {type(outputs).__name__}, not a list of ciphertexts")
    if any(not _same_parameters(c.context, context) for c in outputs):
        raise ContextMismatchError("the servable answered under other parameters")
    return ciphertext_batch.pack(list(outputs))
