"""Encrypted vector times plaintext matrix: ``x @ W``.

The diagonal method (Halevi-Shoup) over hoisted rotations: with d the next
power of two of max(rows, cols), x is replicated once to [x, x] so that
rotations by k < d wrap correctly, and

    y = sum_k diag_k * rotate(x, k),   diag_k[i] = W[(i + k) mod d, i].

It needs rotation keys for 1 .. d-1 (exact keys are used hoisted; missing ones
are composed from power-of-two keys, more slowly) and one level. A faster
baby-step giant-step version with prepared diagonals is the linear-algebra
layer's job.

Example:
    >>> import numpy as np, securinfer as si
    >>> ctx = si.Context.create(preset="fast"); ctx.generate_rotation_keys()
    >>> W = np.arange(6.0).reshape(3, 2)
    >>> np.round(ctx.decrypt(ctx.encrypt([1.0, 2.0, 3.0]) @ W), 3)
    array([16., 22.])
"""

from __future__ import annotations

import numpy as np

from ._core import ckks as _ckks
from .errors import ParameterError


def vector_matrix_product(x, matrix):
    """``x @ matrix`` for an encrypted vector x of length rows."""
    W = np.asarray(matrix)
    if W.dtype == object or W.dtype.kind not in "fciu":
        raise ParameterError(f"matrix must be numeric, got dtype {W.dtype}")
    if W.ndim != 2:
        raise ParameterError(f"matrix must be 2-D, got shape {W.shape}")
    rows, cols = W.shape
    if rows != x.size:
        raise ParameterError(f"shapes do not match: vector of {x.size} @ matrix of {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ParameterError("matrix must be finite")
    x._require_clean("x @ W")
    d = 1
    while d < max(rows, cols):
        d *= 2
    slots = x.context.slots
    if 2 * d > slots and d != slots:
        raise ParameterError(f"a {W.shape} matrix needs {2 * d} slots for this method; the context has {slots}")
    padded = np.zeros((d, d), dtype=np.result_type(W.dtype, np.float64))
    padded[:rows, :cols] = W
    # Replicate x into [x, x] so rotations by k < d read x[(i + k) mod d].
    x_rep = x if d == slots else x + x.rotate(-d)
    rotations = x_rep.rotate_many(range(d))
    index = np.arange(d)
    result = None
    for k, rotated in enumerate(rotations):
        diagonal = padded[(index + k) % d, index]
        if not np.any(diagonal):
            continue
        term = rotated * diagonal
        result = term if result is None else result + term
    if result is None:
        result = x * np.zeros(1)
    return result._new(_ckks.with_slots_used(result._core, cols), clean=True)
