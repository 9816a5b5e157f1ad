"""Encrypted diagnosis against scikit-learn on the same test records."""

import numpy as np
import pytest

import securinfer as si
from securinfer.apps import diagnosis


@pytest.fixture(scope="module")
def cancer():
    return diagnosis.breast_cancer()


def test_tasks_are_fixed_stratified_and_standardised(cancer):
    again = diagnosis.breast_cancer()
    assert np.array_equal(cancer.X_test, again.X_test)
    assert cancer.X_train.shape[1] == len(cancer.feature_names) == 30
    assert abs(np.mean(cancer.y_train) - np.mean(cancer.y_test)) < 0.02  # stratified
    assert np.allclose(cancer.X_train.mean(axis=0), 0, atol=1e-9)
    diabetes = diagnosis.diabetes_progression()
    assert diabetes.kind == "regression" and diabetes.X_train.shape[1] == 10


@pytest.mark.parametrize("model", ["logistic", "mlp"])
def test_breast_cancer_predictions_identical_on_every_test_record(cancer, model):
    estimator = diagnosis.train(cancer, model)
    report = diagnosis.diagnose(cancer, estimator)
    assert report.records == len(cancer.X_test)
    assert report.agreement == 1.0, report
    assert report.encrypted_accuracy == pytest.approx(estimator.score(cancer.X_test, cancer.y_test))
    if model == "logistic":  # no approximation at all: only CKKS noise
        assert report.max_abs_error < 1e-3


def test_diabetes_risk_scores_match(cancer):
    task = diagnosis.diabetes_progression()
    estimator = diagnosis.train(task, "linear")
    report = diagnosis.diagnose(task, estimator)
    assert report.agreement == 1.0 and report.max_abs_error < 1e-3
    assert report.bytes["upload"] > 0 and report.seconds["server"] > 0


def test_server_never_holds_a_secret(cancer):
    estimator = diagnosis.train(cancer, "logistic")
    enc = diagnosis.compile_task(cancer, estimator)
    ctx = enc.create_context()
    server = si.Context.load(ctx.public().serialize())
    assert ctx.has_secret_key and not server.has_secret_key
    out = enc(enc.encrypt(server, cancer.X_test[:5]))
    with pytest.raises(si.MissingKeyError):
        server.decrypt(out[0])


def test_bad_model_names(cancer):
    with pytest.raises(si.ParameterError, match="logistic"):
        diagnosis.train(cancer, "linear")
