"""Encrypted medical diagnosis: patient records in, risk scores or classes out,
computed on ciphertexts.

Two real data sets that scikit-learn ships (nothing is downloaded):

* :func:`breast_cancer` -- the Wisconsin diagnostic breast cancer table
  (569 biopsies, 30 features; malignant or benign), for a logistic
  regression or a small MLP classifier;
* :func:`diabetes_progression` -- the diabetes table (442 patients, 10
  baseline measurements; a quantitative measure of disease progression one
  year later), for a risk score by linear regression or an MLP regressor.

and the survival tables scikit-survival ships (GBSG2, whas500, veteran) for
encrypted prognosis -- Cox and neural risk scores
(:mod:`securinfer.apps.diagnosis_prognosis`: :func:`survival_task`,
:func:`train_survival`, :func:`prognose`).

A :class:`Task` holds the fixed, stratified split and the standardisation
fitted on the training rows; :func:`train` fits a model; :func:`compile_task`
turns it into a :class:`securinfer.nn.EncryptedModel` (the feature packing:
one ciphertext per feature, thousands of records across the slots, no
rotation key at all); :func:`diagnose` runs the client/server round trip
and reports agreement with the plaintext model, timings and bytes.

Example:
    >>> from securinfer.apps import diagnosis
    >>> task = diagnosis.breast_cancer()
    >>> model = diagnosis.train(task, "logistic")
    >>> report = diagnosis.diagnose(task, model, records=20)
    >>> report.agreement, report.records
    (1.0, 20)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from ..errors import ParameterError

from .diagnosis_prognosis import (SURVIVAL_MODELS, SURVIVAL_TABLES, SurvivalReport, SurvivalTask, concordance,
                                  prognose, risk_scores, survival_task, train_survival)

__all__ = ["Task", "Report", "breast_cancer", "diabetes_progression", "train", "compile_task", "diagnose",
           "SurvivalTask", "SurvivalReport", "SURVIVAL_TABLES", "SURVIVAL_MODELS", "survival_task", "train_survival",
           "risk_scores", "concordance", "prognose"]


@dataclass
class Task:
    """A medical prediction task: standardised train/test rows and what they mean."""

    name: str
    kind: str  # "classification" | "regression"
    feature_names: List[str]
    target: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    classes: Optional[List[str]] = None


@dataclass
class Report:
    """What one encrypted diagnosis run did and saw."""

    task: str
    model: str
    records: int
    agreement: float  # classes: share of identical predictions; regression: share within tolerance
    max_abs_error: float  # encrypted vs plaintext model outputs
    plaintext_accuracy: Optional[float]  # classifiers, against the true labels
    encrypted_accuracy: Optional[float]
    seconds: dict = field(default_factory=dict)  # keys, encrypt, server, decrypt
    bytes: dict = field(default_factory=dict)  # upload, download, evaluation keys
    parameters: dict = field(default_factory=dict)


def _split(X, y, *, stratify: bool, test_size: float, random_state: int):
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=random_state, stratify=y if stratify else None)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def breast_cancer(test_size: float = 0.3, random_state: int = 0) -> Task:
    """The Wisconsin breast cancer table, split (stratified) and standardised.
    Label 1 = benign, 0 = malignant (scikit-learn's coding)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    parts = _split(data.data, data.target, stratify=True, test_size=test_size, random_state=random_state)
    return Task("breast-cancer", "classification", list(data.feature_names), "diagnosis", *parts,
                classes=list(data.target_names))


def diabetes_progression(test_size: float = 0.3, random_state: int = 0) -> Task:
    """The diabetes table: disease progression one year after baseline, from
    age, sex, BMI, blood pressure and six blood serum measurements. The
    target is standardised too (a risk score in standard deviations)."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    y = (data.target - data.target.mean()) / data.target.std()
    parts = _split(data.data, y, stratify=False, test_size=test_size, random_state=random_state)
    return Task("diabetes-progression", "regression", list(data.feature_names), "progression score", *parts)


_MODELS = {
    "classification": ("logistic", "mlp"),
    "regression": ("linear", "mlp"),
}


def train(task: Task, model: str = "logistic", random_state: int = 0):
    """A fitted scikit-learn estimator for the task: ``"logistic"`` or ``"mlp"``
    (classification), ``"linear"`` or ``"mlp"`` (regression). The MLPs have one
    hidden layer of 16 units whose ReLU the compiler approximates."""
    if model not in _MODELS[task.kind]:
        raise ParameterError(f"model must be one of {_MODELS[task.kind]} for {task.name}, got {model!r}")
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    if model == "logistic":
        est = LogisticRegression(max_iter=5000)
    elif model == "linear":
        est = LinearRegression()
    elif task.kind == "classification":
        est = MLPClassifier(hidden_layer_sizes=(16,), activation="logistic", alpha=1.0, max_iter=5000, random_state=random_state)
    else:
        est = MLPRegressor(hidden_layer_sizes=(16,), activation="logistic", alpha=1.0, max_iter=5000, random_state=random_state)
    return est.fit(task.X_train, task.y_train)


def compile_task(task: Task, estimator, **options):
    """The estimator compiled for encrypted inference, calibrated on the task's
    training rows (activation ranges). ``options`` go to ``securinfer.nn.compile``."""
    from .. import nn

    return nn.compile(estimator, calibration=task.X_train, name=f"{task.name}-{type(estimator).__name__}", **options)


def diagnose(task: Task, estimator, records: Optional[int] = None, encrypted_model=None,
             tolerance: float = 1e-2) -> Report:
    """Client encrypts ``records`` test rows (default: all), the server (public
    context only) runs the compiled model, the client decrypts; compared with
    the plaintext estimator on the same rows."""
    import securinfer as si

    X = task.X_test if records is None else task.X_test[:records]
    y = task.y_test[: len(X)]
    enc = encrypted_model or compile_task(task, estimator)
    seconds = {}

    t = time.perf_counter()
    ctx = enc.create_context()
    server_ctx = si.Context.load(ctx.public().serialize())  # what the server holds: no secret key
    seconds["keys"] = time.perf_counter() - t

    t = time.perf_counter()
    cts = enc.encrypt(ctx, X)
    upload = [c.serialize() for c in cts]
    seconds["encrypt"] = time.perf_counter() - t

    t = time.perf_counter()
    out = enc([si.Ciphertext.load(b, server_ctx) for b in upload])
    download = [c.serialize() for c in out]
    seconds["server"] = time.perf_counter() - t

    t = time.perf_counter()
    outputs = enc.decrypt(ctx, [si.Ciphertext.load(b, ctx) for b in download])
    seconds["decrypt"] = time.perf_counter() - t

    enc_scores = outputs.reshape(len(X), -1)
    plain_scores = _plaintext_scores(estimator, X)
    if task.kind == "classification":
        plain_pred = estimator.predict(X)
        enc_pred = _classes_from_scores(estimator, enc_scores)
        agreement = float(np.mean(enc_pred == plain_pred))
        plain_acc, enc_acc = float(np.mean(plain_pred == y)), float(np.mean(enc_pred == y))
    else:
        agreement = float(np.mean(np.all(np.abs(enc_scores - plain_scores) <= tolerance, axis=1)))
        plain_acc = enc_acc = None
    keys = ctx.public().key_bytes
    return Report(
        task=task.name, model=type(estimator).__name__, records=len(X), agreement=agreement,
        max_abs_error=float(np.max(np.abs(enc_scores - plain_scores))),
        plaintext_accuracy=plain_acc, encrypted_accuracy=enc_acc, seconds=seconds,
        bytes={"upload": sum(map(len, upload)), "download": sum(map(len, download)),
               "evaluation_keys": int(sum(keys.values()))},
        parameters=dict(enc.parameters))


def _plaintext_scores(estimator, X) -> np.ndarray:
    """What the compiled model outputs, computed by scikit-learn itself: the
    decision function (an MLP classifier's logits, from its probabilities) or
    the regression output."""
    if hasattr(estimator, "decision_function"):
        scores = estimator.decision_function(X)
    elif hasattr(estimator, "predict_proba"):
        p = np.clip(estimator.predict_proba(X), 1e-300, 1.0)
        scores = np.log(p[:, 1]) - np.log(p[:, 0]) if p.shape[1] == 2 else np.log(p)
    else:
        scores = estimator.predict(X)
    return np.asarray(scores, dtype=np.float64).reshape(len(X), -1)


def _classes_from_scores(estimator, scores: np.ndarray) -> np.ndarray:
    """scikit-learn's own rule: a binary decision function's sign, else argmax."""
    classes = estimator.classes_
    if scores.shape[1] == 1:
        return classes[(scores[:, 0] > 0).astype(int)]
    return classes[np.argmax(scores, axis=1)]
