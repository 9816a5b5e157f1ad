"""The input ranges a model was calibrated on, and the client's check of each record.

An approximated activation is accurate only on the range its inputs took on
the calibration rows (see :mod:`securinfer.nn.activations`); a record far
outside it can push a polynomial to huge values, and in a batch those can
overflow the modulus and spoil the *other* records sharing the ciphertexts.
The server never sees a record, so the client checks each one before
encrypting it, against a per-feature box recorded at compile time:

    ``[lo_i - m * s_i, hi_i + m * s_i]`` with ``lo_i, hi_i`` the feature's
    minimum and maximum over the calibration rows, ``m`` the input margin
    (default 1.0) and ``s_i = max(hi_i - lo_i, median width of all
    features)`` (a feature that was constant in calibration, such as a blank
    image border, still gets a typical width).

``out_of_range`` chooses what a record outside the box does: ``"raise"``
(the default: :class:`OutOfRangeError` naming the record and the feature),
``"clip"`` (its values are clipped to the box; that record's answer is the
model's answer on the clipped record) or ``"ignore"`` (encrypted as is; the
answer for that record may be wrong, the approximations' safety margin
protects the other records only for values near the box).

Example:
    >>> import numpy as np
    >>> from securinfer.nn.ranges import InputRanges
    >>> r = InputRanges.from_calibration(np.array([[0.0, 10.0], [1.0, 20.0]]), margin=0.5)
    >>> r.low.tolist(), r.high.tolist()     # widths 1 and 10; the median 5.5 is the floor
    ([-2.75, 5.0], [3.75, 25.0])
    >>> r.check(np.array([[0.5, 30.0]]), "clip").tolist()
    [[0.5, 25.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from .errors import OutOfRangeError

__all__ = ["InputRanges", "POLICIES", "DEFAULT_INPUT_MARGIN"]

#: What a record outside the calibrated box does (see the module doc).
POLICIES = ("raise", "clip", "ignore")
#: Widening of each feature's calibrated range, in units of its width (see the module doc).
DEFAULT_INPUT_MARGIN = 1.0


@dataclass(frozen=True)
class InputRanges:
    """Per-feature bounds ``low <= x <= high`` that a client enforces."""

    low: np.ndarray
    high: np.ndarray
    margin: float = DEFAULT_INPUT_MARGIN

    @classmethod
    def from_calibration(cls, X, margin: float = DEFAULT_INPUT_MARGIN) -> "InputRanges":
        """The box of the calibration rows ``X`` (batch x features), widened."""
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin <= 100:
            raise ParameterError("input_margin must be a number in [0, 100]")
        X = np.asarray(X, dtype=np.float64)
        lo, hi = X.min(axis=0), X.max(axis=0)
        width = hi - lo
        typical = float(np.median(width))
        floor = max(typical, 1e-3 * max(1.0, float(np.max(np.abs(X)))))
        spread = np.maximum(width, floor)
        return cls(lo - margin * spread, hi + margin * spread, float(margin))

    @property
    def features(self) -> int:
        return int(self.low.size)

    def to_dict(self) -> dict:
        return {"low": self.low.tolist(), "high": self.high.tolist(), "margin": self.margin}

    @classmethod
    def from_dict(cls, d) -> "InputRanges":
        """Validated: two finite lists of one length with ``low <= high``."""
        try:
            low = np.asarray(d["low"], dtype=np.float64).reshape(-1)
            high = np.asarray(d["high"], dtype=np.float64).reshape(-1)
            margin = float(d.get("margin", DEFAULT_INPUT_MARGIN))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ParameterError(f"bad input ranges: {e}") from None
        if low.shape != high.shape or low.size < 1 or not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))) \
                or np.any(low > high):
            raise ParameterError("bad input ranges: low and high must be finite lists of one length, low <= high")
        return cls(low, high, margin)

    def check(self, X: np.ndarray, out_of_range: str = "raise") -> np.ndarray:
        """``X`` (batch x features) as it may be encrypted under the policy:
        unchanged, clipped, or an :class:`OutOfRangeError` for the first
        record outside the box (the message counts the others)."""
        if out_of_range not in POLICIES:
            raise ParameterError(f"out_of_range must be one of {POLICIES}, got {out_of_range!r}")
        if X.ndim != 2 or X.shape[1] != self.features:
            raise ParameterError(f"expected rows of {self.features} values, got shape {X.shape}")
        if out_of_range == "ignore":
            return X
        outside = (X < self.low) | (X > self.high)
        if not outside.any():
            return X
        if out_of_range == "clip":
            return np.clip(X, self.low, self.high)
        rows = np.flatnonzero(outside.any(axis=1))
        r = int(rows[0])
        f = int(np.flatnonzero(outside[r])[0])
        more = f"; {rows.size - 1} other record(s) too" if rows.size > 1 else ""
        raise OutOfRangeError(
            f"record {r}, feature {f}: value {X[r, f]:.6g} is outside the range the model was calibrated on "
            f"[{self.low[f]:.6g}, {self.high[f]:.6g}]{more}. Its approximated activations could overflow and "
            "spoil the other records of the batch: fix the record, or encrypt with out_of_range='clip' (clip it "
            "to the range) or 'ignore' (at your own risk)", record=r, feature=f)
