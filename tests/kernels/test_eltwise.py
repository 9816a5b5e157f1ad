"""Element-wise kernels: every path against exact Python integers and against
the scalar path, bit for bit, with edge values and odd lengths."""

import numpy as np
import pytest

from securinfer import ParameterError, kernels

from ..conftest import path_params

BITS = [20, 30, 40, 49, 50, 55, 60]
LENGTHS = [1, 3, 7, 8, 9, 17, 1000, 8192]


def operands(n, q, rng):
    a = rng.integers(0, q, n, dtype=np.uint64)
    b = rng.integers(0, q, n, dtype=np.uint64)
    edges = np.array([0, 1, q - 1, q - 2, q // 2], dtype=np.uint64)
    a[: min(n, 5)] = edges[: min(n, 5)]
    b[: min(n, 5)] = edges[::-1][: min(n, 5)]
    return a, b


def exact(op, *arrays):
    return np.array([op(*map(int, vals)) for vals in zip(*arrays)], dtype=np.uint64)


@pytest.mark.parametrize("path", path_params())
@pytest.mark.parametrize("bits", BITS)
def test_kernels_match_exact_arithmetic(path, bits, rng):
    if path == "ifma" and bits > 50:
        pytest.skip("the ifma path holds primes below 2^50 only")
    q = kernels.generate_ntt_primes(bits, 1024, 1)[0]
    for n in LENGTHS:
        a, b = operands(n, q, rng)
        acc = rng.integers(0, q, n, dtype=np.uint64)
        w = int(rng.integers(0, q))
        checks = {
            "add": (kernels.eltwise_add(a, b, q, path=path), exact(lambda x, y: (x + y) % q, a, b)),
            "sub": (kernels.eltwise_sub(a, b, q, path=path), exact(lambda x, y: (x - y) % q, a, b)),
            "negate": (kernels.eltwise_negate(a, q, path=path), exact(lambda x: (-x) % q, a)),
            "mul": (kernels.eltwise_mul(a, b, q, path=path), exact(lambda x, y: x * y % q, a, b)),
            "mul_add": (
                kernels.eltwise_mul_add(acc, a, b, q, path=path),
                exact(lambda c, x, y: (c + x * y) % q, acc, a, b),
            ),
            "mul_scalar": (kernels.eltwise_mul_scalar(a, w, q, path=path), exact(lambda x: x * w % q, a)),
        }
        for name, (got, want) in checks.items():
            assert np.array_equal(got, want), (name, n)


@pytest.mark.parametrize("path", path_params())
def test_kernels_match_scalar_path_on_large_random_input(path, rng):
    for bits in ([30, 49] if path == "ifma" else [30, 49, 60]):
        q = kernels.generate_ntt_primes(bits, 1024, 1)[0]
        a, b = operands(65536 + 5, q, rng)
        for fn in (kernels.eltwise_add, kernels.eltwise_sub, kernels.eltwise_mul):
            assert np.array_equal(fn(a, b, q, path=path), fn(a, b, q, path="scalar"))
        assert np.array_equal(
            kernels.eltwise_mul_add(b, a, a, q, path=path), kernels.eltwise_mul_add(b, a, a, q, path="scalar")
        )


def test_bad_input_is_refused():
    q = kernels.generate_ntt_primes(40, 1024, 1)[0]
    a = np.zeros(8, dtype=np.uint64)
    with pytest.raises(ParameterError, match="same length"):
        kernels.eltwise_add(a, np.zeros(9, dtype=np.uint64), q)
    with pytest.raises(ParameterError, match=r"b\[0\].*not below"):
        kernels.eltwise_mul(a, np.full(8, q, dtype=np.uint64), q)
    with pytest.raises(ParameterError, match="dtype uint64"):
        kernels.eltwise_mul(a, np.zeros(8, dtype=np.uint32), q)
    with pytest.raises(ParameterError, match="scalar must be below"):
        kernels.eltwise_mul_scalar(a, q, q)
    with pytest.raises(ParameterError, match="unknown SIMD path"):
        kernels.eltwise_add(a, a, q, path="sse9")
