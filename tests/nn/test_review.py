"""Regression tests from the review of securinfer.nn (crafted files, edge cases)."""

import io

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.linear_model import LogisticRegression  # noqa: E402

import securinfer.nn as snn  # noqa: E402
from securinfer.errors import SerializationError  # noqa: E402
from securinfer.servable import store  # noqa: E402


def _saved_model():
    X = np.random.default_rng(0).normal(size=(40, 4))
    model = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    buf = io.BytesIO()
    snn.compile(model, calibration=X).save(buf)
    return store.read_any(io.BytesIO(buf.getvalue()))


def test_a_saved_plan_without_operations_is_refused_at_load():
    """A model file whose plan lists no node loaded, described itself, and its
    first query failed with IndexError (the run returns the last node's value)."""
    meta, arrays = _saved_model()
    meta["nodes"] = []
    kind = meta.pop("kind")
    meta.pop("format_version")
    crafted = io.BytesIO()
    store.write(crafted, kind, meta, **{k: v for k, v in arrays.items() if not k.startswith("node")})
    with pytest.raises(SerializationError, match="no operation"):
        snn.EncryptedModel.load(io.BytesIO(crafted.getvalue()))
