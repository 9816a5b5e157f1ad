"""The key-switching cost model and the choice of special primes it drives:
the count against a closed form, the choice against a brute-force search
under the 128-bit bound, and contexts built from the choice computing
correctly."""

import math

import numpy as np
import pytest

import securinfer as si
from securinfer import ParameterError
from securinfer._core import ckks
from securinfer.key_switching import choose_special_primes, key_switch_cost
from securinfer.presets import PRESETS, parameters_for_depth


def closed_form(n, chain, special):
    """The count when special divides chain: dnum digits of `special` primes,
    each lifted to `chain` primes; ModDown twice; products weighed 2/log2(n)."""
    assert chain % special == 0
    dnum = chain // special
    ntts = dnum * (chain + special) + 2 * (special + chain)
    products = chain * (chain + 1) + 2 * dnum * (chain + special) + 2 * (special * chain + special + 2 * chain)
    return ntts + products * 2 / math.log2(n)


@pytest.mark.parametrize("n,chain,special", [(8192, 3, 1), (8192, 3, 3), (16384, 6, 2), (65536, 21, 3), (65536, 21, 7)])
def test_cost_matches_the_closed_form(n, chain, special):
    assert key_switch_cost(n, chain, special) == pytest.approx(closed_form(n, chain, special))


def test_uneven_last_digit_is_counted_by_hand():
    # 7 primes in digits of 3, 3 and 1 over an extended base of 10 primes:
    # NTTs 7 (inverse) + 7 + 7 + 9 (lifts) + 2 * (3 + 7) (ModDowns) = 50;
    # products (3*7+3) + (3*7+3) + (1*9+1) + 2*3*10 + 2*(3*7 + 3 + 2*7) = 194.
    assert key_switch_cost(16384, 7, 3) == pytest.approx(50 + 194 * 2 / 14)


@pytest.mark.parametrize("n,chain_bits,special_bits", [
    (8192, [60, 40, 40], 60),
    (8192, [49, 40, 40], 49),
    (16384, [49] + [40] * 6, 49),
    (32768, [49] + [40] * 14, 49),
    (65536, [50] * 21, 50),
    (65536, [60] + [50] * 20, 60),
])
def test_choice_is_the_cheapest_admissible_count(n, chain_bits, special_bits):
    bound = ckks.max_secure_modulus_bits(n)
    chosen = choose_special_primes(n, chain_bits, special_bits)
    assert sum(chain_bits) + chosen * special_bits <= bound
    admissible = [k for k in range(1, len(chain_bits) + 1) if sum(chain_bits) + k * special_bits <= bound]
    costs = {k: key_switch_cost(n, len(chain_bits), k) for k in admissible}
    assert costs[chosen] == min(costs.values())
    assert chosen == min(k for k in admissible if costs[k] == costs[chosen])  # ties: fewer primes


def test_deep_chain_halves_the_default_cost():
    # The case: 21 chain primes of 50 bits at N = 2^16, where one
    # special prime per digit costs twice the measured optimum.
    chosen = choose_special_primes(65536, [50] * 21, 50)
    assert chosen > 1
    assert key_switch_cost(65536, 21, 1) / key_switch_cost(65536, 21, chosen) > 2


def test_choice_refuses_chains_that_cannot_fit():
    with pytest.raises(ParameterError, match="128-bit bound"):
        choose_special_primes(8192, [60, 60, 60], 60)
    with pytest.raises(ParameterError, match="at least one"):
        choose_special_primes(8192, [], 60)
    assert choose_special_primes(8192, [60, 60, 60], 60, secure=False) >= 1


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 6, 10, 14, 20])
def test_depth_chooser_by_cost_keeps_the_ring_and_the_bound(depth):
    fixed = parameters_for_depth(depth)
    by_cost = parameters_for_depth(depth, digits=None)
    assert by_cost["poly_degree"] == fixed["poly_degree"]
    assert sum(by_cost["coeff_bits"]) <= ckks.max_secure_modulus_bits(by_cost["poly_degree"])
    chain = len(by_cost["coeff_bits"]) - by_cost["special_primes"]
    assert chain == depth + 1
    assert by_cost["special_primes"] >= fixed["special_primes"]
    n = by_cost["poly_degree"]
    assert key_switch_cost(n, chain, by_cost["special_primes"]) <= key_switch_cost(n, chain, fixed["special_primes"])


def test_depth_chooser_rejects_bad_digits():
    with pytest.raises(ParameterError, match="digits"):
        parameters_for_depth(3, digits=0)


def test_deep_preset_is_the_cost_models_choice():
    spec = PRESETS["deep"]
    chain = spec["coeff_bits"][: len(spec["coeff_bits"]) - spec["special_primes"]]
    assert spec["special_primes"] == choose_special_primes(spec["poly_degree"], chain, spec["coeff_bits"][-1])


def test_context_with_cost_chosen_special_primes_computes_correctly():
    spec = parameters_for_depth(4, digits=None)
    ctx = si.Context.create(**spec)
    ctx.generate_rotation_keys(steps=[3])
    x = np.linspace(-1, 1, 64)
    enc = ctx.encrypt(x)
    assert np.allclose(ctx.decrypt(enc * enc)[:64], x * x, atol=1e-5)
    assert np.allclose(ctx.decrypt(enc.rotate(3))[:61], x[3:], atol=1e-5)


def test_default_special_primes_keeps_fitting_chains_and_adds_by_cost():
    from securinfer.key_switching import default_special_primes

    # The benchmark chain at N = 8192 has no room for a second 60-bit prime.
    assert default_special_primes(8192, [60, 40, 40, 60]) == {"coeff_bits": [60, 40, 40, 60], "special_primes": 1}
    # At N = 16384 it has: one more special prime, cheaper by the model, within the bound.
    spec = default_special_primes(16384, [60] + [40] * 6 + [60])
    assert spec["special_primes"] == choose_special_primes(16384, [60] + [40] * 6, 60)
    assert spec["coeff_bits"][:7] == [60] + [40] * 6
    assert sum(spec["coeff_bits"]) <= ckks.max_secure_modulus_bits(16384)
    # A chain over the bound is left as given, for Context.create's security check to refuse.
    assert default_special_primes(8192, [60] * 5) == {"coeff_bits": [60] * 5, "special_primes": 1}
    ctx = si.Context.create(poly_degree=16384, scale_bits=40, **spec)
    x = np.linspace(-1, 1, 32)
    assert np.allclose(ctx.decrypt(ctx.encrypt(x) * ctx.encrypt(x))[:32], x * x, atol=1e-5)


def _bit_sizes(primes):
    return [int(q).bit_length() for q in primes]


def test_create_chooses_special_primes_by_cost_when_not_given():
    bits = [60] + [40] * 4 + [60]
    ctx = si.Context.create(poly_degree=16384, coeff_bits=bits, scale_bits=40)
    want = choose_special_primes(16384, bits[:-1], 60)
    assert want > 1, "this chain has room for more than SEAL's one special prime"
    p = ctx.parameters
    assert _bit_sizes(p.q_primes) == bits[:-1], "the chain is exactly the one asked for"
    assert _bit_sizes(p.p_primes) == [60] * want
    assert sum(_bit_sizes(p.q_primes) + _bit_sizes(p.p_primes)) <= ckks.max_secure_modulus_bits(16384)
    assert ctx.max_level == 4
    # special_primes given: kept, SEAL's layout for 1.
    seal = si.Context.create(poly_degree=16384, coeff_bits=bits, scale_bits=40, special_primes=1)
    assert _bit_sizes(seal.parameters.p_primes) == [60] and seal.parameters.dnum == 5
    # Planning (a server before any key) makes the same parameters as create.
    assert si.Context.for_planning(16384, bits, 40).parameters == p
    assert si.Context.for_planning(16384, bits, 40, 1).parameters == seal.parameters
    x = np.linspace(-1, 1, 32)
    enc = ctx.encrypt(x)
    assert np.allclose(ctx.decrypt(enc * enc)[:32], x * x, atol=1e-5)


def test_default_special_primes_never_pass_the_bound():
    # No room for a second 60-bit prime at N = 8192: SEAL's layout, unchanged.
    p = si.Context.create(poly_degree=8192, coeff_bits=[60, 40, 40, 60], scale_bits=40).parameters
    assert _bit_sizes(p.p_primes) == [60]
    # security=None lifts the check, but the default adds no prime past the bound.
    with pytest.warns(UserWarning):
        small = si.Context.create(poly_degree=1024, coeff_bits=[60, 40, 60], scale_bits=40, security=None)
    assert _bit_sizes(small.parameters.p_primes) == [60]
    # An insecure chain is still refused.
    with pytest.raises(si.SecurityError):
        si.Context.create(poly_degree=8192, coeff_bits=[60] * 5, scale_bits=40)


def test_server_descriptions_without_special_primes_agree_with_create():
    from securinfer import server_parameters
    from securinfer.serve.parameters import ParameterSet

    desc = dict(poly_degree=16384, coeff_bits=[60] + [40] * 4 + [60], scale_bits=40)
    want = si.Context.create(**desc).parameters
    assert server_parameters.context_for_server(desc).parameters == want
    assert ParameterSet.from_description(desc).parameters == want
