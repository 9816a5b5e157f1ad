"""The HTTP server settings that bound what a connection may cost before the
application sees a request: header bytes and seconds, idle keep-alive,
connections in all, and TLS.

uvicorn bounds header bytes (``h11_max_incomplete_event_size``), idle
keep-alive time (``timeout_keep_alive``) and concurrency
(``limit_concurrency``: beyond it new requests get 503), but not the time a
client may take to send its headers: a slow-loris client that sends a byte
now and then holds its socket forever. :class:`HeaderDeadlineProtocol`
closes any connection still waiting for a request's complete headers
``header_timeout`` seconds after it opened or after its last answer. Bodies
have their own deadline in the application (:mod:`securinfer.serve.bodies`).

Example:
    >>> from securinfer.serve.protocol import ServerLimits, uvicorn_config
    >>> limits = ServerLimits(header_timeout=5.0)
    >>> config = uvicorn_config(app=None, host="127.0.0.1", port=8000, limits=limits)
    >>> config.timeout_keep_alive, config.limit_concurrency, config.http.header_timeout
    (5, 4096, 5.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..errors import ParameterError
from .._validation import is_int

__all__ = ["ServerLimits", "HeaderDeadlineProtocol", "uvicorn_config"]


@dataclass(frozen=True)
class ServerLimits:
    """Connection-level bounds (docs/serve.md lists the defaults)."""

    header_timeout: float = 10.0      # seconds to send a request's headers
    keep_alive_timeout: int = 5       # idle seconds between requests on one connection
    max_connections: int = 4096       # connections and requests at once; beyond, 503
    max_header_bytes: int = 16 << 10  # bytes of a request line and headers

    def __post_init__(self):
        if not (isinstance(self.header_timeout, (int, float)) and 0 < self.header_timeout < 3600):
            raise ParameterError("header_timeout must be a number of seconds in (0, 3600)")
        for name in ("keep_alive_timeout", "max_connections", "max_header_bytes"):
            value = getattr(self, name)
            if not is_int(value) or value < 1:
                raise ParameterError(f"{name} must be a positive int")


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing connections whose request headers
    are late (``header_timeout`` is set on a subclass by :func:`uvicorn_config`)."""

    header_timeout = 10.0

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_deadline = None
        self._arm_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_deadline()

    def connection_lost(self, exc) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def _headers_late(self) -> None:
        self._header_deadline = None
        # IDLE: h11 has not seen a complete request (line and headers) since the deadline was armed.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def uvicorn_config(app, host: str, port: int, limits: Optional[ServerLimits] = None, *,
                   tls_cert: Optional[str] = None, tls_key: Optional[str] = None,
                   log_level: str = "info") -> uvicorn.Config:
    """A ``uvicorn.Config`` with ``limits`` and, given both files, TLS."""
    limits = limits or ServerLimits()
    if (tls_cert is None) != (tls_key is None):
        raise ParameterError("TLS needs both a certificate and its key (--tls-cert and --tls-key)")
    protocol = type("HeaderDeadline", (HeaderDeadlineProtocol,), {"header_timeout": float(limits.header_timeout)})
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, http=protocol, lifespan="on",
                          timeout_keep_alive=limits.keep_alive_timeout, limit_concurrency=limits.max_connections,
                          h11_max_incomplete_event_size=limits.max_header_bytes, timeout_graceful_shutdown=5,
                          ssl_certfile=tls_cert, ssl_keyfile=tls_key, server_header=False)
