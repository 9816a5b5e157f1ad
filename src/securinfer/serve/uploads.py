"""Loading a client's public context on the server, refusing secret keys.

The fixed 40-byte header of our format (``csrc/io/header.h``) says, before
any key is parsed, whether the bytes carry a secret key (flag bit 2) and
which parameters they were made under (the fingerprint). So the server
refuses a secret-key context and a context of parameters no servable uses
from the header alone, checks the size against what those parameters allow,
and only then lets the core parse and validate the keys; it checks
``has_secret_key`` once more on the loaded context.

Example:
    >>> import securinfer as si
    >>> from securinfer.serve.parameters import ParameterSet
    >>> from securinfer.serve.uploads import load_public_context
    >>> p = ParameterSet.from_description({"preset": "fast"})
    >>> ctx = si.Context.create(preset="fast")
    >>> load_public_context(ctx.public().serialize(), {p.fingerprint: (p.parameters, p.context_bytes(0))}).has_secret_key
    False
    >>> load_public_context(ctx.serialize(secret_key=True), {p.fingerprint: (p.parameters, p.context_bytes(0))})
    Traceback (most recent call last):
    ...
    securinfer.errors.SecurityError: refused: this context carries a secret key; upload ctx.public().serialize()
"""

from __future__ import annotations

import struct
from typing import Mapping

from ..context import Context
from ..errors import ContextMismatchError, SecurityError, SerializationError

__all__ = ["load_public_context", "TooLarge", "HEADER_SIZE"]

HEADER_SIZE = 64  # format v2 (csrc/io/header.h)
_HEADER = struct.Struct("<4sHHII Q32sQ".replace(" ", ""))
_MAGIC, _VERSION, _TYPE_CONTEXT, _FLAG_SECRET = b"SINF", 2, 8, 2


class TooLarge(SerializationError):
    """More bytes than the parameters allow (the service answers 413)."""


def load_public_context(data, accepted: Mapping[bytes, tuple]) -> Context:
    """A public :class:`~securinfer.Context` from an upload.

    ``accepted`` maps each accepted parameter fingerprint (SHA-256 bytes) to
    ``(parameters, largest context allowed)``: the fingerprint finds them
    before the body is parsed, and the loaded context's parameters are then
    compared with them in full. Raises ``SecurityError`` for a secret key,
    ``ContextMismatchError`` for parameters not accepted here,
    ``TooLarge`` for more bytes than those parameters allow (Galois keys
    beyond those the servables use), ``SerializationError`` for bytes that
    are not a context or are corrupt."""
    view = memoryview(data).cast("B")
    if len(view) < HEADER_SIZE:
        raise SerializationError(f"not a securinfer context: {len(view)} bytes, the header alone takes {HEADER_SIZE}")
    magic, version, kind, flags, _reserved, payload, fingerprint, _key_id = _HEADER.unpack_from(view, 0)
    if magic != _MAGIC or kind != _TYPE_CONTEXT:
        raise SerializationError("not a securinfer context (wrong magic or object type); send Context.public().serialize()")
    if version != _VERSION:
        raise SerializationError(f"context format version {version} is not supported")
    if flags & _FLAG_SECRET:
        raise SecurityError("refused: this context carries a secret key; upload ctx.public().serialize()")
    if fingerprint not in accepted:
        raise ContextMismatchError("these parameters match no servable here; build the context from a servable's "
                                   "describe()['context']")
    expected, cap = accepted[fingerprint]
    if len(view) > cap:
        raise TooLarge(f"context of {len(view)} bytes is larger than these parameters allow "
                                 f"({cap} bytes: public, relinearisation and the Galois keys "
                                 f"the servables use)")
    if payload != len(view) - HEADER_SIZE:
        raise SerializationError(f"context truncated or padded: header announces {payload + HEADER_SIZE} bytes, "
                                 f"got {len(view)}")
    ctx = Context.load(view)
    if ctx.has_secret_key:  # the header said otherwise; never keep it
        raise SecurityError("refused: this context carries a secret key")
    if ctx.parameters != expected:  # the fingerprint found them; only equality admits them
        raise ContextMismatchError("these parameters match no servable here")
    return ctx
