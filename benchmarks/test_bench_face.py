"""Encrypted face identification (1:N): server time to score an encrypted
128-D probe against galleries of 1,000 to 1,000,000 templates, with the
parameters of ``securinfer.apps.face`` (N = 4096, [53, 56], scale 2^25: the
product stays at level 0 on 2^50, in both libraries).

- ``plain``: plaintext gallery, columns encoded once (``Gallery.prepare``),
  ``si.linalg.combine_plain`` per block of 2,048 templates;
- ``encrypted``: gallery encrypted by the enrolling client,
  ``si.linalg.sum_of_products`` per block. Past 100,000 templates the
  gallery reuses 16 distinct encrypted blocks (268 MB, far larger than the
  caches) instead of holding 489 (8.2 GB): the work and the memory traffic
  per query are those of a full gallery, the machine's memory is spared;
- ``tenseal``: TenSEAL's coordinate method on the same ring (128 encrypted
  coordinates times plaintext or encrypted columns, one product and one
  rescale per term), at 1,000 and 10,000 templates;
- ``alternatives``: other packings of one block, for docs/face.md: one probe
  ciphertext times the gallery as a matrix (BSGS diagonal method, rotations),
  and rows packed 16 to a ciphertext, multiplied, then rotate-and-sum.

Sizes (probe upload, answer download, gallery memory) go into extra_info.
``SECURINFER_BENCH_FACE_MAX`` (default 1000000) caps the gallery sizes.

    OPENBLAS_NUM_THREADS=1 pytest benchmarks/test_bench_face.py --benchmark-group-by=group \\
        --benchmark-columns=min,median,max,rounds
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import securinfer as si
from securinfer.apps import face
from securinfer.apps.face.compact_probe import EXPANSION_STEPS, expand
from securinfer.apps.face.encrypted_gallery import EncryptedGallery
from securinfer.linalg.reductions import block_sum, block_sum_steps

from _bench_common import OURS, TENSEAL, assert_close, set_info, ts

MAX = int(os.environ.get("SECURINFER_BENCH_FACE_MAX", "1000000"))
SIZES = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= MAX]
TENSEAL_SIZES = [n for n in (1_000, 10_000) if n <= MAX]
POOL_BLOCKS = 16
P = face.FACE_PARAMETERS


@pytest.fixture
def nthreads(request):
    """Thread count for securinfer (its pool and the gallery's block threads), restored after."""
    before = si.get_num_threads()
    si.set_num_threads(request.param)
    yield request.param
    si.set_num_threads(before)


def unit_vectors(rng, n):
    v = rng.normal(size=(n, 128))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def client():
    ctx = face.create_context()
    probe = unit_vectors(np.random.default_rng(7), 1)[0].astype(np.float64)
    return ctx, probe, face.encrypt_probe(ctx, probe)


_GALLERIES = {}


def gallery_for(kind, n, ctx):
    """(gallery, templates in score order), built once per module: the
    largest take minutes to build."""
    key = (kind, n)
    if key not in _GALLERIES:
        _GALLERIES.clear()               # one gallery alive at a time: memory stays bounded
        rng = np.random.default_rng(n)
        if kind == "plain":
            g = face.Gallery(unit_vectors(rng, n), reveal="scores")
            g.prepare(ctx.public())
            templates = g.templates
        elif n <= 100_000:
            templates = unit_vectors(rng, n)
            g = EncryptedGallery.enroll(ctx, templates)
        else:
            pool_templates = unit_vectors(rng, POOL_BLOCKS * ctx.slots)
            pool = EncryptedGallery.enroll(ctx, pool_templates)
            blocks = -(-n // ctx.slots)
            g = EncryptedGallery(name="pooled", parameters=dict(P), labels=[str(i) for i in range(n)],
                                 blocks=[pool._blocks[b % POOL_BLOCKS] for b in range(blocks)], _private=True)
            templates = pool_templates[np.arange(n) % len(pool_templates)]
        _GALLERIES[key] = (g, templates)
    return _GALLERIES[key]


def sizes(gallery, probe_cts, answer) -> dict:
    if isinstance(gallery, EncryptedGallery):      # per block times blocks: what distinct blocks would hold
        memory = sum(c.nbytes for c in gallery._blocks[0]) * gallery.blocks
    else:
        memory = sum(gallery.nbytes.values())
    return {"upload_bytes": sum(len(c.serialize()) for c in probe_cts),
            "answer_bytes": sum(len(c.serialize()) for c in answer),
            "gallery_bytes": int(memory), "bytes_per_template": round(memory / len(gallery), 1)}


@pytest.mark.parametrize("nthreads", [1, 2], ids=lambda t: f"t{t}", indirect=True)
@pytest.mark.parametrize("kind", ["plain", "encrypted"])
@pytest.mark.parametrize("n", SIZES, ids=lambda n: f"n{n}")
def test_identify(benchmark, client, kind, n, nthreads):
    ctx, probe, probe_cts = client
    gallery, templates = gallery_for(kind, n, ctx)
    answer = benchmark.pedantic(gallery, args=(probe_cts,), rounds=3, iterations=1, warmup_rounds=1)
    set_info(benchmark, group=f"face 1:N {kind} gallery, {n:,} templates", library=OURS, kind="face",
             gallery=kind, templates=n, threads=nthreads, **sizes(gallery, probe_cts, answer))
    scores = face.decrypt_scores(ctx, gallery.describe(), answer)
    assert_close(scores, templates @ probe, tol=1e-3)


# --------------------------------------------------------------------------- TenSEAL, same ring
@pytest.fixture(scope="module")
def tenseal_client():
    if ts is None:
        pytest.skip("tenseal is not installed")
    probe = unit_vectors(np.random.default_rng(7), 1)[0].astype(np.float64)
    return probe


@pytest.mark.parametrize("kind", ["plain", "encrypted"])
@pytest.mark.parametrize("n", TENSEAL_SIZES, ids=lambda n: f"n{n}")
def test_identify_tenseal(benchmark, tenseal_client, kind, n, threads):
    probe = tenseal_client
    tctx = ts.context(ts.SCHEME_TYPE.CKKS, P["poly_degree"], coeff_mod_bit_sizes=P["coeff_bits"], n_threads=threads)
    tctx.global_scale = 2.0 ** P["scale_bits"]
    # FACE_PARAMETERS has no level to rescale into: the products stay at level 0, as in ours.
    tctx.auto_rescale = len(P["coeff_bits"]) - P["special_primes"] > 1
    slots = P["poly_degree"] // 2
    templates = unit_vectors(np.random.default_rng(n), n).astype(np.float64)
    padded = np.zeros((-(-n // slots) * slots, 128))
    padded[:n] = templates
    columns = [padded[b * slots:(b + 1) * slots].T for b in range(len(padded) // slots)]
    if kind == "plain":
        columns = [[col.tolist() for col in block] for block in columns]
    else:
        columns = [[ts.ckks_vector(tctx, col.tolist()) for col in block] for block in columns]
    probe_cts = [ts.ckks_vector(tctx, [float(v)] * slots) for v in probe]

    def identify():
        answer = []
        for block in columns:
            acc = probe_cts[0] * block[0]
            for c, col in zip(probe_cts[1:], block[1:]):
                acc += c * col
            answer.append(acc)
        return answer

    answer = benchmark.pedantic(identify, rounds=3, iterations=1, warmup_rounds=0)
    set_info(benchmark, group=f"face 1:N {kind} gallery, {n:,} templates", library=TENSEAL, kind="face",
             gallery=kind, templates=n, threads=threads,
             upload_bytes=sum(len(c.serialize()) for c in probe_cts),
             answer_bytes=sum(len(c.serialize()) for c in answer))
    scores = np.concatenate([np.array(a.decrypt()) for a in answer])[:n]
    assert_close(scores, templates @ probe, tol=1e-3)


# --------------------------------------------------------------------------- other packings, one block
@pytest.fixture(scope="module")
def one_block():
    rng = np.random.default_rng(3)
    ctx = face.create_context()
    return ctx, unit_vectors(rng, ctx.slots).astype(np.float64), unit_vectors(rng, 1)[0].astype(np.float64)


def test_alternative_coordinates(benchmark, one_block, threads):
    """The chosen packing, one block of 2,048 templates (the reference)."""
    ctx, templates, probe = one_block
    gallery = face.Gallery(templates, reveal="scores")
    gallery.prepare(ctx.public())
    probe_cts = face.encrypt_probe(ctx, probe)
    answer = benchmark(gallery, probe_cts)
    set_info(benchmark, group="face packings, 2,048 templates", library=OURS, kind="face-packing",
             packing="128 coordinate ciphertexts x columns", templates=len(templates), threads=threads,
             upload_bytes=sum(len(c.serialize()) for c in probe_cts), galois_key_bytes=0)
    assert_close(ctx.decrypt(answer[0]), templates @ probe, tol=1e-3)


def test_alternative_compact_probe(benchmark, one_block, threads):
    """The compact probe (the plaintext gallery's default): one ciphertext,
    expanded by the server with 127 hoisted rotations (7 power-of-two keys),
    then the same 128 products per block against diagonal-encoded columns.
    The time is one probe against one block: expansion included."""
    ctx, templates, probe = one_block
    keyed = face.create_context()
    keyed.generate_rotation_keys(steps=EXPANSION_STEPS)
    gallery = face.Gallery(templates, reveal="scores")
    gallery.prepare(keyed.public())
    probe_cts = face.encrypt_probe(keyed, probe, compact=True)
    answer = benchmark(gallery, probe_cts)
    set_info(benchmark, group="face packings, 2,048 templates", library=OURS, kind="face-packing",
             packing="one replicated probe ciphertext, expanded once, x diagonals", templates=len(templates),
             threads=threads, upload_bytes=len(probe_cts[0].serialize()), galois_key_bytes=keyed.key_bytes["galois"],
             rotations=len(EXPANSION_STEPS))
    assert_close(keyed.decrypt(answer[0]), templates @ probe, tol=1e-3)


def test_compact_probe_expansion(benchmark, one_block):
    """The server's per-probe cost of the compact probe alone: 127 rotations."""
    ctx, _, probe = one_block
    keyed = face.create_context()
    keyed.generate_rotation_keys(steps=EXPANSION_STEPS)
    probe_ct = face.encrypt_probe(keyed, probe, compact=True)[0]
    rotations = benchmark(expand, probe_ct)
    set_info(benchmark, group="face compact probe expansion", library=OURS, kind="face-packing", rotations=127)
    assert_close(keyed.decrypt(rotations[5])[:123], probe[5:128], tol=1e-3)


def test_alternative_diagonal_bsgs(benchmark, one_block, threads):
    """One probe ciphertext times the gallery block as a 128 x cols matrix
    (``si.linalg.LinearTransform``: 128 diagonals, baby-step giant-step rotations).
    cols = slots - 127 keeps the replicated layout. In the former face ring
    ([38, 30, 38]: the transform rescales)."""
    _, templates, probe = one_block
    # A transform rescales after its products: the former face ring, whose product runs at level 1.
    ctx = si.Context.create(poly_degree=4096, coeff_bits=[38, 30, 38], scale_bits=30, special_primes=1)
    cols = ctx.slots - 127
    lt = si.linalg.LinearTransform(ctx, templates[:cols].T)
    keyed = ctx
    keyed.generate_rotation_keys(steps=lt.required_rotations())
    lt = si.linalg.LinearTransform(keyed, templates[:cols].T)
    x = keyed.encrypt(probe)
    y = benchmark(lt.apply, x)
    set_info(benchmark, group="face packings, 2,048 templates", library=OURS, kind="face-packing",
             packing=f"one probe ciphertext x matrix (BSGS), {cols} templates", templates=cols, threads=threads,
             upload_bytes=len(x.serialize()), galois_key_bytes=keyed.key_bytes["galois"],
             rotations=len(lt.required_rotations()))
    assert_close(keyed.decrypt(y), templates[:cols] @ probe, tol=1e-3)


def test_alternative_rows_rotate_and_sum(benchmark, one_block, threads):
    """Probe replicated 16 times in one ciphertext; templates packed 16 to a
    plaintext (row-major); product then 7 rotate-and-add steps per 16 templates."""
    ctx, templates, probe = one_block
    keyed = face.create_context()
    keyed.generate_rotation_keys(steps=block_sum_steps(128))
    per = keyed.slots // 128
    count = 256                                   # 16 plaintexts: the cost per template is what matters
    rows = [si.linalg.EncodedColumns(keyed, templates[k * per:(k + 1) * per].reshape(1, -1))
            for k in range(count // per)]
    x = keyed.encrypt(np.tile(probe, per))

    def identify():
        return [block_sum(si.linalg.combine_plain([x], r), 128) for r in rows]

    answer = benchmark.pedantic(identify, rounds=3, iterations=1)
    set_info(benchmark, group="face packings, 2,048 templates", library=OURS, kind="face-packing",
             packing=f"rows packed 16 per ciphertext + rotate-and-sum, {count} templates (x8 for 2,048)",
             templates=count, threads=threads, upload_bytes=len(x.serialize()),
             galois_key_bytes=keyed.key_bytes["galois"])
    scores = np.concatenate([keyed.decrypt(a)[::128][:per] for a in answer])
    assert_close(scores, templates[:count] @ probe, tol=1e-3)
