"""An encrypted gallery that reveals only the match (``EncryptedGallery.enroll(...,
reveal="match")``): decisions against numpy and against the plaintext gallery
on LFW, the reconstruction attack, both probe forms, files, and refusals.

Sizes as in test_face_match.py: the default ring (N = 32768, norm check) for
LFW on a few compact probes; the mechanics and the attack in its smaller
ring (TEST_RING, N = 16384, no norm check).
"""

import numpy as np
import pytest

import securinfer as si
from securinfer.apps import face
from securinfer.apps.face.compact_probe import EXPANSION_STEPS, baby_step_keys
from securinfer.apps.face.match import MATCH_PARAMETERS, decode_bits
from securinfer.errors import ContextMismatchError, LevelError, MissingKeyError, ParameterError, SerializationError

from ._face_data import astronaut_embeddings, lfw_embeddings, lfw_variant_embeddings, packed_query_values
from .test_face_match import TEST_RING, TEST_RULE, _least_squares_attack

SMALL = dict(TEST_RULE, norm_check=False)


def small_enroll(ctx, templates, labels=None, **kwargs):
    return face.EncryptedGallery.enroll(ctx, templates, labels, reveal="match", parameters=TEST_RING,
                                        **dict(SMALL, **kwargs))


@pytest.fixture(scope="module")
def small_ctx():
    ctx = face.create_context(face.Gallery(np.eye(1, 128), parameters=TEST_RING, **SMALL).describe())
    ctx.generate_rotation_keys(steps=EXPANSION_STEPS, conjugation=True)
    return ctx


def _unit(rows):
    rows = np.asarray(rows, dtype=np.float64)
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def test_lfw_matches_identical_to_the_plaintext_gallery():
    """Default ring and rule (norm check), compact probe: the encrypted gallery
    decides as the plaintext one and as numpy on LFW probes; what the client
    decrypts is the bit plus the server's noise."""
    ctx = face.create_context(reveal="match")
    assert ctx.coeff_bits == MATCH_PARAMETERS["coeff_bits"] and ctx.has_conjugation_key
    base = lfw_embeddings()
    labels = [f"p{i}" for i in range(len(base))]
    encrypted = face.EncryptedGallery.enroll(ctx, base, labels, reveal="match")
    plain = face.Gallery(base, labels=labels)
    desc = encrypted.describe()
    assert desc["reveal"] == "match" and desc["encrypted_templates"] and desc["match"] == plain.describe()["match"]
    assert desc["rotations"] == baby_step_keys(encrypted.baby) and desc["inputs"]["form"] == "compact"
    assert encrypted.required_rotations() == plain.required_rotations()
    for probe in [lfw_variant_embeddings()[3, 2], astronaut_embeddings()[0]]:
        probe_cts = face.encrypt_probe(ctx, probe, compact=True)
        answer = encrypted(probe_cts)
        assert len(answer) == 1 and answer[0].level == 0
        want = [labels[i] for i in np.flatnonzero(_unit(base) @ _unit(probe) >= plain.rule.threshold)]
        assert face.decrypt_matches(ctx, desc, answer, labels) == want
        assert face.decrypt_matches(ctx, plain.describe(), plain(probe_cts), labels) == want
        values = ctx.decrypt(answer[0], complex=True)[: len(base)]
        bits = np.isin(labels, want).astype(float)
        assert np.max(np.abs(values - bits)) < 0.5
        assert 0.02 < np.std(values.real - bits) < 0.12 and 0.02 < np.std(values.imag) < 0.12
    with pytest.raises(ParameterError, match="decrypt_matches"):
        face.decrypt_scores(ctx, desc, answer)


@pytest.mark.parametrize("form", ["compact", "columns"])
def test_decisions_equal_numpy(small_ctx, form):
    """Random templates with near copies planted (for the compact probe in
    both blocks of a two-block gallery: its giant steps and the block order)."""
    rng = np.random.default_rng(7)
    n = small_ctx.slots + 40 if form == "compact" else 300      # the 128-ciphertext probe: one block suffices
    templates = _unit(rng.normal(size=(n, 128)))
    probe = _unit(rng.normal(size=128))
    for i in (3, 100, n // 2 + 5, n - 1):                          # copies of the probe, noisy
        templates[i] = _unit(probe + 0.3 * rng.normal(size=128) / np.sqrt(128))
    gallery = small_enroll(small_ctx, templates, probe=form)
    assert gallery.blocks == (2 if form == "compact" else 1) and gallery.probe == form
    answer = gallery(face.encrypt_probe(small_ctx, probe, compact=form == "compact"))
    scores = templates @ probe
    certain = np.abs(scores - gallery.rule.threshold) >= gallery.rule.margin
    got = np.array(face.decrypt_matches(small_ctx, gallery.describe(), answer))
    want = np.flatnonzero(scores >= gallery.rule.threshold)
    assert len(want) == 4 and certain.all()
    assert got.tolist() == want.tolist()
    if form == "compact":          # B = 128 (no giant step), as a gallery of a million templates uses
        wide = small_enroll(small_ctx, templates[:300], baby_step=128)
        assert wide.required_rotations() == baby_step_keys(128)
        answer = wide(face.encrypt_probe(small_ctx, probe, compact=True))
        assert face.decrypt_matches(small_ctx, wide.describe(), answer) == [int(i) for i in want if i < 300]


def test_reconstruction_attack_fails_against_the_encrypted_match_gallery(small_ctx):
    """The least-squares attack of test_face_match.py, fed the raw decrypted
    values of an encrypted match gallery: noise, not the templates."""
    rng = np.random.default_rng(18)
    n = 6
    templates = _unit(rng.normal(size=(n, 128)))
    probes = _unit(rng.normal(size=(128, 128)))
    gallery = small_enroll(small_ctx, np.tile(templates, (small_ctx.slots // n, 1)), probe="columns")
    raw = packed_query_values(small_ctx, gallery, probes, n)
    assert np.array_equal(decode_bits(raw), probes @ templates.T >= gallery.rule.threshold)
    copied = np.sum(_least_squares_attack(raw, probes) * templates, axis=1)
    assert np.max(np.abs(copied)) < 0.4


def test_save_load_select_and_the_client_helper(small_ctx, tmp_path):
    from securinfer import servable

    base = lfw_embeddings()[:12]
    labels = [f"p{i}" for i in range(12)]
    gallery = small_enroll(small_ctx, base, labels)
    gallery.save(tmp_path / "g.npz")
    loaded = face.EncryptedGallery.load(tmp_path / "g.npz")
    assert loaded.rule == gallery.rule and (loaded.probe, loaded.baby) == (gallery.probe, gallery.baby)
    assert loaded.describe() == gallery.describe()
    helper = servable.client_for(loaded.describe())
    probe = helper.encrypt(small_ctx, lfw_variant_embeddings()[4, 1])
    assert len(probe) == 1                                      # the compact form the description names
    assert helper.decrypt(small_ctx, loaded(probe)).tolist() == [4]
    claimed = loaded.select("p4")                               # 1:1: the block holding p4
    assert claimed.rule == gallery.rule and face.decrypt_matches(
        small_ctx, claimed.describe(), claimed(probe), claimed.labels) == ["p4"]
    # The scores mode's files still load as scores galleries (no rule in the header).
    scores_ctx = face.create_context()
    face.EncryptedGallery.enroll(scores_ctx, base[:2]).save(tmp_path / "s.npz")
    assert face.EncryptedGallery.load(tmp_path / "s.npz").reveal == "scores"


@pytest.mark.parametrize("edit", [
    lambda m: m.update(rule={"reveal": "match", "threshold": 0.5}),
    lambda m: m["rule"].update(threshold="high"),
    lambda m: m["rule"].update(answer_noise=5.0),
    lambda m: m.update(baby=3),
    lambda m: m.update(baby=True),
    lambda m: m.update(probe="columns"),                       # a baby step without the compact form
    lambda m: m.update(probe="diagonal"),
    lambda m: m.pop("rule"),
])
def test_malformed_match_headers_are_refused(small_ctx, tmp_path, edit):
    from securinfer.servable import store

    small_enroll(small_ctx, np.eye(2, 128)).save(tmp_path / "g.npz")
    meta, arrays = store.read_any(tmp_path / "g.npz")
    edit(meta)
    store.write(tmp_path / "bad.npz", meta["kind"], meta, **arrays)
    with pytest.raises(SerializationError):
        face.EncryptedGallery.load(tmp_path / "bad.npz")


def test_refusals(small_ctx, tmp_path):
    templates = np.eye(3, 128)
    with pytest.raises(ParameterError, match="reveal"):
        face.EncryptedGallery.enroll(small_ctx, templates, reveal="bits")
    with pytest.raises(ParameterError, match="match' only"):
        face.EncryptedGallery.enroll(face.create_context(), templates, threshold=0.5)
    with pytest.raises(ParameterError, match="match' only"):
        face.EncryptedGallery.enroll(face.create_context(), templates, baby_step=16)
    with pytest.raises(ParameterError, match="probe"):
        small_enroll(small_ctx, templates, probe="diagonal")
    for bad in (3, True, 256):
        with pytest.raises(ParameterError, match="baby_step"):
            small_enroll(small_ctx, templates, baby_step=bad)
    with pytest.raises(ParameterError, match="compact probe only"):
        small_enroll(small_ctx, templates, probe="columns", baby_step=16)
    with pytest.raises(ContextMismatchError):                     # the scores ring cannot threshold
        face.EncryptedGallery.enroll(face.create_context(), templates, reveal="match")
    with pytest.raises(ParameterError, match="secret key"):
        small_enroll(small_ctx.public(), templates)
    with pytest.raises(LevelError):                               # the norm check needs one level more
        small_enroll(small_ctx, templates, norm_check=True)
    with pytest.raises(ParameterError, match="not both"):
        face.create_context({"kind": "gallery"}, reveal="match")
    with pytest.raises(ParameterError, match="reveal"):
        face.create_context(reveal="everything")
    compact, columns = small_enroll(small_ctx, templates), small_enroll(small_ctx, templates, probe="columns")
    with pytest.raises(ParameterError, match="compact"):
        compact(face.encrypt_probe(small_ctx, templates[0]))       # 128 ciphertexts for a compact gallery
    with pytest.raises(ParameterError):
        columns(face.encrypt_probe(small_ctx, templates[0], compact=True))
    bare = face.create_context(columns.describe())                # conjugation, no rotation key
    with pytest.raises(MissingKeyError, match="rotation keys"):
        small_enroll(bare, templates)(face.encrypt_probe(bare, templates[0], compact=True))
    stranger = face.create_context(compact.describe())
    with pytest.raises(ContextMismatchError):
        compact(face.encrypt_probe(stranger, templates[0], compact=True))
    shallow = face.encrypt_probe(small_ctx, templates[0], compact=True)[0].drop_to_level(3)
    with pytest.raises(LevelError):
        compact([shallow])
    compact.save(tmp_path / "m.npz")                               # dist shards answer scores only
    shard = pytest.importorskip("securinfer.dist.shard")
    with pytest.raises(ParameterError, match="only matches"):
        shard.build_shard("file", str(tmp_path / "m.npz"), None)
