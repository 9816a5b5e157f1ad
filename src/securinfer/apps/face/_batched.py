"""The batched ciphertext primitives the gallery maps onto.

``si.linalg.EncodedColumns``, ``combine_plain`` and ``sum_of_products`` do the
heavy loops in the core (columns encoded once, lazy accumulation, one rescale
and one relinearisation per output). Where this build of securinfer predates
them, the reference definitions below give the same results, more slowly.
"""

from __future__ import annotations

import numpy as np

from ... import linalg as _linalg

NATIVE = hasattr(_linalg, "combine_plain") and hasattr(_linalg, "sum_of_products")


class _ReferenceColumns:
    """Stand-in for ``si.linalg.EncodedColumns``: keeps the matrix, encodes per use."""

    def __init__(self, context, matrix, level=None):
        self.matrix = np.asarray(matrix, dtype=np.float64)
        self.nbytes = self.matrix.nbytes


if NATIVE:
    EncodedColumns = _linalg.EncodedColumns
    combine_plain = _linalg.combine_plain
    sum_of_products = _linalg.sum_of_products
else:
    EncodedColumns = _ReferenceColumns

    def combine_plain(cts, columns):
        """sum_i cts[i] * columns.matrix[i] (slot-wise)."""
        return sum(c * row for c, row in zip(cts, columns.matrix))

    def sum_of_products(a_cts, b_cts):
        """sum_i a_cts[i] * b_cts[i] (ciphertext products)."""
        return sum(a * b for a, b in zip(a_cts, b_cts))
