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


def test_bootstrapping_keys_a_server_asks_for_count_against_the_key_budget(monkeypatch):
    """A description saying ``"bootstraps"`` made the client generate every
    bootstrapping key (tens at N = 2^15, each hundreds of MiB) outside the
    key budget of server_parameters. The count is checked first (here with the
    budget lowered under what the test chain's keys take)."""
    import warnings

    import securinfer as si
    from securinfer import server_parameters
    from securinfer.bootstrapping import TEST_PARAMETERS
    from securinfer.nn import client as client_module

    X = np.random.default_rng(0).normal(size=(40, 4))
    model = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    with pytest.warns(UserWarning, match="128-bit"):
        enc = snn.compile(model, calibration=X, bootstrap="always", bootstrap_parameters=TEST_PARAMETERS,
                          security=None)
    description = dict(enc.describe(), bootstraps=1)      # what a server deeper than its chain says

    def insecure(params, rotations=(), max_key_bytes=None):     # the test chain is below 128 bits: refused
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx = si.Context.create(**params, security=None)
        ctx.generate_rotation_keys(steps=sorted(rotations))
        return ctx

    made = []
    monkeypatch.setattr(client_module, "context_for_server", insecure)
    monkeypatch.setattr(si.Context, "generate_bootstrapping_keys", lambda self, slots=None: made.append(self))
    p = si.Context.for_planning(**TEST_PARAMETERS, security=None).parameters
    per_key = p.dnum * 2 * (len(p.q_primes) + len(p.p_primes)) * p.poly_degree * 8
    monkeypatch.setitem(server_parameters.ALLOWED, "key_bytes", 20 * per_key)     # fewer than the plan's keys
    with pytest.raises(si.SecurityError, match="GiB of keys"):
        snn.Client(description).create_context()
    assert made == []
    monkeypatch.setitem(server_parameters.ALLOWED, "key_bytes", 200 * per_key)
    snn.Client(description).create_context()
    assert len(made) == 1
