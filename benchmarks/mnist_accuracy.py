"""Encrypted accuracy of the MNIST networks on the 1,000 test digits.

Compiles each network with securinfer.nn (default feature packing: one
ciphertext per input pixel, one image per slot, so the 1,000 images travel
together), encrypts the test images with the public key, runs the server side,
decrypts, and compares with the plaintext torch model: accuracy, agreement of
the predicted digits, largest logit error, and the time of each step.
``--latency`` also compiles each network for one image per ciphertext
(``batch_size=1``) and times one image on one thread (median of 3).

    OPENBLAS_NUM_THREADS=1 python benchmarks/mnist_accuracy.py --models tutorial4 deep --threads 2
    OPENBLAS_NUM_THREADS=1 python benchmarks/mnist_accuracy.py --models deep -n 0 --latency
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


def models():
    tutorial4 = mnist.load_tutorial4() if mnist.tutorial4_weights_path() else mnist.train_tutorial4()
    return {"tutorial4": tutorial4, "deep": mnist.load_deep()}


def latency(name, model, split, calibration, rounds=3):
    """One image, one ciphertext, one thread: key generation and the median server time."""
    before = si.get_num_threads()
    si.set_num_threads(1)
    try:
        enc = snn.compile(model, input_shape=(1, 28, 28), calibration=split.X_train[:calibration], batch_size=1)
        t = time.perf_counter()
        ctx = enc.create_context()
        keygen = time.perf_counter() - t
        cts = enc.encrypt(ctx.public(), split.X_test[:1])
        enc(cts)  # the weights are encoded for this context once
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            out = enc(cts)
            times.append(time.perf_counter() - t)
        with torch.no_grad():
            want = model(torch.from_numpy(split.X_test[:1])).numpy()
        logits = enc.decrypt(ctx, out)
        return {"model": name, "packing": enc.packing, "depth": enc.depth, "context": enc.describe()["context"],
                "rotation_keys": len(enc.required_rotations()), "keygen_s": keygen,
                "server_s_median": float(np.median(times)), "server_s_all": times,
                "same_digit": bool(logits.argmax() == want.argmax()),
                "max_logit_error": float(np.max(np.abs(logits - want)))}
    finally:
        si.set_num_threads(before)


def evaluate(name, model, split, n, calibration):
    X, y = split.X_test[:n], split.y_test[:n]
    with torch.no_grad():
        plain = model(torch.from_numpy(X)).numpy()
    row = {"model": name, "images": n, "threads": si.get_num_threads(),
           "parameters": int(sum(p.numel() for p in model.parameters()))}
    t = time.perf_counter()
    enc = snn.compile(model, input_shape=(1, 28, 28), calibration=split.X_train[:calibration])
    row["compile_s"] = time.perf_counter() - t
    row.update(packing=enc.packing, depth=enc.depth, context=enc.describe()["context"])
    t = time.perf_counter()
    ctx = enc.create_context()
    row["keygen_s"] = time.perf_counter() - t
    t = time.perf_counter()
    cts = enc.encrypt(ctx.public(), X)
    row["encrypt_s"] = time.perf_counter() - t
    row["ciphertexts"] = len(cts)
    t = time.perf_counter()
    out = enc(cts)
    row["server_s"] = time.perf_counter() - t
    t = time.perf_counter()
    logits = enc.decrypt(ctx, out)
    row["decrypt_s"] = time.perf_counter() - t
    row.update(plaintext_accuracy=float(np.mean(plain.argmax(1) == y)),
               encrypted_accuracy=float(np.mean(logits.argmax(1) == y)),
               agreement=float(np.mean(logits.argmax(1) == plain.argmax(1))),
               max_logit_error=float(np.max(np.abs(logits - plain))),
               max_logit=float(np.max(np.abs(plain))))
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["tutorial4", "deep"], choices=["tutorial4", "deep"])
    parser.add_argument("-n", type=int, default=1000, help="test images (at most 1000)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--calibration", type=int, default=500, help="training images used for calibration")
    parser.add_argument("--latency", action="store_true", help="also time one image (batch_size=1, one thread)")
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args(argv)
    si.set_num_threads(args.threads)
    split = mnist.load_digits_split()
    nets = models()
    rows = []
    for name in args.models:
        if args.n > 0:
            rows.append(evaluate(name, nets[name], split, min(args.n, 1000), args.calibration))
            print(json.dumps(rows[-1]), flush=True)
        if args.latency:
            rows.append(latency(name, nets[name], split, args.calibration))
            print(json.dumps(rows[-1]), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
