"""How failures become HTTP answers: a status, a stable code, a clear message.

Every refusal is JSON ``{"error": code, "detail": message}``. securinfer's
own errors raised while loading or computing map to 4xx (they describe the
client's bytes or keys); anything else is a 500 whose detail says nothing
of the internals (it is logged on the server).

Example:
    >>> import securinfer as si
    >>> from securinfer.serve.http_errors import status_of
    >>> status_of(si.SerializationError("truncated")), status_of(si.SecurityError("secret key"))
    ((400, 'malformed'), (403, 'refused'))
"""

from __future__ import annotations

from typing import Mapping, Optional

from .. import errors as E
from .uploads import TooLarge

__all__ = ["Refusal", "status_of"]


class Refusal(Exception):
    """An HTTP error the service answers deliberately."""

    def __init__(self, status: int, code: str, detail: str, headers: Optional[Mapping[str, str]] = None):
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, dict(headers or {})


# Most specific first: ParameterError is also a ValueError, SecurityError a refusal of the bytes' content.
_MAP = [
    (E.SecurityError, 403, "refused"),
    (TooLarge, 413, "too_large"),
    (E.SerializationError, 400, "malformed"),
    (E.ContextMismatchError, 409, "mismatch"),
    (E.MissingKeyError, 422, "missing_key"),
    (E.LevelError, 422, "out_of_depth"),
    (E.ParameterError, 422, "bad_input"),
    (E.SecurinferError, 422, "rejected"),
]


def status_of(error: BaseException) -> tuple:
    """(HTTP status, code) for a securinfer error; (500, "internal") otherwise."""
    for kind, status, code in _MAP:
        if isinstance(error, kind):
            return status, code
    return 500, "internal"
