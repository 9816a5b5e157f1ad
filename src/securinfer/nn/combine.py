"""Weighted sums of ciphertexts: output j = sum_i weights[j, i] * cts[i].

The feature packing maps every affine layer onto this one primitive (scalar
weights, the same in every slot, no rotation). ``securinfer.linalg.combine``
does it in the core (lazy accumulation, threads over outputs) when this
build has it; otherwise the reference below gives the same values, slower.
A row of zeros gives an encrypted zero.

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.nn.combine import combine
    >>> ctx = si.Context.create(preset="fast")
    >>> cts = [ctx.encrypt([1.0, 2.0]), ctx.encrypt([3.0, 4.0])]
    >>> out = combine(cts, np.array([[0.5, 1.0], [0.0, 0.0]]))
    >>> [np.round(ctx.decrypt(c), 3).tolist() for c in out]
    [[3.5, 5.0], [0.0, 0.0]]
"""

from __future__ import annotations

import numpy as np

from .. import linalg as _linalg

__all__ = ["combine"]


def _reference_combine(cts, weights):
    out = []
    for row in np.asarray(weights, dtype=np.float64):
        terms = [float(w) * c for w, c in zip(row, cts) if w != 0]
        out.append(sum(terms[1:], terms[0]) if terms else cts[0] * 0.0)
    return out


_native = getattr(_linalg, "combine", None)


def combine(cts, weights):
    """``[sum_i weights[j, i] * cts[i] for j]`` (weights of shape (n_out, len(cts)))."""
    W = np.asarray(weights, dtype=np.float64)
    if _native is not None:
        return _native(cts, W)
    return _reference_combine(cts, W)
