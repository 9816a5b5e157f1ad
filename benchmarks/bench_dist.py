"""Speed-up of a face gallery sharded over Dask workers against one process.

Usage (from the repository root)::

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_dist.py --templates 200000 --reps 5

Measures, for a gallery of random unit templates with the face parameters
(N = 4096, 2,048 templates per block): one process with 1 and with 2 core
threads, then ``--workers`` Dask worker processes of 1 thread each on
loopback; time per identification (median of ``--reps``, after the columns
are encoded), the one-time encoding, worker memory, and the bytes per
template of each storage form. Prints Markdown.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time

import numpy as np
import psutil


def median_time(fn, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def rss():
    return psutil.Process().memory_info().rss


def cpu_seconds(dask_worker=None):
    """CPU time (user + system) of this process so far (a worker's with ``client.run``)."""
    t = psutil.Process().cpu_times()
    return t.user + t.system


def cpu_per_call(fn, reps, client=None):
    """CPU seconds per call, summed over this process and the workers: less
    sensitive than wall time to other jobs on a shared machine."""
    before = cpu_seconds() + (sum(client.run(cpu_seconds).values()) if client else 0.0)
    for _ in range(reps):
        fn()
    after = cpu_seconds() + (sum(client.run(cpu_seconds).values()) if client else 0.0)
    return (after - before) / reps


def main():
    import securinfer as si
    from securinfer import dist
    from securinfer.apps import face

    parser = argparse.ArgumentParser()
    parser.add_argument("--templates", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    templates = rng.normal(size=(args.templates, 128)).astype(np.float32)
    ctx = face.create_context()
    pick = args.templates // 3
    probe = face.encrypt_probe(ctx, templates[pick] + 0.1 * rng.normal(size=128).astype(np.float32))
    rows = []

    # ---- one process
    reference = None
    for threads in (1, 2):
        si.set_num_threads(threads)
        before = rss()
        # Encoding on one Python thread (the core still uses `threads`): the
        # face Gallery's encoding cache is not safe to fill from several threads.
        gallery = face.Gallery(templates, threads=1, reveal="scores")
        t = time.perf_counter()
        gallery.prepare(ctx.public())
        encode_s = time.perf_counter() - t
        gallery.threads = threads
        med, best = median_time(lambda: gallery(probe), args.reps)
        cpu = cpu_per_call(lambda: gallery(probe), args.reps)
        scores = face.decrypt_scores(ctx, gallery.describe(), gallery(probe))
        reference = scores if reference is None else reference
        rows.append((f"one process, {threads} thread(s)", med, best, cpu, encode_s,
                     f"{(rss() - before) / 2**20:,.0f} MiB (process growth)"))
        per_template = {k: v / len(gallery) for k, v in gallery.nbytes.items()}
        del gallery
        gc.collect()
    si.set_num_threads(2)

    # ---- Dask workers
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        t = time.perf_counter()
        sharded = dist.ShardedGallery.from_templates(client, templates)
        ship_s = time.perf_counter() - t
        t = time.perf_counter()
        sharded.prepare(ctx.public())
        encode_s = time.perf_counter() - t
        sharded(probe)                                   # ships the context once
        med, best = median_time(lambda: sharded(probe), args.reps)
        cpu = cpu_per_call(lambda: sharded(probe), args.reps, client)
        scores = face.decrypt_scores(ctx, sharded.describe(), sharded(probe))
        memory = sharded.memory()
        worker_rss = ", ".join(f"{m['rss'] / 2**20:,.0f}" for m in memory.values())
        rows.append((f"{args.workers} Dask workers x 1 thread", med, best, cpu, encode_s,
                     f"RSS per worker {worker_rss} MiB"))
        shard_bytes = [s for m in memory.values() for s in m["objects"].values()]
        sharded.close()

    diff = float(np.abs(scores - reference).max())
    same_top = face.top_k(scores, 5) == face.top_k(reference, 5)

    # ---- encrypted templates: bytes per template (one block)
    enrolled = face.EncryptedGallery.enroll(ctx, templates[:ctx.slots])
    enc_memory = enrolled.nbytes["ciphertexts"] / ctx.slots
    enc_serialized = sum(len(c.serialize()) for block in enrolled._blocks for c in block) / ctx.slots
    probe_bytes = sum(len(c.serialize()) for c in probe)

    print(f"gallery: {args.templates:,} random unit templates, {-(-args.templates // ctx.slots)} blocks of "
          f"{ctx.slots}; N = 4096; {args.reps} identifications each; machine: {os.cpu_count()} cores, "
          f"shared and noisy\n")
    print("| setting | identification, median (s) | best (s) | CPU s per identification | "
          "one-time encoding (s) | memory |")
    print("|---|---|---|---|---|---|")
    for name, med, best, cpu, enc, mem in rows:
        print(f"| {name} | {med:.3f} | {best:.3f} | {cpu:.3f} | {enc:.2f} | {mem} |")
    print(f"\nshipping the templates to the workers: {ship_s:.2f} s; "
          f"speed-up of {args.workers} workers: {rows[0][1] / rows[2][1]:.2f}x vs 1 thread, "
          f"{rows[1][1] / rows[2][1]:.2f}x vs 2 threads")
    print(f"distributed vs one process: max |score difference| {diff:.1e}, same top-5: {same_top}")
    print("per-shard bytes:", shard_bytes)
    print("\n| storage form | bytes per template |")
    print("|---|---|")
    print(f"| plaintext template, float32 | {per_template['templates']:.0f} |")
    print(f"| encoded columns (NTT form, level 1) | {per_template['encoded']:.0f} |")
    print(f"| encrypted template, in memory | {enc_memory:.0f} |")
    print(f"| encrypted template, serialized | {enc_serialized:.0f} |")
    print(f"\nprobe: 128 ciphertexts, {probe_bytes / 2**20:.1f} MiB serialized (sent once per worker); "
          f"scores: one ciphertext per block")


if __name__ == "__main__":
    main()
