"""Bad input, mixed contexts, missing keys, threads and SIMD paths."""

import threading

import numpy as np
import pytest

import securinfer as si

from ..conftest import usable_paths
from .conftest import assert_close


def test_bad_inputs_are_refused(ctx_fast):
    with pytest.raises(si.ParameterError, match="finite"):
        ctx_fast.encrypt(np.array([1.0, np.nan]))
    with pytest.raises(si.ParameterError, match="finite"):
        ctx_fast.encrypt(np.array([np.inf]))
    with pytest.raises(si.ParameterError, match="does not fit"):
        ctx_fast.encrypt(np.zeros(ctx_fast.slots + 1))
    with pytest.raises(si.ParameterError, match="numeric"):
        ctx_fast.encrypt(np.array(["a", "b"]))
    with pytest.raises(si.ParameterError, match="numeric"):
        ctx_fast.encrypt([object()])
    with pytest.raises(si.ParameterError, match="1-D"):
        ctx_fast.encrypt(np.zeros((2, 2)))
    a = ctx_fast.encrypt(np.ones(4))
    with pytest.raises(si.ParameterError, match="finite"):
        a + float("nan")
    with pytest.raises(si.ParameterError, match="does not fit"):
        a * np.ones(ctx_fast.slots + 1)
    with pytest.raises(si.ParameterError, match="shapes do not match"):
        a @ np.ones((5, 2))
    with pytest.raises(si.ParameterError):
        a.rotate(1.5)
    with pytest.raises(TypeError):
        a + "text"
    with pytest.raises(si.ParameterError):
        si.Ciphertext()


def test_huge_values_are_refused_not_wrapped(ctx_fast):
    with pytest.raises(si.ParameterError, match="too large"):
        ctx_fast.encrypt(np.array([1e35]))


def test_public_context_cannot_decrypt_or_make_keys(ctx_fast):
    server = ctx_fast.public()
    a = server.encrypt(np.ones(4))
    with pytest.raises(si.MissingKeyError, match="secret key"):
        server.decrypt(a)
    with pytest.raises(si.MissingKeyError, match="secret key"):
        server.generate_rotation_keys(steps=[1])
    # The server computes with the evaluation keys it has.
    assert_close(ctx_fast.decrypt((a * a).rotate(1)), np.roll(np.r_[np.ones(4), np.zeros(ctx_fast.slots - 4)], -1),
                 16, "server-side compute")


def test_objects_of_another_context_are_refused(ctx_fast):
    other = si.Context.create(**{"poly_degree": 8192, "coeff_bits": [60, 40, 40, 60], "scale_bits": 40})
    a, b = ctx_fast.encrypt(np.ones(4)), other.encrypt(np.ones(4))
    with pytest.raises(si.ContextMismatchError):
        a + b
    with pytest.raises(si.ContextMismatchError):
        a * b
    with pytest.raises(si.ContextMismatchError):
        ctx_fast.decrypt(b)
    different = si.Context.create(preset="fast")
    with pytest.raises(si.ContextMismatchError):
        a + different.encrypt(np.ones(4))


def test_threads_share_a_context(ctx_fast):
    rng = np.random.default_rng(9)
    inputs = [rng.uniform(-1, 1, 256) for _ in range(6)]
    results, errors = {}, []

    def work(i):
        try:
            a = ctx_fast.encrypt(inputs[i])
            results[i] = ctx_fast.decrypt((a * a + a).rotate(2))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for i, x in enumerate(inputs):
        want = np.roll(np.r_[x * x + x, np.zeros(ctx_fast.slots - 256)], -2)
        assert_close(results[i], want, 16, f"thread {i}")


def test_every_simd_path_gives_identical_results(ctx_fast):
    """One ciphertext evaluated on every path: bit-identical decryptions."""
    rng = np.random.default_rng(11)
    x, y = rng.uniform(-1, 1, (2, 4096))
    a, b = ctx_fast.encrypt(x), ctx_fast.encrypt(y)
    outputs = {}
    for path in usable_paths():
        ctx_p = ctx_fast.with_simd_path(path)
        ap, bp = ctx_p.adopt(a), ctx_p.adopt(b)
        result = ((ap * bp + ap).rotate(3) * y).rotate_many([1, -2])[1] + 0.5
        outputs[path] = ctx_p.decrypt(result)
    reference = outputs["scalar"]
    assert_close(reference, np.roll(np.roll(x * y + x, -3) * y, 2) + 0.5, 15, "reference path")
    for path, out in outputs.items():
        assert np.array_equal(out, reference), f"path {path} differs from scalar"


def test_noise_flooding_hides_the_exact_error_at_a_documented_precision(ctx_fast):
    # Deterministic per ciphertext, sized from its error (tests/security/test_noise_flooding.py has the rest).
    x = np.random.default_rng(12).uniform(-1, 1, 4096)
    a = ctx_fast.encrypt(x)
    exact = ctx_fast.decrypt(a)
    flooded_1 = ctx_fast.decrypt(a, noise_flooding=True)
    flooded_2 = ctx_fast.decrypt(a, noise_flooding=True)
    assert np.array_equal(flooded_1, flooded_2), "the same ciphertext floods to the same bits"
    assert np.max(np.abs(flooded_1 - x)) > 1000 * np.max(np.abs(exact - x))
    # 2^25 per coefficient for a fresh N=8192 ciphertext: about 2^-9 per slot value, so 5 bits are safe.
    assert_close(flooded_1, x, 5, "flooded")
