"""Encrypted 1:N identification and 1:1 verification against plaintext and
encrypted galleries: scores equal numpy's cosine similarities within 1e-3 and
the decisions equal the plaintext ones, on real SFace embeddings."""

import json

import numpy as np
import pytest

import securinfer as si
from securinfer.apps import face
from securinfer.apps.face.compact_probe import EXPANSION_STEPS
from securinfer.apps.face.match import DEFAULT_THRESHOLD

from ._face_data import every_lfw_probe, lfw_embeddings, lfw_variant_embeddings, packed_query_values


def scores_gallery(*args, **kwargs):
    """The galleries of these tests reveal scores (the match mode: test_face_match.py)."""
    return face.Gallery(*args, reveal="scores", **kwargs)


TOL = 1e-3


def cosine(probe, templates):
    probe = probe / np.linalg.norm(probe)
    templates = templates / np.linalg.norm(templates, axis=1, keepdims=True)
    return templates @ probe


@pytest.fixture(scope="module")
def ctx():
    return face.create_context()


def identify(ctx, gallery, probe, k=1):
    """The client's round trip through the server's gallery, from describe() alone."""
    description = json.loads(json.dumps(gallery.describe()))         # what a remote client receives
    answer = gallery(face.encrypt_probe(ctx, probe))
    scores = face.decrypt_scores(ctx, description, answer)
    return scores, face.top_k(scores, k, gallery.labels)


def make_gallery(kind, ctx, templates, labels=None):
    if kind == "plain":
        return scores_gallery(templates, labels)
    return face.EncryptedGallery.enroll(ctx, templates, labels)


@pytest.mark.parametrize("kind", ["plain", "encrypted"])
def test_lfw_identification_matches_plaintext(kind, ctx):
    templates = lfw_embeddings()
    labels = [f"person{i}" for i in range(len(templates))]
    gallery = make_gallery(kind, ctx, templates, labels)
    worst = 0.0
    for person, copies in enumerate(lfw_variant_embeddings()):
        probe = copies[person % 4]                       # mirrored, brighter, darker or cropped photo
        scores, best = identify(ctx, gallery, probe, k=3)
        want = cosine(probe.astype(np.float64), templates.astype(np.float64))
        worst = max(worst, float(np.abs(scores - want).max()))
        assert best[0][0] == labels[int(np.argmax(want))] == labels[person]
        np.testing.assert_allclose([score for _, score in best], np.sort(want)[::-1][:3], atol=TOL)
    print(f"{kind}: max |encrypted - numpy| = {worst:.2e}")
    assert worst < TOL


@pytest.mark.parametrize("kind, compact", [("plain", False), ("plain", True), ("encrypted", False)],
                         ids=["plain-columns", "plain-compact", "encrypted-columns"])
def test_every_lfw_probe_decides_as_plaintext(kind, compact, ctx):
    """All 505 LFW probes scikit-image ships (the 100 faces, their 400 copies,
    the astronaut and her 4) against the 100 faces, scores mode: the top-1
    identity and every decision at the match threshold equal to numpy's. The
    128-ciphertext probe travels 20 to a query, packed in the slots against the
    faces tiled (each pair is the same slot computation as in a query of its
    own); the compact probe one per query (the encrypted scores gallery takes
    the 128-ciphertext probe only)."""
    base = lfw_embeddings().astype(np.float64)
    probes = every_lfw_probe()
    want = probes @ (base / np.linalg.norm(base, axis=1, keepdims=True)).T
    threshold = DEFAULT_THRESHOLD
    if compact:
        keyed = face.create_context()
        keyed.generate_rotation_keys(steps=EXPANSION_STEPS)
        gallery = scores_gallery(base)
        got = np.vstack([face.decrypt_scores(keyed, gallery.describe(), gallery(face.encrypt_probe(keyed, p, compact=True)))
                         for p in probes])
    else:
        n = len(base)
        got = packed_query_values(ctx, make_gallery(kind, ctx, np.tile(base, (ctx.slots // n, 1))), probes, n)
    print(f"{kind}, {'compact' if compact else 'columns'}: max |encrypted - numpy| = {np.abs(got - want).max():.2e}")
    assert np.array_equal(np.argmax(got, axis=1), np.argmax(want, axis=1))
    assert np.array_equal(got >= threshold, want >= threshold) and int((want >= threshold).sum()) == 500
    assert np.abs(got - want).max() < TOL


@pytest.mark.parametrize("kind", ["plain", "encrypted"])
def test_several_blocks_random_templates(kind, ctx, rng):
    n = ctx.slots + 300                                  # two blocks, the second one partly filled
    templates = rng.normal(size=(n, 128))
    gallery = make_gallery(kind, ctx, templates)
    assert gallery.blocks == 2 and gallery.describe()["outputs"]["ciphertexts"] == 2
    probe = templates[n - 5] + 0.3 * rng.normal(size=128)
    scores, best = identify(ctx, gallery, probe)
    want = cosine(probe, templates)
    print(f"{kind}: max error {np.abs(scores - want).max():.2e}")
    np.testing.assert_allclose(scores, want, atol=TOL)
    assert scores.shape == (n,) and best[0][0] == str(n - 5)


def test_plain_gallery_add_across_blocks_and_memory_budget(ctx, rng):
    first, more = rng.normal(size=(ctx.slots - 2, 128)), rng.normal(size=(10, 128))
    gallery = scores_gallery(first)
    probe = rng.normal(size=128)
    identify(ctx, gallery, probe)                        # encodes (and caches) block 0
    gallery.add(more)                                    # block 0 changes, block 1 appears
    both = np.vstack([first, more])
    np.testing.assert_allclose(gallery.templates, both / np.linalg.norm(both, axis=1, keepdims=True), atol=1e-6)
    assert len(gallery) == len(both) and gallery.blocks == 2
    scores, _ = identify(ctx, gallery, probe)
    np.testing.assert_allclose(scores, cosine(probe, np.vstack([first, more])), atol=TOL)
    bounded = scores_gallery(np.vstack([first, more]), max_encoded_bytes=0)
    bounded_scores, _ = identify(ctx, bounded, probe)
    np.testing.assert_allclose(bounded_scores, scores, atol=TOL)
    assert bounded.nbytes["encoded"] == 0 and bounded.nbytes["templates"] > 0


def test_prepare_with_public_context(ctx, rng):
    templates = rng.normal(size=(20, 128))
    gallery = scores_gallery(templates)
    gallery.prepare(ctx.public())
    scores, _ = identify(ctx, gallery, templates[7])
    np.testing.assert_allclose(scores, cosine(templates[7], templates), atol=TOL)


def test_one_to_one_verification_encrypted_gallery(ctx, rng):
    templates = np.vstack([rng.normal(size=(ctx.slots + 10, 128)), lfw_embeddings()[:4]])
    labels = [f"x{i}" for i in range(ctx.slots + 10)] + ["ann", "bob", "cy", "dee"]
    gallery = face.EncryptedGallery.enroll(ctx, templates, labels)
    claimed = gallery.select("cy")
    assert claimed.blocks == 1 and claimed.labels == labels[ctx.slots:]     # the second block only
    for probe_person, expected in ((2, True), (3, False)):
        probe = lfw_variant_embeddings()[probe_person, 0]
        scores, _ = identify(ctx, claimed, probe)
        np.testing.assert_allclose(scores, cosine(probe, templates[ctx.slots:]), atol=TOL)
        want = float(cosine(probe, templates[[ctx.slots + 12]])[0])
        assert face.verify(scores, claimed.labels, "cy", 0.7) == (want >= 0.7) == expected
    with pytest.raises(si.ParameterError):
        gallery.select(["nobody"])
    with pytest.raises(si.ParameterError):
        face.verify(np.zeros(3), ["a", "b", "c"], "d", 0.5)


def test_one_to_one_verification(ctx):
    templates = lfw_embeddings()[:20]
    labels = [f"p{i % 10}" for i in range(20)]           # two templates per identity
    gallery = scores_gallery(templates, labels)
    claimed = gallery.select("p3")
    assert len(claimed) == 2 and claimed.labels == ["p3", "p3"]
    genuine = lfw_variant_embeddings()[3, 1]
    impostor = lfw_variant_embeddings()[5, 1]
    for probe, expected in ((genuine, True), (impostor, False)):
        scores, _ = identify(ctx, claimed, probe)
        want = cosine(probe, templates[[3, 13]])
        np.testing.assert_allclose(scores, want, atol=TOL)
        assert face.is_match(scores, 0.7) == (want.max() >= 0.7) == expected
    with pytest.raises(si.ParameterError):
        gallery.select("nobody")


@pytest.mark.parametrize("kind", ["plain", "encrypted"])
def test_servable_contract(kind, ctx, rng):
    gallery = make_gallery(kind, ctx, rng.normal(size=(3, 128)), ["a", "b", "c"])
    d = gallery.describe()
    assert json.loads(json.dumps(d)) == d
    # A plaintext gallery asks for the compact probe (one ciphertext; one block: B = 16, 5 power-of-two keys).
    steps = [1, 2, 4, 8, 16] if kind == "plain" else []
    assert d["kind"] == "gallery" and d["rotations"] == gallery.required_rotations() == steps
    assert d["encrypted_templates"] == (kind == "encrypted")
    assert d["inputs"]["ciphertexts"] == (1 if kind == "plain" else 128) and d["outputs"]["templates"] == 3
    remote = face.create_context(d)
    assert remote.fingerprint == ctx.fingerprint and remote.rotation_steps == steps
    assert (remote.key_bytes["galois"] == 0) == (kind == "encrypted")


@pytest.mark.parametrize("kind", ["plain", "encrypted"])
def test_save_and_load(kind, ctx, rng, tmp_path):
    templates = rng.normal(size=(40, 128))
    gallery = make_gallery(kind, ctx, templates, [f"id{i}" for i in range(40)])
    path = tmp_path / "gallery.npz"
    gallery.save(path)
    cls = face.Gallery if kind == "plain" else face.EncryptedGallery
    loaded = cls.load(path)
    assert loaded.labels == gallery.labels and loaded.describe() == gallery.describe()
    scores, best = identify(ctx, loaded, templates[11])
    np.testing.assert_allclose(scores, cosine(templates[11], templates), atol=TOL)
    assert best[0][0] == "id11"
    if kind == "encrypted":
        server = si.Context.load(ctx.public().serialize())
        bound = face.EncryptedGallery.load(path, server)
        assert not server.has_secret_key and bound.nbytes["ciphertexts"] > 0
        resaved = tmp_path / "again.npz"
        face.EncryptedGallery.load(path).save(resaved)     # unbound: saved bytes pass through
        assert face.EncryptedGallery.load(resaved).labels == gallery.labels


def test_loading_garbage_or_the_wrong_kind_raises(ctx, rng, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a gallery at all")
    with pytest.raises(si.SerializationError):
        face.Gallery.load(bad)
    plain = tmp_path / "plain.npz"
    scores_gallery(rng.normal(size=(3, 128))).save(plain)
    with pytest.raises(si.SerializationError):
        face.EncryptedGallery.load(plain)
    np.savez(bad, meta=np.frombuffer(b'{"kind": "face.Gallery", "format_version": 1}', dtype=np.uint8),
             templates=np.zeros((1, 128), dtype=np.float32))
    with pytest.raises(si.SerializationError):
        face.Gallery.load(bad)


def test_tampered_files_raise(rng, tmp_path):
    path = tmp_path / "g.npz"
    good = dict(kind="face.Gallery", name="g", parameters=face.FACE_PARAMETERS, labels=["a", "b"])
    cases = [
        (dict(good, labels=["a"]), np.ones((2, 128), np.float32)),                    # labels vs rows
        (good, np.full((2, 128), np.nan, np.float32)),                               # not finite
        (good, np.ones((2, 128), np.float64)),                                       # wrong dtype
        (dict(good, parameters=dict(face.FACE_PARAMETERS, poly_degree=2 ** 30)), np.ones((2, 128), np.float32)),
        (dict(good, parameters=dict(face.FACE_PARAMETERS, coeff_bits="38")), np.ones((2, 128), np.float32)),
    ]
    for meta, templates in cases:
        blob = np.frombuffer(json.dumps(dict(meta, format_version=1)).encode(), dtype=np.uint8)
        np.savez(path, meta=blob, templates=templates)
        with pytest.raises(si.SerializationError):
            face.Gallery.load(path)
    encrypted = tmp_path / "e.npz"
    face.EncryptedGallery.enroll(face.create_context(), rng.normal(size=(3, 128))).save(encrypted)
    with np.load(encrypted) as data:
        arrays = dict(data)
    arrays["offsets"] = arrays["offsets"][:-1]                                     # one ciphertext short
    np.savez(path, **arrays)
    with pytest.raises(si.SerializationError):
        face.EncryptedGallery.load(path)


#: The ring of scores mode before FACE_PARAMETERS moved the product to level 0 (one level, rescaled).
FORMER_PARAMETERS = dict(poly_degree=4096, coeff_bits=[38, 30, 38], scale_bits=30, special_primes=1)


@pytest.mark.parametrize("kind", ["plain", "encrypted"])
def test_galleries_of_the_former_ring_still_score_and_refuse_probes_out_of_depth(kind, rng, tmp_path):
    """A gallery saved with the former ring keeps it (its file holds its parameters):
    it scores at level 1 as before, and a probe at level 0 is out of its depth."""
    ctx = face.create_context(dict(scores_gallery(np.eye(1, 128)).describe(), context=FORMER_PARAMETERS))
    templates = rng.normal(size=(3, 128))
    if kind == "plain":
        made = scores_gallery(templates, parameters=FORMER_PARAMETERS)
    else:
        made = face.EncryptedGallery.enroll(ctx, templates, parameters=FORMER_PARAMETERS)
    made.save(tmp_path / "g.npz")
    gallery = (face.Gallery if kind == "plain" else face.EncryptedGallery).load(tmp_path / "g.npz")
    assert gallery.parameters == FORMER_PARAMETERS
    probe = rng.normal(size=128)
    answer = gallery(face.encrypt_probe(ctx, probe))
    want = templates @ probe / np.linalg.norm(templates, axis=1) / np.linalg.norm(probe)
    assert answer[0].level == 0 and np.abs(face.decrypt_scores(ctx, gallery.describe(), answer) - want).max() < 1e-4
    with pytest.raises(si.LevelError):
        gallery([c.drop_to_level(0) for c in face.encrypt_probe(ctx, probe)])


@pytest.mark.parametrize("kind", ["plain", "encrypted"])
def test_scores_are_level_zero_products_in_the_face_ring(kind, ctx, rng):
    """FACE_PARAMETERS: the probe is at level 0 and its product stays there on
    the product of the scales (2^50), within 1e-4 of numpy."""
    assert ctx.max_level == 0 and face.FACE_PARAMETERS["coeff_bits"] == [53, 56]
    templates = rng.normal(size=(3, 128))
    probe = rng.normal(size=128)
    answer = make_gallery(kind, ctx, templates)(face.encrypt_probe(ctx, probe))
    want = templates @ probe / np.linalg.norm(templates, axis=1) / np.linalg.norm(probe)
    assert answer[0].level == 0 and answer[0].scale == 2.0 ** 50
    assert np.abs(face.decrypt_scores(ctx, face.Gallery(templates, reveal="scores").describe(), answer) - want).max() < 1e-4


def test_noise_flooded_scores_stay_within_tolerance(rng):
    # 30-bit flooding costs about 2^15 * sqrt(N/2) * |e|_2 / scale per score (docs/security.md): at
    # the default 2^30 scale that is all the precision, so scores to be shared need a 2^50 scale.
    templates = rng.normal(size=(50, 128))
    gallery = scores_gallery(templates, parameters=dict(poly_degree=8192, coeff_bits=[60, 50, 60], scale_bits=50))
    ctx = face.create_context(gallery.describe())
    answer = gallery(face.encrypt_probe(ctx, templates[4]))
    scores = face.decrypt_scores(ctx, gallery.describe(), answer, noise_flooding=True)
    np.testing.assert_allclose(scores, cosine(templates[4], templates), atol=TOL)


def test_encrypted_gallery_rejects_probes_under_other_keys(ctx, rng, tmp_path):
    templates = rng.normal(size=(5, 128))
    gallery = face.EncryptedGallery.enroll(ctx, templates)
    stranger = face.create_context()
    with pytest.raises(si.ContextMismatchError):
        gallery(face.encrypt_probe(stranger, templates[0]))
    path = tmp_path / "g.npz"
    gallery.save(path)
    with pytest.raises(si.ContextMismatchError):
        face.EncryptedGallery.load(path)(face.encrypt_probe(stranger, templates[0]))


def test_encrypted_gallery_holds_no_secret_key(ctx, rng):
    gallery = face.EncryptedGallery.enroll(ctx, rng.normal(size=(2, 128)))
    assert all(not c.context.has_secret_key for block in gallery._blocks for c in block)
    with pytest.raises(si.ParameterError):
        face.EncryptedGallery(name="x", parameters=face.FACE_PARAMETERS, labels=[])


@pytest.mark.parametrize("kind", ["plain", "encrypted"])
def test_wrong_probes_raise(kind, ctx, rng):
    gallery = make_gallery(kind, ctx, rng.normal(size=(4, 128)))
    probe = face.encrypt_probe(ctx, rng.normal(size=128))
    with pytest.raises(si.ParameterError):
        gallery(probe[:127])                                       # one coordinate short
    with pytest.raises(si.ParameterError):
        gallery(probe[0])                                          # a ciphertext, not a list
    with pytest.raises(si.ParameterError):
        gallery(probe[:127] + [np.zeros(4)])
    other = si.Context.create(preset="fast")
    with pytest.raises(si.ContextMismatchError):
        gallery([other.encrypt(np.full(other.slots, 0.1))] * 128)  # other parameters
    stranger = face.create_context()
    with pytest.raises(si.ContextMismatchError):
        gallery(probe[:127] + [stranger.encrypt(np.zeros(stranger.slots))])   # mixed keys


def test_wrong_templates_and_client_inputs_raise(ctx, rng):
    for bad in (rng.normal(size=(3, 127)), np.zeros((2, 128)), np.full((1, 128), np.inf), np.zeros((0, 128)),
                np.array([["x"] * 128], dtype=object)):
        with pytest.raises(si.ParameterError):
            scores_gallery(bad)
        with pytest.raises(si.ParameterError):
            face.EncryptedGallery.enroll(ctx, bad)
    with pytest.raises(si.ParameterError):
        scores_gallery(rng.normal(size=(3, 128)), labels=["a"])
    with pytest.raises(si.ContextMismatchError):
        face.EncryptedGallery.enroll(si.Context.create(preset="fast"), rng.normal(size=(2, 128)))
    with pytest.raises(si.ParameterError):
        face.encrypt_probe(ctx, rng.normal(size=64))
    with pytest.raises(si.ParameterError):
        face.encrypt_probe(ctx, rng.normal(size=(2, 128)))
    with pytest.raises(si.ParameterError):
        face.encrypt_probe("not a context", rng.normal(size=128))
    gallery = scores_gallery(rng.normal(size=(3, 128)))
    with pytest.raises(si.ParameterError):
        face.decrypt_scores(ctx, gallery.describe(), [])           # one ciphertext expected
    with pytest.raises(si.ParameterError):
        face.decrypt_scores(ctx, {"kind": "model"}, [])
    with pytest.raises(si.ParameterError):
        face.top_k(np.zeros(3), 0)
    with pytest.raises(si.ParameterError):
        face.is_match([], 0.5)


def test_top_k_against_numpy(rng):
    scores = rng.normal(size=500)
    got = face.top_k(scores, 7)
    order = np.argsort(-scores)[:7]
    assert [int(i) for i, _ in got] == order.tolist()
    np.testing.assert_allclose([s for _, s in got], scores[order])
    assert len(face.top_k(scores[:3], 10)) == 3


def test_concurrent_scoring_fills_the_encoding_cache_safely():
    import threading as _threading

    rng = np.random.default_rng(21)
    gallery = scores_gallery(rng.normal(size=(5000, 128)), threads=1)  # 3 blocks at N=4096
    ctx = face.create_context(gallery.describe())
    probe = face.encrypt_probe(ctx, rng.normal(size=128))
    errors = []

    def score():
        try:
            gallery(probe)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [_threading.Thread(target=score) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    per_block = 128 * (ctx.max_level + 1) * ctx.poly_degree * 8
    assert gallery.nbytes["encoded"] == gallery.blocks * per_block
