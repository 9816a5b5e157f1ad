"""Plan rewrites that save levels: each multiplication by a plaintext costs
one level, so consecutive affine maps (a convolution and its batch norm or
pooling, two linear layers) are multiplied into one, and the change of
variable of a Chebyshev activation (``t = (2x - a - b) / (b - a)``) is folded
into the affine layer that feeds it.

Example:
    >>> import numpy as np
    >>> from securinfer.nn.graph import Graph
    >>> from securinfer.nn.fold import fold_affine
    >>> g = Graph(3)
    >>> a = g.affine(-1, np.ones((3, 2)), name="fc1")
    >>> b = g.affine(a, 2 * np.eye(2), np.ones(2), name="bn")
    >>> g = fold_affine(g)
    >>> len(g.nodes), g.nodes[0].name, g.nodes[0].weight.tolist()
    (1, 'fc1+bn', [[2.0, 2.0], [2.0, 2.0], [2.0, 2.0]])
"""

from __future__ import annotations

from .graph import Graph

__all__ = ["fold_affine", "fold_domains", "compact"]


def compact(graph: Graph, dead: set) -> Graph:
    """The graph without the ``dead`` nodes (whose readers were rewired)."""
    new = Graph(graph.input_size)
    new.input_gather = graph.input_gather
    index = {-1: -1}
    for i, node in enumerate(graph.nodes):
        if i in dead:
            continue
        node.inputs = [index[r] for r in node.inputs]
        index[i] = len(new.nodes)
        new.nodes.append(node)
    return new


def fold_affine(graph: Graph) -> Graph:
    """Merges every affine node into the affine node that reads it, when that
    is its only reader: ``(x W1 + b1) W2 + b2 = x (W1 W2) + (b1 W2 + b2)``."""
    readers = graph.consumers()
    dead = set()
    for node in graph.nodes:
        src = node.inputs[0]
        if node.op != "affine" or src < 0:
            continue
        prev = graph.nodes[src]
        if prev.op != "affine" or readers[src] != 1:
            continue
        node.weight, node.bias = prev.weight @ node.weight, prev.bias @ node.weight + node.bias
        node.inputs = list(prev.inputs)
        node.name = f"{prev.name}+{node.name}"
        node.extra = {**prev.extra, **node.extra}
        dead.add(src)
    return compact(graph, dead)


def fold_domains(graph: Graph) -> Graph:
    """Moves each polynomial's change of variable into the affine node before
    it (when it is that node's only reader), saving the level it would cost."""
    readers = graph.consumers()
    for node in graph.nodes:
        src = node.inputs[0]
        if node.op != "poly" or node.domain == (-1.0, 1.0) or src < 0:
            continue
        prev = graph.nodes[src]
        if prev.op != "affine" or readers[src] != 1:
            continue
        a, b = node.domain
        alpha, beta = 2.0 / (b - a), -(a + b) / (b - a)
        prev.weight, prev.bias = prev.weight * alpha, prev.bias * alpha + beta
        node.extra["calibrated_domain"] = [a, b]
        node.domain = (-1.0, 1.0)
    return graph
