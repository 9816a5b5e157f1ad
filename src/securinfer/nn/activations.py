"""Activations as polynomials fitted on calibrated input ranges, with a safety margin.

CKKS evaluates only additions and products, so ReLU, SiLU, GELU, sigmoid and
tanh become Chebyshev interpolants (:func:`securinfer.linalg.polynomial.approximate`).
The plan is run on the calibration rows with the exact functions and each
activation's input range ``[lo, hi]`` is recorded. Three intervals follow:

* the **accurate** range ``A = [lo, hi]`` widened by ``margin * (hi - lo)``
  on each side (default 20%): the degree is the smallest of 7, 15, 31, 63,
  127 (each uses its depth fully) whose error on ``A`` is within
  ``tolerance`` times the function's largest value there, unless ``degrees``
  fixes it;
* the **bounded** range ``F = A`` widened by ``safety * width(A)`` on each
  side (default 25%): the polynomial is interpolated on ``F``, so its values
  there stay within its interpolation error of the function's (measured and
  recorded as ``extra["bound"]`` against ``extra["function_max"]``). Outside
  ``F`` a polynomial grows fast (degree 63 reaches ~1e6 times the function
  5% of the width beyond its interval), which is why the client checks inputs;
* the **interval bound** of the activation's inputs over the client's input
  box (:mod:`securinfer.nn.intervals`), when ``box`` is given:
  ``extra["box_inside"]`` says whether every record that passes the client's
  check provably stays in ``F``; ``cover_input_box=True`` widens ``F`` to
  cover it (a proof for every such record, at the cost of a larger domain and
  so a higher degree or a larger error).

Example:
    >>> import numpy as np
    >>> from securinfer.nn.graph import Graph
    >>> from securinfer.nn.activations import calibrate
    >>> g = Graph(1); _ = g.act(-1, "tanh", name="tanh")
    >>> calibrate(g, np.linspace(-2, 2, 50).reshape(-1, 1), degrees={"tanh": 15})
    >>> node = g.nodes[0]
    >>> node.op, node.extra["accurate_on"], [round(v, 6) for v in node.domain], bool(node.error < 1e-2)
    ('poly', [-2.8, 2.8], [-4.2, 4.2], True)
    >>> bool(node.extra["bound"] <= 1.01 * node.extra["function_max"])   # bounded on the whole fitted range
    True
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
from numpy.polynomial import chebyshev as C

from ..errors import ParameterError
from ..linalg.polynomial import FUNCTIONS, approximate
from .graph import Graph
from .intervals import bounds

__all__ = ["CANDIDATE_DEGREES", "DEFAULT_MARGIN", "DEFAULT_SAFETY", "DEFAULT_TOLERANCE", "calibrate", "bound_on"]

#: Degrees tried in turn (2^k - 1 uses its depth fully: degree 15 costs 5 levels, 127 costs 8).
CANDIDATE_DEGREES = (7, 15, 31, 63, 127)
#: Fraction of the calibrated range added on each side: where the approximation is accurate.
DEFAULT_MARGIN = 0.2
#: Fraction of the accurate range added on each side: where the polynomial's values stay bounded.
DEFAULT_SAFETY = 0.25
#: Largest approximation error, relative to the function's largest magnitude on the range.
DEFAULT_TOLERANCE = 0.01


def _number(value, name, top):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= top:
        raise ParameterError(f"{name} must be a number in [0, {top}]")


def calibrate(graph: Graph, X, *, margin: float = DEFAULT_MARGIN, degrees: Optional[Dict[str, int]] = None,
              tolerance: float = DEFAULT_TOLERANCE, safety: float = DEFAULT_SAFETY,
              box: Optional[Tuple[np.ndarray, np.ndarray]] = None, cover_input_box: bool = False,
              relu: str = "chebyshev", relu_band_bits: int = 7) -> None:
    """Replaces every ``act`` node of ``graph`` by its polynomial, in place
    (see the module doc; ``box``: the client's ``(low, high)`` input bounds).
    ``relu="composite"``: each ReLU becomes the first stage of a composite
    sign on ``[-B, B]`` (B the larger end of its bounded range) accurate
    outside the band ``|x| < 2^-relu_band_bits B``, marked for
    :func:`securinfer.nn.composite.expand_composites`."""
    from .composite import STAGES

    if relu not in ("chebyshev", "composite"):
        raise ParameterError("relu must be 'chebyshev' or 'composite'")
    if relu_band_bits not in STAGES or isinstance(relu_band_bits, bool):
        raise ParameterError(f"relu_band_bits must be one of {sorted(STAGES)}")
    todo = [i for i, n in enumerate(graph.nodes) if n.op == "act"]
    if not todo:
        return
    if X is None:
        names = ", ".join(f"{graph.nodes[i].name} ({graph.nodes[i].function})" for i in todo)
        raise ParameterError(f"calibration=X (rows of typical inputs) is needed to approximate {names}")
    _number(margin, "margin", 10)
    _number(safety, "safety", 10)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1 or X.ndim > 2:
        X = X.reshape(X.shape[0] if X.ndim > 1 else 1, -1)
    if X.shape[0] < 1 or not np.all(np.isfinite(X)):
        raise ParameterError("calibration rows must be finite and non-empty")
    if not (isinstance(tolerance, (int, float)) and tolerance > 0):
        raise ParameterError("tolerance must be a positive number")
    if cover_input_box and box is None:
        raise ParameterError("cover_input_box=True needs the input box (calibration rows)")
    degrees = dict(degrees or {})
    trace: list = []
    graph.run(X, trace=trace)
    for i in todo:
        node = graph.nodes[i]
        src = node.inputs[0]
        values = X if src == -1 else trace[src]
        lo, hi = float(np.min(values)), float(np.max(values))
        width = max(hi - lo, 1e-3 * max(1.0, abs(lo), abs(hi)))
        accurate = (lo - margin * width, hi + margin * width)
        wide = accurate[1] - accurate[0]
        fitted = (accurate[0] - safety * wide, accurate[1] + safety * wide)
        box_range = None
        if box is not None:
            if src == -1:
                box_range = (float(np.min(box[0])), float(np.max(box[1])))
            else:
                lows, highs, _ = bounds(graph, box[0], box[1], upto=src)
                box_range = (float(np.min(lows[src])), float(np.max(highs[src])))
            if cover_input_box:
                fitted = (min(fitted[0], box_range[0]), max(fitted[1], box_range[1]))
        if relu == "composite" and node.function == "relu":
            _composite_first_stage(node, lo, hi, accurate, fitted, box_range, relu_band_bits)
            continue
        coeffs, err = _fit(node.function, degrees.get(node.function), fitted, accurate, tolerance)
        bound, function_max = bound_on(node.function, coeffs, fitted)
        node.op, node.coeffs, node.domain, node.error = "poly", coeffs, fitted, err
        node.extra.update({"calibrated_range": [lo, hi], "accurate_on": [*accurate], "bounded_on": [*fitted],
                           "bound": bound, "function_max": function_max,
                           "box_range": None if box_range is None else [*box_range],
                           "box_inside": None if box_range is None else
                           bool(fitted[0] <= box_range[0] and box_range[1] <= fitted[1])})


def _composite_first_stage(node, lo, hi, accurate, fitted, box_range, band_bits) -> None:
    from .composite import G3, composite_error

    bound = float(max(abs(fitted[0]), abs(fitted[1])))
    outside, inside = composite_error(bound, band_bits)
    node.op, node.coeffs, node.domain, node.error = "poly", C.poly2cheb(G3), (-bound, bound), max(outside, inside)
    node.extra.update({"calibrated_range": [lo, hi], "accurate_on": [*accurate], "bounded_on": [-bound, bound],
                       "composite": {"band_bits": band_bits, "bound": bound, "band": 2.0 ** -band_bits * bound,
                                     "error_outside": outside, "error_inside": inside},
                       "box_range": None if box_range is None else [*box_range],
                       "box_inside": None if box_range is None else
                       bool(-bound <= box_range[0] and box_range[1] <= bound)})


def bound_on(function: str, coeffs, domain) -> Tuple[float, float]:
    """``(max |p|, max |f|)`` on ``domain`` (the polynomial's own interval),
    on a grid of 10,001 points."""
    a, b = domain
    grid = np.linspace(a, b, 10_001)
    p = C.chebval((2 * grid - a - b) / (b - a), coeffs)
    return float(np.max(np.abs(p))), float(np.max(np.abs(FUNCTIONS[function](grid))))


def _error_on(function, coeffs, fitted, accurate):
    a, b = fitted
    grid = np.linspace(accurate[0], accurate[1], 10_000)
    return float(np.max(np.abs(C.chebval((2 * grid - a - b) / (b - a), coeffs) - FUNCTIONS[function](grid))))


def _fit(function, degree, fitted, accurate, tolerance):
    """Interpolated on ``fitted``; a fixed degree, or the first candidate whose
    error on ``accurate`` is within tolerance (else the last)."""
    if degree is not None:
        coeffs, _ = approximate(function, degree, fitted)
        return coeffs, _error_on(function, coeffs, fitted, accurate)
    grid = np.linspace(accurate[0], accurate[1], 1001)
    size = max(1e-12, float(np.max(np.abs(FUNCTIONS[function](grid)))))
    for degree in CANDIDATE_DEGREES:
        coeffs, _ = approximate(function, degree, fitted)
        err = _error_on(function, coeffs, fitted, accurate)
        if err <= tolerance * size:
            break
    return coeffs, err
