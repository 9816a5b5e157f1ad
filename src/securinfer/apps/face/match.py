"""Reveal only the match: the server thresholds the encrypted scores and
returns bit-like values, so the client learns which templates matched and
(within the bound below) nothing else.

Per block of ``slots`` templates the server computes, all under encryption:

1. x_j = (<probe, t_j> - threshold) / span: the scaled columns' products
   minus a constant (one level, as the scores mode);
2. the composite step of :mod:`~securinfer.apps.face.threshold` (18 levels for
   SFace's margin on LFW): b_j within 2^-20 of 1 when the score is at least
   ``threshold + margin``, of 0 when at most ``threshold - margin``;
3. plus a fresh encryption of complex Gaussian noise of standard deviation
   ``answer_noise`` (default 1/16) in every slot. This re-randomises the
   ciphertext (its second component becomes a fresh RLWE sample, so the
   ciphertext says nothing beyond its decryption) and floods what the
   decryption could say beyond the bits: the step's residue r_j and the CKKS
   error e_j, both functions of the gallery.

What the client's decryption tells it about template j beyond the bit, as a
bound: the slot is b_j + r_j + e_j + u_j with u_j ~ N(0, sigma^2) in each of
its real and imaginary parts, so against b_j + u_j the KL divergence is at
most (|r_j| + |e_j|)^2 / (2 sigma^2) per slot, summed over the answer's
slots (``leak_bound``): measured |r_j| + |e_j| <= 2^-22.6 with
:data:`MATCH_PARAMETERS` (one block), so at most 2^-24 nats per block of 16,384
templates and query. Templates inside the band (|score - threshold| <
margin) are the exception: their value lies anywhere in [0, 1] and tells
roughly where in the band the score is. The rounding errs with probability
below 1e-15 per slot (0.5 is 8 sigma).

Example:
    >>> from securinfer.apps.face.match import MatchRule
    >>> MatchRule().levels              # score product + composite step for SFace's LFW margin
    19
    >>> MatchRule(threshold=0.7, margin=0.045).levels
    16
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ...errors import LevelError, ParameterError
from .threshold import StepPlan, design

#: The ring of the match mode: depth 19 (one product, 18 levels of step) at
#: N = 32768, scale 2^40 (880 of the 881 bits the 128-bit standard allows).
#: The scale sets what the client could read beyond the bit: the step's
#: evaluation error is about 2^16 / scale (Chebyshev products near +-1), measured
#: 2^-22.6 here against 2^-8 at N = 16384 with 24-bit primes (the most that ring's
#: 438 bits allow for 16 levels); see ``leak_bound``.
MATCH_PARAMETERS = dict(poly_degree=32768, coeff_bits=[60] + [40] * 19 + [60], scale_bits=40, special_primes=1)

#: SFace on the 100 LFW crops scikit-image ships and their 400 same-person copies
#: (measured, docs/face.md): copies score at least 0.6748 with their original, with
#: anyone else at most 0.6640. The threshold sits in the middle of that gap; the
#: margin is half of it, so every LFW decision is outside the step's band.
DEFAULT_THRESHOLD = 0.6694
DEFAULT_MARGIN = 0.0053
DEFAULT_ANSWER_NOISE = 1.0 / 16


@dataclass(frozen=True)
class MatchRule:
    """Threshold, margin of certain decisions, and the server's answer noise."""

    threshold: float = DEFAULT_THRESHOLD
    margin: float = DEFAULT_MARGIN
    answer_noise: float = DEFAULT_ANSWER_NOISE
    plan: StepPlan = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        noise = float(self.answer_noise)
        if not (np.isfinite(noise) and 0 < noise <= 0.1):
            raise ParameterError("answer_noise must be in (0, 0.1] (the client rounds at 0.5)")
        object.__setattr__(self, "plan", design(self.threshold, self.margin))

    @property
    def levels(self) -> int:
        """Levels a probe needs: the score product and the step."""
        return 1 + self.plan.levels

    def as_dict(self) -> dict:
        return {"threshold": float(self.threshold), "margin": float(self.margin),
                "answer_noise": float(self.answer_noise), "levels": self.levels,
                "step": {"g_steps": self.plan.g_steps, "f_steps": self.plan.f_steps, "error": self.plan.error}}

    def column_scale(self) -> float:
        """Columns are multiplied by this so the product gives (score - threshold) / span plus a constant."""
        return 1.0 / self.plan.span

    def offset(self) -> float:
        return -float(self.threshold) / self.plan.span

    def check_level(self, level: int) -> None:
        if level < self.levels:
            raise LevelError(f"reveal='match' needs probe ciphertexts with {self.levels} levels "
                             f"(score and threshold); these have {level}")

    def answer(self, x_ct, noise_context=None):
        """Step then noise: the bit-like ciphertext of a block from its x ciphertext."""
        bits = self.plan.evaluate(x_ct)
        return add_answer_noise(bits, self.answer_noise, noise_context)


def add_answer_noise(ct, sigma: float, context=None):
    """``ct`` plus a fresh encryption of complex Gaussian noise (sd ``sigma``
    in real and imaginary parts of every slot), brought to ``ct``'s level."""
    ctx = ct.context if context is None else context
    noise = secure_normal(2 * ct.size, sigma)
    fresh = ctx.encrypt(noise[: ct.size] + 1j * noise[ct.size:]).drop_to_level(ct.level)
    return ct + fresh


def secure_normal(count: int, sigma: float) -> np.ndarray:
    """``count`` Gaussian samples of sd ``sigma`` from the OS CSPRNG (Box-Muller on
    53-bit uniforms from ``os.urandom``). The noise must stay unpredictable to the
    client: a client that could predict it (numpy's PCG64 state can be recovered
    from its outputs) would subtract it and read the residues it floods."""
    half = (count + 1) // 2
    words = np.frombuffer(os.urandom(16 * half), dtype=np.uint64).reshape(2, half) >> np.uint64(11)
    u1 = (words[0].astype(np.float64) + 1.0) / 2.0 ** 53          # in (0, 1]: log is finite
    u2 = words[1].astype(np.float64) / 2.0 ** 53
    radius = np.sqrt(-2.0 * np.log(u1)) * sigma
    return np.concatenate([radius * np.cos(2 * np.pi * u2), radius * np.sin(2 * np.pi * u2)])[:count]


def leak_bound(residue: float, error: float, sigma: float, slots: int) -> float:
    """KL bound (nats) on what an answer of ``slots`` values says beyond its bits,
    for step residue ``residue``, CKKS error ``error`` and noise ``sigma``."""
    return float(slots * (residue + error) ** 2 / (2 * sigma ** 2))


def decode_bits(values: np.ndarray) -> np.ndarray:
    """Decrypted bit-like values to booleans (match where above 1/2)."""
    return np.asarray(values).real > 0.5
