"""The service's settings, validated once.

Example:
    >>> from securinfer.serve.config import ServiceConfig
    >>> ServiceConfig(token="a-long-s3cret", max_sessions=8).session_ttl
    900.0
    >>> ServiceConfig(token=None)
    Traceback (most recent call last):
    ...
    securinfer.errors.ParameterError: a bearer token is required (or allow_anonymous=True, for a trusted network only)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from ..errors import ParameterError

__all__ = ["ServiceConfig"]


@dataclass(frozen=True)
class ServiceConfig:
    """``token``: the bearer token every request but ``/healthz`` must carry
    (required unless ``allow_anonymous``). ``max_sessions`` and
    ``session_ttl`` (idle seconds) bound the uploaded key sets;
    ``workers`` threads compute (default: CPU count) and at most
    ``max_pending`` requests wait for them (503 beyond). ``drain_limit``:
    an oversized body up to this many bytes is read and discarded so the
    client gets its 413 cleanly; larger ones get the 413 and a closed connection."""

    token: Optional[str] = None
    allow_anonymous: bool = False
    max_sessions: int = 64
    session_ttl: float = 900.0
    workers: Optional[int] = None
    max_pending: int = 64
    default_max_inputs: int = 64
    drain_limit: int = 64 << 20

    def __post_init__(self):
        if self.token is None and not self.allow_anonymous:
            raise ParameterError("a bearer token is required (or allow_anonymous=True, for a trusted network only)")
        if self.token is not None and (not isinstance(self.token, str) or len(self.token) < 8):
            raise ParameterError("the token must be a str of at least 8 characters (secrets.token_urlsafe() makes one)")
        for name in ("max_sessions", "max_pending", "default_max_inputs", "drain_limit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name} must be a positive int")
        if self.workers is not None and (not isinstance(self.workers, int) or self.workers < 1):
            raise ParameterError("workers must be a positive int")
        if not (isinstance(self.session_ttl, (int, float)) and self.session_ttl > 0):
            raise ParameterError("session_ttl must be a positive number of seconds")
        object.__setattr__(self, "session_ttl", float(self.session_ttl))

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1
