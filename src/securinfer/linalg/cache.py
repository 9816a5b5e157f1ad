"""The LRU of prepared matrices, keyed by their content.

``x @ W`` prepares W (encodes its diagonals) for a context and a level;
repeating it with the same array must not prepare again, and an array
changed in place must not reuse stale diagonals: the key holds a digest of
the bytes, not ``id(W)``.

Example:
    >>> import numpy as np
    >>> from securinfer.linalg.cache import PreparedCache, digest
    >>> cache = PreparedCache(size=2)
    >>> W = np.eye(2)
    >>> cache.get_or_make(("eye", digest(W)), lambda: "prepared")
    'prepared'
    >>> cache.get_or_make(("eye", digest(W)), lambda: "again"), cache.info()
    ('prepared', {'hits': 1, 'misses': 1, 'size': 1})
"""

from __future__ import annotations

import hashlib

import numpy as np

from .._lru import LRU

__all__ = ["PreparedCache", "digest"]


def digest(W: np.ndarray) -> bytes:
    """A 128-bit digest of the array's bytes."""
    return hashlib.blake2b(np.ascontiguousarray(W).view(np.uint8).reshape(-1), digest_size=16).digest()


class PreparedCache(LRU):
    """Prepared matrices hold megabytes of encoded plaintexts: keep few
    (the package's one LRU, :class:`securinfer._lru.LRU`)."""
