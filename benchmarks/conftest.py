"""Shared fixtures for the benchmark suite: CKKS contexts for securinfer and
TenSEAL (keys made once per ring degree) and the thread-count parametrisation
(the backends and helpers are in _bench_common.py).

Run from the repository root (plain ``pytest`` never collects this directory:
pyproject's ``testpaths = ["tests"]``)::

    pytest benchmarks --benchmark-group-by=group --benchmark-columns=min,median,max,rounds

Benchmarks never assert on speed. Every benchmark does check its result
(loosely) after the timed calls, so a broken benchmark fails instead of
timing garbage.
"""

from __future__ import annotations

import numpy as np
import pytest

import securinfer as si

from _bench_common import CKKS_PARAMS, LIBRARIES, TENSEAL, THREADS, BackendCache, ts


def pytest_addoption(parser):
    group = parser.getgroup("securinfer benchmarks")
    group.addoption(
        "--bench-slow-rounds",
        type=int,
        default=3,
        help="rounds for the slow benchmarks run with benchmark.pedantic (key generation); default 3",
    )


def pytest_report_header(config):
    info = si.simd_info()
    tv = getattr(ts, "__version__", None) or (ts and getattr(ts, "version", None)) or "not installed"
    if callable(tv):
        tv = tv()
    return (f"securinfer simd: available={info['available']} active={info['active']} "
            f"emulated={info['emulated']}; tenseal: {tv}")


@pytest.fixture(scope="session")
def slow_rounds(pytestconfig) -> int:
    return max(1, pytestconfig.getoption("--bench-slow-rounds"))


@pytest.fixture
def rng():
    # Deterministic benchmark data; nothing secret.
    return np.random.default_rng(20240601)


@pytest.fixture(params=THREADS, ids=lambda t: f"t{t}")
def threads(request):
    """Thread count: sets securinfer's pool size for the test (restored after);
    TenSEAL contexts are made with n_threads=threads."""
    before = si.get_num_threads()
    si.set_num_threads(request.param)
    yield request.param
    si.set_num_threads(before)


@pytest.fixture(params=LIBRARIES)
def library(request):
    if request.param == TENSEAL and ts is None:
        pytest.skip("tenseal is not installed (pip install tenseal==0.3.18)")
    return request.param


@pytest.fixture(scope="module", params=sorted(CKKS_PARAMS), ids=lambda n: f"N{n}")
def ckks_n(request) -> int:
    return request.param


@pytest.fixture(scope="module")
def backends(ckks_n):
    cache = BackendCache(ckks_n)
    yield cache
    cache.clear()


@pytest.fixture
def backend(backends, library, threads):
    """The library's context for this ring degree and thread count."""
    return backends.get(library, threads)
