"""Block sums, packed inner products and replication against numpy."""

import numpy as np
import pytest

import securinfer as si
from securinfer.linalg.reductions import block_sum, block_sum_steps, packed_dot, replicate, replicate_steps

from ..scheme.conftest import assert_close


@pytest.fixture(scope="module")
def ctx():
    c = si.Context.create(preset="fast")
    c.generate_rotation_keys()  # power-of-two steps: every reduction here
    return c


@pytest.mark.parametrize("block", [1, 2, 8, 64, 512])
def test_block_sum(ctx, block):
    x = np.random.default_rng(block).uniform(-1, 1, 4096)
    got = ctx.decrypt(block_sum(ctx.encrypt(x), block))
    want = x.reshape(-1, block).sum(axis=1)
    assert_close(got[::block], want, 15, f"block {block}")


def test_packed_dot_with_ciphertext_and_plaintext(ctx):
    rng = np.random.default_rng(5)
    a, b = rng.uniform(-1, 1, (2, 8 * 128))
    want = (a * b).reshape(8, 128).sum(axis=1)
    for other in (ctx.encrypt(b), b):
        got = ctx.decrypt(packed_dot(ctx.encrypt(a), other, 128))
        assert_close(got[::128][:8], want, 15, "packed dot")


@pytest.mark.parametrize("period, copies", [(1, 4096), (4, 8), (128, 32), (2048, 2)])
def test_replicate(ctx, period, copies):
    x = np.random.default_rng(period).uniform(-1, 1, period)
    r = replicate(ctx.encrypt(x), period, copies)
    assert r.size == period * copies
    assert_close(ctx.decrypt(r), np.tile(x, copies), 16, f"replicate {period}x{copies}")


def test_steps_are_exactly_what_is_needed():
    ctx = si.Context.create(preset="fast")
    ctx.generate_rotation_keys(steps=block_sum_steps(16) + replicate_steps(16, 4))
    x = np.arange(16.0)
    assert_close(ctx.decrypt(block_sum(ctx.encrypt(x), 16))[:1], [x.sum()], 15, "sum with exact keys")
    assert_close(ctx.decrypt(replicate(ctx.encrypt(x), 16, 4)), np.tile(x, 4), 16, "replicate with exact keys")
    with pytest.raises(si.MissingKeyError):
        block_sum(ctx.encrypt(x), 64)


def test_bad_arguments(ctx):
    ct = ctx.encrypt(np.ones(8))
    with pytest.raises(si.ParameterError, match="power of two"):
        block_sum(ct, 3)
    with pytest.raises(si.ParameterError, match="larger than"):
        block_sum(ct, 8192)
    with pytest.raises(si.ParameterError, match="do not fit"):
        replicate(ct, 8, 1024)
    with pytest.raises(si.ParameterError, match="more than the period"):
        replicate(ct, 4, 2)
    with pytest.raises(si.ParameterError, match="zeros"):
        replicate(ct.sum(), 1, 2)
