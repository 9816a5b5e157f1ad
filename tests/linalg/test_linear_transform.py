"""LinearTransform (securinfer.linalg) and x @ W against numpy, precision in bits."""

import numpy as np
import pytest

import securinfer as si
from securinfer import linalg

from ..scheme.conftest import PARAMETER_SETS, assert_close

# Scale 2^40: >= 15 bits relative to max(1, |y|) for y = x @ W with x, W in [-1, 1].
MIN_BITS = 15


@pytest.fixture(scope="module")
def ctx():
    """N=8192 [60, 40, 40, 60], power-of-two keys (any step composes)."""
    c = si.Context.create(**PARAMETER_SETS["N8192-s40"])
    c.generate_rotation_keys()
    return c


def data(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, shape[0]), rng.uniform(-1, 1, shape)


SHAPES = [(1, 9), (9, 1), (1, 1), (3, 2), (7, 13), (13, 7), (100, 37), (64, 64), (128, 128), (512, 512),
          (37, 300), (300, 37)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_against_numpy(ctx, shape, threads):
    x, W = data(shape, sum(shape))
    lt = linalg.LinearTransform(ctx, W)
    y = lt.apply(ctx.encrypt(x))
    assert y.size == shape[1] and y.level == ctx.max_level - 1
    assert abs(y.scale / ctx._core.level_scale(ctx.max_level - 1) - 1) < 1e-9, "lands on the canonical scale"
    assert_close(ctx.decrypt(y), x @ W, MIN_BITS, f"x @ W {shape} t={threads}")
    # The padding past cols stays zero (so sums and further products are right).
    every_slot = si._core.ckks.decrypt(ctx._keys, y._core).real
    assert np.max(np.abs(every_slot[shape[1]:])) < 1e-4


def test_random_shapes_and_levels(ctx):
    rng = np.random.default_rng(7)
    for _ in range(6):
        rows, cols = (int(v) for v in rng.integers(1, 200, 2))
        x, W = data((rows, cols), int(rng.integers(1 << 30)))
        ct = ctx.encrypt(x)
        if rng.integers(2):
            ct = ct.drop_to_level(1)
        y = ct @ W
        assert y.level == ct.level - 1
        assert_close(ctx.decrypt(y), x @ W, MIN_BITS, f"random {rows}x{cols} at level {ct.level}")


def test_does_not_fit_replication_falls_back():
    # rows + cols - 1 > slots: the whole slot vector is the period (~slots
    # diagonals, so a small ring keeps this quick).
    with pytest.warns(UserWarning):
        small = si.Context.create(poly_degree=1024, coeff_bits=[60, 40, 60], scale_bits=40, security=None)
    small.generate_rotation_keys()
    for shape in [(400, 200), (512, 512), (200, 400)]:
        x, W = data(shape, 11)
        lt = linalg.LinearTransform(small, W)
        assert_close(small.decrypt(lt.apply(small.encrypt(x))), x @ W, MIN_BITS, f"fallback {shape}")


def test_copies_that_would_overrun_the_slots():
    # rows + cols - 1 <= slots, but ceil((rows + cols - 1) / rows) copies of
    # the input would overrun the slots (and wrap onto slot 0).
    with pytest.warns(UserWarning):
        small = si.Context.create(poly_degree=1024, coeff_bits=[60, 40, 60], scale_bits=40, security=None)
    small.generate_rotation_keys()
    for shape in [(3, 509), (5, 508), (7, 506), (100, 404), (100, 413), (300, 213)]:
        x, W = data(shape, shape[1])
        assert_close(small.decrypt(small.encrypt(x) @ W), x @ W, MIN_BITS, f"copies overrun {shape}")


def test_batched(ctx, threads):
    rng = np.random.default_rng(8)
    batch, stride, rows, cols = 8, 512, 512, 512
    W = rng.uniform(-1, 1, (rows, cols))
    X = rng.uniform(-1, 1, (batch, rows))
    lt = linalg.LinearTransform(ctx, W, batch=batch, stride=stride)
    y = ctx.decrypt(lt.apply(ctx.encrypt(X.reshape(-1))))
    assert_close(y.reshape(batch, cols), X @ W, MIN_BITS, f"batched {batch} x {rows}x{cols}")
    # Diagonals that repeat every `stride` slots are polynomials in
    # X^(slots / stride): their NTT words come in equal runs, kept once each.
    full = lt.plaintext_count * (lt.level + 1) * ctx.poly_degree * 8
    assert batch * stride == ctx.slots
    assert lt.nbytes * (ctx.slots // stride) == full
    single = linalg.LinearTransform(ctx, W)  # zeros past the output: nothing repeats
    assert single.nbytes == single.plaintext_count * (single.level + 1) * ctx.poly_degree * 8


def test_batched_rectangular(ctx):
    rng = np.random.default_rng(9)
    W = rng.uniform(-1, 1, (20, 30))
    X = rng.uniform(-1, 1, (5, 20))
    packed = np.zeros(5 * 32)
    for b in range(5):
        packed[b * 32: b * 32 + 20] = X[b]
    lt = linalg.LinearTransform(ctx, W, batch=5, stride=32)
    y = ctx.decrypt(lt.apply(ctx.encrypt(packed)))
    got = np.stack([y[b * 32: b * 32 + 30] for b in range(5)])
    assert_close(got, X @ W, MIN_BITS, "batched 5 x 20x30")
    assert np.max(np.abs([y[b * 32 + 30: b * 32 + 32] for b in range(4)])) < 1e-4, "gaps stay zero"


def test_required_rotations_are_exactly_the_keys_used():
    c = si.Context.create(**PARAMETER_SETS["N8192-s40"])
    x, W = data((100, 60), 12)
    lt = linalg.LinearTransform(c, W)
    steps = lt.required_rotations()
    assert steps and 0 not in steps and len(set(steps)) == len(steps)
    with pytest.raises(si.MissingKeyError, match="rotation step"):
        lt.apply(c.encrypt(x))
    # All but one: still missing.
    c.generate_rotation_keys(steps=steps[1:])
    with pytest.raises(si.MissingKeyError, match=str(steps[0])):
        lt.apply(c.encrypt(x))
    c.generate_rotation_keys(steps=steps[:1])
    assert set(c.rotation_steps) == {s % c.slots for s in steps}, "no other key was made"
    assert_close(c.decrypt(lt.apply(c.encrypt(x))), x @ W, MIN_BITS, "with exactly the required keys")


def test_bsgs_counts(ctx):
    _, W = data((512, 512), 13)
    lt = linalg.LinearTransform(ctx, W)
    core = lt._core
    assert core.plaintext_count == 512
    # Replication (-512), n1 - 1 baby steps and the non-zero giant steps.
    assert len(lt.required_rotations()) == 1 + (lt.baby_step - 1) + (core.giant_count - 1)
    assert len(lt.required_rotations()) < 50
    # Zero diagonals are skipped.
    D = np.diag(np.arange(1.0, 33.0))
    assert linalg.LinearTransform(ctx, D)._core.plaintext_count == 1


def test_zero_and_identity(ctx):
    x = np.linspace(-1, 1, 16)
    assert_close(ctx.decrypt(ctx.encrypt(x) @ np.zeros((16, 4))), np.zeros(4), MIN_BITS, "zero matrix")
    assert_close(ctx.decrypt(ctx.encrypt(x) @ np.eye(16)), x, MIN_BITS, "identity")
    assert_close(ctx.decrypt(ctx.encrypt(x) @ np.eye(16, dtype=int)), x, MIN_BITS, "integer matrix")


def test_chained_products(ctx):
    rng = np.random.default_rng(14)
    x, A, B = rng.uniform(-1, 1, 32), rng.uniform(-1, 1, (32, 48)) / 4, rng.uniform(-1, 1, (48, 10)) / 4
    y = ctx.encrypt(x) @ A @ B
    assert y.level == 0
    assert_close(ctx.decrypt(y), x @ A @ B, 12, "two chained products")


def test_wrong_shapes_and_inputs(ctx):
    a = ctx.encrypt(np.ones(5))
    # numpy's rule: a 1-D right operand makes `@` an inner product.
    assert_close(ctx.decrypt(a @ np.arange(5.0)), [10.0], MIN_BITS, "x @ v (1-D)")
    for bad, match in [(np.ones((4, 2)), "shapes do not match"), (np.ones(4), "not aligned"),
                       (np.ones((5, 2, 1)), "2-D"), (np.ones((5, 2)) * 1j, "complex"),
                       (np.array([["a"] * 2] * 5), "numeric"), (np.full((5, 2), np.nan), "finite")]:
        with pytest.raises(si.ParameterError, match=match):
            a @ bad
    # One transform holds at most `slots` columns (x @ W then goes by blocks: test_blocks.py).
    with pytest.raises(si.ParameterError, match="does not fit"):
        linalg.LinearTransform(ctx, np.ones((5, ctx.slots + 1)))
    lt = linalg.LinearTransform(ctx, np.ones((5, 3)))
    with pytest.raises(si.ParameterError, match="shapes do not match"):
        lt.apply(ctx.encrypt(np.ones(6)))
    with pytest.raises(si.ParameterError):
        lt.apply(np.ones(5))
    with pytest.raises(si.ParameterError, match="level"):
        linalg.LinearTransform(ctx, np.ones((5, 3)), level=0)
    with pytest.raises(si.ParameterError, match="batch and stride"):
        linalg.LinearTransform(ctx, np.ones((5, 3)), batch=2)
    with pytest.raises(si.ParameterError, match="fit"):
        linalg.LinearTransform(ctx, np.ones((5, 3)), batch=1000, stride=8)
    low = linalg.LinearTransform(ctx, np.ones((5, 3)), level=1)
    with pytest.raises(si.LevelError):
        linalg.LinearTransform(ctx, np.ones((5, 3))).apply(a.drop_to_level(1))
    assert_close(ctx.decrypt(low.apply(a)), np.full(3, 5.0), MIN_BITS, "input dropped to the prepared level")
    with pytest.raises(si.LevelError):
        a.drop_to_level(0) @ np.ones((5, 3))
    with pytest.raises(si.ParameterError, match="zeros past"):
        a.sum() @ np.ones((1, 3))


def test_other_parameters_are_refused(ctx):
    other = si.Context.create(poly_degree=8192, coeff_bits=[50, 40, 40, 50], scale_bits=40)
    with pytest.raises(si.ContextMismatchError):
        linalg.LinearTransform(other, np.ones((4, 4))).apply(ctx.encrypt(np.ones(4)))
    # A transform is plaintext: any key set of the same parameters may use it.
    same = si.Context.create(**PARAMETER_SETS["N8192-s40"])
    lt = linalg.LinearTransform(same, np.ones((4, 4)))
    assert_close(ctx.decrypt(lt.apply(ctx.encrypt(np.ones(4)))), np.full(4, 4.0), MIN_BITS, "other keys")


def test_cache_prepares_once(ctx):
    linalg.cache_clear()
    rng = np.random.default_rng(15)
    W = rng.uniform(-1, 1, (64, 32))
    x = ctx.encrypt(rng.uniform(-1, 1, 64))
    y1 = x @ W
    assert linalg.cache_info()["misses"] == 1
    y2 = x @ W
    y3 = x @ W.copy()  # equal content: same preparation
    assert linalg.cache_info() == {"hits": 2, "misses": 1, "size": 1}
    assert np.allclose(ctx.decrypt(y1), ctx.decrypt(y2), atol=1e-6)
    W[0, 0] += 1.0  # changed in place: prepared again
    assert_close(ctx.decrypt(x @ W), ctx.decrypt(x) @ W, 14, "after an in-place change")
    assert linalg.cache_info()["misses"] == 2
    x.drop_to_level(1) @ W  # another level: another preparation
    assert linalg.cache_info()["misses"] == 3
    del y3
    linalg.cache_clear()
    assert linalg.cache_info() == {"hits": 0, "misses": 0, "size": 0}


@pytest.mark.parametrize("count", [1, 2, 4])
def test_batched_transform_keeps_the_input_count(ctx, count):
    """A batch of `count` inputs at stride 8 comes out as `count` outputs: the
    result's length is the input's count of blocks, its padding zeros (blocks
    of zeros map to blocks of zeros), so it can feed the next batched layer."""
    rng = np.random.default_rng(count)
    W = rng.uniform(-1, 1, (5, 3))
    rows = rng.uniform(-1, 1, (count, 5))
    x = np.zeros(count * 8)
    for b in range(count):
        x[b * 8:b * 8 + 5] = rows[b]
    lt = linalg.LinearTransform(ctx, W, batch=4, stride=8)
    y = lt.apply(ctx.encrypt(x))
    assert (y.size, y.padding) == (count * 8, "zeros")
    got = ctx.decrypt(y).reshape(count, 8)
    assert_close(got[:, :3], rows @ W, 15, f"batched x @ W, {count} inputs")
    assert_close(got[:, 3:], np.zeros((count, 5)), 15, "the gaps between outputs")
