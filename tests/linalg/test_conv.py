"""si.linalg.Conv2d against torch's conv2d, its diagonals against the dense
matrix of nn.layers, a ResNet-20 layer that the dense route refuses, and the
refusals."""

import numpy as np
import pytest

import securinfer as si
from securinfer._core import linalg as _linalg
from securinfer.linalg import conv as conv_module
from securinfer.linalg.conv import conv2d_diagonals
from securinfer.nn.layers import MAX_DENSE_ENTRIES, conv2d_matrix

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def ctx():
    return si.Context.create(preset="fast")


def torch_conv(x, weight, bias=None, **kwargs):
    return torch.nn.functional.conv2d(torch.tensor(x[None]), torch.tensor(weight),
                                      None if bias is None else torch.tensor(bias), **kwargs)[0].numpy()


CASES = [   # (in_channels, height, width), out_channels, kernel, stride, padding, dilation
    ((3, 7, 5), 4, (3, 3), 1, 1, 1),
    ((4, 8, 8), 6, (3, 3), 1, 1, 1),        # 256 values: replicated 16 times in 4096 slots
    ((8, 8, 8), 4, (3, 3), 2, 1, 1),        # replicated, strided, fewer output channels
    ((2, 9, 9), 3, (3, 3), 2, 1, 1),
    ((2, 8, 6), 2, (2, 3), 1, 0, 2),
    ((4, 6, 6), 5, (1, 1), 1, 0, 1),
    ((1, 5, 7), 2, (5, 3), (2, 1), (2, 0), 1),
]


@pytest.mark.parametrize("shape, c_out, kernel, stride, padding, dilation", CASES)
def test_conv_equals_torch(ctx, shape, c_out, kernel, stride, padding, dilation):
    rng = np.random.default_rng(sum(shape) + c_out)
    weight = rng.normal(size=(c_out, shape[0], *kernel))
    bias = rng.normal(size=c_out)
    x = rng.uniform(-1, 1, shape)
    kwargs = dict(stride=stride, padding=padding, dilation=dilation)
    conv = si.linalg.Conv2d(ctx, weight, shape, bias=bias, **kwargs)
    ctx.generate_rotation_keys(steps=conv.required_rotations())
    y = conv(ctx.encrypt(x.ravel()))
    want = torch_conv(x, weight, bias, **kwargs)
    assert conv.output_shape == want.shape and y.size == want.size and y.level == ctx.max_level - 1
    assert np.abs(ctx.decrypt(y) - want.ravel()).max() < 1e-5


@pytest.mark.parametrize("shape, c_out, kernel, stride, padding, dilation", CASES)
def test_diagonals_are_those_of_the_dense_matrix(shape, c_out, kernel, stride, padding, dilation):
    """D_k[t] = M[(t + k) mod period, t] for the matrix nn.layers writes (x @ M,
    channel-major): the same map, built without the matrix."""
    slots = 1024
    rng = np.random.default_rng(3)
    weight = rng.normal(size=(c_out, shape[0], *kernel))
    weight[0, 0] = 0.0                                  # zero weights make no entry
    kwargs = dict(stride=stride, padding=padding, dilation=dilation)
    steps, values, out_shape, period = conv2d_diagonals(weight, shape, slots, **kwargs)
    M, dense_shape = conv2d_matrix(weight, shape, **kwargs)
    assert tuple(out_shape) == tuple(dense_shape)
    # The input is replicated with the smallest power of two that holds it.
    assert period == min(slots, 1 << int(np.ceil(np.log2(M.shape[0]))))
    t = np.arange(M.shape[1])
    want = {}
    for k in range(period):
        rows = (t + k) % period
        inside = rows < M.shape[0]
        d = np.zeros(slots)
        d[t[inside]] = M[rows[inside], t[inside]]
        if np.any(d):
            want[k] = d
    assert steps == sorted(want) and all(np.array_equal(values[i], want[k]) for i, k in enumerate(steps))


def test_a_resnet20_layer_that_the_dense_matrix_cannot_hold():
    """16 -> 16 channels, 3 x 3, on 32 x 32 (ResNet-20's first stage): one
    N = 32768 ciphertext, 16 x 9 = 144 diagonals (the channel shifts wrap the
    full slots), against a 16384 x 16384 matrix that nn.layers refuses."""
    assert 16384 * 16384 > MAX_DENSE_ENTRIES
    with pytest.raises(si.ParameterError, match="dense"):
        conv2d_matrix(np.ones((16, 16, 3, 3)), (16, 32, 32), padding=1)
    ctx = si.Context.create(poly_degree=32768, coeff_bits=[60, 40, 60], scale_bits=40)
    rng = np.random.default_rng(20)
    weight = rng.normal(size=(16, 16, 3, 3)) / 12
    x = rng.uniform(-1, 1, (16, 32, 32))
    conv = si.linalg.Conv2d(ctx, weight, x.shape, padding=1)
    assert conv.diagonal_count == 144
    ctx.generate_rotation_keys(steps=conv.required_rotations())
    y = conv(ctx.encrypt(x.ravel()))
    assert np.abs(ctx.decrypt(y) - torch_conv(x, weight, padding=1).ravel()).max() < 1e-5


def test_refusals(ctx, monkeypatch):
    weight = np.ones((2, 3, 3, 3))
    with pytest.raises(si.ShapeError):
        si.linalg.Conv2d(ctx, np.ones((2, 3, 3)), (3, 5, 5))                 # not 4-D
    with pytest.raises(si.ShapeError):
        si.linalg.Conv2d(ctx, weight, (2, 5, 5))                            # channels differ
    with pytest.raises(si.ShapeError):
        si.linalg.Conv2d(ctx, weight, (3, 2, 2))                            # kernel larger than the input
    with pytest.raises(si.ShapeError):
        si.linalg.Conv2d(ctx, weight, (3, 64, 64))                          # more values than slots
    with pytest.raises(si.ShapeError):
        si.linalg.Conv2d(ctx, weight, (3, 5))
    with pytest.raises(si.ParameterError):
        si.linalg.Conv2d(ctx, np.full((2, 3, 3, 3), np.nan), (3, 5, 5))
    with pytest.raises(si.ParameterError, match="real"):                  # numpy would drop the 1j
        si.linalg.Conv2d(ctx, weight + 1j, (3, 5, 5))
    with pytest.raises(si.ParameterError, match="real"):
        si.linalg.Conv2d(ctx, [[["a"]]], (3, 5, 5))
    with pytest.raises(si.ParameterError, match="real"):
        si.linalg.Conv2d(ctx, weight, (3, 5, 5), bias=np.ones(2) * 1j)
    with pytest.raises(si.ParameterError):
        si.linalg.Conv2d(ctx, weight, (3, 5, 5), stride=0)
    with pytest.raises(si.ParameterError):
        si.linalg.Conv2d(ctx, weight, (3, 5, 5), padding="same")
    with pytest.raises(si.ShapeError):
        si.linalg.Conv2d(ctx, weight, (3, 5, 5), bias=np.ones(3))
    with pytest.raises(si.LevelError):
        si.linalg.Conv2d(ctx, weight, (3, 5, 5), level=0)
    with pytest.raises(si.ParameterError):
        si.linalg.Conv2d("ctx", weight, (3, 5, 5))
    monkeypatch.setattr(conv_module, "MAX_DIAGONAL_ENTRIES", 4096 * 10)
    with pytest.raises(si.ParameterError, match="diagonals"):
        si.linalg.Conv2d(ctx, weight, (3, 9, 9), stride=2)
    monkeypatch.undo()
    conv = si.linalg.Conv2d(ctx, weight, (3, 5, 5), padding=1)
    fresh = si.Context.create(preset="fast")
    with pytest.raises(si.MissingKeyError):
        si.linalg.Conv2d(fresh, weight, (3, 5, 5), padding=1)(fresh.encrypt(np.ones(75)))
    with pytest.raises(si.ShapeError):
        conv(ctx.encrypt(np.ones(74)))
    with pytest.raises(si.ParameterError):
        conv(np.ones(75))
    zero = si.linalg.Conv2d(ctx, np.zeros((2, 3, 3, 3)), (3, 5, 5))         # all-zero kernel: zeros out
    assert zero.diagonal_count == 0 and np.abs(ctx.decrypt(zero(ctx.encrypt(np.ones(75))))).max() < 1e-6


def test_from_diagonals_binding_refuses_bad_sets(ctx):
    ones = np.ones((1, ctx.slots))
    for steps, values, rows, cols in [([ctx.slots], ones, 4, 4), ([0, 0], np.ones((2, ctx.slots)), 4, 4),
                                      ([0], np.ones((1, 5)), 4, 4), ([0], ones, 0, 4),
                                      ([0], ones, 4, ctx.slots + 1), ([0], np.full((1, ctx.slots), np.inf), 4, 4)]:
        with pytest.raises(si.ParameterError):
            _linalg.LinearTransform.from_diagonals(ctx._core, steps, values, rows, cols, ctx.max_level)


def test_a_residual_downsampling_block_in_the_multiplexed_layout():
    """conv 3x3 -> conv 3x3 stride 2 -> conv 3x3, plus the 1x1 stride-2
    shortcut, as a ResNet stage transition (8 -> 16 channels, 16 x 16 -> 8 x 8):
    the strided outputs written by multiplexed_layout stay a shift of their
    inputs (few diagonals), the next layer reads that layout, and the block
    equals torch."""
    from securinfer.linalg.conv import dense_layout, multiplexed_layout

    ctx = si.Context.create(poly_degree=16384, coeff_bits=[60, 40, 40, 40, 60], scale_bits=40)
    rng = np.random.default_rng(8)
    w1, w2, w3 = (rng.normal(size=s) / 6 for s in [(8, 8, 3, 3), (16, 8, 3, 3), (16, 16, 3, 3)])
    ws = rng.normal(size=(16, 8, 1, 1)) / 3
    x = rng.uniform(-1, 1, (8, 16, 16))
    wide = dense_layout((8, 16, 16))
    down = multiplexed_layout(wide, 16, 2)                       # (16, 8, 8) in the 8 x 16 x 16 footprint
    c1 = si.linalg.Conv2d(ctx, w1, (8, 16, 16), padding=1)
    c2 = si.linalg.Conv2d(ctx, w2, (8, 16, 16), stride=2, padding=1, output_slots=down, level=ctx.max_level - 1)
    c3 = si.linalg.Conv2d(ctx, w3, (16, 8, 8), padding=1, input_slots=down, output_slots=down,
                          level=ctx.max_level - 2)
    shortcut = si.linalg.Conv2d(ctx, ws, (8, 16, 16), stride=2, output_slots=down, level=ctx.max_level - 1)
    # Shifts, not a scatter: a few hundred diagonals where a dense output layout needs thousands.
    assert max(c2.diagonal_count, c3.diagonal_count, shortcut.diagonal_count) < 500
    ctx.generate_rotation_keys(steps=sorted({s for c in (c1, c2, c3, shortcut) for s in c.required_rotations()}))
    h1 = c1(ctx.encrypt(c1.encode(x)))
    h2 = c2(h1)
    y = c3(h2) + shortcut(h1).drop_to_level(h2.level - 1)
    t = {name: torch.tensor(a) for name, a in dict(x=x[None], w1=w1, w2=w2, w3=w3, ws=ws).items()}
    f = torch.nn.functional
    t1 = f.conv2d(t["x"], t["w1"], padding=1)
    want = (f.conv2d(f.conv2d(t1, t["w2"], stride=2, padding=1), t["w3"], padding=1)
            + f.conv2d(t1, t["ws"], stride=2))[0].numpy()
    got = c3.decode(ctx.decrypt(y))
    assert got.shape == want.shape == (16, 8, 8)
    assert np.abs(got - want).max() < 1e-4


def test_layouts_are_checked(ctx):
    from securinfer.linalg.conv import dense_layout, multiplexed_layout

    weight = np.ones((2, 2, 3, 3))
    with pytest.raises(si.ShapeError):
        si.linalg.Conv2d(ctx, weight, (2, 4, 4), input_slots=dense_layout((2, 4, 5)))      # wrong shape
    with pytest.raises(si.ShapeError):
        si.linalg.Conv2d(ctx, weight, (2, 4, 4), input_slots=np.zeros((2, 4, 4), dtype=int))   # repeated slots
    with pytest.raises(si.ShapeError):
        si.linalg.Conv2d(ctx, weight, (2, 4, 4), output_slots=dense_layout((2, 4, 4)) + ctx.slots)
    with pytest.raises(si.ShapeError):
        si.linalg.Conv2d(ctx, weight, (2, 4, 4), input_slots=dense_layout((2, 4, 4)).astype(float))
    with pytest.raises(si.ShapeError):
        multiplexed_layout(dense_layout((1, 4, 4)), 5, 2)                                # 5 > 1 x 2 x 2 cells
