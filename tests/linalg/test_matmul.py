"""Matrix products (securinfer.linalg.matmul): JKLS encrypted x encrypted, and the
plaintext x encrypted ones, against numpy, precision in bits."""

import numpy as np
import pytest

import securinfer as si
from securinfer.linalg import matmul
from securinfer.linalg.matmul import MatrixProduct

from ..scheme.conftest import assert_close

# Scale 2^40, entries in [-1, 1]: the product has >= 18 bits relative to
# max(1, |A @ B|) (about 23 measured).
MIN_BITS = 18
DEPTH3 = dict(poly_degree=8192, coeff_bits=[49, 40, 40, 40, 49], scale_bits=40)  # 218 bits: 128-bit secure


@pytest.fixture(scope="module")
def ctx():
    return si.Context.create(**DEPTH3)


def mats(d, seed, shape_b=None):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (d, d)), rng.uniform(-1, 1, shape_b or (d, d))


@pytest.mark.parametrize("d", [2, 3, 4, 5, 8, 16])
def test_encrypted_times_encrypted(ctx, d):
    A, B = mats(d, d)
    mp = MatrixProduct(ctx, d)
    ctx.generate_rotation_keys(steps=mp.required_rotations())
    C = mp(ctx.encrypt(A.ravel()), ctx.encrypt(B.ravel()))
    assert C.size == d * d and C.level == ctx.max_level - 3
    assert_close(ctx.decrypt(C).reshape(d, d), A @ B, MIN_BITS, f"JKLS d={d}")
    # The padding stays zero: the result can go on into sums and products.
    every_slot = si._core.ckks.decrypt(ctx._keys, C._core).real
    assert np.max(np.abs(every_slot[d * d:])) < 1e-4


def test_exactly_the_required_keys_suffice():
    c = si.Context.create(**DEPTH3)
    d = 6
    A, B = mats(d, 60)
    mp = MatrixProduct(c, d)
    steps = mp.required_rotations()
    assert steps and len(set(steps)) == len(steps) and 0 not in steps
    a, b = c.encrypt(A.ravel()), c.encrypt(B.ravel())
    with pytest.raises(si.MissingKeyError, match="rotation step"):
        mp(a, b)
    c.generate_rotation_keys(steps=steps)
    assert set(c.rotation_steps) == {s % c.slots for s in steps}, "no other key was made"
    # The server computes with the public context only.
    server = c.public()
    C = mp(si.Ciphertext.load(a.serialize(), server), si.Ciphertext.load(b.serialize(), server))
    assert_close(c.decrypt(C).reshape(d, d), A @ B, MIN_BITS, "exact keys, public context")
    # The function form prepares once per context, d and level.
    assert_close(c.decrypt(matmul.encrypted_matmul(a, b, d)).reshape(d, d), A @ B, MIN_BITS, "encrypted_matmul")


def test_chained_and_mixed_with_other_arithmetic():
    with pytest.warns(UserWarning):  # depth 6 on a small ring (not secure: tests only)
        c = si.Context.create(poly_degree=1024, coeff_bits=[60] + [40] * 6 + [60], scale_bits=40, security=None)
    c.generate_rotation_keys()  # power-of-two keys: the product composes its steps
    d = 4
    A, B = mats(d, 61)
    a, b = c.encrypt(A.ravel()), c.encrypt(B.ravel())
    AB = matmul.encrypted_matmul(a, b, d)
    ABB = matmul.encrypted_matmul(AB, b.drop_to_level(AB.level), d)
    assert ABB.level == 0
    assert_close(c.decrypt(ABB + 1.0).reshape(d, d), A @ B @ B + 1, 16, "(A @ B) @ B + 1")


@pytest.mark.parametrize("n,d,doubled,premasked", [(1024, 16, True, True), (1024, 20, False, True),
                                                   (2048, 32, False, False)],
                         ids=["tau in two copies, no replication", "psi by masks", "no spare row: phi as transforms"])
def test_layouts_on_small_rings(n, d, doubled, premasked):
    # 512 slots: d=16 fills them with two copies of tau(B) (no room to
    # replicate); d=20 has no room for two copies (psi^k by masks). 1024
    # slots, d=32: not even one spare row (phi^k as two-diagonal transforms).
    with pytest.warns(UserWarning):
        small = si.Context.create(poly_degree=n, coeff_bits=[60, 40, 40, 40, 60], scale_bits=40, security=None)
    mp = MatrixProduct(small, d)
    assert (mp.doubled, mp.premasked) == (doubled, premasked)
    small.generate_rotation_keys(steps=mp.required_rotations())
    A, B = mats(d, 62 + d)
    C = mp(small.encrypt(A.ravel()), small.encrypt(B.ravel()))
    assert_close(small.decrypt(C).reshape(d, d), A @ B, 16, f"N={n} d={d}")
    every_slot = si._core.ckks.decrypt(small._keys, C._core).real
    assert np.all(np.abs(every_slot[d * d:]) < 1e-4), "zero padding"


@pytest.mark.parametrize("m,n,p", [(3, 3, 3), (8, 8, 8), (2, 5, 3), (7, 1, 4), (1, 6, 1), (16, 16, 16)])
def test_plain_times_encrypted(ctx, m, n, p):
    rng = np.random.default_rng(m * 100 + n * 10 + p)
    A, B = rng.uniform(-1, 1, (m, n)), rng.uniform(-1, 1, (n, p))
    W = matmul.left_matrix(A, p)
    ctx.generate_rotation_keys(steps=si.linalg.LinearTransform(ctx, W).required_rotations())
    C = matmul.plain_encrypted_matmul(A, ctx.encrypt(B.ravel()), p)
    assert C.level == ctx.max_level - 1
    assert_close(ctx.decrypt(C).reshape(m, p), A @ B, MIN_BITS, f"plain {m}x{n} @ enc {n}x{p}")
    W = matmul.right_matrix(B, m)
    ctx.generate_rotation_keys(steps=si.linalg.LinearTransform(ctx, W).required_rotations())
    C = matmul.encrypted_plain_matmul(ctx.encrypt(A.ravel()), B, m)
    assert_close(ctx.decrypt(C).reshape(m, p), A @ B, MIN_BITS, f"enc {m}x{n} @ plain {n}x{p}")


def test_bad_inputs(ctx):
    d = 3
    A, B = mats(d, 63)
    a, b = ctx.encrypt(A.ravel()), ctx.encrypt(B.ravel())
    mp = MatrixProduct(ctx, d)
    with pytest.raises(si.ParameterError, match="shapes do not match"):
        mp(a, ctx.encrypt(np.ones(8)))
    with pytest.raises(si.ParameterError, match="Ciphertext"):
        mp(a, B.ravel())
    with pytest.raises(si.LevelError, match="prepared for level"):
        mp(a.drop_to_level(2), b)
    with pytest.raises(si.LevelError, match="3 levels"):
        matmul.encrypted_matmul(a.drop_to_level(2), b, d)
    with pytest.raises(si.ParameterError, match="level"):
        MatrixProduct(ctx, d, level=2)
    with pytest.raises(si.ParameterError, match="slots"):
        MatrixProduct(ctx, 65)
    with pytest.raises(si.ParameterError, match="positive int"):
        MatrixProduct(ctx, 0)
    with pytest.raises(si.ParameterError, match="level"):
        MatrixProduct(si.Context.create(preset="fast"), 2)  # depth 2 only
    other = si.Context.create(poly_degree=8192, coeff_bits=[48, 40, 40, 40, 48], scale_bits=40)
    with pytest.raises(si.ContextMismatchError):
        MatrixProduct(other, d)(a, b)
    with pytest.raises(si.ParameterError, match="shapes do not match"):
        matmul.plain_encrypted_matmul(np.ones((2, 3)), ctx.encrypt(np.ones(8)))
    with pytest.raises(si.ParameterError, match="shapes do not match"):
        matmul.encrypted_plain_matmul(ctx.encrypt(np.ones(8)), np.ones((3, 3)))
    with pytest.raises(si.ParameterError, match="complex"):
        matmul.plain_encrypted_matmul(np.ones((3, 3)) * 1j, b)
