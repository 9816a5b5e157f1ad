"""The convolution packings of the slot layout against torch, layer by layer:
client-side im2col windows (``conv_packing="im2col"``) and the matrix with
scattered outputs (``"matrix"``); the gather itself against the matrix; the
cost model's counts against the core's transforms."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import securinfer as si  # noqa: E402
import securinfer.nn as snn  # noqa: E402
from securinfer.nn.im2col import im2col_gather  # noqa: E402
from securinfer.nn.layers import avgpool2d_matrix, conv2d_matrix  # noqa: E402
from securinfer.nn.packing import Layout  # noqa: E402
from securinfer.nn.planner import transform_cost  # noqa: E402

CONVS = [  # cin, cout, kernel, stride, padding, dilation, groups, input (h, w)
    (1, 4, 7, 3, 0, 1, 1, (28, 28)), (2, 3, 3, 1, 1, 1, 1, (7, 9)), (2, 4, 3, 2, 2, 1, 2, (9, 8)),
    (3, 2, (3, 2), (2, 1), (1, 0), 2, 1, (11, 7)), (1, 5, 5, 2, 2, 1, 1, (13, 13))]


class Square(torch.nn.Module):
    def forward(self, x):
        return x * x


@pytest.mark.parametrize("cin,cout,k,stride,padding,dilation,groups,hw", CONVS)
def test_gather_equals_the_matrix_and_has_one_diagonal_per_offset(rng, cin, cout, k, stride, padding, dilation,
                                                                  groups, hw):
    w = rng.normal(size=(cout, cin // groups) + ((k, k) if isinstance(k, int) else k))
    W, (O, Ho, Wo) = conv2d_matrix(w, (cin,) + hw, stride, padding, dilation, groups)
    gather, Wg = im2col_gather(W, O)
    x = rng.normal(size=(3, W.shape[0]))
    padded = np.concatenate([x, np.zeros((3, 1))], axis=1)
    np.testing.assert_allclose(padded[:, np.where(gather < 0, W.shape[0], gather)] @ Wg, x @ W, atol=1e-12)
    P = Ho * Wo
    taps = gather.size // P
    r, c = np.nonzero(Wg)
    diagonals = np.unique(r - c)
    assert np.all(diagonals % P == 0)                       # a multiple of P: offset k minus channel o
    assert diagonals.size <= taps + O - 1
    assert taps <= (cin // groups if groups > 1 else cin) * w.shape[2] * w.shape[3] * (groups if groups > 1 else 1)


def test_gather_refuses_what_is_not_a_convolution(rng):
    assert im2col_gather(rng.normal(size=(6, 5)), 2) is None     # 5 columns are not 2 channels
    assert im2col_gather(np.zeros((4, 4)), 2) is None


def _net(cin, cout, k, stride, padding, dilation, groups, pool, bn):
    torch.manual_seed(cin * 7 + cout)
    layers = [torch.nn.Conv2d(cin, cout, k, stride=stride, padding=padding, dilation=dilation, groups=groups)]
    if bn:
        layers.append(torch.nn.BatchNorm2d(cout))
    if pool:
        layers.append(torch.nn.AvgPool2d(2))
    layers.append(Square())
    return torch.nn.Sequential(*layers).double().eval()


@pytest.mark.parametrize("conv_packing", ["im2col", "matrix"])
@pytest.mark.parametrize("cin,cout,k,stride,padding,dilation,groups,hw,pool,bn", [
    (1, 3, 3, 2, 0, 1, 1, (9, 11), False, False),
    (2, 3, 3, 1, 1, 1, 1, (7, 9), False, True),
    (2, 4, 3, 2, 2, 1, 2, (9, 8), True, False),
    (3, 2, (3, 2), (2, 1), (1, 0), 2, 1, (11, 7), False, True)])
def test_convolution_layer_encrypted_against_torch(rng, conv_packing, cin, cout, k, stride, padding, dilation,
                                                   groups, hw, pool, bn):
    """conv (+ folded batch norm, + folded average pooling), then a square:
    each packing's decrypted layer output equals torch's."""
    net = _net(cin, cout, k, stride, padding, dilation, groups, pool, bn)
    if bn:
        net[1].running_mean[:] = torch.tensor(rng.normal(size=cout))
        net[1].running_var[:] = torch.tensor(rng.uniform(0.5, 2, size=cout))
    x = rng.uniform(-1, 1, size=(2, cin) + hw)
    enc = snn.compile(net, input_shape=x.shape[1:], calibration=x, batch_size=2, conv_packing=conv_packing)
    assert enc.packing == "slots"
    assert bool(enc.layout.gather) == (conv_packing == "im2col")
    ctx = enc.create_context()
    got = enc.decrypt(ctx, enc(enc.encrypt(ctx, x)))
    with torch.no_grad():
        ref = net(torch.tensor(x)).reshape(2, -1).numpy()
    np.testing.assert_allclose(enc.simulate(x), ref, atol=1e-9)          # the plan is exact
    np.testing.assert_allclose(got, ref, atol=2e-3 * max(1.0, np.abs(ref).max()))


@pytest.mark.parametrize("batch", [3, 1])
def test_im2col_then_dense_layers_end_to_end_and_saved(rng, tmp_path, batch):
    """The tutorial-4 shape (conv 7x7 stride 3, square, fc, square, fc) at a
    smaller width: im2col against torch, through save/load and a remote
    client; with one input per ciphertext the convolution folds too."""
    torch.manual_seed(5)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 5, stride=3), Square(), torch.nn.Flatten(),
                              torch.nn.Linear(48, 6), Square(), torch.nn.Linear(6, 4)).double().eval()
    x = rng.uniform(0, 1, size=(batch, 1, 14, 14))
    enc = snn.compile(net, input_shape=(1, 14, 14), calibration=rng.uniform(0, 1, size=(8, 1, 14, 14)),
                      batch_size=batch, conv_packing="im2col")
    assert ("fold" in enc.graph.nodes[0].extra) == (batch == 1)
    path = tmp_path / "m.npz"
    enc.save(path)
    loaded = snn.EncryptedModel.load(path)
    assert loaded.layout == enc.layout and loaded.required_rotations() == enc.required_rotations()
    client = snn.Client(loaded.describe())
    ctx = client.create_context()
    got = client.decrypt(ctx, loaded(client.encrypt(ctx, x)))
    with torch.no_grad():
        ref = net(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, ref, atol=5e-3 * max(1.0, np.abs(ref).max()))
    np.testing.assert_allclose(loaded.simulate(x), ref, atol=1e-9)


def test_auto_picks_the_cheaper_packing(rng):
    """On the tutorial-4 geometry the cost model takes im2col (52 against
    94 conv diagonals, dense outputs for fc1); when the windows do not fit the
    batch it keeps the matrix."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 7, stride=3), Square(), torch.nn.Flatten(),
                              torch.nn.Linear(256, 64), Square(), torch.nn.Linear(64, 10)).double().eval()
    x = rng.uniform(0, 1, size=(4, 1, 28, 28))
    one = snn.compile(net, input_shape=(1, 28, 28), calibration=x, batch_size=1)
    many = snn.compile(net, input_shape=(1, 28, 28), calibration=x, batch_size=4)
    matrix = snn.compile(net, input_shape=(1, 28, 28), calibration=x, batch_size=1, conv_packing="matrix")
    assert len(one.layout.gather) == 49 * 64 and one.graph.nodes[0].extra["packing"] == "im2col"
    assert not many.layout.gather                 # 4 x 3136 slots do not fit 4096
    assert one.cost()["estimated_ms"] < matrix.cost()["estimated_ms"]
    assert transform_cost(one.graph.nodes[0].weight, 4096)[0] == 49 + 4 - 1
    step, copies = one.graph.nodes[0].extra["fold"]         # and folded: 4 diagonals, 4 fold rotations
    assert transform_cost(partial_matrix(one.graph.nodes[0].weight, step, copies), 4096)[0] == 4
    with pytest.raises(si.ParameterError, match="im2col"):
        snn.compile(net, input_shape=(1, 28, 28), calibration=x, batch_size=4, conv_packing="im2col")
    with pytest.raises(si.ParameterError, match="conv_packing"):
        snn.compile(net, input_shape=(1, 28, 28), calibration=x, batch_size=1, conv_packing="fast")


def test_transform_cost_counts_the_core_plaintexts(rng):
    """The cost model's products are the core's encoded diagonals."""
    ctx = si.Context.for_planning(8192, [40, 26, 26, 40], 26, 1)
    W, _ = conv2d_matrix(rng.normal(size=(3, 2, 3, 3)), (2, 9, 9), 2, 1)
    W2, _ = avgpool2d_matrix((3, 5, 5), 2)
    for M in (W, W2, rng.normal(size=(20, 7))):
        lt = si.linalg.LinearTransform(ctx, M, batch=2, stride=max(M.shape))
        assert transform_cost(M, ctx.slots)[0] == lt.plaintext_count


def test_client_refuses_bad_gathers():
    good = Layout("slots", 4, 16, 8, (0, 1, 2, 3, -1, 3)).to_dict()
    assert Layout.from_dict(good).width == 6
    for gather in ([0, 4], [-2, 0], list(range(9))):          # index past the features, below -1, wider than stride
        with pytest.raises(si.ParameterError, match="layout"):
            Layout.from_dict({**good, "gather": gather})
    with pytest.raises(si.ParameterError, match="layout"):
        Layout.from_dict({**Layout("features", 4, 16).to_dict(), "gather": [0, 1]})


# --------------------------------------------------------------------------- folded dense layers
from securinfer.nn.fold_sum import fold_steps, partial_matrix  # noqa: E402


@pytest.mark.parametrize("R,C,step", [(256, 64, 64), (7, 3, 4), (50, 10, 16), (9, 9, 9), (300, 20, 128)])
def test_partial_matrix_folds_back_to_the_product(rng, R, C, step):
    W = rng.normal(size=(R, C))
    W[rng.random(size=W.shape) < 0.2] = 0.0
    copies = 1
    while copies * step < R + step - 1:
        copies *= 2
    Wp = partial_matrix(W, step, copies)
    x = rng.normal(size=(4, R))
    z = x @ Wp
    y = z.copy()
    for s in fold_steps(step, copies):                    # left rotations of the whole vector, as encrypted
        y = y + np.roll(y, -s, axis=1)
    np.testing.assert_allclose(y[:, :C], x @ W, atol=1e-10)
    r, c = np.nonzero(Wp)
    assert (r - c).min() >= -(step - 1) and (r - c).max() <= 0
    with pytest.raises(ValueError):
        partial_matrix(W, step, max(1, copies // 2)) if copies > 1 else partial_matrix(W, 1, 1)


def test_folded_dense_layers_encrypted_against_torch(rng):
    """fc 40->24, square, fc 24->12, square, fc 12->3 at batch_size=1: the
    dense layers before another layer fold (the last never does); the
    decrypted logits equal torch's, as without the fold."""
    torch.manual_seed(2)
    net = torch.nn.Sequential(torch.nn.Linear(40, 24), Square(), torch.nn.Linear(24, 12), Square(),
                              torch.nn.Linear(12, 3)).double().eval()
    x = rng.uniform(-1, 1, size=(1, 40))
    with torch.no_grad():
        ref = net(torch.tensor(x)).numpy()
    results = {}
    for fold in (True, False):
        enc = snn.compile(net, input_shape=(40,), calibration=rng.uniform(-1, 1, size=(20, 40)), batch_size=1,
                          fold=fold)
        folded = ["fold" in n.extra for n in enc.graph.nodes]
        assert folded[-1] is False
        assert any(folded) == fold
        ctx = enc.create_context()
        results[fold] = enc.decrypt(ctx, enc(enc.encrypt(ctx, x)))
        np.testing.assert_allclose(results[fold], ref, atol=2e-3 * max(1.0, np.abs(ref).max()))
    many = snn.compile(net, input_shape=(40,), calibration=x, batch_size=2)
    assert not any("fold" in n.extra for n in many.graph.nodes)     # partial sums would cross inputs


def test_a_tampered_fold_is_refused(rng):
    """A plan whose fold does not fit (say, from a tampered model file, which
    goes through the same constructor) is refused before anything runs."""
    import copy

    torch.manual_seed(2)
    net = torch.nn.Sequential(torch.nn.Linear(40, 24), Square(), torch.nn.Linear(24, 3)).double().eval()
    enc = snn.compile(net, input_shape=(40,), calibration=rng.uniform(-1, 1, size=(20, 40)), batch_size=1)
    assert "fold" in enc.graph.nodes[0].extra
    for bad in ([24, 3], [2, 4], ["x", 4], [24], [24, 2]):   # not a power of two, below the outputs, junk, too few
        graph = copy.deepcopy(enc.graph)
        graph.nodes[0].extra["fold"] = bad
        with pytest.raises(si.ParameterError, match="fold"):
            snn.EncryptedModel(graph, enc.layout, enc.parameters, rotations=enc.required_rotations())
    two = Layout("slots", 40, enc.layout.slots, enc.layout.slots // 2)
    with pytest.raises(si.ParameterError, match="fold"):                # two inputs per ciphertext
        snn.EncryptedModel(copy.deepcopy(enc.graph), two, enc.parameters, rotations=enc.required_rotations())
