"""``x @ W`` for an encrypted vector: the matrix prepared once as a
:class:`~securinfer.linalg.transform.LinearTransform` (or blocks of them when
it has more columns than slots) and kept in a small LRU cache keyed by the
matrix's shape, dtype and a hash of its bytes, the parameters and the level;
repeating ``x @ W`` with the same matrix encodes the diagonals only once
(:func:`cache_info` counts preparations). ``Ciphertext.__matmul__`` calls
:func:`matmul`.

Example:
    >>> import numpy as np, securinfer as si
    >>> ctx = si.Context.create(preset="fast"); ctx.generate_rotation_keys()
    >>> x = ctx.encrypt([1.0, 2.0])
    >>> np.round(ctx.decrypt(x @ np.eye(2)), 3), si.linalg.cache_info()["size"] >= 1
    (array([1., 2.]), True)
"""

from __future__ import annotations

import numpy as np

from ..errors import LevelError, ParameterError
from .._validation import as_real_matrix
from .blocks import matmul_blocks
from .cache import PreparedCache, digest
from .transform import LinearTransform

__all__ = ["matmul", "cache_info", "cache_clear"]

# Transforms hold ~(nonzero diagonals) x (level + 1) x N x 8 bytes: keep few.
_cache = PreparedCache(size=4)


def matmul(x, matrix):
    """``x @ matrix`` through a cached :class:`LinearTransform` (see module doc)."""
    W = np.asarray(matrix)
    if W.ndim != 2:
        raise ParameterError(f"matrix must be 2-D, got shape {W.shape}")
    if W.shape[0] != x.size:
        raise ParameterError(f"shapes do not match: vector of {x.size} @ matrix of {W.shape}")
    x._require_zero_padding("x @ W")
    if W.shape[1] > x._context.slots:  # the result spans several ciphertexts
        return matmul_blocks(x, W)
    level = x.level
    if level < 1:
        raise LevelError("ciphertext is at level 0: out of multiplicative depth (use more coefficient primes)")
    if W.dtype == object or W.dtype.kind not in "fiub":
        as_real_matrix(W)  # raises the ParameterError
    # Content-addressed: equal matrices share one preparation, and an array
    # changed in place gets a new one; contexts of equal parameters share it.
    key = (W.shape, W.dtype.str, digest(W), x._context.parameters, level)
    return _cache.get_or_make(key, lambda: LinearTransform(x._context, W, level)).apply(x)


def cache_info() -> dict:
    """Hits, misses (= preparations) and size of the ``x @ W`` cache.

    Example:
        >>> import securinfer as si
        >>> sorted(si.linalg.cache_info())
        ['hits', 'misses', 'size']
    """
    return _cache.info()


def cache_clear() -> None:
    """Empties the ``x @ W`` cache (frees the encoded diagonals) and its counters."""
    _cache.clear()
