"""The three convolution shapes of ResNet-20 (3 x 3, padding 1, 16/32/64
channels on 32 x 32, 16 x 16 and 8 x 8), each on ONE ciphertext with
``si.linalg.Conv2d`` (diagonals built from the kernel, no dense matrix), at
N = 32768 (16,384 slots), applied at the top of a 5-prime chain [60, 40 x 4,
60]: ``prepare`` (building and encoding the diagonals) and ``apply``.

The dense route of ``securinfer.nn`` cannot hold these layers (a 16,384 x
16,384 matrix is over ``nn.layers.MAX_DENSE_ENTRIES``). TenSEAL has no
multi-channel convolution on one ciphertext (its ``conv2d_im2col`` takes one
input channel, im2col-encoded by the client), so it is not run beside.

    OPENBLAS_NUM_THREADS=1 pytest benchmarks/test_bench_conv.py --benchmark-columns=min,median,rounds
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

import securinfer as si

from _bench_common import OURS, set_info

PARAMETERS = dict(poly_degree=32768, coeff_bits=[60] + [40] * 4 + [60], scale_bits=40)
STAGES = {"stage1-16x32x32": (16, 32), "stage2-32x16x16": (32, 16), "stage3-64x8x8": (64, 8)}


@pytest.fixture(scope="module")
def ctx():
    return si.Context.create(**PARAMETERS)


@pytest.mark.parametrize("stage", list(STAGES))
def test_resnet20_conv(benchmark, ctx, stage, threads):
    channels, size = STAGES[stage]
    rng = np.random.default_rng(channels)
    weight = rng.normal(size=(channels, channels, 3, 3)) / (3 * np.sqrt(channels))
    x = rng.uniform(-1, 1, (channels, size, size))
    start = time.perf_counter()
    conv = si.linalg.Conv2d(ctx, weight, x.shape, padding=1)
    prepare_s = time.perf_counter() - start
    ctx.generate_rotation_keys(steps=conv.required_rotations())
    ct = ctx.encrypt(x.ravel())
    y = benchmark.pedantic(conv, args=(ct,), rounds=3, iterations=1, warmup_rounds=1)
    want = torch.nn.functional.conv2d(torch.tensor(x[None]), torch.tensor(weight), padding=1)[0].numpy()
    error = float(np.abs(ctx.decrypt(y) - want.ravel()).max())
    set_info(benchmark, group="ResNet-20 convolution, one ciphertext, N=32768", library=OURS, kind="conv",
             stage=stage, threads=threads, diagonals=conv.diagonal_count, rotations=len(conv.required_rotations()),
             prepare_s=round(prepare_s, 2), encoded_bytes=conv.nbytes, limbs=conv.level + 1, max_error=error)
    assert error < 1e-4
    print(stage, benchmark.extra_info)
