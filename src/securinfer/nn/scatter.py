"""A slot layout that gives convolutions few diagonals (slot packing only).

A batched linear transform costs one plaintext product per non-zero
diagonal, and the diagonal of weight ``W[r, c]`` is ``r - c`` (input slot
minus output slot). Packed densely, a convolution's outputs sit far from the
pixels they read and nearly every ``r - c`` occurs (about rows + cols
diagonals). Placing each output ``c`` at the slot of the first pixel it reads
(plus one shift per channel, so channels do not collide) makes ``r - c`` the
kernel's offset: about channels x kernel size diagonals. Each channel's
shift is the collision-free one that adds the fewest new diagonals (found
for all shifts at once by FFT cross-correlation): a strided layer's output
channels then land in the stride gaps of its input's channel blocks, or a
block further, and share their diagonals (the multiplexed packing of Lee et
al., ICML 2022, found rather than hand-built; LeNet's conv2: 1,089
diagonals instead of 3,759). The layer that reads
these outputs (after square/polynomial activations, which act slot by slot)
takes its rows from the same scattered slots. The rewrite is kept only when
the two layers together have fewer diagonals than before.

Example:
    >>> import numpy as np
    >>> from securinfer.nn.graph import Graph
    >>> from securinfer.nn.layers import conv2d_matrix
    >>> from securinfer.nn.scatter import scatter_outputs, diagonal_count
    >>> W, _ = conv2d_matrix(np.ones((2, 1, 3, 3)), (1, 12, 12), stride=2)
    >>> g = Graph(144); c = g.affine(-1, W, name="conv"); g.nodes[c].extra["channels"] = 2
    >>> s = g.square(c); out = g.affine(s, np.ones((50, 3)), name="fc")
    >>> before = diagonal_count(g.nodes[0].weight) + diagonal_count(g.nodes[2].weight)
    >>> x = np.random.default_rng(0).normal(size=(2, 144)); want = g.run(x)
    >>> g = scatter_outputs(g, stride_cap=144)
    >>> after = diagonal_count(g.nodes[0].weight) + diagonal_count(g.nodes[2].weight)
    >>> after < before, bool(np.allclose(g.run(x), want))
    (True, True)
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .graph import Graph

__all__ = ["scatter_outputs", "diagonal_count"]


def diagonal_count(W: np.ndarray) -> int:
    """Non-zero diagonals ``r - c`` of a batched transform of ``W``."""
    r, c = np.nonzero(W)
    return int(np.unique(r - c).size)


def _correlate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``out[t] = sum_j a[j] * b[j + t]`` for ``t`` in ``[0, len(b))`` (0/1 arrays;
    exact integers by FFT)."""
    n = 1 << int(a.size + b.size).bit_length()
    spectrum = np.conj(np.fft.rfft(a.astype(np.float64), n)) * np.fft.rfft(b.astype(np.float64), n)
    return np.rint(np.fft.irfft(spectrum, n)[: b.size]).astype(np.int64)


def _positions(W: np.ndarray, channels: int, cap: int) -> Optional[np.ndarray]:
    """Output slots: each channel's outputs at the slot of the first pixel
    they read plus one shift per channel, the shift chosen among those that
    collide with no earlier channel as the one adding the fewest diagonals
    to those of the channels already placed (ties: the smallest). Shifts
    that land a channel in the stride gaps of another (Lee et al.'s
    multiplexing) or one input-channel block further reuse its diagonals."""
    n_in, n_out = W.shape
    if channels < 1 or n_out % channels:
        return None
    nonzero = W != 0
    first = np.where(nonzero.any(axis=0), nonzero.argmax(axis=0), 0)
    rows, cols = np.nonzero(W)
    offset = cap                                     # diagonals r - c lie in (-cap, n_in)
    seen = np.zeros(n_in + 2 * cap, dtype=bool)      # diagonals of the channels placed so far
    used = np.zeros(cap, dtype=bool)
    pos = np.empty(n_out, dtype=np.int64)
    block = n_out // channels
    for g in range(channels):
        base = first[g * block:(g + 1) * block]
        if np.unique(base).size != base.size or int(base.max()) >= cap:
            return None
        mine = (cols >= g * block) & (cols < (g + 1) * block)
        diagonals = np.zeros(seen.size, dtype=bool)   # at shift 0
        diagonals[rows[mine] - first[cols[mine]] + offset] = True
        span = cap - int(base.max())                  # shifts t in [0, span)
        marks = np.zeros(int(base.max()) + 1, dtype=bool)
        marks[base] = True
        collisions = _correlate(marks, used)[:span]
        # a diagonal d at shift 0 becomes d - t; it is new unless seen[d - t]
        reused = _correlate(diagonals[::-1], seen[::-1])    # reused[t] = sum_d diagonals[d] seen[d - t]
        reused = reused[:span] if reused.size >= span else np.pad(reused, (0, span - reused.size))
        free = np.flatnonzero(collisions == 0)
        if free.size == 0:
            return None
        novelty = int(diagonals.sum()) - reused[free]
        shift = int(free[int(np.argmin(novelty))])
        slots = base + shift
        used[slots] = True
        seen[np.flatnonzero(diagonals) - shift] = True
        pos[g * block:(g + 1) * block] = slots
    return pos


def scatter_outputs(graph: Graph, stride_cap: int) -> Graph:
    """Rewrites (in place) the affine nodes marked with ``extra["channels"]``
    whose outputs reach exactly one affine node through slot-wise operations."""
    readers = graph.consumers()
    users = {i: [j for j, n in enumerate(graph.nodes) if i in n.inputs] for i in range(len(graph.nodes))}
    for i, node in enumerate(graph.nodes):
        if node.op != "affine" or "channels" not in node.extra or readers[i] != 1:
            continue
        chain, j = [], i
        while len(users[j]) == 1 and graph.nodes[users[j][0]].op in ("square", "poly") and readers[j] == 1:
            j = users[j][0]
            chain.append(j)
        if len(users[j]) != 1 or readers[j] != 1 or graph.nodes[users[j][0]].op != "affine":
            continue
        consumer = graph.nodes[users[j][0]]
        pos = _positions(node.weight, int(node.extra["channels"]), stride_cap)
        if pos is None:
            continue
        size = int(pos.max()) + 1
        W = np.zeros((node.weight.shape[0], size))
        W[:, pos] = node.weight
        bias = np.zeros(size)
        bias[pos] = node.bias
        V = np.zeros((size, consumer.weight.shape[1]))
        V[pos] = consumer.weight
        if diagonal_count(W) + diagonal_count(V) >= diagonal_count(node.weight) + diagonal_count(consumer.weight):
            continue
        node.weight, node.bias, node.size, consumer.weight = W, bias, size, V
        for k in chain:
            graph.nodes[k].size = size
    return graph
