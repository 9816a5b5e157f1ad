"""The kernels on doubles with FMA (the avx2 and avx512 paths' choice for primes
below 2^50) against the scalar path and exact integers, bit for bit.

Their residues are signed and lazy inside the NTT (|x| < 2q forward, < q
inverse), and their quotient estimate is only good to a bounded error, so the
inputs that stress them are primes of every size up to the largest NTT primes
below 2^50, inputs at the ends of [0, q) (0, 1, q - 1, (q - 1) / 2 and mixes),
and every size N = 2^10..2^16 (the depth of the lazy chain grows with log N).
Primes at or above 2^50 take the 64-bit integer kernels on the same paths:
the crossover is checked on both sides."""

import numpy as np
import pytest

from securinfer import kernels

from ..conftest import path_params

FMA_PATHS = [p for p in path_params() if p.values[0] in ("avx2", "avx512")]
SIZES = [2**k for k in range(10, 17)]


def stress_inputs(n, q, rng):
    """Random values, then the ends of [0, q) in the patterns that drive the
    lazy ranges hardest (all q - 1; q - 1 and 0 alternating; a random mix of
    0, 1, (q - 1) / 2, q - 1)."""
    yield rng.integers(0, q, n, dtype=np.uint64)
    yield np.zeros(n, dtype=np.uint64)
    yield np.full(n, q - 1, dtype=np.uint64)
    alternating = np.zeros(n, dtype=np.uint64)
    alternating[::2] = q - 1
    yield alternating
    yield rng.choice(np.array([0, 1, (q - 1) // 2, q - 1], dtype=np.uint64), n)


def check_ntt(plan, reference, a, label):
    forward = plan.forward(a)
    assert np.array_equal(forward, reference.forward(a)), (label, "forward")
    assert np.array_equal(plan.inverse(a), reference.inverse(a)), (label, "inverse")
    assert np.array_equal(plan.inverse(forward), a), (label, "round trip")
    assert int(forward.max()) < plan.modulus


@pytest.mark.parametrize("path", FMA_PATHS)
@pytest.mark.parametrize("n", SIZES)
def test_ntt_matches_scalar_for_the_largest_primes_below_2_50(path, n, rng):
    # generate_ntt_primes lists the largest primes of the size first: these
    # sit within 2^-20 of 2^50, where the quotient estimate is weakest.
    for q in kernels.generate_ntt_primes(50, n, 2):
        assert q < 2**50
        reference = kernels.NttPlan(n, q, path="scalar")
        plan = kernels.NttPlan(n, q, path=path)
        for a in stress_inputs(n, q, rng):
            check_ntt(plan, reference, a, hex(q))


@pytest.mark.parametrize("path", FMA_PATHS)
def test_ntt_matches_scalar_for_every_prime_size_from_20_to_50_bits(path, rng):
    for bits in range(20, 51):
        for n in (1024, 8192) if bits > 20 else (1024,):
            q = kernels.generate_ntt_primes(bits, n, 1)[0]
            reference = kernels.NttPlan(n, q, path="scalar")
            plan = kernels.NttPlan(n, q, path=path)
            for a in stress_inputs(n, q, rng):
                check_ntt(plan, reference, a, (bits, n))


@pytest.mark.parametrize("path", FMA_PATHS)
@pytest.mark.parametrize("n", [8, 16, 32, 64, 128, 256, 512])
def test_ntt_matches_scalar_at_small_sizes(path, n, rng):
    # Odd and even numbers of radix-4 passes, and the sizes where the
    # in-register stages meet the first pass.
    for bits in (30, 50):
        q = kernels.generate_ntt_primes(bits, n, 1)[0]
        reference = kernels.NttPlan(n, q, path="scalar")
        plan = kernels.NttPlan(n, q, path=path)
        for a in stress_inputs(n, q, rng):
            check_ntt(plan, reference, a, (bits, n))


@pytest.mark.parametrize("path", FMA_PATHS)
def test_both_sides_of_the_2_50_crossover_match_scalar(path, rng):
    n = 4096
    below = kernels.generate_ntt_primes(50, n, 1)[0]  # doubles
    above = kernels.generate_ntt_primes(51, n, 1)[0]  # 64-bit integers
    assert below < 2**50 <= above
    for q in (below, above):
        reference = kernels.NttPlan(n, q, path="scalar")
        plan = kernels.NttPlan(n, q, path=path)
        for a in stress_inputs(n, q, rng):
            check_ntt(plan, reference, a, hex(q))


@pytest.mark.parametrize("path", FMA_PATHS)
@pytest.mark.parametrize("bits", [20, 33, 45, 49, 50])
def test_eltwise_products_match_exact_integers(path, bits, rng):
    q = kernels.generate_ntt_primes(bits, 1024, 1)[0]
    ends = np.array([0, 1, 2, q - 2, q - 1, (q - 1) // 2, (q + 1) // 2], dtype=np.uint64)
    # Every pair of end values, then random values; lengths with a tail.
    a = np.concatenate([np.repeat(ends, len(ends)), rng.integers(0, q, 1003, dtype=np.uint64)])
    b = np.concatenate([np.tile(ends, len(ends)), rng.integers(0, q, 1003, dtype=np.uint64)])
    acc = np.concatenate([np.full(len(ends) ** 2, q - 1, dtype=np.uint64), rng.integers(0, q, 1003, dtype=np.uint64)])
    exact_mul = np.array([int(x) * int(y) % q for x, y in zip(a, b)], dtype=np.uint64)
    exact_mul_add = np.array([(int(c) + int(x) * int(y)) % q for c, x, y in zip(acc, a, b)], dtype=np.uint64)
    assert np.array_equal(kernels.eltwise_mul(a, b, q, path=path), exact_mul)
    assert np.array_equal(kernels.eltwise_mul_add(acc, a, b, q, path=path), exact_mul_add)
    for w in (0, 1, q - 1, (q - 1) // 2, int(rng.integers(0, q))):
        exact = np.array([int(x) * w % q for x in a], dtype=np.uint64)
        assert np.array_equal(kernels.eltwise_mul_scalar(a, w, q, path=path), exact), w


@pytest.mark.parametrize("path", path_params())
@pytest.mark.parametrize("bits", [20, 40, 49, 50, 55, 60])
@pytest.mark.parametrize("terms", [0, 1, 2, 3, 5, 8, 9, 17, 40])
def test_dot_accumulate_matches_exact_integers(path, bits, terms, rng):
    # Key switching's inner product: one reduction per coefficient (scalar,
    # 128-bit sums) or a lazily reduced double accumulator (q < 2^50), which
    # is reduced again every 8 terms: 8, 9, 17 and 40 terms cross that.
    if path == "ifma" and bits > 50:
        pytest.skip("the ifma path holds primes below 2^50 only")
    q = kernels.generate_ntt_primes(bits, 1024, 1)[0]
    n = 1027  # a tail after the vectors
    a = [rng.integers(0, q, n, dtype=np.uint64) for _ in range(terms)]
    b = [rng.integers(0, q, n, dtype=np.uint64) for _ in range(terms)]
    for t in range(terms):  # the largest products in the first coefficients
        a[t][:4] = q - 1
        b[t][:4] = [q - 1, q - 1, (q - 1) // 2, 1]
    got = kernels.eltwise_dot(a, b, q, path=path)
    want = [sum(int(a[t][k]) * int(b[t][k]) for t in range(terms)) % q for k in range(n)] if terms else [0] * n
    if terms == 0:
        assert len(got) == 0
    else:
        assert np.array_equal(got, np.array(want, dtype=np.uint64))
        assert np.array_equal(got, kernels.eltwise_dot(a, b, q, path="scalar"))


def test_dot_accumulate_refuses_bad_input():
    from securinfer import ParameterError

    q = kernels.generate_ntt_primes(40, 1024, 1)[0]
    x = np.zeros(8, dtype=np.uint64)
    with pytest.raises(ParameterError, match="same number"):
        kernels.eltwise_dot([x, x], [x], q)
    with pytest.raises(ParameterError, match="same length"):
        kernels.eltwise_dot([x, np.zeros(9, dtype=np.uint64)], [x, x], q)
    with pytest.raises(ParameterError, match="not below"):
        kernels.eltwise_dot([np.full(8, q, dtype=np.uint64)], [x], q)


def exact_conversion(limbs, from_primes, to_primes, centered):
    """x from its residues by the Chinese remainder theorem (Python integers),
    centred into (-B/2, B/2] when asked, then reduced modulo each target."""
    big = 1
    for b in from_primes:
        big *= b
    out = []
    for k in range(len(limbs[0])):
        x = 0
        for b, limb in zip(from_primes, limbs):
            hat = big // b
            x += int(limb[k]) * hat * pow(hat, -1, b)
        x %= big
        if centered and x > big // 2:
            x -= big
        out.append([x % c for c in to_primes])
    return [np.array([row[j] for row in out], dtype=np.uint64) for j in range(len(to_primes))]


def distinct_primes(bits_list, n):
    """NTT primes for ring degree n, one per entry of bits_list, all different."""
    used = []
    for bits in bits_list:
        used.append(next(q for q in kernels.generate_ntt_primes(bits, n, len(bits_list) + 1) if q not in used))
    return used


@pytest.mark.parametrize("path", path_params())
@pytest.mark.parametrize("source_bits,target_bits", [([40, 49], [40, 40]), ([60, 60], [60, 40]), ([60] * 3, [58])])
def test_centred_conversion_equals_scalar_even_next_to_half_the_base(path, source_bits, target_bits, rng):
    # The centring multiple round(sum_i y_i / b_i) is found in floating point;
    # right next to B/2 either representative is valid, and the vector loops
    # must still pick the scalar loop's (same roundings, no fused multiply-add).
    if path == "ifma" and max(source_bits + target_bits) > 50:
        pytest.skip("the ifma path holds primes below 2^50 only")
    n = 1024
    primes = distinct_primes(source_bits + target_bits, 1024)
    from_primes, to_primes = primes[: len(source_bits)], primes[len(source_bits):]
    big = int(np.prod([int(b) for b in from_primes], dtype=object))
    values = [int(v) for v in rng.integers(0, 2**62, n - 64)] + [big // 2 + d for d in range(-32, 32)]
    limbs = [np.array([v % b for v in values], dtype=np.uint64) for b in from_primes]
    got = kernels.base_convert(limbs, from_primes, to_primes, centered=True, path=path)
    want = kernels.base_convert(limbs, from_primes, to_primes, centered=True, path="scalar")
    for j in range(len(to_primes)):
        assert np.array_equal(got[j], want[j]), (j, to_primes[j])


@pytest.mark.parametrize("path", path_params())
@pytest.mark.parametrize("n", [1024, 2])  # 2: only the scalar tail of the vector loops
@pytest.mark.parametrize("source_bits,target_bits", [
    ([49], [40, 40, 49]),        # ModUp of a one-prime digit
    ([40], [49, 40, 50]),        # ... from a smaller prime to larger ones
    ([40, 49], [40, 40, 40]),    # ModDown + rescale: {q_l, P} to the chain
    ([50, 50, 50], [30, 45, 50]),
    ([45] * 9, [45, 36]),        # more sources than one lazy run of 8 products
    ([55, 40], [40, 49]),        # a source at or above 2^50: the scalar loops
    ([40], [60, 40]),            # a target above 2^50
    ([60], [40, 40, 60]),        # ModUp of a 60-bit digit: the AVX-512 one-source Shoup loop
    ([60], [59]),                # ... a source above the target, both large
    ([40], [60, 59]),            # ... and the special prime's ModDown, from a smaller prime
    ([60] * 7, [60, 58, 59]),    # bootstrapping's ModUp of a 7-prime digit: the AVX-512 Shoup loop
    ([59, 60], [60, 60, 58, 40]),  # its ModDown + rescale from special primes
])
def test_base_conversion_matches_exact_crt_and_scalar(path, n, source_bits, target_bits, rng):
    if path == "ifma" and max(source_bits + target_bits) > 50:
        pytest.skip("the ifma path holds primes below 2^50 only")
    primes = distinct_primes(source_bits + target_bits, n)
    from_primes, to_primes = primes[: len(source_bits)], primes[len(source_bits):]
    limbs = [rng.integers(0, b, n, dtype=np.uint64) for b in from_primes]
    for i, b in enumerate(from_primes):  # the ends of each source range
        limbs[i][:2] = [0, b - 1] if n > 2 else limbs[i][:2]
    # b // 2 in the first source: the centring threshold of a one-prime lift.
    # (b_i // 2 in every source would be x = (B - 1) / 2 exactly, where the
    # centred conversion is documented to pick either representative.)
    limbs[0][-1] = from_primes[0] // 2
    got = kernels.base_convert(limbs, from_primes, to_primes, centered=True, path=path)
    want = exact_conversion(limbs, from_primes, to_primes, centered=True)
    for j in range(len(to_primes)):
        assert np.array_equal(got[j], want[j]), (j, to_primes[j])
    uncentred = kernels.base_convert(limbs, from_primes, to_primes, centered=False, path=path)
    reference = kernels.base_convert(limbs, from_primes, to_primes, centered=False, path="scalar")
    for j in range(len(to_primes)):
        assert np.array_equal(uncentred[j], reference[j]), (j, "uncentred")
