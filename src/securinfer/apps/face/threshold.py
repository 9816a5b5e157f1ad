"""A threshold on encrypted scores: composite polynomials that approximate
the step ``s >= threshold`` (match) slot by slot.

A single polynomial needs a high degree to approximate a step sharply; a
composition of small odd polynomials does it in few levels (Cheon, Kim, Kim,
Lee and Lee, "Efficient homomorphic comparison methods with optimal
complexity", Asiacrypt 2020). Two degree-7 polynomials of that paper are used:

* ``g`` pushes small inputs away from 0 (slope about 4.48 at 0) and keeps
  [-1, 1] inside [-1, 1];
* ``f`` is flat at +-1 (error squared, roughly, at each application).

The score s in [-1, 1] is first mapped to x = (s - threshold) / (1 + |threshold|),
inside [-1, 1]; then ``g`` ``g_steps`` times and ``f`` ``f_steps`` times
approximate sign(x), and the last ``f`` is folded with (1 + y) / 2 so the
result is a bit-like value: within ``error`` of 1 for ``s >= threshold + margin``
and of 0 for ``s <= threshold - margin``. Inside the band the result lies in
[0, 1] and is not a decision. Each degree-7 stage takes 3 levels, the
minimum depth, in the Chebyshev basis (:func:`odd_degree7`): 5 ciphertext
products but 4 relinearisations, the last two products summed before one
(the generic :func:`~securinfer.linalg.polynomial.polyval` relinearises each of
its 5; the relinearisation's key switch is most of a product's cost at
N = 32768: measured 6 % less for the whole step, same error;
``benchmarks/face_match_profile.py``).

:func:`design` picks the fewest stages for a margin and error, checked on a
dense grid in numpy; :meth:`StepPlan.evaluate` runs the plan on a ciphertext.

Example:
    >>> from securinfer.apps.face.threshold import design
    >>> plan = design(threshold=0.7, margin=0.045)
    >>> (plan.g_steps, plan.f_steps, plan.levels)
    (2, 3, 15)
    >>> import numpy as np
    >>> bool(plan.error <= 2.0 ** -20)
    True
    >>> np.round(plan.reference(np.array([0.2, 0.65, 0.75, 0.99])), 6).tolist()
    [0.0, 0.0, 1.0, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import ParameterError

# Odd degree-7 polynomials (power basis, x^1 .. x^7 at odd indices) of Cheon et al. 2020.
G_COEFFS = np.array([0, 4589, 0, -16577, 0, 25614, 0, -12860], dtype=np.float64) / 1024
F_COEFFS = np.array([0, 35, 0, -35, 0, 21, 0, -5], dtype=np.float64) / 16
LEVELS_PER_STAGE = 3
MAX_STAGES = 8


def _apply(coeffs, x):
    return np.polynomial.polynomial.polyval(x, coeffs)


@dataclass(frozen=True)
class StepPlan:
    """The composite step for one threshold and margin (see the module docstring)."""

    threshold: float
    margin: float
    g_steps: int
    f_steps: int
    error: float        # max |result - bit| outside the band, on a dense grid

    @property
    def levels(self) -> int:
        """Levels the step takes on top of the score."""
        return LEVELS_PER_STAGE * (self.g_steps + self.f_steps)

    @property
    def span(self) -> float:
        """x = (s - threshold) / span keeps every score in [-1, 1] inside [-1, 1]."""
        return 1.0 + abs(self.threshold)

    def stages(self):
        """The coefficients of each stage of the composite step, in order."""
        last = F_COEFFS / 2
        last[0] += 0.5                      # (1 + f(y)) / 2: a bit, not a sign
        return [G_COEFFS] * self.g_steps + [F_COEFFS] * (self.f_steps - 1) + [last]

    def reference(self, scores) -> np.ndarray:
        """The plan in float64 (what the encrypted evaluation approximates)."""
        y = (np.asarray(scores, dtype=np.float64) - self.threshold) / self.span
        for coeffs in self.stages():
            y = _apply(coeffs, y)
        return y

    def evaluate(self, x_ct):
        """The bit-like result from an encrypted x = (s - threshold) / span
        (the caller folds the affine map into the score's product)."""
        y = x_ct
        for coeffs in self.stages():
            y = odd_degree7(y, coeffs)
        return y


def odd_degree7(x_ct, power_coeffs):
    """p(x) for p = c0 + (odd terms of degree <= 7) (power basis), in 3 levels
    with 4 relinearisations. In the Chebyshev basis p = c0 + sum_k c_k T_k and,
    dividing by T4 (T5 = 2 T1 T4 - T3, T7 = 2 T3 T4 - T1, T3 = T1 (2 T2 - 1)):

        p = c0 + x (r1 - r3) + (2 r3 x) T2 + [x (q1 - q3) + (2 q3 x) T2] T4

    with r1 = c1 - c7, r3 = c3 - c5, q1 = 2 c5, q3 = 2 c7; the two products of
    the last level are summed before their one relinearisation
    (:func:`~securinfer.linalg.sum_of_products`).

    Example:
        >>> import numpy as np, securinfer as si
        >>> from securinfer.apps.face.threshold import odd_degree7, F_COEFFS
        >>> ctx = si.Context.create(depth=3)
        >>> x = np.linspace(-1, 1, 5)
        >>> y = odd_degree7(ctx.encrypt(x), F_COEFFS)
        >>> bool(np.allclose(ctx.decrypt(y), np.polynomial.polynomial.polyval(x, F_COEFFS), atol=1e-4)), y.level
        (True, 0)
    """
    from numpy.polynomial import chebyshev

    from ...linalg import combine, sum_of_products

    c = np.zeros(8)
    cheb = chebyshev.poly2cheb(np.asarray(power_coeffs, dtype=np.float64))
    c[: len(cheb)] = cheb
    if len(cheb) > 8 or np.any(c[2::2] != 0):
        raise ParameterError("odd_degree7 takes a constant plus odd terms of degree at most 7")
    r1, r3, q1, q3 = c[1] - c[7], c[3] - c[5], 2 * c[5], 2 * c[7]
    # Every sum below adds ciphertexts of one level, each on that level's canonical
    # scale: the multiples of x and T2 land there by products with scalars, one
    # rescale each whatever the levels skipped (combine(level=): x is cut to the
    # primes it needs first), never by the core's scale alignment (a level of its own).
    level = x_ct.level
    t2 = (x_ct * 2.0) * x_ct - 1.0                       # level - 1 (2 x: an integer, no level)
    (q3_x,) = combine([x_ct], [[2 * q3]])                                                     # level - 1
    q_low, r3_x = combine([x_ct], [[q1 - q3], [2 * r3]], level=level - 2)                     # level - 2
    t4 = (t2 * 2.0) * t2 - 1.0                           # level - 2
    (t2_low,) = combine([t2], [[1.0]])                                                        # level - 2
    q = q3_x * t2 + q_low
    (r_low,) = combine([x_ct], [[r1 - r3]], level=level - 3)                                  # level - 3
    out = sum_of_products([r3_x, q], [t2_low, t4]) + r_low                                   # level - 3
    return out + float(c[0]) if c[0] else out


def design(threshold: float, margin: float, error: float = 2.0 ** -20) -> StepPlan:
    """The fewest composite stages such that every score at least ``margin``
    from ``threshold`` gives a result within ``error`` of its bit.

    ``ParameterError`` for a threshold outside (-1, 1), a margin outside
    (0, 1) or when no plan of at most 8 stages reaches ``error``.
    """
    threshold, margin, error = float(threshold), float(margin), float(error)
    if not (np.isfinite(threshold) and -1 < threshold < 1):
        raise ParameterError("the match threshold must be a cosine similarity in (-1, 1)")
    if not (np.isfinite(margin) and 0 < margin < 1):
        raise ParameterError("the margin must be in (0, 1)")
    if not (np.isfinite(error) and 0 < error < 0.25):
        raise ParameterError("the error must be in (0, 0.25)")
    # Worst cases are the band's edges; the grid covers everything outside the band on [-1, 1].
    lo, hi = threshold - margin, threshold + margin
    above = np.linspace(min(hi, 1.0), 1.0, 20001)
    below = np.linspace(-1.0, max(lo, -1.0), 20001)
    best = None
    for stages in range(1, MAX_STAGES + 1):
        for g_steps in range(stages, -1, -1):
            f_steps = stages - g_steps
            if f_steps < 1:
                continue
            plan = StepPlan(threshold, margin, g_steps, f_steps, 0.0)
            err = 0.0
            if hi <= 1.0:
                err = max(err, float(np.max(np.abs(plan.reference(above) - 1.0))))
            if lo >= -1.0:
                err = max(err, float(np.max(np.abs(plan.reference(below)))))
            if err <= error and (best is None or err < best.error):
                best = StepPlan(threshold, margin, g_steps, f_steps, err)
        if best is not None:
            return best
    raise ParameterError(f"no composite step of at most {MAX_STAGES} stages separates scores "
                         f"{margin} from {threshold} to within {error}; widen the margin")

