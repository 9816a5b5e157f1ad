import numpy as np
import pytest

import securinfer as si


def precision_bits(got, want) -> float:
    """-log2 of the largest error relative to the largest magnitude (Lattigo-style)."""
    err = np.max(np.abs(np.asarray(got) - np.asarray(want)))
    scale = max(1.0, float(np.max(np.abs(want))))
    return float("inf") if err == 0 else -np.log2(err / scale)


def assert_close(got, want, min_bits, what=""):
    bits = precision_bits(got, want)
    err = np.max(np.abs(np.asarray(got) - np.asarray(want)))
    print(f"{what}: max abs error {err:.3e}, {bits:.1f} bits")
    assert np.shape(got) == np.shape(want), (np.shape(got), np.shape(want))
    assert bits >= min_bits, f"{what}: {bits:.1f} bits of precision, wanted {min_bits} (max abs error {err:.3e})"


PARAMETER_SETS = {
    "N8192-s40": dict(poly_degree=8192, coeff_bits=[60, 40, 40, 60], scale_bits=40),
    "N16384-s40": dict(poly_degree=16384, coeff_bits=[60] + [40] * 4 + [60], scale_bits=40),
    "N16384-s50": dict(poly_degree=16384, coeff_bits=[60] + [50] * 3 + [60], scale_bits=50),
    "N32768-s40": dict(poly_degree=32768, coeff_bits=[60] + [40] * 4 + [60], scale_bits=40),
}


@pytest.fixture(scope="session")
def ctx_fast():
    """N=8192 [60, 40, 40, 60] with power-of-two rotation keys and conjugation."""
    ctx = si.Context.create(**PARAMETER_SETS["N8192-s40"])
    ctx.generate_rotation_keys(conjugation=True)
    return ctx


@pytest.fixture(scope="session", params=sorted(PARAMETER_SETS))
def ctx_any(request):
    ctx = si.Context.create(**PARAMETER_SETS[request.param])
    ctx.generate_rotation_keys(steps=[1, -1, 2, 5])
    return ctx
