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

