"""Face identification that reveals only the match (``reveal="match"``, the
default): server time per block of 16,384 templates in the default ring
(``face.MATCH_PARAMETERS``: N = 32768, 20 levels, the norm check on), sizes, and the decisions
on every LFW probe scikit-image ships against plaintext.

The LFW check packs many probes into one query: the 100 templates are tiled
across the 16,384 slots and probe k fills slots 100 k .. 100 k + 99 of the
128 coordinate ciphertexts. The server runs the ordinary ``Gallery`` on the
tiled templates (the same circuit, slot by slot), so 505 probes (the 100
faces, their 400 same-person copies, the astronaut and her 4 copies) take
4 queries.

    OPENBLAS_NUM_THREADS=1 pytest benchmarks/test_bench_face_match.py --benchmark-columns=min,median,rounds -s

The context carries the compact probe's rotation keys (the gallery's
``describe()["rotations"]``); ``-k one_block`` times one block per probe form,
``-k per_probe`` the server's whole answer to one compact probe (what a client
waits for) for 100 templates and for one full block, with its CPU seconds.
``-k encrypted`` runs the encrypted gallery's match mode (``EncryptedGallery.enroll(...,
reveal="match")``): one block split into per-probe and per-block time, and
every LFW probe.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from securinfer.apps import face
from securinfer.apps.face.match import decode_bits

from _bench_common import OURS, set_info

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.apps._face_data import every_lfw_probe, lfw_embeddings, packed_query_values  # noqa: E402


@pytest.fixture(scope="module")
def ctx():
    return face.create_context(face.Gallery(np.eye(1, 128)).describe())


@pytest.mark.parametrize("form", ["compact", "columns"])
def test_match_one_block(benchmark, ctx, form):
    """One block, the probe as one ciphertext (expanded by the server: 127
    rotations per probe, whatever the gallery's size) or as 128."""
    rng = np.random.default_rng(0)
    templates = rng.normal(size=(ctx.slots, 128))
    templates /= np.linalg.norm(templates, axis=1, keepdims=True)
    probe = templates[5] + 0.02 * rng.normal(size=128)
    probe /= np.linalg.norm(probe)
    gallery = face.Gallery(templates, probe=form)
    gallery.prepare(ctx.public())
    probe_cts = face.encrypt_probe(ctx, probe, compact=form == "compact")
    expansion = 0.0
    if form == "compact":            # the probe's baby rotations (per probe; giant ones are per block)
        from securinfer.apps.face.compact_probe import baby_rotations, choose_baby_step

        start = time.perf_counter()
        baby_rotations(probe_cts[0], choose_baby_step(gallery.blocks, ctx.rotation_steps))
        expansion = time.perf_counter() - start
    answer = benchmark.pedantic(gallery, args=(probe_cts,), rounds=2, iterations=1, warmup_rounds=0)
    set_info(benchmark, group="face 1:N reveal=match, one block", library=OURS, kind="face-match",
             templates=len(templates), levels=gallery.rule.levels, poly_degree=gallery.parameters["poly_degree"],
             probe_form=form, expansion_s=round(expansion, 2),
             upload_bytes=sum(len(c.serialize()) for c in probe_cts), answer_bytes=len(answer[0].serialize()),
             galois_key_bytes=ctx.key_bytes["galois"] if form == "compact" else 0,
             encoded_bytes=gallery.nbytes["encoded"])
    assert face.decrypt_matches(ctx, gallery.describe(), answer) == \
        [int(i) for i in np.flatnonzero(templates @ probe >= gallery.rule.threshold)]
    print("sizes", benchmark.extra_info)


@pytest.mark.parametrize("templates", [100, 16384])
def test_match_per_probe(benchmark, templates):
    """Server time for one compact probe (the default form and ring), end to
    end: re-randomisation and real part, rotations, products, the step, the
    noise. The columns are encoded before (``prepare``), as a server does once."""
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(templates, 128))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    gallery = face.Gallery(rows)
    cctx = face.create_context(gallery.describe())
    gallery.prepare(cctx.public())
    probe = rows[5] + 0.02 * rng.normal(size=128)
    probe /= np.linalg.norm(probe)
    probe_cts = face.encrypt_probe(cctx, probe, compact=True)
    cpu = []

    def query():
        start = time.process_time()
        answer = gallery(probe_cts)
        cpu.append(time.process_time() - start)
        return answer

    answer = benchmark.pedantic(query, rounds=2, iterations=1, warmup_rounds=0)
    set_info(benchmark, group="face 1:N reveal=match, per probe", library=OURS, kind="face-match",
             templates=templates, rotation_keys=len(cctx.rotation_steps), cpu_s=round(min(cpu), 2),
             galois_key_bytes=cctx.key_bytes["galois"])
    assert face.decrypt_matches(cctx, gallery.describe(), answer) == \
        [int(i) for i in np.flatnonzero(rows @ probe >= gallery.rule.threshold)]
    print("per probe", benchmark.extra_info)


def test_match_one_block_norm_checked(benchmark):
    """One block with the norm check (the default) in ``face.MATCH_PARAMETERS``;
    the 128-ciphertext probe (no rotation key). Prints the largest |value - bit|
    before the answer noise (noise 1e-12 here)."""
    from securinfer.apps.face.match import MATCH_PARAMETERS as NORM_CHECKED_PARAMETERS

    rng = np.random.default_rng(0)
    gallery = face.Gallery(np.eye(1, 128), parameters=NORM_CHECKED_PARAMETERS, norm_check=True,
                           answer_noise=1e-12, probe="columns")
    nctx = face.create_context(gallery.describe())
    templates = rng.normal(size=(nctx.slots, 128))
    templates /= np.linalg.norm(templates, axis=1, keepdims=True)
    probe = templates[5] + 0.02 * rng.normal(size=128)
    probe /= np.linalg.norm(probe)
    gallery = face.Gallery(templates, parameters=NORM_CHECKED_PARAMETERS, norm_check=True,
                           answer_noise=1e-12, probe="columns")
    gallery.prepare(nctx.public())
    probe_cts = face.encrypt_probe(nctx, probe)
    answer = benchmark.pedantic(gallery, args=(probe_cts,), rounds=2, iterations=1, warmup_rounds=0)
    scores = templates @ probe
    values = nctx.decrypt(answer[0]).real
    outside = np.abs(scores - gallery.rule.threshold) >= gallery.rule.margin
    error = float(np.abs(values - (scores >= gallery.rule.threshold))[outside].max())
    set_info(benchmark, group="face 1:N reveal=match, one block", library=OURS, kind="face-match",
             templates=len(templates), levels=gallery.rule.levels, norm_check=True,
             poly_degree=NORM_CHECKED_PARAMETERS["poly_degree"], max_error_log2=round(float(np.log2(error)), 1))
    assert np.array_equal(values > 0.5, scores >= gallery.rule.threshold)
    print("norm-checked", benchmark.extra_info)


@pytest.mark.parametrize("gallery_kind", ["plain", "encrypted"])
def test_match_every_lfw_probe(benchmark, ctx, gallery_kind):
    """Every decision of every LFW probe, packed as the module docstring says;
    ``encrypted``: an encrypted match gallery (``EncryptedGallery.enroll(...,
    reveal="match", probe="columns")``) enrolled with the templates tiled."""
    base = lfw_embeddings().astype(np.float64)
    probes = every_lfw_probe()
    n = len(base)
    per_query = ctx.slots // n
    tiled = np.tile(base, (per_query, 1))
    if gallery_kind == "plain":
        gallery = face.Gallery(tiled)
        gallery.prepare(ctx.public())
    else:
        gallery = face.EncryptedGallery.enroll(ctx, tiled, reveal="match", probe="columns")
    want = probes @ (base / np.linalg.norm(base, axis=1, keepdims=True)).T >= gallery.rule.threshold

    def run_all():
        return decode_bits(packed_query_values(ctx, gallery, probes, n))

    got = benchmark.pedantic(run_all, rounds=1, iterations=1, warmup_rounds=0)
    set_info(benchmark, group="face 1:N reveal=match, every LFW probe", library=OURS, kind="face-match",
             gallery=gallery_kind, probes=len(probes), queries=-(-len(probes) // per_query),
             decisions=int(want.size), matches=int(want.sum()))
    assert np.array_equal(got, want)          # every decision of every probe, as in the clear
    print(gallery_kind, "LFW", len(probes), "probes,", int(want.sum()), "matches of", want.size, "decisions: identical")


@pytest.mark.parametrize("baby", [16, 128])
def test_encrypted_match_one_block(benchmark, baby):
    """An encrypted gallery that reveals only the match (``EncryptedGallery.enroll(...,
    reveal="match")``), one full block, the compact probe, per probe end to
    end, one core thread. ``baby=128`` is the layout of a million templates
    (62 blocks): there a probe costs its expansion once (real part and
    re-randomisation, 127 rotations, squares: ``expansion_s``) plus 62 blocks
    of ``block_s`` each, timed apart (min of 2): ``projected_1m_s``."""
    from securinfer import get_num_threads, set_num_threads

    threads = get_num_threads()
    set_num_threads(1)
    rng = np.random.default_rng(0)
    cctx = face.create_context(reveal="match")
    rows = rng.normal(size=(cctx.slots, 128))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    start = time.perf_counter()
    gallery = face.EncryptedGallery.enroll(cctx, rows, reveal="match", baby_step=baby)
    enrol = time.perf_counter() - start
    probe = rows[5] + 0.02 * rng.normal(size=128)
    probe /= np.linalg.norm(probe)
    probe_cts = face.encrypt_probe(cctx, probe, compact=True)

    def timed(f, *args):
        start = time.perf_counter()
        out = f(*args)
        return out, time.perf_counter() - start

    expansion, block = [], []
    for _ in range(2):
        expanded, t = timed(lambda: gallery._expand(gallery.rule.prepare_probe(probe_cts)[0][0]))
        expansion.append(t)
        block.append(timed(gallery._answer_block, 0, *expanded)[1])
    answer = benchmark.pedantic(gallery, args=(probe_cts,), rounds=2, iterations=1, warmup_rounds=0)
    set_num_threads(threads)
    set_info(benchmark, group="face 1:N reveal=match, encrypted gallery, one block", library=OURS,
             kind="face-match-encrypted", templates=len(rows), baby_step=baby, threads=1,
             expansion_s=round(min(expansion), 2), block_s=round(min(block), 2),
             projected_1m_s=round(min(expansion) + 62 * min(block), 1), enrol_s=round(enrol, 1),
             gallery_bytes_per_block=gallery.nbytes["ciphertexts"],
             upload_bytes=len(probe_cts[0].serialize()), answer_bytes=len(answer[0].serialize()))
    assert face.decrypt_matches(cctx, gallery.describe(), answer) == \
        [int(i) for i in np.flatnonzero(rows @ probe >= gallery.rule.threshold)]
    print("encrypted one block", benchmark.extra_info)
