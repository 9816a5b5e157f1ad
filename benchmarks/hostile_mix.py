"""Hostile-mix load test of ``securinfer serve``: honest clients beside attackers.

Starts ``securinfer serve`` as a child process on 127.0.0.1 only (loopback),
serving an affine model (``LinearModel``, 16 -> 4, preset "fast"), with one
token per honest client and per attacker (a tokens file), and explicit
limits. Then two phases:

1. *baseline*: ``--clients`` honest clients alone for ``--baseline`` seconds;
2. *attack*: the same clients for ``--duration`` seconds beside attackers
   that hold uploads open (a byte now and then), slow-loris headers, upload
   valid contexts in a loop, upload forged and foreign parameters (another
   preset, a secret-key context, a corrupted header), and send oversized
   and malformed bodies.

Every honest answer is checked against numpy (``x @ W + b``); a *lost
session* is an honest client whose session id changed (the server forgot
its keys). Reported: honest p50/p99 latency per phase, wrong answers,
failed requests, lost sessions, the attackers' outcomes by status, and the
server's peak resident memory (sampled from /proc) beside the bound the
configured limits imply. The run is bounded in time and count (every loop
checks the deadline; sockets have timeouts), kills the server it started,
and exits 1 if any honest answer was wrong or lost, or any request failed.

    OPENBLAS_NUM_THREADS=1 python benchmarks/hostile_mix.py --clients 32 --baseline 60 --duration 120

``run(...)`` is importable (tests/serve/test_hostile_mix.py runs a short one).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

import httpx
import numpy as np

MIB = 1 << 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


@dataclass
class Limits:
    """The server's configured bounds (passed to ``securinfer serve``)."""

    max_session_mib: int = 512
    token_session_mib: int = 32
    max_uploads: int = 4
    max_uploads_per_token: int = 2
    max_bodies: int = 64
    max_bodies_per_token: int = 8
    body_timeout: float = 5.0
    header_timeout: float = 3.0
    max_connections: int = 1024

    def argv(self) -> List[str]:
        return ["--max-session-mib", str(self.max_session_mib), "--token-session-mib", str(self.token_session_mib),
                "--max-uploads", str(self.max_uploads), "--max-uploads-per-token", str(self.max_uploads_per_token),
                "--max-bodies", str(self.max_bodies), "--max-bodies-per-token", str(self.max_bodies_per_token),
                "--body-timeout", str(self.body_timeout), "--header-timeout", str(self.header_timeout),
                "--max-connections", str(self.max_connections), "--max-sessions", "4096", "--max-pending", "256"]


# ---------------------------------------------------------------- honest clients

@dataclass
class Honest:
    token: str
    latencies: Dict[str, List[float]] = field(default_factory=lambda: {"warm-up": [], "baseline": [], "attack": []})
    ready: threading.Event = field(default_factory=threading.Event)
    wrong: int = 0
    failed: int = 0
    lost: int = 0
    errors: List[str] = field(default_factory=list)


def honest_loop(me: Honest, url: str, W, b, phase: list, stop: threading.Event, seed: int) -> None:
    from securinfer.serve import Client, ServiceError

    rng = np.random.default_rng(seed)  # benchmark data only
    with Client(url, token=me.token, retries=8, backoff=0.1, timeout=60) as client:
        first_sid = None
        while not stop.is_set():
            x = rng.normal(size=16)
            t0 = time.perf_counter()
            try:
                y = client.infer("affine", x)
            except ServiceError as error:
                me.failed += 1
                me.errors.append(str(error)[:200])
                continue
            took = time.perf_counter() - t0
            if not np.allclose(y, x @ W + b, atol=1e-3):
                me.wrong += 1
            sid = client.session("affine")
            if first_sid is None:
                first_sid = sid
            elif sid != first_sid:
                me.lost += 1
                first_sid = sid
            me.latencies[phase[0]].append(took)
            me.ready.set()   # the first answer (keys made and uploaded) is the warm-up


# ---------------------------------------------------------------- attackers

def _raw(port: int, request: bytes, timeout: float = 10.0) -> int:
    """Send ``request`` on a fresh socket; the status of the answer (0: none)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(request)
            line = s.recv(64).split(b"\r\n")[0].split()
            return int(line[1]) if len(line) > 1 and line[1].isdigit() else 0
    except OSError:
        return 0


def attack_held_uploads(port, token, stop, outcomes, lock, sockets=6):
    """Uploads of 14 MiB announced, a byte every 0.5 s: the body deadline cuts them."""
    head = (f"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {14 * MIB}\r\n\r\n").encode()
    held: List[socket.socket] = []
    while not stop.is_set():
        while len(held) < sockets and not stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=2)
                s.sendall(head + b"\0" * 65536)
                held.append(s)
            except OSError:
                break
        time.sleep(0.5)
        for s in list(held):
            try:
                s.sendall(b"\0")
            except OSError:
                held.remove(s)
                s.close()
                with lock:
                    outcomes["held upload cut"] += 1
    for s in held:
        s.close()


def attack_slow_loris(port, stop, outcomes, lock, sockets=200):
    """Headers that never end; reopened as the header deadline closes them."""
    held: List[socket.socket] = []
    while not stop.is_set():
        while len(held) < sockets and not stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=2)
                s.sendall(b"GET /v1/info HTTP/1.1\r\nHost: x\r\n")
                held.append(s)
            except OSError:
                break
        time.sleep(0.5)
        for s in list(held):
            try:
                s.sendall(b"X-a: b\r\n")
                s.setblocking(False)
                try:
                    if s.recv(1) == b"":
                        raise OSError("closed")
                except BlockingIOError:
                    pass
                s.setblocking(True)
            except OSError:
                held.remove(s)
                s.close()
                with lock:
                    outcomes["slow-loris cut"] += 1
    for s in held:
        s.close()


def attack_upload_loop(url, token, blob, stop, outcomes, lock):
    """Valid public contexts (the attacker's own keys), as fast as they go."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}",
                                             "Content-Type": "application/octet-stream"}, timeout=30) as http:
        while not stop.is_set():
            try:
                status = http.post("/v1/sessions", content=blob).status_code
            except httpx.HTTPError:
                status = 0
            with lock:
                outcomes[f"context loop {status}"] += 1


def attack_forged(url, token, forged, stop, outcomes, lock):
    """Foreign parameters, secret-key contexts, corrupted headers, oversized and malformed bodies."""
    rng = random.Random(7)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}",
                                             "Content-Type": "application/octet-stream"}, timeout=30) as http:
        sid = None
        while not stop.is_set():
            kind, body, path = rng.choice(forged)
            headers = {"X-Session": sid} if sid and path.startswith("/v1/run") else {}
            try:
                response = http.post(path, content=body, headers=headers)
                status = response.status_code
                if path == "/v1/sessions" and status == 201:
                    sid = response.json()["session"]
            except httpx.HTTPError:
                status = 0
            with lock:
                outcomes[f"{kind} {status}"] += 1


def attack_oversized_declared(port, token, stop, outcomes, lock):
    """A Content-Length of 1 GiB: refused from the header, connection closed."""
    request = (f"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
               f"Content-Type: application/octet-stream\r\nContent-Length: {1 << 30}\r\n\r\n").encode()
    while not stop.is_set():
        status = _raw(port, request, timeout=5)
        with lock:
            outcomes[f"declared 1 GiB {status}"] += 1
        time.sleep(0.05)


# ---------------------------------------------------------------- the run

def _forged_bodies(W):
    import securinfer as si
    from securinfer import ciphertext_batch

    fast = si.Context.create(preset="fast")
    foreign = si.Context.create(preset="tenseal")
    good_public = bytearray(fast.public().serialize())
    corrupted = bytes(good_public[:40]) + bytes(len(good_public) - 40)
    rng = np.random.default_rng(9)  # benchmark data only
    ct = fast.encrypt(rng.normal(size=16)).serialize()
    return fast, [
        ("foreign parameters", foreign.public().serialize(), "/v1/sessions"),
        ("secret-key context", fast.serialize(secret_key=True), "/v1/sessions"),
        ("corrupted context", corrupted, "/v1/sessions"),
        ("own context", bytes(good_public), "/v1/sessions"),
        ("random run body", rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(), "/v1/run/affine"),
        ("truncated ciphertext", ciphertext_batch.pack_items([ct[: len(ct) // 2]]), "/v1/run/affine"),
        ("oversized run body", b"\0" * (3 * len(ct)), "/v1/run/affine"),
        ("foreign ciphertext", ciphertext_batch.pack_items([foreign.encrypt([1.0]).serialize()]), "/v1/run/affine"),
    ]


def run(clients: int = 32, baseline: float = 60.0, duration: float = 120.0, limits: Limits = Limits(),
        attackers: int = 1, slow_loris: int = 200, held_uploads: int = 6, sample: float = 1.0,
        verbose: bool = True) -> dict:
    """Run both phases; returns the measurements (see the module docstring)."""
    from securinfer.serve import LinearModel

    rng = np.random.default_rng(2026)  # benchmark data only
    W, b = rng.normal(size=(16, 4)) / 4, rng.normal(size=4)
    honest = [Honest(secrets.token_urlsafe(24)) for _ in range(clients)]
    evil = [secrets.token_urlsafe(24) for _ in range(3 * attackers)]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    outcomes: Counter = Counter()
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as tmp:
        LinearModel(W, b, context={"preset": "fast"}, name="affine").save(Path(tmp) / "affine.linear.npz")
        tokens = Path(tmp) / "tokens"
        tokens.write_text("\n".join([h.token for h in honest] + evil) + "\n")
        env = {**os.environ, "SECURINFER_TOKEN": secrets.token_urlsafe(24)}
        server = subprocess.Popen([sys.executable, "-m", "securinfer.cli", "serve", "--models", tmp,
                                   "--host", "127.0.0.1", "--port", str(port), "--tokens-file", str(tokens),
                                   "--log-level", "error", *limits.argv()], env=env)
        threads: List[threading.Thread] = []
        stop_honest, stop_attack = threading.Event(), threading.Event()
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start")
                time.sleep(0.2)
            idle_rss = rss_mib(server.pid)
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {honest[0].token}"}) as http:
                caps = http.get("/v1/info", timeout=10).json()["limits"]
            # What the limits let the server hold beyond idle: the sessions' keys, each upload in
            # flight twice (body and parsed keys), each run body in flight.
            bound_mib = (limits.max_session_mib + limits.max_uploads * 2 * caps["max_context_bytes"] / MIB
                         + limits.max_bodies * caps["max_run_bytes"]["affine"] / MIB)
            # Plus what no request bounds: the core's cache of freed buffers (at most 512 MiB,
            # csrc/util/aligned_buffer.cpp) and the compute threads' temporaries.
            cache_mib = 512
            fast, forged = _forged_bodies(W)
            from securinfer.server_parameters import context_for_server

            blob = context_for_server({"preset": "fast"}, rotations=LinearModel(W, b, context={"preset": "fast"})
                                      .required_rotations()).public().serialize()
            phase = ["warm-up"]
            for i, h in enumerate(honest):
                threads.append(threading.Thread(target=honest_loop, args=(h, url, W, b, phase, stop_honest, i),
                                                daemon=True))
            for t in threads:
                t.start()
            peak = [idle_rss]

            def sample_until(until):
                while time.monotonic() < until and server.poll() is None:
                    peak[0] = max(peak[0], rss_mib(server.pid))
                    time.sleep(sample)

            warm_until = time.monotonic() + 300
            while not all(h.ready.is_set() for h in honest) and time.monotonic() < warm_until:
                sample_until(time.monotonic() + 0.5)
            phase[0] = "baseline"
            sample_until(time.monotonic() + baseline)
            baseline_rss = peak[0]
            phase[0] = "attack"
            attack_threads = []
            for a in range(attackers):
                t_held, t_loop, t_forged = evil[3 * a], evil[3 * a + 1], evil[3 * a + 2]
                attack_threads += [
                    threading.Thread(target=attack_held_uploads, args=(port, t_held, stop_attack, outcomes, lock,
                                                                       held_uploads)),
                    threading.Thread(target=attack_slow_loris, args=(port, stop_attack, outcomes, lock, slow_loris)),
                    threading.Thread(target=attack_upload_loop, args=(url, t_loop, blob, stop_attack, outcomes, lock)),
                    threading.Thread(target=attack_forged, args=(url, t_forged, forged, stop_attack, outcomes, lock)),
                    threading.Thread(target=attack_oversized_declared, args=(port, t_forged, stop_attack, outcomes,
                                                                             lock)),
                ]
            for t in attack_threads:
                t.daemon = True
                t.start()
            sample_until(time.monotonic() + duration)
            stop_honest.set()
            stop_attack.set()
            for t in threads + attack_threads:
                t.join(timeout=max(30.0, limits.body_timeout + 10))
            alive = sum(t.is_alive() for t in threads + attack_threads)
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {honest[0].token}"}) as http:
                metrics = http.get("/v1/metrics", timeout=10).json()
            server_alive = server.poll() is None
        finally:
            stop_honest.set()
            stop_attack.set()
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    context_cap = metrics["sessions"]
    result = {
        "clients": clients, "baseline_s": baseline, "attack_s": duration,
        "requests": {p: sum(len(h.latencies[p]) for h in honest) for p in ("warm-up", "baseline", "attack")},
        "p50_ms": {}, "p99_ms": {},
        "wrong": sum(h.wrong for h in honest), "failed": sum(h.failed for h in honest),
        "lost_sessions": sum(h.lost for h in honest), "errors": [e for h in honest for e in h.errors][:5],
        "attackers": dict(sorted(outcomes.items())), "threads_left": alive, "server_alive": server_alive,
        "rss_mib": {"idle": round(idle_rss, 1), "baseline_peak": round(baseline_rss, 1), "peak": round(peak[0], 1)},
        "sessions": context_cap,
        "bound_mib": round(bound_mib, 1), "cache_mib": cache_mib,
    }
    for p in ("warm-up", "baseline", "attack"):
        lat = np.array([x for h in honest for x in h.latencies[p]]) * 1000
        result["p50_ms"][p] = round(float(np.percentile(lat, 50)), 1) if lat.size else None
        result["p99_ms"][p] = round(float(np.percentile(lat, 99)), 1) if lat.size else None
    if verbose:
        report(result)
    return result


def report(r: dict) -> None:
    print(f"hostile mix: {r['clients']} honest clients, {r['baseline_s']:.0f} s alone then {r['attack_s']:.0f} s "
          f"beside attackers (load: {os.getloadavg()[0]:.1f})")
    for p in ("warm-up", "baseline", "attack"):
        print(f"  {p:8s}: {r['requests'][p]} honest requests, p50 {r['p50_ms'][p]} ms, p99 {r['p99_ms'][p]} ms")
    print(f"  wrong answers {r['wrong']}, failed requests {r['failed']}, lost honest sessions {r['lost_sessions']}")
    print(f"  server RSS (MiB): idle {r['rss_mib']['idle']}, peak alone {r['rss_mib']['baseline_peak']}, "
          f"peak under attack {r['rss_mib']['peak']} (idle + at most {r['bound_mib']} held for requests "
          f"by the limits + at most {r['cache_mib']} of the core's freed-buffer cache)")
    print(f"  sessions: {r['sessions']}")
    print("  attackers' outcomes:")
    for k, v in r["attackers"].items():
        print(f"    {k:32s} {v}")
    if r["errors"]:
        print("  first errors:", *r["errors"], sep="\n    ")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--baseline", type=float, default=60.0, help="seconds of honest clients alone")
    p.add_argument("--duration", type=float, default=120.0, help="seconds beside the attackers")
    p.add_argument("--attackers", type=int, default=1, help="sets of attackers (each: all five kinds)")
    p.add_argument("--slow-loris", type=int, default=200, help="slow-loris sockets per attacker")
    args = p.parse_args(argv)
    r = run(args.clients, args.baseline, args.duration, attackers=args.attackers, slow_loris=args.slow_loris)
    ok = r["wrong"] == 0 and r["failed"] == 0 and r["lost_sessions"] == 0 and r["server_alive"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
