"""Polynomial evaluation on all slots, securinfer's polyval beside TenSEAL's
`polyval`, degrees 7, 15 and 31, N = 16384 with seven 40-bit levels, one thread."""

from __future__ import annotations

import numpy as np
import pytest

import securinfer as si
from securinfer.linalg.polynomial import polyval

from _bench_common import ts

N = 16384
BITS = [60] + [40] * 7 + [60]
DEGREES = [7, 15, 31]


@pytest.fixture(scope="module")
def ours():
    si.set_num_threads(1)
    ctx = si.Context.create(poly_degree=N, coeff_bits=BITS, scale_bits=40)
    x = np.random.default_rng(1).uniform(-1, 1, ctx.slots)
    return ctx, x


@pytest.fixture(scope="module")
def theirs():
    if ts is None:
        pytest.skip("tenseal not installed")
    ctx = ts.context(ts.SCHEME_TYPE.CKKS, N, coeff_mod_bit_sizes=BITS, n_threads=1)
    ctx.global_scale = 2.0**40
    ctx.generate_relin_keys()
    x = np.random.default_rng(1).uniform(-1, 1, N // 2)
    return ctx, x


def coefficients(degree):
    return np.random.default_rng(degree).uniform(-1, 1, degree + 1)


@pytest.mark.parametrize("degree", DEGREES)
def test_polyval_securinfer(benchmark, ours, degree):
    ctx, x = ours
    ct = ctx.encrypt(x)
    c = coefficients(degree)
    y = benchmark.pedantic(polyval, args=(ct, c), rounds=5, iterations=1, warmup_rounds=1)
    benchmark.group = f"polyval N={N} degree {degree}"
    benchmark.extra_info.update(library="securinfer", op=f"polyval degree {degree}", N=N, threads=1,
                                levels_used=ct.level - y.level)
    want = np.polynomial.polynomial.polyval(x, c)
    assert np.max(np.abs(ctx.decrypt(y) - want)) < 1e-3


@pytest.mark.parametrize("degree", DEGREES)
def test_polyval_tenseal(benchmark, theirs, degree):
    ctx, x = theirs
    vec = ts.ckks_vector(ctx, list(x))
    c = list(coefficients(degree))
    y = benchmark.pedantic(vec.polyval, args=(c,), rounds=5, iterations=1, warmup_rounds=1)
    benchmark.group = f"polyval N={N} degree {degree}"
    benchmark.extra_info.update(library="tenseal", op=f"polyval degree {degree}", N=N, threads=1)
    want = np.polynomial.polynomial.polyval(x, np.array(c))
    assert np.max(np.abs(np.array(y.decrypt()) - want)) < 1e-2
