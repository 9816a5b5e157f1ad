"""CKKS scheme benchmarks, securinfer and TenSEAL side by side.

Parameters: N=8192 with coeff_bits [60, 40, 40, 60] and N=16384 with
[60] + [40]*6 + [60], scale 2^40; 1 and 2 threads. Each benchmark's group is
"ckks N=<n> t=<threads>: <operation>", so ``--benchmark-group-by=group`` puts
the two libraries in one table. Products include relinearisation and
rescaling in both libraries (TenSEAL's auto_relin/auto_rescale defaults).

Notes on fairness (also in README.md):
- TenSEAL takes Python lists; data are converted before timing. Its decrypt()
  returns a Python list (that conversion is timed: it is TenSEAL's API).
- TenSEAL has no rotation API; its rotations call SEAL's Evaluator.rotate_vector
  through tenseal.sealapi. SEAL has no hoisted rotations, so its 16-rotation
  entry is always 16 separate rotations. Both libraries hold exact keys for
  steps 1..16 (see conftest.EXTRA_ROTATION_STEPS).
- TenSEAL's n_threads only parallelises its multi-ciphertext tensor code; the
  single-ciphertext operations here run on one thread whatever it is set to.
"""

from __future__ import annotations

import numpy as np
import pytest

import securinfer as si
from securinfer.presets import PRESETS

from _bench_common import CKKS_PARAMS, OURS, TENSEAL, assert_close, ckks_info, set_info, ts

DOT_LENGTH = 512
ROTATION_STEPS = list(range(1, 17))


def full_vector(rng, slots):
    return rng.uniform(-1.0, 1.0, slots)


# --------------------------------------------------------------------------- key generation
def _keygen_ours(n):
    ctx = si.Context.create(**CKKS_PARAMS[n])
    # conjugation=True: the same key set as SEAL's create_galois_keys()
    # (power-of-two steps both ways plus conjugation).
    ctx.generate_rotation_keys(conjugation=True)
    return ctx


def _keygen_tenseal(n, threads):
    p = CKKS_PARAMS[n]
    ctx = ts.context(ts.SCHEME_TYPE.CKKS, n, coeff_mod_bit_sizes=p["coeff_bits"], n_threads=threads)
    ctx.global_scale = 2.0 ** p["scale_bits"]
    ctx.generate_galois_keys()
    return ctx


def test_keygen(benchmark, ckks_n, library, threads, slow_rounds, rng):
    """Parameters plus secret, public, relinearisation and Galois keys."""
    op = "keygen (sk+pk+relin+galois)"
    set_info(benchmark, group=f"ckks N={ckks_n} t={threads}: {op}", library=library, kind="ckks", op=op,
             variant="", N=ckks_n, coeff_bits=CKKS_PARAMS[ckks_n]["coeff_bits"], threads=threads,
             path=si.simd_info()["active"] if library == OURS else "seal")
    x = rng.uniform(-1, 1, 8)
    if library == OURS:
        ctx = benchmark.pedantic(_keygen_ours, args=(ckks_n,), rounds=slow_rounds, iterations=1)
        assert ctx.poly_degree == ckks_n
        assert_close(ctx.decrypt(ctx.encrypt(x).rotate(1)), np.roll(np.pad(x, (0, ctx.slots - 8)), -1)[:8])
    else:
        ctx = benchmark.pedantic(_keygen_tenseal, args=(ckks_n, threads), rounds=slow_rounds, iterations=1)
        assert ctx.has_galois_keys() and ctx.has_relin_keys()
        assert_close(ts.ckks_vector(ctx, x.tolist()).sum().decrypt(), [x.sum()])


# --------------------------------------------------------------------------- encryption
@pytest.mark.parametrize("mode", ["secret-key", "public-key"])
def test_encrypt(benchmark, backends, library, threads, mode, rng):
    """Encrypt a full-slot vector (encode included). securinfer: Context.encrypt
    (secret key) or its public() copy; TenSEAL: a context made with
    encryption_type SYMMETRIC or the default ASYMMETRIC."""
    be = backends.get(library, threads, symmetric=(mode == "secret-key"))
    ckks_info(benchmark, be, threads, f"encrypt ({mode})")
    x = full_vector(rng, be.slots)
    data = be.prepare(x)
    fn = be.encrypt if mode == "secret-key" else be.encrypt_public
    ct = benchmark(fn, data)
    assert_close(be.decrypt(ct), x)


def test_decrypt(benchmark, backend, threads, rng):
    """Decrypt and decode a full-slot vector."""
    ckks_info(benchmark, backend, threads, "decrypt")
    x = full_vector(rng, backend.slots)
    ct = backend.encrypt(backend.prepare(x))
    out = benchmark(backend.decrypt, ct)
    assert_close(out, x)


# --------------------------------------------------------------------------- arithmetic
def test_add(benchmark, backend, threads, rng):
    ckks_info(benchmark, backend, threads, "add ct+ct")
    x, y = full_vector(rng, backend.slots), full_vector(rng, backend.slots)
    a, b = backend.encrypt(backend.prepare(x)), backend.encrypt(backend.prepare(y))
    out = benchmark(backend.add, a, b)
    assert_close(backend.decrypt(out), x + y)


def test_multiply(benchmark, backend, threads, rng):
    """ct * ct with relinearisation and rescaling."""
    ckks_info(benchmark, backend, threads, "multiply ct*ct (relin+rescale)")
    x, y = full_vector(rng, backend.slots), full_vector(rng, backend.slots)
    a, b = backend.encrypt(backend.prepare(x)), backend.encrypt(backend.prepare(y))
    out = benchmark(backend.mul, a, b)
    assert_close(backend.decrypt(out), x * y)


def test_multiply_plain(benchmark, backend, threads, rng):
    """ct * plaintext vector (encode + multiply + rescale)."""
    ckks_info(benchmark, backend, threads, "multiply ct*plain (rescale)")
    x, p = full_vector(rng, backend.slots), full_vector(rng, backend.slots)
    a = backend.encrypt(backend.prepare(x))
    plain = backend.prepare(p)
    out = benchmark(backend.mul_plain, a, plain)
    assert_close(backend.decrypt(out), x * p)


# --------------------------------------------------------------------------- rotations
def test_rotate_1(benchmark, backend, threads, rng):
    """Rotation by one slot (exact key)."""
    ckks_info(benchmark, backend, threads, "rotate by 1")
    x = full_vector(rng, backend.slots)
    a = backend.encrypt(backend.prepare(x))
    out = benchmark(backend.rotate, a, 1)
    assert_close(backend.decrypt(out), np.roll(x, -1))


@pytest.mark.parametrize("variant", ["hoisted", "separate"])
def test_rotate_16(benchmark, backend, threads, variant, rng):
    """Rotations by 1..16 of one ciphertext: securinfer's hoisted rotate_many
    (one decomposition) and, for contrast, 16 separate rotate(k) calls; TenSEAL
    (SEAL) only has separate rotations."""
    if backend.library == TENSEAL and variant == "hoisted":
        pytest.skip("SEAL/TenSEAL has no hoisted rotations (its separate ones are the comparison)")
    ckks_info(benchmark, backend, threads, "16 rotations (steps 1..16)", variant=variant)
    x = full_vector(rng, backend.slots)
    a = backend.encrypt(backend.prepare(x))
    fn = backend.rotate_hoisted if variant == "hoisted" else backend.rotate_separate
    outs = benchmark(fn, a, ROTATION_STEPS)
    assert len(outs) == len(ROTATION_STEPS)
    for k in (0, 7, 15):  # spot checks: decrypting all 16 would dominate a smoke run
        assert_close(backend.decrypt(outs[k]), np.roll(x, -ROTATION_STEPS[k]))


# --------------------------------------------------------------------------- reductions
def test_sum(benchmark, backend, threads, rng):
    """Sum of all slots (log2(slots) rotations and additions)."""
    ckks_info(benchmark, backend, threads, "sum of all slots")
    x = full_vector(rng, backend.slots)
    a = backend.encrypt(backend.prepare(x))
    out = benchmark(backend.sum, a)
    assert_close(backend.decrypt(out)[:1], [x.sum()])


def test_dot(benchmark, backend, threads, rng):
    """Dot product of two encrypted 512-vectors (multiply, relin, rescale, sum)."""
    ckks_info(benchmark, backend, threads, f"dot of two {DOT_LENGTH}-vectors")
    x, y = rng.uniform(-1, 1, DOT_LENGTH), rng.uniform(-1, 1, DOT_LENGTH)
    a, b = backend.encrypt(backend.prepare(x)), backend.encrypt(backend.prepare(y))
    out = benchmark(backend.dot, a, b)
    assert_close(backend.decrypt(out)[:1], [float(np.dot(x, y))])


# --------------------------------------------------------------------------- the "fast" preset's chain
# The same operations on the chain the "fast" preset picks ([49, 40, 40] + [49]:
# every prime below 2^50, so the FMA-on-doubles and IFMA kernels apply), with
# TenSEAL given the very same chain. One thread.
FAST_CHAIN = PRESETS["fast"]["coeff_bits"]


@pytest.fixture(scope="module")
def fast_pair():
    from _bench_common import sealapi

    if ts is None:
        pytest.skip("TenSEAL not installed")
    ours = si.Context.create(preset="fast")
    ours.generate_rotation_keys(steps=[1])
    theirs = ts.context(ts.SCHEME_TYPE.CKKS, 8192, coeff_mod_bit_sizes=FAST_CHAIN, n_threads=1)
    theirs.global_scale = 2.0**40
    seal = theirs.seal_context().data
    keygen = sealapi.KeyGenerator(seal, theirs.secret_key().data)
    rot_keys = sealapi.GaloisKeys()
    keygen.create_galois_keys(sorted(set(seal.key_context_data().galois_tool().get_elts_from_steps([1]))), rot_keys)
    return ours, theirs, seal, rot_keys


@pytest.mark.parametrize("library", [OURS, TENSEAL])
@pytest.mark.parametrize("op", ["multiply ct*ct (relin+rescale)", "rotate by 1", "decrypt"])
def test_fast_preset(benchmark, fast_pair, library, op, rng):
    from _bench_common import sealapi

    ours, theirs, seal, rot_keys = fast_pair
    threads_before = si.get_num_threads()
    si.set_num_threads(1)
    try:
        _fast_preset_case(benchmark, ours, theirs, seal, rot_keys, sealapi, library, op, rng)
    finally:
        si.set_num_threads(threads_before)


def _fast_preset_case(benchmark, ours, theirs, seal, rot_keys, sealapi, library, op, rng):
    set_info(benchmark, group=f"ckks N=8192 {FAST_CHAIN} t=1: {op}", library=library, kind="ckks", op=op,
             variant="fast preset", N=8192, coeff_bits=FAST_CHAIN, threads=1,
             path=si.simd_info()["active"] if library == OURS else "seal")
    x, y = full_vector(rng, 4096), full_vector(rng, 4096)
    if library == OURS:
        a, b = ours.encrypt(x), ours.encrypt(y)
        if op.startswith("multiply"):
            out = benchmark(lambda: a * b)
            assert_close(ours.decrypt(out), x * y)
        elif op.startswith("rotate"):
            out = benchmark(a.rotate, 1)
            assert_close(ours.decrypt(out), np.roll(x, -1))
        else:
            assert_close(benchmark(ours.decrypt, a), x)
        return
    a, b = ts.ckks_vector(theirs, x.tolist()), ts.ckks_vector(theirs, y.tolist())
    if op.startswith("multiply"):
        out = benchmark(lambda: a * b)
        assert_close(np.asarray(out.decrypt()), x * y)
    elif op.startswith("rotate"):
        evaluator = sealapi.Evaluator(seal)

        def rotate():
            out = sealapi.Ciphertext(seal)
            evaluator.rotate_vector(a.ciphertext()[0], 1, rot_keys, out)
            return out

        out = benchmark(rotate)
        plain = sealapi.Plaintext()
        sealapi.Decryptor(seal, theirs.secret_key().data).decrypt(out, plain)
        assert_close(np.asarray(sealapi.CKKSEncoder(seal).decode_double(plain)), np.roll(x, -1))
    else:
        assert_close(np.asarray(benchmark(a.decrypt)), x)
