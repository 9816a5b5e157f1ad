"""The error a client sees when the service answers with a 4xx or 5xx.

Example:
    >>> from securinfer.serve import ServiceError
    >>> e = ServiceError(404, "unknown_session", "no such session (expired, evicted or the server restarted)")
    >>> e.status, e.code, isinstance(e, Exception)
    (404, 'unknown_session', True)
"""

from __future__ import annotations

from typing import Optional

from ..errors import SecurinferError


class ServiceError(SecurinferError):
    """A request the service refused or failed: ``status`` is the HTTP status
    (``None`` when the server could not be reached), ``code`` a stable
    machine-readable name (``"bad_token"``, ``"too_large"``, ...) and
    ``detail`` the server's explanation."""

    def __init__(self, status: Optional[int], code: str, detail: str):
        super().__init__(f"{code} ({status}): {detail}" if status is not None else f"{code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


__all__ = ["ServiceError"]
