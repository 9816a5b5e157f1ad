"""The compact probe: one ciphertext per probe, scored by the server by
baby-step giant-step, gives the same scores (numpy's cosine similarities)
and the same decisions as the 128-ciphertext probe, in both reveal modes,
for every baby step B and with whatever keys the client made."""

import json

import numpy as np
import pytest

import securinfer as si
from securinfer.apps import face
from securinfer.apps.face.compact_blocks import CompactBlocks
from securinfer.apps.face.compact_probe import (BABY_STEPS, EXPANSION_STEPS, baby_rotations, baby_step_keys,
                                                choose_baby_step, diagonals, expand, giant_diagonals, replicate)
from securinfer.apps.face.match import decode_bits

# The match mechanics run in the smaller ring of test_face_match.py (same circuit, N = 16384).
SMALL_MATCH = dict(poly_degree=16384, coeff_bits=[26] + [24] * 16 + [28], scale_bits=24, special_primes=1)


def unit(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def ctx():
    c = face.create_context()
    c.generate_rotation_keys(steps=EXPANSION_STEPS)
    return c


def test_diagonals_match_a_direct_loop():
    rng = np.random.default_rng(1)
    cols = rng.normal(size=(128, 256))
    d = diagonals(cols, 256)
    for r in (0, 1, 77, 127):
        for j in (0, 5, 200, 255):
            assert d[r, j] == cols[(j + r) % 128, j]
    # sum_r roll(probe, -r) * diagonal_r is the column product, slot by slot
    p = rng.normal(size=128)
    rep = replicate(p, 256)
    got = sum(np.roll(rep, -r) * d[r] for r in range(128))
    assert np.allclose(got, cols.T @ p)


def test_giant_diagonals_are_the_rotated_diagonals():
    rng = np.random.default_rng(11)
    cols = rng.normal(size=(128, 512))
    d = diagonals(cols, 512)
    for baby in (2, 16, 128):
        for giant in range(0, 128 // baby, max(1, 128 // baby // 3)):
            g = giant_diagonals(cols, 512, baby, giant)
            for b in (0, baby - 1):
                assert np.array_equal(g[b], np.roll(d[giant * baby + b], giant * baby))


@pytest.mark.parametrize("baby", [2, 16, 128])
def test_baby_step_giant_step_block_score_equals_numpy(ctx, baby):
    """sum_g rot_{gB}(sum_b rot_b(p) * rot_{-gB}(diag_{gB+b})): the inner product, slot by slot, for each B."""
    rng = np.random.default_rng(12)
    # Unit templates and probe, as the gallery and face.encrypt_probe make them (the face
    # ring holds values up to about 4 at level 0: FACE_PARAMETERS).
    cols = rng.normal(size=(1, 128, ctx.slots))
    cols /= np.linalg.norm(cols, axis=1, keepdims=True)
    p = rng.normal(size=128)
    p /= np.linalg.norm(p)
    babies = baby_rotations(ctx.encrypt(replicate(p, ctx.slots)), baby)
    assert len(babies) == baby
    got = ctx.decrypt(CompactBlocks(lambda b: cols[b], ctx.slots).score(babies, ctx, ctx.max_level, 0))
    assert np.abs(got - p @ cols[0]).max() < 1e-3


def test_choose_baby_step_and_its_keys():
    assert choose_baby_step(1) == 16 and choose_baby_step(62) == 128       # 15 + 7 rotations; the full expansion
    assert choose_baby_step(4) == 32
    assert baby_step_keys(16) == [1, 2, 4, 8, 16] and baby_step_keys(128) == EXPANSION_STEPS
    assert choose_baby_step(62, keys=[1, 2, 4, 8, 16]) == 16                # the best these keys allow
    with pytest.raises(si.MissingKeyError, match=r"\[1, 2, 4, 8, 16\]"):
        choose_baby_step(1, keys=[2, 4, 8, 16, 32, 64])                      # no key 1: no baby step at all
    assert set(BABY_STEPS) == {2, 4, 8, 16, 32, 64, 128}


def test_a_grown_gallery_answers_with_the_keys_its_clients_made():
    """Keys follow B from the block count; a gallery that grew past them uses the best B its client's keys allow."""
    rng = np.random.default_rng(13)
    templates = rng.normal(size=(4 * 2048, 128))
    gallery = face.Gallery(templates[:100], reveal="scores")
    assert gallery.required_rotations() == [1, 2, 4, 8, 16]
    cctx = face.create_context(gallery.describe())
    assert cctx.rotation_steps == [1, 2, 4, 8, 16]
    gallery.add(templates[100:])                                            # 4 blocks: B = 32 preferred
    assert gallery.required_rotations() == [1, 2, 4, 8, 16, 32]
    probe = templates[5000] + 0.1 * rng.normal(size=128)
    got = face.decrypt_scores(cctx, gallery.describe(), gallery(face.encrypt_probe(cctx, probe, compact=True)))
    assert np.abs(got - unit(templates) @ unit(probe)).max() < 1e-3


def test_expand_gives_every_rotation(ctx):
    p = np.random.default_rng(2).normal(size=128)
    rep = replicate(p, ctx.slots)
    rotations = expand(ctx.encrypt(rep))
    assert len(rotations) == 128
    for r in (0, 1, 3, 64, 100, 127):
        assert np.abs(ctx.decrypt(rotations[r]) - np.roll(rep, -r)).max() < 1e-3


def test_compact_scores_equal_numpy_and_the_columns_probe(ctx):
    rng = np.random.default_rng(3)
    templates = rng.normal(size=(ctx.slots + 300, 128))            # two blocks, the second partial
    gallery = face.Gallery(templates, reveal="scores")
    d = json.loads(json.dumps(gallery.describe()))
    probe = templates[ctx.slots + 7] + 0.3 * rng.normal(size=128)
    compact = face.encrypt_probe(ctx, probe, compact=True)
    assert len(compact) == 1 and d["inputs"]["ciphertexts"] == 1
    want = unit(templates) @ unit(probe)
    got = face.decrypt_scores(ctx, d, gallery(compact))
    assert np.abs(got - want).max() < 1e-3
    # the 128-ciphertext probe still works against the same gallery
    old = face.decrypt_scores(ctx, d, gallery(face.encrypt_probe(ctx, probe)))
    assert np.abs(old - want).max() < 1e-3
    assert face.top_k(got, 1)[0][0] == str(ctx.slots + 7)
    # the upload: one ciphertext instead of 128
    assert len(compact[0].serialize()) * 100 < sum(len(c.serialize()) for c in face.encrypt_probe(ctx, probe))


def test_remote_client_round_trip_from_describe_alone():
    rng = np.random.default_rng(4)
    templates = rng.normal(size=(50, 128))
    gallery = face.Gallery(templates, labels=[f"p{i}" for i in range(50)], reveal="scores")
    client = face.Gallery.client(json.loads(json.dumps(gallery.describe())))
    cctx = client.create_context()                   # makes the 7 rotation keys the description asks for
    probe_cts = client.encrypt(cctx, templates[9])
    assert len(probe_cts) == 1
    scores = client.decrypt(cctx, gallery(probe_cts))
    assert np.abs(scores - unit(templates) @ unit(templates[9])).max() < 1e-3


def test_compact_match_mode_decisions_equal_plaintext():
    rule = dict(threshold=0.5, margin=0.08)            # 12 levels of step + product + norm check
    rng = np.random.default_rng(5)
    templates = unit(rng.normal(size=(40, 128)))
    probe = unit(templates[3] + 0.02 * rng.normal(size=128))
    templates[11] = unit(probe + 0.06 * rng.normal(size=128))
    gallery = face.Gallery(templates, parameters=SMALL_MATCH, **rule)
    mctx = face.create_context(gallery.describe())
    assert mctx.rotation_steps == gallery.required_rotations() == [1, 2, 4, 8, 16]     # B = 16, one block
    cos = templates @ probe
    assert np.all(np.abs(cos - rule["threshold"]) > rule["margin"])   # no template in the band
    want = [int(i) for i in np.flatnonzero(cos >= rule["threshold"])]
    assert len(want) >= 2
    answer = gallery(face.encrypt_probe(mctx, probe, compact=True))
    assert face.decrypt_matches(mctx, gallery.describe(), answer) == want
    values = mctx.decrypt(answer[0])[:40].real
    assert np.array_equal(decode_bits(values), cos >= rule["threshold"])


def test_compact_probe_refusals(ctx):
    gallery = face.Gallery(np.eye(4, 128), reveal="scores")
    bare = face.create_context()                      # no rotation key
    with pytest.raises(si.MissingKeyError):
        gallery(face.encrypt_probe(bare, np.ones(128), compact=True))
    two = face.encrypt_probe(ctx, np.ones(128), compact=True) * 2
    with pytest.raises(si.ParameterError):
        gallery(two)                                  # neither 1 nor 128 ciphertexts
    with pytest.raises(si.ParameterError):
        face.EncryptedGallery.enroll(ctx, np.eye(4, 128))(face.encrypt_probe(ctx, np.ones(128), compact=True))
    with pytest.raises(si.ParameterError):
        face.Gallery(np.eye(4, 128), probe="diagonal")
    with pytest.raises(si.ParameterError):
        face.create_context(dict(gallery.describe(), rotations=[3]))    # a gallery asks for no other key
