"""Reveal only the match: the server thresholds the encrypted scores and
returns bit-like values, so the client learns which templates matched and
(within the bound below) nothing else.

Once per query the server re-randomises the probe and keeps its real part
(:meth:`MatchRule.real_probe`: complex probes and crafted keys cannot cheat
the norm check). Per block of ``slots`` templates it then computes, all
under encryption:

1. x_j = (<probe, t_j> - threshold) / span: the scaled columns' products
   minus a constant (one level, as the scores mode). With the norm check
   (``norm_check=True``) the server also computes the probe's squared norm n
   (slot by slot, one product once per probe) and
   x_j = (<probe, t_j> - threshold * (1 + n) / 2) / span, the same for a
   unit probe: w_j = n - 1 - 2 <probe, t_j> / threshold (one level), then
   x_j = a w_j + 2 a with a = -threshold / (2 span) (one more level: w spans
   [-3, 3], where the step's first polynomial cannot absorb the affine map
   accurately);
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
slots (``leak_bound``): measured |r_j| + |e_j| <= 2^-21.0 with
:data:`MATCH_PARAMETERS` (one block; 2^-22.6 in :data:`UNCHECKED_MATCH_PARAMETERS`),
so at most 2^-21 nats per block of 16,384 templates and query.

The norm check (``norm_check=True``, the default): a client that scales its probe by lambda gets
``lambda * score`` and ``n = lambda^2``, so a template matches when
``score >= threshold * (lambda + 1 / lambda) / 2``, and that is at least
``threshold`` for every lambda > 0 (the arithmetic-geometric mean
inequality): scaling can only raise the threshold, never lower it, so the
templates an honest probe does not match stay unmatched (negative lambda
reaches only scores <= -threshold). What it still allows: a client that
searches lambda learns the scores of the templates its probe matches anyway.
Without the check a probe of norm lambda compares every score with
threshold / lambda, and searching lambda reads every score. The check costs
one level, hence the 38-bit primes of :data:`MATCH_PARAMETERS`.
The step is accurate for inputs in [-1, 1]: a probe of norm above about
1.06 pushes templates scoring near -1 outside, where the composite
diverges (docs/face.md, what is left).

Templates inside the band (|score - threshold| <
margin) are the exception: their value lies anywhere in [0, 1] and tells
roughly where in the band the score is. The rounding errs with probability
below 1e-15 per slot (0.5 is 8 sigma).

Example:
    >>> from securinfer.apps.face.match import MatchRule
    >>> MatchRule().levels              # score product + norm check + composite step for SFace's LFW margin
    20
    >>> MatchRule(threshold=0.7, margin=0.045).levels
    17
    >>> MatchRule(threshold=0.7, margin=0.045, norm_check=False).levels
    16
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ...errors import LevelError, ParameterError
from .threshold import StepPlan, design

#: The ring of the match mode: depth 20 (one product, the norm check's affine
#: map, 18 levels of step) at N = 32768, scale 2^38 (860 of the 881 bits the
#: 128-bit standard allows). The scale sets what the client could read beyond the
#: bit: the step's evaluation error is about 2^16 / scale (Chebyshev products near
#: +-1), measured 2^-21.0 here (one block); see ``leak_bound``.
MATCH_PARAMETERS = dict(poly_degree=32768, coeff_bits=[50] + [38] * 20 + [50], scale_bits=38, special_primes=1)

#: Without the norm check (``norm_check=False``): depth 19 at scale 2^40 (880 of
#: 881 bits), step error 2^-22.6, the probe-scaling attack open (docs/face.md).
UNCHECKED_MATCH_PARAMETERS = dict(poly_degree=32768, coeff_bits=[60] + [40] * 19 + [60], scale_bits=40,
                                  special_primes=1)

#: SFace on the 100 LFW crops scikit-image ships and their 400 same-person copies
#: (measured, docs/face.md): copies score at least 0.6748 with their original, with
#: anyone else at most 0.6640. The threshold sits in the middle of that gap; the
#: margin is half of it, so every LFW decision is outside the step's band.

DEFAULT_THRESHOLD = 0.6694
DEFAULT_MARGIN = 0.0053
DEFAULT_ANSWER_NOISE = 1.0 / 16


@dataclass(frozen=True)
class MatchRule:
    """Threshold, margin of certain decisions, the server's answer noise, and
    whether the server checks the probe's norm (one level more)."""

    threshold: float = DEFAULT_THRESHOLD
    margin: float = DEFAULT_MARGIN
    answer_noise: float = DEFAULT_ANSWER_NOISE
    norm_check: bool = True
    plan: StepPlan = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # Numbers only, kept as floats: a string (say from a saved file's JSON) passed
        # float() here but failed at the first query, inside the noise's arithmetic.
        for name in ("threshold", "margin", "answer_noise"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ParameterError(f"the match rule's {name} must be a real number, got {value!r}")
            object.__setattr__(self, name, float(value))
        if not isinstance(self.norm_check, bool):
            raise ParameterError("norm_check must be True or False")
        if self.norm_check and not (np.isfinite(float(self.threshold)) and float(self.threshold) > 0):
            raise ParameterError("the match threshold must be a cosine similarity in (0, 1) "
                                 "(the norm check relies on a positive threshold)")
        noise = float(self.answer_noise)
        if not (np.isfinite(noise) and 0 < noise <= 0.1):
            raise ParameterError("answer_noise must be in (0, 0.1] (the client rounds at 0.5)")
        object.__setattr__(self, "plan", design(self.threshold, self.margin))

    @property
    def levels(self) -> int:
        """Levels a probe needs: the score product, the norm check's affine map, the step."""
        return 1 + int(self.norm_check) + self.plan.levels

    def as_dict(self) -> dict:
        return {"threshold": float(self.threshold), "margin": float(self.margin),
                "answer_noise": float(self.answer_noise), "levels": self.levels,
                "norm_check": self.norm_check,
                "step": {"g_steps": self.plan.g_steps, "f_steps": self.plan.f_steps, "error": self.plan.error}}

    def real_probe(self, probe_cts) -> list:
        """``q = p + conj(p) = 2 Re(p)`` of each probe ciphertext p, after p is
        re-randomised (one key switch each, no level; needs the conjugation
        key, ``describe()["conjugation"]``).

        Real part: the server thresholds only the real part of the probe. A slot
        is a complex number, and a ciphertext product squares it without
        conjugating: for p = a + ib the probe's "squared norm" sum_d p_d^2 is
        |a|^2 - |b|^2 + 2i <a, b>, which a client can hold at 1 with |a| = lambda > 1
        (|b|^2 = lambda^2 - 1, b orthogonal to a): the probe-scaling attack the
        norm check closes, open again through the imaginary part.

        Re-randomised: p plus a fresh encryption of 0 (the server's randomness)
        before any key switch. Key switching is deterministic, and the keys are
        the client's: from ciphertexts it can predict (its own probe, and all
        the server derives from it before a template is mixed in) a client that
        crafts its conjugation, rotation or relinearisation key (adding P d_i to
        the b part of digit i: the switch then adds sum_i D_i d_i for the digits
        D_i it predicts) sets the switched result to values of its choosing
        (a complex "conjugate", or a squared norm of 1 for a probe scaled by
        lambda). Once c1 includes the server's u * a (a expanded from a seed:
        uniform), the digits are unpredictable and a crafted key only adds
        noise the client cannot predict (docs/face.md, "A hostile client")."""
        from ...errors import MissingKeyError

        context = probe_cts[0].context
        if not context.has_conjugation_key:
            raise MissingKeyError("reveal='match' takes the real part of the probe: the probe's context needs "
                                  "the conjugation key (context.generate_rotation_keys(steps=..., conjugation=True); "
                                  "face.create_context(description) makes it)")
        zero = np.zeros(context.slots)
        out = []
        for c in probe_cts:
            c = c + context.encrypt(zero).drop_to_level(c.level)
            out.append(c + c.conjugate())
        return out

    def column_scale(self) -> float:
        """Columns are multiplied by this so that their product with the real
        probe q = 2 Re(p) (:meth:`real_probe`) gives (score - threshold) / span
        plus :meth:`offset`; with the norm check, ``4 (-2 score / threshold)``,
        which plus :meth:`norm_term` is 4 w, and x = (a / 4) (4 w) + 2 a,
        a = -threshold / (2 span)."""
        return 2.0 * self._score_scale() if self.norm_check else self._score_scale() / 2.0

    def _score_scale(self) -> float:
        """The score's factor in w (norm check) or in x (without it)."""
        if self.norm_check:
            return -2.0 / float(self.threshold)
        return 1.0 / self.plan.span

    def offset(self) -> float:
        return -float(self.threshold) / self.plan.span

    def _affine(self):
        a = -float(self.threshold) / (2.0 * self.plan.span)
        return a, 2.0 * a

    def norm_term(self, real_probe_cts):
        """``4 (n - 1)`` from the real probe's 128 ciphertexts q = 2 Re(p) (each slot:
        4 times its probe's squared norm n, minus 4), one relinearised product;
        added to every block's product. The compact probe adds
        :meth:`squares` of its baby rotations to every giant step's partial
        product instead, and ``-4`` to the block's sum."""
        return self.squares(real_probe_cts) - 4.0

    @staticmethod
    def squares(cts):
        """``sum_i cts[i] ** 2``, relinearised once."""
        from ...linalg import sum_of_products

        return sum_of_products(cts, cts)

    def reference(self, scores, norm: float = 1.0) -> np.ndarray:
        """What :meth:`answer` approximates, before the noise, for scores of a
        probe whose squared norm is ``norm`` (numpy; the norm matters only with the check)."""
        a, b = self._affine()
        scores = np.asarray(scores, dtype=np.float64)
        if self.norm_check:
            y = a * ((norm - 1.0) + self._score_scale() * scores) + b
        else:
            y = scores * self._score_scale() + self.offset()
        for coeffs in self.plan.stages():
            y = np.polynomial.polynomial.polyval(y, coeffs)
        return y

    def prepare_probe(self, probe_cts):
        """``(real probe, level)``: the probe's level checked, its real part
        taken (:meth:`real_probe`), and the level checked again (a probe whose
        scale is not its level's, crafted bytes, spends a level there)."""
        self.check_level(min(c.level for c in probe_cts))
        real = self.real_probe(probe_cts)
        level = min(c.level for c in real)
        self.check_level(level)
        return real, level

    def columns_extra(self, real_probe_cts):
        """What a block's product with the 128-ciphertext probe needs added
        before :meth:`answer`: 4 (n - 1) with the norm check, else the offset."""
        return self.norm_term(real_probe_cts) if self.norm_check else self.offset()

    def compact_terms(self, babies):
        """For the compact probe: ``(add, extra)``, the squares of its baby
        rotations that join every giant step's partial product (norm check,
        else None), and the constant each block's product then needs."""
        if self.norm_check:
            return self.squares(babies), -4.0
        return None, self.offset()

    def check_level(self, level: int) -> None:
        if level < self.levels:
            raise LevelError(f"reveal='match' needs probe ciphertexts with {self.levels} levels "
                             f"(score and threshold); these have {level}")

    def answer(self, ct, noise_context=None):
        """Step then noise: the bit-like ciphertext of a block from its x
        ciphertext (the columns' product with the real probe plus :meth:`offset`) or,
        with the norm check, its 4 w ciphertext (the product plus :meth:`norm_term`)."""
        if self.norm_check:
            a, b = self._affine()
            ct = ct * (a / 4.0) + b
        bits = self.plan.evaluate(ct)
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
