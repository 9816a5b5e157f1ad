"""Layer matrices against torch (plaintext), and each layer encrypted against torch."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import securinfer as si  # noqa: E402
import securinfer.nn as snn  # noqa: E402
from securinfer.nn.layers import avgpool2d_matrix, batchnorm_affine, conv2d_matrix  # noqa: E402


def _t(x):
    return torch.tensor(np.asarray(x), dtype=torch.float64)


@pytest.mark.parametrize("cin,cout,k,stride,padding,dilation,groups", [
    (1, 4, 7, 3, 0, 1, 1), (2, 3, 3, 1, 1, 1, 1), (2, 4, 3, 2, 2, 1, 2), (3, 2, (3, 2), (2, 1), (1, 0), 2, 1)])
def test_conv2d_matrix_matches_torch(rng, cin, cout, k, stride, padding, dilation, groups):
    conv = torch.nn.Conv2d(cin, cout, k, stride=stride, padding=padding, dilation=dilation, groups=groups,
                           bias=False).double()
    x = rng.normal(size=(5, cin, 11, 10))
    W, out_shape = conv2d_matrix(conv.weight.detach().numpy(), (cin, 11, 10), stride, padding, dilation, groups)
    with torch.no_grad():
        ref = conv(_t(x)).numpy()
    assert ref.shape[1:] == out_shape
    np.testing.assert_allclose(x.reshape(5, -1) @ W, ref.reshape(5, -1), atol=1e-12)


@pytest.mark.parametrize("k,stride,padding,include", [(2, None, 0, True), (3, 2, 1, True), (3, 2, 1, False)])
def test_avgpool_matrix_matches_torch(rng, k, stride, padding, include):
    pool = torch.nn.AvgPool2d(k, stride, padding, count_include_pad=include)
    x = rng.normal(size=(3, 2, 7, 8))
    W, out_shape = avgpool2d_matrix((2, 7, 8), k, stride, padding, include)
    ref = pool(_t(x)).numpy()
    assert ref.shape[1:] == out_shape
    np.testing.assert_allclose(x.reshape(3, -1) @ W, ref.reshape(3, -1), atol=1e-12)


def test_layers_too_large_for_a_dense_matrix_are_refused_before_allocating():
    # A ResNet-20 stage (16 channels of 32 x 32) would be a 16384 x 16384
    # matrix per convolution, 2 GiB each: compiling one such network was
    # killed for memory on a 24 GiB machine. A clear error instead, at once.
    with pytest.raises(si.ParameterError, match="dense 16384 x 16384 matrix"):
        conv2d_matrix(np.ones((16, 16, 3, 3)), (16, 32, 32), padding=1)
    with pytest.raises(si.ParameterError, match="pooling"):
        avgpool2d_matrix((64, 128, 128), 1)

    class Stage(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(16, 16, 3, padding=1)

        def forward(self, x):
            return self.conv(x)

    with pytest.raises(si.ParameterError, match="does not compile layers this large"):
        snn.compile(Stage().eval(), (16, 32, 32), calibration=np.zeros((1, 16, 32, 32)))
    W, _ = conv2d_matrix(np.ones((16, 16, 3, 3)), (16, 16, 16), padding=1)  # 4096 x 4096: still dense
    assert W.shape == (4096, 4096)


def test_batchnorm_affine_matches_torch(rng):
    bn = torch.nn.BatchNorm2d(3).double().eval()
    bn.running_mean[:] = _t(rng.normal(size=3))
    bn.running_var[:] = _t(rng.uniform(0.5, 2, size=3))
    bn.weight.data[:] = _t(rng.normal(size=3))
    bn.bias.data[:] = _t(rng.normal(size=3))
    x = rng.normal(size=(4, 3, 2, 2))
    scale, shift = batchnorm_affine(bn.running_mean.numpy(), bn.running_var.numpy(), bn.eps,
                                    bn.weight.detach().numpy(), bn.bias.detach().numpy(), spatial=4)
    with torch.no_grad():
        ref = bn(_t(x)).numpy()
    np.testing.assert_allclose(x.reshape(4, -1) * scale + shift, ref.reshape(4, -1), atol=1e-12)


class Square(torch.nn.Module):
    def forward(self, x):
        return x * x


def _encrypted_vs_torch(net, x, packing, atol, **kw):
    net = net.double().eval()
    enc = snn.compile(net, input_shape=x.shape[1:], calibration=x, packing=packing, batch_size=len(x), **kw)
    ctx = enc.create_context()
    got = enc.decrypt(ctx, enc(enc.encrypt(ctx, x)))
    with torch.no_grad():
        ref = net(_t(x)).reshape(len(x), -1).numpy()
    err = np.abs(got - ref).max()
    print(f"{packing}: max error {err:.2e}")
    assert got.shape == ref.shape
    assert err < atol
    return enc, got


@pytest.mark.parametrize("packing", ["features", "slots"])
def test_conv_bn_pool_square_linear_encrypted(rng, packing):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, stride=2, padding=1), torch.nn.BatchNorm2d(3), Square(),
                              torch.nn.AvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(12, 3))
    bn = net[1]
    bn.running_mean[:] = torch.tensor(rng.normal(size=3))
    bn.running_var[:] = torch.tensor(rng.uniform(0.5, 2, size=3))
    x = rng.uniform(-1, 1, size=(6, 2, 8, 8))
    enc, _ = _encrypted_vs_torch(net, x, packing, 2e-3)
    # conv+bn folded into one affine; pool+linear into another: depth 3
    assert [n.op for n in enc.graph.nodes] == ["affine", "square", "affine"]
    assert enc.packing == packing
    assert (enc.required_rotations() == []) == (packing == "features")


@pytest.mark.parametrize("packing", ["features", "slots"])
def test_activation_and_polynomial_encrypted(rng, packing):
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    x = rng.normal(size=(8, 5))
    enc, got = _encrypted_vs_torch(net, x, packing, 0.05, degrees={"tanh": 7})
    # the encrypted run equals the simulated plan up to CKKS noise
    np.testing.assert_allclose(got, enc.simulate(x), atol=1e-3)


def test_polyval_at_the_small_scales_plans_use(rng):
    """Plans use 26- to 30-bit scales and fold the change of variable into the
    layer before (domain [-1, 1]); a degree-31 activation must evaluate there
    (the powers at one level may differ in scale). At 26 bits it takes one
    level more than depth_of says, which is why the planner uses 30 bits for
    degrees of 31 and more."""
    from securinfer.linalg.polynomial import approximate, depth_of, polyval

    coeffs, err = approximate(lambda t: np.tanh(3 * t), 31)
    ctx = si.Context.create(depth=depth_of(coeffs, "chebyshev") + 1, scale_bits=26)
    x = rng.uniform(-1, 1, 64)
    got = ctx.decrypt(polyval(ctx.encrypt(x), coeffs, "chebyshev"))
    np.testing.assert_allclose(got, np.tanh(3 * x), atol=err + 1e-2)


@pytest.mark.parametrize("act", ["ReLU", "SiLU", "GELU", "Sigmoid", "Tanh"])
def test_approximated_activations_within_their_error(rng, act):
    torch.manual_seed(2)
    net = torch.nn.Sequential(torch.nn.Linear(4, 5), getattr(torch.nn, act)(), torch.nn.Linear(5, 2)).double().eval()
    x = rng.normal(size=(200, 4))
    enc = snn.compile(net, input_shape=(4,), calibration=x)
    poly = [n for n in enc.graph.nodes if n.op == "poly"]
    assert len(poly) == 1 and poly[0].function == act.lower()
    with torch.no_grad():
        ref = net(_t(x)).numpy()
    # the polynomial's error, through the last layer's weights
    bound = poly[0].error * np.abs(net[2].weight.detach().numpy()).sum(axis=1).max() + 1e-9
    err = np.abs(enc.simulate(x) - ref).max()
    print(act, "degree", len(poly[0].coeffs) - 1, "error", err, "bound", bound)
    assert err <= bound


def test_adaptive_pool_and_functional_forms(rng):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 2, 3, padding="same")
            self.pool = torch.nn.AdaptiveAvgPool2d(2)
            self.fc = torch.nn.Linear(8, 2)

        def forward(self, x):
            h = torch.square(self.conv(x))
            h = self.pool(h).flatten(1)
            return self.fc(torch.tanh(h / 4.0))

    torch.manual_seed(4)
    net = Net().double().eval()
    x = rng.uniform(-1, 1, size=(50, 1, 6, 6))
    enc = snn.compile(net, input_shape=(1, 6, 6), calibration=x, degrees={"tanh": 15})
    with torch.no_grad():
        ref = net(_t(x)).numpy()
    assert [n.op for n in enc.graph.nodes] == ["affine", "square", "affine", "poly", "affine"]
    assert np.abs(enc.simulate(x) - ref).max() < 1e-3
