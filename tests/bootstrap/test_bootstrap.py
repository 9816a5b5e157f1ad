"""Full bootstraps through the public API (N = 2^12, insecure test parameters)."""

import warnings

import numpy as np
import pytest

import securinfer as si
from securinfer.bootstrapping import TEST_PARAMETERS

from .helpers import at_level_zero


def bits(err):
    return float(-np.log2(err))


def test_real_full_slots(boot_ctx, rng):
    z = rng.uniform(-1, 1, boot_ctx.slots)
    x = at_level_zero(boot_ctx, z)
    y = x.bootstrap()
    assert y.level == boot_ctx.levels_after_bootstrap >= 3
    err = np.max(np.abs(boot_ctx.decrypt(y) - z))
    print("real, full slots: max error", err, "bits", bits(err))
    assert bits(err) >= 16


def test_complex_values(boot_ctx, rng):
    z = rng.uniform(-1, 1, boot_ctx.slots) + 1j * rng.uniform(-1, 1, boot_ctx.slots)
    y = at_level_zero(boot_ctx, z).bootstrap()
    err = np.max(np.abs(boot_ctx.decrypt(y, complex=True) - z))
    print("complex, full slots: max error", err, "bits", bits(err))
    assert bits(err) >= 15


@pytest.mark.parametrize("length", [16, 256, 2047])
def test_short_vectors(boot_ctx, rng, length):
    z = rng.uniform(-1, 1, length)
    y = at_level_zero(boot_ctx, z).bootstrap()
    out = boot_ctx.decrypt(y)
    assert len(y) == length and out.shape == (length,)
    err = np.max(np.abs(out - z))
    print(length, "values: max error", err, "bits", bits(err))
    assert bits(err) >= 16


def test_computing_after_bootstrap(boot_ctx, rng):
    z = rng.uniform(-1, 1, 100)
    y = at_level_zero(boot_ctx, z).bootstrap()
    w = y * y + 0.5 * y
    assert np.max(np.abs(boot_ctx.decrypt(w) - (z * z + 0.5 * z))) < 2.0 ** -14


def test_bootstrap_from_a_higher_level(boot_ctx, rng):
    z = rng.uniform(-1, 1, 64)
    y = boot_ctx.encrypt(z).bootstrap()  # dropped to level 0 inside
    assert np.max(np.abs(boot_ctx.decrypt(y) - z)) < 2.0 ** -16


def test_public_context_from_bytes_bootstraps(boot_ctx, rng):
    server = si.Context.load(boot_ctx.public().serialize(), security=None)
    z = rng.uniform(-1, 1, 32)
    x = si.Ciphertext.load(at_level_zero(boot_ctx, z).serialize(), server)
    y = x.bootstrap()
    back = si.Ciphertext.load(y.serialize(), boot_ctx)
    assert np.max(np.abs(boot_ctx.decrypt(back) - z)) < 2.0 ** -16


def test_missing_keys_raise():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = si.Context.create(**TEST_PARAMETERS, security=None)
    x = at_level_zero(ctx, np.ones(4))
    with pytest.raises(si.MissingKeyError):
        x.bootstrap()
    with pytest.raises(si.MissingKeyError):
        ctx.public().generate_bootstrapping_keys()


def test_too_few_levels_raise():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = si.Context.create(poly_degree=4096, coeff_bits=[60, 40, 40, 60], scale_bits=40, security=None)
    with pytest.raises(si.LevelError):
        ctx.levels_after_bootstrap


@pytest.mark.parametrize("slots", [16, 256, 1024])
def test_sparse_slots(boot_ctx, rng, slots):
    boot_ctx.generate_bootstrapping_keys(slots=[slots])
    z = rng.uniform(-1, 1, slots) + 1j * rng.uniform(-1, 1, slots)
    y = at_level_zero(boot_ctx, z).bootstrap(slots=slots)
    assert y.level == boot_ctx.levels_after_bootstrap
    err = np.max(np.abs(boot_ctx.decrypt(y, complex=True) - z))
    print(slots, "sparse slots, complex: max error", err, "bits", bits(err))
    assert bits(err) >= 16
    # Shorter vectors fit too (their zero padding is bootstrapped along).
    short = z[: slots // 2].real
    out = boot_ctx.decrypt(at_level_zero(boot_ctx, short).bootstrap(slots=slots))
    assert np.max(np.abs(out - short)) < 2.0 ** -16


def test_sparse_slots_reject_long_vectors(boot_ctx, rng):
    with pytest.raises(si.ParameterError):
        at_level_zero(boot_ctx, rng.uniform(-1, 1, 17)).bootstrap(slots=16)


def test_sparse_only_keys(rng):
    # generate_keys(full=False): the sparse plan's keys alone; a full-slot
    # bootstrap then lacks its rotations.
    from securinfer.bootstrapping import generate_keys

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = si.Context.create(**TEST_PARAMETERS, security=None)
    generate_keys(ctx, slots=[64], full=False)
    z = rng.uniform(-1, 1, 64)
    y = at_level_zero(ctx, z).bootstrap(slots=64)
    assert np.max(np.abs(ctx.decrypt(y) - z)) < 2.0 ** -16
    with pytest.raises(si.MissingKeyError):
        at_level_zero(ctx, z).bootstrap()
    with pytest.raises(si.ParameterError):
        generate_keys(ctx, full=False)
