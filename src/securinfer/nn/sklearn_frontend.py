"""scikit-learn estimators to plans.

Supported: ``LinearRegression``, ``Ridge``/``Lasso`` (any fitted linear
regressor with ``coef_``/``intercept_``), ``LogisticRegression``,
``LinearSVC``, ``MLPClassifier``, ``MLPRegressor``, and a ``Pipeline`` of
``StandardScaler``/``MinMaxScaler`` steps before one of them (the scalers
fold into the first layer).

Classifiers output their decision function (the class is its argmax, or its
sign for two classes) unless ``output="proba"``: then a binary logistic
model's sigmoid is approximated too. Hidden MLP activations (``relu``,
``tanh``, ``logistic``) are approximated on calibrated ranges.

Example:
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from securinfer.nn.sklearn_frontend import lower
    >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = X @ [1.0, 2.0, 3.0] + 4
    >>> graph, info = lower(LinearRegression().fit(X, y))
    >>> np.allclose(graph.run(X[:2]).ravel(), y[:2])
    True
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from ..errors import ParameterError
from .errors import UnsupportedModelError
from .graph import Graph

__all__ = ["lower", "is_sklearn_estimator"]

_MLP_ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid"}


def is_sklearn_estimator(model) -> bool:
    return any(cls.__module__.startswith("sklearn.") for cls in type(model).__mro__)


def _fitted(model, attr):
    if not hasattr(model, attr):
        raise ParameterError(f"{type(model).__name__} is not fitted (no {attr}); call fit first")
    return getattr(model, attr)


def lower(model, output: str = "decision") -> Tuple[Graph, dict]:
    """``(graph, info)``; info holds ``classes`` (or None) and the class rule
    (``"sign"``: positive means classes[1]; ``"argmax"``)."""
    if output not in ("decision", "proba"):
        raise ParameterError("output must be 'decision' or 'proba'")
    steps = [model]
    if type(model).__name__ == "Pipeline":
        steps = [step for _, step in model.steps if step not in (None, "passthrough")]
    estimator = steps[-1]
    n_in = _fitted(steps[0], "n_features_in_")
    graph = Graph(int(n_in))
    ref = -1
    for step in steps[:-1]:
        ref = _scaler(graph, ref, step)
    kind = type(estimator).__name__
    classes = getattr(estimator, "classes_", None)
    info = {"classes": None if classes is None else np.asarray(classes).tolist(), "rule": None, "estimator": kind}
    if kind in ("MLPClassifier", "MLPRegressor"):
        coefs, intercepts = _fitted(estimator, "coefs_"), estimator.intercepts_
        act = _MLP_ACTIVATIONS.get(estimator.activation) if estimator.activation != "identity" else None
        if estimator.activation not in _MLP_ACTIVATIONS and estimator.activation != "identity":
            raise UnsupportedModelError(f"MLP activation {estimator.activation!r} is not supported")
        for i, (W, b) in enumerate(zip(coefs, intercepts)):
            ref = graph.affine(ref, W, b, name=f"layer {i} (Dense)")
            if i < len(coefs) - 1 and act:
                ref = graph.act(ref, act, name=f"layer {i} ({estimator.activation})")
        if kind == "MLPClassifier":
            _classifier_output(graph, ref, estimator.out_activation_, output, info)
    elif hasattr(estimator, "coef_") and hasattr(estimator, "intercept_"):
        coef = np.atleast_2d(np.asarray(_fitted(estimator, "coef_"), dtype=np.float64))
        intercept = np.atleast_1d(np.asarray(estimator.intercept_, dtype=np.float64))
        ref = graph.affine(ref, coef.T, np.broadcast_to(intercept, (coef.shape[0],)), name=f"{kind}")
        if classes is not None:
            out_act = "logistic" if coef.shape[0] == 1 else "softmax"
            if kind not in ("LogisticRegression",) and output == "proba":
                raise UnsupportedModelError(f"{kind} has no probabilities; use output='decision'")
            _classifier_output(graph, ref, out_act, output, info)
    else:
        raise UnsupportedModelError(
            f"{kind} is not supported: use LinearRegression, LogisticRegression, LinearSVC, "
            "MLPClassifier or MLPRegressor (optionally after StandardScaler/MinMaxScaler in a Pipeline)")
    return graph, info


def _classifier_output(graph, ref, out_activation, output, info):
    info["rule"] = "sign" if graph.size_of(ref) == 1 else "argmax"
    if output == "proba":
        if out_activation != "logistic":
            raise UnsupportedModelError("softmax probabilities are not supported (no division under CKKS); "
                                        "use output='decision': its argmax is the class")
        graph.act(ref, "sigmoid", name="output (sigmoid)")
        info["rule"] = "threshold"


def _scaler(graph, ref, step):
    kind = type(step).__name__
    n = graph.size_of(ref)
    if kind == "StandardScaler":
        mean = np.zeros(n) if step.mean_ is None else step.mean_
        scale = np.ones(n) if step.scale_ is None else step.scale_
        return graph.affine(ref, np.diag(1.0 / scale), -mean / scale, name="StandardScaler")
    if kind == "MinMaxScaler":
        return graph.affine(ref, np.diag(step.scale_), step.min_, name="MinMaxScaler")
    raise UnsupportedModelError(f"pipeline step {kind} is not supported: use StandardScaler or MinMaxScaler "
                                "before the estimator (or transform the data before encrypting)")
