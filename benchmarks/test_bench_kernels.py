"""Kernel benchmarks: the negacyclic NTT (forward and inverse) for
N = 2^12..2^16 and element-wise multiplication mod q at N = 8192, on every
SIMD path this CPU runs, for a 49-bit and a 60-bit prime (the ifma path holds
primes below 2^50 only, so it runs the 49-bit one only).

Each group ("ntt forward q=49b N=4096", ...) lists the paths side by side;
report.py turns them into speed-ups over the scalar path.

Overhead: the Python-facing calls (NttPlan.forward/inverse, eltwise_mul)
check that every input is below q and return a fresh array (the NTT copies
its input first), so small sizes include that. ``test_wrapper_overhead``
times a numpy copy plus range check of the same array as an estimate of it
(report.py shows it next to the NTT timings).

Paths the CPU or build lacks are skipped with the reason; so are the
SIMDe-emulated AVX-512/IFMA kernels of a test build (their timings mean
nothing).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import securinfer as si
from securinfer import kernels

from _bench_common import set_info

ALL_PATHS = ["scalar", "avx2", "avx512", "ifma"]
_ORDER = {p: i for i, p in enumerate(ALL_PATHS)}
NTT_SIZES = [2**k for k in range(12, 17)]
ELTWISE_N = 8192
BITS = [49, 60]


def _skip_reason(path: str):
    info = si.simd_info()
    if path not in info["available"]:
        return f"{path} path not available on this CPU/build (available: {info['available']})"
    if _ORDER[path] > _ORDER[info["active"]]:
        return f"{path} path is above the SECURINFER_SIMD cap ({info['active']})"
    if info["emulated"] and path in ("avx512", "ifma"):
        return f"{path} kernels are SIMDe emulations in this build: timings would be meaningless"
    return None


def _path_bits_params():
    params = []
    for bits in BITS:
        for path in ALL_PATHS:
            if path == "ifma" and bits >= 50:
                continue  # ifma needs q < 2^50
            reason = _skip_reason(path)
            marks = [pytest.mark.skip(reason=reason)] if reason else []
            params.append(pytest.param(bits, path, marks=marks, id=f"{bits}b-{path}"))
    return params


PATH_BITS = _path_bits_params()


@functools.lru_cache(maxsize=None)
def _prime(bits: int, n: int) -> int:
    return int(kernels.generate_ntt_primes(bits, n, 1)[0])


@functools.lru_cache(maxsize=None)
def _plan(n: int, q: int, path: str):
    return kernels.NttPlan(n, q, path=path)


def _kernel_info(benchmark, *, op, bits, n, path, library="securinfer"):
    set_info(benchmark, group=f"{op} q={bits}b N={n}", library=library, kind="kernel", op=op, bits=bits,
             N=n, path=path, threads=1)


@pytest.mark.parametrize("direction", ["forward", "inverse"])
@pytest.mark.parametrize("n", NTT_SIZES, ids=lambda n: f"N{n}")
@pytest.mark.parametrize("bits,path", PATH_BITS)
def test_ntt(benchmark, direction, n, bits, path, rng):
    q = _prime(bits, n)
    plan = _plan(n, q, path)
    assert plan.path == path
    _kernel_info(benchmark, op=f"ntt {direction}", bits=bits, n=n, path=path)
    a = rng.integers(0, q, n, dtype=np.uint64)
    fn = plan.forward if direction == "forward" else plan.inverse
    out = benchmark(fn, a)
    # Bit-identical to the scalar path, and the other direction undoes it.
    scalar = _plan(n, q, "scalar")
    want = scalar.forward(a) if direction == "forward" else scalar.inverse(a)
    np.testing.assert_array_equal(out, want)
    back = plan.inverse(out) if direction == "forward" else plan.forward(out)
    np.testing.assert_array_equal(back, a)


@pytest.mark.parametrize("n", NTT_SIZES, ids=lambda n: f"N{n}")
def test_wrapper_overhead(benchmark, n, rng):
    """Estimate of the wrapper's share of an NTT call: copy the array and check
    it is below q (numpy; the C++ wrapper does the same work)."""
    q = _prime(60, n)
    set_info(benchmark, group=f"wrapper overhead estimate N={n}", library="numpy", kind="kernel",
             op="copy+range check", bits=60, N=n, path="numpy", threads=1)
    a = rng.integers(0, q, n, dtype=np.uint64)

    def copy_and_check(arr):
        if (arr >= q).any():
            raise ValueError("out of range")
        return arr.copy()

    out = benchmark(copy_and_check, a)
    np.testing.assert_array_equal(out, a)


@pytest.mark.parametrize("bits,path", PATH_BITS)
def test_eltwise_mul(benchmark, bits, path, rng):
    n = ELTWISE_N
    q = _prime(bits, n)
    _kernel_info(benchmark, op="eltwise mul", bits=bits, n=n, path=path)
    a = rng.integers(0, q, n, dtype=np.uint64)
    b = rng.integers(0, q, n, dtype=np.uint64)
    out = benchmark(kernels.eltwise_mul, a, b, q, path=path)
    want = np.array([int(x) * int(y) % q for x, y in zip(a.tolist(), b.tolist())], dtype=np.uint64)
    np.testing.assert_array_equal(out, want)
