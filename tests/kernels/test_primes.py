"""Prime generation and roots of unity against textbook definitions."""

import pytest

from securinfer import ParameterError, kernels


def is_prime_reference(n: int) -> bool:
    """Miller-Rabin with the first 12 prime bases (exact below 3.3e24), in Python."""
    if n < 2:
        return False
    small = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]
    for p in small:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in small:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def test_is_prime_small_numbers_by_trial_division():
    for n in range(0, 5000):
        trial = n >= 2 and all(n % d for d in range(2, int(n**0.5) + 1))
        assert kernels.is_prime(n) == trial, n


@pytest.mark.parametrize(
    "n, expected",
    [
        (561, False),  # Carmichael numbers fool Fermat tests
        (41041, False),
        (3825123056546413051, False),  # strong pseudoprime to bases 2..23
        (2**61 - 1, True),
        (2**64 - 59, True),  # largest 64-bit prime
        (2**64 - 1, False),
        (1_000_000_007 * 998_244_353, False),
    ],
)
def test_is_prime_known_values(n, expected):
    assert kernels.is_prime(n) is expected


@pytest.mark.parametrize("bits", [20, 30, 40, 49, 50, 55, 60])
@pytest.mark.parametrize("n", [1024, 8192, 65536])
def test_generated_primes_are_the_largest_ntt_friendly_ones(bits, n):
    candidates = range(2 ** (bits - 1) + 1, 2**bits, 2 * n)
    if len(candidates) < 1000 and sum(is_prime_reference(c) for c in candidates) < 3:  # e.g. 20-bit, N = 2^16: 8 candidates
        with pytest.raises(ParameterError, match="not enough"):
            kernels.generate_ntt_primes(bits, n, 3)
        return
    primes = kernels.generate_ntt_primes(bits, n, 3)
    assert len(set(primes)) == 3
    assert primes == sorted(primes, reverse=True)
    for q in primes:
        assert q.bit_length() == bits and q % (2 * n) == 1 and is_prime_reference(q)
    # Nothing prime and NTT-friendly was skipped between 2^bits and the smallest.
    candidates = range(primes[-1], 2**bits, 2 * n)
    assert [c for c in candidates if is_prime_reference(c)][::-1] == primes


def test_exclusion_list_is_respected():
    first = kernels.generate_ntt_primes(40, 4096, 2)
    after = kernels.generate_ntt_primes(40, 4096, 2, exclude=[first[0]])
    assert after[0] == first[1] and first[0] not in after


@pytest.mark.parametrize("bits", [5, 61, 64])
def test_bit_size_out_of_range_is_refused(bits):
    with pytest.raises(ParameterError, match="bit size"):
        kernels.generate_ntt_primes(bits, 1024, 1)


def test_too_many_primes_requested_is_refused():
    with pytest.raises(ParameterError, match="not enough"):
        kernels.generate_ntt_primes(20, 65536, 50)


@pytest.mark.parametrize("n", [2, 1024, 65536])
def test_minimal_primitive_root(n):
    q = kernels.generate_ntt_primes(50, n, 1)[0]
    root = kernels.minimal_primitive_root(2 * n, q)
    assert pow(root, n, q) == q - 1 and pow(root, 2 * n, q) == 1
    if n <= 1024:  # minimality, checked exhaustively over the odd powers
        assert root == min(pow(root, k, q) for k in range(1, 2 * n, 2))


def test_root_of_non_prime_or_wrong_congruence_is_refused():
    with pytest.raises(ParameterError, match="not prime"):
        kernels.minimal_primitive_root(2048, 2**40 + 1)
    q = kernels.generate_ntt_primes(40, 1024, 1)[0]
    with pytest.raises(ParameterError, match="not 1 mod"):
        kernels.minimal_primitive_root(2**20, q)
