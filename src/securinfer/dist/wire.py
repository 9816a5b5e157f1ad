"""What travels between the driver and the workers: public contexts as
securinfer's own validated bytes (ciphertexts travel in the one batch format
of :mod:`securinfer.ciphertext_batch`, as in ``securinfer serve``).

A ciphertext's pickle names its context by parameters and key id, and only
unpickles in a process where that context is loaded; rather than rely on the
order in which Dask deserialises task arguments, the driver sends the public
context's bytes once per worker and every ciphertext as plain bytes, and the
worker loads the ciphertexts explicitly under the context it cached
(:mod:`~securinfer.dist.worker_cache`).

The context sent is always the public one (:func:`public_bytes`): a secret
context is replaced by its ``public()`` copy, and a worker refuses any context
that holds a secret key (:func:`load_public`, ``SecurityError``).

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.ciphertext_batch import pack, unpack
    >>> from securinfer.dist.wire import public_bytes, load_public
    >>> ctx = si.Context.create(preset="fast")
    >>> server = load_public(public_bytes(ctx))
    >>> server.has_secret_key
    False
    >>> cts = unpack(pack([ctx.encrypt([1.0, 2.0]), ctx.encrypt([3.0])]), server)
    >>> [ctx.decrypt(c).round(6).tolist() for c in cts]
    [[1.0, 2.0], [3.0]]
"""

from __future__ import annotations

from typing import Sequence, Tuple

from ..ciphertext import Ciphertext
from ..context import Context
from ..errors import ContextMismatchError, ParameterError, SecurityError, SerializationError

ContextKey = Tuple[bytes, int]


def context_key(context: Context) -> ContextKey:
    """``(canonical parameter bytes, key id)``: what identifies a context's parameters and keys."""
    return (context.parameters.canonical_bytes, int(context.key_id))


def public_bytes(context: Context) -> bytes:
    """The public context's bytes (parameters, public and evaluation keys);
    never the secret key, whatever context is given."""
    if not isinstance(context, Context):
        raise ParameterError(f"expected a securinfer.Context, got {type(context).__name__}")
    public = context.public() if context.has_secret_key else context
    return public.serialize()


def load_public(data: bytes) -> Context:
    """A context from :func:`public_bytes`'s bytes; ``SecurityError`` if the
    bytes carry a secret key (a worker must never hold one)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SerializationError(f"expected a public context's bytes, got {type(data).__name__}")
    context = Context.load(bytes(data))
    if context.has_secret_key:
        raise SecurityError("a context holding the secret key was sent to a worker; send context.public()")
    return context


def probe_context(cts: Sequence[Ciphertext]) -> Context:
    """The one context of a list of ciphertexts (``ContextMismatchError`` if
    they mix contexts or keys)."""
    if isinstance(cts, Ciphertext) or not isinstance(cts, (list, tuple)) or not cts:
        raise ParameterError("expected a non-empty list of securinfer.Ciphertext")
    if not all(isinstance(c, Ciphertext) for c in cts):
        raise ParameterError("expected securinfer.Ciphertext objects only")
    key = context_key(cts[0].context)
    if any(context_key(c.context) != key for c in cts[1:]):
        raise ContextMismatchError("the ciphertexts come from different contexts or keys")
    return cts[0].context
