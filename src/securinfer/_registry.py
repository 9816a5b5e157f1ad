"""The live contexts of this process by (full parameters, key id), so that an
unpickled ciphertext finds the context it belongs to. The key is the
parameters' canonical encoding: equal keys are equal parameters, not merely
equal hashes. Entries are weak: a context dropped by its user leaves.

Example:
    >>> import securinfer as si
    >>> from securinfer import _registry
    >>> ctx = si.Context.create(preset="fast")
    >>> _registry.lookup(ctx.parameters.canonical_bytes, ctx._keys.key_id) is ctx
    True
"""

from __future__ import annotations

import weakref

from .errors import SerializationError

_LIVE: "weakref.WeakValueDictionary" = weakref.WeakValueDictionary()


def register(ctx) -> None:
    """Make ``ctx`` findable (a live entry for the same key is kept: replacing
    it would lose it when the newcomer is dropped)."""
    _LIVE.setdefault((ctx.parameters.canonical_bytes, ctx._keys.key_id), ctx)


def lookup(canonical_parameters: bytes, key_id: int):
    """The live context of these parameters and keys (``SerializationError`` if none)."""
    ctx = _LIVE.get((bytes(canonical_parameters), key_id))
    if ctx is None:
        raise SerializationError("no context with these parameters and keys is loaded in this process; "
                                 "unpickle or load the (public) context before its ciphertexts")
    return ctx
