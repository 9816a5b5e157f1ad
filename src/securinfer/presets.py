"""Documented CKKS parameter presets and the depth-driven parameter chooser.

Every preset is 128-bit secure (HomomorphicEncryption.org table) and keeps its
chain primes below 2^50, so the AVX-512 IFMA kernels apply where the CPU has
them. ``q0`` (the base prime) bounds the magnitude of decrypted values:
|value| < 2^(q0_bits - scale_bits - 1).

| preset    | N      | coeff_bits (chain + special)         | scale | depth | slots  | |value| below |
|-----------|--------|--------------------------------------|-------|-------|--------|---------------|
| "fast"    | 8192   | [49, 40, 40] + [49]                  | 2^40  | 2     | 4096   | 256           |
| "default" | 16384  | [49, 40 x 6] + [49, 49]              | 2^40  | 6     | 8192   | 256           |
| "deep"    | 32768  | [49, 40 x 14] + [49 x 5]             | 2^40  | 14    | 16384  | 256           |
| "tenseal" | 8192   | [60, 40, 40] + [60]                  | 2^40  | 2     | 4096   | 2^19          |
| "bootstrap" | 65536 | [47, 43 x 12, 59 x 11, 58 x 3] + [60 x 6] | 2^43 | 9 after each bootstrap (it returns at level 12 and takes its input at level 3) | 32768 | 16 |

"tenseal" is the chain TenSEAL's tutorials use (60-bit primes: no IFMA and
no FMA-on-doubles kernels, which hold primes below 2^50), kept for
side-by-side comparisons.

The special primes are chosen by the key-switching cost model of
:mod:`securinfer.key_switching` within the 128-bit bound: "deep" takes 5 (3
digits of 5 primes; 177 NTT-equivalents per key switch against 203 with 3
special primes, and smaller keys); for "fast" and "default" the model's
optimum is within a few percent of the chosen count.

Example:
    >>> from securinfer.presets import PRESETS
    >>> PRESETS["fast"]["poly_degree"]
    8192
"""

from __future__ import annotations

import math

from typing import Optional

from ._core import ckks as _ckks
from .errors import ParameterError
from .key_switching import choose_special_primes
from ._validation import is_int

PRESETS = {
    "fast": dict(poly_degree=8192, coeff_bits=[49, 40, 40, 49], scale_bits=40, special_primes=1),
    "default": dict(poly_degree=16384, coeff_bits=[49] + [40] * 6 + [49, 49], scale_bits=40, special_primes=2),
    "deep": dict(poly_degree=32768, coeff_bits=[49] + [40] * 14 + [49] * 5, scale_bits=40, special_primes=5),
    "tenseal": dict(poly_degree=8192, coeff_bits=[60, 40, 40, 60], scale_bits=40, special_primes=1),
    # Bootstrapping (docs/bootstrapping.md): q0, 12 computing levels of 43
    # bits (SlotsToCoeffs runs first, on the input's last 3), EvalMod with the
    # arcsine correction (sparse-secret encapsulation, weight 32),
    # CoeffsToSlots, 6 special primes; 1746 of the 1747 bits N = 2^16 allows.
    # Equal to parameters_for_bootstrap(65536, 9, encapsulation=32,
    # special_primes=6, scale_bits=43, arcsine=True) (a test checks it).
    "bootstrap": dict(poly_degree=65536, coeff_bits=[47] + [43] * 12 + [59] * 11 + [58] * 3 + [60] * 6,
                      scale_bits=43, special_primes=6),
}

_DEGREES = [4096, 8192, 16384, 32768, 65536]


def parameters_for_depth(depth: int, scale_bits: int = 40, digits: Optional[int] = 3, secure: bool = True) -> dict:
    """The smallest 128-bit-secure parameters for ``depth`` multiplications.

    The chain is a base prime (49 bits when it leaves 8 bits of headroom above
    the scale, so IFMA and the FMA-on-doubles kernels apply; 60 bits
    otherwise), then ``depth`` primes of ``scale_bits``; the special primes
    are sized so that key switching uses about ``digits`` digits. With
    ``digits=None`` the ring is the one 3 digits would need, and the number of
    special primes within its 128-bit bound is chosen by cost
    (:func:`securinfer.key_switching.choose_special_primes`; never more than 3
    digits).

    Example:
        >>> p = parameters_for_depth(4)
        >>> p["poly_degree"], len(p["coeff_bits"]) - p["special_primes"] - 1
        (16384, 4)
    """
    if digits is not None and (not is_int(digits) or digits < 1):
        raise ParameterError("digits must be a positive int or None")
    if not isinstance(depth, int) or depth < 1 or depth > 60:
        raise ParameterError("depth must be an int between 1 and 60")
    if not isinstance(scale_bits, int) or not 20 <= scale_bits <= 58:
        raise ParameterError("scale_bits must be an int between 20 and 58 when choosing by depth")
    base_bits = 49 if scale_bits + 9 <= 49 else 60
    chain = [base_bits] + [scale_bits] * depth
    special_count = math.ceil(len(chain) / (3 if digits is None else digits))
    special_bits = max(chain)
    bits = chain + [special_bits] * special_count
    total = sum(bits)
    for n in _DEGREES:
        if not secure or total <= _ckks.max_secure_modulus_bits(n):
            if digits is None:
                special_count = choose_special_primes(n, chain, special_bits, min_special=special_count, secure=secure)
                bits = chain + [special_bits] * special_count
            return dict(poly_degree=n, coeff_bits=bits, scale_bits=scale_bits, special_primes=special_count)
    raise ParameterError(f"depth {depth} at scale 2^{scale_bits} needs {total} modulus bits: more than N = 65536 allows")
