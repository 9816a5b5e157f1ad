#!/usr/bin/env python3
"""Long-run fuzzer for securinfer's loaders (untrusted bytes in, objects out).

Every input handed to a loader must either load -- and then be usable: a loaded
context encrypts (and decrypts, with a secret key), a loaded ciphertext
decrypts to finite values -- or raise a ``securinfer.SecurinferError``. Any
other exception, a native crash, a MemoryError or an input slower than
``--slow`` seconds is a finding.

Loaders (targets), each seeded from a valid N=4096 object made at start:

    ctx_public   Context.load(public context bytes)
    ctx_secret   Context.load(context bytes with the secret key)
    ctx_encap    Context.load(public context bytes with bootstrapping's encapsulation keys)
    ct_seeded    Ciphertext.load(fresh symmetric ciphertext: c0 + 32-byte seed)
    ct_public    Ciphertext.load(public-key ciphertext: two full polynomials)
    ct_product   Ciphertext.load(product ciphertext, one level down)
    pickle_ctx   pickle.loads of a pickled public context whose bytes are mutated
    pickle_ct    pickle.loads of a pickled ciphertext whose bytes are mutated

Mutations (1-3 stacked per input): bit flips, byte overwrites, truncation,
insertion and deletion, header fields (version, type, flags, reserved, payload
size, fingerprint, key id) of the outer or any nested object set to edge
values, payload fields (level, polynomial count, slots, scale; degree, prime
counts, primes, scale, security byte) set to edge values, splices of two
objects, a third polynomial appended; optionally the outer payload size and
the parameter fingerprint are fixed up so mutations get past those checks.

Two engines:

  * the built-in structured mutation loop (default): os.urandom-seeded,
    every input reproducible from RUNSEED:TARGET:INDEX; a worker process runs
    the loaders, so a native crash is caught, reported with its replay id and
    its input saved under fuzz/crashes/;
  * atheris / libFuzzer (``--atheris``, needs ``pip install atheris``): the
    same harness, with the structured mutator mixed into libFuzzer's own.
    The extension is not instrumented for libFuzzer, so coverage guidance
    only sees the Python side.

Usage (from the repository root, with securinfer installed; never the
editable .venv for long runs on a shared machine -- see fuzz/README.md):

    python fuzz/fuzz_loaders.py --seconds 60                 # CI short run
    python fuzz/fuzz_loaders.py --inputs 1000000             # long run
    python fuzz/fuzz_loaders.py --inputs 200000 --targets ct_seeded,ct_public
    python fuzz/fuzz_loaders.py --replay 1234567:ct_seeded:42   # one input again
    python fuzz/fuzz_loaders.py --atheris -- -runs=200000    # libFuzzer engine

It prints inputs tried (per target), inputs that loaded, crashes (must be 0),
the distinct error messages (count, and the most frequent), the rate and the
slowest input; exit status 1 on any finding.
"""

from __future__ import annotations

import argparse
import hashlib
import collections
import os
import pathlib
import pickle
import random
import re
import struct
import sys
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent

TARGETS = ["ctx_public", "ctx_secret", "ctx_encap", "ct_seeded", "ct_public", "ct_product", "pickle_ctx", "pickle_ct"]
SEED_OF = {  # which valid object each target mutates
    "ctx_public": "ctx_public",
    "ctx_secret": "ctx_secret",
    "ctx_encap": "ctx_encap",
    "ct_seeded": "ct_seeded",
    "ct_public": "ct_public",
    "ct_product": "ct_product",
    "pickle_ctx": "ctx_public",
    "pickle_ct": "ct_seeded",
}

HEADER_SIZE = 64  # format v2 (csrc/io/header.h)
FORMAT_VERSION = 2
MAGIC = b"SINF"
# (offset in the header, width in bytes) of each field.
HEADER_FIELDS = {
    "version": (4, 2),
    "type": (6, 2),
    "flags": (8, 4),
    "reserved": (12, 4),
    "payload_size": (16, 8),
    "fingerprint": (24, 32),
    "key_id": (56, 8),
}
# Payload fields: (offset from the payload start, width, kind).
CT_FIELDS = {"level": (0, 2, "u"), "polys": (2, 1, "u"), "slots": (3, 4, "u"), "padding": (7, 1, "u"),
             "period": (8, 4, "u"), "complex": (12, 1, "u"), "scale": (13, 8, "f")}
CT_FIELDS_SIZE = 21  # the ciphertext payload before its polynomials
PARAM_FIELDS = {"degree": (0, 4, "u"), "nq": (4, 2, "u"), "np": (6, 2, "u")}

EDGE_DOUBLES = [float("nan"), float("inf"), float("-inf"), 0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 2.0**30, 2.0**38,
                2.0**60, 2.0**67, 2.0**68, 2.0**69, 2.0**108, 2.0**1023, 5e-324, 1.7976931348623157e308]


# ----------------------------------------------------------------------- seeds
def make_seeds():
    """The valid objects every mutation starts from (N=4096, small and fast)."""
    import numpy as np
    import securinfer as si

    ctx = si.Context.create(poly_degree=4096, coeff_bits=[38, 30, 40], scale_bits=30)
    ctx.generate_rotation_keys(steps=[1])
    x = np.linspace(-1.0, 1.0, 8)
    fresh = ctx.encrypt(x)
    seeds = {
        "ctx_public": ctx.public().serialize(),
        "ctx_secret": ctx.serialize(secret_key=True),
        "ct_seeded": fresh.serialize(),
        "ct_public": ctx.public().encrypt(x).serialize(),
        "ct_product": (fresh * fresh).serialize(),
    }
    # A public context with bootstrapping's encapsulation keys (own key set).
    from securinfer._core import bootstrap as boot

    enc = si.Context.create(poly_degree=4096, coeff_bits=[38, 30, 40], scale_bits=30)
    boot.install_encapsulation_keys(enc._keys, boot.make_encapsulation_keys(enc._core, enc._keys, 32))
    seeds["ctx_encap"] = enc.public().serialize()
    return ctx, seeds


def header_offsets(blob: bytes):
    """Offsets of the outer and every nested object header (magic, this version, a known type)."""
    out, start = [], 0
    while True:
        i = blob.find(MAGIC, start)
        if i < 0 or i + HEADER_SIZE > len(blob):
            return out
        version, typ = struct.unpack_from("<HH", blob, i + 4)
        if version == FORMAT_VERSION and 1 <= typ <= 9:
            out.append(i)
        start = i + 1


def sha256_fingerprint(degree, q_primes, p_primes, scale_bits, enforce):
    """CkksParameters::fingerprint: SHA-256 of the canonical encoding."""
    body = b"securinfer.ckks.parameters.v1" + struct.pack("<QI", degree, len(q_primes))
    body += b"".join(struct.pack("<Q", q) for q in q_primes) + struct.pack("<I", len(p_primes))
    body += b"".join(struct.pack("<Q", q) for q in p_primes) + struct.pack("<QB", scale_bits, enforce)
    return hashlib.sha256(body).digest()


# -------------------------------------------------------------------- mutator
class Mutator:
    """Structure-aware byte mutations of serialized objects."""

    def __init__(self, seeds: dict):
        self.seeds = seeds
        self.headers = {name: header_offsets(blob) for name, blob in seeds.items()}
        self.all_blobs = list(seeds.values())

    # -- helpers
    @staticmethod
    def _edge_int(rng, width, orig):
        top = (1 << (8 * width)) - 1
        choices = [0, 1, 2, 3, 4, 7, 8, 0x7F, 0x80, 0xFF, top, top - 1, top >> 1, (top >> 1) + 1,
                   (orig - 1) & top, (orig + 1) & top, (orig * 2) & top, orig >> 1, rng.getrandbits(8 * width)]
        return rng.choice(choices)

    @staticmethod
    def _put(data: bytearray, off, width, value):
        if off + width <= len(data):
            data[off:off + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")

    def _position(self, rng, data, name):
        """Mostly near structure (headers, payload fields), else anywhere."""
        n = len(data)
        if n == 0:
            return 0
        r = rng.random()
        if r < 0.35:
            return rng.randrange(min(n, 128))
        if r < 0.6 and self.headers.get(name):
            h = rng.choice(self.headers[name])
            return min(n - 1, max(0, h + rng.randrange(-16, HEADER_SIZE + 48)))
        return rng.randrange(n)

    # -- mutations
    def bitflip(self, rng, d, name):
        for _ in range(rng.choice([1, 1, 1, 2, 3, 8])):
            if d:
                i = self._position(rng, d, name)
                d[i] ^= 1 << rng.randrange(8)
        return d

    def overwrite(self, rng, d, name):
        if d:
            i = self._position(rng, d, name)
            k = rng.choice([1, 1, 2, 4, 8, 16])
            for j in range(i, min(len(d), i + k)):
                d[j] = rng.choice([0x00, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        return d

    def truncate(self, rng, d, name):
        cut = self._position(rng, d, name) if rng.random() < 0.7 else rng.randrange(len(d) + 1)
        return d[:cut]

    def insert(self, rng, d, name):
        i = self._position(rng, d, name)
        k = rng.choice([1, 2, 4, 8, 40, rng.randrange(1, 300)])
        return d[:i] + bytearray(rng.choice([0, 0xFF, rng.randrange(256)]) if rng.random() < 0.5
                                 else rng.randrange(256) for _ in range(k)) + d[i:]

    def delete(self, rng, d, name):
        i = self._position(rng, d, name)
        k = rng.choice([1, 2, 4, 8, 40, rng.randrange(1, 300)])
        return d[:i] + d[i + k:]

    def header_field(self, rng, d, name):
        offsets = self.headers.get(name) or [0]
        h = offsets[0] if rng.random() < 0.5 else rng.choice(offsets)
        field = rng.choice(list(HEADER_FIELDS))
        off, width = HEADER_FIELDS[field]
        if h + off + width > len(d):
            return d
        orig = int.from_bytes(d[h + off:h + off + width], "little")
        if field == "type" and rng.random() < 0.5:
            value = rng.randrange(0, 10)
        elif field == "flags" and rng.random() < 0.5:
            value = rng.choice([0, 1, 2, 3, 4, 0x80000000])
        elif field == "payload_size" and rng.random() < 0.5:
            value = max(0, orig + rng.choice([-1, 1, -8, 8, -(orig // 2), len(d)]))
        else:
            value = self._edge_int(rng, width, orig)
        self._put(d, h + off, width, value & ((1 << (8 * width)) - 1))
        return d

    def payload_field(self, rng, d, name):
        if name.startswith("ct"):
            field = rng.choice(list(CT_FIELDS))
            off, width, kind = CT_FIELDS[field]
            off += HEADER_SIZE
        else:
            params = HEADER_SIZE + HEADER_SIZE  # the parameters' payload
            nq, np_ = (struct.unpack_from("<HH", d, params + 4) if len(d) >= params + 8 else (1, 1))
            nq, np_ = min(nq, 4), min(np_, 4)
            r = rng.random()
            if r < 0.3:
                field = rng.choice(list(PARAM_FIELDS))
                off, width, kind = PARAM_FIELDS[field]
                off += params
            elif r < 0.6:
                off, width, kind = params + 8 + 8 * rng.randrange(nq + np_), 8, "prime"
            elif r < 0.85:
                off, width, kind = params + 8 + 8 * (nq + np_), 8, "f"
            else:
                off, width, kind = params + 16 + 8 * (nq + np_), 1, "u"
        if off + width > len(d):
            return d
        if kind == "f":
            v = rng.choice(EDGE_DOUBLES) if rng.random() < 0.8 else struct.unpack("<d", bytes(d[off:off + 8]))[0] * 2.0 ** rng.randrange(-70, 70)
            d[off:off + 8] = struct.pack("<d", v)
        elif kind == "prime":
            orig = int.from_bytes(d[off:off + 8], "little")
            v = rng.choice([0, 1, 2, 3, 12289, 40961, 65537, 786433, orig + 2 * 4096, orig - 2 * 4096,
                            orig + 2 * 8192, (1 << 60) - 1, 1 << 60, (1 << 64) - 1, 1152921504606748673,
                            rng.getrandbits(rng.choice([20, 40, 60, 64]))])
            self._put(d, off, 8, v & ((1 << 64) - 1))
        else:
            orig = int.from_bytes(d[off:off + width], "little")
            self._put(d, off, width, self._edge_int(rng, width, orig))
        return d

    def splice(self, rng, d, name):
        other = rng.choice(self.all_blobs)
        r = rng.random()
        if r < 0.4:  # a prefix of one, a suffix of the other
            i, j = rng.randrange(len(d) + 1), rng.randrange(len(other) + 1)
            return d[:i] + other[j:]
        if r < 0.6:  # concatenation
            return d + other if rng.random() < 0.5 else bytearray(other) + d
        # one nested object swapped for another object
        mine, theirs = self.headers.get(name) or [0], header_offsets(other) or [0]
        a, b = rng.choice(mine), rng.choice(theirs)
        a_size = struct.unpack_from("<Q", d, a + 16)[0] if a + 24 <= len(d) else 0
        b_size = struct.unpack_from("<Q", other, b + 16)[0] if b + 24 <= len(other) else 0
        return d[:a] + other[b:b + HEADER_SIZE + b_size] + d[a + HEADER_SIZE + a_size:]

    def third_poly(self, rng, d, name):
        """A ciphertext claiming (and mostly carrying) three polynomials."""
        if not name.startswith("ct") or len(d) < HEADER_SIZE + CT_FIELDS_SIZE:
            return d
        head, body = d[:HEADER_SIZE + CT_FIELDS_SIZE], bytes(d[HEADER_SIZE + CT_FIELDS_SIZE:])
        if name == "ct_seeded":  # c0 and a seed: c0 three times, unseeded
            head[8] &= 0xFE
            polys = body[:-32] * 3
        else:  # two polynomials: the first again
            polys = body + body[: len(body) // 2]
        if rng.random() < 0.2:
            polys = polys[: rng.randrange(len(polys) + 1)]
        head[HEADER_SIZE + 2] = 3
        out = head + bytearray(polys)
        self._put(out, 16, 8, len(out) - HEADER_SIZE)
        return out

    MUTATIONS = ["bitflip", "overwrite", "truncate", "insert", "delete", "header_field", "payload_field",
                 "splice", "third_poly"]
    WEIGHTS = [20, 14, 10, 6, 6, 18, 14, 8, 4]

    def mutate(self, rng: random.Random, blob: bytes, name: str) -> bytes:
        d = bytearray(blob)
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            m = rng.choices(self.MUTATIONS, self.WEIGHTS)[0]
            d = getattr(self, m)(rng, d, name)
        # Fix-ups that let a mutation get past the cheapest checks.
        if rng.random() < 0.4 and len(d) >= 24:
            self._put(d, 16, 8, len(d) - HEADER_SIZE)
        if name.startswith("ctx") and rng.random() < 0.3:
            self.fix_fingerprint(d, name)
        return bytes(d)

    def fix_fingerprint(self, d, name):
        """Recomputes the parameters' fingerprint and writes it into every header."""
        p = 2 * HEADER_SIZE
        try:
            degree, nq, np_ = struct.unpack_from("<IHH", d, p)
            primes = struct.unpack_from(f"<{nq + np_}Q", d, p + 8)
            scale_bits, enforce = struct.unpack_from("<QB", d, p + 8 + 8 * (nq + np_))
        except struct.error:
            return
        fp = sha256_fingerprint(degree, list(primes[:nq]), list(primes[nq:]), scale_bits, enforce)
        for h in self.headers.get(name, []):
            if h + 56 <= len(d):
                d[h + 24:h + 56] = fp


# ------------------------------------------------------------------ harness
class Harness:
    """Runs one input through one loader and then uses what loaded."""

    def __init__(self, ctx, seeds, arith_prob=0.05):
        import numpy as np
        import securinfer as si
        from securinfer.ciphertext import _unpickle
        from securinfer._registry import register as _register
        from securinfer.context import _load_public

        self.np, self.si = np, si
        self.ctx = ctx
        self.public = si.Context.load(seeds["ctx_public"])
        self._unpickle, self._load_public, self._register = _unpickle, _load_public, _register
        self.parameters, self.key_id = ctx.parameters.canonical_bytes, ctx._keys.key_id
        self.use_rng = random.Random(0)
        self.arith_prob = arith_prob
        self.fresh = ctx.encrypt(np.linspace(-1.0, 1.0, 8))

    def _pickled(self, fn, args):
        class _R:
            def __reduce__(self):
                return (fn, args)

        return pickle.dumps(_R())

    def run(self, target: str, data: bytes) -> bool:
        """True when the input loaded. Raises SecurinferError (expected) or anything else (a finding)."""
        si = self.si
        if target in ("ctx_public", "ctx_secret", "ctx_encap"):
            c = si.Context.load(data)
            self.use_context(c)
        elif target.startswith("ct_"):
            on = self.ctx if self.use_rng.random() < 0.8 else self.public
            ct = si.Ciphertext.load(data, on)
            self.use_ciphertext(ct)
        elif target == "pickle_ctx":
            c = pickle.loads(self._pickled(self._load_public, (data,)))
            self.use_context(c)
        elif target == "pickle_ct":
            self._register(self.public)  # a context loaded since may have taken (and dropped) the registry slot
            ct = pickle.loads(self._pickled(self._unpickle, (data, self.parameters, self.key_id)))
            self.use_ciphertext(ct)
        else:
            raise ValueError(target)
        return True

    def _finite(self, values, what):
        if not self.np.all(self.np.isfinite(values)):
            raise AssertionError(f"{what} decrypted to non-finite values")

    def _ops(self, ops):
        """Runs each operation; a SecurinferError is a fine outcome, anything else propagates."""
        for op in ops:
            try:
                op()
            except self.si.SecurinferError:
                pass

    def use_context(self, c):
        np = self.np
        try:
            ct = c.encrypt(np.ones(4))
        except self.si.SecurinferError:
            return
        ops = [lambda: c.rotation_steps]
        if c.has_secret_key:
            ops.append(lambda: self._finite(c.decrypt(ct), "loaded context's own ciphertext"))
        if self.use_rng.random() < self.arith_prob:
            ops.append(lambda: self._finite(c.decrypt(ct * ct), "product under a loaded context")
                       if c.has_secret_key else ct * ct)  # the relinearisation key
            ops += [lambda s=s: ct.rotate(s) for s in c.rotation_steps[:1]]  # a Galois key
        self._ops(ops)

    def use_ciphertext(self, ct):
        # The client's context decrypts whatever context the ciphertext was loaded under.
        dec = self.ctx.decrypt
        ops = [lambda: self._finite(dec(ct), "loaded ciphertext")]
        if self.use_rng.random() < self.arith_prob:
            for f in (lambda: ct + ct, lambda: ct - ct, lambda: ct * 2.0, lambda: ct.rotate(1), lambda: ct * ct,
                      lambda: ct + self.fresh, lambda: self.fresh + ct, lambda: ct * self.fresh, lambda: ct.sum()):
                ops.append(lambda f=f: self._finite(dec(f()), "arithmetic on a loaded ciphertext"))
        self._ops(ops)


def normalise(message: str) -> str:
    """An error message with its numbers replaced, so kinds of failure count once."""
    return re.sub(r"\d+", "#", message)[:160]


# ----------------------------------------------------------- built-in engine
def input_for(mutator, seeds, run_seed, target, index):
    rng = random.Random(f"{run_seed}:{target}:{index}")
    return mutator.mutate(rng, seeds[SEED_OF[target]], SEED_OF[target])


def worker(run_seed, targets, start, count, deadline, slow_limit, progress, result_queue, crash_dir, memlimit_mb,
           threads, arith_prob):
    """Runs inputs [start, start+count) round-robin over targets; reports stats."""
    if memlimit_mb:
        import resource

        limit = memlimit_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import warnings

    warnings.simplefilter("ignore")
    import securinfer as si

    si.set_num_threads(threads)
    ctx, seeds = make_seeds()
    mutator = Mutator(seeds)
    harness = Harness(ctx, seeds, arith_prob)
    tried = collections.Counter()
    loaded = collections.Counter()
    errors = collections.Counter()
    raw_messages = set()
    findings = []
    slowest = (0.0, None)
    t0 = time.perf_counter()
    i = start
    end = start + count
    while i < end:
        if (i & 255) == 0 and time.time() > deadline:
            break
        target = targets[i % len(targets)]
        progress.value = i
        data = input_for(mutator, seeds, run_seed, target, i)
        t = time.perf_counter()
        try:
            harness.run(target, data)
            loaded[target] += 1
        except si.SecurinferError as e:
            msg = f"{type(e).__name__}: {e}"
            raw_messages.add(msg)
            errors[normalise(msg)] += 1
        except BaseException as e:  # noqa: BLE001  anything else is a finding
            if isinstance(e, KeyboardInterrupt):
                raise
            replay = f"{run_seed}:{target}:{i}"
            path = save_input(crash_dir, replay, data)
            findings.append({"replay": replay, "error": f"{type(e).__name__}: {e}", "path": str(path),
                             "traceback": traceback.format_exc(limit=6)})
        dt = time.perf_counter() - t
        if dt > slowest[0]:
            slowest = (dt, f"{run_seed}:{target}:{i}")
        if dt > slow_limit:
            replay = f"{run_seed}:{target}:{i}"
            findings.append({"replay": replay, "error": f"slow input: {dt:.2f} s", "path": str(save_input(crash_dir, replay, data))})
        tried[target] += 1
        i += 1
    result_queue.put({
        "tried": dict(tried), "loaded": dict(loaded), "errors": dict(errors), "raw_messages": len(raw_messages),
        "findings": findings, "seconds": time.perf_counter() - t0, "slowest": slowest, "next": i,
        "maxrss_mb": _maxrss_mb(),
    })


def _maxrss_mb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def save_input(crash_dir, replay, data):
    crash_dir.mkdir(parents=True, exist_ok=True)
    path = crash_dir / ("input-" + replay.replace(":", "-") + ".bin")
    path.write_bytes(data)
    return path


def run_builtin(args):
    import multiprocessing as mp

    run_seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(6), "little")
    targets = args.targets
    crash_dir = pathlib.Path(args.crash_dir)
    total = args.inputs if args.inputs else 1 << 62
    deadline = time.time() + args.seconds if args.seconds else float("inf")
    memlimit = 0 if (args.no_memlimit or "asan" in os.environ.get("LD_PRELOAD", "")) else args.memlimit_mb
    spawn = mp.get_context("spawn")  # never fork: the extension runs a thread pool
    limits = [f"{args.inputs} inputs" if args.inputs else "", f"{args.seconds:g} s" if args.seconds else ""]
    print(f"run seed {run_seed}; targets {', '.join(targets)}; up to {' or '.join(x for x in limits if x)}", flush=True)

    tried, loaded, errors = collections.Counter(), collections.Counter(), collections.Counter()
    findings, raw_messages, busy_seconds, maxrss = [], 0, 0.0, 0.0
    slowest = (0.0, None)
    next_index = 0
    t0 = time.time()
    chunk = args.chunk
    while next_index < total and time.time() < deadline:
        # Workers in parallel on consecutive chunks.
        jobs = []
        for _ in range(args.jobs):
            if next_index >= total:
                break
            n = min(chunk, total - next_index)
            progress = spawn.Value("q", next_index, lock=False)
            q = spawn.Queue()
            p = spawn.Process(target=worker, args=(run_seed, targets, next_index, n, deadline, args.slow, progress, q,
                                                   crash_dir, memlimit, args.threads, args.arith))
            p.start()
            jobs.append((p, q, progress, next_index, n))
            next_index += n
        for p, q, progress, start, n in jobs:
            result = None
            while result is None:
                try:
                    result = q.get(timeout=1.0)
                except Exception:  # noqa: BLE001  queue.Empty: still running?
                    if not p.is_alive():
                        break
            p.join()
            if result is None:  # the worker died: a native crash
                i = progress.value
                target = targets[i % len(targets)]
                replay = f"{run_seed}:{target}:{i}"
                path = ""
                try:  # the input again (mutations depend on the seeds' layout, not their random bytes)
                    import warnings

                    warnings.simplefilter("ignore")
                    _, seeds = make_seeds()
                    path = str(save_input(crash_dir, replay, input_for(Mutator(seeds), seeds, run_seed, target, i)))
                except Exception as e:  # noqa: BLE001
                    path = f"(not saved: {type(e).__name__}: {e})"
                findings.append({"replay": replay, "error": f"worker died (exit code {p.exitcode})", "path": path})
                tried[target] += 1
                # Go on after the crashing input.
                if len(jobs) == 1:
                    next_index = i + 1
                print(f"CRASH: worker died with exit code {p.exitcode} at {replay}", flush=True)
                continue
            tried.update(result["tried"])
            loaded.update(result["loaded"])
            errors.update(result["errors"])
            raw_messages += result["raw_messages"]
            findings += result["findings"]
            busy_seconds += result["seconds"]
            maxrss = max(maxrss, result["maxrss_mb"])
            if result["slowest"][0] > slowest[0]:
                slowest = tuple(result["slowest"])
            if result["next"] < start + n:  # stopped at the deadline
                next_index = min(next_index, result["next"]) if len(jobs) == 1 else next_index
        done = sum(tried.values())
        wall = time.time() - t0
        print(f"  {done} inputs, {done / max(wall, 1e-9):.0f}/s, {len(findings)} findings", flush=True)

    report(tried, loaded, errors, raw_messages, findings, time.time() - t0, slowest, maxrss, args.top)
    return 1 if findings else 0


def report(tried, loaded, errors, raw_messages, findings, wall, slowest, maxrss, top):
    total = sum(tried.values())
    crashes = len(findings)
    print()
    print(f"inputs tried: {total} in {wall:.1f} s ({total / max(wall, 1e-9):.0f} inputs/s)")
    for t in TARGETS:
        if tried.get(t):
            print(f"  {t:<11} tried {tried[t]:>9}  loaded {loaded.get(t, 0):>8}")
    print(f"crashes: {crashes}")
    for f in findings[:20]:
        print(f"  {f['replay']}: {f['error']}  (input {f.get('path', '')})")
        if f.get("traceback"):
            print("    " + f["traceback"].strip().replace("\n", "\n    "))
    print(f"distinct error messages: {len(errors)} kinds (numbers normalised), "
          f"{raw_messages} distinct texts (summed over workers)")
    for msg, n in errors.most_common(top):
        print(f"  {n:>9}  {msg}")
    if slowest[1]:
        print(f"slowest input: {slowest[0] * 1000:.1f} ms ({slowest[1]}); peak worker RSS {maxrss:.0f} MB")


def replay(args):
    import warnings

    warnings.simplefilter("always")
    import securinfer as si

    run_seed, target, index = args.replay.split(":")
    ctx, seeds = make_seeds()
    data = input_for(Mutator(seeds), seeds, int(run_seed), target, int(index))
    path = save_input(pathlib.Path(args.crash_dir), args.replay, data)
    print(f"input {args.replay}: {len(data)} bytes (saved to {path})", flush=True)
    try:
        Harness(ctx, seeds, arith_prob=1.0).run(target, data)
        print("loaded")
    except si.SecurinferError as e:
        print(f"{type(e).__name__}: {e}")
    return 0


# ------------------------------------------------------------ atheris engine
def run_atheris(args, libfuzzer_argv):
    import atheris  # noqa: F401  (pip install atheris)
    import warnings

    warnings.simplefilter("ignore")
    with atheris.instrument_imports():
        import securinfer as si

    ctx, seeds = make_seeds()
    mutator = Mutator(seeds)
    si.set_num_threads(args.threads)
    harness = Harness(ctx, seeds, args.arith)
    corpus = pathlib.Path(args.corpus)
    corpus.mkdir(parents=True, exist_ok=True)
    for k, t in enumerate(TARGETS):  # first byte: the target; the rest: the object
        (corpus / f"seed-{t}.bin").write_bytes(bytes([k]) + seeds[SEED_OF[t]])
    stats = {"tried": collections.Counter(), "loaded": collections.Counter(), "errors": collections.Counter(),
             "raw": set(), "t0": time.time(), "slowest": (0.0, None)}
    crash_dir = pathlib.Path(args.crash_dir)
    runs = next((int(a.split("=", 1)[1]) for a in libfuzzer_argv if a.startswith("-runs=")), -1)

    def maybe_report():
        done = sum(stats["tried"].values())
        if done % args.report_every == 0 or done == runs:  # libFuzzer exits without Python's atexit
            report(stats["tried"], stats["loaded"], stats["errors"], len(stats["raw"]), [], time.time() - stats["t0"],
                   stats["slowest"], _maxrss_mb(), args.top)

    def test_one_input(data: bytes):
        if not data:  # libFuzzer's first input
            stats["tried"]["(empty)"] += 1
            maybe_report()
            return
        target = TARGETS[data[0] % len(TARGETS)]
        body = data[1:]
        t = time.perf_counter()
        try:
            harness.run(target, body)
            stats["loaded"][target] += 1
        except si.SecurinferError as e:
            msg = f"{type(e).__name__}: {e}"
            stats["raw"].add(msg)
            stats["errors"][normalise(msg)] += 1
        except BaseException:
            save_input(crash_dir, f"atheris-{target}-{int(time.time())}", body)
            raise  # libFuzzer records the crash and stops
        finally:
            stats["tried"][target] += 1
            dt = time.perf_counter() - t
            if dt > stats["slowest"][0]:
                stats["slowest"] = (dt, target)
        maybe_report()

    def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        if not data or rng.random() < 0.3:
            return atheris.Mutate(data, max_size)
        target = TARGETS[data[0] % len(TARGETS)]
        out = bytes([data[0]]) + mutator.mutate(rng, data[1:], SEED_OF[target])
        return out[:max_size]

    argv = [sys.argv[0], *libfuzzer_argv]
    if not any(a.startswith("-max_len") for a in argv):
        argv.append(f"-max_len={max(len(s) for s in seeds.values()) * 2 + 64}")
    if not any(a.startswith("-rss_limit_mb") for a in argv):
        argv.append("-rss_limit_mb=4096")
    argv.append(str(corpus))
    atheris.Setup(argv, test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    libfuzzer_argv = []
    if "--" in argv:
        k = argv.index("--")
        argv, libfuzzer_argv = argv[:k], argv[k + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=0, help="stop after this many inputs (all targets together)")
    ap.add_argument("--seconds", type=float, default=0, help="stop after this long")
    ap.add_argument("--targets", default=",".join(TARGETS), help="comma-separated subset of " + ", ".join(TARGETS))
    ap.add_argument("--seed", type=int, default=None, help="run seed (default: from os.urandom)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes")
    ap.add_argument("--threads", type=int, default=1, help="securinfer threads per worker (the pool spins: keep 1)")
    ap.add_argument("--arith", type=float, default=0.05,
                    help="probability of also computing on a loaded object (products, rotations, sums)")
    ap.add_argument("--chunk", type=int, default=50_000, help="inputs per worker process")
    ap.add_argument("--slow", type=float, default=2.0, help="an input slower than this (seconds) is a finding")
    ap.add_argument("--memlimit-mb", type=int, default=3072, help="address-space limit of a worker (MemoryError = finding)")
    ap.add_argument("--no-memlimit", action="store_true", help="no address-space limit (implied under ASan)")
    ap.add_argument("--top", type=int, default=12, help="how many of the most frequent errors to print")
    ap.add_argument("--crash-dir", default=str(HERE / "crashes"))
    ap.add_argument("--replay", help="RUNSEED:TARGET:INDEX: rebuild and run one input")
    ap.add_argument("--atheris", action="store_true", help="use atheris/libFuzzer; arguments after -- go to libFuzzer")
    ap.add_argument("--corpus", default=str(HERE / "corpus"), help="atheris seed corpus directory (written at start)")
    ap.add_argument("--report-every", type=int, default=50_000, help="atheris: print the stats every N inputs")
    args = ap.parse_args(argv)
    args.targets = [t for t in args.targets.split(",") if t]
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        ap.error(f"unknown targets: {', '.join(sorted(unknown))}")
    if args.replay:
        return replay(args)
    if args.atheris:
        return run_atheris(args, libfuzzer_argv)
    if not args.inputs and not args.seconds:
        args.seconds = 60
    return run_builtin(args)


if __name__ == "__main__":
    sys.exit(main())
