"""A slot layout that gives convolutions few diagonals (slot packing only).

A batched linear transform costs one plaintext product per non-zero
diagonal, and the diagonal of weight ``W[r, c]`` is ``r - c`` (input slot
minus output slot). Packed densely, a convolution's outputs sit far from the
pixels they read and nearly every ``r - c`` occurs (about rows + cols
diagonals). Placing each output ``c`` at the slot of the first pixel it reads
(plus one shift per channel, so channels do not collide) makes ``r - c`` the
kernel's offset: about channels x kernel size diagonals. The layer that reads
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


def _positions(W: np.ndarray, channels: int, cap: int) -> Optional[np.ndarray]:
    n_out = W.shape[1]
    if channels < 1 or n_out % channels:
        return None
    nonzero = W != 0
    first = np.where(nonzero.any(axis=0), nonzero.argmax(axis=0), 0)
    used = np.zeros(cap, dtype=bool)
    pos = np.empty(n_out, dtype=np.int64)
    block = n_out // channels
    for g in range(channels):
        base = first[g * block:(g + 1) * block]
        if np.unique(base).size != base.size:
            return None
        for shift in range(cap - int(base.max())):
            slots = base + shift
            if not used[slots].any():
                used[slots] = True
                pos[g * block:(g + 1) * block] = slots
                break
        else:
            return None
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
