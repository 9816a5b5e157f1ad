"""The seven distinct convolutions of ResNet-20 (3 x 3 on 16, 32 and 64
channels of 32 x 32, 16 x 16 and 8 x 8; the two stride-2 3 x 3 and 1 x 1
stage transitions), each on ONE ciphertext with ``si.linalg.Conv2d``
(diagonals built from the kernel, no dense matrix; the strided layers write
``multiplexed_layout`` and the later stages read it), at N = 32768 (16,384
slots), applied at the top of a 5-prime chain [60, 40 x 4, 60]: ``apply``
timed, ``prepare`` (building and encoding the diagonals) recorded.
``count_in_network`` says how often ResNet-20 runs each.

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

from securinfer.linalg.conv import dense_layout, multiplexed_layout

from _bench_common import OURS, set_info

PARAMETERS = dict(poly_degree=32768, coeff_bits=[60] + [40] * 4 + [60], scale_bits=40)
SLOTS = PARAMETERS["poly_degree"] // 2
STAGE1 = dense_layout((16, 32, 32))
STAGE2 = multiplexed_layout(STAGE1, 32, 2)          # (32, 16, 16) in stage 1's footprint
STAGE3 = multiplexed_layout(STAGE2, 64, 2)          # (64, 8, 8)
#: ResNet-20's distinct convolutions: (weight shape, input shape, keywords, count in the network).
LAYERS = {
    "16-16-3x3": ((16, 16, 3, 3), (16, 32, 32), dict(padding=1), 7),
    "16-32-3x3-s2": ((32, 16, 3, 3), (16, 32, 32), dict(stride=2, padding=1, output_slots=STAGE2), 1),
    "16-32-1x1-s2": ((32, 16, 1, 1), (16, 32, 32), dict(stride=2, output_slots=STAGE2), 1),
    "32-32-3x3": ((32, 32, 3, 3), (32, 16, 16), dict(padding=1, input_slots=STAGE2, output_slots=STAGE2), 5),
    "32-64-3x3-s2": ((64, 32, 3, 3), (32, 16, 16), dict(stride=2, padding=1, input_slots=STAGE2,
                                                        output_slots=STAGE3), 1),
    "32-64-1x1-s2": ((64, 32, 1, 1), (32, 16, 16), dict(stride=2, input_slots=STAGE2, output_slots=STAGE3), 1),
    "64-64-3x3": ((64, 64, 3, 3), (64, 8, 8), dict(padding=1, input_slots=STAGE3, output_slots=STAGE3), 5),
}


@pytest.fixture(scope="module")
def ctx():
    return si.Context.create(**PARAMETERS)


@pytest.mark.parametrize("layer", list(LAYERS))
def test_resnet20_conv(benchmark, ctx, layer, threads):
    shape, input_shape, kwargs, count = LAYERS[layer]
    rng = np.random.default_rng(shape[0] + shape[1] + shape[2])
    weight = rng.normal(size=shape) / (shape[2] * np.sqrt(shape[1]))
    x = rng.uniform(-1, 1, input_shape)
    start = time.perf_counter()
    conv = si.linalg.Conv2d(ctx, weight, input_shape, **kwargs)
    prepare_s = time.perf_counter() - start
    ctx.generate_rotation_keys(steps=conv.required_rotations())
    ct = ctx.encrypt(conv.encode(x))
    y = benchmark.pedantic(conv, args=(ct,), rounds=3, iterations=1, warmup_rounds=1)
    torch_kwargs = {k: v for k, v in kwargs.items() if k in ("stride", "padding")}
    want = torch.nn.functional.conv2d(torch.tensor(x[None]), torch.tensor(weight), **torch_kwargs)[0].numpy()
    error = float(np.abs(conv.decode(ctx.decrypt(y)) - want).max())
    set_info(benchmark, group="ResNet-20 convolution, one ciphertext, N=32768", library=OURS, kind="conv",
             layer=layer, count_in_network=count, threads=threads, diagonals=conv.diagonal_count,
             rotations=len(conv.required_rotations()), prepare_s=round(prepare_s, 2), encoded_bytes=conv.nbytes,
             limbs=conv.level + 1, max_error=error)
    assert error < 1e-4
    print(layer, benchmark.extra_info)
