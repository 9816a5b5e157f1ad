"""Byte-mutation fuzzing of every loader (a short run; fuzz/fuzz_loaders.py is
the long one).

Each input, made from a valid object by Hypothesis-drawn mutations (bit flips,
byte overwrites, truncation, insertion, deletion, header fields set to edge
values, splices of two objects), must either load -- and then work: a loaded
context encrypts (and decrypts its own ciphertext when it has the secret key),
a loaded ciphertext decrypts to finite values or raises a SecurinferError -- or
raise a securinfer.SecurinferError. Any other exception fails the test. Some
mutations load legitimately (a flipped coefficient bit that stays below its
prime): that is fine.
"""

import functools
import hashlib
import pickle
import struct
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import securinfer as si
from securinfer.ciphertext import _unpickle
from securinfer._registry import register as _register
from securinfer.context import _load_public

HEADER = 64  # format v2 (io/header.h)
# (offset, width) of the header fields after the magic bytes.
FIELDS = {"version": (4, 2), "type": (6, 2), "flags": (8, 4), "reserved": (12, 4), "payload_size": (16, 8),
          "fingerprint": (24, 32), "key_id": (56, 8)}
# A ciphertext's payload before its polynomials: level, polynomial count,
# length, padding, period, complex flag, scale.
CT_FIELDS = 21
KINDS = ["ctx_public", "ctx_secret", "ctx_encap", "ct_seeded", "ct_public", "ct_product"]


@functools.lru_cache(maxsize=None)
def get_world():
    """The seed objects (built once; not a fixture, so Hypothesis never prints them)."""
    ctx = si.Context.create(poly_degree=4096, coeff_bits=[38, 30, 40], scale_bits=30)
    ctx.generate_rotation_keys(steps=[1])
    x = np.linspace(-1.0, 1.0, 8)
    fresh = ctx.encrypt(x)
    seeds = {
        "ctx_public": ctx.public().serialize(),
        "ctx_secret": ctx.serialize(secret_key=True),
        "ct_seeded": fresh.serialize(),  # c0 and a 32-byte seed
        "ct_public": ctx.public().encrypt(x).serialize(),  # two full polynomials
        "ct_product": (fresh * fresh).serialize(),  # one level down
    }
    # A public context carrying bootstrapping's encapsulation keys (their own
    # key set: the other seeds stay as they were).
    from securinfer._core import bootstrap as _boot

    enc_ctx = si.Context.create(poly_degree=4096, coeff_bits=[38, 30, 40], scale_bits=30)
    _boot.install_encapsulation_keys(enc_ctx._keys, _boot.make_encapsulation_keys(enc_ctx._core, enc_ctx._keys, 32))
    seeds["ctx_encap"] = enc_ctx.public().serialize()
    public = si.Context.load(seeds["ctx_public"])
    return {"ctx": ctx, "public": public, "seeds": seeds, "headers": {k: header_offsets(v) for k, v in seeds.items()}}


def header_offsets(blob):
    """Offsets of the outer and every nested object header."""
    out, i = [], blob.find(b"SINF")
    while 0 <= i <= len(blob) - HEADER:
        version, typ = struct.unpack_from("<HH", blob, i + 4)
        if version == 2 and 1 <= typ <= 9:
            out.append(i)
        i = blob.find(b"SINF", i + 1)
    return out


# ------------------------------------------------------------------ checking
def _finite(values):
    assert np.all(np.isfinite(values)), "decrypted to non-finite values"


def use_context(c):
    """A loaded context must work: encrypt, and decrypt what it encrypted."""
    try:
        ct = c.encrypt(np.ones(4))
        assert isinstance(c.rotation_steps, list)
        if c.has_secret_key:
            _finite(c.decrypt(ct))
    except si.SecurinferError:
        pass


def use_ciphertext(ct, world):
    """A loaded ciphertext decrypts to finite values (or raises a SecurinferError)."""
    try:
        _finite(world["ctx"].decrypt(ct))
        _finite(world["ctx"].decrypt(ct + ct))
    except si.SecurinferError:
        pass


class _Reduce:
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def check_input(kind, data, world, via_pickle=False):
    """Loads `data` as `kind`: it loads and works, or raises a SecurinferError. Returns whether it loaded."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if kind.startswith("ctx"):
                if via_pickle:
                    c = pickle.loads(pickle.dumps(_Reduce(_load_public, (data,))))
                else:
                    c = si.Context.load(data)
                use_context(c)
            else:
                if via_pickle:
                    ctx = world["public"]
                    _register(ctx)  # a context loaded since may have taken the registry slot
                    ct = pickle.loads(pickle.dumps(_Reduce(_unpickle, (data, ctx.parameters.canonical_bytes,
                                                                       ctx._keys.key_id))))
                else:
                    ct = si.Ciphertext.load(data, world["ctx"] if len(data) % 2 else world["public"])
                use_ciphertext(ct, world)
            return True
        except si.SecurinferError:
            return False


# ------------------------------------------------------------------ mutations
# Positions: mostly near the structure (the first bytes, around nested headers), else anywhere.
position = st.one_of(
    st.tuples(st.just("start"), st.integers(0, 127)),
    st.tuples(st.just("header"), st.integers(0, 64), st.integers(-8, HEADER + 32)),
    st.tuples(st.just("anywhere"), st.floats(0.0, 1.0, exclude_max=True)),
)


def edge_values(width):
    top = (1 << (8 * width)) - 1
    return st.one_of(st.sampled_from([0, 1, 2, 3, 7, 8, 0x7F, 0x80, 0xFF, top, top - 1, top >> 1, (top >> 1) + 1]),
                     st.integers(0, top))


mutation = st.one_of(
    st.tuples(st.just("flip"), position, st.integers(0, 7)),
    st.tuples(st.just("overwrite"), position, st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("truncate"), position),
    st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("delete"), position, st.integers(1, 300)),
    st.sampled_from(list(FIELDS)).flatmap(
        lambda f: st.tuples(st.just("field"), st.integers(0, 64), st.just(f), edge_values(FIELDS[f][1]))),
    st.tuples(st.just("splice"), st.sampled_from(KINDS), position, st.floats(0.0, 1.0)),
    st.tuples(st.just("concat"), st.sampled_from(KINDS), st.booleans()),
)


def locate(pos, data, headers):
    if not data:
        return 0
    if pos[0] == "start":
        i = pos[1]
    elif pos[0] == "header":
        i = headers[pos[1] % len(headers)] + pos[2]
    else:
        i = int(pos[1] * len(data))
    return min(max(i, 0), len(data) - 1)


def apply(mutations, blob, headers, seeds, fix_size):
    d = bytearray(blob)
    for m in mutations:
        op = m[0]
        if op in ("flip", "overwrite", "truncate", "insert", "delete"):
            i = locate(m[1], d, headers)
            if op == "flip" and d:
                d[i] ^= 1 << m[2]
            elif op == "overwrite":
                d[i:i + len(m[2])] = m[2]
            elif op == "truncate":
                d = d[:i]
            elif op == "insert":
                d[i:i] = m[2]
            elif op == "delete":
                del d[i:i + m[2]]
        elif op == "field":
            _, which, field, value = m
            h = headers[which % len(headers)]
            off, width = FIELDS[field]
            if h + off + width <= len(d):
                d[h + off:h + off + width] = value.to_bytes(width, "little")
        elif op == "splice":
            other = seeds[m[1]]
            i = locate(m[2], d, headers)
            d = d[:i] + other[int(m[3] * len(other)):]
        elif op == "concat":
            d = d + seeds[m[1]] if m[2] else bytearray(seeds[m[1]]) + d
    if fix_size and len(d) >= HEADER:  # lets the mutation past the outer size check
        d[16:24] = (len(d) - HEADER).to_bytes(8, "little")
    return bytes(d)


FUZZ = settings(deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _fuzz(kind, world, mutations, fix_size, via_pickle=False):
    data = apply(mutations, world["seeds"][kind], world["headers"][kind], world["seeds"], fix_size)
    check_input(kind, data, world, via_pickle)


@pytest.mark.parametrize("kind", ["ct_seeded", "ct_public", "ct_product"])
@settings(FUZZ, max_examples=200)
@given(mutations=st.lists(mutation, min_size=1, max_size=3), fix_size=st.booleans())
def test_ciphertext_loader_survives_mutations(kind, mutations, fix_size):
    world = get_world()
    _fuzz(kind, world, mutations, fix_size)


@pytest.mark.parametrize("kind", ["ctx_public", "ctx_secret", "ctx_encap"])
@settings(FUZZ, max_examples=80)
@given(mutations=st.lists(mutation, min_size=1, max_size=3), fix_size=st.booleans())
def test_context_loader_survives_mutations(kind, mutations, fix_size):
    world = get_world()
    _fuzz(kind, world, mutations, fix_size)


@pytest.mark.parametrize("kind", ["ctx_public", "ct_seeded"])
@settings(FUZZ, max_examples=50)
@given(mutations=st.lists(mutation, min_size=1, max_size=3), fix_size=st.booleans())
def test_pickle_loaders_survive_mutations(kind, mutations, fix_size):
    world = get_world()
    _fuzz(kind, world, mutations, fix_size, via_pickle=True)


# ------------------------------------------------------- systematic edge cases
@pytest.mark.parametrize("kind", KINDS)
def test_header_fields_at_edge_values(kind):
    """Every header field of every (nested) object at edge values: refused cleanly."""
    world = get_world()
    blob, loaded = world["seeds"][kind], 0
    for h in world["headers"][kind]:
        for field, (off, width) in FIELDS.items():
            top = (1 << (8 * width)) - 1
            orig = int.from_bytes(blob[h + off:h + off + width], "little")
            for value in {0, 1, 2, 0x80, top, top >> 1, (orig + 1) & top, (orig - 1) & top} - {orig}:
                d = bytearray(blob)
                d[h + off:h + off + width] = value.to_bytes(width, "little")
                loaded += check_input(kind, bytes(d), world)
    # Every field of every header is checked: nothing loads.
    assert loaded == 0


@pytest.mark.parametrize("kind", KINDS)
def test_truncation_everywhere(kind):
    """Every prefix around the headers, and a stride through the rest: all refused."""
    world = get_world()
    blob = world["seeds"][kind]
    cuts = set(range(0, 2 * HEADER + 64))
    for h in world["headers"][kind]:
        cuts.update(range(max(0, h - 4), min(len(blob), h + HEADER + 24)))
    cuts.update(range(0, len(blob), 1999 if kind.startswith("ct") else 9973))
    cuts.update([len(blob) - 1, len(blob) - 32, len(blob) - 33])
    for cut in sorted(cuts):
        assert not check_input(kind, blob[:cut], world), cut


@pytest.mark.parametrize("kind", ["ct_seeded", "ct_public", "ct_product"])
def test_ciphertext_payload_fields_at_edge_values(kind):
    """Level, polynomial count, length, slot state and scale set to edge values."""
    world = get_world()
    blob = world["seeds"][kind]
    edits = [(0, "<H", v) for v in (0, 1, 2, 3, 0xFFFF)]
    edits += [(2, "<B", v) for v in (0, 1, 2, 3, 4, 0xFF)]
    edits += [(3, "<I", v) for v in (0, 1, 2048, 2049, 0xFFFFFFFF)]
    edits += [(7, "<B", v) for v in (0, 1, 2, 3, 0xFF)]
    edits += [(8, "<I", v) for v in (0, 1, 3, 8, 16, 2048, 4096, 0xFFFFFFFF)]
    edits += [(12, "<B", v) for v in (0, 1, 2, 0xFF)]
    edits += [(13, "<d", v) for v in (float("nan"), float("inf"), -1.0, 0.0, 0.5, 1.0, 2.0**68, 2.0**69, 1e308)]
    for off, fmt, value in edits:
        d = bytearray(blob)
        struct.pack_into(fmt, d, HEADER + off, value)
        check_input(kind, bytes(d), world)


def test_third_polynomial():
    """A ciphertext claiming and carrying three polynomials loads, decrypts, and is refused where unsupported."""
    world = get_world()
    blob = world["seeds"]["ct_public"]
    polys = blob[HEADER + CT_FIELDS:]
    d = bytearray(blob[:HEADER + CT_FIELDS] + polys + polys[: len(polys) // 2])
    d[HEADER + 2] = 3
    d[16:24] = (len(d) - HEADER).to_bytes(8, "little")
    ct = si.Ciphertext.load(bytes(d), world["ctx"])
    assert ct.level == 1
    _finite(world["ctx"].decrypt(ct))
    for op in (lambda c: c.rotate(1), lambda c: c * c):
        with pytest.raises(si.SecurinferError):
            op(ct)


def _fnv(values):
    h = 0xCBF29CE484222325
    for v in values:
        for i in range(8):
            h = ((h ^ ((v >> (8 * i)) & 0xFF)) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _is_prime(n):
    if n < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _canonical(n, q, p, scale_bits, enforce):
    """CkksParameters::canonical_bytes, written from its definition."""
    out = b"securinfer.ckks.parameters.v1" + struct.pack("<QI", n, len(q)) + b"".join(struct.pack("<Q", x) for x in q)
    out += struct.pack("<I", len(p)) + b"".join(struct.pack("<Q", x) for x in p)
    return out + struct.pack("<QB", scale_bits, enforce)


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("enforce", [0, 1])
def test_tiny_context_claiming_huge_parameters_is_refused_before_building(enforce, version):
    """A ~1 KB context (parameters only: N = 2^17 and 120-128 small NTT primes,
    within the 128-bit bound when enforced) once made the loader build the
    whole context -- ~800 MB and over a second -- before finding the keys
    missing. The key sizes the parameters imply are now checked first."""
    n, count = 131072, (120 if enforce else 128)
    primes, k = [], 1
    while len(primes) < count:
        if _is_prime(k * 2 * n + 1):
            primes.append(k * 2 * n + 1)
        k += 1
    q, p = primes[:-1], primes[-1:]
    scale = struct.unpack("<Q", struct.pack("<d", 1024.0))[0]
    if version == 1:
        fp = struct.pack("<Q", _fnv([n, len(q), *q, len(p), *p, scale]))
    else:
        fp = hashlib.sha256(_canonical(n, q, p, scale, enforce)).digest()
    body = struct.pack("<IHH", n, len(q), len(p)) + b"".join(struct.pack("<Q", x) for x in q + p)
    body += struct.pack("<QB", scale, enforce)

    def header(typ, size, key_id):
        return b"SINF" + struct.pack("<HHIIQ", version, typ, 0, 0, size) + fp + struct.pack("<Q", key_id)

    params = header(1, len(body), 0) + body
    blob = header(8, len(params), 1) + params
    assert len(blob) < 1200
    t = time.perf_counter()
    with pytest.raises(si.SerializationError, match="too short for the keys"):
        si.Context.load(blob, security=None if not enforce else "128")
    assert time.perf_counter() - t < 0.5
