"""Where a plan deeper than its chain bootstraps (Orion's level management).

A fresh ciphertext has ``top`` levels; every node of the plan uses some
(affine and square one, a polynomial its depth, an addition none); a
bootstrap brings a value back to ``refresh`` levels
(``ctx.levels_after_bootstrap``). Bootstrapping needs values in about
[-1, 1]: the value is divided by an integer ``s`` first (folded into the
affine map or polynomial that produced it when that is its only reader, else
one scalar product, one level) and multiplied by ``s`` after (an integer
product: no level).

* The placement is exact, by dynamic programming over the levels of the
  values still to be read (one for a chain, two or three in residual
  blocks): before each node, each of its inputs is bootstrapped or not
  (every later reader then reads the refreshed value). It minimises the
  count of bootstraps, then the estimated time (an operation costs its
  per-limb price times the limbs of the level it runs at, so among
  placements of equal count the one that runs the expensive layers low wins).
* Should the states ever exceed 200,000 (very wide graphs), a greedy walk
  takes over: a value is bootstrapped at the latest point, just before the
  first node that lacks levels to read it.

Example:
    >>> import numpy as np
    >>> from securinfer.nn.graph import Graph
    >>> from securinfer.nn.placement import place_bootstraps
    >>> g = Graph(2); h = -1
    >>> for _ in range(7):
    ...     h = g.square(g.affine(h, np.eye(2)))            # 14 levels in all
    >>> p = place_bootstraps(g, top=5, refresh=4)
    >>> p.count, p.after                                  # ceil((14 - 5) / 4) = 3
    (3, [(4, 5), (8, 9), (12, 13)])
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import ParameterError
from .graph import Graph

__all__ = ["Placement", "node_levels", "place_bootstraps", "insert_bootstraps", "BOOTSTRAP_MS"]

#: Rough price of one bootstrap against the per-limb operation prices of the
#: planner (ms, one thread, N = 2^16); only its size against them matters here.
BOOTSTRAP_MS = 25000.0


@dataclass
class Placement:
    """Bootstraps as ``(value, first reader)`` pairs: the output of node
    ``value`` is bootstrapped before node ``first reader``, which and every
    later reader of it read the refreshed value."""

    after: List[Tuple[int, int]] = field(default_factory=list)
    estimated_ms: float = 0.0
    method: str = "exact"

    @property
    def count(self) -> int:
        return len(self.after)


def node_levels(graph: Graph) -> List[int]:
    """Levels each node uses (its depth minus its deepest input's)."""
    used = graph.depths()
    out = []
    for i, node in enumerate(graph.nodes):
        before = max((used[r] if r >= 0 else 0) for r in node.inputs)
        out.append(used[i] - before)
    return out


def _foldable(graph: Graph, value: int, readers: Sequence[int]) -> bool:
    """The division before a bootstrap can be folded into the node that made
    the value: an affine map or a polynomial read by nothing else."""
    return graph.nodes[value].op in ("affine", "poly") and len(readers) == 1


def place_bootstraps(graph: Graph, top: int, refresh: int, op_ms: Optional[Sequence[float]] = None,
                     bootstrap_ms: float = BOOTSTRAP_MS) -> Placement:
    """The bootstraps a plan needs with ``top`` levels fresh and ``refresh``
    after each bootstrap (see the module doc). ``op_ms``: each node's price
    per limb (default 1). ``ParameterError`` if one node needs more levels
    than a bootstrap gives back."""
    if not 1 <= refresh <= top:
        raise ParameterError(f"a bootstrap gives back {refresh} levels; it must be 1 to the {top} of a fresh input")
    levels = node_levels(graph)
    n = len(graph.nodes)
    op_ms = [1.0] * n if op_ms is None else [float(v) for v in op_ms]
    for i, need in enumerate(levels):
        if need > max(refresh, top if graph.nodes[i].inputs == [-1] else refresh):
            raise ParameterError(f"node {i} ({graph.nodes[i].name or graph.nodes[i].op}) uses {need} levels; a "
                                 f"bootstrap gives back {refresh}: lower its degree or choose a longer chain")
    exact = _exact(graph, levels, top, refresh, op_ms, bootstrap_ms)
    return exact if exact is not None else _greedy(graph, levels, top, refresh, op_ms, bootstrap_ms)


def _exact(graph, levels, top, refresh, op_ms, bootstrap_ms, limit: int = 200_000) -> Optional[Placement]:
    """Dynamic programming over the levels of the live values (those a later
    node still reads): before each node, each of its inputs is bootstrapped
    or not. Exact; None when the states exceed ``limit``."""
    readers = {u: [j for j, node in enumerate(graph.nodes) if u in node.inputs] for u in range(-1, len(levels))}
    last = {u: max(r) for u, r in readers.items() if r}
    last[len(levels) - 1] = len(levels)                 # the output stays live
    states: Dict[tuple, Tuple[int, float, tuple]] = {((-1, top),): (0, 0.0, ())}
    for i, node in enumerate(graph.nodes):
        ins = sorted(set(node.inputs))
        nxt: Dict[tuple, Tuple[int, float, tuple]] = {}
        for state, (count, ms, placed) in states.items():
            for choice in itertools.product((False, True), repeat=len(ins)):
                lv, c2, ms2, pl, ok = dict(state), count, ms, placed, True
                for u, boot in zip(ins, choice):
                    if not boot:
                        continue
                    pre = 0 if u >= 0 and _foldable(graph, u, readers[u]) else 1
                    if u == -1 or lv[u] >= refresh or lv[u] < pre:
                        ok = False
                        break
                    lv[u], c2, ms2, pl = refresh, c2 + 1, ms2 + bootstrap_ms, pl + ((u, i),)
                start = min(lv[u] for u in ins) if ok else -1
                if start < levels[i]:
                    continue
                lv[i] = start - levels[i]
                ms2 += op_ms[i] * (start + 1)
                key = tuple(sorted((u, v) for u, v in lv.items() if last.get(u, -1) > i))
                if key not in nxt or (c2, ms2) < nxt[key][:2]:
                    nxt[key] = (c2, ms2, pl)
        if not nxt:
            raise ParameterError(f"no placement of bootstraps reaches node {i}")
        if len(nxt) > limit:
            return None
        states = nxt
    count, ms, placed = min(states.values(), key=lambda e: e[:2])
    return Placement(list(placed), round(ms, 1), "exact")


def _greedy(graph, levels, top, refresh, op_ms, bootstrap_ms) -> Placement:
    """Latest-point placement; when a value that cannot absorb the division
    (a square, a sum, a value with several readers) must be refreshed at
    level 0, the values it is made of are refreshed before it instead, and
    the walk starts again with that choice forced."""
    readers = {i: [j for j, node in enumerate(graph.nodes) if i in node.inputs] for i in range(len(levels))}
    forced: set = set()
    for _ in range(len(levels) + 1):
        level = {-1: top}
        placed: List[Tuple[int, int]] = []
        ms, stuck = 0.0, None
        for i, node in enumerate(graph.nodes):
            for u in node.inputs:
                if (u, i) not in forced and level[u] >= levels[i]:
                    continue
                if u == -1:
                    if (u, i) in forced or top < levels[i]:
                        raise ParameterError(f"node {i} needs {levels[i]} levels; fresh inputs have {top}")
                    continue
                if level[u] < (0 if _foldable(graph, u, readers[u]) else 1):
                    stuck = u
                    break
                placed.append((u, i))
                level[u] = refresh
                ms += bootstrap_ms
            if stuck is not None:
                break
            start = min(level[u] for u in node.inputs)
            ms += op_ms[i] * (start + 1)
            level[i] = start - levels[i]
        if stuck is None:
            return Placement(placed, round(ms, 1), "greedy")
        new = {(v, stuck) for v in graph.nodes[stuck].inputs if v >= 0} - forced
        if not new:
            break
        forced |= new
    raise ParameterError("no placement of bootstraps found for this graph")


def insert_bootstraps(graph: Graph, placement: Placement, magnitudes: Sequence[float], top: int,
                      refresh: int) -> Graph:
    """A new graph with a ``bootstrap`` node for each placed bootstrap.
    ``magnitudes[i]``: the largest |value| node i gives (calibrated); the
    bootstrap divides by ``s = ceil(2 * magnitude)`` before (folded into the
    producer when it may be) and multiplies by ``s`` after, so it sees values
    in [-1/2, 1/2]."""
    readers = {i: [j for j, node in enumerate(graph.nodes) if i in node.inputs] for i in range(len(graph.nodes))}
    before: Dict[int, List[int]] = {}
    for u, first in placement.after:
        before.setdefault(first, []).append(u)
    new = Graph(graph.input_size)
    new.input_gather = graph.input_gather
    index = {-1: -1}
    for i, node in enumerate(graph.nodes):
        for u in before.get(i, []):
            scale = int(max(1, np.ceil(2.0 * float(magnitudes[u]))))
            producer = new.nodes[index[u]]
            folded = scale > 1 and _foldable(graph, u, readers[u])
            if folded:                      # the producer's output itself shrinks by 1/scale
                if producer.op == "affine":
                    producer.weight, producer.bias = producer.weight / scale, producer.bias / scale
                else:
                    producer.coeffs = producer.coeffs / scale
            new.bootstrap(index[u], scale, "folded" if folded or scale == 1 else "multiply", top - refresh,
                          name=f"bootstrap({producer.name or u})")
            index[u] = len(new.nodes) - 1    # later readers read the refreshed value
        node = copy.copy(node)               # the given graph stays as it was
        node.inputs = [index[r] for r in node.inputs]
        node.extra = dict(node.extra)
        new.nodes.append(node)
        index[i] = len(new.nodes) - 1
    return new
