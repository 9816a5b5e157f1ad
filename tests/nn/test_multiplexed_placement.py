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


@pytest.mark.parametrize("cin,mid,cout,k2,stride2,padding2,pool,hw", [
    (1, 3, 5, 3, 1, 0, True, (13, 11)),
    (2, 3, 4, (3, 2), 2, 1, False, (9, 10)),
    (1, 4, 6, 2, (2, 1), 0, True, (12, 9))])
def test_two_convolutions_encrypted_against_torch(rng, cin, mid, cout, k2, stride2, padding2, pool, hw):
    """Both convolutions placed (the second on the first's scattered slots):
    the plan equals torch exactly, the encrypted logits within the noise."""
    net = _two_convs(cin, mid, cout, k2, stride2, padding2, pool, hw, seed=cin + mid + cout)
    x = rng.uniform(-1, 1, size=(1, cin) + hw)
    calib = rng.uniform(-1, 1, size=(8, cin) + hw)
    enc = snn.compile(net, input_shape=x.shape[1:], calibration=calib, batch_size=1, conv_packing="matrix",
                      fold=False)
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
