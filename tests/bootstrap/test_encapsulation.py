"""Sparse-secret encapsulation (N = 2^12, insecure test parameters): ModRaise
under an ephemeral Hamming-weight-32 secret, so K drops from 134 to 15."""

import warnings

import numpy as np
import pytest

import securinfer as si
from securinfer._core import bootstrap as _boot
from securinfer._core import ckks as _ckks
from securinfer.bootstrapping import TEST_PARAMETERS, modular_range, prepare

from .helpers import at_level_zero


@pytest.fixture(scope="module")
def enc_ctx():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = dict(TEST_PARAMETERS)
        params["coeff_bits"] = [50] + params["coeff_bits"][1:]  # less EvalMod noise: q0 headroom 2^10
        ctx = si.Context.create(**params, security=None)
    prepare(ctx, encapsulation=32)
    ctx.generate_bootstrapping_keys()
    return ctx


def test_key_switch_to_the_sparse_secret_and_back_keeps_the_message(enc_ctx, rng):
    from securinfer.bootstrapping import _ENCAPSULATION

    enc = _ENCAPSULATION[enc_ctx]
    assert enc.hamming_weight == 32
    z = rng.uniform(-1, 1, 64)
    ct = at_level_zero(enc_ctx, z)._core
    # Under s' the ciphertext no longer decrypts under s ...
    sparse = _boot.switch_to_sparse(enc, ct)
    assert np.max(np.abs(_ckks.decrypt(enc_ctx._keys, sparse)[:64].real - z)) > 1
    # ... and switching back restores it.
    back = _boot.switch_from_sparse(enc, sparse)
    assert np.max(np.abs(_ckks.decrypt(enc_ctx._keys, back)[:64].real - z)) < 2.0 ** -20


def test_encapsulated_bootstrap_precision_and_levels(enc_ctx, rng):
    assert modular_range(4096, 32) == 15
    assert enc_ctx.levels_after_bootstrap == 6  # three more than the dense secret's EvalMod leaves
    z = rng.uniform(-1, 1, enc_ctx.slots) + 1j * rng.uniform(-1, 1, enc_ctx.slots)
    y = at_level_zero(enc_ctx, z).bootstrap()
    err = np.abs(enc_ctx.decrypt(y, complex=True) - z)
    print("encapsulated, complex full slots: max error", err.max(), "bits", -np.log2(err.max()))
    assert -np.log2(err.max()) >= 20


def test_server_from_bytes_lacks_the_encapsulation_keys(enc_ctx, rng):
    server = si.Context.load(enc_ctx.public().serialize(), security=None)
    prepare(server, encapsulation=32)
    x = si.Ciphertext.load(at_level_zero(enc_ctx, rng.uniform(-1, 1, 8)).serialize(), server)
    with pytest.raises(si.MissingKeyError):
        x.bootstrap()
