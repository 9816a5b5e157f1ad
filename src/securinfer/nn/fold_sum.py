"""Dense layers as partial sums folded by rotations (slot packing, one
input per ciphertext spanning every slot).

A batched transform of a dense ``R x C`` matrix has about ``R + C - 1``
diagonals: every output needs every input, one product each. Splitting
each output's sum into ``k`` partial sums placed ``s`` slots apart, with
``s >= C`` and ``k`` a power of two covering the rows, makes every weight
lie on one of only ``s`` diagonals (``r - (c + m s)`` in ``[-(s-1), 0]``);
``log2(k)`` rotations then add the partial sums up (the "hybrid" method of
Halevi and Shoup; Orion and Lee et al. fold their channel sums alike).
The folded vector holds the outputs in slots ``[0, C)`` and partial sums
elsewhere, so it is used only where every slot is the input's own (one input
per ciphertext, ``stride == slots``) and only for a layer whose outputs
reach another affine layer through slot-wise operations (square,
polynomial), whose matrix reads slots ``[0, C)`` and nothing else: the
partial sums never leave the server. The planner keeps a fold only where
its cost model finds it cheaper (:func:`securinfer.nn.planner.plan_folds`).

Example:
    >>> import numpy as np
    >>> from securinfer.nn.fold_sum import partial_matrix
    >>> W = np.arange(12.0).reshape(6, 2)
    >>> Wp = partial_matrix(W, step=2, copies=4)
    >>> x = np.arange(6.0); z = x @ Wp
    >>> bool(np.allclose(z.reshape(4, 2).sum(axis=0), x @ W))    # the fold adds the copies
    True
    >>> r, c = np.nonzero(Wp); sorted(set((r - c).tolist()))       # 2 diagonals instead of 7
    [-1, 0]
"""

from __future__ import annotations

from typing import List

import numpy as np

__all__ = ["partial_matrix", "fold_steps"]


def partial_matrix(W: np.ndarray, step: int, copies: int) -> np.ndarray:
    """``R x (copies * step)``: weight ``W[r, c]`` moved to partial column
    ``c + m step`` with ``m = ceil((r - c) / step)``, so that ``r - column``
    lies in ``[-(step - 1), 0]``."""
    R, C = W.shape
    out = np.zeros((R, copies * step))
    r, c = np.nonzero(W)
    m = np.maximum(0, -(-(r - c) // step))
    if m.size and m.max() >= copies:
        raise ValueError(f"{copies} copies of {step} slots do not cover {R} rows")
    out[r, c + m * step] = W[r, c]
    return out


def fold_steps(step: int, copies: int) -> List[int]:
    """Left rotations that add ``copies`` partial sums ``step`` slots apart."""
    return [step * (copies >> (k + 1)) for k in range(int(copies).bit_length() - 1)]
