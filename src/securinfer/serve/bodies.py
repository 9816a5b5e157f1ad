"""Reading a request body without ever holding more than a cap.

The cap comes from the parameters (see :mod:`securinfer.serve.parameters`).
A body declared (``Content-Length``) or found while streaming to be larger
is refused with 413 and never kept. Its rest is read and discarded while it
stays within ``drain_limit`` bytes, so an HTTP/1.1 client that writes its
whole body before reading the answer gets the 413 cleanly; beyond that the
connection is closed with the answer.

Time is bounded too: the whole body must arrive within ``timeout`` seconds,
else 408 ``timeout`` and the connection is closed (a slow sender holds a
socket and a buffer for at most that long).
"""

from __future__ import annotations

import asyncio
from typing import Optional

from starlette.requests import ClientDisconnect, Request

from .http_errors import Refusal

__all__ = ["read_body", "OCTET_STREAM"]

OCTET_STREAM = "application/octet-stream"


async def read_body(request: Request, cap: int, what: str, drain_limit: int,
                    timeout: Optional[float] = None) -> bytearray:
    """The body of ``request`` (``application/octet-stream``, at most ``cap``
    bytes, all of it within ``timeout`` seconds)."""
    if timeout is None:
        return await _read_body(request, cap, what, drain_limit)
    try:
        return await asyncio.wait_for(_read_body(request, cap, what, drain_limit), timeout)
    except asyncio.TimeoutError:
        raise Refusal(408, "timeout", f"the {what} did not arrive within {timeout:g} s",
                      headers={"Connection": "close"}) from None


async def _read_body(request: Request, cap: int, what: str, drain_limit: int) -> bytearray:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != OCTET_STREAM:
        raise Refusal(415, "unsupported_media_type", f"{what} must be sent as {OCTET_STREAM}, not {media or 'nothing'}")
    declared = request.headers.get("content-length")
    if declared is not None and not declared.isdigit():
        raise Refusal(400, "malformed", "Content-Length is not a number")
    size = int(declared) if declared is not None else 0
    too_large = size > cap
    if too_large and size > drain_limit:
        raise _too_large(size, cap, what, close=True)
    body, seen = bytearray(), 0
    try:
        async for chunk in request.stream():
            seen += len(chunk)
            if not too_large and seen > cap:
                too_large, body = True, bytearray()  # drop what was kept
            if too_large:
                if seen > drain_limit:
                    raise _too_large(max(size, seen), cap, what, close=True)
                continue
            body += chunk
    except ClientDisconnect:
        raise Refusal(499, "client_disconnected", f"the client went away while sending the {what}") from None
    if too_large:
        raise _too_large(max(size, seen), cap, what, close=False)
    return body


def _too_large(size: int, cap: int, what: str, *, close: bool) -> Refusal:
    return Refusal(413, "too_large", f"{what} of {size} bytes is larger than these parameters allow ({cap} bytes)",
                   headers={"Connection": "close"} if close else None)
