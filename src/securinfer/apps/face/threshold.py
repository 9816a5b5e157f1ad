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
[0, 1] and is not a decision. Each degree-7 stage takes 3 levels (the
minimum-depth plan of :func:`~securinfer.linalg.polynomial.polyval`).

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
        from ...linalg.polynomial import polyval

        y = x_ct
        for coeffs in self.stages():
            y = polyval(y, coeffs, plan="min_depth")
        return y


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

