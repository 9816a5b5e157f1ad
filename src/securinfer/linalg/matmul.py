"""Matrix times matrix on encrypted d x d matrices packed row-major in one
ciphertext (``ct = ctx.encrypt(A.ravel())``, d*d <= slots).

Encrypted x encrypted follows Jiang, Kim, Lauter and Song, "Secure Outsourced
Matrix Computation and Application to Neural Networks" (CCS 2018):

    A @ B = sum_{k<d} phi^k(sigma(A)) * psi^k(tau(B))        (* slot-wise)

with sigma(A)[i, j] = A[i, i+j], tau(B)[i, j] = B[i+j, j], phi the column
shift (A[i, j+1]) and psi the row shift (B[i+1, j]), indices mod d. Here:

* sigma and tau are :class:`~securinfer.linalg.LinearTransform` permutations
  of the d*d-vector (2d-1 and d diagonals), prepared once per context and d;
* tau writes two copies of tau(B) (when 2 d*d <= slots), so psi^k is a plain
  rotation by k*d, all d-1 of them hoisted (one decomposition); otherwise
  psi^k is two hoisted rotations (by k*d and k*d - d*d) and two masks;
* phi^k, a rotation by k inside each row, is computed as
  ``rot(a * m1 + rot(a, -d) * m2, k)``: masks (encoded once, applied with
  one rescale by :func:`securinfer.linalg.combine_plain`) before one
  rotation per k, the rotation by -d shared; without a spare row of slots
  (d*(d+1) > slots) it is a two-diagonal transform (two rotations);
* the d ciphertext products are summed with one relinearisation and one
  rescale (:func:`securinfer.linalg.sum_of_products`).

Depth 3 (sigma/tau, the phi masks, the product); about 3d rotation keys plus
those of sigma and tau (:meth:`MatrixProduct.required_rotations`).

With one side in plaintext, the product is linear in the encrypted side, so
it is one LinearTransform (one level, 2d-1 diagonals): ``vec(A @ B) =
vec(B) @ kron(A.T, I)`` and ``vec(A @ B) = vec(A) @ kron(I, B)``; these work
for rectangular matrices too (A m x n, B n x p, all of m*n, n*p, m*p <= slots).

Limits: d*d <= slots (larger and rectangular matrices: tiles of d x d,
:mod:`securinfer.linalg.tiled`); real values.

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.linalg.matmul import MatrixProduct
    >>> ctx = si.Context.create(poly_degree=8192, coeff_bits=[49, 40, 40, 40, 49], scale_bits=40)  # depth 3
    >>> A, B = np.arange(4.0).reshape(2, 2), np.eye(2) + 1
    >>> mp = MatrixProduct(ctx, 2)
    >>> ctx.generate_rotation_keys(steps=mp.required_rotations())
    >>> C = mp(ctx.encrypt(A.ravel()), ctx.encrypt(B.ravel()))
    >>> np.round(ctx.decrypt(C).reshape(2, 2), 3)
    array([[1., 2.],
           [7., 8.]])
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import List, Optional

import numpy as np

from ..ciphertext import Ciphertext
from ..context import Context
from ..errors import ContextMismatchError, LevelError, ParameterError
from .combinations import EncodedColumns, combine_plain, sum_of_products
from .reductions import whole
from .transform import LinearTransform
from .._validation import as_real_matrix, is_int

__all__ = ["MatrixProduct", "encrypted_matmul", "plain_encrypted_matmul", "encrypted_plain_matmul",
           "left_matrix", "right_matrix"]


# --------------------------------------------------------------------------- permutations of the d*d-vector
def _permutation(src: np.ndarray, copies: int = 1) -> np.ndarray:
    """The 0/1 matrix P with (x @ P)[t] = x[src[t]], output repeated ``copies`` times."""
    n = src.size
    P = np.zeros((n, n * copies))
    for c in range(copies):
        P[src, np.arange(n) + c * n] = 1.0
    return P


def _sigma_src(d: int) -> np.ndarray:
    i, j = np.divmod(np.arange(d * d), d)
    return i * d + (i + j) % d


def _tau_src(d: int) -> np.ndarray:
    i, j = np.divmod(np.arange(d * d), d)
    return ((i + j) % d) * d + j


def _psi_masks(ctx, d: int, k: int, level: int) -> EncodedColumns:
    """psi^k(x) = rot(x, k*d) * m1 + rot(x, k*d - d*d) * m2 on a d*d-vector
    whose slots past d*d are zero (the rows that wrap come from the second)."""
    n = d * d
    masks = np.zeros((2, n))
    masks[0, : n - k * d] = 1.0
    masks[1, n - k * d:] = 1.0
    return EncodedColumns(ctx, masks, level)


def _column_masks(ctx, d: int, k: int, level: int) -> EncodedColumns:
    """phi^k(a) = rot(a * m1 + rot(a, -d) * m2, k) with m1 = [j >= k] and
    m2 = [j < k] on every row (j the column): masks applied before the
    rotation, so one rotation by k per k (plus one by -d shared by all k).
    m2 covers one more row, where rot(a, -d) puts the last row. Encoded once."""
    j = np.arange(d * d + d) % d
    masks = np.stack([(j >= k) & (np.arange(j.size) < d * d), j < k]).astype(np.float64)
    return EncodedColumns(ctx, masks, level)


def _row_shift(ctx, d: int, k: int, level: int) -> LinearTransform:
    """phi^k: every row of the d x d matrix rotated left by k. One d x d
    permutation applied to the d rows at once (batched layout): two
    diagonals, offsets k and k - d."""
    P = np.zeros((d, d))
    P[(np.arange(d) + k) % d, np.arange(d)] = 1.0
    return LinearTransform(ctx, P, level, batch=d, stride=d)


class MatrixProduct:
    """Encrypted d x d times encrypted d x d (JKLS 2018), prepared once.

    ``level``: the level of the inputs (default: the top); the result is 3
    levels lower. Call it (or :meth:`apply`) with two ciphertexts of d*d
    values (row-major).

    Example:
        >>> import securinfer as si
        >>> ctx = si.Context.create(poly_degree=8192, coeff_bits=[49, 40, 40, 40, 49], scale_bits=40)
        >>> mp = si.linalg.MatrixProduct(ctx, 3)
        >>> mp.d, mp.depth, len(mp.required_rotations()) > 0
        (3, 3, True)
    """

    depth = 3

    def __init__(self, context, d: int, level: Optional[int] = None):

        if not isinstance(context, Context):
            raise ParameterError(f"expected a securinfer.Context, got {type(context).__name__}")
        if not is_int(d) or d < 1:
            raise ParameterError(f"d must be a positive int, got {d!r}")
        d = int(d)
        n, slots = d * d, context.slots
        if n > slots:
            raise ParameterError(f"a {d} x {d} matrix needs {n} slots; this context has {slots}")
        level = context.max_level if level is None else level
        if not is_int(level) or not 3 <= level <= context.max_level:
            raise ParameterError(f"level must be an int in [3, {context.max_level}]: the product needs 3 levels "
                                 "(e.g. Context.create(depth=3))")
        level = int(level)
        self._context, self._d, self._level = context, d, level
        self.doubled = 2 * n <= slots
        # sigma moves slots by fewer than d: the batched layout (no replication) needs 2d-1 diagonals.
        self._sigma = LinearTransform(context, _permutation(_sigma_src(d)), level, batch=1, stride=n)
        if not self.doubled:
            self._tau = LinearTransform(context, _permutation(_tau_src(d)), level)
        elif 3 * n - 1 <= slots:  # the replicated layout fits: d diagonals
            self._tau = LinearTransform(context, _permutation(_tau_src(d), copies=2), level)
        else:  # no room to replicate: one diagonal per offset, no replication
            self._tau = LinearTransform(context, _permutation(_tau_src(d), copies=2), level, batch=1, stride=2 * n)
        # phi^k: masks then one rotation when a spare row fits, else a two-diagonal transform.
        self.premasked = d * (d + 1) <= slots
        if self.premasked:
            self._phi = [_column_masks(context, d, k, level - 1) for k in range(1, d)]
        else:
            self._phi = [_row_shift(context, d, k, level - 1) for k in range(1, d)]
        self._psi_masks = [] if self.doubled else [_psi_masks(context, d, k, level - 1) for k in range(1, d)]

    @property
    def d(self) -> int:
        return self._d

    @property
    def level(self) -> int:
        """The level the inputs are taken at (the result is ``level - 3``)."""
        return self._level

    def __repr__(self) -> str:
        return f"<securinfer.linalg.matmul.MatrixProduct d={self.d} level={self.level} doubled={self.doubled}>"

    def _phi_steps(self) -> List[int]:
        return [-self._d] + list(range(1, self._d)) if self.premasked else []

    def _psi_steps(self) -> List[int]:
        d, n = self._d, self._d * self._d
        shifts = [k * d for k in range(1, d)]
        return shifts if self.doubled else shifts + [s - n for s in shifts]

    def required_rotations(self) -> List[int]:
        """Every rotation step :meth:`apply` uses (sorted), before any key exists."""
        steps = set(self._psi_steps()) | set(self._phi_steps())
        for lt in [self._sigma, self._tau] + ([] if self.premasked else self._phi):
            steps.update(lt.required_rotations())
        return sorted(steps)

    def _check(self, ct, name):

        if not isinstance(ct, Ciphertext):
            raise ParameterError(f"{name} must be a securinfer.Ciphertext, got {type(ct).__name__}")
        if ct.size != self._d * self._d:
            raise ParameterError(f"shapes do not match: {name} holds {ct.size} values, a {self._d} x {self._d} "
                                 f"matrix needs {self._d * self._d} (row-major)")
        if not ct._context.same_parameters(self._context):
            raise ContextMismatchError(f"{name} comes from other parameters than this product")
        if ct.level < self._level:
            raise LevelError(f"{name} is at level {ct.level}; this product was prepared for level {self._level} "
                             f"(prepare MatrixProduct(ctx, d, level={ct.level}) if that is >= 3)")
        ct._require_zero_padding(name)

    def apply(self, A, B):
        """Encrypted ``A @ B`` (both d*d row-major ciphertexts), 3 levels down."""
        return self.sum_of_products([(self.left_terms(A), self.right_terms(B))])

    def left_terms(self, A) -> list:
        """The d ciphertexts phi^k(sigma(A)), k < d (2 levels down, the first 1)."""
        self._check(A, "A")
        a = self._sigma.apply(A)
        if self.premasked:
            up = a.rotate(-self._d)
            return [a] + [combine_plain([a, up], masks).rotate(k) for k, masks in enumerate(self._phi, 1)]
        return [a] + [phi.apply(a) for phi in self._phi]

    def right_terms(self, B) -> list:
        """The d ciphertexts psi^k(tau(B)), k < d."""
        self._check(B, "B")
        b = self._tau.apply(B)
        shifted = b.rotate_many(self._psi_steps())  # hoisted: one decomposition of b
        if self.doubled:
            # Two copies of tau(B): a rotation by k*d is the row shift psi^k on the first d*d slots.
            return [b] + shifted
        # The rows that wrap round come from a second rotation, selected by masks.
        half = self._d - 1
        return [b] + [combine_plain([shifted[k], shifted[half + k]], masks) for k, masks in enumerate(self._psi_masks)]

    def sum_of_products(self, pairs) -> "object":
        """sum over (left, right) pairs of sum_k left[k] * right[k]: the
        product A @ B from the terms of A and B (several pairs: a tile of a
        tiled product, sum_t A_it @ B_tj)."""
        # The terms are zero-padded layouts of several lengths: viewed whole
        # (every slot), they meet as equal-length vectors.
        left = [whole(x, "a product term") for a_terms, _ in pairs for x in a_terms]
        right = [whole(y, "a product term") for _, b_terms in pairs for y in b_terms]
        # One relinearisation and one rescale for all the products (terms
        # above the lowest level are brought down to its scale there).
        acc = sum_of_products(left, right)
        return acc._relabel(self._d * self._d, "zeros")

    __call__ = apply


# --------------------------------------------------------------------------- the functions
_CACHE_SIZE = 2
_cache: "OrderedDict[tuple, MatrixProduct]" = OrderedDict()
_lock = threading.Lock()


def encrypted_matmul(A_ct, B_ct, d: int):
    """``A @ B`` for two encrypted d x d matrices (row-major), through a
    cached :class:`MatrixProduct` (prepared once per context, d and level)."""

    for name, ct in (("A_ct", A_ct), ("B_ct", B_ct)):
        if not isinstance(ct, Ciphertext):
            raise ParameterError(f"{name} must be a securinfer.Ciphertext, got {type(ct).__name__}")
    return _prepared(A_ct._context, d, min(A_ct.level, B_ct.level))(A_ct, B_ct)


def _prepared(ctx, d: int, level: int) -> MatrixProduct:
    """The cached MatrixProduct for a context, d and input level."""
    key = (id(ctx._core), ctx.parameters, d, level)
    with _lock:
        mp = _cache.get(key)
        if mp is not None:
            _cache.move_to_end(key)
    if mp is None:
        if level < 3:
            raise LevelError(f"the inputs are at level {level}; an encrypted matrix product needs 3 levels")
        mp = MatrixProduct(ctx, d, level)
        with _lock:
            _cache[key] = mp
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return mp


def left_matrix(A, p: Optional[int] = None) -> np.ndarray:
    """W with ``vec(B) @ W == vec(A @ B)`` for A (m x n) and any B (n x p)
    (row-major vec; p defaults to n): ``kron(A.T, I_p)``.

    Example:
        >>> import numpy as np
        >>> A, B = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
        >>> bool(np.allclose(B.ravel() @ left_matrix(A, 4), (A @ B).ravel()))
        True
    """
    A = as_real_matrix(A)
    return np.kron(A.T, np.eye(A.shape[1] if p is None else p))


def right_matrix(B, m: Optional[int] = None) -> np.ndarray:
    """W with ``vec(A) @ W == vec(A @ B)`` for any A (m x n) and B (n x p)
    (row-major vec; m defaults to p): ``kron(I_m, B)``."""
    B = as_real_matrix(B)
    return np.kron(np.eye(B.shape[1] if m is None else m), B)


def plain_encrypted_matmul(A_plain, B_ct, p: Optional[int] = None):
    """``A @ B`` for plaintext A (m x n) and encrypted B (n x p, row-major;
    p defaults to n): one LinearTransform (cached like ``x @ W``), one level.
    Rotation keys: ``LinearTransform(ctx, left_matrix(A, p)).required_rotations()``."""
    A = as_real_matrix(A_plain)
    p = A.shape[1] if p is None else p
    if getattr(B_ct, "size", None) != A.shape[1] * p:
        raise ParameterError(f"shapes do not match: A is {A.shape}, B needs {A.shape[1]} x {p} = "
                             f"{A.shape[1] * p} values, got {getattr(B_ct, 'size', type(B_ct).__name__)}")
    return B_ct @ left_matrix(A, p)


def encrypted_plain_matmul(A_ct, B_plain, m: Optional[int] = None):
    """``A @ B`` for encrypted A (m x n, row-major; m defaults to p) and
    plaintext B (n x p): one LinearTransform (cached), one level.
    Rotation keys: ``LinearTransform(ctx, right_matrix(B, m)).required_rotations()``."""
    B = as_real_matrix(B_plain)
    m = B.shape[1] if m is None else m
    if getattr(A_ct, "size", None) != m * B.shape[0]:
        raise ParameterError(f"shapes do not match: B is {B.shape}, A needs {m} x {B.shape[0]} = "
                             f"{m * B.shape[0]} values, got {getattr(A_ct, 'size', type(A_ct).__name__)}")
    return A_ct @ right_matrix(B, m)
