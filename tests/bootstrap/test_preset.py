"""preset="bootstrap": the 128-bit N = 2^16 chain with sparse-secret
encapsulation, SlotsToCoeffs first and the arcsine correction, planned from
its parameters alone (client and server agree
without a word), and one full-size bootstrap on a server that holds only the
client's public bytes."""

import gc
import warnings

import numpy as np
import pytest

import securinfer as si
from securinfer import bootstrapping
from securinfer.bootstrapping import (TEST_PARAMETERS, Bootstrapper, default_encapsulation, default_options,
                                      default_plan, parameters_for_bootstrap, prepare)
from securinfer.parameters import max_secure_modulus_bits
from securinfer.presets import PRESETS

from .helpers import at_level_zero


def planning(params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return si.Context.for_planning(**params, security=None)


def test_preset_is_the_encapsulated_43_bit_chain_with_slots_to_coeffs_first():
    p = PRESETS["bootstrap"]
    assert p == parameters_for_bootstrap(65536, 9, encapsulation=32, special_primes=6, scale_bits=43, arcsine=True)
    assert sum(p["coeff_bits"]) <= max_secure_modulus_bits(65536)
    plan = si.Context.for_planning(**p)                       # 128-bit check on
    assert default_encapsulation(plan._core) == 32
    assert default_plan(plan._core) == (32, True, True)
    # 9 levels for computation: a bootstrap returns at level 12, takes its input at 3
    assert (plan.levels_after_bootstrap, plan.bootstrap_input_level) == (12, 3)
    assert p["coeff_bits"][0] == 43 + 4        # q0 2^4 above the scale, slot values shrunk by 2^4
    assert all(abs(plan.level_scale(level) / 2.0 ** 43 - 1) < 1e-5 for level in range(13))


@pytest.mark.parametrize("params", [TEST_PARAMETERS, parameters_for_bootstrap(65536, 9),
                                    parameters_for_bootstrap(8192, 9)])
def test_chains_laid_out_for_the_dense_secret_keep_it(params):
    assert default_encapsulation(planning(params)._core) is None


# The usual order with the arcsine correction (its q0 keeps the headroom of the chain without it).
ARCSINE_CHAIN = parameters_for_bootstrap(65536, 9, encapsulation=32, special_primes=5, scale_bits=43, arcsine=True,
                                         stc_first=False)


@pytest.mark.parametrize("params", [TEST_PARAMETERS, PRESETS["bootstrap"], parameters_for_bootstrap(65536, 9),
                                    parameters_for_bootstrap(4096, 3, encapsulation=32), ARCSINE_CHAIN,
                                    parameters_for_bootstrap(4096, 3, arcsine=True),
                                    parameters_for_bootstrap(4096, 3, arcsine=True, stc_first=False),
                                    parameters_for_bootstrap(16384, 5, encapsulation=32, special_primes=4)])
def test_levels_after_bootstrap_without_a_plan_is_the_plan_s(params):
    """The level count comes from the chain's arithmetic (no diagonals
    encoded); it must be what the plan itself says, and every chain
    parameters_for_bootstrap lays out lands on its computing levels."""
    ctx = planning(params)
    weight, arcsine, stc_first = default_plan(ctx._core)
    assert default_options(ctx._core) == (weight, arcsine)
    plan = Bootstrapper(ctx._core, encapsulation=weight, arcsine=arcsine, stc_first=stc_first, keep_plaintexts=False)
    assert ctx.levels_after_bootstrap == plan.levels_after
    assert ctx.bootstrap_input_level == plan.input_level
    assert plan.levels_after - plan.input_level >= 3
    assert abs(ctx.level_scale(plan.levels_after) / ctx.level_scale(0) - 1) < 1e-5


def test_the_usual_order_arcsine_chain_plans_itself():
    """The arcsine correction in the usual order (stc_first=False) is
    recognised from its parameters like the preset: 128-bit, encapsulation
    and the arcsine correction, 9 levels of 43 bits after, input at level 0;
    its q0 keeps the headroom of the chain without arcsine (a constant
    vector's encoding has a coefficient as large as its slots)."""
    assert sum(ARCSINE_CHAIN["coeff_bits"]) <= max_secure_modulus_bits(65536)
    ctx = si.Context.for_planning(**ARCSINE_CHAIN)
    assert default_plan(ctx._core) == (32, True, False)
    assert (ctx.levels_after_bootstrap, ctx.bootstrap_input_level) == (9, 0)
    assert ARCSINE_CHAIN["coeff_bits"][0] == 43 + 6


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
    bytes, makes the bootstrapping keys and hands over its public context;
    the server bootstraps a ciphertext at the input level (3) with them
    alone. About 55-75 s and 10.6 GiB at peak on a 2-core machine (the client's keys are freed
    before the server loads its copy)."""
    client = si.Context.create(preset="bootstrap")
    secret = client.serialize(secret_key=True)              # before the Galois keys: small
    client.generate_bootstrapping_keys()
    assert client.key_bytes["galois"] < 7e9
    z = np.full(client.slots, 0.9)
    z[::2] = rng.uniform(-1, 1, client.slots // 2)         # half constant: the precision holds for both kinds
    query = client.encrypt(z).drop_to_level(client.bootstrap_input_level).serialize()
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
    assert y.level == 12
    bits = -np.log2(np.max(np.abs(client.decrypt(y) - z)))
    print(f"N = 2^16 preset, server from public bytes: {bits:.2f} bits")
    assert bits >= 22          # 24.1-24.2 measured (docs/bootstrapping.md)
