"""Load test of ``securinfer serve``: many concurrent clients, every answer checked.

Starts ``securinfer serve`` as a child process on 127.0.0.1 (loopback only)
with three servables saved to a temporary directory: an affine model
(``securinfer.serve.LinearModel``, 64 -> 10, rotations), a scikit-learn
logistic regression compiled by ``securinfer.nn`` and a face gallery of
plaintext templates (``securinfer.apps.face.Gallery``). Each of ``--clients``
threads is a separate ``securinfer.serve.Client`` with its own keys; after
one warm-up request per servable it loops for ``--duration`` seconds picking
a servable at random (weights ``--mix``), encrypting a fresh random input,
running it on the server and decrypting; every answer is compared with the
plaintext answer (numpy / scikit-learn). The server's resident memory is
sampled every ``--sample`` seconds from /proc.

The run is bounded: it stops after ``--duration`` seconds or ``--max-requests``
requests, whichever comes first, and kills the server it started. Exit
status 1 if any request failed or any answer was wrong.

    OPENBLAS_NUM_THREADS=1 python benchmarks/load_serve.py --clients 32 --duration 150
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def build_servables(directory: Path):
    """Saves the three servables; returns the plaintext references to check answers."""
    from sklearn.linear_model import LogisticRegression

    import securinfer.nn as snn
    from securinfer.apps import face
    from securinfer.serve import LinearModel

    rng = np.random.default_rng(2026)   # benchmark data only
    W, b = rng.normal(size=(64, 10)) / 8, rng.normal(size=10)
    LinearModel(W, b, context={"preset": "fast"}, name="affine").save(directory / "affine.linear.npz")
    X = rng.normal(size=(400, 8))
    sk = LogisticRegression().fit(X, (X @ rng.normal(size=8) > 0).astype(int))
    model = snn.compile(sk)
    model.name = "logistic"
    model.save(directory / "logistic.model.npz")
    templates = rng.normal(size=(1000, 128))
    face.Gallery(templates, labels=[f"p{i}" for i in range(1000)], name="faces").save(directory / "faces.gallery.npz")
    unit = templates / np.linalg.norm(templates, axis=1, keepdims=True)
    return {
        "affine": (lambda r: r.normal(size=64), lambda x: x @ W + b, 1e-3),
        "logistic": (lambda r: r.normal(size=(4, 8)), lambda x: sk.decision_function(x), 1e-3),
        "faces": (lambda r: templates[r.integers(1000)] + 0.3 * r.normal(size=128),
                  lambda x: unit @ (x / np.linalg.norm(x)), 1e-3),
    }


class Worker(threading.Thread):
    def __init__(self, index, url, token, references, mix, stop_at, budget, lock):
        super().__init__(daemon=True)
        from securinfer.serve import Client
        from securinfer.servable import client_for

        self.client = Client(url, token=token, timeout=600)
        self.client_for = client_for
        self.rng = np.random.default_rng(index)
        self.references, self.mix, self.stop_at, self.budget, self.lock = references, mix, stop_at, budget, lock
        self.samples, self.errors, self.ready = [], [], threading.Event()

    def one(self, name, measured):
        make, reference, tol = self.references[name]
        x = make(self.rng)
        codec = self.client_for(self.client.describe(name))
        ctx = self.client.context(name)
        start = time.perf_counter()
        cts = codec.encrypt(ctx, x)
        sent = time.perf_counter()
        out = self.client.run(name, cts)
        back = time.perf_counter()
        got = np.asarray(codec.decrypt(ctx, out)).ravel()
        end = time.perf_counter()
        want = np.asarray(reference(x)).ravel()
        if got.shape != want.shape or not np.allclose(got, want, atol=tol):
            raise AssertionError(f"{name}: wrong answer, max error {np.abs(got - want).max():.3g}")
        if measured:
            self.samples.append((name, back - sent, end - start, end))

    def run(self):
        try:
            for name in self.references:            # warm-up: keys made and uploaded, caches filled
                self.one(name, measured=False)
        except Exception as error:                  # noqa: BLE001 (counted and reported)
            self.errors.append(f"warm-up: {error!r}")
        self.ready.set()
        names, weights = list(self.mix), np.array(list(self.mix.values()), dtype=float)
        while time.monotonic() < self.stop_at[0]:
            with self.lock:
                if self.budget[0] <= 0:
                    break
                self.budget[0] -= 1
            name = names[self.rng.choice(len(names), p=weights / weights.sum())]
            try:
                self.one(name, measured=True)
            except Exception as error:              # noqa: BLE001
                self.errors.append(f"{name}: {error!r}")
        self.client.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--duration", type=float, default=150.0, help="measured seconds after the warm-up")
    p.add_argument("--max-requests", type=int, default=100_000)
    p.add_argument("--mix", default="affine=5,logistic=3,faces=2")
    p.add_argument("--sample", type=float, default=5.0, help="seconds between server memory samples")
    args = p.parse_args(argv)
    mix = {k: float(v) for k, v in (item.split("=") for item in args.mix.split(","))}

    token, port = secrets.token_urlsafe(24), free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        references = build_servables(Path(tmp))
        env = {**os.environ, "SECURINFER_TOKEN": token}
        server = subprocess.Popen([sys.executable, "-m", "securinfer.cli", "serve", "--models", tmp, "--host",
                                   "127.0.0.1", "--port", str(port), "--max-sessions", str(4 * args.clients),
                                   "--max-pending", str(4 * args.clients), "--log-level", "warning"], env=env)
        try:
            return drive(args, url, token, server, references, mix)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def drive(args, url, token, server, references, mix) -> int:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            print("server did not start", file=sys.stderr)
            return 1
        time.sleep(0.2)
    rss = [(0.0, rss_mib(server.pid))]
    lock, budget, stop_at = threading.Lock(), [args.max_requests], [float("inf")]
    workers = [Worker(i, url, token, references, mix, stop_at, budget, lock) for i in range(args.clients)]
    t0 = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.ready.wait(timeout=600)
    warm = time.monotonic()
    stop_at[0] = warm + args.duration
    rss.append((warm - t0, rss_mib(server.pid)))
    next_sample = time.monotonic() + args.sample
    while any(w.is_alive() for w in workers):
        time.sleep(0.2)
        if server.poll() is not None:
            print("the server died", file=sys.stderr)
            return 1
        if time.monotonic() >= next_sample:
            rss.append((time.monotonic() - t0, rss_mib(server.pid)))
            next_sample += args.sample
        if time.monotonic() > stop_at[0] + 600:
            print("workers did not finish", file=sys.stderr)
            return 1
    rss.append((time.monotonic() - t0, rss_mib(server.pid)))
    end = time.monotonic()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
        metrics = http.get("/v1/metrics").json()
    report(args, workers, rss, warm - t0, end - warm, metrics)
    return 1 if any(w.errors for w in workers) else 0


def report(args, workers, rss, warmup_s, measured_s, metrics):
    samples = [s for w in workers for s in w.samples]
    errors = [e for w in workers for e in w.errors]
    print(f"\n{args.clients} clients, warm-up {warmup_s:.1f} s, measured {measured_s:.1f} s, "
          f"{len(samples)} requests checked, {len(errors)} errors")
    for e in errors[:10]:
        print("  error:", e)
    print("\n| servable | requests | run p50 ms | run p95 ms | run p99 ms | end-to-end p50 ms | end-to-end p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for name in sorted({s[0] for s in samples}) + ["all"]:
        sel = [s for s in samples if name in ("all", s[0])]
        run = np.array([s[1] for s in sel]) * 1000
        e2e = np.array([s[2] for s in sel]) * 1000
        print(f"| {name} | {len(sel)} | {np.percentile(run, 50):.0f} | {np.percentile(run, 95):.0f} | "
              f"{np.percentile(run, 99):.0f} | {np.percentile(e2e, 50):.0f} | {np.percentile(e2e, 99):.0f} |")
    print(f"\nthroughput: {len(samples) / measured_s:.2f} requests/s "
          f"({', '.join(f'{n}: {sum(s[0] == n for s in samples) / measured_s:.2f}/s' for n in sorted({s[0] for s in samples}))})")
    print("\nserver RSS (MiB) over time (s since start; warm-up ends at "
          f"{warmup_s:.0f} s):")
    print(" ".join(f"{t:.0f}:{m:.0f}" for t, m in rss))
    after = [m for t, m in rss if t >= warmup_s + 10]
    if after:
        print(f"after warm-up + 10 s: min {min(after):.0f}, max {max(after):.0f} MiB "
              f"(spread {max(after) - min(after):.0f} MiB)")
    routes = metrics["routes"]
    print("\nserver-side (GET /v1/metrics, last 4096 requests per route):")
    for route, r in routes.items():
        lat = r["latency_ms"]
        print(f"  {route}: {r['count']} requests {r['by_status']}, p50 {lat.get('p50', 0):.0f} ms, "
              f"p99 {lat.get('p99', 0):.0f} ms, in {r['bytes_in'] / 2**20:.0f} MiB, out {r['bytes_out'] / 2**20:.0f} MiB")
    print(f"  sessions: {metrics['sessions']}")


if __name__ == "__main__":
    sys.exit(main())
