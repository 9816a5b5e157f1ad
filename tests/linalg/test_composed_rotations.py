"""Products under key sets that lack their exact steps (csrc/linalg/composed_rotations.h):
baby steps built from one another with power-of-two keys, giant steps by
Horner's rule. Against numpy, and precision-equal to the exact-key path on
the same ciphertext."""

import numpy as np
import pytest

import securinfer as si
from securinfer import linalg

from ..scheme.conftest import PARAMETER_SETS, assert_close, precision_bits

MIN_BITS = 15


def naf_weight(step, slots):
    """Non-zero digits of the non-adjacent form of step mod slots (a term
    +-slots/2 is one rotation either way; a full turn is none)."""
    r, terms, power = step % slots, [], 1
    while r:
        if r & 1:
            d = -1 if r & 3 == 3 else 1
            terms.append(d * power)
            r -= d
        r >>= 1
        power <<= 1
    return sum(1 for t in terms if t % slots)


def fresh_context():
    return si.Context.create(**PARAMETER_SETS["N8192-s40"])


def test_power_of_two_keys_match_exact_keys(threads):
    # One context, one ciphertext: first only the default keys, then the
    # exact steps added (used in preference): both against numpy, and the
    # composed path loses no more than two bits to the exact one.
    ctx = fresh_context()
    rng = np.random.default_rng(31)
    x, W = rng.uniform(-1, 1, 512), rng.uniform(-1, 1, (512, 512))
    lt = linalg.LinearTransform(ctx, W)
    ct = ctx.encrypt(x)
    ctx.generate_rotation_keys()
    composed = ctx.decrypt(lt.apply(ct))
    ctx.generate_rotation_keys(steps=lt.required_rotations())
    exact = ctx.decrypt(lt.apply(ct))
    assert_close(composed, x @ W, MIN_BITS, "power-of-two keys")
    assert_close(exact, x @ W, MIN_BITS, "exact keys")
    # The Horner chain key-switches the running sum once per giant step (16
    # here), each switch adding its own rounding noise (sqrt(16) = 4x: 2 bits),
    # where the exact keys' double-hoisted giant steps round once (measured:
    # 0.3 to 1.1 bits apart, depending on the path and threads).
    assert precision_bits(composed, x @ W) >= precision_bits(exact, x @ W) - 2
    assert not np.array_equal(composed, exact), "the two key sets take different paths"


def test_giant_key_switch_counts():
    ctx = fresh_context()
    ctx.generate_rotation_keys()
    giants = list(range(0, 512, 32))
    count = si._core.linalg.giant_key_switches
    independent, horner = count(ctx._keys, ctx._core, giants)
    assert independent == sum(naf_weight(g, ctx.slots) for g in giants)
    assert horner == len(giants) - 1  # every gap is 32: one power-of-two key each
    # Two chains (0, 64, ..., 448 and 32, ..., 480): gaps of 64, and the
    # second chain rotated by 32 at the end: the same count.
    assert count(ctx._keys, ctx._core, giants, 2) == (independent, len(giants) - 1)
    # Three chains: gaps of 96 (two terms each), plus 32 and 64 at the end.
    gaps = [g - giants[j - 3] if j >= 3 else g for j, g in enumerate(giants)]
    assert count(ctx._keys, ctx._core, giants, 3)[1] == sum(naf_weight(d, ctx.slots) for d in gaps)
    sparse = [100, 0, 96]  # Horner's gaps: 96, 4
    want = (naf_weight(96, ctx.slots) + naf_weight(100, ctx.slots), naf_weight(96, ctx.slots) + 1)
    assert count(ctx._keys, ctx._core, sparse) == want
    ctx.generate_rotation_keys(steps=giants)
    assert count(ctx._keys, ctx._core, giants) == (15, 15)


@pytest.mark.parametrize("baby_step", [1, 2, 8, 64, 128])
def test_forced_splits(baby_step):
    # baby_step 1: all giants (a Horner chain of 127 rotations by 1);
    # 128: all babies (a tree of 127 composed steps, no giant rotation).
    ctx = fresh_context()
    ctx.generate_rotation_keys()
    rng = np.random.default_rng(baby_step)
    x, W = rng.uniform(-1, 1, 128), rng.uniform(-1, 1, (128, 128)) / 4
    lt = linalg.LinearTransform(ctx, W, baby_step=baby_step)
    assert lt.baby_step == baby_step
    assert_close(ctx.decrypt(lt.apply(ctx.encrypt(x))), x @ W, MIN_BITS, f"n1={baby_step}")


def test_sparse_diagonals_and_mixed_keys(threads):
    # A band plus a far diagonal: sparse baby and giant steps; some steps
    # with their own key, the others composed.
    ctx = fresh_context()
    rng = np.random.default_rng(5)
    n = 200
    W = np.zeros((n, n))
    for k in (0, 3, 5, 6, 7, 150):
        for i in range(n):
            W[(i + k) % n, i] = rng.uniform(-1, 1)
    x = rng.uniform(-1, 1, n)
    lt = linalg.LinearTransform(ctx, W, baby_step=4)
    ctx.generate_rotation_keys()
    ctx.generate_rotation_keys(steps=[3, 148])
    assert_close(ctx.decrypt(lt.apply(ctx.encrypt(x))), x @ W, MIN_BITS, "sparse, mixed keys")


def test_batched_with_default_keys():
    ctx = fresh_context()
    ctx.generate_rotation_keys()
    rng = np.random.default_rng(6)
    W, X = rng.uniform(-1, 1, (64, 64)), rng.uniform(-1, 1, (8, 64))
    lt = linalg.LinearTransform(ctx, W, batch=8, stride=64)
    y = ctx.decrypt(lt.apply(ctx.encrypt(X.reshape(-1))))
    assert_close(y.reshape(8, 64), X @ W, MIN_BITS, "batched, default keys")


def test_missing_power_of_two_key_is_named():
    ctx = fresh_context()
    steps = [s for p in range(12) for s in (1 << p, -(1 << p)) if p != 2]  # no key for +-4
    ctx.generate_rotation_keys(steps=steps)
    rng = np.random.default_rng(7)
    x, W = rng.uniform(-1, 1, 64), rng.uniform(-1, 1, (64, 64))
    with pytest.raises(si.MissingKeyError):
        linalg.LinearTransform(ctx, W, baby_step=8).apply(ctx.encrypt(x))


@pytest.mark.parametrize("shape", [(7, 13), (100, 37), (300, 37), (512, 512)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_exact_keys_double_hoisted(shape, threads):
    # Exact keys: the giant rotations' key switches summed on the extended
    # basis, one fused ModDown + rescale. Against numpy, at both levels, with
    # the scale of a plaintext product and zeros past the output.
    ctx = fresh_context()
    rng = np.random.default_rng(sum(shape))
    x, W = rng.uniform(-1, 1, shape[0]), rng.uniform(-1, 1, shape)
    for level in (ctx.max_level, 1):
        lt = linalg.LinearTransform(ctx, W, level=level)
        ctx.generate_rotation_keys(steps=lt.required_rotations())
        assert lt._core.giant_count > 1
        ct = ctx.encrypt(x)
        y = lt.apply(ct)
        assert y.level == level - 1
        q_level = int(ctx.parameters.q_primes[level])
        assert y.scale == pytest.approx(ct.scale * lt._core.plaintext_scale / q_level, rel=1e-12)
        assert_close(ctx.decrypt(y), x @ W, MIN_BITS, f"exact keys {shape} level {level}")
        every_slot = si._core.ckks.decrypt(ctx._keys, y._core).real
        assert np.max(np.abs(every_slot[shape[1]:])) < 1e-4
