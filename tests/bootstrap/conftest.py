import warnings

import pytest

import securinfer as si
from securinfer.bootstrapping import TEST_PARAMETERS, Bootstrapper


@pytest.fixture(scope="package")
def boot_ctx():
    """Small insecure parameters (N = 2^12) with bootstrapping keys."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = si.Context.create(**TEST_PARAMETERS, security=None)
    ctx.generate_bootstrapping_keys()
    return ctx


@pytest.fixture(scope="package")
def boot_plan(boot_ctx):
    from securinfer.bootstrapping import bootstrapper_for

    return bootstrapper_for(boot_ctx)



@pytest.fixture(scope="package")
def enc_ctx():
    """The test parameters with q0 of 50 bits (less EvalMod noise: headroom
    2^10) and sparse-secret encapsulation (weight 32): 6 levels after."""
    return _encapsulated(arcsine=False)


@pytest.fixture(scope="package")
def arcsine_ctx():
    """enc_ctx's parameters with the arcsine correction: 4 levels after."""
    return _encapsulated(arcsine=True)


def _encapsulated(arcsine):
    from securinfer.bootstrapping import prepare

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = dict(TEST_PARAMETERS)
        params["coeff_bits"] = [50] + params["coeff_bits"][1:]
        ctx = si.Context.create(**params, security=None)
    prepare(ctx, encapsulation=32, arcsine=arcsine)
    ctx.generate_bootstrapping_keys()
    return ctx


@pytest.fixture(scope="package")
def stc_ctx():
    """A chain laid out for SlotsToCoeffs first (the arcsine default of
    parameters_for_bootstrap, N = 2^12): 6 levels after a bootstrap, whose
    input is at level 3 or above; keys for full slots and 64 sparse slots."""
    from securinfer.bootstrapping import parameters_for_bootstrap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = si.Context.create(**parameters_for_bootstrap(4096, 3, arcsine=True), security=None)
    ctx.generate_bootstrapping_keys(slots=[64])
    return ctx
