"""Long chains through bootstrapping (N = 2^12, insecure test parameters with
encapsulation; and SlotsToCoeffs first): numpy computes the same chain in
float64 beside it."""

import numpy as np
import pytest


def bits(err):
    return float(-np.log2(err))


@pytest.mark.parametrize("chain", ["enc_ctx", "stc_ctx"])
def test_twenty_bootstraps_with_a_product_between_each_keep_20_bits(chain, request, rng):
    # x -> x * w (w a fresh encryption of values in [0.97, 1]) -> bootstrap, 20
    # times (SlotsToCoeffs first: from level 5, dropped to its input level 3).
    ctx = request.getfixturevalue(chain)
    z = rng.uniform(-1, 1, ctx.slots)
    x, expected = ctx.encrypt(z), z.copy()
    for _ in range(20):
        c = rng.uniform(0.97, 1.0, ctx.slots)
        x = (x * ctx.encrypt(c)).bootstrap()
        expected = expected * c
        assert x.level == ctx.levels_after_bootstrap
    err = np.max(np.abs(ctx.decrypt(x) - expected))
    print("20 products + bootstraps: max error", err, "bits", bits(err))
    assert bits(err) >= 20


def test_hundred_squarings_near_one_follow_numpy(arcsine_ctx, rng):
    # x -> x^2 one hundred times from values in [1 - 2^-8, 1 - 2^-9] (near 1
    # for ~8 squarings, then decaying to 0), starting at level 0 and
    # bootstrapping whenever no level is left (with the arcsine correction:
    # a vector near 1 has a constant coefficient near 1, where the sine alone
    # would cost 5 bits, test_arcsine_correction below). Squaring maps an
    # error e of x to 2 x e + e^2, plus the step's own error: 2^-19 for a
    # bootstrap (about 8x its measured max error), 2^-26 for a product. At
    # every step the decrypted values stay within the bound this recurrence gives.
    ctx = arcsine_ctx
    z = 1 - rng.uniform(2.0 ** -9, 2.0 ** -8, ctx.slots)
    x, expected, bound = ctx.encrypt(z).drop_to_level(0), z.copy(), 2.0 ** -26
    boots = 0
    for step in range(100):
        if x.level == 0:
            x, bound = x.bootstrap(), bound + 2.0 ** -19
            boots += 1
        x = x * x
        bound = 2 * np.abs(expected) * bound + bound ** 2 + 2.0 ** -26
        expected = expected * expected
        err = np.abs(ctx.decrypt(x) - expected)
        assert np.all(err <= bound), (step, float(err.max()))
    print(boots, "bootstraps; final max error", float(err.max()), "final bound", float(np.max(bound)))
    assert boots >= 100 // ctx.levels_after_bootstrap
    assert np.max(np.abs(expected)) < 2.0 ** -100  # numpy's values did reach 0
    assert np.max(err) < 2.0 ** -17


def test_arcsine_correction(enc_ctx, arcsine_ctx, rng):
    # Slots near a constant c put c in the constant coefficient: EvalMod's
    # sin(2 pi e) / (2 pi) for e = Delta c / q0 is then off by (2 pi e)^2 / 6
    # relative (the sine's cubic term), which the arcsine correction removes.
    z = 1 - rng.uniform(2.0 ** -9, 2.0 ** -8, enc_ctx.slots)
    plain = np.abs(enc_ctx.decrypt(enc_ctx.encrypt(z).drop_to_level(0).bootstrap()) - z).max()
    fixed = np.abs(arcsine_ctx.decrypt(arcsine_ctx.encrypt(z).drop_to_level(0).bootstrap()) - z).max()
    e = enc_ctx.level_scale(0) * z.mean() / enc_ctx.parameters.q_primes[0]
    cubic = z.mean() * (2 * np.pi * e) ** 2 / 6
    print("near 1: without arcsine", bits(plain), "bits (cubic term", bits(cubic), "), with", bits(fixed))
    assert 0.8 * cubic < plain < 1.2 * cubic + 2.0 ** -20
    assert bits(fixed) >= 21
    assert arcsine_ctx.levels_after_bootstrap == enc_ctx.levels_after_bootstrap - 2
