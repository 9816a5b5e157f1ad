"""Linear combinations of many ciphertexts, computed in one pass.

The rotation-free layouts keep one feature per ciphertext and a batch of
inputs across the slots (a dense layer on 4,096 records at once; a face
gallery stored by columns). Their work is sums of many products, which these
functions do in C++ with one modular reduction per coefficient and one rescale
(and one relinearisation) per result, instead of one per term:

* :func:`combine` -- ``y_j = sum_i W[j, i] * x_i`` with real scalar weights;
* :class:`EncodedColumns` + :func:`combine_plain` -- ``sum_i x_i * column_i``
  with plaintext vectors encoded once;
* :func:`sum_of_products` -- ``sum_i a_i * b_i`` of ciphertext pairs,
  relinearised once.

Each result is one level below its inputs, on the canonical scale (plaintext
and scalar weights), exactly like the separate products summed; the inputs
are first brought to their lowest level. :func:`combine_plain` and
:func:`sum_of_products` also multiply at level 0 in a ring whose q_0 holds
the product of the scales with 3 bits to spare (the face gallery's
``FACE_PARAMETERS``: one wide limb instead of two); the result then stays at
level 0 on that product. All are exposed as ``si.linalg.*``.

Example:
    >>> import numpy as np, securinfer as si
    >>> ctx = si.Context.create(preset="fast")
    >>> xs = [ctx.encrypt([1.0, 2.0]), ctx.encrypt([3.0, 4.0])]
    >>> ys = si.linalg.combine(xs, [[1.0, 0.5], [-2.0, 0.0]])
    >>> [np.round(ctx.decrypt(y), 4).tolist() for y in ys]
    [[2.5, 4.0], [-2.0, -4.0]]
    >>> cols = si.linalg.EncodedColumns(ctx, [[1.0, 10.0], [0.5, 0.25]])
    >>> np.round(ctx.decrypt(si.linalg.combine_plain(xs, cols)), 4).tolist()
    [2.5, 21.0]
    >>> np.round(ctx.decrypt(si.linalg.sum_of_products(xs, xs)), 4).tolist()
    [10.0, 20.0]
"""

from __future__ import annotations

from typing import List, Optional, Sequence


from .._core import ckks as _ckks
from .._core import linalg as _linalg
from ..ciphertext import Ciphertext
from ..errors import ContextMismatchError, LevelError, ParameterError
from .._validation import as_real_matrix, is_int

__all__ = ["combine", "EncodedColumns", "combine_plain", "sum_of_products"]


def _ciphertexts(cts, what: str):

    cts = list(cts) if not isinstance(cts, Ciphertext) else None
    if not cts:
        raise ParameterError(f"{what}: expected a non-empty list of ciphertexts")
    for c in cts:
        if not isinstance(c, Ciphertext):
            raise ParameterError(f"{what}: expected ciphertexts, got {type(c).__name__}")
        if not c._context.same_parameters(cts[0]._context):
            raise ContextMismatchError(f"{what}: ciphertexts come from different parameters")
    return cts


def combine(cts: Sequence["Ciphertext"], weights, *, level: Optional[int] = None) -> List["Ciphertext"]:
    """``[sum_i weights[j, i] * cts[i] for j in range(n_out)]`` in one pass.

    ``weights``: real (n_out, len(cts)); zero weights are skipped; an all-zero
    row gives an encryption of zero. One level is consumed (also for integer
    weights). Threads split the outputs, their two polynomials and RNS limbs.

    ``level``: the outputs' level, when lower than one below the inputs. The
    inputs are first cut to ``level + 1`` primes (their scale kept: no
    arithmetic), so the outputs still take ONE rescale, on the canonical scale
    of ``level``, instead of one per level skipped (a ciphertext brought down
    to meet others in a polynomial, at one weight: ``threshold.odd_degree7``).

    Example:
        >>> import numpy as np, securinfer as si
        >>> ctx = si.Context.create(depth=3)
        >>> x = ctx.encrypt([0.5, -1.0])
        >>> (y,) = si.linalg.combine([x], [[3.0]], level=ctx.max_level - 3)
        >>> y.level == ctx.max_level - 3, np.round(ctx.decrypt(y), 4).tolist()
        (True, [1.5, -3.0])
    """
    cts = _ciphertexts(cts, "combine")
    W = as_real_matrix(weights, "weights")
    if W.shape[1] != len(cts):
        raise ParameterError(f"combine: weights of shape {W.shape} for {len(cts)} ciphertexts")
    if level is not None:
        lowest = min(c.level for c in cts)
        if not is_int(level):
            raise ParameterError(f"combine: level must be an int, got {level!r}")
        if not 0 <= level < lowest:
            raise LevelError(f"combine: level must be 0..{lowest - 1} (one below the lowest input at most), "
                             f"got {level!r}")
        cts = [c if c.level == level + 1 else c._new(_ckks.drop_to_level(c._core, int(level) + 1)) for c in cts]
    cores = _linalg.combine_scalars([c._core for c in cts], W)
    return [cts[0]._new(core) for core in cores]


class EncodedColumns:
    """Plaintext vectors (the rows of ``matrix``, each at most ``slots`` long)
    encoded once for :func:`combine_plain`, at ``level`` (default: the top).

    They stay in NTT form: ``nbytes`` = rows x (level + 1) x N x 8 bytes.

    Example:
        >>> import securinfer as si
        >>> ctx = si.Context.create(preset="fast")
        >>> cols = si.linalg.EncodedColumns(ctx, [[1.0, 2.0, 3.0]] * 4)
        >>> cols.count, cols.width, cols.level == ctx.max_level
        (4, 3, True)
    """

    def __init__(self, context, matrix, level: Optional[int] = None):
        M = as_real_matrix(matrix, "matrix")
        if M.shape[1] > context.slots:
            raise ParameterError(f"columns are {M.shape[1]} values long; at most {context.slots} (the slots) fit")
        level = context.max_level if level is None else int(level)
        if not 0 <= level <= context.max_level:
            raise LevelError(f"level must be 0..{context.max_level}")
        self._context = context
        self._core = _linalg.EncodedColumns(context._core, M, level)

    @property
    def count(self) -> int:
        return self._core.count

    @property
    def width(self) -> int:
        return self._core.width

    @property
    def level(self) -> int:
        return self._core.level

    @property
    def nbytes(self) -> int:
        return self._core.byte_size

    def __repr__(self) -> str:
        return f"<securinfer.linalg.EncodedColumns {self.count} x {self.width} level={self.level} bytes={self.nbytes}>"


def combine_plain(cts: Sequence["Ciphertext"], columns: EncodedColumns) -> "Ciphertext":
    """``sum_i cts[i] * columns[i]`` (slot-wise), one level consumed.

    ``len(cts) == columns.count``; ciphertexts above the columns' level are
    brought down to it, below it raise ``LevelError``."""
    cts = _ciphertexts(cts, "combine_plain")
    if not isinstance(columns, EncodedColumns):
        raise ParameterError(f"combine_plain: expected EncodedColumns, got {type(columns).__name__}")
    if not columns._context.same_parameters(cts[0]._context):
        raise ContextMismatchError("combine_plain: ciphertexts and columns come from different parameters")
    core = _linalg.combine_plain([c._core for c in cts], columns._core)
    return cts[0]._new(core)


def combine_plain_many(cts: Sequence["Ciphertext"], blocks: Sequence[EncodedColumns]) -> List["Ciphertext"]:
    """``[combine_plain(cts, columns) for columns in blocks]``, the same words,
    with the ciphertexts read from memory once for all the column sets (a
    gallery's blocks) instead of once per set. Every set must be at one level.

    Example:
        >>> import numpy as np, securinfer as si
        >>> from securinfer.linalg import EncodedColumns, combine_plain_many
        >>> ctx = si.Context.create(preset="fast")
        >>> cts = [ctx.encrypt(np.full(4, v)) for v in (1.0, 2.0)]
        >>> sets = [EncodedColumns(ctx, np.ones((2, 4))), EncodedColumns(ctx, np.eye(2, 4))]
        >>> [np.round(ctx.decrypt(y)[:4], 3) + 0.0 for y in combine_plain_many(cts, sets)]
        [array([3., 3., 3., 3.]), array([1., 2., 0., 0.])]
    """
    cts = _ciphertexts(cts, "combine_plain")
    blocks = list(blocks)
    if not blocks:
        raise ParameterError("combine_plain_many: no column sets")
    for columns in blocks:
        if not isinstance(columns, EncodedColumns):
            raise ParameterError(f"combine_plain_many: expected EncodedColumns, got {type(columns).__name__}")
        if not columns._context.same_parameters(cts[0]._context):
            raise ContextMismatchError("combine_plain_many: ciphertexts and columns come from different parameters")
    cores = _linalg.combine_plain_many([c._core for c in cts], [columns._core for columns in blocks])
    return [cts[0]._new(core) for core in cores]


def sum_of_products(a_cts: Sequence["Ciphertext"], b_cts: Sequence["Ciphertext"]) -> "Ciphertext":
    """``sum_i a_cts[i] * b_cts[i]`` of ciphertexts, relinearised and rescaled once
    (needs the relinearisation key, which every context has)."""
    a_cts = _ciphertexts(a_cts, "sum_of_products")
    b_cts = _ciphertexts(b_cts, "sum_of_products")
    if len(a_cts) != len(b_cts):
        raise ParameterError(f"sum_of_products: {len(a_cts)} and {len(b_cts)} ciphertexts")
    if not a_cts[0]._context.same_parameters(b_cts[0]._context):
        raise ContextMismatchError("sum_of_products: ciphertexts come from different parameters")
    core = _linalg.sum_of_products(a_cts[0]._keys(), [c._core for c in a_cts], [c._core for c in b_cts])
    out = a_cts[0]._new(core)
    return out



def sum_of_products_many(a_cts: Sequence["Ciphertext"], blocks: Sequence[Sequence["Ciphertext"]]) -> List["Ciphertext"]:
    """``[sum_of_products(a_cts, b_cts) for b_cts in blocks]`` (an encrypted
    gallery's blocks), with ``a_cts`` read from memory once for all the blocks
    instead of once per block; all results at the lowest level among them.

    Example:
        >>> import numpy as np, securinfer as si
        >>> from securinfer.linalg import sum_of_products_many
        >>> ctx = si.Context.create(preset="fast")
        >>> a = [ctx.encrypt(np.full(2, v)) for v in (1.0, 2.0)]
        >>> blocks = [[ctx.encrypt(np.ones(2)), ctx.encrypt(np.ones(2))], [ctx.encrypt(np.zeros(2)), a[0]]]
        >>> [np.round(ctx.decrypt(y)[:2], 3) + 0.0 for y in sum_of_products_many(a, blocks)]
        [array([3., 3.]), array([2., 2.])]
    """
    a_cts = _ciphertexts(a_cts, "sum_of_products")
    blocks = [_ciphertexts(b_cts, "sum_of_products") for b_cts in blocks]
    if not blocks:
        raise ParameterError("sum_of_products_many: no blocks")
    for b_cts in blocks:
        if len(a_cts) != len(b_cts):
            raise ParameterError(f"sum_of_products: {len(a_cts)} and {len(b_cts)} ciphertexts")
        if not a_cts[0]._context.same_parameters(b_cts[0]._context):
            raise ContextMismatchError("sum_of_products: ciphertexts come from different parameters")
    cores = _linalg.sum_of_products_many(a_cts[0]._keys(), [c._core for c in a_cts],
                                         [[c._core for c in b_cts] for b_cts in blocks])
    return [a_cts[0]._new(core) for core in cores]