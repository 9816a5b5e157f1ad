"""Interval bounds of every value of a plan, for every input in a box.

Interval arithmetic through the plan's operations: an affine map of a box is
bounded exactly per output (``center @ W + b`` plus or minus ``radius @ |W|``),
a square of ``[l, h]`` by ``[0 or min(l^2, h^2), max(l^2, h^2)]``, a sum by
the sum of bounds, and an approximated activation on ``[a, b]`` by its
smallest and largest values on a fine grid of its input interval, clamped to
``[a, b]`` (outside its domain a polynomial bounds nothing: :func:`bounds`
reports which inputs were not inside their domain); a given polynomial
(``x^2 + x``, no fitted domain) and an exact activation by their values on a
grid of the input interval. The bounds are sound but
grow with depth (each layer treats its inputs as independent).

The compiler uses them to size the modulus for records anywhere in the
client's input box and to tell, per activation, whether every such record
provably stays in the approximation's domain.

Example:
    >>> import numpy as np
    >>> from securinfer.nn.graph import Graph
    >>> from securinfer.nn.intervals import bounds
    >>> g = Graph(2); h = g.affine(-1, np.array([[1.0], [-2.0]]), np.array([0.5])); _ = g.square(h)
    >>> lows, highs, _ = bounds(g, np.array([0.0, 0.0]), np.array([1.0, 1.0]))
    >>> lows[0].tolist(), highs[0].tolist(), lows[1].tolist(), highs[1].tolist()
    ([-1.5], [1.5], [0.0], [2.25])
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np
from numpy.polynomial import chebyshev as C

from ..linalg.polynomial import FUNCTIONS
from .graph import Graph

__all__ = ["bounds", "poly_range"]

_GRID = 4001


def poly_range(coeffs, domain, low, high) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per unit: the smallest and largest value of the Chebyshev polynomial
    on ``[low, high]`` clamped to ``domain``, and whether ``[low, high]`` lay
    inside ``domain``."""
    a, b = domain
    grid = np.linspace(a, b, _GRID)
    values = C.chebval((2 * grid - a - b) / (b - a), coeffs)
    lo_c, hi_c = np.clip(low, a, b), np.clip(high, a, b)
    start = np.searchsorted(grid, lo_c, side="left")
    stop = np.searchsorted(grid, hi_c, side="right")
    ends = np.stack([C.chebval((2 * lo_c - a - b) / (b - a), coeffs), C.chebval((2 * hi_c - a - b) / (b - a), coeffs)])
    out_lo, out_hi = ends.min(axis=0), ends.max(axis=0)
    # Range minimum/maximum over grid[start:stop] per unit; units share few distinct intervals, so loop.
    for u in range(out_lo.size):
        if stop[u] > start[u]:
            seg = values[start[u]:stop[u]]
            out_lo[u] = min(out_lo[u], seg.min())
            out_hi[u] = max(out_hi[u], seg.max())
    # Between grid points p moves at most spacing * max|p'| (with a factor 2 of room).
    slope = np.max(np.abs(C.chebval((2 * grid - a - b) / (b - a), C.chebder(coeffs)))) * 2 / (b - a)
    slack = slope * (grid[1] - grid[0])
    inside = (low >= a) & (high <= b)
    return out_lo - slack, out_hi + slack, inside


def bounds(graph: Graph, low, high, upto: Optional[int] = None) -> Tuple[List[np.ndarray], List[np.ndarray], List]:
    """``(lows, highs, inside)``: per node (up to ``upto`` included) the bounds
    of its output for inputs in ``[low, high]``; ``inside[i]`` is, for a
    polynomial node, whether its input bounds lay in its domain (else None).
    ``act`` nodes use their exact function (monotone or ReLU-like: evaluated
    on a grid)."""
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    lows: List[np.ndarray] = []
    highs: List[np.ndarray] = []
    inside: List = []
    last = len(graph.nodes) - 1 if upto is None else upto

    def get(ref):
        return (low, high) if ref == -1 else (lows[ref], highs[ref])

    for node in graph.nodes[:last + 1]:
        lo, hi = get(node.inputs[0])
        flag = None
        if node.op == "affine":
            with np.errstate(invalid="ignore", over="ignore"):   # an unbounded input gives an unbounded output
                center, radius = (lo + hi) / 2, (hi - lo) / 2
                mid = center @ node.weight + node.bias
                spread = radius @ np.abs(node.weight)
                out = (mid - spread, mid + spread)
            out = (np.where(np.isnan(out[0]), -np.inf, out[0]), np.where(np.isnan(out[1]), np.inf, out[1]))
        elif node.op == "square":
            with np.errstate(over="ignore"):     # a bound past the doubles is unbounded: inf (deep chains of squares)
                sq_lo, sq_hi = lo * lo, hi * hi
            out = (np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(sq_lo, sq_hi)), np.maximum(sq_lo, sq_hi))
        elif node.op == "poly" and node.function:
            out_lo, out_hi, flag = poly_range(node.coeffs, node.domain, lo, hi)
            out = (out_lo, out_hi)
        elif node.op in ("poly", "act"):
            # A given polynomial (no fitted domain: defined everywhere) or an exact activation.
            a, b = node.domain
            if node.op == "act":
                fn = FUNCTIONS[node.function]
            else:
                def fn(x, c=node.coeffs, a=a, b=b):
                    return C.chebval((2 * x - a - b) / (b - a), c)
            t = np.linspace(0.0, 1.0, 257)
            with np.errstate(over="ignore", invalid="ignore"):   # far outside a stage's domain: unbounded
                points = lo[:, None] + t[None, :] * (hi - lo)[:, None]
                values = np.asarray(fn(points.ravel()), dtype=np.float64).reshape(points.shape)
            out = (np.where(np.isnan(values), -np.inf, values).min(axis=1),
                   np.where(np.isnan(values), np.inf, values).max(axis=1))
        elif node.op == "mul":
            lo2, hi2 = get(node.inputs[1])
            corners = np.stack([lo * lo2, lo * hi2, hi * lo2, hi * hi2])
            out = (corners.min(axis=0), corners.max(axis=0))
        else:
            lo2, hi2 = get(node.inputs[1])
            out = (lo + lo2, hi + hi2)
        lows.append(out[0])
        highs.append(out[1])
        inside.append(flag)
    return lows, highs, inside
