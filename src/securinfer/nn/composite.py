"""ReLU that stays ReLU: ``relu(x) = x (1 + sign(x)) / 2`` with ``sign`` a
composition of low-degree odd polynomials (Cheon et al., ASIACRYPT 2020;
Lee et al. use minimax compositions alike).

A single Chebyshev fit of ReLU on ``[-B, B]`` has an error that shrinks
only like ``B / degree`` (the kink); a composition of ``k`` degree-7
polynomials has degree ``7^k`` for ``3k`` levels (each stage evaluated with
the ``"min_depth"`` plan), ``t = x / B`` one (a scalar product of its own,
so that no node needs more than 3 levels between bootstraps, and ``t`` keeps
the precision of ``x`` divided by ``B``: folding ``1 / B`` into the layer
before would cost ``log2 B`` bits), the product one more: 14 levels for four
stages, 17 for five. On ``t = x / B`` the
stages are Cheon et al.'s ``g_3`` (slope 4.48 at 0: it pushes small
inputs away from 0) then ``f_3(t) = (35 t - 35 t^3 + 21 t^5 - 5 t^7) / 16``
(the sign's fixed points at +-1 are superattracting: the error is raised to
the fourth power per stage). Each stage maps ``[-1, 1]`` into ``[-1, 1]``,
so ``|s| <= 1`` and ``|relu(x) - x (1 + s(x)) / 2| <= |x|``: inside the
band ``|x| < eps B`` the error is below ``eps B`` whatever the stages; outside
it, it is ``|x| |sign(x) - s(x)| / 2``, measured on a grid
(:func:`composite_error`) and printed by ``summary()``.

Example:
    >>> import numpy as np
    >>> from securinfer.nn.composite import composite_sign, STAGES
    >>> t = np.linspace(-1, 1, 2001)
    >>> s = composite_sign(t, STAGES[5])
    >>> bool(np.all(np.abs(s) <= 1 + 1e-12)), float(np.abs(s - np.sign(t))[np.abs(t) >= 2 ** -5].max()) < 2e-4
    (True, True)
"""

from __future__ import annotations

from math import comb
from typing import Dict, List, Tuple

import numpy as np
from numpy.polynomial import chebyshev as C
from numpy.polynomial import polynomial as P

from ..errors import ParameterError
from .graph import Graph, Node

__all__ = ["G3", "F3", "STAGES", "composite_sign", "composite_error", "expand_composites"]

#: Cheon et al.'s g_3 (coefficients / 2^10): odd, maps [-1, 1] into [-1, 1], slope 4.48 at 0.
G3 = np.array([0, 4589, 0, -16577, 0, 25614, 0, -12860]) / 1024.0


def _f(n: int) -> np.ndarray:
    """``f_n(t) = sum_{i<=n} binom(2i, i) / 4^i t (1 - t^2)^i`` (power basis)."""
    out = np.zeros(2 * n + 2)
    for i in range(n + 1):
        term = P.polymul([0, 1], P.polypow([1, 0, -1], i)) * comb(2 * i, i) / 4 ** i
        out[:term.size] += term
    return out


F3 = _f(3)
#: Stages for a band of ``2^-b`` of the range (``b`` = key): sign error outside it
#: 1.4e-4 (b = 5, 14 levels in all), 1.1e-7 (b = 6), 1.8e-5 (b = 7; both 17 levels).
STAGES: Dict[int, Tuple[np.ndarray, ...]] = {5: (G3, G3, F3, F3), 6: (G3, G3, G3, F3, F3), 7: (G3, G3, G3, F3, F3)}


def composite_sign(t, stages) -> np.ndarray:
    """The composition on ``t`` (numpy), first stage first."""
    y = np.asarray(t, dtype=np.float64)
    for p in stages:
        y = P.polyval(y, p)
    return y


def composite_error(bound: float, band_bits: int, points: int = 20_001) -> Tuple[float, float]:
    """``(max error outside the band, max error inside)`` of
    ``x (1 + s(x / bound)) / 2`` against ReLU on ``[-bound, bound]``,
    the band being ``|x| < 2^-band_bits bound``; on a grid of ``points``
    (and the band's edges)."""
    x = np.concatenate([np.linspace(-bound, bound, points), [2.0 ** -band_bits * bound * v for v in (-1, 1)]])
    approx = x * (1 + composite_sign(x / bound, STAGES[band_bits])) / 2
    err = np.abs(approx - np.maximum(x, 0))
    inside = np.abs(x) < 2.0 ** -band_bits * bound
    return float(err[~inside].max()), float(err[inside].max(initial=0.0))


def expand_composites(graph: Graph) -> Graph:
    """Each ``poly`` node marked ``extra["composite"]`` (its first stage, on
    the domain ``[-B, B]``) becomes the chain of stages and one product with
    its input; every later reader reads the product. Returns a new graph."""
    out = Graph(graph.input_size)
    out.input_gather = graph.input_gather
    where: List[int] = []                       # old index -> new index

    def ref(r):
        return r if r < 0 else where[r]

    for node in graph.nodes:
        spec = node.extra.get("composite")
        new = Node(node.op, [ref(r) for r in node.inputs], node.size, node.name, node.weight, node.bias, node.coeffs,
                   node.domain, node.function, node.error, dict(node.extra))
        if spec is None:
            out.nodes.append(new)
            where.append(len(out.nodes) - 1)
            continue
        stages = STAGES[int(spec["band_bits"])]
        if node.op != "poly":
            raise ParameterError(f"{node.name}: a composite ReLU must start with its first stage")
        src = new.inputs[0]
        t = out.affine(src, np.eye(node.size) / float(spec["bound"]), name=f"{node.name}: x / B")
        new.inputs, new.domain = [t], (-1.0, 1.0)
        new.function, new.error = "", 0.0        # a stage, not an approximation of its own
        new.extra = {"stage": 1, "plan": "min_depth"}     # degree 7 in 3 levels (4 with the domain)
        out.nodes.append(new)
        last = len(out.nodes) - 1
        for k, p in enumerate(stages[1:], start=2):
            q = (P.polyadd([1.0], p) / 2) if k == len(stages) else p       # the last stage gives (1 + s) / 2
            last = out.poly(last, C.poly2cheb(q), (-1.0, 1.0), "chebyshev", name=f"{node.name}: stage {k}")
            out.nodes[last].extra = {"stage": k, "plan": "min_depth"}
        product = out.mul(src, last, name=f"{node.name}: x (1 + s) / 2")
        out.nodes[product].function = "relu"
        out.nodes[product].error = max(spec["error_outside"], spec["error_inside"])
        out.nodes[product].extra = dict(spec)
        where.append(product)
    return out
