"""Activations as polynomials fitted on calibrated input ranges.

CKKS evaluates only additions and products, so ReLU, SiLU, GELU, sigmoid and
tanh become Chebyshev interpolants (:func:`securinfer.polynomial.approximate`)
on the range their inputs take: the plan is run on the calibration rows with
the exact functions, each activation's input range ``[lo, hi]`` is recorded
and widened by ``margin * (hi - lo)`` on each side. The degree is the
smallest of 7, 15, 31, 63, 127 (each uses its depth fully) whose error is
within ``tolerance`` times the function's largest value on the range, unless
``degrees`` fixes it. Inputs outside that range
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
from ..polynomial import FUNCTIONS, approximate
from .graph import Graph

__all__ = ["CANDIDATE_DEGREES", "DEFAULT_MARGIN", "DEFAULT_TOLERANCE", "calibrate"]

#: Degrees tried in turn (2^k - 1 uses its depth fully: degree 15 costs 5 levels, 127 costs 8).
CANDIDATE_DEGREES = (7, 15, 31, 63, 127)
#: Fraction of the calibrated range added on each side.
DEFAULT_MARGIN = 0.2
#: Largest approximation error, relative to the function's largest magnitude on the range.
DEFAULT_TOLERANCE = 0.01


def calibrate(graph: Graph, X, *, margin: float = DEFAULT_MARGIN, degrees: Optional[Dict[str, int]] = None,
              tolerance: float = DEFAULT_TOLERANCE) -> None:
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
    if not (isinstance(tolerance, (int, float)) and tolerance > 0):
        raise ParameterError("tolerance must be a positive number")
    degrees = dict(degrees or {})
    trace: list = []
    graph.run(X, trace=trace)
    for i in todo:
        node = graph.nodes[i]
        src = node.inputs[0]
        values = X if src == -1 else trace[src]
        lo, hi = float(np.min(values)), float(np.max(values))
        width = max(hi - lo, 1e-3 * max(1.0, abs(lo), abs(hi)))
        lo, hi = lo - margin * width, hi + margin * width
        coeffs, err = _fit(node.function, degrees.get(node.function), (lo, hi), tolerance)
        node.op, node.coeffs, node.domain, node.error = "poly", coeffs, (lo, hi), err


def _fit(function, degree, domain, tolerance):
    """A fixed degree, or the first candidate within tolerance (else the last)."""
    if degree is not None:
        return approximate(function, degree, domain)
    grid = np.linspace(domain[0], domain[1], 1001)
    size = max(1e-12, float(np.max(np.abs(FUNCTIONS[function](grid)))))
    for degree in CANDIDATE_DEGREES:
        coeffs, err = approximate(function, degree, domain)
        if err <= tolerance * size:
            break
    return coeffs, err
