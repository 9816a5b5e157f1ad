"""The service's parts on their own: container, size caps, sessions, files, settings."""

import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import securinfer as si
from securinfer.serve import LinearModel, ServiceConfig
from securinfer import ciphertext_batch
from securinfer.serve.discovery import discover
from securinfer.serve.parameters import ParameterSet
from securinfer.serve.sessions import SessionStore
from securinfer.serve.uploads import TooLarge, load_public_context


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=8))
def test_container_round_trip(items):
    assert [bytes(v) for v in ciphertext_batch.unpack_items(ciphertext_batch.pack_items(items))] == items


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_container_refuses_any_garbage_cleanly(data):
    try:
        items = ciphertext_batch.unpack_items(data, max_items=4, max_item_bytes=64)
    except si.SerializationError:
        return
    assert ciphertext_batch.pack_items(items) == data      # accepted only if it is a well-formed container


def test_container_caps():
    body = ciphertext_batch.pack_items([b"a" * 10, b"b"])
    with pytest.raises(si.SerializationError, match="at most 1"):
        ciphertext_batch.unpack_items(body, max_items=1)
    with pytest.raises(si.SerializationError, match="at most 5"):
        ciphertext_batch.unpack_items(body, max_item_bytes=5)
    huge = ciphertext_batch.pack_items([b"x"])[:12] + (2**63).to_bytes(8, "little") + b"x"
    with pytest.raises(si.SerializationError, match="truncated"):
        ciphertext_batch.unpack_items(huge)


@pytest.mark.parametrize("description", [{"preset": "fast"}, {"preset": "tenseal"}, {"depth": 3},
                                         {"poly_degree": 8192, "coeff_bits": [60, 40, 40, 60], "scale_bits": 40}])
def test_size_caps_are_the_exact_serialized_sizes(description):
    p = ParameterSet.from_description(description)
    ctx = si.Context.create(**description)
    assert p.fingerprint.hex() == ctx.fingerprint and p.matches(ctx) and p.parameters == ctx.parameters
    assert p.context_bytes(0) == len(ctx.public().serialize())
    ctx.generate_rotation_keys(steps=[1, -3, 17])
    assert p.context_bytes(3) == len(ctx.public().serialize())
    full = ctx.public().encrypt(np.ones(ctx.slots))       # public-key encryption: two full polynomials
    assert p.max_ciphertext_bytes() == len(full.serialize())
    assert len((full * full).serialize()) < p.max_ciphertext_bytes()


def test_parameter_descriptions_are_checked():
    with pytest.raises(si.ParameterError):
        ParameterSet.from_description({"preset": "nope"})
    with pytest.raises(si.ParameterError):
        ParameterSet.from_description({"poly_degree": 8192, "evil": 1})
    with pytest.raises(si.SecurityError):
        ParameterSet.from_description({"poly_degree": 4096, "coeff_bits": [60, 60, 60], "scale_bits": 40})


def test_upload_cap_per_parameters():
    p = ParameterSet.from_description({"preset": "fast"})
    ctx = si.Context.create(preset="fast")
    ctx.generate_rotation_keys(steps=[1, 2])
    data = ctx.public().serialize()
    assert load_public_context(data, {p.fingerprint: (p.parameters, p.context_bytes(2))}).parameters == p.parameters
    with pytest.raises(TooLarge):
        load_public_context(data, {p.fingerprint: (p.parameters, p.context_bytes(1))})
    with pytest.raises(si.ContextMismatchError):
        load_public_context(data, {bytes(32): (p.parameters, 10**9)})
    with pytest.raises(si.SecurityError):
        load_public_context(ctx.serialize(secret_key=True), {p.fingerprint: (p.parameters, 10**9)})
    # Found by fingerprint, admitted only by full equality: parameters that
    # would share a fingerprint (as a forged 64-bit hash once did) are refused.
    other = ParameterSet.from_description({"preset": "tenseal"})
    with pytest.raises(si.ContextMismatchError):
        load_public_context(data, {p.fingerprint: (other.parameters, 10**9)})


def test_session_store_lru_and_ttl_with_a_clock():
    now = [0.0]
    store = SessionStore(max_sessions=3, ttl=10.0, clock=lambda: now[0])
    ids = [store.add(f"ctx{i}", nbytes=i) for i in range(3)]
    assert len(set(ids)) == 3 and all(len(i) >= 40 for i in ids)
    now[0] = 5.0
    store.get(ids[0])                      # refreshes ids[0] only
    now[0] = 12.0                          # ids[1] and ids[2] idle for 12 s > 10 s
    assert store.get(ids[1]) is None and store.get(ids[2]) is None
    assert store.get(ids[0]).context == "ctx0"
    assert store.stats() == {"active": 1, "key_bytes": 0, "created": 3, "evicted": 0, "expired": 2, "closed": 0,
                             "tenants": 1, "max_bytes": None, "tenant_bytes": None}
    more = [store.add("x", nbytes=1) for _ in range(3)]
    assert store.get(ids[0]) is None and store.stats()["evicted"] == 1
    assert store.remove(more[0]) and not store.remove(more[0])


def test_linear_model_save_load_and_untrusted_files(tmp_path, rng):
    W, b = rng.normal(size=(5, 3)), rng.normal(size=3)
    model = LinearModel(W, b, context={"preset": "fast"}, name="m")
    model.save(tmp_path / "m.linear.npz")
    back = LinearModel.load(tmp_path / "m.linear.npz")
    assert back.describe() == model.describe() and np.array_equal(back.weights, W)
    np.savez(tmp_path / "evil.npz", weights=np.array([object()], dtype=object), bias=b, meta=np.array("{}"))
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not a zip")
    np.savez(tmp_path / "wrong.npz", weights=W, bias=np.ones(7), meta=np.array(json.dumps(
        {"format": "securinfer.serve.LinearModel/1", "name": "w", "context": {"preset": "fast"}})))
    for name in ("evil.npz", "junk.npz"):
        with pytest.raises(si.SerializationError):
            LinearModel.load(tmp_path / name)
    with pytest.raises(si.ParameterError):
        LinearModel.load(tmp_path / "wrong.npz")


def test_discovery_by_suffix_and_manifest(tmp_path, rng):
    LinearModel(np.eye(2), context={"preset": "fast"}, name="a").save(tmp_path / "a.linear.npz")
    (tmp_path / "notes.txt").write_text("ignored")
    assert [s.describe()["name"] for s in discover(tmp_path)] == ["a"]
    LinearModel(np.eye(3), context={"preset": "fast"}, name="b").save(tmp_path / "b.npz")
    (tmp_path / "servables.json").write_text(json.dumps({"servables": [{"type": "linear", "path": "b.npz"}]}))
    assert [s.describe()["name"] for s in discover(tmp_path)] == ["b"]
    (tmp_path / "servables.json").write_text(json.dumps({"servables": [{"type": "linear", "path": "../x.npz"}]}))
    with pytest.raises(si.ParameterError, match="inside"):
        discover(tmp_path)
    (tmp_path / "servables.json").write_text(json.dumps({"servables": [{"type": "pickle", "path": "b.npz"}]}))
    with pytest.raises(si.ParameterError, match="unknown servable kind"):
        discover(tmp_path)
    (tmp_path / "servables.json").write_text("{not json")
    with pytest.raises(si.SerializationError):
        discover(tmp_path)


def test_settings_are_checked():
    with pytest.raises(si.ParameterError, match="token"):
        ServiceConfig()
    with pytest.raises(si.ParameterError):
        ServiceConfig(token="short")
    with pytest.raises(si.ParameterError):
        ServiceConfig(token="long-enough-token", max_sessions=0)
    assert ServiceConfig(allow_anonymous=True).token is None
