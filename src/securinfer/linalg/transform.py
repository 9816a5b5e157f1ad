"""Encrypted vector times plaintext matrix: ``x @ W``, prepared once.

A :class:`LinearTransform` turns a real matrix ``W`` (rows x cols) into the
plaintext diagonals of the slot-wise map ``x -> x @ W``, encoded once for a
context and a level, then applies it to any number of ciphertexts. The method
is the diagonal method with baby-step giant-step and hoisted baby rotations
(Halevi-Shoup 2018; the layout follows Lattigo's lintrans):

* x (``rows`` values, zero padded) is replicated with period ``rows`` so that
  ``rows`` diagonals suffice whatever ``cols`` is (a 1 x n matrix costs one
  product); ``diag_k[i] = W[(i + k) mod rows, i]`` for ``i < cols``;
* k = g + i splits into baby steps i < n1 (one decomposition of x for all)
  and giant steps g (one rotation each); n1 minimises an estimated rotation
  cost (``csrc/linalg/bsgs.h``); all-zero diagonals are skipped;
* the products of a giant step are summed before any modular reduction and
  the whole result is rescaled once: the output is one level below the input,
  on the canonical scale, like any plaintext product.

Limits: rows and cols at most ``ctx.slots`` (larger matrices and vectors
spanning several ciphertexts: :mod:`securinfer.linalg.blocks`; matrix times
matrix: :mod:`securinfer.linalg.matmul` and :mod:`securinfer.linalg.tiled`);
when ``rows + cols - 1 > slots`` the replication does not fit and up to
``slots`` diagonals are used (correct, slower). Real matrices only.
``x @ W`` goes through :mod:`securinfer.linalg.product`, which caches the
prepared transforms.

Example:
    >>> import numpy as np, securinfer as si
    >>> ctx = si.Context.create(preset="fast")
    >>> W = np.arange(6.0).reshape(3, 2)
    >>> lt = si.linalg.LinearTransform(ctx, W)
    >>> ctx.generate_rotation_keys(steps=lt.required_rotations())
    >>> y = lt.apply(ctx.encrypt([1.0, 2.0, 3.0]))
    >>> np.round(ctx.decrypt(y), 3)
    array([16., 22.])
    >>> lt.rows, lt.cols, y.level == ctx.max_level - 1
    (3, 2, True)
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np

from .._core import linalg as _linalg
from ..ciphertext import Ciphertext
from ..context import Context
from ..errors import ParameterError
from .._validation import as_real_matrix

__all__ = ["LinearTransform"]


class LinearTransform:
    """A plaintext matrix prepared for ``y = x @ W`` on encrypted vectors.

    ``level`` (default: the context's top level) is the level of the
    ciphertexts it will take; inputs above it are dropped to it, inputs below
    raise ``LevelError``. ``batch``/``stride``: the input holds ``batch``
    vectors, vector b in slots ``[b*stride, b*stride + rows)``; the result
    holds product b in ``[b*stride, b*stride + cols)`` (one transform computes
    all of them). ``baby_step`` overrides the cost model's n1.

    Example:
        >>> import numpy as np, securinfer as si
        >>> ctx = si.Context.create(preset="fast")
        >>> W = np.eye(4)[:, ::-1]                      # reverses a 4-vector
        >>> lt = si.linalg.LinearTransform(ctx, W, batch=2, stride=4)
        >>> ctx.generate_rotation_keys(steps=lt.required_rotations())
        >>> np.round(ctx.decrypt(lt.apply(ctx.encrypt(np.arange(8.0)))), 3) + 0.0  # + 0.0: no "-0."
        array([3., 2., 1., 0., 7., 6., 5., 4.])
    """

    def __init__(self, context, matrix, level: Optional[int] = None, *, batch: Optional[int] = None,
                 stride: Optional[int] = None, baby_step: Optional[int] = None):

        if not isinstance(context, Context):
            raise ParameterError(f"expected a securinfer.Context, got {type(context).__name__}")
        W = as_real_matrix(matrix)
        level = context.max_level if level is None else level
        if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or not 1 <= level <= context.max_level:
            raise ParameterError(f"level must be an int in [1, {context.max_level}] (a product uses one level)")
        if (batch is None) != (stride is None):
            raise ParameterError("batch and stride go together")
        for name, v in (("batch", batch), ("stride", stride), ("baby_step", baby_step)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
                raise ParameterError(f"{name} must be a positive int")
        self._batch = batch
        self._core = _linalg.LinearTransform(context._core, W, int(level), int(baby_step or 0), int(batch or 0),
                                             int(stride or 0))

    # ------------------------------------------------------------------ facts
    @property
    def rows(self) -> int:
        """Length of the input vector."""
        return self._core.rows

    @property
    def cols(self) -> int:
        """Length of the output vector."""
        return self._core.cols

    @property
    def level(self) -> int:
        """The level the diagonals are encoded at (that of the inputs)."""
        return self._core.level

    @property
    def baby_step(self) -> int:
        """n1 of the baby-step giant-step split."""
        return self._core.baby_step

    @property
    def nbytes(self) -> int:
        """Memory held by the encoded diagonals."""
        return self._core.byte_size

    @property
    def plaintext_count(self) -> int:
        """Encoded plaintexts (nonzero diagonals) the transform holds."""
        return self._core.plaintext_count

    def __repr__(self) -> str:
        return (f"<securinfer.linalg.LinearTransform {self.rows}x{self.cols} level={self.level} "
                f"n1={self.baby_step} giants={self._core.giant_count} plaintexts={self._core.plaintext_count}>")

    def required_rotations(self) -> List[int]:
        """The rotation steps :meth:`apply` uses, known before any key exists:
        pass them to ``ctx.generate_rotation_keys(steps=...)``. With only the
        power-of-two keys the product still works (steps are composed), more slowly."""
        return list(self._core.required_rotations())

    # ------------------------------------------------------------------ use
    def apply(self, x):
        """``x @ W`` for an encrypted vector (or batch) ``x``; one level down.

        ``MissingKeyError`` names a rotation step without a key."""

        if not isinstance(x, Ciphertext):
            raise ParameterError(f"expected a securinfer.Ciphertext, got {type(x).__name__}")
        if self._batch is None and x.size != self.rows:
            raise ParameterError(f"shapes do not match: vector of {x.size} @ matrix of {(self.rows, self.cols)}")
        x._require_zero_padding("x @ W")
        core = self._core.apply(x._context._keys, x._core)
        out = x._new(core)
        return out
