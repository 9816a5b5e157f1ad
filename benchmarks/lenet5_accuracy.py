"""LeNet-5 with degree-2 ReLU approximations, encrypted, on the 1,000 test digits.

The network of ``securinfer.apps.mnist.load_lenet5("poly2")`` (shipped
weights; ``train_lenet5()`` reproduces them) is compiled for one image per
ciphertext (``batch_size=1``: the compiler picks the ring and places the
bootstraps the plan needs, none at this depth). Each digit of a shard is
clipped to the calibrated box, encrypted, run on the server, decrypted and
compared with torch on the same (clipped) record; one JSON line per digit
goes to ``--out`` as soon as it is done, so a run stopped early keeps what
it measured. ``--report`` merges the shards' lines, runs every test digit
through the compiled plan in plaintext (``enc.simulate``) and prints the
figures: encrypted digits, their accuracy and agreement with torch, server
time per digit, and the simulated figures for all 1,000.

    OPENBLAS_NUM_THREADS=1 python benchmarks/lenet5_accuracy.py --shard 0/2 --out lenet5-0.jsonl &
    OPENBLAS_NUM_THREADS=1 python benchmarks/lenet5_accuracy.py --shard 1/2 --out lenet5-1.jsonl &
    python benchmarks/lenet5_accuracy.py --report lenet5-0.jsonl lenet5-1.jsonl
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import securinfer as si
import securinfer.nn as snn
from securinfer.apps import mnist


def compiled(batch_size=1):
    """The shipped poly2 LeNet-5, compiled on 1,000 training digits."""
    split = mnist.load_digits_split()
    model = mnist.load_lenet5("poly2")
    enc = snn.compile(model, input_shape=(1, 28, 28), calibration=split.X_train[:1000], batch_size=batch_size)
    return split, model, enc


def torch_logits(model, X):
    with torch.no_grad():
        return model(torch.tensor(X.reshape(-1, 1, 28, 28), dtype=torch.float32)).double().numpy()


def run_shard(shard: int, shards: int, out: str, limit: int) -> None:
    si.set_num_threads(1)
    t = time.perf_counter()
    split, model, enc = compiled()
    compile_s = time.perf_counter() - t
    t = time.perf_counter()
    ctx = enc.create_context()
    keygen_s = time.perf_counter() - t
    server = ctx.public()
    rows = list(range(shard, len(split.y_test), shards))[:limit]
    with open(out, "a") as f:
        f.write(json.dumps({"plan": enc.summary(), "compile_s": compile_s, "keygen_s": keygen_s,
                            "bootstraps": enc.bootstraps, "context": enc.describe()["context"]}) + "\n")
        for n, i in enumerate(rows):
            x = enc.check(split.X_test[i:i + 1], "clip")
            t0 = time.perf_counter()
            cts = enc.encrypt(server, x)
            t1 = time.perf_counter()
            out_cts = enc(cts)
            t2 = time.perf_counter()
            logits = enc.decrypt(ctx, out_cts)[0]
            want = torch_logits(model, x)[0]
            f.write(json.dumps({"digit": i, "label": int(split.y_test[i]), "encrypted": int(logits.argmax()),
                                "torch": int(want.argmax()), "max_logit_error": float(np.abs(logits - want).max()),
                                "encrypt_s": t1 - t0, "server_s": t2 - t1,
                                "first": n == 0}) + "\n")   # the first call also encodes the weights
            f.flush()


def report(paths) -> None:
    digits, plans = {}, []
    for path in paths:
        for line in open(path):
            row = json.loads(line)
            if "digit" in row:
                digits[row["digit"]] = row
            else:
                plans.append(row)
    split, model, enc = compiled()
    X = enc.check(split.X_test, "clip")
    sim = enc.simulate(X).argmax(1)
    want = torch_logits(model, X).argmax(1)
    rows = list(digits.values())
    server = np.array([r["server_s"] for r in rows if not r["first"]])
    print(plans[0]["plan"] if plans else enc.summary())
    print(json.dumps({
        "encrypted_digits": len(rows),
        "encrypted_accuracy": float(np.mean([r["encrypted"] == r["label"] for r in rows])) if rows else None,
        "encrypted_equal_torch": int(sum(r["encrypted"] == r["torch"] for r in rows)),
        "plaintext_accuracy_same_digits": float(np.mean([r["torch"] == r["label"] for r in rows])) if rows else None,
        "max_logit_error": max((r["max_logit_error"] for r in rows), default=None),
        "median_logit_error": float(np.median([r["max_logit_error"] for r in rows])) if rows else None,
        "server_s_median": float(np.median(server)) if server.size else None,
        "server_s_mean": float(np.mean(server)) if server.size else None,
        "server_s_max": float(np.max(server)) if server.size else None,
        "first_call_s": [r["server_s"] for r in rows if r["first"]],
        "compile_s": [p["compile_s"] for p in plans], "keygen_s": [p["keygen_s"] for p in plans],
        "bootstraps": [p["bootstraps"] for p in plans], "context": plans[0]["context"] if plans else None,
        "simulated_digits": len(X), "simulated_accuracy": float(np.mean(sim == split.y_test)),
        "simulated_equal_torch": int(np.sum(sim == want)), "torch_accuracy": float(np.mean(want == split.y_test)),
    }, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shard", default="0/1", help="k/m: digits k, k + m, k + 2m, ... of the 1,000")
    parser.add_argument("--limit", type=int, default=1000, help="at most this many digits of the shard")
    parser.add_argument("--out", default="lenet5.jsonl")
    parser.add_argument("--report", nargs="+", metavar="JSONL", help="merge shards and print the figures")
    args = parser.parse_args()
    if args.report:
        report(args.report)
        return
    k, m = (int(v) for v in args.shard.split("/"))
    run_shard(k, m, args.out, args.limit)


if __name__ == "__main__":
    main()
