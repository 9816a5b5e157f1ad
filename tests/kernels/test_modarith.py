"""Scalar modular arithmetic against Python's exact integers."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securinfer import ParameterError, kernels

PRIMES = [kernels.generate_ntt_primes(bits, 1024, 1)[0] for bits in (20, 30, 40, 49, 50, 55, 60)]

moduli = st.sampled_from(PRIMES) | st.integers(min_value=2, max_value=2**60 - 1)


@settings(max_examples=300, deadline=None)
@given(q=moduli, data=st.data())
def test_add_sub_mul_match_python(q, data):
    a = data.draw(st.integers(0, q - 1))
    b = data.draw(st.integers(0, q - 1))
    assert kernels.add_mod(a, b, q) == (a + b) % q
    assert kernels.sub_mod(a, b, q) == (a - b) % q
    assert kernels.mul_mod(a, b, q) == (a * b) % q


@settings(max_examples=300, deadline=None)
@given(q=moduli, a=st.integers(0, 2**64 - 1), data=st.data())
def test_shoup_multiplication_accepts_any_word(q, a, data):
    w = data.draw(st.integers(0, q - 1))
    assert kernels.mul_shoup(a, w, q) == (a * w) % q


@settings(max_examples=200, deadline=None)
@given(q=moduli, base=st.integers(0, 2**64 - 1), e=st.integers(0, 2**64 - 1))
def test_pow_mod_matches_python(q, base, e):
    assert kernels.pow_mod(base, e, q) == pow(base, e, q)


@settings(max_examples=300, deadline=None)
@given(q=st.sampled_from(PRIMES), data=st.data())
def test_inverse_of_nonzero_residue(q, data):
    a = data.draw(st.integers(1, q - 1))
    inv = kernels.inv_mod(a, q)
    assert 0 < inv < q and (a * inv) % q == 1


def test_inverse_refuses_non_invertible():
    with pytest.raises(ParameterError, match="not invertible"):
        kernels.inv_mod(6, 9)


@pytest.mark.parametrize("q", [0, 1, 2**60, 2**63])
def test_modulus_out_of_range_is_refused(q):
    with pytest.raises(ParameterError, match="modulus"):
        kernels.mul_mod(0, 0, q)


def test_operands_not_below_q_are_refused():
    with pytest.raises(ParameterError, match="below q"):
        kernels.mul_mod(17, 3, 17)
