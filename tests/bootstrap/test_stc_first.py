"""SlotsToCoeffs first (N = 2^12, insecure test chains): the input's last
levels carry SlotsToCoeffs, then ModRaise, CoeffsToSlots and EvalMod with the
arcsine correction; the result is checked against numpy, for full and sparse
slots, real and complex, and for inputs whose encoding has large
coefficients (constant vectors), which the usual order loses precision on."""

import warnings

import numpy as np
import pytest

import securinfer as si
from securinfer import bootstrapping
from securinfer._core import ckks as _ckks
from securinfer.bootstrapping import Bootstrapper, default_plan, parameters_for_bootstrap, prepare

SPARSE = 64   # the sparse count conftest.stc_ctx has keys for


def bits(err):
    return float(-np.log2(err))


def _context(**options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return si.Context.create(**parameters_for_bootstrap(4096, 3, **options), security=None)


def at_input_level(ctx, values):
    return ctx.encrypt(values).drop_to_level(ctx.bootstrap_input_level)


def test_the_chain_is_recognised_from_its_parameters(stc_ctx):
    assert default_plan(stc_ctx._core) == (None, True, True)
    assert stc_ctx.bootstrap_input_level == 3
    assert stc_ctx.levels_after_bootstrap == 6
    plan = bootstrapping.bootstrapper_for(stc_ctx)
    assert plan.stc_first and (plan.input_level, plan.levels_after) == (3, 6)
    sparse = bootstrapping.bootstrapper_for(stc_ctx, SPARSE)
    assert sparse.packed and {SPARSE, -SPARSE} <= set(sparse.rotation_steps())   # one EvalMod, unpacked
    # the computing levels run from the input level to the output level at one scale
    scales = [stc_ctx.level_scale(level) for level in range(0, 7)]
    assert all(abs(s / scales[0] - 1) < 1e-5 for s in scales)


@pytest.mark.parametrize("slots", [None, SPARSE])
@pytest.mark.parametrize("complex_values", [False, True])
def test_bootstrap_matches_numpy(stc_ctx, rng, slots, complex_values):
    n = stc_ctx.slots if slots is None else slots
    z = rng.uniform(-1, 1, n) + (1j * rng.uniform(-1, 1, n) if complex_values else 0)
    x = at_input_level(stc_ctx, z)
    y = x.bootstrap(slots=slots)
    assert y.level == stc_ctx.levels_after_bootstrap
    out = stc_ctx.decrypt(y)
    print(f"slots {n}, complex {complex_values}: {bits(np.abs(out[:n] - z).max()):.1f} bits")
    assert bits(np.abs(out[:n] - z).max()) >= 20
    if slots is not None:
        # Sparse: one EvalMod on both parts, unpacked by three masked copies of
        # its last polynomial; every block of the slots holds the vector.
        every = _ckks.decrypt(stc_ctx._keys, y._core).reshape(-1, n)
        assert y.padding == "replicated" and bits(np.abs(every - z).max()) >= 20


def test_precision_does_not_depend_on_the_input_s_encoding(stc_ctx, rng):
    """A vector near a constant c puts c into one coefficient of its encoding:
    in the usual order EvalMod then meets |t / q0| up to 2^-headroom. Here
    every input reaches ModRaise as its slot values times 2^-4, so constant
    vectors keep the precision of random ones."""
    near_one = 1 - rng.uniform(2.0 ** -9, 2.0 ** -8, stc_ctx.slots)
    for z in (np.full(stc_ctx.slots, 0.9), near_one, np.full(stc_ctx.slots, -1.0)):
        out = stc_ctx.decrypt(at_input_level(stc_ctx, z).bootstrap())
        assert bits(np.abs(out - z).max()) >= 20


def test_the_usual_order_keeps_headroom_for_constant_vectors(rng):
    """parameters_for_bootstrap(arcsine=True, stc_first=False) keeps the q0
    headroom of the chain without arcsine (2 bits lost a constant vector of
    0.9 to 2.6 bits at N = 2^14)."""
    ctx = _context(arcsine=True, stc_first=False)
    assert default_plan(ctx._core) == (None, True, False) and ctx.bootstrap_input_level == 0
    ctx.generate_bootstrapping_keys()
    z = np.full(ctx.slots, 0.9)
    out = ctx.decrypt(ctx.encrypt(z).drop_to_level(0).bootstrap())
    assert bits(np.abs(out - z).max()) >= 12


def test_higher_levels_are_dropped_and_lower_ones_refused(stc_ctx, rng):
    z = rng.uniform(-1, 1, stc_ctx.slots)
    y = stc_ctx.encrypt(z).bootstrap()                        # from the top: dropped to level 3 first
    assert y.level == 6 and bits(np.abs(stc_ctx.decrypt(y) - z).max()) >= 20
    low = stc_ctx.encrypt(z).drop_to_level(2)
    with pytest.raises(si.LevelError, match="level 3 or above"):
        low.bootstrap()


def test_a_server_from_public_bytes_plans_the_same(stc_ctx, rng):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = si.Context.load(stc_ctx.public().serialize(), security=None)
    assert (server.bootstrap_input_level, server.levels_after_bootstrap) == (3, 6)
    z = rng.uniform(-1, 1, stc_ctx.slots)
    y = si.Ciphertext.load(at_input_level(stc_ctx, z).serialize(), server).bootstrap()
    out = stc_ctx.decrypt(si.Ciphertext.load(y.serialize(), stc_ctx))
    assert bits(np.abs(out - z).max()) >= 20


def test_stc_first_needs_a_last_polynomial_to_carry_its_factor():
    ctx = _context(arcsine=True)
    with pytest.raises(si.ParameterError, match="arcsine"):
        Bootstrapper(ctx._core, arcsine=False, stc_first=True, keep_plaintexts=False)
    with pytest.raises(si.ParameterError, match="two-pass"):
        Bootstrapper(ctx._core, arcsine=True, stc_first=True, passes=2, keep_plaintexts=False)
    with pytest.raises(si.ParameterError, match="stc_first"):
        prepare(ctx, stc_first="yes")
    with pytest.raises(si.ParameterError, match="arcsine=True"):
        parameters_for_bootstrap(4096, 3, stc_first=True)

