"""Encrypted matrices of any shape, as a grid of d x d tiles.

An :class:`EncryptedMatrix` of shape (m, n) is zero-padded to multiples of
``d`` and cut into d x d tiles, tile (i, j) in one ciphertext (row-major,
d*d <= slots). Products go tile by tile:

    C[i, j] = sum_t A[i, t] @ B[t, j]

* encrypted x encrypted: each tile's Jiang-Kim-Lauter-Song terms are made
  once (d ciphertexts per tile of A and of B, see :mod:`securinfer.linalg.matmul`)
  and every output tile sums d * (n / d) ciphertext products: 3 levels;
* encrypted x plaintext and plaintext x encrypted: one prepared
  LinearTransform per non-zero plaintext tile: 1 level.

Rotation keys: ``MatrixProduct(ctx, d).required_rotations()`` for the first,
``tile_rotations(ctx, d)`` covers the plaintext ones for dense tiles.

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.linalg.tiled import EncryptedMatrix
    >>> ctx = si.Context.create(preset="fast"); ctx.generate_rotation_keys()
    >>> A = EncryptedMatrix.encrypt(ctx, np.arange(6.0).reshape(2, 3), d=2)   # 1 x 2 tiles
    >>> A.shape, A.grid
    ((2, 3), (1, 2))
    >>> np.round((A @ np.ones((3, 1))).decrypt(ctx), 3)
    array([[ 3.],
           [12.]])
"""

from __future__ import annotations

from typing import List

import numpy as np

from ..ciphertext import Ciphertext
from ..errors import ContextMismatchError, ParameterError
from .matmul import _prepared, left_matrix, right_matrix
from .transform import LinearTransform
from .._validation import as_real_matrix, is_int

__all__ = ["EncryptedMatrix", "tile_rotations"]


def _tiles(M: np.ndarray, d: int) -> List[List[np.ndarray]]:
    rows, cols = -(-M.shape[0] // d), -(-M.shape[1] // d)
    P = np.zeros((rows * d, cols * d))
    P[: M.shape[0], : M.shape[1]] = M
    return [[P[i * d:(i + 1) * d, j * d:(j + 1) * d] for j in range(cols)] for i in range(rows)]


def _dense(context, d: int, right: bool) -> LinearTransform:
    dense = np.ones((d, d))
    return LinearTransform(context, right_matrix(dense) if right else left_matrix(dense))


def _tile_transform(context, tile: np.ndarray, level: int, right: bool) -> LinearTransform:
    """A plaintext tile's product as a transform, with the baby step of a
    dense tile so that its rotations are among :func:`tile_rotations`."""
    n1 = _dense(context, tile.shape[0], right).baby_step
    W = right_matrix(tile) if right else left_matrix(tile)
    return LinearTransform(context, W, level, baby_step=n1)


def tile_rotations(context, d: int) -> List[int]:
    """Rotation steps of the plaintext x encrypted and encrypted x plaintext
    tile products (any plaintext, d x d tiles)."""
    left, right = _dense(context, d, False), _dense(context, d, True)
    return sorted(set(left.required_rotations()) | set(right.required_rotations()))


class EncryptedMatrix:
    """An (m x n) matrix encrypted as a grid of d x d tiles (see module doc).

    Supports ``@`` with another EncryptedMatrix (same d) or a numpy matrix
    (either side), ``+``/``-`` with one of the same shape and tiling, ``*``
    by a scalar, :meth:`decrypt`.
    """

    __slots__ = ("_tiles", "_shape", "_d")
    __array_ufunc__ = None  # numpy hands `array @ matrix` to __rmatmul__

    def __init__(self, tiles, shape, d: int):

        grid = (-(-shape[0] // d), -(-shape[1] // d))
        if len(tiles) != grid[0] or any(len(row) != grid[1] for row in tiles):
            raise ParameterError(f"a {shape[0]} x {shape[1]} matrix in {d} x {d} tiles needs {grid} tiles")
        for row in tiles:
            for t in row:
                if not isinstance(t, Ciphertext) or t.size != d * d:
                    raise ParameterError(f"tiles must be ciphertexts of {d * d} values (a {d} x {d} tile, row-major)")
        self._tiles, self._shape, self._d = [list(r) for r in tiles], (int(shape[0]), int(shape[1])), int(d)

    @classmethod
    def encrypt(cls, context, matrix, d: int) -> "EncryptedMatrix":
        """Encrypt a real matrix in d x d tiles (``d * d <= slots``)."""
        M = as_real_matrix(matrix)
        if not is_int(d) or d < 1 or d * d > context.slots:
            raise ParameterError(f"d must be a positive int with d*d <= {context.slots} slots, got {d!r}")
        return cls([[context.encrypt(t.ravel()) for t in row] for row in _tiles(M, d)], M.shape, d)

    def decrypt(self, context=None) -> np.ndarray:
        """The matrix (needs the secret key; default: the tiles' context)."""
        ctx = self.context if context is None else context
        d = self._d
        full = np.block([[ctx.decrypt(t).reshape(d, d) for t in row] for row in self._tiles])
        return full[: self._shape[0], : self._shape[1]]

    @property
    def shape(self):
        return self._shape

    @property
    def d(self) -> int:
        return self._d

    @property
    def grid(self):
        """Tiles down and across."""
        return len(self._tiles), len(self._tiles[0])

    @property
    def tiles(self) -> List[list]:
        return [list(r) for r in self._tiles]

    @property
    def level(self) -> int:
        return min(t.level for row in self._tiles for t in row)

    @property
    def context(self):
        return self._tiles[0][0]._context

    def __repr__(self) -> str:
        return f"<securinfer.EncryptedMatrix shape={self.shape} d={self.d} grid={self.grid} level={self.level}>"

    # ------------------------------------------------------------------ arithmetic
    def _same(self, other, op):
        if other.shape != self.shape or other.d != self.d:
            raise ParameterError(f"{op}: shapes or tiles differ ({self.shape}, d={self.d} vs {other.shape}, "
                                 f"d={other.d})")

    def _zip(self, other, fn):
        return EncryptedMatrix([[fn(a, b) for a, b in zip(ra, rb)] for ra, rb in zip(self._tiles, other._tiles)],
                               self.shape, self.d)

    def __add__(self, other):
        if not isinstance(other, EncryptedMatrix):
            return NotImplemented
        self._same(other, "+")
        return self._zip(other, lambda a, b: a + b)

    def __sub__(self, other):
        if not isinstance(other, EncryptedMatrix):
            return NotImplemented
        self._same(other, "-")
        return self._zip(other, lambda a, b: a - b)

    def __mul__(self, scalar):
        if isinstance(scalar, bool) or not isinstance(scalar, (int, float, np.integer, np.floating)):
            return NotImplemented
        return EncryptedMatrix([[t * float(scalar) for t in row] for row in self._tiles], self.shape, self.d)

    __rmul__ = __mul__

    def __matmul__(self, other):
        if isinstance(other, EncryptedMatrix):
            return _encrypted_product(self, other)
        if isinstance(other, (np.ndarray, list, tuple)):
            return _plain_product(self, as_real_matrix(other), right=True)
        return NotImplemented

    def __rmatmul__(self, other):
        if isinstance(other, (np.ndarray, list, tuple)):
            return _plain_product(self, as_real_matrix(other), right=False)
        return NotImplemented


def _check_inner(a_shape, b_shape):
    if a_shape[1] != b_shape[0]:
        raise ParameterError(f"shapes do not match: {a_shape} @ {b_shape}")


def _encrypted_product(A: EncryptedMatrix, B: EncryptedMatrix) -> EncryptedMatrix:
    _check_inner(A.shape, B.shape)
    if A.d != B.d:
        raise ParameterError(f"tiles differ: d={A.d} and d={B.d}")
    if not A.context.same_parameters(B.context):
        raise ContextMismatchError("the matrices come from different parameters")
    mp = _prepared(A.context, A.d, min(A.level, B.level))
    left = [[mp.left_terms(t) for t in row] for row in A._tiles]
    right = [[mp.right_terms(t) for t in row] for row in B._tiles]
    inner = A.grid[1]
    tiles = [[mp.sum_of_products([(left[i][t], right[t][j]) for t in range(inner)]) for j in range(B.grid[1])]
             for i in range(A.grid[0])]
    return EncryptedMatrix(tiles, (A.shape[0], B.shape[1]), A.d)


def _plain_product(E: EncryptedMatrix, P: np.ndarray, right: bool) -> EncryptedMatrix:
    """E @ P (right=True) or P @ E, tile by tile, one transform per non-zero plaintext tile."""
    ctx, d = E.context, E.d
    if right:
        _check_inner(E.shape, P.shape)
        shape = (E.shape[0], P.shape[1])
    else:
        _check_inner(P.shape, E.shape)
        shape = (P.shape[0], E.shape[1])
    level = E.level
    plain = _tiles(P, d)
    prepared = {}
    for i, row in enumerate(plain):
        for j, tile in enumerate(row):
            if np.any(tile):
                prepared[(i, j)] = _tile_transform(ctx, tile, level, right)
    grid = (-(-shape[0] // d), -(-shape[1] // d))
    inner = E.grid[1] if right else E.grid[0]
    tiles = []
    for i in range(grid[0]):
        row = []
        for j in range(grid[1]):
            acc = None
            for t in range(inner):
                # E @ P: E[i, t] @ P[t, j];  P @ E: P[i, t] @ E[t, j].
                lt = prepared.get((t, j) if right else (i, t))
                if lt is not None:
                    part = lt.apply(E._tiles[i][t] if right else E._tiles[t][j])
                    acc = part if acc is None else acc + part
            if acc is None:  # an all-zero row or column of plaintext tiles
                src = E._tiles[i][0] if right else E._tiles[0][j]
                acc = src.drop_to_level(level - 1) * 0.0  # one level down, like the other tiles
            row.append(acc)
        tiles.append(row)
    return EncryptedMatrix(tiles, shape, d)
