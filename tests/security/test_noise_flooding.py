"""Noise flooding (docs/security.md): deterministic per ciphertext, sized from
the ciphertext's own error for a stated statistical security, and measured.

The reference for "the actual error" is independent of the library's
estimate: the exact decryption minus the known plaintext, turned into the L2
norm of the error's coefficients by Parseval (sum over the N/2 slots of
|slot error|^2 * scale^2 = N/2 * |e|^2).
"""

import math

import numpy as np
import pytest

import securinfer as si
from securinfer._core import ckks as _ckks

LAMBDA = 30


@pytest.fixture(scope="module")
def ctx():
    return si.Context.create(preset="fast")


def _true_error_l2(ctx, ct, expected):
    exact = ctx.decrypt(ct, complex=True)
    slot_error = np.zeros(ctx.slots, dtype=complex)
    full = _ckks.decrypt(ctx._keys, ct._core, 0.0)          # every slot, not just ct.size
    reference = np.zeros(ctx.slots, dtype=complex)
    reference[: len(expected)] = expected
    slot_error = full - reference
    del exact
    return math.sqrt(2.0 / ctx.poly_degree * float(np.sum(np.abs(slot_error) ** 2))) * ct.scale


def _flooded(ctx, ct):
    values, info = _ckks.decrypt_flooded(ctx._keys, ct._core, float(LAMBDA), 1.0, True, 0.0)
    return values, info


def _cases(ctx):
    rng = np.random.default_rng(2026)  # test data only
    x = rng.uniform(-1, 1, ctx.slots)
    y = rng.uniform(-1, 1, ctx.slots)
    fresh = ctx.encrypt(x)
    public = ctx.public().encrypt(x)
    product = ctx.encrypt(x) * ctx.encrypt(y)
    deep = product * ctx.encrypt(y)                       # two products: level 0
    return [("fresh (secret key)", fresh, x), ("fresh (public key)", public, x),
            ("one product", product, x * y), ("two products, level 0", deep, x * y * y)]


def test_repeated_decryptions_are_identical_and_averaging_gains_nothing(ctx):
    x = np.random.default_rng(5).uniform(-1, 1, ctx.slots)
    ct = ctx.encrypt(x)
    runs = [ctx.decrypt(ct, noise_flooding=True) for _ in range(64)]
    assert all(np.array_equal(runs[0], r) for r in runs[1:])
    # The mean of 64 decryptions is as far from x as one of them (it is one of them).
    single, mean = np.abs(runs[0] - x).mean(), np.abs(np.mean(runs, axis=0) - x).mean()
    assert mean == pytest.approx(single, rel=1e-12)
    # A serialized round trip is the same ciphertext: the same noise.
    back = si.Ciphertext.load(ct.serialize(), ctx)
    assert np.array_equal(ctx.decrypt(back, noise_flooding=True), runs[0])


def test_different_ciphertexts_and_different_keys_get_independent_noise(ctx):
    x = np.random.default_rng(6).uniform(-1, 1, ctx.slots)
    a, b = ctx.encrypt(x), ctx.encrypt(x)
    noise_a = ctx.decrypt(a, noise_flooding=True) - ctx.decrypt(a)
    noise_b = ctx.decrypt(b, noise_flooding=True) - ctx.decrypt(b)
    assert abs(np.corrcoef(noise_a, noise_b)[0, 1]) < 0.1
    other = si.Context.create(preset="fast")
    c = other.encrypt(x)
    assert not np.array_equal(other.decrypt(c, noise_flooding=True) - other.decrypt(c), noise_a)


def test_the_error_estimate_bounds_the_actual_error(ctx):
    """E (the bound flooding is sized from) is at least the actual |e|_2 and
    within a factor 4 of it (a safety factor 2, then rounding up to 2^k)."""
    for name, ct, expected in _cases(ctx):
        actual = _true_error_l2(ctx, ct, expected)
        _, info = _flooded(ctx, ct)
        ratio = info["error_bound"] / actual
        print(f"{name:24s} |e|_2 = 2^{math.log2(actual):5.2f}  E = 2^{math.log2(info['error_bound']):.0f}  "
              f"ratio {ratio:.2f}")
        assert 1.0 <= ratio <= 4.5, name


def test_margin_over_the_actual_error_in_bits(ctx):
    """sigma = 2^(lambda/2) * E: the margin over the actual error norm is at
    least lambda/2 bits, so the KL divergence |e|^2 / (2 sigma^2) is below 2^-lambda."""
    for name, ct, expected in _cases(ctx):
        actual = _true_error_l2(ctx, ct, expected)
        per_coefficient = actual / math.sqrt(ctx.poly_degree)
        values, info = _flooded(ctx, ct)
        margin_norm = math.log2(info["sigma"] / actual)
        margin_coefficient = math.log2(info["sigma"] / per_coefficient)
        kl_bits = -math.log2(actual ** 2 / (2 * info["sigma"] ** 2))
        slot_error = np.max(np.abs(values.real[: len(expected)] - expected))
        print(f"{name:24s} sigma = 2^{math.log2(info['sigma']):.1f}: margin {margin_norm:.1f} bits over |e|_2, "
              f"{margin_coefficient:.1f} over the per-coefficient error; KL = 2^-{kl_bits:.1f}; "
              f"max slot error {slot_error:.2e} (exact: "
              f"{np.max(np.abs(ctx.decrypt(ct)[: len(expected)] - expected)):.1e})")
        assert margin_norm >= LAMBDA / 2 and kl_bits >= LAMBDA + 1
        # The noise per slot is sigma * sqrt(N/2) / scale; 6 of those bound the maximal slot error.
        assert slot_error < 6 * info["sigma"] * math.sqrt(ctx.poly_degree / 2) / ct.scale


def test_more_queries_or_security_mean_proportionally_more_noise(ctx):
    ct = ctx.encrypt(np.ones(8))
    base = _ckks.decrypt_flooded(ctx._keys, ct._core, 30.0, 1.0, True, 0.0)[1]["sigma"]
    assert _ckks.decrypt_flooded(ctx._keys, ct._core, 30.0, 64.0, True, 0.0)[1]["sigma"] == 8 * base
    assert _ckks.decrypt_flooded(ctx._keys, ct._core, 40.0, 1.0, True, 0.0)[1]["sigma"] == 32 * base
    given = _ckks.decrypt_flooded(ctx._keys, ct._core, 30.0, 1.0, True, 2.0 ** 20)[1]
    assert given["error_bound"] == 2.0 ** 20 and given["sigma"] == 2.0 ** 35


def test_complex_data_uses_a_static_bound_that_covers_fresh_errors(ctx):
    z = np.exp(1j * np.linspace(0, 3, 64))
    ct = ctx.encrypt(z)
    actual = _true_error_l2(ctx, ct, z)
    _, info = _ckks.decrypt_flooded(ctx._keys, ct._core, 30.0, 1.0, False, 0.0)
    assert info["error_bound"] >= actual
    flooded = ctx.decrypt(ct, noise_flooding=True)
    assert np.iscomplexobj(flooded) and np.max(np.abs(flooded - z)) < 0.1


def test_flooding_that_would_overflow_the_modulus_is_refused(ctx):
    ct = ctx.encrypt(np.ones(4)) * 0.5 * 0.5             # level 0: a 49-bit modulus
    assert ct.level == 0
    with pytest.raises(si.ParameterError, match="overflow"):   # sigma 2^45: ten sigma pass 2^49
        _ckks.decrypt_flooded(ctx._keys, ct._core, 30.0, 1.0, True, 2.0 ** 30)
    with pytest.raises(si.ParameterError, match="2\\^48"):
        _ckks.decrypt_flooded(ctx._keys, ctx.encrypt([1.0])._core, 30.0, 1.0, True, 2.0 ** 40)


def test_bad_flooding_arguments_are_securinfer_errors(ctx):
    ct = ctx.encrypt(np.ones(4))
    for kwargs in ({"flooding_queries": 0}, {"flooding_queries": 1.5}, {"flooding_error_bound": -1.0},
                   {"flooding_error_bound": float("nan")}):
        with pytest.raises(si.ParameterError):
            ctx.decrypt(ct, noise_flooding=True, **kwargs)
    with pytest.raises(si.ParameterError):
        _ckks.decrypt_flooded(ctx._keys, ct._core, 0.5, 1.0, True, 0.0)


def test_flooding_that_drowns_the_values_is_refused_not_returned():
    """At the face parameters (scale 2^30) flooding noise has a slot sd near 1:
    the flooded values (0.76, 0.07, 1.06 for 0.5) looked like answers. Now
    decryption refuses; at scale 2^40 it still answers within its stated noise."""
    import securinfer as si
    from securinfer.apps import face

    small = face.create_context()
    ct = small.encrypt(np.full(8, 0.5))
    with pytest.raises(si.ParameterError, match="would be noise"):
        small.decrypt(ct, noise_flooding=True)
    assert np.allclose(small.decrypt(ct), 0.5, atol=1e-4)          # unflooded: fine
    fast = si.Context.create(preset="fast")
    values = fast.decrypt(fast.encrypt(np.full(8, 0.5)), noise_flooding=True)
    assert np.allclose(values, 0.5, atol=2 ** -fast.flooding_min_bits)
    fast.flooding_min_bits = 20                                     # a stricter bar refuses the same
    with pytest.raises(si.ParameterError, match="bits"):
        fast.decrypt(fast.encrypt(np.full(8, 0.5)), noise_flooding=True)
