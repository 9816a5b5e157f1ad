"""Parameter identity: objects of two parameter sets never meet. The core
compares parameters in full (ring degree, every prime, scale, security flag)
in every operation that takes two objects, so no buffer of one ring reaches
a kernel of another, whatever Python does; fingerprints are SHA-256 of a
canonical encoding and only name parameters.
"""

import hashlib
import pickle
import struct

import numpy as np
import pytest

import securinfer as si
from securinfer._core import ckks as core
from securinfer._core import io as core_io
from securinfer._core import linalg as core_linalg


@pytest.fixture(scope="module")
def pair():
    """Two contexts of different parameters: the same ring and chain lengths,
    one prime different (the case a weak hash would let through)."""
    a = si.Context.create(poly_degree=4096, coeff_bits=[38, 30, 40], scale_bits=30)
    b = si.Context.create(poly_degree=4096, coeff_bits=[38, 31, 40], scale_bits=30)
    for c in (a, b):
        c.generate_rotation_keys()
    return a, b


def canonical(p: si.Parameters) -> bytes:
    """CkksParameters::canonical_bytes, written again from its definition."""
    out = b"securinfer.ckks.parameters.v1" + struct.pack("<QI", p.poly_degree, len(p.q_primes))
    out += b"".join(struct.pack("<Q", q) for q in p.q_primes) + struct.pack("<I", len(p.p_primes))
    out += b"".join(struct.pack("<Q", q) for q in p.p_primes)
    return out + struct.pack("<dB", p.scale, p.security is not None)


def test_parameters_are_a_value_compared_in_full(pair):
    a, b = pair
    again = si.Context.create(poly_degree=4096, coeff_bits=[38, 30, 40], scale_bits=30)
    assert a.parameters == again.parameters and hash(a.parameters) == hash(again.parameters)
    assert a.parameters != b.parameters
    assert a.parameters.poly_degree == b.parameters.poly_degree and len(a.parameters.q_primes) == 2
    assert a.parameters.canonical_bytes == canonical(a.parameters)
    assert a.fingerprint == hashlib.sha256(canonical(a.parameters)).hexdigest()
    assert len({a.parameters, again.parameters, b.parameters}) == 2
    assert a.same_parameters(again) and not a.same_parameters(b)
    with pytest.warns(UserWarning):
        weak = si.Context.create(poly_degree=4096, coeff_bits=[38, 30, 40], scale_bits=30, security=None)
    assert weak.parameters != a.parameters  # the security flag is part of the identity
    with pytest.raises(si.ParameterError):
        si.Parameters()


def test_python_operations_refuse_foreign_operands(pair):
    a, b = pair
    x, y = a.encrypt([1.0, 2.0]), b.encrypt([1.0, 2.0])
    for op in (lambda: x + y, lambda: x - y, lambda: x * y, lambda: x.dot(y), lambda: a.decrypt(y),
               lambda: si.Ciphertext.load(y.serialize(), a), lambda: si.linalg.combine([x, y], [[1.0, 1.0]]),
               lambda: si.linalg.LinearTransform(a, np.eye(2)).apply(y)):
        with pytest.raises(si.ContextMismatchError):
            op()


def test_the_core_refuses_foreign_operands_whatever_python_does(pair):
    """Through the raw bindings: no Python check in the way."""
    a, b = pair
    x, y = a.encrypt([1.0, 2.0])._core, b.encrypt([1.0, 2.0])._core
    ka, kb = a._keys, b._keys
    attempts = {
        "add": lambda: core.add(x, y),
        "sub": lambda: core.sub(x, y),
        "multiply": lambda: core.multiply(ka, x, y),
        "multiply with other keys": lambda: core.multiply(kb, x, x),
        "rotate with other keys": lambda: core.rotate(kb, x, 1),
        "rotate_many with other keys": lambda: core.rotate_many(kb, x, [1, 2]),
        "sum with other keys": lambda: core.sum_slots(kb, x, 2),
        "decrypt with other keys": lambda: core.decrypt(kb, x),
        "encrypt with other keys": lambda: core.encrypt(a._core, kb, np.ones(2)),
        "galois keys for another context": lambda: ka.add_galois_keys(b._core, [b._core.galois_element(3)]),
        "save with other keys": lambda: core_io.save_context(a._core, kb, False),
        "rehome": lambda: y.rehome(a._core),
        "linear transform": lambda: core_linalg.LinearTransform(a._core, np.eye(2), 1).apply(ka, y),
    }
    for name, attempt in attempts.items():
        with pytest.raises(si.ContextMismatchError):
            attempt()
            pytest.fail(name)


def test_identity_never_consults_the_fingerprint(pair, monkeypatch):
    """With every fingerprint forged equal (what a 64-bit hash collision gave
    an attacker), objects of different parameters are still refused: the
    checks compare parameters in full."""
    a, b = pair
    monkeypatch.setattr(si.Context, "fingerprint", property(lambda self: "0" * 64))
    assert a.fingerprint == b.fingerprint
    x, y = a.encrypt([1.0]), b.encrypt([1.0])
    for op in (lambda: x + y, lambda: x * y, lambda: si.Ciphertext.load(y.serialize(), a)):
        with pytest.raises(si.ContextMismatchError):
            op()
    # Caches key on the parameters themselves.
    W = np.eye(2)
    ra = a.decrypt(a.encrypt([1.0, 2.0]) @ W)
    rb = b.decrypt(b.encrypt([3.0, 4.0]) @ W)
    assert np.allclose(ra, [1, 2], atol=1e-3) and np.allclose(rb, [3, 4], atol=1e-3)


def test_forged_headers_are_refused(pair):
    """Bytes of one parameter set relabelled as another's: refused on load."""
    a, b = pair
    ct = bytearray(b.encrypt([1.0]).serialize())
    ct[24:56] = bytes.fromhex(a.fingerprint)  # claim a's parameters
    with pytest.raises((si.SerializationError, si.ContextMismatchError)):
        si.Ciphertext.load(bytes(ct), a)
    blob = bytearray(b.public().serialize())
    blob[24:56] = bytes.fromhex(a.fingerprint)
    with pytest.raises(si.SerializationError, match="fingerprint"):
        si.Context.load(bytes(blob))


def test_unpickled_ciphertexts_find_their_own_parameters(pair):
    a, b = pair
    x = a.encrypt([1.0, -1.0])
    back = pickle.loads(pickle.dumps(x))
    assert back.context.parameters == a.parameters
    assert np.allclose(a.decrypt(back), [1, -1], atol=1e-4)
