"""Round trips, compact sizes, the secret key never leaking, and fixtures of
the current format that must keep loading."""

import pathlib
import pickle

import numpy as np
import pytest

import securinfer as si

DATA = pathlib.Path(__file__).parent.parent / "data"


@pytest.fixture(scope="module")
def ctx():
    c = si.Context.create(poly_degree=8192, coeff_bits=[60, 40, 40, 60], scale_bits=40)
    c.generate_rotation_keys(steps=[1, 2])
    return c


def test_ciphertext_round_trip_is_exact(ctx):
    x = np.random.default_rng(0).uniform(-1, 1, 4096)
    for ct in (ctx.encrypt(x), ctx.public().encrypt(x), ctx.encrypt(x) * ctx.encrypt(x), ctx.encrypt(x).rotate(1)):
        back = si.Ciphertext.load(ct.serialize(), ctx)
        assert (back.level, back.size, back.scale) == (ct.level, ct.size, ct.scale)
        assert np.array_equal(ctx.decrypt(back), ctx.decrypt(ct))


def test_sizes_are_compact(ctx):
    x = np.ones(4096)
    symmetric = len(ctx.encrypt(x).serialize())
    public = len(ctx.public().encrypt(x).serialize())
    packed_limbs = 8192 * (60 + 40 + 40) // 8
    print(f"symmetric {symmetric} B, public-key {public} B")
    assert symmetric <= packed_limbs + 200  # c0 packed + a 32-byte seed + header
    assert public <= 2 * packed_limbs + 200
    assert symmetric <= 160_000 and public <= 290_000


def test_context_round_trip_and_server_use(ctx):
    server = si.Context.load(ctx.public().serialize())
    assert not server.has_secret_key and server.fingerprint == ctx.fingerprint
    assert server.rotation_steps == ctx.rotation_steps
    x = np.arange(8.0)
    y = (server.encrypt(x) * 2.0).rotate(1)  # the server encrypts and computes with loaded keys
    full = np.zeros(ctx.slots)
    full[:8] = 2 * x
    assert np.allclose(ctx.decrypt(si.Ciphertext.load(y.serialize(), ctx)), np.roll(full, -1), atol=1e-5)


def test_secret_key_only_on_request(ctx):
    public_bytes = ctx.public().serialize()
    default_bytes = ctx.serialize()
    assert len(default_bytes) == len(public_bytes)
    assert not si.Context.load(default_bytes).has_secret_key
    full = si.Context.load(ctx.serialize(secret_key=True))
    assert full.has_secret_key
    ct = ctx.encrypt(np.array([1.5, -2.0]))
    assert np.allclose(full.decrypt(si.Ciphertext.load(ct.serialize(), full)), [1.5, -2.0], atol=1e-6)
    with pytest.raises(si.MissingKeyError):
        ctx.public().serialize(secret_key=True)


def test_secret_coefficients_never_appear_in_public_bytes(ctx):
    secret_bytes = ctx.serialize(secret_key=True)
    public_bytes = ctx.public().serialize()
    # The secret key is the last object: its packed limbs are the tail.
    tail = secret_bytes[len(public_bytes) + 40 :]  # skip the secret key's own header
    assert len(tail) > 8192
    for start in range(0, len(tail) - 32, 4099):
        assert tail[start : start + 32] not in public_bytes


def test_pickle_public_context_and_ciphertexts(ctx):
    public = ctx.public()
    ct = public.encrypt(np.array([3.0, 4.0]))
    restored_ctx, restored_ct = pickle.loads(pickle.dumps((public, ct)))
    assert np.allclose(ctx.decrypt(restored_ct), [3.0, 4.0], atol=1e-6)
    with pytest.raises(si.SerializationError, match="secret key"):
        pickle.dumps(ctx)


def test_mismatched_context_is_refused(ctx):
    other = si.Context.create(poly_degree=8192, coeff_bits=[60, 40, 40, 60], scale_bits=40)
    data = ctx.encrypt(np.ones(4)).serialize()
    with pytest.raises(si.ContextMismatchError):
        si.Ciphertext.load(data, other)
    different = si.Context.create(preset="fast")
    with pytest.raises(si.ContextMismatchError):
        si.Ciphertext.load(data, different)


def test_insecure_parameters_load_only_when_asked():
    with pytest.warns(UserWarning):
        weak = si.Context.create(poly_degree=4096, coeff_bits=[60, 60, 60], scale_bits=40, security=None)
    data = weak.public().serialize()
    with pytest.raises(si.SecurityError):
        si.Context.load(data)
    with pytest.warns(UserWarning):
        assert si.Context.load(data, security=None).poly_degree == 4096


def test_format_fixtures_keep_loading():
    """Files written by format version 1 (tests/data, made by make_fixtures.py).
    v1 kept no slot state, so its ciphertexts load assuming nothing: undefined
    padding (refused where it would be read) and complex values (nothing dropped)."""
    ctx = si.Context.load((DATA / "context_v1_secret.bin").read_bytes())
    expected = np.load(DATA / "values_v1.npy")
    for name in ("ciphertext_v1_fresh.bin", "ciphertext_v1_product.bin"):
        ct = si.Ciphertext.load((DATA / name).read_bytes(), ctx)
        assert (ct.padding, ct.is_complex) == ("undefined", True)
        want = expected if "fresh" in name else expected * expected
        values = ctx.decrypt(ct)
        assert values.dtype == np.complex128
        assert np.allclose(values.real, want, atol=1e-6), name
        assert np.allclose(ctx.decrypt(ct, complex=False), want, atol=1e-6), name
        with pytest.raises(si.ParameterError, match="padding is undefined"):
            ct.sum()
        # Written again, it is format v2 and keeps the state it has.
        again = si.Ciphertext.load(ct.serialize(), ctx)
        assert again.serialize()[4:6] == b"\x02\x00" and again.padding == "undefined"
    # Its public key is over the chain primes only (v1): still encrypts.
    server = si.Context.load(ctx.public().serialize())
    x = np.linspace(-1, 1, 64)
    assert np.allclose(ctx.decrypt(si.Ciphertext.load(server.encrypt(x).serialize(), ctx)), x, atol=1e-4)


def test_packed_limbs_match_the_format_fixture_byte_for_byte():
    """The packer writes 64 bits at a time now; the bytes must be the ones
    the byte-wise packer of format v1 wrote (limbs of 38, 30 and 40 bits:
    words straddle every byte and 64-bit boundary). The secret key's packed
    limbs close both files."""
    old = (DATA / "context_v1_secret.bin").read_bytes()
    ctx = si.Context.load(old)
    again = ctx.serialize(secret_key=True)
    primes = list(ctx._core.q_primes) + list(ctx._core.p_primes)
    packed = sum((ctx.poly_degree * q.bit_length() + 7) // 8 for q in primes)
    assert packed > 50_000 and again[-packed:] == old[-packed:]
