"""Encrypted linear algebra over the CKKS scheme: one module an idea, this
file only re-exports.

| module | what |
|---|---|
| :mod:`~securinfer.linalg.transform` | ``LinearTransform``: x @ W by diagonals, baby-step giant-step, hoisting |
| :mod:`~securinfer.linalg.product` | ``x @ W`` with prepared transforms cached |
| :mod:`~securinfer.linalg.blocks` | vectors and matrices larger than the slots |
| :mod:`~securinfer.linalg.combinations` | sums of many products, one reduction each |
| :mod:`~securinfer.linalg.conv` | ``Conv2d``: a convolution on one ciphertext, diagonals from the kernel |
| :mod:`~securinfer.linalg.matmul` | matrix x matrix (Jiang-Kim-Lauter-Song) |
| :mod:`~securinfer.linalg.tiled` | ``EncryptedMatrix``: d x d tiles of any shape |
| :mod:`~securinfer.linalg.polynomial` | ``polyval`` plans, ``approximate`` |
| :mod:`~securinfer.linalg.reductions` | block sums, packed inner products, replication |
| :mod:`~securinfer.linalg.cache` | the content-keyed LRU of prepared plaintexts |

Example:
    >>> import numpy as np, securinfer as si
    >>> ctx = si.Context.create(preset="fast"); ctx.generate_rotation_keys()
    >>> np.round(ctx.decrypt(si.linalg.polyval(ctx.encrypt([0.5]), [1.0, 0.0, 2.0])), 3)
    array([1.5])
"""

from .blocks import BlockLinearTransform, EncryptedVector, block_cache_clear, block_cache_info
from .conv import Conv2d
from .combinations import (EncodedColumns, combine, combine_plain, combine_plain_many, sum_of_products,
                           sum_of_products_many)
from .matmul import MatrixProduct, encrypted_matmul, encrypted_plain_matmul, plain_encrypted_matmul
from .polynomial import FUNCTIONS, approximate, depth_of, polyval
from .product import cache_clear, cache_info
from .reductions import block_sum, block_sum_steps, packed_dot, replicate, replicate_steps
from .tiled import EncryptedMatrix, tile_rotations
from .transform import LinearTransform

__all__ = ["LinearTransform", "Conv2d", "cache_info", "cache_clear", "BlockLinearTransform", "EncryptedVector",
           "block_cache_info", "block_cache_clear", "combine", "EncodedColumns", "combine_plain", "combine_plain_many", "sum_of_products", "sum_of_products_many",
           "MatrixProduct", "encrypted_matmul", "plain_encrypted_matmul", "encrypted_plain_matmul", "EncryptedMatrix",
           "tile_rotations", "polyval", "approximate", "depth_of", "FUNCTIONS", "block_sum", "block_sum_steps",
           "packed_dot", "replicate", "replicate_steps"]
