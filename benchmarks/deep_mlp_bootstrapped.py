"""The 8-layer tanh MLP of issue "Deep encrypted networks" run encrypted with
the bootstraps the compiler places (``preset="bootstrap"``, N = 2^16):
``securinfer.apps.mnist.digits_tanh_mlp()``; batches of 16 test digits, one ciphertext per
batch. One line per batch: server seconds, digits equal to the model's,
largest logit difference from the plan (``simulate``); then keys and peak
memory. About 36-39 s per batch on 2 cores and 11.8 GiB at peak.

    python benchmarks/deep_mlp_bootstrapped.py --batches 4 --threads 2
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

import securinfer as si
import securinfer.nn as nn
from securinfer.apps.mnist import digits_tanh_mlp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    si.set_num_threads(args.threads)
    mlp, X, _ = digits_tanh_mlp()
    start = time.perf_counter()
    deep = nn.compile(mlp, calibration=X[:1500], batch_size=16, name="digits-tanh-8")
    print(f"compile {time.perf_counter() - start:.1f} s: depth {deep.depth}, {deep.bootstraps} bootstraps, "
          f"N = {deep.parameters['poly_degree']}", flush=True)
    start = time.perf_counter()
    ctx = deep.create_context()
    print(f"client keys {time.perf_counter() - start:.1f} s: "
          f"{ {k: round(v / 2 ** 30, 2) for k, v in ctx.key_bytes.items()} } GiB", flush=True)
    agree, digits = 0, 0
    for b in range(args.batches):
        batch = X[1500 + 16 * b:1516 + 16 * b]
        cts = deep.encrypt(ctx, batch)
        start, cpu = time.perf_counter(), time.process_time()
        out = deep(cts)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        logits = deep.decrypt(ctx, out)
        same = int(np.sum(mlp.classes_[logits.argmax(axis=1)] == mlp.predict(batch)))
        gap = float(np.max(np.abs(logits - deep.simulate(batch))))
        agree, digits = agree + same, digits + len(batch)
        print(f"batch {b}: server {wall:.1f} s ({cpu:.1f} CPU s), same digit as the model {same}/{len(batch)}, "
              f"largest difference from the plan {gap:.1e}", flush=True)
    print(f"{agree}/{digits} digits equal to the model; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20:.2f} GiB")


if __name__ == "__main__":
    main()
