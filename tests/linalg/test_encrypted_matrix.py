"""Tiled encrypted matrices (securinfer.linalg.tiled) against numpy,
precision in bits: rectangular shapes and matrices larger than the slots."""

import numpy as np
import pytest

import securinfer as si
from securinfer.linalg.tiled import EncryptedMatrix, tile_rotations
from securinfer.linalg.matmul import MatrixProduct

from ..scheme.conftest import assert_close

MIN_BITS = 16
DEPTH3 = dict(poly_degree=8192, coeff_bits=[49, 40, 40, 40, 49], scale_bits=40)  # 128-bit secure


@pytest.fixture(scope="module")
def ctx():
    return si.Context.create(**DEPTH3)


def rand(shape, seed):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


@pytest.mark.parametrize("m,n,p,d", [(5, 7, 3, 4), (4, 4, 4, 4), (1, 9, 2, 3), (6, 1, 5, 4)])
def test_encrypted_times_encrypted_rectangular(ctx, m, n, p, d):
    A, B = rand((m, n), m * n), rand((n, p), n * p + 1)
    ctx.generate_rotation_keys(steps=MatrixProduct(ctx, d).required_rotations())
    EA, EB = EncryptedMatrix.encrypt(ctx, A, d), EncryptedMatrix.encrypt(ctx, B, d)
    C = EA @ EB
    assert C.shape == (m, p) and C.grid == (-(-m // d), -(-p // d)) and C.level == ctx.max_level - 3
    assert_close(C.decrypt(ctx), A @ B, MIN_BITS, f"tiled {m}x{n} @ {n}x{p}, d={d}")


@pytest.mark.parametrize("m,n,p,d", [(5, 7, 3, 4), (9, 12, 5, 8), (1, 5, 1, 2)])
def test_plaintext_on_either_side(ctx, m, n, p, d):
    ctx.generate_rotation_keys(steps=tile_rotations(ctx, d))
    A, B = rand((m, n), 2 * m + n), rand((n, p), 3 * n + p)
    EA, EB = EncryptedMatrix.encrypt(ctx, A, d), EncryptedMatrix.encrypt(ctx, B, d)
    assert_close((EA @ B).decrypt(ctx), A @ B, MIN_BITS, f"enc {m}x{n} @ plain {n}x{p}")
    assert_close((A @ EB).decrypt(ctx), A @ B, MIN_BITS, f"plain {m}x{n} @ enc {n}x{p}")
    Z = B.copy()
    Z[:, :d] = 0  # a column of zero tiles
    C = EA @ Z
    assert C.level == ctx.max_level - 1
    assert_close(C.decrypt(ctx), A @ Z, MIN_BITS, "zero tiles")


def test_larger_than_the_slots():
    with pytest.warns(UserWarning):  # 512 slots (not secure: tests only)
        small = si.Context.create(poly_degree=1024, coeff_bits=[60, 40, 40, 40, 60], scale_bits=40, security=None)
    d = 16
    small.generate_rotation_keys(steps=MatrixProduct(small, d).required_rotations())
    A, B = rand((40, 36), 1), rand((36, 20), 2)
    EA, EB = EncryptedMatrix.encrypt(small, A, d), EncryptedMatrix.encrypt(small, B, d)
    assert EA.grid == (3, 3) and A.size > small.slots
    C = EA @ EB
    assert_close(C.decrypt(), A @ B, 15, "40x36 @ 36x20 in 16 x 16 tiles")
    assert_close((2 * EA - EA + EA).decrypt(), 2 * A, 20, "tile-wise arithmetic")


def test_bad_inputs(ctx):
    EA = EncryptedMatrix.encrypt(ctx, np.ones((3, 4)), 2)
    with pytest.raises(si.ParameterError, match="shapes do not match"):
        EA @ EncryptedMatrix.encrypt(ctx, np.ones((3, 4)), 2)
    with pytest.raises(si.ParameterError, match="shapes do not match"):
        EA @ np.ones((3, 3))
    with pytest.raises(si.ParameterError, match="shapes do not match"):
        np.ones((2, 2)) @ EA
    with pytest.raises(si.ParameterError, match="tiles differ"):
        EA @ EncryptedMatrix.encrypt(ctx, np.ones((4, 4)), 4)
    with pytest.raises(si.ParameterError, match="differ"):
        EA + EncryptedMatrix.encrypt(ctx, np.ones((3, 4)), 4)
    with pytest.raises(si.ParameterError, match="d\\*d"):
        EncryptedMatrix.encrypt(ctx, np.ones((3, 4)), 65)
    with pytest.raises(si.ParameterError, match="2-D"):
        EncryptedMatrix.encrypt(ctx, np.ones(4), 2)
    with pytest.raises(si.ParameterError, match="tiles"):
        EncryptedMatrix([[ctx.encrypt(np.ones(3))]], (2, 2), 2)
    low = EncryptedMatrix([[t.drop_to_level(1) for t in row]
                           for row in EncryptedMatrix.encrypt(ctx, np.ones((4, 2)), 2).tiles], (4, 2), 2)
    with pytest.raises(si.LevelError, match="3 levels"):
        EA @ low
