"""The composite ReLU (securinfer.nn.composite): the sign composition on a
grid against numpy, the ``mul`` node, and a small ReLU MLP compiled with
``relu="composite"`` end to end on a 128-bit ring, against the model's own
numpy forward pass."""

import numpy as np
import pytest
from numpy.polynomial import polynomial as P

import securinfer.nn as snn
from securinfer.nn.composite import F3, G3, STAGES, composite_error, composite_sign
from securinfer.nn.graph import Graph


def test_stages_are_the_textbook_polynomials():
    np.testing.assert_allclose(F3 * 16, [0, 35, 0, -35, 0, 21, 0, -5])           # Cheon et al.'s f_3
    t = np.linspace(-1, 1, 100_001)
    for p in (F3, G3):
        assert np.abs(P.polyval(t, p)).max() <= 1 + 1e-12                          # [-1, 1] into itself
        np.testing.assert_allclose(P.polyval(-t, p), -P.polyval(t, p), atol=1e-15)  # odd


@pytest.mark.parametrize("bits,claim", [(5, 2e-4), (6, 2e-6), (7, 2e-4)])
def test_composite_sign_and_relu_on_a_grid(bits, claim):
    """Outside the band |t| < 2^-bits the sign's error is below ``claim``;
    ReLU's error is below claim * B / 2 there and below the band's width
    inside it; composite_error reports what numpy measures on its own grid."""
    t = np.linspace(-1, 1, 400_001)
    s = composite_sign(t, STAGES[bits])
    outside = np.abs(t) >= 2.0 ** -bits
    assert np.abs(s - np.sign(t))[outside].max() < claim
    assert np.abs(s).max() <= 1 + 1e-12
    B = 7.5
    x = B * t
    err = np.abs(x * (1 + s) / 2 - np.maximum(x, 0))
    assert err[outside].max() < claim * B / 2 and err[~outside].max() <= 2.0 ** -bits * B
    out, inside = composite_error(B, bits)
    assert abs(out - err[outside].max()) <= 0.05 * err[outside].max() + 1e-12
    assert abs(inside - err[~outside].max()) <= 0.05 * err[~outside].max()


def test_mul_node_runs_and_bounds(rng):
    g = Graph(3)
    a = g.affine(-1, rng.normal(size=(3, 4)))
    b = g.square(a)
    g.mul(a, b)
    x = rng.normal(size=(5, 3))
    h = x @ g.nodes[0].weight
    np.testing.assert_allclose(g.run(x), h * h * h)
    assert g.depths() == [1, 2, 3]
    from securinfer.nn.intervals import bounds
    lows, highs, _ = bounds(g, x.min(axis=0), x.max(axis=0))
    assert np.all(lows[-1] <= (h ** 3).min(axis=0) + 1e-9) and np.all(highs[-1] >= (h ** 3).max(axis=0) - 1e-9)


def _relu_logits(model, X):
    h = X
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        h = h @ W + b
        if i < len(model.coefs_) - 1:
            h = np.maximum(h, 0)
    return h


def test_small_relu_mlp_encrypted(tmp_path):
    """A ReLU MLP (breast cancer, 6 hidden units): the composite plan is
    within its stated error of the exact ReLU model, the encrypted run within
    the CKKS noise of the plan, on a 128-bit ring; saved and loaded."""
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_breast_cancer
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = MLPClassifier(hidden_layer_sizes=(6,), activation="relu", max_iter=2000, random_state=0).fit(X[:400], y[:400])
    enc = snn.compile(model, calibration=X[:400], relu="composite", batch_size=8)
    product = next(n for n in enc.graph.nodes if n.op == "mul")
    assert "relu composite" in enc.summary() and "NOT secure" not in enc.summary()
    exact = _relu_logits(model, X[400:]).ravel()
    plan = enc.simulate(X[400:]).ravel()
    stated = np.abs(model.coefs_[1]).sum() * max(product.extra["error_outside"], product.extra["error_inside"])
    assert np.abs(plan - exact).max() <= stated
    path = tmp_path / "m.npz"
    enc.save(path)
    loaded = snn.EncryptedModel.load(path)
    ctx = loaded.create_context()
    got = loaded.decrypt(ctx, loaded(loaded.encrypt(ctx, X[400:408]))).ravel()
    np.testing.assert_allclose(got, plan[:8], atol=0.02)
    assert np.abs(got - exact[:8]).max() <= stated + 0.02


def test_bad_relu_options_are_refused(rng):
    import securinfer as si
    from sklearn.neural_network import MLPRegressor

    X = rng.normal(size=(30, 3))
    model = MLPRegressor(hidden_layer_sizes=(2,), max_iter=50).fit(X, X[:, 0])
    with pytest.raises(si.ParameterError, match="relu must be"):
        snn.compile(model, calibration=X, relu="minimax")
    for bits in (4, True, 6.5):
        with pytest.raises(si.ParameterError, match="relu_band_bits"):
            snn.compile(model, calibration=X, relu="composite", relu_band_bits=bits)


def test_composite_relu_bootstrapped_on_insecure_test_parameters():
    """Two ReLU layers with the composite (band 2^-5: four stages of 3 levels)
    on the N = 2^12 test chain (3 levels after a bootstrap), reachable only
    with security=None: the compiler places bootstraps between the stages
    (each node, t = x / B included, fits a refresh), and the plan is within
    its stated error of torch's ReLU net; the encrypted, bootstrapped run
    equals the plan."""
    torch = pytest.importorskip("torch")
    import warnings

    import securinfer as si
    from securinfer.bootstrapping import TEST_PARAMETERS
    from securinfer.nn.placement import node_levels

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 4), torch.nn.ReLU(),
                              torch.nn.Linear(4, 2)).double().eval()
    x = np.random.default_rng(2).uniform(-2, 2, size=(64, 5))
    with pytest.raises(si.SecurityError):
        snn.compile(net, input_shape=(5,), calibration=x, bootstrap_parameters=TEST_PARAMETERS, relu="composite",
                    relu_band_bits=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = snn.compile(net, input_shape=(5,), calibration=x, bootstrap_parameters=TEST_PARAMETERS,
                          security=None, batch_size=2, relu="composite", relu_band_bits=5)
    assert "NOT secure" in enc.summary() and enc.bootstraps >= 2     # 29 levels against 21 fresh, 3 per refresh
    stages = [n for n in enc.graph.nodes if n.extra.get("stage") == 1]
    assert len(stages) == 2 and all(n.domain == (-1.0, 1.0) for n in stages)
    assert max(node_levels(enc.graph)) <= 3
    with torch.no_grad():
        ref = net(torch.tensor(x)).numpy()
    products = [n for n in enc.graph.nodes if n.op == "mul"]
    W2, W3 = net[2].weight.detach().numpy(), net[4].weight.detach().numpy()
    e1, e2 = (max(p.extra["error_outside"], p.extra["error_inside"]) for p in products)
    stated = np.abs(W3).sum(axis=1).max() * (e2 + np.abs(W2).sum(axis=1).max() * e1)   # propagated bound
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = enc.simulate(x)
    assert np.abs(got - ref).max() <= stated
    assert np.abs(ref[0] - ref[1]).max() > 0.05                     # the ReLUs pass a signal through
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = si.Context.create(**TEST_PARAMETERS, security=None)
    ctx.generate_bootstrapping_keys()
    ctx.generate_rotation_keys(steps=enc.required_rotations())
    encrypted = enc.decrypt(ctx, enc(enc.encrypt(ctx, x[:2])))
    np.testing.assert_allclose(encrypted, got[:2], atol=1e-5)          # bootstrapped run = the plan
