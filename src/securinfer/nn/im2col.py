"""The convolution packing: a first convolution whose windows the client lays
out (slot packing only), so that the layer costs one diagonal per kernel
offset and output channel instead of one per matrix diagonal.

The client may arrange its own input in any way that involves no weight: it
writes, for each kernel offset ``k`` and output position ``p``, the pixel
that offset reads at that position in slot ``k * P + p`` (im2col; a tap
outside the image, or a position with fewer taps, gets a zero). A multi-
channel convolution's output ``(o, p)`` then sits at slot ``o * P + p`` and
reads slots ``k * P + p``: the diagonal ``r - c = (k - o) * P`` depends only
on the kernel offset and the output channel, so the batched transform has
``K + O - 1`` diagonals whose rotations are multiples of ``P`` (a
baby-step giant-step grid of about ``2 sqrt(K + O)`` rotations), and the
outputs come out dense, channel-major, as the next layer expects them. This
is the multiplexed packing idea of Lee et al. (ICML 2022) and Orion (ASPLOS
2025) for the one layer where replication is free: the client does it.
Strides, padding, dilation, channels, groups, a folded batch norm and a
folded average pooling are all just a different sparsity pattern: the
gather is built from the (folded) matrix itself, so it is exact for any of
them. The planner keeps it only when its cost model says it is cheaper
(:func:`securinfer.nn.planner.slot_plan_cost`) and the windows fit the slots.

Example:
    >>> import numpy as np
    >>> from securinfer.nn.layers import conv2d_matrix
    >>> from securinfer.nn.im2col import im2col_gather
    >>> W, _ = conv2d_matrix(np.ones((2, 1, 3, 3)), (1, 6, 6), stride=3)
    >>> gather, Wg = im2col_gather(W, channels=2)
    >>> gather.size, Wg.shape                        # 9 taps x 4 positions
    (36, (36, 8))
    >>> x = np.arange(36.0); bool(np.allclose(x[None, gather] @ Wg, x @ W))
    True
    >>> r, c = np.nonzero(Wg); sorted(set((r - c).tolist()))[:4]   # multiples of P = 4
    [-4, 0, 4, 8]
"""

from __future__ import annotations

import copy
from typing import Optional, Tuple

import numpy as np

from .graph import Graph

__all__ = ["im2col_gather", "apply_im2col", "row_copies_gather", "apply_row_copies"]


def im2col_gather(W: np.ndarray, channels: int) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """``(gather, W_gathered)`` for an affine map whose ``channels`` column
    blocks share one sparsity pattern per position (a convolution), or None.
    ``x[gather] @ W_gathered == x @ W`` (``gather`` -1: a zero slot)."""
    n_in, n_out = W.shape
    if channels < 1 or n_out % channels:
        return None
    P = n_out // channels
    pattern = (W != 0).reshape(n_in, channels, P).any(axis=1)      # rows each position reads
    taps = pattern.sum(axis=0)
    K = int(taps.max()) if taps.size else 0
    if K == 0:
        return None
    gather = np.full((K, P), -1, dtype=np.int64)
    Wg = np.zeros((K * P, n_out))
    cols = np.arange(channels)[:, None] * P + np.arange(P)[None, :]        # (O, P): column of (o, p)
    for p in range(P):
        rows = np.flatnonzero(pattern[:, p])                                # sorted: tap k is the k-th pixel read
        gather[:rows.size, p] = rows
        Wg[np.arange(rows.size)[:, None] * P + p, cols[:, p][None, :]] = W[rows][:, cols[:, p]]
    return gather.reshape(-1), Wg


def _first_convolution(graph: Graph):
    """``(index, node)`` of the one node reading the input when it is a
    convolution (an affine node marked with its channels) and the input is
    not gathered yet; else None."""
    readers = [i for i, n in enumerate(graph.nodes) if -1 in n.inputs]
    if graph.input_gather is not None or len(readers) != 1:
        return None
    node = graph.nodes[readers[0]]
    if node.op != "affine" or "channels" not in node.extra:
        return None
    return readers[0], node


def apply_im2col(graph: Graph, slots: int, batch_size: Optional[int]) -> Optional[Graph]:
    """A copy of the graph with its first convolution on client-laid-out
    windows, or None when there is no such convolution or ``batch_size``
    inputs would not fit ``slots``. The convolution's ``channels`` mark is
    dropped (its outputs are already dense: nothing to scatter). The compiler
    keeps it only when the cost model prefers it."""
    found_first = _first_convolution(graph)
    if found_first is None:
        return None
    index, node = found_first
    found = im2col_gather(node.weight, int(node.extra["channels"]))
    if found is None:
        return None
    gather, Wg = found
    per = max(1, int(batch_size or 1))
    if max([gather.size] + [n.size for n in graph.nodes]) * per > slots:
        return None
    candidate = copy.deepcopy(graph)
    candidate.input_gather = gather
    first = candidate.nodes[index]
    first.weight = Wg
    first.extra = {k: v for k, v in first.extra.items() if k != "channels"}
    first.extra["packing"] = "im2col"
    return candidate


def row_copies_gather(W: np.ndarray, row: int, plane: int, channels: int) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """``(gather, W_rows)``: the client writes ``copies`` copies of its input,
    copy ``k`` shifted by ``k`` image rows (``row`` values each) into slots
    ``[k L, (k + 1) L)``, one copy per kernel row; a weight at kernel row
    ``k`` reads copy ``k``. A convolution then costs one diagonal per kernel
    column, kernel row and output channel (``k L + dx - shift``, after
    :mod:`securinfer.nn.scatter` places the outputs), on ``copies``
    times the input's slots instead of im2col's taps times positions: the
    partial im2col for a first layer whose full windows do not fit (LeNet's
    conv1: 5 copies of 672 slots instead of 25 x 576). None when the map is
    not a convolution over rows of ``row`` values (``plane`` values per
    input channel)."""
    n_in, n_out = W.shape
    if row < 1 or plane < row or channels < 1 or n_out % channels or not np.any(W):
        return None
    nonzero = W != 0
    first = np.where(nonzero.any(axis=0), nonzero.argmax(axis=0), 0)   # the first pixel each output reads
    r, c = np.nonzero(W)
    k = ((r - first[c]) % plane) // row                                 # kernel row of each weight
    copies = int(k.max()) + 1
    if copies < 2:
        return None
    length = int((r - k * row).max()) + 1                              # slots of one copy
    gather = np.arange(length)[None, :] + row * np.arange(copies)[:, None]
    gather = np.where(gather < n_in, gather, -1).reshape(-1)
    Wr = np.zeros((copies * length, n_out))
    Wr[k * length + r - k * row, c] = W[r, c]
    return gather, Wr


def apply_row_copies(graph: Graph, row: int, plane: int, slots: int, batch_size: Optional[int]) -> Optional[Graph]:
    """A copy of the graph with its first convolution on client-written row
    copies (:func:`row_copies_gather`), or None when there is none or the
    copies do not fit ``slots`` for the batch. The ``channels`` mark stays:
    the outputs are scattered as before."""
    found_first = _first_convolution(graph)
    if found_first is None:
        return None
    index, node = found_first
    found = row_copies_gather(node.weight, int(row), int(plane), int(node.extra["channels"]))
    if found is None:
        return None
    gather, Wr = found
    if max([gather.size] + [n.size for n in graph.nodes]) * max(1, int(batch_size or 1)) > slots:
        return None
    candidate = copy.deepcopy(graph)
    candidate.input_gather = gather
    first = candidate.nodes[index]
    first.weight = Wr
    first.extra["packing"] = "rows"
    return candidate
