"""EncryptedVector and BlockLinearTransform (securinfer.linalg.blocks) against
numpy, precision in bits; shapes larger than the slots on a small ring."""

import pickle

import numpy as np
import pytest

import securinfer as si
from securinfer import linalg

from ..scheme.conftest import assert_close

# Scale 2^40, x and W in [-1, 1]: >= 14 bits relative to max(1, |y|) after
# summing a few blocks' partial products.
MIN_BITS = 14


@pytest.fixture(scope="module")
def ctx():
    """preset "fast" (N=8192, 4096 slots) with power-of-two keys; small chunks
    and blocks exercise the block logic at this size."""
    c = si.Context.create(preset="fast")
    c.generate_rotation_keys()
    return c


@pytest.fixture(scope="module")
def small():
    """N=1024 (512 slots), so "larger than the slots" stays quick. Not secure:
    tests only."""
    with pytest.warns(UserWarning):
        c = si.Context.create(poly_degree=1024, coeff_bits=[60, 40, 60], scale_bits=40, security=None)
    c.generate_rotation_keys()
    return c


def data(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, shape[0]), rng.uniform(-1, 1, shape)


# (rows, cols, block): 1 x n, n x 1, non-powers of two, ragged last blocks.
CASES = [(1, 9, 4), (9, 1, 4), (1, 1, 1), (7, 13, 3), (37, 50, (16, 24)), (100, 9, (40, 4)), (64, 64, 32),
         (30, 70, (30, 25))]


@pytest.mark.parametrize("rows,cols,block", CASES, ids=lambda v: str(v))
def test_blocks_against_numpy(ctx, rows, cols, block):
    x, W = data((rows, cols), rows * 1000 + cols)
    blt = linalg.BlockLinearTransform(ctx, W, block=block)
    br, bc = blt.block
    assert blt.grid == (-(-rows // br), -(-cols // bc))
    v = linalg.EncryptedVector.encrypt(ctx, x, chunk=br)
    y = blt.apply(v)
    assert isinstance(y, linalg.EncryptedVector) and y.chunk == bc and y.size == cols
    assert y.level == ctx.max_level - 1
    assert_close(y.decrypt(ctx), x @ W, MIN_BITS, f"blocks {rows}x{cols} {block}")
    # The operator picks the same row blocks from the vector's chunks.
    assert_close((v @ W).decrypt(ctx), x @ W, MIN_BITS, f"v @ W {rows}x{cols}")


def test_random_shapes_and_chunks(ctx):
    rng = np.random.default_rng(3)
    for _ in range(5):
        rows, cols = (int(v) for v in rng.integers(1, 120, 2))
        chunk = int(rng.integers(1, rows + 1))
        x, W = data((rows, cols), int(rng.integers(1 << 30)))
        v = linalg.EncryptedVector.encrypt(ctx, x, chunk=chunk)
        if rng.integers(2):
            v = v.drop_to_level(1)
        y = v @ W
        assert y.level == v.level - 1
        assert_close(y.decrypt(ctx), x @ W, MIN_BITS, f"random {rows}x{cols} chunk {chunk} level {v.level}")


def test_rows_cols_and_both_larger_than_slots(small):
    s = small.slots
    # rows > slots: the input spans two ciphertexts.
    x, W = data((s + 88, 7), 1)
    v = linalg.EncryptedVector.encrypt(small, x)
    assert v.sizes == [s, 88]
    assert_close((v @ W).decrypt(), x @ W, MIN_BITS, "rows > slots")
    # cols > slots: one ciphertext in, a chunked vector out (Ciphertext @ W).
    x, W = data((5, 2 * s + 3), 2)
    y = small.encrypt(x) @ W
    # Column blocks of 102 * 5 - 5 + 1 keep the replicated layout (5 diagonals each).
    assert isinstance(y, linalg.EncryptedVector) and y.sizes == [506, 506, 15]
    assert_close(y.decrypt(), x @ W, MIN_BITS, "cols > slots")
    # Both, then a second product on the chunked result.
    x, W = data((s + 40, s + 30), 3)
    W2 = np.random.default_rng(4).uniform(-1, 1, (s + 30, 6)) / 8
    y = linalg.EncryptedVector.encrypt(small, x) @ W
    assert y.sizes == [s, 30]
    assert_close(y.decrypt(), x @ W, 12, "rows and cols > slots")
    with pytest.raises(si.LevelError):  # depth 1 is spent
        y @ W2


def test_chained_products_and_arithmetic(ctx):
    rng = np.random.default_rng(5)
    x, a, b = rng.uniform(-1, 1, 50), rng.uniform(-1, 1, 50), rng.uniform(-1, 1, 50)
    A, B = rng.uniform(-1, 1, (50, 40)) / 4, rng.uniform(-1, 1, (40, 10)) / 4
    v = linalg.EncryptedVector.encrypt(ctx, x, chunk=16)
    w = linalg.EncryptedVector.encrypt(ctx, a, chunk=16)
    got = (2 * v - w + 1.5 - b) * v + b * w - (-v) + (b - v)
    want = (2 * x - a + 1.5 - b) * x + b * a + x + (b - x)
    assert_close(got.decrypt(ctx), want, MIN_BITS, "arithmetic")
    y = (v @ A) @ B
    assert y.level == 0
    assert_close(y.decrypt(ctx), x @ A @ B, 12, "two chained blocked products")
    assert_close((v * w).decrypt(ctx), x * a, MIN_BITS, "slot-wise ct x ct")


def test_required_rotations_are_the_union_and_suffice():
    c = si.Context.create(preset="fast")
    x, W = data((70, 45), 6)
    blt = linalg.BlockLinearTransform(c, W, block=(32, 20))
    steps = blt.required_rotations()
    union = set()
    for (i, j) in [(i, j) for i in range(3) for j in range(3)]:
        sub = W[32 * i:32 * (i + 1), 20 * j:20 * (j + 1)]
        union |= set(linalg.LinearTransform(c, sub).required_rotations())
    assert steps == sorted(union) and steps
    v = linalg.EncryptedVector.encrypt(c, x, chunk=32)
    with pytest.raises(si.MissingKeyError, match="rotation step"):
        blt.apply(v)
    c.generate_rotation_keys(steps=steps)
    assert set(c.rotation_steps) == {s % c.slots for s in steps}, "no other key was made"
    assert_close(blt.apply(v).decrypt(c), x @ W, MIN_BITS, "with exactly the required keys")
    # The server side: a public context computes, only the client decrypts.
    server = c.public()
    y = blt.apply(linalg.EncryptedVector.load(v.serialize(), server))
    with pytest.raises(si.MissingKeyError):
        y.decrypt()
    assert_close(y.decrypt(c), x @ W, MIN_BITS, "on the public context")


def test_zero_blocks_are_skipped(ctx):
    x, W = data((40, 30), 7)
    W[:20, :10] = 0       # block (0, 0)
    W[:, 20:] = 0         # a whole column of blocks: its chunk is zeros
    blt = linalg.BlockLinearTransform(ctx, W, block=(20, 10))
    assert blt.grid == (2, 3) and blt.nonzero_blocks == 4  # (1,0), (0,1), (1,1), and one for column 2
    y = blt.apply(linalg.EncryptedVector.encrypt(ctx, x, chunk=20))
    assert y.sizes == [10, 10, 10]
    assert_close(y.decrypt(ctx), x @ W, MIN_BITS, "zero blocks")


def test_serialize_and_pickle(ctx):
    x = np.linspace(-1, 1, 23)
    v = linalg.EncryptedVector.encrypt(ctx, x, chunk=10)
    data_list = v.serialize()
    assert len(data_list) == 3 and all(isinstance(d, bytes) for d in data_list)
    back = linalg.EncryptedVector.load(data_list, ctx)
    assert back.sizes == v.sizes and back.chunk == 10
    assert_close(back.decrypt(), x, 20, "serialize round trip")
    public = ctx.public()
    on_server = linalg.EncryptedVector.load(data_list, public)
    again = pickle.loads(pickle.dumps(on_server))
    assert_close(ctx.decrypt(again.ciphertexts[2]), x[20:], 20, "pickle round trip")
    with pytest.raises(si.ParameterError, match="list of bytes"):
        linalg.EncryptedVector.load(data_list[0], ctx)
    with pytest.raises(si.SerializationError):
        linalg.EncryptedVector.load([b"junk"], ctx)


def test_cache_prepares_once(ctx):
    linalg.block_cache_clear()
    x, W = data((40, 30), 8)
    v = linalg.EncryptedVector.encrypt(ctx, x, chunk=16)
    y1, y2 = v @ W, v @ W.copy()
    assert linalg.block_cache_info() == {"hits": 1, "misses": 1, "size": 1}
    assert np.allclose(y1.decrypt(ctx), y2.decrypt(ctx), atol=1e-6)
    linalg.block_cache_clear()
    assert linalg.block_cache_info() == {"hits": 0, "misses": 0, "size": 0}


def test_mismatched_shapes_and_bad_inputs(ctx):
    v = linalg.EncryptedVector.encrypt(ctx, np.ones(10), chunk=4)
    w = linalg.EncryptedVector.encrypt(ctx, np.ones(10), chunk=5)
    for bad, match in [(np.ones((9, 2)), "shapes do not match"), (np.ones(10), "2-D"),
                       (np.ones((10, 2)) * 1j, "complex"), (np.full((10, 2), np.inf), "finite")]:
        with pytest.raises(si.ParameterError, match=match):
            v @ bad
    blt = linalg.BlockLinearTransform(ctx, np.ones((10, 3)), block=(5, 3))
    with pytest.raises(si.ParameterError, match="chunks of 4 values do not match row blocks of 5"):
        blt.apply(v)
    with pytest.raises(si.ParameterError, match="shapes do not match"):
        blt.apply(linalg.EncryptedVector.encrypt(ctx, np.ones(11), chunk=5))
    with pytest.raises(si.ParameterError):
        blt.apply(np.ones(10))
    with pytest.raises(si.ParameterError, match="shapes do not match"):
        blt.apply(ctx.encrypt(np.ones(11)))
    with pytest.raises(si.ParameterError, match="chunkings differ"):
        v + w
    with pytest.raises(si.ParameterError, match="a vector of 9 values"):
        v * np.ones(9)
    with pytest.raises(si.ParameterError, match="exceeds"):
        linalg.BlockLinearTransform(ctx, np.ones((3, 3)), block=ctx.slots + 1)
    with pytest.raises(si.ParameterError, match="positive int"):
        linalg.BlockLinearTransform(ctx, np.ones((3, 3)), block=0)
    with pytest.raises(si.ParameterError, match="empty"):
        linalg.EncryptedVector.encrypt(ctx, [])
    with pytest.raises(si.ParameterError, match="exceeds"):
        linalg.EncryptedVector.encrypt(ctx, np.ones(3), chunk=ctx.slots + 1)
    with pytest.raises(si.ParameterError, match="at least one"):
        linalg.EncryptedVector([])
    with pytest.raises(si.ParameterError, match="each"):  # a short chunk before the last
        linalg.EncryptedVector([ctx.encrypt(np.ones(3)), ctx.encrypt(np.ones(4))])
    with pytest.raises(si.ParameterError, match="zeros past"):
        linalg.EncryptedVector([ctx.encrypt(np.ones(4)).sum()])
    other = si.Context.create(poly_degree=8192, coeff_bits=[50, 40, 40, 50], scale_bits=40)
    with pytest.raises(si.ContextMismatchError):
        linalg.EncryptedVector([ctx.encrypt(np.ones(4)), other.encrypt(np.ones(4))])
    with pytest.raises(si.ContextMismatchError):
        linalg.BlockLinearTransform(other, np.ones((10, 3)), block=(4, 3)).apply(v)
    with pytest.raises(si.LevelError):
        v.drop_to_level(0) @ np.ones((10, 3))
