"""The client SDK: build keys from a servable's description, upload them once,
send ciphertexts, decrypt the answers. The secret key never leaves the client.

Example (against a running server)::

    from securinfer.serve import Client
    with Client("http://127.0.0.1:8000", token="...") as client:
        print(client.servables())                  # name -> describe()
        y = client.infer("iris", X)               # encrypt, run, decrypt (helpers of the servable's kind)
        outs = client.run("iris", cts)            # any servable: ciphertexts under client.context("iris")

One client context is made per parameter set (``describe()["context"]``),
with the union of the rotation keys its servables list, and uploaded once:
its session id is kept. If the server forgot the session (expiry, eviction,
restart: a 404 ``unknown_session``), the client uploads the keys again and
repeats the call once. GETs, key uploads and runs (a run changes nothing on
the server) are retried on connection failures and 502/503/504; a DELETE
only when nothing was sent. Refusals raise
:class:`~securinfer.serve.ServiceError`.

Trust: the client takes nothing security-relevant from the server. The
parameters of a description pass a whitelist and the client's own 128-bit
check before any key is made (:mod:`securinfer.server_parameters`,
``SecurityError`` otherwise). Over ``https://`` the server's certificate is
verified (``verify=``: True for the system's CAs, or a CA bundle's path).
Leaving a ``with`` block (or :meth:`close`) deletes this client's sessions on
the server, so its keys do not outlive it there.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
import time
from typing import Dict, List, Optional

import httpx
import numpy as np

from ..ciphertext import Ciphertext
from ..context import Context
from ..errors import SecurityError
from ..server_parameters import context_for_server
from .. import ciphertext_batch
from ..servable import client_for
from .errors import ServiceError

__all__ = ["Client"]

_RETRY_STATUS = {502, 503, 504}


class Client:
    """``Client(url, token=...)``: one service, its servables, and this
    client's keys. Thread-safe; ``close()`` or use as a context manager."""

    def __init__(self, url: str, token: Optional[str] = None, *, timeout: float = 300.0, retries: int = 3,
                 backoff: float = 0.25, verify=True):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        if verify is False:
            raise SecurityError("refusing to talk to a server whose certificate is not verified; give verify=True "
                                "or the path of the CA bundle that signed it")
        if isinstance(verify, (str, os.PathLike)):  # a CA bundle (or the server's own self-signed certificate)
            verify = ssl.create_default_context(cafile=os.fspath(verify))
        self._http = httpx.Client(base_url=url, headers=headers, timeout=timeout, verify=verify)
        self._retries, self._backoff = int(retries), float(backoff)
        self._descriptions: Optional[Dict[str, dict]] = None
        self._contexts: Dict[str, Context] = {}     # parameter key -> secret context
        self._sessions: Dict[str, str] = {}         # parameter key -> session id
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ service
    def health(self) -> dict:
        return self._json("GET", "/healthz")

    def info(self) -> dict:
        return self._json("GET", "/v1/info")

    def metrics(self) -> dict:
        return self._json("GET", "/v1/metrics")

    def servables(self, refresh: bool = False) -> Dict[str, dict]:
        """Name -> ``describe()`` of every servable."""
        with self._lock:
            if self._descriptions is None or refresh:
                listing = self._json("GET", "/v1/servables")["servables"]
                self._descriptions = {d["name"]: d for d in listing}
            return dict(self._descriptions)

    def describe(self, name: str) -> dict:
        servables = self.servables()
        if name not in servables:
            servables = self.servables(refresh=True)
        if name not in servables:
            raise ServiceError(404, "unknown_servable", f"no servable named {name!r}; have {sorted(servables)}")
        return servables[name]

    # ------------------------------------------------------------------ keys
    def context(self, name: str) -> Context:
        """This client's secret context for ``name``'s parameters (made once,
        with every rotation key the servables of these parameters need)."""
        key = _parameter_key(self.describe(name))
        with self._lock:
            ctx = self._contexts.get(key)
            if ctx is None:
                same = [d for d in self.servables().values() if _parameter_key(d) == key]
                # The server's word is checked: whitelist and our own 128-bit bound, before any key.
                ctx = context_for_server(self.describe(name).get("context"),
                                         rotations=[r for d in same for r in (d.get("rotations") or [])],
                                         conjugation=any(d.get("conjugation") is True for d in same))
                self._contexts[key] = ctx
            return ctx

    def set_context(self, name: str, context: Context) -> None:
        """Use ``context`` (with its secret key) for ``name``'s parameters, e.g.
        the one that enrolled an encrypted gallery: its public part is
        uploaded on the next call (any earlier session of these parameters is dropped)."""
        key = _parameter_key(self.describe(name))
        with self._lock:
            self._contexts[key] = context
            self._sessions.pop(key, None)

    def session(self, name: str) -> str:
        """The session id of ``name``'s parameters, uploading the keys if needed."""
        ctx = self.context(name)
        key = _parameter_key(self.describe(name))
        with self._lock:
            sid = self._sessions.get(key)
            if sid is None:
                answer = self._json("POST", "/v1/sessions", content=ctx.public().serialize(),
                                    headers={"Content-Type": "application/octet-stream"}, idempotent=True)
                sid = self._sessions[key] = answer["session"]
            return sid

    def close_session(self, name: str) -> None:
        """Ask the server to drop ``name``'s keys now (they expire anyway)."""
        key = _parameter_key(self.describe(name))
        with self._lock:
            sid = self._sessions.pop(key, None)
        if sid is not None:
            self._send("DELETE", "/v1/sessions", headers={"X-Session": sid})

    # ------------------------------------------------------------------ data
    def encrypt(self, name: str, values) -> Ciphertext:
        """One ciphertext of ``values`` under :meth:`context` (symmetric: half the upload)."""
        return self.context(name).encrypt(values)

    def decrypt(self, name: str, ciphertext: Ciphertext) -> np.ndarray:
        """The values of one result ciphertext."""
        return self.context(name).decrypt(ciphertext)

    def run(self, name: str, ciphertexts: List[Ciphertext]) -> List[Ciphertext]:
        """Run servable ``name`` on ``ciphertexts`` (made under :meth:`context`);
        returns the result ciphertexts."""
        ctx = self.context(name)
        body = ciphertext_batch.pack(list(ciphertexts))
        key = _parameter_key(self.describe(name))
        for attempt in range(2):
            sid = self.session(name)
            # A run changes nothing on the server: retrying it is safe.
            response = self._send("POST", f"/v1/run/{name}", content=body, check=False, idempotent=True,
                                  headers={"Content-Type": "application/octet-stream", "X-Session": sid})
            if response.status_code == 404 and _code(response) == "unknown_session" and attempt == 0:
                with self._lock:  # the server forgot our keys: upload them again, once
                    if self._sessions.get(key) == sid:
                        del self._sessions[key]
                continue
            break
        _raise_for(response)
        return ciphertext_batch.unpack(response.content, ctx)

    def infer(self, name: str, values, **encrypt_options) -> np.ndarray:
        """Encrypt ``values``, run, decrypt, with the client helper of the
        servable's kind (:func:`securinfer.servable.client_for`): a vector
        for a ``LinearModel``, a batch of rows for :mod:`securinfer.nn` models
        (``out_of_range=`` passes on to its ``encrypt``), a probe embedding
        for face galleries (scores per template back)."""
        helper = client_for(self.describe(name))
        ctx = self.context(name)
        return helper.decrypt(ctx, self.run(name, helper.encrypt(ctx, values, **encrypt_options)))

    # ------------------------------------------------------------------ HTTP
    def _json(self, method: str, path: str, *, idempotent: Optional[bool] = None, **kw) -> dict:
        return self._send(method, path, idempotent=idempotent, **kw).json()

    def _send(self, method: str, path: str, *, idempotent: Optional[bool] = None, check: bool = True,
              **kw) -> httpx.Response:
        idempotent = method == "GET" if idempotent is None else idempotent
        for attempt in range(self._retries + 1):
            last = attempt == self._retries
            try:
                response = self._http.request(method, path, **kw)
            except httpx.ConnectError as error:  # nothing was sent: always safe to retry
                if last:
                    raise ServiceError(None, "unreachable", f"{self._http.base_url}: {error}") from None
            except httpx.TransportError as error:
                if last or not idempotent:
                    raise ServiceError(None, "transport", f"{method} {path}: {error!r}") from None
            else:
                retry = response.status_code in _RETRY_STATUS and (idempotent or response.status_code == 503)
                if not retry or last:
                    if check:
                        _raise_for(response)
                    return response
            time.sleep(self._backoff * 2 ** attempt)
        raise AssertionError("unreachable")

    def close_sessions(self) -> None:
        """Delete every session this client opened (best effort: a server
        that cannot be reached forgets them at their expiry anyway)."""
        with self._lock:
            sids, self._sessions = list(self._sessions.values()), {}
        for sid in sids:
            try:
                self._send("DELETE", "/v1/sessions", headers={"X-Session": sid}, check=False)
            except ServiceError:
                pass

    def close(self) -> None:
        """Delete this client's sessions on the server, then close the connection."""
        try:
            self.close_sessions()
        finally:
            self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _parameter_key(description: dict) -> str:
    return json.dumps(description.get("context"), sort_keys=True)


def _code(response: httpx.Response) -> Optional[str]:
    try:
        return response.json().get("error")
    except ValueError:
        return None


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        payload = response.json()
        code, detail = payload.get("error", "http_error"), payload.get("detail", response.text)
    except ValueError:
        code, detail = "http_error", response.text[:500]
    raise ServiceError(response.status_code, code, detail)
