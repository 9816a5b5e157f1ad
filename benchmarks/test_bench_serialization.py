"""Serialized sizes and serialize / load times, securinfer beside TenSEAL, at
N = 8192 [60, 40, 40, 60] (one thread).

Sizes are recorded in each benchmark's extra_info ("bytes") and printed by
report.py's size table; the timings are the serialize and load calls.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

import securinfer as si

from _bench_common import CKKS_PARAMS, ts

N = 8192
HEADER = 40  # securinfer's object header (csrc/io/header.h)


def object_sizes(blob: bytes) -> dict:
    """Sizes of the objects inside a serialized securinfer context."""
    names = {1: "parameters", 2: "public key", 3: "relin key", 4: "galois keys", 5: "secret key"}
    sizes, pos = {}, HEADER
    while pos < len(blob):
        kind = struct.unpack_from("<H", blob, pos + 6)[0]
        payload = struct.unpack_from("<Q", blob, pos + 16)[0]
        sizes[names[kind]] = HEADER + payload
        pos += HEADER + payload
    return sizes


@pytest.fixture(scope="module")
def ours():
    si.set_num_threads(1)
    ctx = si.Context.create(**CKKS_PARAMS[N])
    ctx.generate_rotation_keys()  # power-of-two steps, both directions
    x = np.random.default_rng(0).uniform(-1, 1, ctx.slots)
    return ctx, x


@pytest.fixture(scope="module")
def theirs():
    if ts is None:
        pytest.skip("tenseal not installed")
    ctx = ts.context(ts.SCHEME_TYPE.CKKS, N, coeff_mod_bit_sizes=CKKS_PARAMS[N]["coeff_bits"], n_threads=1)
    ctx.global_scale = 2.0**40
    ctx.generate_galois_keys()
    x = list(np.random.default_rng(0).uniform(-1, 1, N // 2))
    return ctx, x


def _record(benchmark, library, what, nbytes):
    benchmark.group = f"serialization N={N}: {what}"
    benchmark.extra_info.update(library=library, op=what, bytes=int(nbytes), N=N, threads=1)


@pytest.mark.parametrize("kind", ["fresh symmetric", "fresh public-key", "after one multiplication"])
def test_ciphertext_serialize(benchmark, ours, kind):
    ctx, x = ours
    ct = {"fresh symmetric": lambda: ctx.encrypt(x), "fresh public-key": lambda: ctx.public().encrypt(x),
          "after one multiplication": lambda: ctx.encrypt(x) * ctx.encrypt(x)}[kind]()
    data = benchmark(ct.serialize)
    _record(benchmark, "securinfer", f"ciphertext {kind}: serialize", len(data))
    assert np.allclose(ctx.decrypt(si.Ciphertext.load(data, ctx))[:8], (x * x if "mult" in kind else x)[:8], atol=1e-4)


@pytest.mark.parametrize("kind", ["fresh symmetric", "fresh public-key"])
def test_ciphertext_load(benchmark, ours, kind):
    ctx, x = ours
    ct = ctx.encrypt(x) if kind == "fresh symmetric" else ctx.public().encrypt(x)
    data = ct.serialize()
    loaded = benchmark(si.Ciphertext.load, data, ctx)
    _record(benchmark, "securinfer", f"ciphertext {kind}: load (validated)", len(data))
    assert np.allclose(ctx.decrypt(loaded)[:8], x[:8], atol=1e-6)


def test_tenseal_ciphertext(benchmark, theirs):
    ctx, x = theirs
    vec = ts.ckks_vector(ctx, x)
    data = benchmark(vec.serialize)
    _record(benchmark, "tenseal", "ciphertext fresh public-key: serialize", len(data))
    assert np.allclose(ts.ckks_vector_from(ctx, data).decrypt()[:8], x[:8], atol=1e-4)


def test_tenseal_ciphertext_load(benchmark, theirs):
    ctx, x = theirs
    data = ts.ckks_vector(ctx, x).serialize()
    loaded = benchmark(ts.ckks_vector_from, ctx, data)
    _record(benchmark, "tenseal", "ciphertext fresh public-key: load (validated)", len(data))
    assert np.allclose(loaded.decrypt()[:8], x[:8], atol=1e-4)


def test_keys(benchmark, ours):
    ctx, _ = ours
    blob = benchmark.pedantic(ctx.public().serialize, rounds=3, iterations=1)
    sizes = object_sizes(blob)
    _record(benchmark, "securinfer", "public context (all keys): serialize", len(blob))
    benchmark.extra_info.update({f"bytes {k}": v for k, v in sizes.items()})
    print("securinfer key sizes:", sizes)
    assert "secret key" not in sizes


def test_tenseal_keys(benchmark, theirs):
    ctx, _ = theirs
    blob = benchmark.pedantic(lambda: ctx.serialize(save_secret_key=False), rounds=3, iterations=1)
    _record(benchmark, "tenseal", "public context (all keys): serialize", len(blob))
    parts = {
        "public key": len(ctx.serialize(save_public_key=True, save_secret_key=False, save_galois_keys=False,
                                        save_relin_keys=False)),
        "relin key": len(ctx.serialize(save_public_key=False, save_secret_key=False, save_galois_keys=False,
                                       save_relin_keys=True)),
        "galois keys": len(ctx.serialize(save_public_key=False, save_secret_key=False, save_galois_keys=True,
                                         save_relin_keys=False)),
    }
    benchmark.extra_info.update({f"bytes {k}": v for k, v in parts.items()})
    print("tenseal key sizes (each with the parameters):", parts)
