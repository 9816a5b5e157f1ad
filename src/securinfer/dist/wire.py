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

import hashlib
import weakref
from typing import Optional, Sequence, Tuple

from ..ciphertext import Ciphertext
from ..context import Context
from ..errors import ContextMismatchError, ParameterError, SecurityError, SerializationError

ContextKey = Tuple[bytes, int, bytes]

# Context -> (its key set's shape, SHA-256 of its public bytes): serializing a
# context's keys for every task would cost more than the task.
_DIGESTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _key_shape(context: Context) -> tuple:
    """What changes when keys are added to a context (rotation, conjugation, bootstrapping keys)."""
    return (tuple(context.rotation_steps), context.has_conjugation_key, tuple(sorted(context.key_bytes.items())))


def context_key(context: Context, data: Optional[bytes] = None) -> ContextKey:
    """``(canonical parameter bytes, key id, SHA-256 of the public bytes)``:
    what identifies a context's parameters and keys. The key id alone is only
    what a context's bytes claim (anyone can write another client's key id
    into their own keys), so workers cache and verify contexts by the digest
    of their content. ``data``: the context's :func:`public_bytes`, when the
    caller has them already."""
    shape = _key_shape(context)
    cached = _DIGESTS.get(context) if data is None else None
    if cached is not None and cached[0] == shape:
        digest = cached[1]
    else:
        digest = hashlib.sha256(public_bytes(context) if data is None else data).digest()
        _DIGESTS[context] = (shape, digest)
    return (context.parameters.canonical_bytes, int(context.key_id), digest)


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
    first = cts[0].context
    key = context_key(first)
    if any(c.context is not first and context_key(c.context) != key for c in cts[1:]):
        raise ContextMismatchError("the ciphertexts come from different contexts or keys")
    return cts[0].context
