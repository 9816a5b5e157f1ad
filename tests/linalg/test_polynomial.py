"""polyval against numpy, its depth against depth_of, and the approximations."""

import numpy as np
import pytest

import securinfer as si
from securinfer.linalg.polynomial import FUNCTIONS, approximate, depth_of, polyval

from ..scheme.conftest import assert_close


@pytest.fixture(scope="module")
def ctx():
    return si.Context.create(depth=8)


@pytest.mark.parametrize("degree", [1, 2, 3, 5, 7, 8, 15, 31])
def test_power_basis_matches_numpy(ctx, degree):
    coeffs = np.random.default_rng(degree).uniform(-1, 1, degree + 1)
    x = np.random.default_rng(100 + degree).uniform(-1, 1, 512)
    ct = ctx.encrypt(x)
    y = polyval(ct, coeffs)
    assert ct.level - y.level == depth_of(coeffs)
    assert depth_of(coeffs) <= int(np.ceil(np.log2(degree + 1))) + 1
    assert_close(ctx.decrypt(y), np.polynomial.polynomial.polyval(x, coeffs), 15, f"degree {degree}")


@pytest.mark.parametrize("name, domain, degree", [("sigmoid", (-8, 8), 15), ("tanh", (-4, 4), 15),
                                                  ("gelu", (-4, 4), 15), ("exp", (-2, 2), 7),
                                                  ("inverse", (0.5, 4), 15), ("relu", (-1, 1), 31),
                                                  ("sign", (-1, 1), 31), ("silu", (-6, 6), 15)])
def test_approximations_evaluate_to_their_reported_error(ctx, name, domain, degree):
    coeffs, err = approximate(name, degree, domain)
    x = np.linspace(domain[0], domain[1], 257)
    want = np.asarray(FUNCTIONS[name](x), dtype=float)
    plain = np.polynomial.chebyshev.chebval((2 * x - domain[0] - domain[1]) / (domain[1] - domain[0]), coeffs)
    assert np.max(np.abs(plain - want)) <= err * 1.05 + 1e-12  # the reported error (measured on a finer grid)
    y = polyval(ctx.encrypt(x), coeffs, basis="chebyshev", domain=domain)
    got = ctx.decrypt(y)
    print(f"{name}: approximation error {err:.2e}, encrypted vs plain polynomial {np.max(np.abs(got - plain)):.2e}")
    assert np.max(np.abs(got - plain)) < 1e-4 * max(1.0, np.max(np.abs(plain)))


@pytest.mark.parametrize("degree", [3, 7, 15, 31])
def test_min_depth_plan_uses_the_optimal_depth(ctx, degree):
    coeffs = np.random.default_rng(degree).uniform(-1, 1, degree + 1)
    optimal = int(np.ceil(np.log2(degree + 1)))
    assert depth_of(coeffs, plan="min_depth") == optimal
    x = np.random.default_rng(7).uniform(-1, 1, 256)
    ct = ctx.encrypt(x)
    y = polyval(ct, coeffs, plan="min_depth")
    assert ct.level - y.level == optimal
    assert_close(ctx.decrypt(y), np.polynomial.polynomial.polyval(x, coeffs), 15, f"min-depth degree {degree}")


def test_auto_plan_falls_back_to_min_depth_when_levels_are_short():
    coeffs = np.random.default_rng(1).uniform(-1, 1, 8)  # degree 7: bsgs 4 levels, min_depth 3
    assert depth_of(coeffs) == 4 and depth_of(coeffs, plan="min_depth") == 3
    ctx3 = si.Context.create(depth=3)
    x = np.linspace(-1, 1, 64)
    y = polyval(ctx3.encrypt(x), coeffs)
    assert y.level == ctx3.max_level - 3
    assert_close(ctx3.decrypt(y), np.polynomial.polynomial.polyval(x, coeffs), 15, "auto -> min_depth")
    with pytest.raises(si.LevelError, match="bsgs"):
        polyval(ctx3.encrypt(x), coeffs, plan="bsgs")
    with pytest.raises(si.ParameterError, match="plan"):
        polyval(ctx3.encrypt(x), coeffs, plan="fastest")


def test_not_enough_levels_is_refused_before_computing():
    small = si.Context.create(preset="fast")  # depth 2
    with pytest.raises(si.LevelError, match="needs"):
        polyval(small.encrypt(np.ones(4)), np.ones(16))


@pytest.mark.parametrize(
    "args, match",
    [
        (dict(coeffs=[]), "non-empty"),
        (dict(coeffs=[1.0, np.nan]), "finite"),
        (dict(coeffs=[1.0, 2.0], basis="legendre"), "basis"),
        (dict(coeffs=[1.0, 2.0], domain=(1, -1)), "a < b"),
        (dict(coeffs=[1.0, 2.0], domain=(-2, 2)), "Chebyshev basis only"),
    ],
)
def test_bad_arguments(ctx, args, match):
    with pytest.raises(si.ParameterError, match=match):
        polyval(ctx.encrypt(np.ones(4)), **args)


def test_approximate_refuses_bad_requests():
    with pytest.raises(si.ParameterError, match="unknown function"):
        approximate("softplusplus", 7)
    with pytest.raises(si.ParameterError, match="excludes 0"):
        approximate("inverse", 7, (-1, 1))
    with pytest.raises(si.ParameterError, match="degree"):
        approximate("tanh", 0)


def test_depth_holds_at_small_scales():
    # With 26-bit primes, aligning a ciphertext to another's scale lands within
    # ~2^-26 of it (an integer factor near q); such scales must count as equal,
    # or every later addition spends an extra level.
    ctx = si.Context.create(poly_degree=16384, coeff_bits=[31] + [26] * 7 + [31] * 2, scale_bits=26, special_primes=2)
    x = np.random.default_rng(3).uniform(-1, 1, 64)
    for degree in (31, 63):
        coeffs = np.random.default_rng(degree).uniform(-1, 1, degree + 1)
        for plan in ("bsgs", "min_depth"):
            ct = ctx.encrypt(x)
            y = polyval(ct, coeffs, plan=plan)
            assert ct.level - y.level == depth_of(coeffs, plan=plan), (degree, plan)
            # 26-bit scale, T_63's slope ~63^2: errors of a few 1e-3 (measured up to 1.1e-2 at degree 63).
            tolerance = 1e-2 if degree == 31 else 5e-2
            assert np.max(np.abs(ctx.decrypt(y) - np.polynomial.polynomial.polyval(x, coeffs))) < tolerance
