"""Sparse-secret encapsulation (N = 2^12, insecure test parameters): ModRaise
under an ephemeral Hamming-weight-32 secret, so K drops from 139 to 14."""

import warnings

import numpy as np
import pytest

import securinfer as si
from securinfer._core import bootstrap as _boot
from securinfer._core import ckks as _ckks
from securinfer.bootstrapping import TEST_PARAMETERS, modular_range, prepare

from .helpers import at_level_zero


def test_key_switch_to_the_sparse_secret_and_back_keeps_the_message(enc_ctx, rng):
    enc = _boot.encapsulation_keys(enc_ctx._keys)
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
    assert modular_range(4096, 32) == 14
    assert enc_ctx.levels_after_bootstrap == 6  # three more than the dense secret's EvalMod leaves
    z = rng.uniform(-1, 1, enc_ctx.slots) + 1j * rng.uniform(-1, 1, enc_ctx.slots)
    y = at_level_zero(enc_ctx, z).bootstrap()
    err = np.abs(enc_ctx.decrypt(y, complex=True) - z)
    print("encapsulated, complex full slots: max error", err.max(), "bits", -np.log2(err.max()))
    assert -np.log2(err.max()) >= 20


def test_server_from_public_bytes_bootstraps(enc_ctx, rng):
    # The encapsulation keys travel with the public context: the server needs
    # no prepare() and no secret, and its result decrypts under the client's key.
    blob = enc_ctx.public().serialize()
    server = si.Context.load(blob, security=None)
    assert not server.has_secret_key
    assert server.levels_after_bootstrap == enc_ctx.levels_after_bootstrap == 6
    assert server.serialize() == blob  # every key written back as it was read
    z = rng.uniform(-1, 1, server.slots) + 1j * rng.uniform(-1, 1, server.slots)
    x = si.Ciphertext.load(at_level_zero(enc_ctx, z).serialize(), server)
    y = si.Ciphertext.load(x.bootstrap().serialize(), enc_ctx)
    err = np.abs(enc_ctx.decrypt(y, complex=True) - z).max()
    print("encapsulated bootstrap on a server from public bytes: max error", err, "bits", -np.log2(err))
    assert -np.log2(err) >= 20


def test_loaded_encapsulation_keys_switch_like_the_originals(enc_ctx, rng):
    server = si.Context.load(enc_ctx.public().serialize(), security=None)
    enc = _boot.encapsulation_keys(server._keys)
    assert enc.hamming_weight == 32 and enc.key_id == enc_ctx._keys.key_id
    z = rng.uniform(-1, 1, 64)
    ct = at_level_zero(enc_ctx, z)._core
    sparse = _boot.switch_to_sparse(enc, ct)
    assert np.max(np.abs(_ckks.decrypt(enc_ctx._keys, sparse)[:64].real - z)) > 1
    back = _boot.switch_from_sparse(enc, sparse)
    assert np.max(np.abs(_ckks.decrypt(enc_ctx._keys, back)[:64].real - z)) < 2.0 ** -20


def test_public_bytes_hold_the_sparse_key_modulo_q0_p_only():
    # The key to the ephemeral secret is written as one digit over q0 and the
    # first special prime (seed + b), the key back as an ordinary switching key:
    # the bytes grow by exactly that (measured against a Galois key, which is
    # written like the key back, plus its 8-byte element).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = si.Context.create(poly_degree=4096, coeff_bits=[50, 40, 40, 60, 60], scale_bits=40,
                                special_primes=2, security=None)
    core = ctx._core
    plain = len(ctx.public().serialize())
    ctx.generate_rotation_keys(steps=[1])
    galois = len(ctx.public().serialize()) - plain
    _boot.install_encapsulation_keys(ctx._keys, _boot.make_encapsulation_keys(core, ctx._keys, 32))
    grown = len(ctx.public().serialize()) - plain - galois
    packed = lambda q: (core.poly_degree * int(q).bit_length() + 7) // 8
    header, weight, seed = 64, 4, 32
    one_digit = packed(core.q_primes[0]) + packed(core.p_primes[0])
    assert grown == header + weight + seed + one_digit + (galois - 8)


def test_without_encapsulation_keys_bootstrap_raises(rng):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = dict(TEST_PARAMETERS)
        params["coeff_bits"] = [50] + params["coeff_bits"][1:]
        ctx = si.Context.create(**params, security=None)
    ctx.generate_bootstrapping_keys()  # the dense plan: Galois keys only
    server = si.Context.load(ctx.public().serialize(), security=None)
    assert _boot.encapsulation_keys(server._keys) is None
    prepare(server, encapsulation=32)  # the same rotations, but no encapsulation keys
    x = si.Ciphertext.load(at_level_zero(ctx, rng.uniform(-1, 1, 8)).serialize(), server)
    with pytest.raises(si.MissingKeyError, match="encapsulation"):
        x.bootstrap()

