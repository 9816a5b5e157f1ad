"""A plaintext gallery's blocks prepared for the compact probe: each block's
128 diagonals, grouped by giant step and rotated for baby-step giant-step
scoring (:mod:`~securinfer.apps.face.compact_probe`), encoded once per
(parameters, level, baby step) within the gallery's byte budget.

Block b, giant step g is one :class:`~securinfer.linalg.EncodedColumns` of B
rows (entry ``b * (128 / B) + g`` of an :class:`EncodedBlocks`); a block's
score is ``giant_sum([combine_plain(babies, entry_g) for g])``. When the
gallery's block count changes B, the encodings of the former B are dropped
(the memory holds one B at a time).

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.apps.face.compact_blocks import CompactBlocks
    >>> from securinfer.apps.face.compact_probe import EXPANSION_STEPS, replicate, baby_rotations
    >>> ctx = si.Context.create(poly_degree=4096, coeff_bits=[38, 30, 38], scale_bits=30)
    >>> ctx.generate_rotation_keys(steps=EXPANSION_STEPS)
    >>> columns = np.random.default_rng(0).normal(size=(1, 128, ctx.slots))
    >>> blocks = CompactBlocks(lambda b: columns[b], ctx.slots)
    >>> probe = np.random.default_rng(1).normal(size=128)
    >>> babies = baby_rotations(ctx.encrypt(replicate(probe, ctx.slots)), 16)
    >>> score = blocks.score(babies, ctx, ctx.max_level, 0)
    >>> bool(np.abs(ctx.decrypt(score) - probe @ columns[0]).max() < 1e-3)
    True
"""

from __future__ import annotations

import threading
from typing import Callable, Optional

import numpy as np

from ...linalg import combine_plain
from .compact_probe import giant_diagonals, giant_sum
from .encoded_blocks import EncodedBlocks
from .params import EMBEDDING_SIZE


class CompactBlocks:
    """Block ``b``'s columns (``columns(b)``: (128, slots)) as giant-step
    diagonals, encoded per (parameters, level, baby step); ``max_encoded_bytes``
    bounds the memory as in :class:`EncodedBlocks`."""

    def __init__(self, columns: Callable[[int], np.ndarray], slots: int, max_encoded_bytes: Optional[int] = None):
        self._columns = columns
        self._slots = slots
        self._max = max_encoded_bytes
        self._by_baby = {}                       # baby step -> EncodedBlocks (one at a time)
        self._lock = threading.Lock()

    def _encoded(self, baby: int) -> EncodedBlocks:
        with self._lock:
            if baby not in self._by_baby:
                giants = EMBEDDING_SIZE // baby
                self._by_baby = {baby: EncodedBlocks(
                    lambda i: giant_diagonals(self._columns(i // giants), self._slots, baby, i % giants), self._max)}
            return self._by_baby[baby]

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self._by_baby.values())

    @property
    def max_encoded_bytes(self) -> Optional[int]:
        return self._max

    @max_encoded_bytes.setter
    def max_encoded_bytes(self, value: Optional[int]) -> None:
        self._max = value
        for e in self._by_baby.values():
            e.max_encoded_bytes = value

    def forget_from(self, first: int) -> None:
        """Drop the encodings of blocks ``first`` and after (their templates changed)."""
        for baby, e in list(self._by_baby.items()):
            e.forget_from(first * (EMBEDDING_SIZE // baby))

    def prepare(self, context, level: int, baby: int, b: int) -> None:
        """Encode block ``b`` for ``baby`` now."""
        encoded = self._encoded(baby)
        giants = EMBEDDING_SIZE // baby
        for g in range(giants):
            encoded.get(context, level, b * giants + g)

    def score(self, babies, context, level: int, b: int, add=None):
        """Block ``b``'s products with the probe whose baby rotations are
        ``babies`` (one level down): slot j, the inner product with template j.
        ``add``: a ciphertext added to every giant step's partial product
        (the result then also holds ``sum_g rot_{g B}(add)``)."""
        baby = len(babies)
        encoded = self._encoded(baby)
        giants = EMBEDDING_SIZE // baby
        partials = [combine_plain(babies, encoded.get(context, level, b * giants + g)) for g in range(giants)]
        if add is not None:
            partials = [p + add for p in partials]
        return giant_sum(partials, baby)
