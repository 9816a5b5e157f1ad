"""Matrices by blocks and matrix-matrix products, one thread, TenSEAL beside
where it has the operation.

- N=8192 [60, 40, 40, 60] (scale 2^40): an MNIST MLP's two layers, 784x128
  (level 2) then 128x10 (level 1), and a face 1:N search, 128-D probe x
  10,000 templates (10,000 columns > 4,096 slots: three column blocks).
  TenSEAL: ``CKKSVector.mm`` (its mm is wrong past 4,096 columns, so the
  search runs on three column chunks).
- N=16384 [60, 40 x 6, 60]: 1024x1024. TenSEAL's mm is not run (512x512
  alone takes about 30 s there, see shared anchors).
- Context.create(depth=3) (N=16384, [49, 40, 40, 40] + [49, 49]): 64x64
  encrypted x encrypted (Jiang-Kim-Lauter-Song) and 64x64 plaintext x
  encrypted (one transform), and 128x128 x 128x128 in 64x64 tiles (both
  encrypted). TenSEAL has no product of two encrypted
  matrices for CKKS (nor a packed plaintext x encrypted one).

Exact rotation keys (``required_rotations()``) everywhere; TenSEAL gets its
power-of-two Galois keys.

    OPENBLAS_NUM_THREADS=1 pytest benchmarks/test_bench_linalg_blocks.py --benchmark-max-time=0.5 \\
        --benchmark-group-by=group --benchmark-columns=min,median,max,rounds
"""

from __future__ import annotations

import numpy as np
import pytest

import securinfer as si
from securinfer import linalg
from securinfer.linalg import matmul

from _bench_common import CKKS_PARAMS, OURS, TENSEAL, assert_close, set_info, ts


@pytest.fixture(autouse=True)
def one_thread():
    before = si.get_num_threads()
    si.set_num_threads(1)
    yield
    si.set_num_threads(before)


def _info(benchmark, library, n, op, **extra):
    set_info(benchmark, group=f"linalg blocks N={n} t=1: {op}", library=library, kind="linalg", op=op, N=n,
             threads=1, path=si.simd_info()["active"] if library == OURS else "seal", **extra)


def _tenseal_or_skip(n):
    if ts is None:
        pytest.skip("tenseal is not installed")
    ctx = ts.context(ts.SCHEME_TYPE.CKKS, n, coeff_mod_bit_sizes=CKKS_PARAMS[n]["coeff_bits"], n_threads=1)
    ctx.global_scale = 2.0 ** CKKS_PARAMS[n]["scale_bits"]
    ctx.generate_galois_keys()
    return ctx


# --------------------------------------------------------------------------- vector x matrix, N=8192
VECTOR_MATRIX = {
    "MNIST layer 1: 784x128": (784, 128, 2),
    "MNIST layer 2: 128x10": (128, 10, 1),
    "face 1:N: 128x10000 (3 column blocks)": (128, 10000, 2),
}


@pytest.fixture(scope="module")
def ctx8192():
    return si.Context.create(**CKKS_PARAMS[8192])


@pytest.fixture(scope="module")
def tenseal8192():
    return _tenseal_or_skip(8192)


def _data(rows, cols):
    rng = np.random.default_rng(rows * 7 + cols)
    return rng.uniform(-1, 1, rows), rng.uniform(-1, 1, (rows, cols)) / np.sqrt(rows)


@pytest.mark.parametrize("name", list(VECTOR_MATRIX))
def test_vector_matrix_ours(benchmark, ctx8192, name):
    rows, cols, level = VECTOR_MATRIX[name]
    x, W = _data(rows, cols)
    blt = linalg.BlockLinearTransform(ctx8192, W, level)
    ctx8192.generate_rotation_keys(steps=blt.required_rotations())
    ct = ctx8192.encrypt(x).drop_to_level(level)
    _info(benchmark, OURS, 8192, name, blocks=blt.nonzero_blocks, rotations=len(blt.required_rotations()))
    y = benchmark(blt.apply, ct)
    assert_close(y.decrypt(ctx8192), x @ W)


@pytest.mark.parametrize("name", list(VECTOR_MATRIX))
def test_vector_matrix_tenseal(benchmark, tenseal8192, name):
    rows, cols, _ = VECTOR_MATRIX[name]
    x, W = _data(rows, cols)
    chunks = [W[:, c:c + 4096].tolist() for c in range(0, cols, 4096)]  # mm is wrong past 4,096 columns
    v = ts.ckks_vector(tenseal8192, x.tolist())
    _info(benchmark, TENSEAL, 8192, name)
    ys = benchmark.pedantic(lambda: [v.mm(chunk) for chunk in chunks], rounds=1, iterations=1)
    assert_close(np.concatenate([y.decrypt() for y in ys]), x @ W)


# --------------------------------------------------------------------------- 1024 x 1024, N=16384
def test_1024x1024_ours(benchmark):
    ctx = si.Context.create(**CKKS_PARAMS[16384])
    x, W = _data(1024, 1024)
    blt = linalg.BlockLinearTransform(ctx, W)
    ctx.generate_rotation_keys(steps=blt.required_rotations())
    ct = ctx.encrypt(x)
    _info(benchmark, OURS, 16384, "1024x1024", rotations=len(blt.required_rotations()))
    y = benchmark.pedantic(blt.apply, args=(ct,), rounds=3, iterations=1, warmup_rounds=1)
    assert_close(y.decrypt(ctx), x @ W)


# --------------------------------------------------------------------------- 64 x 64 matrix products, depth 3
D = 64


@pytest.fixture(scope="module")
def depth3():
    ctx = si.Context.create(depth=3)
    rng = np.random.default_rng(64)
    A, B = rng.uniform(-1, 1, (D, D)), rng.uniform(-1, 1, (D, D))
    return ctx, A, B


def test_matrix_product_prepare(benchmark, depth3):
    ctx, _, _ = depth3
    _info(benchmark, OURS, ctx.poly_degree, f"{D}x{D} enc x enc: prepare (sigma, tau, masks)")
    mp = benchmark.pedantic(matmul.MatrixProduct, args=(ctx, D), rounds=1, iterations=1)
    assert mp.d == D


def test_matrix_product_enc_enc(benchmark, depth3):
    ctx, A, B = depth3
    mp = matmul.MatrixProduct(ctx, D)
    ctx.generate_rotation_keys(steps=mp.required_rotations())
    a, b = ctx.encrypt(A.ravel()), ctx.encrypt(B.ravel())
    _info(benchmark, OURS, ctx.poly_degree, f"{D}x{D} enc x enc (JKLS)", rotations=len(mp.required_rotations()),
          galois_key_bytes=ctx.key_bytes["galois"])
    C = benchmark.pedantic(mp, args=(a, b), rounds=3, iterations=1, warmup_rounds=1)
    assert_close(ctx.decrypt(C), (A @ B).ravel())


def test_matrix_product_plain_enc(benchmark, depth3):
    ctx, A, B = depth3
    lt = linalg.LinearTransform(ctx, matmul.left_matrix(A))
    ctx.generate_rotation_keys(steps=lt.required_rotations())
    b = ctx.encrypt(B.ravel())
    _info(benchmark, OURS, ctx.poly_degree, f"{D}x{D} plain x enc (one transform)",
          rotations=len(lt.required_rotations()))
    C = benchmark.pedantic(lt.apply, args=(b,), rounds=3, iterations=1, warmup_rounds=1)
    assert_close(ctx.decrypt(C), (A @ B).ravel())


def test_tiled_128x128_enc_enc(benchmark, depth3):
    """128 x 128 (16,384 values > 8,192 slots) as 2 x 2 tiles of 64 x 64."""
    from securinfer.linalg.tiled import EncryptedMatrix

    ctx, _, _ = depth3
    rng = np.random.default_rng(128)
    A, B = rng.uniform(-1, 1, (2 * D, 2 * D)), rng.uniform(-1, 1, (2 * D, 2 * D))
    ctx.generate_rotation_keys(steps=matmul.MatrixProduct(ctx, D).required_rotations())
    EA, EB = EncryptedMatrix.encrypt(ctx, A, D), EncryptedMatrix.encrypt(ctx, B, D)
    EA @ EB  # prepares the cached MatrixProduct
    _info(benchmark, OURS, ctx.poly_degree, f"{2 * D}x{2 * D} enc x enc ({D}x{D} tiles, JKLS)")
    C = benchmark.pedantic(lambda: EA @ EB, rounds=1, iterations=1)
    assert_close(C.decrypt(ctx).ravel(), (A @ B).ravel())
