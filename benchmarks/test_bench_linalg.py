"""Encrypted 512-vector x plaintext 512 x 512 matrix, N=8192 [60, 40, 40, 60],
scale 2^40, 1 and 2 threads.

- ``prepare``: LinearTransform construction (the one-time encoding of the
  512 pre-rotated diagonals at level 2), timed with benchmark.pedantic.
- ``apply``: the prepared transform applied to a fresh ciphertext (keys for
  exactly ``required_rotations()``).
- ``apply, default keys``: the same with only ``generate_rotation_keys()``'s
  power-of-two keys (baby steps built from one another, giant steps by
  Horner's rule: ``csrc/linalg/composed_rotations.h``); the target is within
  1.3x of ``apply``.
- ``apply, "fast" preset``: the same product on the preset's chain [49, 40,
  40] + [49] (every prime below 2^50: the products and NTTs on doubles).
- ``x @ W``: the operator, through the cache (a hit after the first call).
- TenSEAL's ``mm`` beside (its default Galois keys), ``--bench-slow-rounds`` rounds:
  seconds per call.

Anchor measured elsewhere (benchmarks are not comparable across machines):
OpenFHE hoisted BSGS 202 ms (shared/ANCHORS.md).

    pytest benchmarks/test_bench_linalg.py --benchmark-group-by=group --benchmark-columns=min,median,max,rounds
"""

from __future__ import annotations

import numpy as np
import pytest

import securinfer as si
from securinfer import linalg

from _bench_common import CKKS_PARAMS, OURS, TENSEAL, assert_close, set_info, ts

N = 8192
SIZE = 512


def _prepared_with_exact_keys(ctx):
    """(ctx, W, x, lt): the benchmark's matrix and vector, prepared on ctx with exactly its keys."""
    rng = np.random.default_rng(20240601)
    W = rng.uniform(-1, 1, (SIZE, SIZE))
    x = rng.uniform(-1, 1, SIZE)
    lt = linalg.LinearTransform(ctx, W)
    ctx.generate_rotation_keys(steps=lt.required_rotations())
    return ctx, W, x, lt


@pytest.fixture(scope="module")
def setup():
    return _prepared_with_exact_keys(si.Context.create(**CKKS_PARAMS[N]))


@pytest.fixture(scope="module")
def setup_default_keys():
    """The same product with only the default (power-of-two) rotation keys."""
    ctx = si.Context.create(**CKKS_PARAMS[N])
    rng = np.random.default_rng(20240601)
    W = rng.uniform(-1, 1, (SIZE, SIZE))
    x = rng.uniform(-1, 1, SIZE)
    ctx.generate_rotation_keys()
    return ctx, W, x, linalg.LinearTransform(ctx, W)


def _info(benchmark, threads, op, lt=None, library=OURS, group_op=None):
    extra = {} if lt is None else {"baby_step": lt.baby_step, "rotations": len(lt.required_rotations())}
    path = si.simd_info()["active"] if library == OURS else "seal"
    set_info(benchmark, group=f"linalg N={N} t={threads}: {group_op or op}", library=library, kind="linalg", op=op,
             N=N, coeff_bits=CKKS_PARAMS[N]["coeff_bits"], threads=threads, path=path, **extra)


def test_prepare(benchmark, setup, threads, slow_rounds):
    ctx, W, _, _ = setup
    _info(benchmark, threads, f"prepare {SIZE}x{SIZE} (encode diagonals)")
    lt = benchmark.pedantic(linalg.LinearTransform, args=(ctx, W), rounds=slow_rounds, iterations=1)
    assert lt.rows == SIZE


def test_apply(benchmark, setup, threads):
    ctx, W, x, lt = setup
    _info(benchmark, threads, f"enc {SIZE}-vec x plain {SIZE}x{SIZE} (prepared)", lt)
    ct = ctx.encrypt(x)
    y = benchmark(lt.apply, ct)
    assert_close(ctx.decrypt(y), x @ W)


def test_apply_default_keys(benchmark, setup_default_keys, threads):
    ctx, W, x, lt = setup_default_keys
    op = f"enc {SIZE}-vec x plain {SIZE}x{SIZE}, default keys"
    _info(benchmark, threads, op, lt, group_op=f"enc {SIZE}-vec x plain {SIZE}x{SIZE} (prepared)")
    ct = ctx.encrypt(x)
    y = benchmark(lt.apply, ct)
    assert_close(ctx.decrypt(y), x @ W)


@pytest.fixture(scope="module")
def setup_fast_preset():
    """The same product on the "fast" preset's chain, exact keys."""
    return _prepared_with_exact_keys(si.Context.create(preset="fast"))


def test_apply_fast_preset(benchmark, setup_fast_preset, threads):
    ctx, W, x, lt = setup_fast_preset
    op = f"enc {SIZE}-vec x plain {SIZE}x{SIZE}, fast preset {ctx.coeff_bits}"
    _info(benchmark, threads, op, lt, group_op=f"enc {SIZE}-vec x plain {SIZE}x{SIZE} (prepared)")
    ct = ctx.encrypt(x)
    y = benchmark(lt.apply, ct)
    assert_close(ctx.decrypt(y), x @ W)


def test_tenseal_mm(benchmark, threads, slow_rounds):
    if ts is None:
        pytest.skip("tenseal is not installed (pip install tenseal==0.3.18)")
    p = CKKS_PARAMS[N]
    ctx = ts.context(ts.SCHEME_TYPE.CKKS, N, coeff_mod_bit_sizes=p["coeff_bits"], n_threads=threads)
    ctx.global_scale = 2.0 ** p["scale_bits"]
    ctx.generate_galois_keys()
    rng = np.random.default_rng(20240601)
    W = rng.uniform(-1, 1, (SIZE, SIZE))
    x = rng.uniform(-1, 1, SIZE)
    _info(benchmark, threads, f"enc {SIZE}-vec x plain {SIZE}x{SIZE} (TenSEAL mm)", library=TENSEAL,
          group_op=f"enc {SIZE}-vec x plain {SIZE}x{SIZE} (prepared)")
    ct = ts.ckks_vector(ctx, x.tolist())
    Wl = W.tolist()
    y = benchmark.pedantic(ct.mm, args=(Wl,), rounds=slow_rounds, iterations=1)
    assert_close(np.array(y.decrypt()), x @ W)


def test_matmul_operator(benchmark, setup, threads):
    ctx, W, x, _ = setup
    _info(benchmark, threads, f"x @ W {SIZE}x{SIZE} (cached)")
    ct = ctx.encrypt(x)
    ct @ W  # prepares and caches
    y = benchmark(lambda: ct @ W)
    assert_close(ctx.decrypt(y), x @ W)


# --------------------------------------------------------------------------- other shapes (one thread)
SHAPES = {
    "MNIST MLP 784x128": (8192, 784, 128, 1),
    "MNIST MLP 128x10": (8192, 128, 10, 1),
    "batch of 8 vectors x 512x512": (8192, 512, 512, 8),
    "1024x1024 at N=16384": (16384, 1024, 1024, 1),
}
_CONTEXTS = {}


def _ctx(n):
    if n not in _CONTEXTS:
        bits = CKKS_PARAMS[n]["coeff_bits"]
        _CONTEXTS[n] = si.Context.create(poly_degree=n, coeff_bits=bits, scale_bits=40)
    return _CONTEXTS[n]


@pytest.mark.parametrize("name", list(SHAPES))
def test_apply_shapes(benchmark, name):
    n, rows, cols, batch = SHAPES[name]
    si.set_num_threads(1)
    ctx = _ctx(n)
    rng = np.random.default_rng(rows * 7 + cols)
    W = rng.uniform(-1, 1, (rows, cols)) / np.sqrt(rows)
    if batch == 1:
        lt = linalg.LinearTransform(ctx, W)
        x = rng.uniform(-1, 1, rows)
        want = x @ W
    else:
        lt = linalg.LinearTransform(ctx, W, batch=batch, stride=max(rows, cols))
        xs = rng.uniform(-1, 1, (batch, rows))
        x = np.zeros(batch * max(rows, cols))
        for b in range(batch):
            x[b * max(rows, cols) : b * max(rows, cols) + rows] = xs[b]
        want = np.concatenate([np.r_[xs[b] @ W, np.zeros(max(rows, cols) - cols)] for b in range(batch)])
    ctx.generate_rotation_keys(steps=lt.required_rotations())
    ct = ctx.encrypt(x)
    set_info(benchmark, group=f"linalg N={n} t=1: {name}", library=OURS, kind="linalg", op=name, N=n, threads=1,
             rotations=len(lt.required_rotations()))
    y = benchmark.pedantic(lt.apply, args=(ct,), rounds=3, iterations=1, warmup_rounds=1)
    got = ctx.decrypt(y)
    assert_close(got[: want.size], want[: got.size] if got.size < want.size else want)
