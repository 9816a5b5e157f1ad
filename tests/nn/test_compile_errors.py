"""Models the compiler cannot run encrypted are refused with a useful message."""

import numpy as np
import pytest

import securinfer as si
import securinfer.nn as snn

torch = pytest.importorskip("torch")


def test_maxpool_names_the_layer_and_the_alternative():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(18, 2))
    with pytest.raises(snn.UnsupportedModelError, match=r"MaxPool2d.*AvgPool2d"):
        snn.compile(net, input_shape=(1, 8, 8))


@pytest.mark.parametrize("layer,hint", [(torch.nn.Softmax(dim=1), "largest logit"),
                                        (torch.nn.LeakyReLU(), "ReLU"),
                                        (torch.nn.LayerNorm(4), "Linear")])
def test_other_unsupported_layers(layer, hint):
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), layer)
    with pytest.raises(snn.UnsupportedModelError, match=hint) as info:
        snn.compile(net, input_shape=(3,), calibration=np.zeros((2, 3)))
    assert isinstance(info.value, si.ParameterError)


def test_products_of_two_branches_are_refused():
    class Gate(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)

        def forward(self, x):
            return self.a(x) * self.b(x)

    with pytest.raises(snn.UnsupportedModelError, match="only x \\* x"):
        snn.compile(Gate(), input_shape=(3,))


def test_missing_arguments_and_foreign_objects():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())
    with pytest.raises(si.ParameterError, match="input_shape"):
        snn.compile(net)
    with pytest.raises(si.ParameterError, match="calibration"):
        snn.compile(net, input_shape=(3,))
    with pytest.raises(si.ParameterError, match="does not run"):
        snn.compile(net, input_shape=(5,))
    with pytest.raises(snn.UnsupportedModelError, match="neither"):
        snn.compile(object())


def test_unsupported_and_unfitted_sklearn_models():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    X, y = np.random.default_rng(0).normal(size=(20, 3)), np.arange(20) % 2
    with pytest.raises(snn.UnsupportedModelError, match="RandomForestClassifier"):
        snn.compile(RandomForestClassifier(n_estimators=2).fit(X, y))
    with pytest.raises(si.ParameterError, match="not fitted"):
        snn.compile(LogisticRegression())
    three = LogisticRegression().fit(X, np.arange(20) % 3)
    with pytest.raises(snn.UnsupportedModelError, match="softmax"):
        snn.compile(three, output="proba", calibration=X)


def test_bad_inputs_at_run_time():
    from sklearn.linear_model import LinearRegression

    X = np.random.default_rng(0).normal(size=(20, 3))
    enc = snn.compile(LinearRegression().fit(X, X[:, 0]))
    ctx = enc.create_context()
    with pytest.raises(si.ParameterError, match="3 values"):
        enc.encrypt(ctx, np.zeros((2, 4)))
    with pytest.raises(si.ParameterError):
        enc([])
    with pytest.raises(si.ParameterError, match="groups of 3"):
        enc(enc.encrypt(ctx, X[:2])[:2])
    other = si.Context.create(preset="fast")
    with pytest.raises(si.ContextMismatchError):
        enc([other.encrypt([1.0])] * 3)


def test_a_plan_deeper_than_every_ring_raises_parameter_error():
    """Depth 80 at a 26-bit scale exceeds every 128-bit chain (N = 65536
    holds 1747 bits): a ParameterError (what compile catches to bootstrap
    instead), not an arithmetic error from a chain that could never fit."""
    from securinfer.nn.planner import choose_parameters

    with pytest.raises(si.ParameterError, match="does not fit"):
        choose_parameters(80, 16)
