"""The servable contract, registry and store: every kind the package ships
meets the contract, travels as bytes and answers the same after the trip,
its client helper is found from its description alone, and files that are
not what they claim are refused with securinfer errors."""

import io
import json
from importlib import metadata

import numpy as np
import pytest

import securinfer as si
from securinfer import servable
from securinfer.servable import registry, store
from securinfer.serve import LinearModel


def _linear():
    rng = np.random.default_rng(0)
    return LinearModel(rng.normal(size=(6, 3)), rng.normal(size=3), context={"preset": "fast"}, name="lin")


def _model():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    import securinfer.nn as snn

    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 4))
    fitted = LogisticRegression().fit(X, (X[:, 0] + X[:, 1] > 0).astype(int))
    return snn.compile(fitted, calibration=X), X[:5]


def _gallery():
    from securinfer.apps import face

    rng = np.random.default_rng(2)
    return face.Gallery(rng.normal(size=(5, 128)), labels=list("abcde"), name="g"), rng.normal(size=128)


def test_the_shipped_kinds_are_registered_and_declared_as_entry_points():
    assert servable.kinds() == ["encrypted-gallery", "gallery", "linear", "model"]
    declared = {e.name: e.value for e in metadata.entry_points(group=registry.ENTRY_POINT_GROUP)}
    for kind in servable.kinds():
        cls = servable.servable_class(kind)
        assert declared[kind] == f"{cls.__module__}:{cls.__qualname__}"
        assert cls.kind == kind


def _round_trip_answers_equal(obj, values):
    helper = servable.client_for(obj.describe())
    assert isinstance(helper, servable.ServableClient)
    ctx = helper.create_context()
    again = servable.from_bytes(obj.kind, servable.to_bytes(obj))
    assert type(again) is type(obj) and again.describe() == obj.describe()
    inputs = helper.encrypt(ctx, values)
    first, second = helper.decrypt(ctx, obj(inputs)), helper.decrypt(ctx, again(inputs))
    np.testing.assert_allclose(first, second, atol=1e-6)
    return first


def test_linear_model_round_trip_and_client():
    model = _linear()
    x = np.arange(6.0)
    got = _round_trip_answers_equal(servable.check_servable(model), x)
    np.testing.assert_allclose(got, x @ model.weights + model.bias, atol=1e-4)


def test_nn_model_round_trip_and_client():
    model, X = _model()
    got = _round_trip_answers_equal(servable.check_servable(model), X)
    np.testing.assert_allclose(got, model.simulate(X), atol=1e-3)


def test_gallery_round_trip_and_client():
    gallery, probe = _gallery()
    got = _round_trip_answers_equal(servable.check_servable(gallery), probe)
    templates = gallery.templates / np.linalg.norm(gallery.templates, axis=1, keepdims=True)
    np.testing.assert_allclose(got, templates @ (probe / np.linalg.norm(probe)), atol=1e-3)


def test_encrypted_gallery_round_trip():
    from securinfer.apps import face

    rng = np.random.default_rng(3)
    ctx = face.create_context()
    templates = rng.normal(size=(4, 128))
    enrolled = face.EncryptedGallery.enroll(ctx, templates, labels=list("wxyz"))
    again = servable.from_bytes("encrypted-gallery", servable.to_bytes(enrolled))
    again.bind(ctx.public())
    helper = servable.client_for(again.describe())
    probe = templates[2]
    scores = helper.decrypt(ctx, again(helper.encrypt(ctx, probe)))
    unit = templates / np.linalg.norm(templates, axis=1, keepdims=True)
    np.testing.assert_allclose(scores, unit @ unit[2], atol=1e-3)


def test_a_file_of_another_kind_is_refused_by_every_loader():
    saved = servable.to_bytes(_linear())
    for kind in ("model", "gallery", "encrypted-gallery"):
        with pytest.raises(si.SerializationError):
            servable.from_bytes(kind, saved)
    with pytest.raises(si.SerializationError):
        servable.from_bytes("linear", b"PK\x03\x04 not a zip")
    with pytest.raises(si.SerializationError):
        servable.from_bytes("linear", "text")
    with pytest.raises(si.ParameterError, match="unknown servable kind"):
        servable.from_bytes("os.system", saved)


def test_store_refuses_wrong_kind_missing_or_extra_arrays_and_versions():
    buf = io.BytesIO()
    store.write(buf, "demo", {"name": "x"}, a=np.arange(3))
    data = buf.getvalue()
    assert store.read(io.BytesIO(data), "demo", ["a"])[1]["a"].tolist() == [0, 1, 2]
    with pytest.raises(si.SerializationError, match="holds a 'demo'"):
        store.read(io.BytesIO(data), "linear", ["a"])
    with pytest.raises(si.SerializationError, match="arrays"):
        store.read(io.BytesIO(data), "demo", ["a", "b"])
    future = io.BytesIO()
    np.savez(future, meta=np.frombuffer(json.dumps({"kind": "demo", "format_version": 99}).encode(), np.uint8))
    with pytest.raises(si.SerializationError, match="version"):
        store.read(io.BytesIO(future.getvalue()), "demo", [])


def test_files_of_the_layouts_before_the_store_still_load(tmp_path):
    """LinearModel files with a unicode ``meta`` and a ``format`` string, and
    nn files with a ``plan`` member, as earlier versions wrote them."""
    model = _linear()
    old = tmp_path / "old.linear.npz"
    meta = json.dumps({"format": "securinfer.serve.LinearModel/1", "name": "lin",
                       "context": model.parameters.description})
    with open(old, "wb") as f:
        np.savez(f, weights=model.weights, bias=model.bias, meta=np.array(meta))
    assert LinearModel.load(old).describe() == model.describe()

    nn_model, _ = _model()
    buf = io.BytesIO()
    nn_model.save(buf)
    meta, arrays = store.read_any(io.BytesIO(buf.getvalue()))
    plan = {k: v for k, v in meta.items() if k not in ("kind", "format_version")}
    plan["format"] = "securinfer.nn/1"
    legacy = io.BytesIO()
    np.savez(legacy, plan=np.frombuffer(json.dumps(plan).encode(), np.uint8), **arrays)
    assert type(nn_model).load(io.BytesIO(legacy.getvalue())).describe() == nn_model.describe()


def test_register_refuses_what_does_not_meet_the_contract_or_takes_a_kind():
    class NoKind:
        pass

    with pytest.raises(si.ParameterError, match="kind"):
        servable.register(NoKind)

    class Half:
        kind = "half"

        def describe(self):
            return {}

    with pytest.raises(si.ParameterError, match="lacks"):
        servable.register(Half)

    class Impostor(LinearModel):
        kind = "linear"

    with pytest.raises(si.ParameterError, match="already"):
        servable.register(Impostor)
    assert servable.servable_class("linear") is LinearModel


def test_check_servable_names_what_is_missing():
    with pytest.raises(si.ParameterError, match="not a servable"):
        servable.check_servable(object())
    with pytest.raises(si.ParameterError, match="a description is a dict"):
        servable.client_for(["kind", "model"])
