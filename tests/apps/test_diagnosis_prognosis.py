"""Encrypted prognosis on real patient tables (scikit-survival's GBSG2,
whas500, veteran): encrypted risk scores equal the plaintext ones, and so
does Harrell's concordance index."""

import numpy as np
import pytest

pytest.importorskip("sksurv")

from securinfer.apps import diagnosis  # noqa: E402
from securinfer.apps.diagnosis_prognosis import _neg_partial_likelihood  # noqa: E402
from securinfer.errors import ParameterError  # noqa: E402


def _check(report):
    assert report.max_abs_error < 1e-3
    if report.near_ties == 0:
        assert report.concordance_encrypted == report.concordance_plain
        assert report.pairs_reordered == 0
    else:   # identical covariates give tied risks; encryption noise may order a tie either way
        assert abs(report.concordance_encrypted - report.concordance_plain) <= report.near_ties / report.comparable_pairs


@pytest.mark.parametrize("table", ["gbsg2", "whas500", "veteran"])
def test_cox_risk_scores_and_concordance_equal_plaintext(table):
    task = diagnosis.survival_task(table)
    model = diagnosis.train_survival(task, "cox")
    # The encrypted model carries the survival model's coefficients; its own predict() is the reference.
    assert np.allclose(diagnosis.risk_scores(model, task.X_test), task.X_test @ model.cox_.coef_)
    report = diagnosis.prognose(task, model)
    _check(report)
    # The default precision keeps every comparable pair apart: the concordance is identical in every run.
    assert report.near_ties == 0 and report.concordance_encrypted == report.concordance_plain
    assert report.records == len(task.X_test) and report.bytes["upload"] > 0
    assert report.concordance_plain > 0.6          # a real prognostic model, better than chance


def test_neural_risk_model_equals_plaintext_and_is_prognostic():
    task = diagnosis.survival_task("whas500")
    model = diagnosis.train_survival(task, "neural")
    report = diagnosis.prognose(task, model)
    _check(report)
    assert report.near_ties == 0 and report.concordance_encrypted == report.concordance_plain
    assert report.concordance_plain > 0.7          # measured 0.735 (Cox: 0.727)


def test_cox_loss_gradient_against_finite_differences():
    rng = np.random.default_rng(0)
    risk, times = rng.normal(size=30), rng.exponential(size=30)
    event = rng.random(30) < 0.6
    order = np.argsort(-times, kind="stable")
    loss, grad = _neg_partial_likelihood(risk, event, order)
    # The textbook partial likelihood, written pair by pair.
    direct = -sum(risk[i] - np.log(np.exp(risk[times >= times[i]]).sum()) for i in range(30) if event[i]) / event.sum()
    assert loss == pytest.approx(direct, rel=1e-10)
    h = 1e-6
    numeric = [(_neg_partial_likelihood(risk + h * np.eye(30)[k], event, order)[0] - loss) / h for k in range(30)]
    assert np.allclose(grad, numeric, atol=1e-5)


def test_tables_are_standardised_and_split_on_the_event():
    task = diagnosis.survival_task("gbsg2")
    assert task.X_train.shape[1] == task.X_test.shape[1] == len(task.feature_names)
    assert len(task.X_train) + len(task.X_test) == 686
    assert np.allclose(task.X_train.mean(0), 0, atol=1e-9)
    assert abs(task.event_train.mean() - task.event_test.mean()) < 0.02


def test_bad_names_raise():
    with pytest.raises(ParameterError):
        diagnosis.survival_task("mimic")
    with pytest.raises(ParameterError):
        diagnosis.train_survival(diagnosis.survival_task("veteran"), "forest")
