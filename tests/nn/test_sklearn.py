"""scikit-learn models encrypted: predictions equal to the plaintext ones."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

import securinfer.nn as snn


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


def _encrypted_predictions(enc, X):
    ctx = enc.create_context()
    out = enc(enc.encrypt(ctx, X))
    return enc.decrypt(ctx, out), enc.predict(ctx, out)


def test_logistic_regression_predictions_equal(cancer):
    Xtr, Xte, ytr, _ = cancer
    model = LogisticRegression(max_iter=1000).fit(Xtr, ytr)
    enc = snn.compile(model)
    scores, labels = _encrypted_predictions(enc, Xte)
    print("max decision error", np.abs(scores.ravel() - model.decision_function(Xte)).max())
    np.testing.assert_allclose(scores.ravel(), model.decision_function(Xte), atol=1e-3)
    np.testing.assert_array_equal(labels, model.predict(Xte))


def test_logistic_regression_probabilities(cancer):
    Xtr, Xte, ytr, _ = cancer
    model = LogisticRegression(max_iter=1000).fit(Xtr, ytr)
    enc = snn.compile(model, calibration=Xtr, output="proba")
    scores, labels = _encrypted_predictions(enc, Xte)
    assert enc.graph.nodes[-1].function == "sigmoid"
    err = np.abs(scores[:, 0] - model.predict_proba(Xte)[:, 1]).max()
    print("max probability error", err)
    assert err < 0.02
    np.testing.assert_array_equal(labels, model.predict(Xte))


def test_mlp_classifier_predictions_equal(cancer):
    Xtr, Xte, ytr, _ = cancer
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2000, random_state=0).fit(Xtr, ytr)
    enc = snn.compile(model, calibration=Xtr)
    scores, labels = _encrypted_predictions(enc, Xte)
    # the decrypted scores are the plan's (ReLU approximated), up to CKKS noise
    np.testing.assert_allclose(scores, enc.simulate(Xte), rtol=1e-3, atol=5e-3)
    np.testing.assert_array_equal(labels, model.predict(Xte))


def test_linear_models_and_pipeline(rng):
    X = rng.normal(size=(60, 5))
    y = X @ np.arange(1.0, 6.0) + 0.5
    for model in (LinearRegression().fit(X, y), make_pipeline(StandardScaler(), LinearRegression()).fit(X * 3 + 1, y)):
        enc = snn.compile(model)
        data = X[:7] if len(enc.graph.nodes) == 1 and enc.graph.nodes[0].name == "LinearRegression" else X[:7] * 3 + 1
        ctx = enc.create_context()
        np.testing.assert_allclose(enc.decrypt(ctx, enc(enc.encrypt(ctx, data))).ravel(), model.predict(data),
                                   atol=1e-3)
    labels = (X[:, 0] + X[:, 1] > 0).astype(int)
    svc = LinearSVC().fit(X, labels)
    enc = snn.compile(svc)
    ctx = enc.create_context()
    out = enc(enc.encrypt(ctx, X))
    np.testing.assert_allclose(enc.decrypt(ctx, out).ravel(), svc.decision_function(X), atol=1e-3)
    np.testing.assert_array_equal(enc.predict(ctx, out), svc.predict(X))


def test_mlp_regressor_tanh_simulated_and_encrypted(rng):
    X = rng.uniform(-1, 1, size=(200, 3))
    y = np.sin(X).sum(axis=1)
    model = MLPRegressor(hidden_layer_sizes=(6,), activation="tanh", max_iter=3000, random_state=0).fit(X, y)
    enc = snn.compile(model, calibration=X)
    err = np.abs(enc.simulate(X).ravel() - model.predict(X)).max()
    print("simulated vs sklearn", err)
    assert err < 0.05
    ctx = enc.create_context()
    got = enc.decrypt(ctx, enc(enc.encrypt(ctx, X[:10]))).ravel()
    np.testing.assert_allclose(got, enc.simulate(X[:10]).ravel(), atol=5e-3)   # deep tanh: noise grows
