"""A gallery sharded over two worker processes answers exactly as one process."""

import operator

import numpy as np
import pytest

import securinfer as si
from securinfer import dist
from securinfer.apps import face

PICKS = [4321, 17, 2500]


def _probe(ctx, templates, i, seed):
    noise = np.random.default_rng(seed).normal(size=128) * 0.2
    return face.encrypt_probe(ctx, templates[i] + noise)


def _cosines(templates, probe_plain):
    t = templates / np.linalg.norm(templates, axis=1, keepdims=True)
    return t @ (probe_plain / np.linalg.norm(probe_plain))


def _assert_same_answer(ctx, reference, distributed, labels):
    want = face.decrypt_scores(ctx, reference.describe(), reference.out)
    got = face.decrypt_scores(ctx, distributed.describe(), distributed.out)
    assert got.shape == want.shape
    print("max |distributed - single process|:", np.abs(got - want).max())
    assert np.abs(got - want).max() <= 1e-6
    assert face.top_k(got, 5, labels) == face.top_k(want, 5, labels)
    return got


@pytest.fixture(scope="module")
def single(templates):
    return face.Gallery(templates, labels=[f"p{i}" for i in range(len(templates))], reveal="scores",
                       probe="columns")      # the shards take the 128-ciphertext probe


def test_plaintext_shards_match_one_process(client, face_ctx, templates, single):
    with dist.ShardedGallery.from_gallery(client, single, shards=3) as sharded:
        assert len(sharded) == len(single) and sharded.blocks == single.blocks == 3
        assert len(sharded.workers) == 2                      # three shards on two workers
        assert sharded.describe() == single.describe()
        for n, i in enumerate(PICKS[:2]):
            probe = _probe(face_ctx, templates, i, n)
            single.out, sharded.out = single(probe), sharded(probe)
            got = _assert_same_answer(face_ctx, single, sharded, single.labels)
            assert face.top_k(got, 1, sharded.labels)[0][0] == f"p{i}"
            plain = templates[i] + np.random.default_rng(n).normal(size=128) * 0.2
            assert np.abs(got - _cosines(templates, plain)).max() < 1e-3     # independent reference


def test_repeated_identifications_do_not_re_encode(client, face_ctx, templates):
    with dist.ShardedGallery.from_templates(client, templates) as sharded:
        probe = _probe(face_ctx, templates, 3, 0)
        first = sharded(probe)
        stats = [s for w in sharded.memory().values() for s in w["objects"].values()]
        assert sum(s["encodings"] for s in stats) == sharded.blocks
        assert all(s["encoded"] > 0 for s in stats)
        second = sharded(_probe(face_ctx, templates, 4, 1))
        again = [s for w in sharded.memory().values() for s in w["objects"].values()]
        assert sum(s["encodings"] for s in again) == sharded.blocks        # nothing encoded again
        assert face.top_k(face_ctx.decrypt(first[0]), 1)[0][0] == "3"
        assert face.top_k(face_ctx.decrypt(second[0]), 1)[0][0] == "4"
    # closed: the workers dropped the shards, and the gallery says so
    assert all(not w["objects"] for w in client.run(dist.tasks.memory, sharded._id).values())
    with pytest.raises(si.ParameterError, match="closed"):
        sharded(probe)


def test_many_probes_in_one_map(client, face_ctx, templates, single):
    probes = [_probe(face_ctx, templates, i, 10 + n) for n, i in enumerate(PICKS)]
    with dist.ShardedGallery.from_gallery(client, single) as sharded:
        answers = sharded.map(probes)
    assert len(answers) == len(probes)
    for probe, answer in zip(probes, answers):
        single.out, holder = single(probe), type("Answer", (), {})()
        holder.out, holder.describe = answer, single.describe
        _assert_same_answer(face_ctx, single, holder, single.labels)


def test_memory_mapped_npy_and_saved_gallery_files(client, face_ctx, templates, tmp_path):
    # shard 0: one whole block of enrolled (unit float32) templates in a .npy;
    # shard 1: a Gallery.save file; shard 2: the partial tail in a .npy
    single = face.Gallery(templates, reveal="scores")
    unit = single.templates
    np.save(tmp_path / "a.npy", unit[:2048])
    face.Gallery(templates[2048:4096], reveal="scores").save(tmp_path / "b.npz")
    np.save(tmp_path / "c.npy", unit[4096:])
    paths = [str(tmp_path / "a.npy"), str(tmp_path / "b.npz"), str(tmp_path / "c.npy")]
    probe = _probe(face_ctx, templates, 4500, 3)
    single.out = single(probe)
    with dist.ShardedGallery.from_files(client, paths) as sharded:
        assert len(sharded) == len(templates) and sharded.blocks == 3
        sharded.out = sharded(probe)
        _assert_same_answer(face_ctx, single, sharded, None)
        stats = {k: s for w in sharded.memory().values() for k, s in w["objects"].items()}
        by_shard = [stats[s["id"]] for s in sharded.shards]
        assert by_shard[0]["mapped"] == 2048 * 128 * 4 and by_shard[0]["templates"] == 0
        assert by_shard[1]["templates"] > 0 and by_shard[1]["mapped"] == 0
    # raw (not unit, float64) rows on disk are normalised by the worker: same ranking
    np.save(tmp_path / "raw.npy", templates[:2048] * 3.0)
    with dist.ShardedGallery.from_files(client, [str(tmp_path / "raw.npy")]) as raw:
        got = face.decrypt_scores(face_ctx, raw.describe(), raw(probe))
    want = face.decrypt_scores(face_ctx, single.describe(), single.out)[:2048]
    assert np.abs(got - want).max() < 1e-4 and face.top_k(got, 5) == face.top_k(want, 5)


def test_misaligned_files_are_refused(client, templates, tmp_path):
    np.save(tmp_path / "a.npy", templates[:1000])
    np.save(tmp_path / "b.npy", templates[1000:1100])
    with pytest.raises(si.ParameterError, match="multiple of the block size"):
        dist.ShardedGallery.from_files(client, [str(tmp_path / "a.npy"), str(tmp_path / "b.npy")])
    bad = templates[:10].copy()
    bad[3] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(si.ParameterError, match="finite"):
        dist.ShardedGallery.from_files(client, [str(tmp_path / "nan.npy")])
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(si.SerializationError):
        dist.ShardedGallery.from_files(client, [str(tmp_path / "junk.npz")])
    assert all(not w["objects"] for w in client.run(dist.tasks.memory, "securinfer-gallery").values())


def test_encrypted_template_shards_match_one_process(client, face_ctx, templates):
    enrolled = face.EncryptedGallery.enroll(face_ctx, templates[:4500], labels=[f"e{i}" for i in range(4500)])
    probe = _probe(face_ctx, templates, 2222, 4)
    with dist.ShardedGallery.from_encrypted(client, enrolled) as sharded:
        assert sharded.encrypted and sharded.labels == enrolled.labels
        assert sharded.describe() == enrolled.describe()
        enrolled.out, sharded.out = enrolled(probe), sharded(probe)
        got = _assert_same_answer(face_ctx, enrolled, sharded, enrolled.labels)
        assert face.top_k(got, 1, sharded.labels)[0][0] == "e2222"
        other = face.create_context()                 # a probe under other keys cannot use these templates
        with pytest.raises(si.ContextMismatchError):
            sharded(face.encrypt_probe(other, templates[0]))


def test_workers_never_hold_a_secret_key(client, face_ctx, templates):
    with dist.ShardedGallery.from_templates(client, templates[:3000]) as sharded:
        assert face_ctx.has_secret_key                # the probe's own context has it...
        sharded(_probe(face_ctx, templates, 5, 5))
        report = dist.audit_workers(client)
        # a pickled ciphertext sent as a plain task argument finds its (public) context there
        probe = face.encrypt_probe(face_ctx, templates[6])
        sizes = client.gather([client.submit(operator.attrgetter("size"), probe[0], workers=[w], pure=False)
                               for w in sharded.workers])
        assert sizes == [probe[0].size] * len(sharded.workers)
    assert len(report) == 2
    for worker in report.values():                    # ...but the workers received public contexts only
        assert worker["contexts"] >= 1 and worker["cached"] >= 1
        assert worker["secret_keys"] == 0
    assert all(w["secret_keys"] == 0 for w in dist.audit_workers(client).values())


def test_bad_inputs_raise_securinfer_errors(client, face_ctx, templates):
    with pytest.raises(si.ParameterError, match="distributed.Client"):
        dist.ShardedGallery.from_templates("tcp://127.0.0.1:8786", templates)
    with pytest.raises(si.ParameterError, match="unknown workers"):
        dist.ShardedGallery.from_templates(client, templates, workers=["tcp://127.0.0.1:1"])
    with pytest.raises(si.ParameterError, match="shards"):
        dist.ShardedGallery.from_templates(client, templates, shards=0)
    with pytest.raises(si.ParameterError):
        dist.ShardedGallery.from_templates(client, templates[:, :64])
    with pytest.raises(si.ParameterError):
        dist.ShardedGallery.from_gallery(client, templates)
    with pytest.raises(si.ParameterError):
        dist.ShardedGallery(client, [], [], name="x", parameters={})
    with dist.ShardedGallery.from_templates(client, templates[:100]) as sharded:
        probe = face.encrypt_probe(face_ctx, templates[0])
        with pytest.raises(si.ParameterError, match="128 ciphertexts"):
            sharded(probe[:127])
        with pytest.raises(si.ParameterError):
            sharded(probe[0])
        fast = si.Context.create(preset="fast")
        with pytest.raises(si.ContextMismatchError):
            sharded([fast.encrypt(np.ones(4))] * 128)
        other = face.create_context()
        with pytest.raises(si.ContextMismatchError):
            sharded(probe[:64] + face.encrypt_probe(other, templates[0])[:64])
