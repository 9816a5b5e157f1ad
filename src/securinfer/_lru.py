"""The package's one least-recently-used cache: thread-safe, bounded by a
count, ``make`` run outside the lock (so one slow entry does not block the
others). Used for prepared matrices (:mod:`securinfer.linalg.cache`), the nn
weights per context, and the contexts, probes and shipped contexts of
:mod:`securinfer.dist`.

Example:
    >>> from securinfer._lru import LRU
    >>> cache = LRU(size=2)
    >>> cache.get_or_make("a", lambda: 1), cache.get_or_make("a", lambda: 2)
    (1, 1)
    >>> cache.put("b", 2), cache.put("c", 3)
    (2, 3)
    >>> cache.get("a") is None, cache.info()
    (True, {'hits': 1, 'misses': 1, 'size': 2})
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable, List, Optional

from ._validation import is_int

__all__ = ["LRU"]


class LRU:
    """At most ``size`` entries; the least recently used leaves first."""

    def __init__(self, size: int):
        if not is_int(size) or size < 1:
            raise ValueError("an LRU holds at least one entry")
        self._size = size
        self._entries: "OrderedDict[Hashable, object]" = OrderedDict()
        self._lock = threading.Lock()
        self._hits = self._misses = 0

    def get(self, key: Hashable) -> Optional[object]:
        """The entry (now the most recent), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: object, *, replace: bool = False) -> object:
        """Store ``value`` unless an entry for ``key`` arrived first (or
        ``replace``); the entry kept."""
        with self._lock:
            if replace:
                self._entries[key] = value
            kept = self._entries.setdefault(key, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
            return kept

    def get_or_make(self, key: Hashable, make: Callable[[], object]) -> object:
        """The entry for ``key``, made by ``make()`` (outside the lock) when absent."""
        value = self.get(key)
        with self._lock:
            if value is not None:
                self._hits += 1
                return value
            self._misses += 1
        return self.put(key, make())

    def values(self) -> List[object]:
        with self._lock:
            return list(self._entries.values())

    def info(self) -> dict:
        with self._lock:
            return {"hits": self._hits, "misses": self._misses, "size": len(self._entries)}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._hits = self._misses = 0
