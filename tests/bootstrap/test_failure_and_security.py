"""The modular reduction's failure bound against a simulation, and the
security check of sparse-secret encapsulation (docs/security.md)."""

import math
import warnings

import numpy as np
import pytest

import securinfer as si
from securinfer.bootstrapping import failure_log2, modular_range, parameters_for_bootstrap, prepare


@pytest.mark.parametrize("h", [8, 32])
def test_chernoff_bound_holds_for_sums_of_uniform_terms(h, rng):
    # S = sum of h terms uniform on [-1/2, 1/2] (the coefficients of c1 s / q0
    # for a weight-h secret); the bound on P(|S| >= K), per coefficient, is
    # 2 exp(-6 K^2 / h): failure_log2 for N = 1 less the union's factor 2.
    draws = 400_000
    s = rng.uniform(-0.5, 0.5, size=(draws, h)).sum(axis=1)
    for k in (1, 2, 3, 4):
        observed = np.mean(np.abs(s) >= k)
        bound = 2.0 ** failure_log2(1, h, k)
        assert bound == pytest.approx(2 * math.exp(-6 * k * k / h))
        assert observed <= bound, (k, observed, bound)
        print(f"h={h} K={k}: observed {observed:.2e} <= bound {bound:.2e}")


def test_modular_range_is_the_least_k_within_2_to_minus_40():
    for n in (4096, 65536):
        for h in (32, 192, None):
            k = modular_range(n, h)
            assert failure_log2(n, h, k) <= -40 < failure_log2(n, h, k - 1)
    assert modular_range(65536, 32) == 15 and modular_range(4096, 32) == 14


def test_ternary_secret_bound_includes_its_weight_tail():
    # A uniform ternary secret's bound never goes below the 2^-103 of its weight.
    assert failure_log2(4096, None, 10_000) == pytest.approx(-103, abs=0.01)


def test_encapsulation_refused_without_a_published_cover():
    # N = 2^12 at 128 bits: no published estimate for a weight-32 key.
    small = si.Context.create(poly_degree=4096, coeff_bits=[38, 30, 40], scale_bits=30)
    with pytest.raises(si.SecurityError, match="published"):
        prepare(small, encapsulation=32)
    # The insecure test parameters skip the check, with the rest of security.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = si.Context.create(poly_degree=4096, coeff_bits=[38, 30, 40], scale_bits=30, security=None)
    with pytest.raises(si.LevelError):  # past the security check: too few levels
        prepare(test, encapsulation=32)


def test_encapsulation_weight_below_32_refused_at_2_to_15():
    ctx = si.Context.create(poly_degree=32768, coeff_bits=[50, 40, 60], scale_bits=40)
    with pytest.raises(si.SecurityError, match="weight 16"):
        prepare(ctx, encapsulation=16)
    with pytest.raises(si.LevelError):  # weight 32 passes the check; the chain is too short
        prepare(ctx, encapsulation=32)


def test_encapsulated_n16_chain_takes_43_bit_levels_within_the_standard():
    # The benchmark's chain: 9 computing levels of 43 bits (a rescale's rounding
    # 3 bits under the 24-bit target) fit the 1747 bits of the standard's
    # uniform ternary bound; 44-bit levels do not, and are refused.
    fits = parameters_for_bootstrap(65536, 9, encapsulation=32, special_primes=7, scale_bits=43)
    assert sum(fits["coeff_bits"]) == 1741 and fits["coeff_bits"][:11] == [49] + [43] * 9 + [60]
    plan = si.Context.for_planning(**fits)  # the 128-bit check, without keys
    assert [round(math.log2(plan.level_scale(level)), 2) for level in (0, 9)] == [43, 43]
    with pytest.raises(si.SecurityError):
        si.Context.for_planning(**parameters_for_bootstrap(65536, 9, encapsulation=32, special_primes=7, scale_bits=44))
