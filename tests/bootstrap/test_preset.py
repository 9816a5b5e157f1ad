"""preset="bootstrap": the 128-bit N = 2^16 chain with sparse-secret
encapsulation, planned from its parameters alone (client and server agree
without a word), and one full-size bootstrap on a server that holds only the
client's public bytes."""

import gc
import warnings

import numpy as np
import pytest

import securinfer as si
from securinfer import bootstrapping
from securinfer.bootstrapping import (TEST_PARAMETERS, Bootstrapper, default_encapsulation, default_options,
                                      parameters_for_bootstrap, prepare)
from securinfer.parameters import max_secure_modulus_bits
from securinfer.presets import PRESETS

from .helpers import at_level_zero


def planning(params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return si.Context.for_planning(**params, security=None)


def test_preset_is_the_encapsulated_43_bit_chain():
    p = PRESETS["bootstrap"]
    assert p == parameters_for_bootstrap(65536, 9, encapsulation=32, special_primes=7, scale_bits=43)
    assert sum(p["coeff_bits"]) <= max_secure_modulus_bits(65536)
    plan = si.Context.for_planning(**p)                       # 128-bit check on
    assert default_encapsulation(plan._core) == 32
    assert plan.levels_after_bootstrap == 9
    assert all(abs(plan.level_scale(level) / 2.0 ** 43 - 1) < 1e-5 for level in range(10))


@pytest.mark.parametrize("params", [TEST_PARAMETERS, parameters_for_bootstrap(65536, 9),
                                    parameters_for_bootstrap(8192, 9)])
def test_chains_laid_out_for_the_dense_secret_keep_it(params):
    assert default_encapsulation(planning(params)._core) is None


ARCSINE_CHAIN = parameters_for_bootstrap(65536, 9, encapsulation=32, special_primes=5, scale_bits=43, arcsine=True)


@pytest.mark.parametrize("params", [TEST_PARAMETERS, PRESETS["bootstrap"], parameters_for_bootstrap(65536, 9),
                                    parameters_for_bootstrap(4096, 3, encapsulation=32), ARCSINE_CHAIN,
                                    parameters_for_bootstrap(4096, 3, arcsine=True),
                                    parameters_for_bootstrap(16384, 5, encapsulation=32, special_primes=4)])
def test_levels_after_bootstrap_without_a_plan_is_the_plan_s(params):
    """The level count comes from the chain's arithmetic (no diagonals
    encoded); it must be what the plan itself says, and every chain
    parameters_for_bootstrap lays out lands on its computing levels."""
    ctx = planning(params)
    weight, arcsine = default_options(ctx._core)
    plan = Bootstrapper(ctx._core, encapsulation=weight, arcsine=arcsine, keep_plaintexts=False)
    assert ctx.levels_after_bootstrap == plan.levels_after >= 3
    assert abs(ctx.level_scale(plan.levels_after) / ctx.level_scale(0) - 1) < 1e-5


def test_the_24_bit_chain_plans_its_arcsine_by_itself():
    """The one-pass 24-bit chain (arcsine, 5 special primes) is recognised
    from its parameters like the preset: 128-bit, encapsulation and the
    arcsine correction, 9 levels of 43 bits after."""
    assert sum(ARCSINE_CHAIN["coeff_bits"]) <= max_secure_modulus_bits(65536)
    ctx = si.Context.for_planning(**ARCSINE_CHAIN)
    assert default_options(ctx._core) == (32, True) and ctx.levels_after_bootstrap == 9
    assert ARCSINE_CHAIN["coeff_bits"][0] == 43 + 2            # q0 2^2 above the scale


def test_an_encapsulated_chain_bootstraps_without_prepare(rng):
    """generate_bootstrapping_keys() alone makes the encapsulation keys for a
    chain laid out for them (and encodes no diagonal on the client); a
    server loaded from the public bytes plans the same bootstrap."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = si.Context.create(**parameters_for_bootstrap(4096, 3, encapsulation=32), security=None)
        client.generate_bootstrapping_keys()
        assert client not in bootstrapping._CACHE            # keys listed, no plan kept
        server = si.Context.load(client.public().serialize(), security=None)
    assert bootstrapping._installed_weight(client) == bootstrapping._installed_weight(server) == 32
    z = rng.uniform(-1, 1, client.slots)
    y = si.Ciphertext.load(at_level_zero(client, z).serialize(), server).bootstrap()
    assert y.level == client.levels_after_bootstrap == server.levels_after_bootstrap == 3
    err = np.max(np.abs(client.decrypt(si.Ciphertext.load(y.serialize(), client)) - z))
    assert -np.log2(err) >= 19


def test_prepare_refuses_unknown_options(boot_ctx):
    with pytest.raises(si.ParameterError, match="encapsulation"):
        prepare(boot_ctx, encapsulation="sparse")
    with pytest.raises(si.ParameterError, match="arcsine"):
        prepare(boot_ctx, arcsine="yes")


def test_full_size_preset_bootstraps_on_a_server_from_public_bytes(rng):
    """N = 2^16 at 128 bits, end to end: the client keeps its secret key's
    bytes, makes the bootstrapping keys and hands over its public context
    (2.4 GB); the server bootstraps a level-0 ciphertext with them alone.
    About 45 s and 10 GiB at peak on a 2-core machine (the client's keys are
    freed before the server loads its copy)."""
    client = si.Context.create(preset="bootstrap")
    secret = client.serialize(secret_key=True)              # before the Galois keys: small
    client.generate_bootstrapping_keys()
    assert client.key_bytes["galois"] < 5.5e9
    z = rng.uniform(-1, 1, client.slots)
    query = at_level_zero(client, z).serialize()
    public = client.public().serialize()
    del client
    gc.collect()
    server = si.Context.load(public)
    del public
    assert not server.has_secret_key
    answer = si.Ciphertext.load(query, server).bootstrap().serialize()
    del server
    gc.collect()
    client = si.Context.load(secret)
    y = si.Ciphertext.load(answer, client)
    assert y.level == 9
    bits = -np.log2(np.max(np.abs(client.decrypt(y) - z)))
    print(f"N = 2^16 preset, server from public bytes: {bits:.2f} bits")
    assert bits >= 20          # 21.2-21.5 measured (docs/bootstrapping.md)
