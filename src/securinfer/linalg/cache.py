"""A small thread-safe LRU of prepared matrices, keyed by their content.

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
import threading
from collections import OrderedDict
from typing import Callable, Hashable

import numpy as np

__all__ = ["PreparedCache", "digest"]


def digest(W: np.ndarray) -> bytes:
    """A 128-bit digest of the array's bytes."""
    return hashlib.blake2b(np.ascontiguousarray(W).view(np.uint8).reshape(-1), digest_size=16).digest()


class PreparedCache:
    """Least recently used first out, at most ``size`` entries (prepared
    matrices hold megabytes of encoded plaintexts: keep few)."""

    def __init__(self, size: int):
        self._size = size
        self._entries: "OrderedDict[Hashable, object]" = OrderedDict()
        self._lock = threading.Lock()
        self._hits = self._misses = 0

    def get_or_make(self, key: Hashable, make: Callable[[], object]):
        """The entry for ``key``, made by ``make()`` (outside the lock) when absent."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
                self._hits += 1
                return value
        value = make()
        with self._lock:
            self._misses += 1
            self._entries[key] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def info(self) -> dict:
        with self._lock:
            return {"hits": self._hits, "misses": self._misses, "size": len(self._entries)}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._hits = self._misses = 0
