"""The compact probe: the whole 128-D embedding in ONE ciphertext, scored by
the server with baby-step giant-step diagonals.

The client encrypts the probe replicated with period 128 (slot j holds
coordinate ``j mod 128``): one ciphertext instead of 128. Diagonal r of a
block holds, in slot j, coordinate ``(j + r) mod 128`` of template j, so
``sum_r rot_r(p) * diag_r`` is the inner product of the probe with template
j in slot j (``rot_r``: rotation left by r).

Rotating the probe 127 times costs 127 key switches per probe. Baby-step
giant-step (Halevi-Shoup) splits r = g B + b:

    sum_r rot_r(p) diag_r = sum_g rot_{gB}( sum_b rot_b(p) * rot_{-gB}(diag_{gB+b}) )

so a probe needs B - 1 baby rotations (once, whatever the gallery's size) and
each block 128 / B - 1 giant rotations, taken on the block's product (one
level lower) by Horner's rule with the key of step B. ``choose_baby_step``
picks B from the number of blocks: 1 block, B = 16 (15 + 7 = 22 key switches
instead of 127); 62 blocks (a million templates), B = 128 (no giant step).
The plaintext side, ``rot_{-gB}(diag_{gB+b})``, is encoded once per block
(:func:`giant_diagonals`), the same 128 plaintexts per block as before.

Keys: power-of-two rotations only (:func:`baby_step_keys`): baby rotation b
is built from rotation ``b - highest_bit(b)`` (children of one parent
hoisted: one decomposition) with the keys 1, 2, ..., B / 2, and the giant
step is the key of B. A gallery asks its clients for the keys of the B its
block count calls for (B = 16: 1, 2, 4, 8, 16; 5 keys of 242 MB each at
N = 32768, against 7 for all B); a gallery that has grown since uses the
best B those keys allow (slower, never wrong).

Example:
    >>> import numpy as np
    >>> from securinfer.apps.face.compact_probe import replicate, diagonals, giant_diagonals
    >>> replicate(np.arange(128.0), 256)[126:130].tolist()
    [126.0, 127.0, 0.0, 1.0]
    >>> t = np.arange(128.0 * 4).reshape(4, 128)          # 4 templates, rows
    >>> d = diagonals(t.T, 4)                             # from the block's columns
    >>> bool(d[1, 2] == t[2, 3])                          # diagonal 1, slot 2: template 2, coordinate 3
    True
    >>> cols = np.arange(128.0 * 256).reshape(128, 256)
    >>> g = giant_diagonals(cols, 256, baby=16, giant=3)  # diag_{48 + b} rotated right by 48
    >>> bool(np.array_equal(g[5], np.roll(diagonals(cols, 256)[53], 48)))
    True
    >>> choose_baby_step(1), choose_baby_step(62)
    (16, 128)
"""

from __future__ import annotations

from typing import List, Sequence

import numpy as np

from ...errors import ParameterError
from .params import EMBEDDING_SIZE

#: The rotation keys of every B (a gallery asks for those of its B: ``baby_step_keys``).
EXPANSION_STEPS = [1 << k for k in range(EMBEDDING_SIZE.bit_length() - 1)]

#: Baby steps B considered (powers of two: their giant step is one key).
BABY_STEPS = [1 << k for k in range(1, EMBEDDING_SIZE.bit_length())]

#: A giant rotation (a whole key switch on the block's product, plus its
#: partial product's rescale) against a baby rotation (hoisted with its
#: siblings): both measured about 0.12 CPU s at N = 32768, 20 levels
#: (docs/face.md); 1.2 leans toward per-probe work, which does not grow with the gallery.
GIANT_COST = 1.2


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


def giant_diagonals(columns: np.ndarray, slots: int, baby: int, giant: int) -> np.ndarray:
    """(baby, slots): diagonal ``giant * baby + b`` rotated right by
    ``giant * baby``, for b < baby; slot j is
    ``columns[(j + b) % 128, (j - giant * baby) % slots]``."""
    dim = columns.shape[0]
    j = np.arange(slots)
    source = (j - giant * baby) % slots
    rows = (j[None, :] + np.arange(baby)[:, None]) % dim
    return np.ascontiguousarray(columns[rows, source[None, :]])


def baby_step_keys(baby: int) -> List[int]:
    """The rotation keys a baby step B uses: 1, 2, ..., B / 2 for the baby
    rotations, and B for the giant steps (none when B = 128)."""
    steps = [s for s in EXPANSION_STEPS if s < baby]
    return steps + ([baby] if baby < EMBEDDING_SIZE else [])


def choose_baby_step(blocks: int, keys=None) -> int:
    """The B of least estimated cost for ``blocks`` blocks: B - 1 baby
    rotations per probe plus ``blocks * (128 / B - 1)`` giant ones (ties: the
    larger B); with ``keys`` (rotation steps a context holds), among the B
    whose :func:`baby_step_keys` it has (``MissingKeyError`` if none)."""
    from ...errors import MissingKeyError

    if blocks < 1:
        raise ParameterError("a gallery scores at least one block")
    usable = [b for b in BABY_STEPS if keys is None or set(baby_step_keys(b)) <= set(keys)]
    if not usable:
        want = baby_step_keys(choose_baby_step(blocks))
        raise MissingKeyError(f"the compact probe needs rotation keys for steps {want} "
                              f"(the gallery's describe()['rotations']); the probe's context has {sorted(keys)}")
    cost = {b: (b - 1) + blocks * (EMBEDDING_SIZE // b - 1) * GIANT_COST for b in usable}
    return min(usable, key=lambda b: (cost[b], -b))


def baby_rotations(probe_ct, baby: int) -> List:
    """Rotations 0 .. baby - 1 of the compact probe (baby - 1 key switches with
    the power-of-two keys, hoisted per parent)."""
    if baby not in BABY_STEPS:
        raise ParameterError(f"the baby step must be one of {BABY_STEPS}, got {baby!r}")
    out = [None] * baby
    out[0] = probe_ct
    for r in range(baby):                    # parents come before their children
        top = r.bit_length()                 # children r + 2^k for 2^k above r's highest bit
        steps = [1 << k for k in range(top, baby.bit_length() - 1) if r + (1 << k) < baby]
        if steps:
            for step, ct in zip(steps, out[r].rotate_many(steps)):
                out[r + step] = ct
    return out


def expand(probe_ct) -> List:
    """All 128 rotations of the compact probe (B = 128: no giant step)."""
    return baby_rotations(probe_ct, EMBEDDING_SIZE)


def giant_sum(partials: Sequence, baby: int):
    """``sum_g rot_{g * baby}(partials[g])`` by Horner's rule: ``len(partials) - 1``
    rotations, each by ``baby`` (one power-of-two key)."""
    acc = partials[-1]
    for part in reversed(partials[:-1]):
        acc = acc.rotate(baby) + part
    return acc

