"""Regression tests from the review of the face app (hostile clients, edge cases).

Match-mode tests run the default ring's circuit (same depth, scale 2^24)
in a ring of N = 4096: NOT 128-bit secure (``security=None``, tests only),
16 times cheaper than test_face_match.py's secure N = 16384 ring."""

import warnings

import numpy as np
import pytest

import securinfer as si
from securinfer.apps import face
from securinfer.apps.face.match import decode_bits
from securinfer.errors import MissingKeyError

#: Same depth and circuit as test_face_match.py's TEST_RING, insecure N = 4096 (tests only).
TEST_RING = dict(poly_degree=4096, coeff_bits=[26] + [24] * 16 + [28], scale_bits=24, special_primes=1)


def insecure_context(description, conjugation=True):
    """What face.create_context makes, without the 128-bit check (N = 4096)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = si.Context.create(**description["context"], security=None)
    ctx.generate_rotation_keys(steps=description["rotations"], conjugation=conjugation)
    return ctx
#: 12 levels of step: fits TEST_RING with the norm check.
NORM_RULE = dict(threshold=0.6694, margin=0.08)


def _templates_at(p0, cosines, rng):
    other = rng.normal(size=(len(cosines), 128))
    other -= np.outer(other @ p0, p0)
    other /= np.linalg.norm(other, axis=1, keepdims=True)
    return cosines[:, None] * p0 + np.sqrt(1 - cosines[:, None] ** 2) * other


@pytest.fixture(scope="module")
def norm_gallery_and_ctx():
    rng = np.random.default_rng(21)
    p0 = rng.normal(size=128)
    p0 /= np.linalg.norm(p0)
    cosines = np.array([0.2, 0.5, 0.55, 0.79, 0.95])
    gallery = face.Gallery(_templates_at(p0, cosines, rng), parameters=TEST_RING, norm_check=True, **NORM_RULE)
    ctx = insecure_context(gallery.describe())
    return gallery, ctx, p0, cosines, rng


def test_complex_probe_cannot_cheat_the_norm_check(norm_gallery_and_ctx):
    """A slot is complex and a ciphertext product does not conjugate: for the
    probe p = lambda u + i mu v (v orthogonal to u, mu^2 = lambda^2 - 1) the
    server's encrypted "squared norm" sum_d p_d^2 is exactly 1, so before the
    fix the norm check saw a unit probe while the real part, lambda u, compared
    every score with threshold / lambda: at lambda = 1.5 the templates at
    0.5 and 0.55 matched (the probe-scaling attack, reopened). The server now
    thresholds the real part only: the decision is the AM-GM one of the probe
    lambda u, score >= threshold (lambda + 1 / lambda) / 2 (0.725 here)."""
    gallery, ctx, p0, cosines, rng = norm_gallery_and_ctx
    lam = 1.5
    v = rng.normal(size=128)
    v -= (v @ p0) * p0
    v /= np.linalg.norm(v)
    p = lam * p0 + 1j * np.sqrt(lam ** 2 - 1) * v
    assert abs(np.sum(p * p) - 1) < 1e-12                      # what the old norm check computed
    answer = gallery([ctx.encrypt(np.tile(p, ctx.slots // 128))])     # the compact layout, bypassing encrypt_probe
    bits = decode_bits(ctx.decrypt(answer[0])[: len(cosines)])
    t = gallery.rule.threshold
    assert np.array_equal(bits, cosines >= t * (lam + 1 / lam) / 2)
    assert not np.any(bits & (cosines < t))                    # nothing the honest unit probe misses


def test_match_gallery_asks_for_and_needs_the_conjugation_key(norm_gallery_and_ctx):
    gallery, ctx, p0, _, _ = norm_gallery_and_ctx
    assert gallery.describe()["conjugation"] is True and ctx.has_conjugation_key
    assert "conjugation" not in face.Gallery(np.eye(2, 128), reveal="scores").describe()
    assert face.create_context(face.Gallery(np.eye(2, 128), reveal="scores").describe()).has_conjugation_key is False
    no_conj = insecure_context(gallery.describe(), conjugation=False)
    with pytest.raises(MissingKeyError, match="conjugation"):
        gallery(face.encrypt_probe(no_conj, p0, compact=True))


@pytest.fixture(scope="module")
def scores_ctx():
    return face.create_context(face.Gallery(np.eye(1, 128), reveal="scores").describe())


def test_probe_shorter_than_the_slots_is_refused(scores_ctx):
    """``ctx.encrypt(probe)`` (a 128-long vector) instead of encrypt_probe used
    to score silently wrong (error 0.36 on cosines; a length-1 columns probe
    scored 0 for everything): every slot is read, so each probe ciphertext
    must fill them all."""
    from securinfer.errors import ShapeError

    ctx = scores_ctx
    rng = np.random.default_rng(3)
    t = rng.normal(size=(5, 128))
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    gallery = face.Gallery(t, reveal="scores")
    good = face.decrypt_scores(ctx, gallery.describe(), gallery(face.encrypt_probe(ctx, t[2], compact=True)))
    assert np.abs(good - t @ t[2]).max() < 1e-3
    for bad in ([ctx.encrypt(t[2])], [ctx.encrypt(np.tile(t[2], 2))], [ctx.encrypt([v]) for v in t[2]]):
        with pytest.raises(ShapeError, match="slots"):
            gallery(bad)
    enc = face.EncryptedGallery.enroll(ctx, t[:2])
    with pytest.raises(ShapeError, match="slots"):
        enc([ctx.encrypt([v]) for v in t[2]])


def test_enrolment_during_a_query_leaves_no_stale_encoding(scores_ctx):
    """A query encodes a block (outside the cache's lock) while an enrolment
    changes it: the old encoding was cached after the enrolment's
    forget_from, so every later query scored the new templates 0 (the probe
    equal to template 4 scored 0 with it). Simulated deterministically: the
    enrolment runs inside the query's encoding of block 0."""
    ctx = scores_ctx
    rng = np.random.default_rng(4)
    t = rng.normal(size=(6, 128))
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    gallery = face.Gallery(t[:3], reveal="scores", probe="columns")
    encoded = gallery._encoded
    columns, enrolled = encoded._columns, []

    def columns_then_enrol(b):
        out = columns(b)
        if not enrolled:
            enrolled.append(True)
            gallery.add(t[3:])                  # finishes while the query is encoding the old block
        return out

    encoded._columns = columns_then_enrol
    probe = face.encrypt_probe(ctx, t[4])
    gallery(probe)
    encoded._columns = columns
    scores = face.decrypt_scores(ctx, gallery.describe(), gallery(probe))
    assert np.abs(scores - t @ t[4]).max() < 1e-3


def test_concurrent_enrolments_lose_no_template(monkeypatch):
    """Two ``add`` calls at once: both read the partly filled last block, and
    the later write dropped the other's templates while keeping its labels
    (labels and templates then disagree: 4 labels, 2 real templates, zero rows
    for the rest, silently). The second enrolment is started while the first
    is between its read and its write."""
    import threading

    from securinfer.apps.face import gallery as gallery_module

    rng = np.random.default_rng(5)
    t = rng.normal(size=(4, 128))
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    gallery = face.Gallery(t[:1], labels=["a"], reveal="scores")
    real_block_columns, other = gallery_module.block_columns, []

    def block_columns_meanwhile(*args, **kwargs):
        if not other:
            other.append(threading.Thread(target=gallery.add, args=(t[3:], ["d"])))
            other[0].start()
            other[0].join(timeout=0.5)          # with the lock it waits for this enrolment to finish
        return real_block_columns(*args, **kwargs)

    monkeypatch.setattr(gallery_module, "block_columns", block_columns_meanwhile)
    gallery.add(t[1:3], ["b", "c"])
    other[0].join()
    by_label = dict(zip(gallery.labels, gallery.templates))
    assert sorted(by_label) == ["a", "b", "c", "d"] and len(gallery) == 4
    for i, label in enumerate("abcd"):
        assert np.abs(by_label[label] - t[i]).max() < 1e-6


def test_saved_match_rule_with_a_string_number_is_refused_at_load():
    """A saved gallery whose rule held ``"answer_noise": "0.05"`` loaded (the
    checks called float() on it) and kept the string: every query then failed
    with a TypeError inside the noise's arithmetic, not a securinfer error."""
    import io

    from securinfer.errors import ParameterError, SerializationError
    from securinfer.servable import store

    for field, value in (("answer_noise", "0.05"), ("threshold", "0.6694"), ("margin", True)):
        rule = dict({"reveal": "match", "threshold": 0.6694, "margin": 0.08, "norm_check": True}, **{field: value})
        buf = io.BytesIO()
        store.write(buf, "gallery", {"name": "x", "parameters": TEST_RING, "labels": ["a"], "rule": rule,
                                     "probe": "compact"}, templates=np.eye(1, 128, dtype=np.float32))
        with pytest.raises(SerializationError, match=field):
            face.Gallery.load(io.BytesIO(buf.getvalue()))
        with pytest.raises(ParameterError, match=field):
            face.Gallery(np.eye(1, 128), parameters=TEST_RING, **{k: v for k, v in rule.items() if k != "reveal"})
    rule = face.Gallery(np.eye(1, 128), parameters=TEST_RING, threshold=np.float32(0.5), margin=1 / 8).rule
    assert type(rule.threshold) is float and rule.threshold == 0.5


def test_the_probe_is_rerandomised_before_any_key_switch(norm_gallery_and_ctx):
    """Key switching is deterministic and the keys are the client's: from a
    probe it can predict bit for bit, a client with crafted keys chooses what
    a switch returns (docs/face.md, "A hostile client"). The server first
    adds a fresh encryption of 0: the same probe gives different ciphertexts
    each time, each still 2 Re(p)."""
    gallery, ctx, p0, _, rng = norm_gallery_and_ctx
    p = np.tile(p0 + 0.3j * rng.normal(size=128), ctx.slots // 128)
    probe = ctx.encrypt(p)
    first, second = gallery.rule.real_probe([probe])[0], gallery.rule.real_probe([probe])[0]
    assert first.serialize() != second.serialize()
    for q in (first, second):
        assert q.level == probe.level
        assert np.abs(ctx.decrypt(q) - 2 * p.real).max() < 1e-3


@pytest.mark.parametrize("field, value", [("scale_bits", 2 ** 40), ("scale_bits", -(2 ** 63)), ("scale_bits", 5),
                                          ("coeff_bits", [38, 0, 38]), ("special_primes", 3)])
def test_saved_gallery_with_out_of_range_parameters_is_refused_at_load(scores_ctx, field, value):
    """A saved gallery whose parameters said scale_bits = 2^40 loaded; the
    first probe then raised OverflowError (ZeroDivisionError for -2^63) in the
    parameter check, not a securinfer error. Found by mutating every header
    field of saved servables (values Context.create refuses are refused at load)."""
    import io

    from securinfer.errors import SerializationError
    from securinfer.servable import store

    for gallery in (face.Gallery(np.eye(2, 128), reveal="scores"), face.EncryptedGallery.enroll(scores_ctx, np.eye(2, 128))):
        buf = io.BytesIO()
        gallery.save(buf)
        meta, arrays = store.read_any(io.BytesIO(buf.getvalue()))
        meta["parameters"][field] = value
        kind = meta.pop("kind")
        meta.pop("format_version")
        crafted = io.BytesIO()
        store.write(crafted, kind, meta, **arrays)
        with pytest.raises(SerializationError, match="parameters"):
            type(gallery).load(io.BytesIO(crafted.getvalue()))


def test_probe_with_a_crafted_scale_is_answered_as_a_scaled_probe(norm_gallery_and_ctx):
    """A probe whose serialized scale is not its level's (crafted bytes: the
    values read 1 / factor times larger) loses a level when re-randomised;
    the columns were encoded at the probe's original level, so the query
    failed with a LevelError from deep inside combine_plain. It is now
    answered like the probe scaled by lambda = 1.25: the norm check's
    AM-GM threshold (0.686) decides."""
    import struct

    gallery, ctx, p0, cosines, _ = norm_gallery_and_ctx
    probe = ctx.encrypt(np.tile(p0, ctx.slots // 128))
    data = bytearray(probe.serialize())
    at = bytes(data).find(struct.pack("<d", probe.scale))
    data[at:at + 8] = struct.pack("<d", probe.scale / 1.25)
    crafted = si.Ciphertext.load(bytes(data), ctx)
    assert np.abs(ctx.decrypt(crafted)[:128].real - 1.25 * p0).max() < 1e-4
    bits = decode_bits(ctx.decrypt(gallery([crafted])[0])[: len(cosines)])
    t = gallery.rule.threshold
    assert np.array_equal(bits, cosines >= t * (1.25 + 1 / 1.25) / 2)


@pytest.mark.parametrize("kwargs", [dict(threads="2"), dict(threads=2.5), dict(threads=0),
                                    dict(max_encoded_bytes="1e9"), dict(max_encoded_bytes=-5)])
def test_gallery_settings_are_checked_when_given(kwargs):
    """``threads="2"`` or ``max_encoded_bytes="1e9"`` were kept as given and the
    first query raised TypeError ('<=' between str and int) inside the block
    loop; threads=2.5 or -1 ran silently one block at a time."""
    from securinfer.errors import ParameterError

    with pytest.raises(ParameterError, match=next(iter(kwargs))):
        face.Gallery(np.eye(2, 128), reveal="scores", **kwargs)
    gallery = face.Gallery(np.eye(2, 128), reveal="scores", threads=2, max_encoded_bytes=0)
    import io

    saved = io.BytesIO()
    gallery.save(saved)
    with pytest.raises(ParameterError, match=next(iter(kwargs))):       # the caller's error, not the file's
        face.Gallery.load(io.BytesIO(saved.getvalue()), **kwargs)
    if "max_encoded_bytes" in kwargs:
        with pytest.raises(ParameterError):
            gallery.max_encoded_bytes = kwargs["max_encoded_bytes"]
