"""Server time for one encrypted probe against 1,000,000 templates, wall
clock and CPU seconds, for three thread layouts (results_face.md).

"core threads" is ``si.set_num_threads`` (threads inside each core call),
"block threads" the gallery's pool over blocks. CPU seconds
(``time.process_time``) show the work when other jobs share the cores.
The encrypted gallery reuses 16 distinct encrypted blocks for its 489 (see
test_bench_face.py). Needs about 6 GB of memory. ``--former-ring`` runs the
scores ring before ``FACE_PARAMETERS`` moved the product to level 0
(``[38, 30, 38]``, scale 2^30: two limbs), for an A/B in one session.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/face_million.py [--former-ring]
"""

from __future__ import annotations

import sys
import time

import numpy as np

import securinfer as si
from securinfer.apps import face
from securinfer.apps.face.encrypted_gallery import EncryptedGallery

N_TEMPLATES = 1_000_000
POOL_BLOCKS = 16
LAYOUTS = [(1, 1), (1, 2), (2, 2)]     # (core threads, block threads)
FORMER_RING = dict(poly_degree=4096, coeff_bits=[38, 30, 38], scale_bits=30, special_primes=1)


def unit_vectors(rng, n):
    v = rng.normal(size=(n, 128)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def measure(gallery, probe_cts, label):
    for core_threads, block_threads in LAYOUTS:
        si.set_num_threads(core_threads)
        gallery.threads = block_threads
        gallery(probe_cts)                                  # warm-up
        runs = []
        for _ in range(3):
            wall, cpu = time.perf_counter(), time.process_time()
            gallery(probe_cts)
            runs.append((time.perf_counter() - wall, time.process_time() - cpu))
        wall, cpu = min(runs)
        load = open("/proc/loadavg").read().split()[0]
        print(f"{label}: core threads {core_threads}, block threads {block_threads}: "
              f"wall {wall:.2f} s, cpu {cpu:.2f} s, load average {load}", flush=True)


def main(parameters):
    ctx = si.Context.create(**parameters)
    print(f"ring {parameters}", flush=True)
    rng = np.random.default_rng(1)
    templates = unit_vectors(rng, N_TEMPLATES)
    probe_cts = face.encrypt_probe(ctx, templates[0].astype(np.float64))

    gallery = face.Gallery(templates, reveal="scores", parameters=parameters)
    start = time.perf_counter()
    gallery.prepare(ctx.public())
    print(f"prepare: {time.perf_counter() - start:.1f} s, memory {gallery.nbytes}", flush=True)
    measure(gallery, probe_cts, "plaintext gallery")
    del gallery

    pool = EncryptedGallery.enroll(ctx, unit_vectors(rng, POOL_BLOCKS * ctx.slots), parameters=parameters)
    blocks = -(-N_TEMPLATES // ctx.slots)
    encrypted = EncryptedGallery(name="pooled", parameters=dict(parameters),
                                 labels=[str(i) for i in range(N_TEMPLATES)],
                                 blocks=[pool._blocks[b % POOL_BLOCKS] for b in range(blocks)], _private=True)
    measure(encrypted, probe_cts, "encrypted gallery")


if __name__ == "__main__":
    main(FORMER_RING if "--former-ring" in sys.argv[1:] else dict(face.FACE_PARAMETERS))
