"""Every operation against numpy, with the precision in bits asserted."""

import numpy as np
import pytest

import securinfer as si

from .conftest import precision_bits, assert_close


def vectors(ctx, count=2, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, ctx.slots) for _ in range(count)]


def test_fresh_encryption(ctx_any):
    (x,) = vectors(ctx_any, 1)
    assert_close(ctx_any.decrypt(ctx_any.encrypt(x)), x, 20 if ctx_any.scale < 2**45 else 30, "fresh")


def test_public_key_encryption(ctx_any):
    (x,) = vectors(ctx_any, 1)
    ct = ctx_any.public().encrypt(x)
    assert_close(ctx_any.decrypt(ct), x, 20, "public-key")


def test_public_key_noise_is_divided_by_the_special_primes(ctx_any):
    # The key is over Q and P and encryption divides by P (SEAL's method): the
    # key's noise u*e (about 10 bits over a secret-key encryption when kept)
    # shrinks to the rounding left by the division: a few bits at most.
    x = np.random.default_rng(5).uniform(-1, 1, ctx_any.slots)
    secret = precision_bits(ctx_any.decrypt(ctx_any.encrypt(x)), x)
    public = precision_bits(ctx_any.decrypt(ctx_any.public().encrypt(x)), x)
    print(f"secret-key {secret:.1f} bits, public-key {public:.1f} bits")
    assert public >= secret - 6


def test_add_sub_negate(ctx_any):
    x, y = vectors(ctx_any)
    a, b = ctx_any.encrypt(x), ctx_any.encrypt(y)
    assert_close(ctx_any.decrypt(a + b), x + y, 20, "add")
    assert_close(ctx_any.decrypt(a - b), x - y, 20, "sub")
    assert_close(ctx_any.decrypt(-a), -x, 20, "negate")


def test_plain_and_scalar_operands_on_either_side(ctx_any):
    x, p = vectors(ctx_any)
    a = ctx_any.encrypt(x)
    for got, want, what in [
        (a + p, x + p, "ct+pt"),
        (p + a, x + p, "pt+ct"),
        (a - p, x - p, "ct-pt"),
        (p - a, p - x, "pt-ct"),
        (a * p, x * p, "ct*pt"),
        (p * a, x * p, "pt*ct"),
        (a + 1.5, x + 1.5, "ct+scalar"),
        (2.5 - a, 2.5 - x, "scalar-ct"),
        (a * 0.75, x * 0.75, "ct*scalar"),
        (3 * a, 3 * x, "int*ct"),
        (a * -2, -2 * x, "ct*-int"),
    ]:
        assert_close(ctx_any.decrypt(got), want, 18, what)
    assert (3 * a).level == a.level, "integer constants must not use a level"
    assert (a * 0.75).level == a.level - 1


def test_multiply_square_and_depth(ctx_any):
    x, y = vectors(ctx_any)
    a, b = ctx_any.encrypt(x), ctx_any.encrypt(y)
    prod = a * b
    assert prod.level == a.level - 1
    assert_close(ctx_any.decrypt(prod), x * y, 18, "ct*ct")
    assert_close(ctx_any.decrypt(a.square()), x * x, 18, "square")
    # Use all the depth: x^(2^L) by repeated squaring.
    value, want = a, x.copy()
    for _ in range(ctx_any.max_level):
        value, want = value.square(), want * want
    assert value.level == 0
    assert_close(ctx_any.decrypt(value), want, 15, f"depth-{ctx_any.max_level} chain")
    with pytest.raises(si.LevelError, match="depth"):
        value * value


def test_polynomial_with_automatic_level_alignment(ctx_fast):
    (x,) = vectors(ctx_fast, 1)
    a = ctx_fast.encrypt(x)
    y = a * a + 2 * a - 1  # levels 1 and 2 added: aligned automatically
    assert_close(ctx_fast.decrypt(y), x * x + 2 * x - 1, 18, "x^2 + 2x - 1")
    z = a**3 + a  # level 0 + level 2
    assert_close(ctx_fast.decrypt(z), x**3 + x, 15, "x^3 + x")


@pytest.mark.parametrize("magnitude", [1.0, 2.0**22, 2.0**60])
def test_decryption_of_values_near_and_past_the_first_prime(magnitude):
    # Decryption lifts from q_0 alone when every other residue agrees (values
    # far below q_0 / 2), else by the exact CRT: scale 2^40 times 2^22 is past
    # the 60-bit q_0, and 2^60 past q_0 q_1 too; one block of each kind next
    # to small values.
    ctx = si.Context.create(poly_degree=8192, coeff_bits=[60, 40, 40, 60], scale_bits=40)
    x = np.random.default_rng(5).uniform(-1, 1, ctx.slots)
    x[:256] *= magnitude
    got = ctx.decrypt(ctx.encrypt(x))
    # (the encoding's doubles hold 53 bits of the largest coefficient: the
    # error is relative to the largest value)
    assert np.max(np.abs(got - x)) < 2.0**-20 * max(1.0, np.max(np.abs(x)))


def test_rotation_matches_numpy_roll(ctx_any):
    (x,) = vectors(ctx_any, 1)
    a = ctx_any.encrypt(x)
    for step in (1, -1, 2, 5):
        assert_close(ctx_any.decrypt(a.rotate(step)), np.roll(x, -step), 18, f"rotate {step}")


def test_composed_and_hoisted_rotations(ctx_fast):
    (x,) = vectors(ctx_fast, 1)
    a = ctx_fast.encrypt(x)
    for step in (3, 7, 100, -37, 4095):  # composed from power-of-two keys
        assert_close(ctx_fast.decrypt(a.rotate(step)), np.roll(x, -step), 16, f"rotate {step}")
    steps = [1, 2, 4, 8, -16, 3]
    for step, rotated in zip(steps, a.rotate_many(steps)):
        assert_close(ctx_fast.decrypt(rotated), np.roll(x, -step), 16, f"hoisted {step}")


def test_one_rotation_is_bit_identical_to_the_hoisted_route(ctx_fast):
    # A single rotation permutes c1 before decomposing it; the hoisted route
    # permutes every digit after. The automorphism commutes with the centred
    # decomposition, so both give the same words, not only close values.
    (x,) = vectors(ctx_fast, 1)
    a = ctx_fast.encrypt(x) * 1.5  # one level down, not a fresh (seeded) ciphertext
    for step, hoisted in zip((1, 2, -16), a.rotate_many([1, 2, -16])):
        assert a.rotate(step).serialize() == hoisted.serialize(), step


def test_missing_rotation_key_names_the_step():
    ctx = si.Context.create(preset="fast")
    ctx.generate_rotation_keys(steps=[1])
    a = ctx.encrypt(np.ones(4))
    with pytest.raises(si.MissingKeyError, match="step 3"):
        a.rotate(3)
    with pytest.raises(si.MissingKeyError, match="conjugation"):
        a.conjugate()


def test_complex_values_and_conjugation(ctx_fast):
    rng = np.random.default_rng(3)
    z = rng.uniform(-1, 1, 64) + 1j * rng.uniform(-1, 1, 64)
    c = ctx_fast.encrypt(z)
    assert_close(ctx_fast.decrypt(c), z, 20, "complex round trip")
    assert_close(ctx_fast.decrypt(c.conjugate()), np.conj(z), 18, "conjugate")
    assert_close(ctx_fast.decrypt(c * c), z * z, 18, "complex product")
    assert_close(ctx_fast.decrypt(c * 1j), z * 1j, 18, "times i")


def test_sum_and_dot(ctx_fast):
    rng = np.random.default_rng(4)
    x, y = rng.uniform(-1, 1, 512), rng.uniform(-1, 1, 512)
    a, b = ctx_fast.encrypt(x), ctx_fast.encrypt(y)
    assert a.sum().size == 1
    assert_close(ctx_fast.decrypt(a.sum()), [x.sum()], 15, "sum")
    assert_close(ctx_fast.decrypt(a.dot(b)), [x @ y], 15, "dot ct.ct")
    assert_close(ctx_fast.decrypt(a.dot(y)), [x @ y], 15, "dot ct.pt")
    # numpy: the sum of a one-value vector is that value.
    assert_close(ctx_fast.decrypt(a.sum().sum()), [x.sum()], 15, "sum of a sum")
    # The slots past a sum() result hold partial sums: a product reading them refuses.
    with pytest.raises(si.ParameterError, match="padding is undefined"):
        a.sum() @ np.ones((1, 2))


@pytest.mark.parametrize("shape", [(3, 2), (5, 5), (16, 9), (1, 7), (7, 1)])
def test_vector_matrix_product(ctx_fast, shape):
    rng = np.random.default_rng(5)
    W = rng.uniform(-1, 1, shape)
    x = rng.uniform(-1, 1, shape[0])
    y = ctx_fast.encrypt(x) @ W
    assert y.size == shape[1]
    assert_close(ctx_fast.decrypt(y), x @ W, 15, f"matmul {shape}")


def test_drop_to_level(ctx_fast):
    (x,) = vectors(ctx_fast, 1)
    a = ctx_fast.encrypt(x)
    low = a.drop_to_level(0)
    assert low.level == 0 and low.nbytes < a.nbytes
    assert_close(ctx_fast.decrypt(low), x, 18, "dropped")
    assert_close(ctx_fast.decrypt(low + a), 2 * x, 18, "mixed levels")


def test_short_vectors_are_zero_padded(ctx_fast):
    a = ctx_fast.encrypt([1.0, 2.0, 3.0])
    assert a.size == 3 and len(ctx_fast.decrypt(a)) == 3
    assert_close(ctx_fast.decrypt((a + 1).sum()), [9.0], 15, "sum after adding a scalar")
    full = ctx_fast.decrypt(a.rotate(-1))
    assert full.shape == (ctx_fast.slots,)
    assert_close(full[:4], [0.0, 1.0, 2.0, 3.0], 18, "rotate right brings padding in")


def test_repr_and_facts(ctx_fast):
    a = ctx_fast.encrypt(np.ones(8))
    text = repr(a)
    assert "size=8" in text and "level=2" in text and "N=8192" in text
    assert abs(a.scale - 2**40) < 1 and a.nbytes == 2 * 3 * 8192 * 8
    assert "N=8192" in repr(ctx_fast)


@pytest.mark.parametrize("size", [1, 3, 100, 512, 513, 4096])
def test_sum_of_short_vectors(ctx_fast, size):
    x = np.random.default_rng(size).uniform(-1, 1, size)
    a = ctx_fast.encrypt(x)
    assert_close(ctx_fast.decrypt(a.sum()), [x.sum()], 15, f"sum of {size}")
    assert_close(ctx_fast.decrypt((a * 2.0 - 1).sum()), [(2 * x - 1).sum()], 15, f"sum of 2x-1, {size}")


def test_small_primes_deep_chain_keeps_the_level_zero_scale():
    # 26-bit primes for N = 16384 are sparse (the seventh lies ~3% below 2^26);
    # starting from s = 2^26 the canonical scales would drift to ~2^30.7 at
    # level 0, past q_0 (30 bits). The top scale is rebalanced instead.
    ctx = si.Context.create(poly_degree=16384, coeff_bits=[30] + [26] * 7 + [30] * 7, scale_bits=26,
                            special_primes=7)
    scales = [ctx._core.level_scale(level) for level in range(ctx.max_level + 1)]
    assert abs(np.log2(scales[0]) - 26) < 1e-9
    assert all(abs(np.log2(s) - 26) < 0.25 for s in scales)
    assert ctx.scale == scales[-1]
    x = np.random.default_rng(4).uniform(-1, 1, 64)
    y, want = ctx.encrypt(x), x.copy()
    while y.level > 0:  # squares and non-integer scalar products, one level each
        y, want = (y * y, want * want) if y.level % 2 else (y * 0.9, want * 0.9)
    assert y.level == 0
    assert_close(ctx.decrypt(y), want, 10, "deep chain at 26-bit scale")  # without the rebalance: garbage


def test_drop_to_level_keeps_values_down_to_level_zero(ctx_fast):
    """A fresh ciphertext's scale does not fit level 0's modulus: drop_to_level
    lands on each level's own scale instead of decrypting to garbage."""
    x = np.linspace(-1, 1, 64)
    ct = ctx_fast.encrypt(x)
    for level in range(ct.level, -1, -1):
        low = ct.drop_to_level(level)
        assert low.level == level
        assert_close(ctx_fast.decrypt(low), x, 15, f"dropped to level {level}")
        assert_close(ctx_fast.decrypt(low + ct), 2 * x, 15, f"level {level} + top level")
