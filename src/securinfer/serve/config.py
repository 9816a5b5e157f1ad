"""The service's settings, validated once, with safe defaults.

Every bound is in bytes, seconds or counts, and docs/serve.md lists them.

Example:
    >>> from securinfer.serve.config import ServiceConfig
    >>> config = ServiceConfig(token="a-long-s3cret-token", max_sessions=8)
    >>> config.session_ttl, config.max_session_bytes >> 20, config.body_timeout
    (900.0, 1024, 30.0)
    >>> ServiceConfig(token=None)
    Traceback (most recent call last):
    ...
    securinfer.errors.ParameterError: a bearer token is required (or allow_anonymous=True, for a trusted network only)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Tuple

from ..errors import ParameterError
from .._validation import is_int

__all__ = ["ServiceConfig", "MIN_TOKEN_LENGTH"]

#: Shortest bearer token accepted: 16 characters of ``secrets.token_urlsafe`` carry 96 bits.
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class ServiceConfig:
    """Settings of :func:`~securinfer.serve.create_app`.

    Access: ``token`` (and any ``extra_tokens``) are the bearer tokens
    accepted (one is required unless ``allow_anonymous``); each token is a
    *tenant*, with its own session quota and concurrency share.

    Sessions: at most ``max_sessions`` sessions holding ``max_session_bytes``
    of keys together, ``token_session_bytes`` for one token (default: all of
    it with one token, a quarter with several), each dropped after
    ``session_ttl`` idle seconds.

    Work in flight: ``workers`` compute threads (default: CPU count), at
    most ``max_pending`` requests waiting for them; ``max_uploads`` context
    uploads read at once (``max_uploads_per_token`` per token),
    ``max_bodies`` run bodies (``max_bodies_per_token``); beyond, 503.

    Time: a body must arrive within ``body_timeout`` seconds (else 408 and
    the connection is closed). ``drain_limit``: an oversized body up to this
    many bytes is read and discarded so the client gets its 413 cleanly;
    larger ones get the 413 and a closed connection.

    ``api_docs``: serve ``/docs``, ``/redoc`` and ``/openapi.json`` (behind
    the token); off by default."""

    token: Optional[str] = None
    allow_anonymous: bool = False
    extra_tokens: Tuple[str, ...] = ()
    max_sessions: int = 64
    session_ttl: float = 900.0
    max_session_bytes: int = 1 << 30
    token_session_bytes: Optional[int] = None
    workers: Optional[int] = None
    max_pending: int = 64
    default_max_inputs: int = 64
    max_uploads: int = 4
    max_uploads_per_token: int = 2
    max_bodies: int = 64
    max_bodies_per_token: int = 32
    body_timeout: float = 30.0
    drain_limit: int = 64 << 20
    api_docs: bool = False

    def __post_init__(self):
        if self.token is None and not self.allow_anonymous:
            raise ParameterError("a bearer token is required (or allow_anonymous=True, for a trusted network only)")
        if not isinstance(self.extra_tokens, (tuple, list)):
            raise ParameterError("extra_tokens must be a tuple of str")
        object.__setattr__(self, "extra_tokens", tuple(self.extra_tokens))
        for token in ((self.token,) if self.token is not None else ()) + self.extra_tokens:
            if not isinstance(token, str) or len(token) < MIN_TOKEN_LENGTH or token != token.strip():
                raise ParameterError(f"a token must be a str of at least {MIN_TOKEN_LENGTH} characters without "
                                     f"surrounding spaces (secrets.token_urlsafe() makes one)")
        if self.extra_tokens and self.token is None:
            raise ParameterError("extra_tokens go with a token")
        if len(set(self.tokens)) != len(self.tokens):
            raise ParameterError("tokens must differ")
        for name in ("max_sessions", "max_pending", "default_max_inputs", "drain_limit", "max_session_bytes",
                     "max_uploads", "max_uploads_per_token", "max_bodies", "max_bodies_per_token"):
            value = getattr(self, name)
            if not is_int(value) or value < 1:
                raise ParameterError(f"{name} must be a positive int")
        if self.token_session_bytes is not None and (isinstance(self.token_session_bytes, bool) or
                                                     not isinstance(self.token_session_bytes, int) or
                                                     self.token_session_bytes < 1):
            raise ParameterError("token_session_bytes must be a positive int")
        if self.workers is not None and (not isinstance(self.workers, int) or self.workers < 1):
            raise ParameterError("workers must be a positive int")
        for name in ("session_ttl", "body_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not (isinstance(value, (int, float)) and 0 < value < float("inf")):
                raise ParameterError(f"{name} must be a positive number of seconds")
            object.__setattr__(self, name, float(value))

    @property
    def tokens(self) -> Tuple[str, ...]:
        """Every accepted token (empty when anonymous)."""
        return ((self.token,) if self.token is not None else ()) + self.extra_tokens

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    @property
    def session_bytes_per_token(self) -> int:
        if self.token_session_bytes is not None:
            return min(self.token_session_bytes, self.max_session_bytes)
        return self.max_session_bytes if len(self.tokens) <= 1 else self.max_session_bytes // 4
