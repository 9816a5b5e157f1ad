"""The diagonal-aware placement of convolution outputs (securinfer.nn.scatter):
two convolutions in a row against torch, layer by layer (random weights,
odd sizes, stride, padding, channels, a pooling folded in between); on
LeNet's second convolution its diagonal count against the multiplexed
layout built by hand (Lee et al. 2022: output channels in the stride gaps
of the input-channel blocks) and against the first-fit placement."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import securinfer.nn as snn  # noqa: E402
from securinfer.nn.graph import Graph  # noqa: E402
from securinfer.nn.im2col import row_copies_gather  # noqa: E402
from securinfer.nn.layers import avgpool2d_matrix, conv2d_matrix  # noqa: E402
from securinfer.nn.scatter import _positions, diagonal_count, scatter_outputs  # noqa: E402


class Square(torch.nn.Module):
    def forward(self, x):
        return x * x


def _two_convs(cin, mid, cout, k2, stride2, padding2, pool, hw, seed):
    torch.manual_seed(seed)
    layers = [torch.nn.Conv2d(cin, mid, 3, padding=1), Square()]
    if pool:
        layers.append(torch.nn.AvgPool2d(2))
    layers += [torch.nn.Conv2d(mid, cout, k2, stride=stride2, padding=padding2), Square()]
    net = torch.nn.Sequential(*layers, torch.nn.Flatten())
    with torch.no_grad():
        out = net(torch.zeros((1, cin) + hw)).shape[1]
    return torch.nn.Sequential(*net, torch.nn.Linear(out, 3)).double().eval()


@pytest.mark.parametrize("conv_packing", ["matrix", "rows"])
@pytest.mark.parametrize("cin,mid,cout,k2,stride2,padding2,pool,hw", [
    (1, 3, 5, 3, 1, 0, True, (13, 11)),
    (2, 3, 4, (3, 2), 2, 1, False, (9, 10)),
    (1, 4, 6, 2, (2, 1), 0, True, (12, 9))])
def test_two_convolutions_encrypted_against_torch(rng, conv_packing, cin, mid, cout, k2, stride2, padding2, pool,
                                                  hw):
    """Both convolutions placed (the second on the first's scattered slots;
    the first on client-written kernel-row copies for ``"rows"``): the plan
    equals torch exactly, the encrypted logits within the noise."""
    net = _two_convs(cin, mid, cout, k2, stride2, padding2, pool, hw, seed=cin + mid + cout)
    x = rng.uniform(-1, 1, size=(1, cin) + hw)
    calib = rng.uniform(-1, 1, size=(8, cin) + hw)
    enc = snn.compile(net, input_shape=x.shape[1:], calibration=calib, batch_size=1,
                      conv_packing=conv_packing, fold=False)
    assert bool(enc.layout.gather) == (conv_packing == "rows")
    with torch.no_grad():
        ref = net(torch.tensor(x)).numpy()
    np.testing.assert_allclose(enc.simulate(x), ref, atol=1e-9 * max(1.0, np.abs(ref).max()))
    ctx = enc.create_context()
    got = enc.decrypt(ctx, enc(enc.encrypt(ctx, x)))
    np.testing.assert_allclose(got, ref, atol=3e-3 * max(1.0, np.abs(ref).max()))


def _first_fit(W, channels, cap):
    """The placement before: each channel at the first shift that collides with nothing."""
    first = np.where((W != 0).any(axis=0), (W != 0).argmax(axis=0), 0)
    used, pos, block = np.zeros(cap, bool), np.empty(W.shape[1], np.int64), W.shape[1] // channels
    for g in range(channels):
        base = first[g * block:(g + 1) * block]
        shift = next(t for t in range(cap - base.max()) if not used[base + t].any())
        used[base + shift] = True
        pos[g * block:(g + 1) * block] = base + shift
    return pos


def test_lenet_second_convolution_is_multiplexed(rng):
    """LeNet's conv1 (1 -> 6, 5x5 on 28x28) then pool + conv2 (6 -> 16, 5x5):
    conv2's placed matrix has no more diagonals than the hand-built
    multiplexed layout (input channel c in block c of 672 slots, rows of 28;
    output channel o in block o // 4 at parity shift {0, 1, 28, 29}[o % 4]),
    and fewer than a third of the first-fit placement's."""
    w1, w2 = rng.normal(size=(6, 1, 5, 5)), rng.normal(size=(16, 6, 5, 5))
    W1, _ = conv2d_matrix(w1, (1, 28, 28))
    P, _ = avgpool2d_matrix((6, 24, 24), 2)
    C2, _ = conv2d_matrix(w2, (6, 12, 12))
    W2 = P @ C2
    g = Graph(784)
    a = g.affine(-1, W1, name="conv1")
    g.nodes[a].extra["channels"] = 6
    s = g.square(a)
    b = g.affine(s, W2, name="conv2")
    g.nodes[b].extra["channels"] = 16
    t = g.square(b)
    g.affine(t, rng.normal(size=(1024, 10)), name="fc")
    x = rng.normal(size=(2, 784))
    want = g.run(x)
    scatter_outputs(g, stride_cap=4096)
    np.testing.assert_allclose(g.run(x), want, rtol=1e-12)
    rows = _positions(W1, 6, 4096)                                      # where conv1 put its outputs
    np.testing.assert_array_equal(g.nodes[0].weight[:, rows], W1)
    placed = diagonal_count(g.nodes[2].weight)

    def count(rin, cout_pos):
        r, c = np.nonzero(W2)
        return np.unique(rin[r] - cout_pos[c]).size

    hand_in = np.array([c * 672 + 28 * y + x for c in range(6) for y in range(24) for x in range(24)])
    hand_out = np.array([(o // 4) * 672 + (0, 1, 28, 29)[o % 4] + 56 * oy + 2 * ox
                         for o in range(16) for oy in range(8) for ox in range(8)])
    assert placed <= count(hand_in, hand_out)
    assert 3 * placed < count(rows, _first_fit(_reindexed(W2, rows), 16, 4096))
    assert _positions(np.zeros((3, 4)), 3, 16) is None                     # 4 columns are not 3 channels


def _reindexed(W, rows):
    """W with its rows moved to the slots ``rows``."""
    out = np.zeros((int(rows.max()) + 1, W.shape[1]))
    out[rows] = W
    return out


@pytest.mark.parametrize("cin,cout,k,stride,padding,dilation,hw", [
    (1, 6, 5, 1, 0, 1, (28, 28)), (2, 3, 3, 2, 1, 1, (9, 11)), (3, 2, (3, 2), (1, 2), (2, 0), 2, (10, 7)),
    (1, 4, 7, 3, 0, 1, (28, 28))])
def test_row_copies_equal_the_matrix(rng, cin, cout, k, stride, padding, dilation, hw):
    """The client's kernel-row copies times the rearranged weights equal the
    convolution's matrix (padding, stride, dilation, channels); one copy per
    kernel row; per output channel and copy, the weights lie on at most
    kernel-width x input-channel shifts of the first pixel read."""
    kh, kw = (k, k) if isinstance(k, int) else k
    w = rng.normal(size=(cout, cin, kh, kw))
    W, (O, Ho, Wo) = conv2d_matrix(w, (cin,) + hw, stride, padding, dilation)
    gather, Wr = row_copies_gather(W, hw[1], hw[0] * hw[1], O)
    x = rng.normal(size=(3, W.shape[0]))
    padded = np.concatenate([x, np.zeros((3, 1))], axis=1)
    np.testing.assert_allclose(padded[:, np.where(gather < 0, W.shape[0], gather)] @ Wr, x @ W, atol=1e-12)
    copies = dilation * (kh - 1) + 1
    assert Wr.shape[0] == gather.size and gather.size % copies == 0
    assert gather.size <= copies * W.shape[0]
    first = (Wr != 0).argmax(axis=0)
    r, c = np.nonzero(Wr)
    assert np.unique(r - first[c]).size <= cin * copies * (dilation * (kw - 1) + 1)


def test_auto_takes_row_copies_for_lenet(rng):
    """LeNet's first convolution at one image per ciphertext: im2col's 25 x
    576 windows do not fit 4,096 slots; the cost model prefers the row
    copies (5 x 672 slots) to the scattered matrix."""
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5), Square(), torch.nn.AvgPool2d(2), torch.nn.Conv2d(6, 16, 5),
                              Square(), torch.nn.AvgPool2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(256, 10)).double().eval()
    x = rng.uniform(0, 1, size=(4, 1, 28, 28))
    enc = snn.compile(net, input_shape=(1, 28, 28), calibration=x, batch_size=1)
    assert enc.graph.nodes[0].extra["packing"] == "rows" and len(enc.layout.gather) == 5 * 672
    matrix = snn.compile(net, input_shape=(1, 28, 28), calibration=x, batch_size=1, conv_packing="matrix")
    assert enc.cost()["estimated_ms"] < matrix.cost()["estimated_ms"]
    assert diagonal_count(enc.graph.nodes[0].weight) <= 5 * (6 + 5 - 1)     # kernel column x (copy - channel)
    np.testing.assert_allclose(enc.simulate(x), matrix.simulate(x), rtol=1e-9)
    with torch.no_grad():
        np.testing.assert_allclose(enc.simulate(x), net(torch.tensor(x)).numpy(), rtol=1e-9, atol=1e-9)
