"""Parameter validation, the 128-bit security table, presets and the depth chooser."""

import warnings

import numpy as np

import pytest

import securinfer as si
from securinfer.presets import PRESETS, parameters_for_depth

# HomomorphicEncryption.org, 128-bit classical, uniform ternary secret.
STANDARD = {4096: 109, 8192: 218, 16384: 438, 32768: 881, 65536: 1747}


def chain_with_total(bits_total, special_bits=60):
    """A chain of 60-bit primes (and one smaller) adding up to bits_total bits."""
    remaining = bits_total - special_bits
    chain = []
    while remaining > 0:
        b = min(60, remaining)
        if 0 < remaining - b < 30:  # keep every prime at least 30 bits (enough of them exist)
            b = remaining - 30
        chain.append(b)
        remaining -= b
    return chain + [special_bits]


@pytest.mark.parametrize("n", [4096, 8192, 16384])
def test_security_bound_is_enforced_exactly(n):
    bound = STANDARD[n]
    at_bound = chain_with_total(bound)
    assert sum(at_bound) == bound
    ctx = si.Context.create(poly_degree=n, coeff_bits=at_bound, scale_bits=30)
    assert sum(ctx.coeff_bits) == bound
    with pytest.raises(si.SecurityError, match="128-bit"):
        si.Context.create(poly_degree=n, coeff_bits=chain_with_total(bound + 1), scale_bits=30)


@pytest.mark.parametrize("n", [32768, 65536])
def test_security_table_of_large_rings(n):
    from securinfer._core import ckks

    assert ckks.max_secure_modulus_bits(n) == STANDARD[n]


def test_security_none_opts_out_with_a_warning():
    with pytest.warns(UserWarning, match="security=None"):
        ctx = si.Context.create(poly_degree=4096, coeff_bits=[60, 60, 60], scale_bits=40, security=None)
    assert sum(ctx.coeff_bits) > STANDARD[4096]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(poly_degree=8000, coeff_bits=[60, 40, 60], scale_bits=40), "power of two"),
        (dict(poly_degree=8192, coeff_bits=[60], scale_bits=40), "at least one chain prime"),
        (dict(poly_degree=8192, coeff_bits=[60, 70, 60], scale_bits=40), r"\[20, 60\]"),
        (dict(poly_degree=8192, coeff_bits=[60, 40, 40], scale_bits=40, special_primes=0), "special prime"),
        (dict(poly_degree=8192, coeff_bits=[60, 40, 30], scale_bits=40), "special primes"),
        (dict(poly_degree=8192, coeff_bits=[60, 40, 60], scale_bits=70), "scale_bits"),
        (dict(poly_degree=8192, coeff_bits="60,40", scale_bits=40), "list of ints"),
        (dict(preset="nope"), "unknown preset"),
        (dict(preset="fast", depth=3), "exactly one"),
        (dict(), "exactly one"),
    ],
)
def test_bad_parameters_are_refused(kwargs, match):
    with pytest.raises(si.ParameterError, match=match):
        si.Context.create(**kwargs)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_secure_and_documented(name):
    from securinfer import presets

    spec = PRESETS[name]
    assert sum(spec["coeff_bits"]) <= STANDARD[spec["poly_degree"]]
    assert f'"{name}"' in presets.__doc__
    if name not in ("tenseal", "bootstrap"):  # the others keep their primes below 2^50 for IFMA (bootstrap: 60-bit EvalMod primes for precision)
        assert max(spec["coeff_bits"]) <= 50


@pytest.mark.parametrize("depth", [1, 2, 4, 6, 10, 14, 20])
def test_depth_chooser_gives_the_smallest_secure_ring(depth):
    spec = parameters_for_depth(depth)
    chain = spec["coeff_bits"][: len(spec["coeff_bits"]) - spec["special_primes"]]
    assert len(chain) == depth + 1
    total = sum(spec["coeff_bits"])
    assert total <= STANDARD[spec["poly_degree"]]
    smaller = spec["poly_degree"] // 2
    assert smaller < 4096 or total > STANDARD[smaller]


def test_context_by_depth_has_that_depth():
    ctx = si.Context.create(depth=3)
    assert ctx.max_level == 3


@pytest.mark.parametrize("dnum", [1, 2, 3, 5])
def test_dnum_sets_the_key_switching_digits(dnum):
    ctx = si.Context.create(depth=4, dnum=dnum)
    chain = ctx.max_level + 1
    special = len(ctx.coeff_bits) - chain
    assert -(-chain // special) <= dnum  # ceil(chain / special) digits
    x = np.linspace(-1, 1, 16)
    assert np.allclose(ctx.decrypt(ctx.encrypt(x) * ctx.encrypt(x)), x * x, atol=1e-6)
    with pytest.raises(si.ParameterError, match="dnum"):
        si.Context.create(preset="fast", dnum=2)
