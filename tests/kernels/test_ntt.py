"""The negacyclic NTT: scalar against a textbook convolution, every SIMD path
against the scalar path bit for bit, properties, and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securinfer import ParameterError, kernels

from ..conftest import path_params

BITS = [20, 30, 40, 49, 50, 55, 60]
IFMA_BITS = [b for b in BITS if b <= 50]  # every 50-bit prime is below 2^50
SIZES = [2**k for k in range(10, 17)]


def negacyclic_convolution(a, b, q):
    """Textbook O(N^2) product in Z_q[X]/(X^N + 1), in Python integers."""
    n = len(a)
    c = [0] * n
    for i in range(n):
        ai = int(a[i])
        for j in range(n):
            if i + j < n:
                c[i + j] += ai * int(b[j])
            else:
                c[i + j - n] -= ai * int(b[j])
    return np.array([x % q for x in c], dtype=np.uint64)


def edge_inputs(n, q, rng):
    """Random values, then zeros, q - 1 everywhere, and a mix of 0, 1, q - 1."""
    yield rng.integers(0, q, n, dtype=np.uint64)
    yield np.zeros(n, dtype=np.uint64)
    yield np.full(n, q - 1, dtype=np.uint64)
    yield rng.choice(np.array([0, 1, q - 1], dtype=np.uint64), n)


@pytest.mark.parametrize("n", [2, 4, 8, 16, 64])
@pytest.mark.parametrize("bits", [20, 49, 60])
def test_scalar_ntt_matches_textbook_convolution(n, bits, rng):
    q = kernels.generate_ntt_primes(bits, n, 1)[0]
    plan = kernels.NttPlan(n, q, path="scalar")
    a = rng.integers(0, q, n, dtype=np.uint64)
    b = rng.integers(0, q, n, dtype=np.uint64)
    product = kernels.eltwise_mul(plan.forward(a), plan.forward(b), q, path="scalar")
    assert np.array_equal(plan.inverse(product), negacyclic_convolution(a, b, q))


def test_scalar_ntt_is_evaluation_at_odd_powers_of_the_root(rng):
    n = 16
    q = kernels.generate_ntt_primes(30, n, 1)[0]
    plan = kernels.NttPlan(n, q, path="scalar")
    a = rng.integers(0, q, n, dtype=np.uint64)
    psi = plan.root
    out = plan.forward(a)
    for k in range(n):
        rev = int(format(k, f"0{n.bit_length() - 1}b")[::-1], 2)
        x = pow(psi, 2 * rev + 1, q)
        assert int(out[k]) == sum(int(c) * pow(x, i, q) for i, c in enumerate(a)) % q


@pytest.mark.parametrize("path", path_params())
@pytest.mark.parametrize("n", SIZES)
def test_path_matches_scalar_bit_for_bit(path, n, rng):
    bits_list = IFMA_BITS if path == "ifma" else BITS
    for bits in bits_list:
        q = kernels.generate_ntt_primes(bits, n, 1)[0]
        reference = kernels.NttPlan(n, q, path="scalar")
        plan = kernels.NttPlan(n, q, path=path)
        assert plan.path == path
        for a in edge_inputs(n, q, rng):
            forward = plan.forward(a)
            assert np.array_equal(forward, reference.forward(a)), (bits, "forward")
            assert np.array_equal(plan.inverse(a), reference.inverse(a)), (bits, "inverse")
            assert np.array_equal(plan.inverse(forward), a), (bits, "round trip")


@pytest.mark.parametrize("path", path_params())
@pytest.mark.parametrize("n", [2, 4, 8, 16, 32])
def test_path_matches_scalar_for_tiny_sizes(path, n, rng):
    q = kernels.generate_ntt_primes(40, n, 1)[0]
    reference = kernels.NttPlan(n, q, path="scalar")
    plan = kernels.NttPlan(n, q, path=path)
    for a in edge_inputs(n, q, rng):
        assert np.array_equal(plan.forward(a), reference.forward(a))
        assert np.array_equal(plan.inverse(a), reference.inverse(a))


def test_ifma_refuses_primes_of_50_bits_or_more():
    from ..conftest import usable_paths

    if "ifma" not in usable_paths():
        pytest.skip("ifma not available here")
    q = kernels.generate_ntt_primes(51, 1024, 1)[0]
    with pytest.raises(ParameterError, match="2\\^50"):
        kernels.NttPlan(1024, q, path="ifma")


@settings(max_examples=60, deadline=None)
@given(log_n=st.integers(1, 12), bits=st.sampled_from(BITS), seed=st.integers(0, 2**32 - 1))
def test_inverse_undoes_forward(log_n, bits, seed):
    n = 2**log_n
    q = kernels.generate_ntt_primes(bits, n, 1)[0]
    plan = kernels.NttPlan(n, q)
    a = np.random.default_rng(seed).integers(0, q, n, dtype=np.uint64)
    assert np.array_equal(plan.inverse(plan.forward(a)), a)
    assert np.array_equal(plan.forward(plan.inverse(a)), a)


@settings(max_examples=30, deadline=None)
@given(log_n=st.integers(1, 6), bits=st.sampled_from(BITS), seed=st.integers(0, 2**32 - 1))
def test_convolution_theorem(log_n, bits, seed):
    n = 2**log_n
    q = kernels.generate_ntt_primes(bits, n, 1)[0]
    plan = kernels.NttPlan(n, q)
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, q, (2, n), dtype=np.uint64)
    product = kernels.eltwise_mul(plan.forward(a), plan.forward(b), q)
    assert np.array_equal(plan.inverse(product), negacyclic_convolution(a, b, q))


def test_default_path_follows_the_active_cap():
    import securinfer as si

    active = si.simd_info()["active"]
    small = kernels.generate_ntt_primes(49, 1024, 1)[0]
    large = kernels.generate_ntt_primes(60, 1024, 1)[0]
    assert kernels.NttPlan(1024, small).path == active
    assert kernels.NttPlan(1024, large).path == ("avx512" if active == "ifma" else active)


@pytest.mark.parametrize("n", [0, 1, 3, 1000, 2**18])
def test_bad_sizes_are_refused(n):
    with pytest.raises(ParameterError, match="power of two"):
        kernels.NttPlan(n, 12289)


def test_non_prime_or_unfriendly_modulus_is_refused():
    with pytest.raises(ParameterError, match="not prime"):
        kernels.NttPlan(1024, 2049 * 4097)
    with pytest.raises(ParameterError, match="not 1 mod"):
        kernels.NttPlan(1024, 1_000_000_007)
    with pytest.raises(ParameterError, match="below 2\\^60"):
        kernels.NttPlan(1024, 2**61 - 1)


def test_bad_arrays_are_refused():
    q = kernels.generate_ntt_primes(40, 1024, 1)[0]
    plan = kernels.NttPlan(1024, q)
    with pytest.raises(ParameterError, match="length 1024"):
        plan.forward(np.zeros(1023, dtype=np.uint64))
    with pytest.raises(ParameterError, match="dtype uint64"):
        plan.forward(np.zeros(1024, dtype=np.float64))
    with pytest.raises(ParameterError, match="dtype uint64"):
        plan.forward(np.zeros(1024, dtype=np.int64))
    with pytest.raises(ParameterError, match="one-dimensional"):
        plan.forward(np.zeros((2, 512), dtype=np.uint64))
    with pytest.raises(ParameterError, match="numpy array"):
        plan.forward([0] * 1024)
    bad = np.zeros(1024, dtype=np.uint64)
    bad[7] = q
    with pytest.raises(ParameterError, match=r"data\[7\].*not below the modulus"):
        plan.inverse(bad)


def test_non_contiguous_input_is_handled(rng):
    q = kernels.generate_ntt_primes(40, 1024, 1)[0]
    plan = kernels.NttPlan(1024, q)
    wide = rng.integers(0, q, 2048, dtype=np.uint64)
    assert np.array_equal(plan.forward(wide[::2]), plan.forward(np.ascontiguousarray(wide[::2])))
