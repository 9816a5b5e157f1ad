"""Reductions and replication over packed vectors: sums within blocks, inner
products of vectors packed side by side, and copies of a block across the
slots. Each is ceil(log2(.)) rotate-and-add steps; ``*_steps`` functions list
the rotation keys needed before any key is made.

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.linalg.reductions import block_sum, block_sum_steps
    >>> ctx = si.Context.create(preset="fast")
    >>> ctx.generate_rotation_keys(steps=block_sum_steps(4))
    >>> s = block_sum(ctx.encrypt(np.arange(8.0)), 4)      # blocks [0..3], [4..7]
    >>> np.round(ctx.decrypt(s)[[0, 4]], 3)
    array([ 6., 22.])
"""

from __future__ import annotations

from typing import List

from ..errors import ParameterError
from .._validation import is_int

__all__ = ["block_sum", "block_sum_steps", "packed_dot", "replicate", "replicate_steps"]


def _power_of_two(value, name) -> int:
    if not is_int(value) or value < 1 or value & (value - 1):
        raise ParameterError(f"{name} must be a power of two, got {value!r}")
    return value


def block_sum_steps(block: int) -> List[int]:
    """Rotation steps :func:`block_sum` uses for blocks of ``block`` slots."""
    block = _power_of_two(block, "block")
    return [1 << k for k in range(block.bit_length() - 1)]


def block_sum(ct, block: int):
    """Sums of consecutive blocks of ``block`` slots (a power of two): slot
    ``b * block`` receives the sum of block b; the other slots hold partial
    sums. The result spans every slot (``size == slots``)."""
    block = _power_of_two(block, "block")
    if block > ct.context.slots:
        raise ParameterError(f"block of {block} slots is larger than the {ct.context.slots} slots")
    acc = whole(ct, "block_sum()")
    for step in block_sum_steps(block):
        acc = acc + acc.rotate(step)
    return acc


def packed_dot(a, b, block: int):
    """Inner products of vectors packed in consecutive blocks of ``block``
    slots: slot ``k * block`` receives <a_k, b_k>. ``b`` may be a ciphertext
    or a plaintext vector."""
    return block_sum(a * b, block)


def replicate_steps(period: int, copies: int) -> List[int]:
    """Rotation steps :func:`replicate` uses (right rotations, negative)."""
    period = _power_of_two(period, "period")
    copies = _power_of_two(copies, "copies")
    return [-(period << k) for k in range(copies.bit_length() - 1)]


def replicate(ct, period: int, copies: int):
    """``copies`` copies of the first ``period`` slots, copy c at
    ``[c * period, (c + 1) * period)`` (both powers of two; the slots past
    ``period`` must be zero, as they are after encryption of ``period`` values)."""
    steps = replicate_steps(period, copies)
    if period * copies > ct.context.slots:
        raise ParameterError(f"{copies} copies of {period} slots do not fit in {ct.context.slots} slots")
    if ct.size > period:
        raise ParameterError(f"the vector has {ct.size} values, more than the period {period}")
    acc = whole(ct, "replicate()")
    for step in steps:
        acc = acc + acc.rotate(step)
    return acc._relabel(period * copies, "zeros")


def whole(ct, what: str):
    """``ct`` viewed as the full slot vector (its zero padding included), so
    that layouts of different lengths meet under numpy's equal-length rule."""
    ct._require_zero_padding(what)
    return ct._relabel(ct.context.slots, "zeros")
