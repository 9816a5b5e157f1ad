"""N = 2^16 with 21 chain primes of 50 bits (the scale of bootstrapping and
deep models), one thread: multiply + relinearise + rescale and a rotation,
with the special primes chosen by cost (the default) and with one special
prime (21 digits). Issue 15's anchor: OpenFHE 1.6.1 takes 331 ms and 339 ms
CPU at a similar depth on this machine (not run here). About 2 GB of keys;
runs only with ``SECURINFER_BENCH_N16=1``.

    SECURINFER_BENCH_N16=1 pytest benchmarks/test_bench_ckks_n16.py --benchmark-columns=min,median,rounds
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import securinfer as si

pytestmark = pytest.mark.skipif(os.environ.get("SECURINFER_BENCH_N16") != "1",
                                reason="N = 2^16: SECURINFER_BENCH_N16=1")

CHAIN = [50] * 22  # 21 chain primes, the last entry the special primes' size


@pytest.fixture(scope="module", params=["default", "special_primes=1"])
def ring(request):
    si.set_num_threads(1)
    extra = {} if request.param == "default" else {"special_primes": 1}
    ctx = si.Context.create(poly_degree=65536, coeff_bits=CHAIN, scale_bits=40, **extra)
    ctx.generate_rotation_keys(steps=[1])
    x = np.linspace(-1, 1, 64)
    return request.param, ctx, x, ctx.encrypt(x)


def test_multiply(benchmark, ring):
    label, ctx, x, ct = ring
    benchmark.extra_info.update(op="multiply+relin+rescale", special=label, primes=len(ctx.coeff_bits))
    y = benchmark.pedantic(lambda: ct * ct, rounds=5, iterations=1)
    assert np.max(np.abs(ctx.decrypt(y)[:64] - x * x)) < 1e-4


def test_rotate_1(benchmark, ring):
    label, ctx, x, ct = ring
    benchmark.extra_info.update(op="rotate by 1", special=label, primes=len(ctx.coeff_bits))
    y = benchmark.pedantic(lambda: ct.rotate(1), rounds=5, iterations=1)
    assert np.max(np.abs(ctx.decrypt(y)[:63] - x[1:])) < 1e-4
