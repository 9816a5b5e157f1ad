"""combine, combine_plain and sum_of_products against numpy (and against the
same sums written as separate ciphertext products)."""

import numpy as np
import pytest

import securinfer as si
from securinfer._core import ckks as _ckks

from ..scheme.conftest import assert_close


@pytest.fixture(scope="module", params=["fast", "tenseal"])
def ctx(request):
    # "tenseal" has 60-bit primes: only 16 products fit between two reductions,
    # so 40 terms exercise the reduction runs of the lazy accumulation.
    return si.Context.create(preset=request.param)


def encrypt_rows(ctx, X):
    return [ctx.encrypt(row) for row in X]


@pytest.mark.parametrize("n_in, n_out", [(1, 1), (3, 5), (40, 7)])
def test_combine_matches_numpy(ctx, n_in, n_out):
    rng = np.random.default_rng(n_in * 100 + n_out)
    X = rng.uniform(-1, 1, (n_in, 300))
    W = rng.uniform(-2, 2, (n_out, n_in))
    W[0, 0] = 0.0  # zero weights are skipped
    ys = si.linalg.combine(encrypt_rows(ctx, X), W)
    assert len(ys) == n_out
    assert all(y.level == ctx.max_level - 1 and y.size == 300 for y in ys)
    got = np.array([ctx.decrypt(y) for y in ys])
    assert_close(got, W @ X, 14, f"combine {n_in}->{n_out}")


def test_combine_equals_separate_products(ctx):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (4, 64))
    w = rng.uniform(-1, 1, 4)
    xs = encrypt_rows(ctx, X)
    separate = sum(float(wi) * x for wi, x in zip(w, xs))
    (fused,) = si.linalg.combine(xs, w[None, :])
    assert fused.level == separate.level and np.isclose(fused.scale, separate.scale, rtol=1e-12)
    assert_close(ctx.decrypt(fused), ctx.decrypt(separate), 16, "fused vs separate")


def test_combine_zero_row_and_mixed_levels(ctx):
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, (3, 16))
    xs = encrypt_rows(ctx, X)
    xs[1] = xs[1] * 0.5  # one level lower: the others are brought down to it
    X[1] *= 0.5
    W = np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 0.5]])
    zero, y = si.linalg.combine(xs, W)
    assert zero.level == y.level == ctx.max_level - 2
    assert_close(ctx.decrypt(zero), np.zeros(16), 20, "all-zero row")
    assert_close(ctx.decrypt(y), W[1] @ X, 14, "mixed levels")


@pytest.mark.parametrize("count", [1, 17, 128])
def test_combine_plain_matches_numpy(ctx, count):
    rng = np.random.default_rng(count)
    width = ctx.slots if count == 128 else 100
    P = rng.uniform(-1, 1, (count, width))  # per-slot probe coordinates
    G = rng.uniform(-1, 1, (count, width))  # gallery columns
    cols = si.linalg.EncodedColumns(ctx, G)
    assert (cols.count, cols.width) == (count, width)
    assert cols.nbytes == count * (ctx.max_level + 1) * ctx.poly_degree * 8
    y = si.linalg.combine_plain(encrypt_rows(ctx, P), cols)
    assert y.level == ctx.max_level - 1
    assert_close(ctx.decrypt(y), (P * G).sum(axis=0), 12, f"combine_plain {count}")


def test_combine_plain_many_equals_one_set_at_a_time(ctx):
    # The chunked pass over every set gives the very words of separate calls.
    rng = np.random.default_rng(11)
    P = rng.uniform(-1, 1, (40, 64))
    Gs = [rng.uniform(-1, 1, (40, w)) for w in (64, 10, 64)]
    sets = [si.linalg.EncodedColumns(ctx, G) for G in Gs]
    xs = encrypt_rows(ctx, P)
    many = si.linalg.combine_plain_many(xs, sets)
    assert len(many) == len(sets)
    for y, cols in zip(many, sets):
        assert y.serialize() == si.linalg.combine_plain(xs, cols).serialize()
    assert_close(ctx.decrypt(many[1])[:10], (P[:, :10] * Gs[1]).sum(axis=0), 12, "combine_plain_many")
    with pytest.raises(si.ParameterError, match="no column sets"):
        si.linalg.combine_plain_many(xs, [])
    with pytest.raises(si.ParameterError, match="columns"):
        si.linalg.combine_plain_many(xs, [sets[0], si.linalg.EncodedColumns(ctx, np.ones((3, 4)))])
    with pytest.raises(si.LevelError, match="different levels"):
        si.linalg.combine_plain_many(xs, [sets[0], si.linalg.EncodedColumns(ctx, np.ones((40, 4)), level=1)])
    with pytest.raises(si.ParameterError, match="EncodedColumns"):
        si.linalg.combine_plain_many(xs, [sets[0], np.ones((40, 4))])


def test_sum_of_products_many_equals_one_block_at_a_time(ctx):
    rng = np.random.default_rng(12)
    A = rng.uniform(-1, 1, (3, 16))
    Bs = [rng.uniform(-1, 1, (3, 16)) for _ in range(3)]
    a = encrypt_rows(ctx, A)
    blocks = [encrypt_rows(ctx, B) for B in Bs]
    many = si.linalg.sum_of_products_many(a, blocks)
    for y, b, B in zip(many, blocks, Bs):
        assert y.serialize() == si.linalg.sum_of_products(a, b).serialize()
        assert_close(ctx.decrypt(y)[:16], (A * B).sum(axis=0), 12, "sum_of_products_many")
    # Blocks at different levels: every result comes at the lowest one, with
    # the right values (not a block multiplied at the wrong scale).
    low = [ct * 1.0 for ct in blocks[2]]
    mixed = si.linalg.sum_of_products_many(a, [blocks[0], low])
    assert mixed[0].level == mixed[1].level == low[0].level - 1
    assert_close(ctx.decrypt(mixed[0])[:16], (A * Bs[0]).sum(axis=0), 12, "block at the top level")
    assert_close(ctx.decrypt(mixed[1])[:16], (A * Bs[2]).sum(axis=0), 12, "block one level down")
    with pytest.raises(si.ParameterError, match="no blocks"):
        si.linalg.sum_of_products_many(a, [])
    with pytest.raises(si.ParameterError, match="3 and 2"):
        si.linalg.sum_of_products_many(a, [blocks[0], blocks[1][:2]])


def test_combine_plain_at_a_lower_level(ctx):
    rng = np.random.default_rng(3)
    P, G = rng.uniform(-1, 1, (2, 5, 32))
    cols = si.linalg.EncodedColumns(ctx, G, level=1)
    y = si.linalg.combine_plain(encrypt_rows(ctx, P), cols)  # fresh inputs dropped to level 1
    assert y.level == 0
    assert_close(ctx.decrypt(y), (P * G).sum(axis=0), 12, "combine_plain at level 1")
    low = [ctx.encrypt(p) * 0.5 * 0.5 for p in P]  # level 0
    with pytest.raises(si.LevelError):
        si.linalg.combine_plain(low, cols)


@pytest.mark.parametrize("count", [1, 5, 33])
def test_sum_of_products_matches_numpy(ctx, count):
    rng = np.random.default_rng(count + 7)
    A, B = rng.uniform(-1, 1, (2, count, 200))
    y = si.linalg.sum_of_products(encrypt_rows(ctx, A), encrypt_rows(ctx, B))
    assert y.level == ctx.max_level - 1
    assert_close(ctx.decrypt(y), (A * B).sum(axis=0), 12, f"sum_of_products {count}")


def test_sum_of_products_with_the_public_context(ctx):
    server = ctx.public()
    A, B = np.random.default_rng(9).uniform(-1, 1, (2, 3, 8))
    a = [server.encrypt(r) for r in A]
    b = [server.encrypt(r) for r in B]
    y = si.linalg.sum_of_products(a, b)
    assert_close(ctx.decrypt(si.Ciphertext.load(y.serialize(), ctx)), (A * B).sum(axis=0), 12, "public context")


def test_bad_arguments(ctx):
    xs = encrypt_rows(ctx, np.ones((2, 4)))
    other = si.Context.create(preset="fast" if ctx.poly_degree != 8192 or ctx.coeff_bits[0] == 60 else "tenseal")
    with pytest.raises(si.ParameterError, match="3 ciphertexts|shape"):
        si.linalg.combine(xs, np.ones((1, 3)))
    with pytest.raises(si.ParameterError, match="finite"):
        si.linalg.combine(xs, [[1.0, np.nan]])
    with pytest.raises(si.ParameterError, match="non-empty"):
        si.linalg.combine([], np.ones((1, 0)))
    with pytest.raises(si.ParameterError, match="ciphertexts"):
        si.linalg.combine([xs[0], np.ones(4)], np.ones((1, 2)))
    with pytest.raises(si.ContextMismatchError):
        si.linalg.combine([xs[0], other.encrypt(np.ones(4))], np.ones((1, 2)))
    with pytest.raises(si.ParameterError, match="columns"):
        si.linalg.combine_plain(xs, si.linalg.EncodedColumns(ctx, np.ones((3, 4))))
    with pytest.raises(si.ParameterError, match="at most"):
        si.linalg.EncodedColumns(ctx, np.ones((1, ctx.slots + 1)))
    with pytest.raises(si.LevelError):
        si.linalg.EncodedColumns(ctx, np.ones((1, 4)), level=0)
    with pytest.raises(si.ParameterError, match="2 and 1"):
        si.linalg.sum_of_products(xs, xs[:1])
    low = [x * 0.5 * 0.5 for x in xs]
    with pytest.raises(si.LevelError):
        si.linalg.combine(low, np.ones((1, 2)))


def test_combine_takes_inputs_of_different_scales(ctx):
    rng = np.random.default_rng(11)
    X = rng.uniform(-1, 1, (3, 32))
    xs = encrypt_rows(ctx, X)
    # Same level, different scales: primes dropped by the core keep the top-level scale
    # (Ciphertext.drop_to_level would land on the level's own scale).
    xs[2] = xs[2]._new(_ckks.drop_to_level(xs[2]._core, ctx.max_level - 1))
    xs[0], xs[1] = xs[0] * 0.5, xs[1] * 0.25
    assert xs[0].level == xs[2].level and abs(xs[0].scale / xs[2].scale - 1) > 1e-9
    W = rng.uniform(-1, 1, (2, 3))
    ys = si.linalg.combine(xs, W)
    want = W @ (X * np.array([[0.5], [0.25], [1.0]]))
    assert_close(np.array([ctx.decrypt(y) for y in ys]), want, 14, "mixed scales")


#: One wide prime holds a product of two 2^25 scales at level 0 (the face ring's layout).
LEVEL_ZERO_RING = dict(poly_degree=4096, coeff_bits=[53, 56], scale_bits=25, special_primes=1)


def test_products_at_level_zero_stay_there_on_the_product_of_the_scales():
    """combine_plain, combine_plain_many and sum_of_products at level 0: against
    numpy, within the range q_0 holds; constant vectors up to 3.5 (the
    encoding's worst case: their constant coefficient is value x scale)."""
    ctx = si.Context.create(**LEVEL_ZERO_RING)
    assert ctx.max_level == 0
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (5, ctx.slots))
    W = rng.uniform(-0.7, 0.7, (5, ctx.slots))
    xs = encrypt_rows(ctx, X)
    y = si.linalg.combine_plain(xs, si.linalg.EncodedColumns(ctx, W, level=0))
    assert y.level == 0 and y.scale == 2.0 ** 50
    assert np.abs(ctx.decrypt(y) - np.sum(X * W, axis=0)).max() < 1e-4
    sets = [si.linalg.EncodedColumns(ctx, W, level=0), si.linalg.EncodedColumns(ctx, -W[::-1], level=0)]
    for got, want in zip(si.linalg.combine_plain_many(xs, sets), [W, -W[::-1]]):
        assert np.abs(ctx.decrypt(got) - np.sum(X * want, axis=0)).max() < 1e-4
    z = si.linalg.sum_of_products(xs, encrypt_rows(ctx, W))
    assert z.level == 0 and z.scale == 2.0 ** 50
    assert np.abs(ctx.decrypt(z) - np.sum(X * W, axis=0)).max() < 1e-4
    constant = si.linalg.sum_of_products(encrypt_rows(ctx, np.full((5, ctx.slots), 0.7)),
                                         encrypt_rows(ctx, np.ones((5, ctx.slots))))
    assert np.abs(ctx.decrypt(constant) - 3.5).max() < 1e-4


def test_level_zero_products_refused_where_q0_cannot_hold_them():
    """A usual chain's level 0 (q_0 60 bits, scale 2^40: a product of 2^80) stays out of depth."""
    ctx = si.Context.create(preset="fast")
    low = [ctx.encrypt(np.ones(4)).drop_to_level(0)]
    with pytest.raises(si.LevelError, match="out of multiplicative depth"):
        si.linalg.EncodedColumns(ctx, np.ones((1, 4)), level=0)
    with pytest.raises(si.LevelError, match="out of multiplicative depth"):
        si.linalg.sum_of_products(low, low)
    tight = si.Context.create(poly_degree=4096, coeff_bits=[52, 57], scale_bits=25, special_primes=1)
    with pytest.raises(si.LevelError, match="3 bits above"):       # 2^50 in a 52-bit q_0: no headroom
        si.linalg.EncodedColumns(tight, np.ones((1, 4)), level=0)


def test_combine_to_a_lower_level_takes_one_rescale(ctx):
    """combine(level=L): the inputs cut to L + 1 primes, one rescale, outputs on
    level L's canonical scale; equal to numpy and to combining level by level."""
    X = np.random.default_rng(5).uniform(-1, 1, (2, 64))
    xs = encrypt_rows(ctx, X)
    top = ctx.max_level
    W = [[0.5, -2.0], [1.25, 0.0]]
    for level in range(top):
        ys = si.linalg.combine(xs, W, level=level)
        assert all(y.level == level and y.scale == ctx.level_scale(level) for y in ys)
        assert np.abs(np.array([ctx.decrypt(y)[:64] for y in ys]) - np.asarray(W) @ X).max() < 1e-6
    with pytest.raises(si.LevelError):
        si.linalg.combine(xs, W, level=top)                  # not below the inputs
    with pytest.raises(si.LevelError):
        si.linalg.combine(xs, W, level=-1)
    with pytest.raises(si.ParameterError):
        si.linalg.combine(xs, W, level=1.5)
