"""Activations as polynomials fitted on calibrated input ranges.

CKKS evaluates only additions and products, so ReLU, SiLU, GELU, sigmoid and
tanh become Chebyshev interpolants (:func:`securinfer.polynomial.approximate`)
on the range their inputs take: the plan is run on the calibration rows with
the exact functions, each activation's input range ``[lo, hi]`` is recorded
and widened by ``margin * (hi - lo)`` on each side. Inputs outside that range
are not approximated (a polynomial diverges quickly outside its interval), so
calibrate on data like the data you will serve. ReLU's interpolant is smooth:
its error is largest near 0 and shrinks as 1/degree.

Example:
    >>> import numpy as np
    >>> from securinfer.nn.graph import Graph
    >>> from securinfer.nn.activations import calibrate
    >>> g = Graph(1); _ = g.act(-1, "tanh", name="tanh")
    >>> calibrate(g, np.linspace(-2, 2, 50).reshape(-1, 1), degrees={"tanh": 9})
    >>> node = g.nodes[0]
    >>> node.op, node.domain, bool(node.error < 1e-2)
    ('poly', (-2.8, 2.8), True)
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from ..errors import ParameterError
from ..polynomial import approximate
from .graph import Graph

__all__ = ["DEFAULT_DEGREES", "DEFAULT_MARGIN", "calibrate"]

#: Chebyshev degree per activation (2^k - 1 uses its depth fully: degree 15 costs 5 levels).
DEFAULT_DEGREES = {"relu": 15, "silu": 15, "gelu": 15, "sigmoid": 15, "tanh": 15}
#: Fraction of the calibrated range added on each side.
DEFAULT_MARGIN = 0.2


def calibrate(graph: Graph, X, *, margin: float = DEFAULT_MARGIN,
              degrees: Optional[Dict[str, int]] = None) -> None:
    """Replaces every ``act`` node of ``graph`` by its polynomial, in place."""
    todo = [i for i, n in enumerate(graph.nodes) if n.op == "act"]
    if not todo:
        return
    if X is None:
        names = ", ".join(f"{graph.nodes[i].name} ({graph.nodes[i].function})" for i in todo)
        raise ParameterError(f"calibration=X (rows of typical inputs) is needed to approximate {names}")
    if not (isinstance(margin, (int, float)) and 0 <= margin <= 10):
        raise ParameterError("margin must be a number in [0, 10]")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1 or X.ndim > 2:
        X = X.reshape(X.shape[0] if X.ndim > 1 else 1, -1)
    if X.shape[0] < 1 or not np.all(np.isfinite(X)):
        raise ParameterError("calibration rows must be finite and non-empty")
    degrees = {**DEFAULT_DEGREES, **(degrees or {})}
    trace: list = []
    graph.run(X, trace=trace)
    for i in todo:
        node = graph.nodes[i]
        src = node.inputs[0]
        values = X if src == -1 else trace[src]
        lo, hi = float(np.min(values)), float(np.max(values))
        width = max(hi - lo, 1e-3 * max(1.0, abs(lo), abs(hi)))
        lo, hi = lo - margin * width, hi + margin * width
        degree = degrees.get(node.function)
        if degree is None:
            raise ParameterError(f"no degree given for activation {node.function!r}")
        coeffs, err = approximate(node.function, int(degree), (lo, hi))
        node.op, node.coeffs, node.domain, node.error = "poly", coeffs, (lo, hi), err
