"""Long vectors over several ciphertexts, and matrices of any size, by blocks.

An :class:`EncryptedVector` is a vector too long for one ciphertext: chunk c
holds values ``[c * chunk, (c + 1) * chunk)`` in its first slots (the last
chunk may be shorter). A :class:`BlockLinearTransform` splits a matrix W
(rows x cols, any size) into blocks of at most ``chunk x block_cols`` values,
prepares one :class:`~securinfer.linalg.LinearTransform` per non-zero block,
once, and computes output chunk j as the sum over input chunks i of
``x_i @ W[i, j]``: one level, like any plaintext product.

* Row blocks follow the input's chunks (they must: a ciphertext cannot be cut
  without a masking product), so ``block_rows`` is the input's ``chunk``.
* Column blocks are the output's chunks (default: ``min(cols, slots)``).
* Zero blocks are skipped; the rotation keys are the union of the blocks'
  steps (:meth:`BlockLinearTransform.required_rotations`), known before any key.

``x @ W`` works for a :class:`~securinfer.Ciphertext` whose W has more columns
than slots (the result is an :class:`EncryptedVector`) and for any
:class:`EncryptedVector` (row blocks = its chunks), with the same small cache
of prepared matrices as ``x @ W`` on one ciphertext.

Example:
    >>> import numpy as np, securinfer as si
    >>> ctx = si.Context.create(preset="fast")
    >>> x = si.linalg.EncryptedVector.encrypt(ctx, np.arange(6.0), chunk=4)   # 2 chunks: 4 + 2 values
    >>> W = np.ones((6, 3))
    >>> blt = si.linalg.BlockLinearTransform(ctx, W, block=(4, 2))          # 2 x 2 blocks
    >>> ctx.generate_rotation_keys(steps=blt.required_rotations())
    >>> y = blt.apply(x)
    >>> y.sizes, np.round(y.decrypt(ctx), 3)
    ([2, 1], array([15., 15., 15.]))
"""

from __future__ import annotations

import numbers
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .._validation import as_real_matrix, as_values as _as_values, is_int
from ..ciphertext import Ciphertext
from ..context import Context
from ..errors import ContextMismatchError, LevelError, ParameterError
from .cache import PreparedCache, digest
from .transform import LinearTransform

__all__ = ["EncryptedVector", "BlockLinearTransform", "block_cache_info", "block_cache_clear"]


def _positive_int(value, name) -> int:
    if not is_int(value) or value < 1:
        raise ParameterError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _block_cols(block_rows: int, cols: int, slots: int) -> int:
    """Default column block. A block of r rows and c columns costs r
    diagonals when the input's copies fit (ceil((r + c - 1) / r) * r <=
    slots), else up to min(slots, r + c - 1): the widest block that still
    fits the copies, or full width, whichever needs fewer diagonals in all."""
    r = block_rows
    narrow = (slots // r) * r - r + 1  # the widest c whose copies fit

    def diagonals(c):
        per_block = r if c <= narrow else min(slots, r + c - 1)
        return -(-cols // c) * per_block

    return min({min(cols, slots), min(cols, narrow)}, key=lambda c: (diagonals(c), -c))


def _splits(length: int, chunk: int) -> List[Tuple[int, int]]:
    """[start, stop) of consecutive chunks of ``chunk`` values covering ``length``."""
    return [(s, min(s + chunk, length)) for s in range(0, length, chunk)]


class EncryptedVector:
    """A vector of ``size`` values spread over ciphertexts of ``chunk`` values.

    Made by :meth:`encrypt`, by :meth:`from_ciphertexts`, or as the result of
    ``x @ W``. Supports ``+``/``-`` (with another EncryptedVector of the same
    chunking, a numpy vector of ``size`` values, or a scalar), ``*`` (the same
    operands; a product of two encrypted vectors is slot-wise), unary ``-``,
    ``@`` (a plaintext matrix of ``size`` rows), :meth:`decrypt`,
    :meth:`serialize`/:meth:`load` and pickling.

    Example:
        >>> import numpy as np, securinfer as si
        >>> ctx = si.Context.create(preset="fast")
        >>> v = si.linalg.EncryptedVector.encrypt(ctx, np.arange(10.0), chunk=4)
        >>> len(v.ciphertexts), v.sizes
        (3, [4, 4, 2])
        >>> np.round((2 * v - 1).decrypt(ctx)[-3:], 3)
        array([13., 15., 17.])
    """

    __slots__ = ("_cts", "_chunk")
    __array_ufunc__ = None  # numpy hands `array op vector` to our reflected operators

    def __init__(self, ciphertexts: Sequence, chunk: Optional[int] = None):

        cts = list(ciphertexts)
        if not cts:
            raise ParameterError("an EncryptedVector needs at least one ciphertext")
        for ct in cts:
            if not isinstance(ct, Ciphertext):
                raise ParameterError(f"expected securinfer.Ciphertext chunks, got {type(ct).__name__}")
            if not ct._context.same_parameters(cts[0]._context):
                raise ContextMismatchError("the chunks come from different parameters")
            ct._require_zero_padding("an EncryptedVector chunk")
        chunk = cts[0].size if chunk is None else _positive_int(chunk, "chunk")
        if chunk > cts[0]._context.slots:
            raise ParameterError(f"chunk of {chunk} values exceeds the {cts[0]._context.slots} slots")
        sizes = [ct.size for ct in cts]
        if any(s != chunk for s in sizes[:-1]) or not 1 <= sizes[-1] <= chunk:
            raise ParameterError(f"chunks must hold {chunk} values each (the last one at most {chunk}), got {sizes}")
        self._cts = cts
        self._chunk = chunk

    # ------------------------------------------------------------------ making and reading
    @classmethod
    def encrypt(cls, context, values, chunk: Optional[int] = None) -> "EncryptedVector":
        """Encrypt a vector of any length in chunks of ``chunk`` values
        (default: the context's slots)."""

        if not isinstance(context, Context):
            raise ParameterError(f"expected a securinfer.Context, got {type(context).__name__}")
        arr = _as_values(values)
        if arr.size == 0:
            raise ParameterError("cannot encrypt an empty vector")
        chunk = context.slots if chunk is None else _positive_int(chunk, "chunk")
        if chunk > context.slots:
            raise ParameterError(f"chunk of {chunk} values exceeds the {context.slots} slots")
        return cls([context.encrypt(arr[a:b]) for a, b in _splits(arr.size, chunk)], chunk)

    @classmethod
    def from_ciphertexts(cls, ciphertexts: Iterable) -> "EncryptedVector":
        """Wrap ciphertexts holding consecutive chunks (all but the last full)."""
        return cls(list(ciphertexts))

    def decrypt(self, context=None, **kwargs) -> np.ndarray:
        """The whole vector (needs the secret key; ``context`` defaults to the
        chunks' own; keyword arguments go to :meth:`Context.decrypt`)."""
        ctx = self.context if context is None else context
        return np.concatenate([ctx.decrypt(ct, **kwargs) for ct in self._cts])

    def serialize(self) -> List[bytes]:
        """One ``bytes`` per chunk, in order (what :meth:`load` takes)."""
        return [ct.serialize() for ct in self._cts]

    @classmethod
    def load(cls, data: Sequence[bytes], context) -> "EncryptedVector":
        """From :meth:`serialize`'s list, validated against ``context``."""

        if isinstance(data, (bytes, bytearray, memoryview)) or not isinstance(data, (list, tuple)):
            raise ParameterError("EncryptedVector.load takes the list of bytes that serialize() returns")
        return cls([Ciphertext.load(d, context) for d in data])

    def __reduce__(self):
        return (EncryptedVector, (self._cts, self._chunk))

    # ------------------------------------------------------------------ facts
    @property
    def ciphertexts(self) -> list:
        """The chunks (a copy of the list)."""
        return list(self._cts)

    @property
    def chunk(self) -> int:
        """Values per ciphertext (the last may hold fewer)."""
        return self._chunk

    @property
    def sizes(self) -> List[int]:
        return [ct.size for ct in self._cts]

    @property
    def size(self) -> int:
        return sum(self.sizes)

    @property
    def level(self) -> int:
        """The lowest level of the chunks."""
        return min(ct.level for ct in self._cts)

    @property
    def context(self):
        return self._cts[0]._context

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return (f"<securinfer.linalg.EncryptedVector size={self.size} chunk={self.chunk} "
                f"ciphertexts={len(self._cts)} level={self.level}>")

    # ------------------------------------------------------------------ arithmetic
    def _pieces(self, other, op: str):
        """``other`` cut like self: a list of per-chunk operands, or None."""
        if isinstance(other, EncryptedVector):
            if other.sizes != self.sizes:
                raise ParameterError(f"{op}: chunkings differ ({other.sizes} vs {self.sizes})")
            return other._cts
        if isinstance(other, numbers.Number) and not isinstance(other, bool):
            return [other] * len(self._cts)
        if isinstance(other, (np.ndarray, list, tuple)):

            arr = _as_values(other)
            if arr.size == 1 and np.ndim(other) == 0:
                return [arr[0]] * len(self._cts)
            if arr.size != self.size:
                raise ParameterError(f"{op}: a vector of {arr.size} values with an EncryptedVector of {self.size}")
            return [arr[a:b] for a, b in _splits(self.size, self._chunk)]
        return None

    def _map(self, other, fn, op):
        pieces = self._pieces(other, op)
        if pieces is None:
            return NotImplemented
        return EncryptedVector([fn(ct, p) for ct, p in zip(self._cts, pieces)], self._chunk)

    def __add__(self, other):
        return self._map(other, lambda a, b: a + b, "+")

    __radd__ = __add__

    def __sub__(self, other):
        return self._map(other, lambda a, b: a - b, "-")

    def __rsub__(self, other):
        return self._map(other, lambda a, b: b - a, "-")

    def __mul__(self, other):
        return self._map(other, lambda a, b: a * b, "*")

    __rmul__ = __mul__

    def __neg__(self):
        return EncryptedVector([-ct for ct in self._cts], self._chunk)

    def __matmul__(self, matrix):
        """``x @ W``: W (``size`` rows, any columns) cut into blocks along this
        vector's chunks, prepared once and cached (uses one level)."""
        return matmul_blocks(self, matrix)

    def drop_to_level(self, level: int) -> "EncryptedVector":
        return EncryptedVector([ct.drop_to_level(level) for ct in self._cts], self._chunk)


class BlockLinearTransform:
    """A plaintext matrix of any size prepared for ``y = x @ W`` by blocks.

    ``block``: an int (square blocks) or ``(block_rows, block_cols)``, each at
    most ``ctx.slots``; default ``block_rows = min(rows, slots)`` and
    ``block_cols`` either ``min(cols, slots)`` or ``slots - block_rows + 1``
    (blocks narrow enough for the replicated layout, ``block_rows``
    diagonals each), whichever needs fewer diagonals in all. The
    input is an :class:`EncryptedVector` of ``rows`` values in chunks of
    ``block_rows`` (or, when ``rows <= block_rows``, a single Ciphertext); the
    output an :class:`EncryptedVector` in chunks of ``block_cols``. ``level``:
    as for :class:`~securinfer.linalg.LinearTransform` (default: the top).

    Cost: one LinearTransform per non-zero block, so ``rows/block_rows x
    cols/block_cols`` products of about ``block_rows`` diagonals each.

    Example:
        >>> import numpy as np, securinfer as si
        >>> ctx = si.Context.create(preset="fast")
        >>> W = np.arange(12.0).reshape(3, 4)
        >>> blt = si.linalg.BlockLinearTransform(ctx, W, block=(3, 3))
        >>> blt.grid, blt.nonzero_blocks
        ((1, 2), 2)
    """

    def __init__(self, context, matrix, level: Optional[int] = None, block=None):

        if not isinstance(context, Context):
            raise ParameterError(f"expected a securinfer.Context, got {type(context).__name__}")
        W = as_real_matrix(matrix)
        rows, cols = W.shape
        slots = context.slots
        if block is None:
            br = min(rows, slots)
            bc = _block_cols(br, cols, slots)
        elif isinstance(block, (tuple, list)) and len(block) == 2:
            br, bc = (_positive_int(b, "block") for b in block)
        else:
            br = bc = _positive_int(block, "block")
        if br > slots or bc > slots:
            raise ParameterError(f"block {(br, bc)} exceeds the {slots} slots")
        self._shape = (rows, cols)
        self._block = (min(br, rows), min(bc, cols))
        self._row_cuts = _splits(rows, br)
        self._col_cuts = _splits(cols, bc)
        # One transform per non-zero block; a column of zero blocks keeps its
        # first one so that its output chunk still exists (as zeros).
        self._blocks = {}
        for j, (c0, c1) in enumerate(self._col_cuts):
            for i, (r0, r1) in enumerate(self._row_cuts):
                sub = W[r0:r1, c0:c1]
                if np.any(sub) or (i == len(self._row_cuts) - 1 and not any(k[1] == j for k in self._blocks)):
                    self._blocks[(i, j)] = LinearTransform(context, sub, level)
        self._context = context
        self._level = next(iter(self._blocks.values())).level

    # ------------------------------------------------------------------ facts
    @property
    def shape(self) -> Tuple[int, int]:
        return self._shape

    @property
    def rows(self) -> int:
        return self._shape[0]

    @property
    def cols(self) -> int:
        return self._shape[1]

    @property
    def block(self) -> Tuple[int, int]:
        """(block_rows, block_cols): the input's and the output's chunk."""
        return self._block

    @property
    def grid(self) -> Tuple[int, int]:
        """Number of row blocks and column blocks."""
        return len(self._row_cuts), len(self._col_cuts)

    @property
    def nonzero_blocks(self) -> int:
        return len(self._blocks)

    @property
    def level(self) -> int:
        return self._level

    @property
    def nbytes(self) -> int:
        return sum(lt.nbytes for lt in self._blocks.values())

    def __repr__(self) -> str:
        return (f"<securinfer.linalg.BlockLinearTransform {self.rows}x{self.cols} block={self.block} "
                f"grid={self.grid} nonzero={self.nonzero_blocks} level={self.level}>")

    def required_rotations(self) -> List[int]:
        """The union of the blocks' rotation steps (sorted), known before any key."""
        return sorted({s for lt in self._blocks.values() for s in lt.required_rotations()})

    # ------------------------------------------------------------------ use
    def apply(self, x) -> EncryptedVector:
        """``x @ W`` for an EncryptedVector (or one Ciphertext) of ``rows``
        values chunked like the row blocks; one level down."""

        if isinstance(x, Ciphertext):
            if x.size != self.rows:
                raise ParameterError(f"shapes do not match: vector of {x.size} @ matrix of {self._shape}")
            x = EncryptedVector([x], self._block[0])
        if not isinstance(x, EncryptedVector):
            raise ParameterError(f"expected an EncryptedVector or a Ciphertext, got {type(x).__name__}")
        if x.size != self.rows:
            raise ParameterError(f"shapes do not match: vector of {x.size} @ matrix of {self._shape}")
        if len(x._cts) > 1 and x.chunk != self._block[0]:
            raise ParameterError(f"the vector's chunks of {x.chunk} values do not match row blocks of "
                                 f"{self._block[0]}: prepare with block=({x.chunk}, ...)")
        if not x._cts[0]._context.same_parameters(self._context):
            raise ContextMismatchError("the vector and the transform come from different parameters")
        outs = []
        for j in range(len(self._col_cuts)):
            acc = None
            for i, ct in enumerate(x._cts):
                lt = self._blocks.get((i, j))
                if lt is not None:
                    part = lt.apply(ct)
                    acc = part if acc is None else acc + part
            outs.append(acc)
        return EncryptedVector(outs, self._block[1])


# --------------------------------------------------------------------------- the x @ W cache
# Few entries: a prepared matrix holds its diagonals (megabytes per block).
_cache = PreparedCache(size=4)


def matmul_blocks(x, matrix) -> EncryptedVector:
    """``x @ matrix`` for an EncryptedVector, or a Ciphertext whose matrix has
    more columns than slots, through a cached BlockLinearTransform."""

    W = np.asarray(matrix)
    if W.ndim != 2:
        raise ParameterError(f"matrix must be 2-D, got shape {W.shape}")
    if W.shape[0] != x.size:
        raise ParameterError(f"shapes do not match: vector of {x.size} @ matrix of {W.shape}")
    if isinstance(x, Ciphertext):
        x = EncryptedVector([x])
    level = x.level
    if level < 1:
        raise LevelError("ciphertext is at level 0: out of multiplicative depth (use more coefficient primes)")
    if W.dtype == object or W.dtype.kind not in "fiub":
        as_real_matrix(W)  # raises the ParameterError
    ctx = x.context
    block = (x.chunk, _block_cols(x.chunk, W.shape[1], ctx.slots))
    key = (W.shape, W.dtype.str, digest(W), id(ctx._core), level, block)
    return _cache.get_or_make(key, lambda: BlockLinearTransform(ctx, W, level, block)).apply(x)


def block_cache_info() -> dict:
    """Hits, misses (= preparations) and size of the blocked ``x @ W`` cache."""
    return _cache.info()


def block_cache_clear() -> None:
    """Empties the blocked ``x @ W`` cache and its counters."""
    _cache.clear()
