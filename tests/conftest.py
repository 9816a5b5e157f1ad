import os

import numpy as np
import pytest

import securinfer as si

ALL_PATHS = ["scalar", "avx2", "avx512", "ifma"]
_ORDER = {p: i for i, p in enumerate(ALL_PATHS)}


def usable_paths():
    """Paths this CPU/build can run, up to the active cap (SECURINFER_SIMD)."""
    info = si.simd_info()
    cap = _ORDER[info["active"]]
    return [p for p in info["available"] if _ORDER[p] <= cap]


def path_params():
    """Every path, skipped exactly when this CPU or build lacks it (or it is capped)."""
    usable = usable_paths()
    return [
        pytest.param(p, marks=pytest.mark.skipif(p not in usable, reason=f"{p} not available here (or capped by SECURINFER_SIMD)"))
        for p in ALL_PATHS
    ]


@pytest.fixture
def rng():
    # Deterministic test data; never used for anything secret.
    return np.random.default_rng(12345)


def pytest_report_header(config):
    info = si.simd_info()
    return f"securinfer simd: detected={info['detected']} available={info['available']} active={info['active']} emulated={info['emulated']} SECURINFER_SIMD={os.environ.get('SECURINFER_SIMD')}"
