"""Batch inference spread over two worker processes equals one process."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import securinfer as si
import securinfer.nn as snn
from securinfer import dist
from securinfer.apps import face


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 6))
    return X, (X @ rng.normal(size=6) > 0).astype(int)


def _batches(X, sizes):
    edges = np.cumsum([0] + list(sizes))
    return [X[a:b] for a, b in zip(edges[:-1], edges[1:])]


@pytest.mark.parametrize("packing", ["features", "slots"])
def test_batches_equal_the_single_process_model(client, data, packing):
    X, y = data
    if packing == "features":
        model = LogisticRegression().fit(X, y)
        enc = snn.compile(model, packing="features")
        reference = model.decision_function
    else:                                        # rotations: the context ships Galois keys
        model = LinearRegression().fit(X, X @ np.arange(1.0, 7.0))
        enc = snn.compile(model, packing="slots", batch_size=4)
        reference = model.predict
        assert enc.required_rotations()
    ctx = enc.create_context()
    batches = _batches(X, [4, 4, 3, 4, 2] if packing == "slots" else [40, 25, 60, 10])
    groups = [enc.encrypt(ctx.public(), b) for b in batches]
    with dist.BatchRunner(client, enc) as runner:
        assert runner.describe() == enc.describe()
        outputs = runner.map(groups)
        again = runner(groups[0])
    assert len(outputs) == len(groups)
    for batch, group, out in zip(batches, groups, outputs):
        got, want = enc.decrypt(ctx, out), enc.decrypt(ctx, enc(group))
        assert got.shape == want.shape
        assert np.abs(got - want).max() <= 1e-6
        assert np.abs(got.ravel() - reference(batch).ravel()).max() < 1e-2     # independent reference
    assert np.abs(enc.decrypt(ctx, again) - enc.decrypt(ctx, outputs[0])).max() <= 1e-6
    assert all(w["secret_keys"] == 0 for w in dist.audit_workers(client).values())


def test_many_probes_against_a_replicated_gallery(client, face_ctx, templates):
    gallery = face.Gallery(templates[:3000], reveal="scores")
    probes = [face.encrypt_probe(face_ctx, templates[i]) for i in (7, 2999, 1024)]
    outputs = dist.map_groups(client, gallery, probes)
    for i, probe, out in zip((7, 2999, 1024), probes, outputs):
        got = face.decrypt_scores(face_ctx, gallery.describe(), out)
        want = face.decrypt_scores(face_ctx, gallery.describe(), gallery(probe))
        assert np.abs(got - want).max() <= 1e-6
        assert face.top_k(got, 1)[0][0] == str(i)


def test_bad_inputs_raise_securinfer_errors(client, data):
    X, y = data
    enc = snn.compile(LogisticRegression().fit(X, y))
    with pytest.raises(si.ParameterError, match="servable"):
        dist.BatchRunner(client, lambda cts: cts)
    with pytest.raises(si.ParameterError, match="distributed.Client"):
        dist.BatchRunner(None, enc)
    with pytest.raises(si.ParameterError, match="threads"):
        dist.BatchRunner(client, enc, threads=0)
    ctx, other = enc.create_context(), enc.create_context()
    with dist.BatchRunner(client, enc) as runner:
        assert runner.map([]) == []
        with pytest.raises(si.ParameterError):
            runner.map([[]])
        with pytest.raises(si.ParameterError):
            runner.map([["not a ciphertext"]])
        with pytest.raises(si.ContextMismatchError):
            runner.map([enc.encrypt(ctx, X[:3])[:3] + enc.encrypt(other, X[:3])[3:]])
        with pytest.raises(si.ContextMismatchError):      # raised on the worker, same class here
            runner.map([[face.create_context().encrypt(np.ones(4))] * 6])
