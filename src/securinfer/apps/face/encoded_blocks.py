"""The columns of a plaintext gallery's blocks, encoded for a context and a
level once and kept within a byte budget: what makes a repeated
identification cost only its products. Shared by :class:`~securinfer.apps.face.Gallery`
and the shards of :mod:`securinfer.dist` (one cache, one policy).

Example:
    >>> import numpy as np
    >>> from securinfer.apps import face
    >>> from securinfer.apps.face.encoded_blocks import EncodedBlocks
    >>> ctx = face.create_context()
    >>> columns = np.zeros((2, 128, ctx.slots), dtype=np.float32)
    >>> blocks = EncodedBlocks(lambda b: columns[b])
    >>> blocks.get(ctx, ctx.max_level, 1) is blocks.get(ctx, ctx.max_level, 1), blocks.encodings
    (True, 1)
"""

from __future__ import annotations

import threading
from typing import Callable, Dict, Optional

import numpy as np

from ...linalg import EncodedColumns


class EncodedBlocks:
    """Block ``b``'s columns (``columns(b)``: (128, slots) float32) encoded
    per (parameters, level); entries are kept while their bytes fit
    ``max_encoded_bytes`` (None: no limit), others are encoded per use."""

    def __init__(self, columns: Callable[[int], np.ndarray], max_encoded_bytes: Optional[int] = None):
        self._columns = columns
        self.max_encoded_bytes = max_encoded_bytes
        self._encoded: Dict[tuple, Dict[int, EncodedColumns]] = {}
        self._bytes = 0
        self._lock = threading.Lock()      # scoring threads fill the cache concurrently
        self._generation = 0               # bumped by forget_from: encodings begun before are stale
        self.encodings = 0                 # blocks encoded so far (a repeated query adds none)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def get(self, context, level: int, b: int) -> EncodedColumns:
        """Block ``b`` encoded for ``context``'s parameters at ``level``."""
        with self._lock:
            cache = self._encoded.setdefault((context.parameters, level), {})
            cols = cache.get(b)
            generation = self._generation
        if cols is None:
            cols = EncodedColumns(context, self._columns(b), level=level)     # outside the lock: slow
            with self._lock:
                self.encodings += 1
                # An enrolment that changed the blocks meanwhile (forget_from) makes this
                # encoding stale: it serves this query only and is never cached.
                if generation == self._generation and b not in cache and (
                        self.max_encoded_bytes is None or self._bytes + cols.nbytes <= self.max_encoded_bytes):
                    cache[b] = cols
                    self._bytes += cols.nbytes
        return cols

    def forget_from(self, first: int) -> None:
        """Drop the encodings of blocks ``first`` and after (their templates changed)."""
        with self._lock:
            self._generation += 1
            for cache in self._encoded.values():
                for b in [b for b in cache if b >= first]:
                    self._bytes -= cache.pop(b).nbytes
