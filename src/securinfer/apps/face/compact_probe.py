"""The compact probe: the whole 128-D embedding in ONE ciphertext, expanded
by the server.

The client encrypts the probe replicated with period 128 (slot j holds
coordinate ``j mod 128``): one ciphertext instead of 128. The server rotates
it by r = 0 .. 127 (``expand``), so rotation r holds coordinate
``(j + r) mod 128`` in slot j, and scores a block with the block's
*diagonals*: diagonal r of a block holds, in slot j, coordinate
``(j + r) mod 128`` of template j. Then ``sum_r rotation_r * diagonal_r`` is
the inner product of the probe with template j in slot j: the same 128
products per block as the 128-ciphertext probe, no rotation per block; the
127 rotations are paid once per probe, whatever the gallery's size.

The rotations use the 7 power-of-two keys (1, 2, ..., 64): rotation r is
built from rotation ``r - highest_bit(r)``, and the children of one
ciphertext are computed together (hoisted: one key-switch decomposition).

Example:
    >>> import numpy as np
    >>> from securinfer.apps.face.compact_probe import replicate, diagonals
    >>> replicate(np.arange(128.0), 256)[126:130].tolist()
    [126.0, 127.0, 0.0, 1.0]
    >>> t = np.arange(128.0 * 4).reshape(4, 128)          # 4 templates, rows
    >>> d = diagonals(t.T, 4)                             # from the block's columns
    >>> bool(d[1, 2] == t[2, 3])                          # diagonal 1, slot 2: template 2, coordinate 3
    True
"""

from __future__ import annotations

from typing import List

import numpy as np

from .params import EMBEDDING_SIZE

#: The rotation keys the server needs for ``expand`` (and the norm's sum).
EXPANSION_STEPS = [1 << k for k in range(EMBEDDING_SIZE.bit_length() - 1)]


def replicate(values: np.ndarray, slots: int) -> np.ndarray:
    """The 128 values tiled over ``slots`` slots (slot j: ``values[j % 128]``)."""
    return np.tile(np.asarray(values, dtype=np.float64), slots // len(values))


def diagonals(columns: np.ndarray, slots: int) -> np.ndarray:
    """(128, slots) diagonals of a block from its (128, slots) columns
    (column d, slot j: coordinate d of template j): diagonal r, slot j is
    ``columns[(j + r) % 128, j]``."""
    dim = columns.shape[0]
    j = np.arange(slots)
    rows = (j[None, :] + np.arange(dim)[:, None]) % dim
    return np.ascontiguousarray(columns[rows, j[None, :]])


def expand(probe_ct) -> List:
    """Rotations 0 .. 127 of the compact probe (127 rotations with the
    power-of-two keys, hoisted per parent)."""
    dim = EMBEDDING_SIZE
    out = [None] * dim
    out[0] = probe_ct
    for r in range(dim):                     # parents come before their children
        top = r.bit_length()                 # children r + 2^k for 2^k above r's highest bit
        steps = [1 << k for k in range(top, dim.bit_length() - 1) if r + (1 << k) < dim]
        if steps:
            for step, ct in zip(steps, out[r].rotate_many(steps)):
                out[r + step] = ct
    return out
