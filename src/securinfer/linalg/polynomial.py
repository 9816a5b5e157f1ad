"""Polynomials of encrypted vectors, and Chebyshev approximations of the
functions models need (sigmoid, tanh, ReLU, GELU, exp, 1/x, sign).

``polyval`` evaluates p(x) slot-wise in the Chebyshev basis with one of two
plans, both a recursive split p = q T_g + r (Chebyshev division) on giant
steps T_m, T_2m, T_4m, ...:

* ``"bsgs"`` (baby-step giant-step, Paterson-Stockmeyer): baby steps
  T_1..T_m, m a power of two near sqrt(degree); about
  2 sqrt(degree) + log2(degree) ciphertext products and
  ceil(log2(degree + 1)) + 1 levels (each leaf's scalar products sit on
  T_(m-1), itself ceil(log2 m) deep);
* ``"min_depth"``: m = 2, leaves c_0 + c_1 T_1: exactly ceil(log2(degree + 1))
  levels, the optimum, for about degree/2 + log2(degree) products;
* ``"auto"`` (default): ``"bsgs"`` when the ciphertext has the levels for it,
  else ``"min_depth"``.

A domain other than [-1, 1] costs one more level for the change of variable
t = (2x - a - b)/(b - a) (fold it into the layer before when you can).
``depth_of`` gives the exact count of a plan before anything is encrypted.
The power basis is converted to the Chebyshev basis first (numerically the
better basis for evaluation).

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.linalg.polynomial import polyval
    >>> ctx = si.Context.create(depth=5)
    >>> x = np.linspace(-1, 1, 8)
    >>> y = polyval(ctx.encrypt(x), [1.0, 0.0, -2.0, 0.5])          # 1 - 2x^2 + x^3/2
    >>> bool(np.allclose(ctx.decrypt(y), 1 - 2 * x**2 + 0.5 * x**3, atol=1e-4))
    True
"""

from __future__ import annotations

from typing import Callable, Sequence, Tuple, Union

import numpy as np
from numpy.polynomial import chebyshev as C

from ..errors import LevelError, ParameterError
from .combinations import combine
from .._validation import is_int

__all__ = ["polyval", "approximate", "FUNCTIONS", "depth_of"]


def _gelu(x):
    from math import erf, sqrt

    return np.array([0.5 * v * (1 + erf(v / sqrt(2))) for v in np.atleast_1d(x)])


#: Functions `approximate` knows by name (any callable works too).
FUNCTIONS = {
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "gelu": _gelu,
    "silu": lambda x: x / (1 + np.exp(-x)),
    "exp": np.exp,
    "inverse": lambda x: 1 / x,
    "sign": np.sign,
}


def approximate(function: Union[str, Callable], degree: int, domain: Tuple[float, float] = (-1.0, 1.0)):
    """Chebyshev interpolation of ``function`` on ``domain`` at ``degree``.

    Returns ``(coefficients, max_error)``: Chebyshev coefficients for
    ``polyval(ct, coefficients, basis="chebyshev", domain=domain)`` and the
    largest error against the function on 10,000 points of the domain.

    Example:
        >>> from securinfer.linalg.polynomial import approximate
        >>> coeffs, err = approximate("sigmoid", 15, (-8, 8))
        >>> len(coeffs), round(err, 4)
        (16, 0.0014)
    """
    fn = FUNCTIONS.get(function) if isinstance(function, str) else function
    if fn is None:
        raise ParameterError(f"unknown function {function!r}; known: {sorted(FUNCTIONS)} or any callable")
    a, b = _check_domain(domain)
    if not is_int(degree) or not 1 <= degree <= 1023:
        raise ParameterError("degree must be an int in [1, 1023]")
    if fn is FUNCTIONS["inverse"] and a <= 0 <= b:
        raise ParameterError("1/x needs a domain that excludes 0")

    def on_unit(t):
        return np.asarray(fn((t * (b - a) + a + b) / 2), dtype=np.float64)

    coeffs = C.chebinterpolate(on_unit, int(degree))
    grid = np.linspace(-1, 1, 10_000)
    err = float(np.max(np.abs(C.chebval(grid, coeffs) - on_unit(grid))))
    return coeffs, err


class _DepthProbe:
    """Stands in for a ciphertext to count the levels polyval's plan uses:
    products and non-integer scalar products take one level (as in the
    evaluator); additions take the deeper operand's."""

    def __init__(self, used=0):
        self.used = used

    @staticmethod
    def _of(other):
        return other.used if isinstance(other, _DepthProbe) else 0

    def __mul__(self, other):
        if isinstance(other, _DepthProbe):
            return _DepthProbe(max(self.used, other.used) + 1)
        return _DepthProbe(self.used + (0 if float(other).is_integer() else 1))

    __rmul__ = __mul__

    def __add__(self, other):
        return _DepthProbe(max(self.used, self._of(other)))

    __radd__ = __sub__ = __rsub__ = __add__

    def square(self):
        return _DepthProbe(self.used + 1)


_PLANS = ("auto", "bsgs", "min_depth")


def depth_of(coeffs: Sequence[float], basis: str = "power", domain: Tuple[float, float] = (-1.0, 1.0),
             plan: str = "bsgs") -> int:
    """Levels ``polyval`` uses for these coefficients with ``plan`` (``"bsgs"``
    or ``"min_depth"``), counted by running the plan on a probe.

    Example:
        >>> from securinfer.linalg.polynomial import depth_of
        >>> depth_of([0, 1, 0, 1]), depth_of([0] * 15 + [1]), depth_of([0] * 15 + [1], plan="min_depth")
        (2, 5, 4)
    """
    if plan not in ("bsgs", "min_depth"):
        raise ParameterError("plan must be 'bsgs' or 'min_depth'")
    return polyval(_DepthProbe(), coeffs, basis, domain, plan=plan).used


def polyval(ct, coeffs: Sequence[float], basis: str = "power", domain: Tuple[float, float] = (-1.0, 1.0),
            plan: str = "auto"):
    """p(x) for every slot of the encrypted vector ``ct``.

    ``coeffs[k]`` multiplies x^k (``basis="power"``) or T_k(t) (``basis="chebyshev"``,
    with t the image of x when ``domain=(a, b)`` is mapped onto [-1, 1]).
    ``plan``: ``"auto"``, ``"bsgs"`` or ``"min_depth"`` (module docstring).
    Raises ``LevelError`` before computing when ``ct`` has fewer levels than
    the plan needs (:func:`depth_of`).
    """
    c = np.asarray(coeffs, dtype=np.float64)
    if c.ndim != 1 or c.size == 0 or not np.all(np.isfinite(c)):
        raise ParameterError("coefficients must be a non-empty 1-D list of finite numbers")
    if basis not in ("power", "chebyshev"):
        raise ParameterError("basis must be 'power' or 'chebyshev'")
    if plan not in _PLANS:
        raise ParameterError(f"plan must be one of {_PLANS}")
    a, b = _check_domain(domain)
    if basis == "power":
        if (a, b) != (-1.0, 1.0):
            raise ParameterError("domain applies to the Chebyshev basis only")
        c = C.poly2cheb(c)
    c = np.trim_zeros(c, "b")
    if c.size == 0:
        return ct * 0
    degree = c.size - 1
    if degree == 0:
        return ct * 0 + float(c[0])
    if not isinstance(ct, _DepthProbe):
        def needs(p):
            return polyval(_DepthProbe(), c, "chebyshev", (a, b), plan=p).used

        if plan == "auto":
            plan = "bsgs" if ct.level >= needs("bsgs") else "min_depth"
        if ct.level < needs(plan):
            raise LevelError(f"this degree-{degree} polynomial needs {needs(plan)} levels ({plan} plan); "
                             f"the ciphertext has {ct.level}")
    t = ct if (a, b) == (-1.0, 1.0) else ct * (2.0 / (b - a)) - (a + b) / (b - a)
    m = 2
    if plan != "min_depth":
        while m * m < degree + 1:
            m *= 2
    powers = _chebyshev_powers(t, m)
    giants = {}
    g = m
    while g <= degree:
        giants[g] = powers[g] if g in powers else _double(giants[g // 2])
        g *= 2
    return _evaluate(c, powers, giants, m)


def _check_domain(domain):
    try:
        a, b = (float(v) for v in domain)
    except (TypeError, ValueError):
        raise ParameterError("domain must be a pair (a, b) of numbers") from None
    if not (np.isfinite(a) and np.isfinite(b) and a < b):
        raise ParameterError("domain must be finite with a < b")
    return a, b


def _double(tk):
    """T_2k = 2 T_k^2 - 1."""
    return 2 * tk.square() - 1


def _chebyshev_powers(t, m):
    """T_1 .. T_m, each at the least depth: T_2k = 2 T_k^2 - 1,
    T_(2k+1) = 2 T_(k+1) T_k - T_1."""
    powers = {1: t}
    for k in range(2, m + 1):
        half = k // 2
        if k % 2 == 0:
            powers[k] = _double(powers[half])
        else:
            powers[k] = 2 * (powers[half + 1] * powers[half]) - t
    return powers


def _evaluate(c, powers, giants, m):
    """Σ c_k T_k by Chebyshev division on the largest giant step below deg."""
    degree = c.size - 1
    if degree < m:
        return _baby(c, powers)
    g = max(k for k in giants if k <= degree)
    # p = T_g q + r with q = c_g + Σ_j 2 c_(g+j) T_j, r = Σ_(k<g) c_k T_k - Σ_j c_(g+j) T_(g-j).
    q = np.zeros(degree - g + 1)
    q[0] = c[g]
    q[1:] = 2 * c[g + 1 :]
    r = c[:g].copy()
    for j in range(1, degree - g + 1):
        r[g - j] -= c[g + j]
    high = _evaluate(np.trim_zeros(q, "b"), powers, giants, m)
    result = high * giants[g]
    r = np.trim_zeros(r, "b")
    if r.size:
        result = result + _evaluate(r, powers, giants, m)
    return result


def _baby(c, powers):
    """Σ_(k <= m) c_k T_k with scalar products (one level).

    The terms with non-integer coefficients go through ``linalg.combine``
    (one rescale for all of them instead of one each); integer coefficients
    take no level, as in the evaluator, and are added separately."""
    fractional = [k for k in range(1, c.size) if c[k] != 0 and not float(c[k]).is_integer()]
    integral = [k for k in range(1, c.size) if c[k] != 0 and float(c[k]).is_integer()]
    terms = [powers[k] * float(c[k]) for k in integral]
    if fractional:
        if isinstance(powers[1], _DepthProbe):
            terms += [powers[k] * float(c[k]) for k in fractional]
        else:
            terms += combine([powers[k] for k in fractional], c[fractional][None, :])
    if not terms:
        return powers[1] * 0.0 + float(c[0])
    out = terms[0]
    for term in terms[1:]:
        out = out + term
    return out + float(c[0]) if c[0] != 0 else out
