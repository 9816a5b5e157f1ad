"""Through a real service: a ciphertext's slot state (length, padding,
complex) survives the wire both ways, and a session forged to look like
another parameter set's is refused without harming honest clients."""

import httpx
import numpy as np
import pytest

import securinfer as si
from securinfer.serve import Client, create_app

from .conftest import TOKEN
from .server import ServerThread

AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/octet-stream"}


class Reducer:
    """A servable answering [x.sum(), x * 2, x + its own sum]: a size-1 result
    with undefined padding, a product, and a broadcast on the server."""

    def describe(self):
        return {"kind": "test", "name": "reducer", "context": {"preset": "fast"}, "inputs": {"ciphertexts": 1}}

    def required_rotations(self):
        return []

    def __call__(self, cts):
        (x,) = cts
        s = x.sum()
        return [s, x * 2, x + s]


@pytest.fixture(scope="module")
def service(model):
    with ServerThread(create_app([model, Reducer()], token=TOKEN, max_sessions=16)) as running:
        yield running


def test_slot_state_survives_the_service(service):
    with Client(service.url, token=TOKEN) as client:
        ctx = client.context("reducer")
        ctx.generate_rotation_keys()
        client.set_context("reducer", ctx)
        v = np.array([1.0, 2.0, 3.0])
        s, doubled, shifted = client.run("reducer", [client.encrypt("reducer", v)])
        assert (s.size, s.padding) == (1, "undefined")
        assert np.allclose(client.decrypt("reducer", s), [6.0], atol=1e-4)
        assert np.allclose(client.decrypt("reducer", shifted), v + 6, atol=1e-4)
        with pytest.raises(si.ParameterError, match="undefined"):
            s @ np.ones((1, 2))  # the partial sums past slot 0 are never read as data
        assert np.allclose(client.decrypt("reducer", s + doubled), 2 * v + 6, atol=1e-4)
        # Complex values come back complex.
        z = np.array([1 + 1j, -2j, 0.5])
        _, zz, _ = client.run("reducer", [client.encrypt("reducer", z)])
        assert zz.is_complex and np.allclose(client.decrypt("reducer", zz), 2 * z, atol=1e-4)


def forged_session(target: si.Context, forged_from: si.Context) -> bytes:
    """``forged_from``'s public context with ``target``'s fingerprint in its header."""
    blob = bytearray(forged_from.public().serialize())
    blob[24:56] = bytes.fromhex(target.fingerprint)
    return bytes(blob)


@pytest.mark.parametrize("forged_parameters", [
    dict(poly_degree=4096, coeff_bits=[38, 30, 40], scale_bits=30),        # a smaller ring (the old SIGSEGV)
    dict(poly_degree=8192, coeff_bits=[49, 40, 41, 49], scale_bits=40),    # the same ring, other primes (poisoning)
])
def test_forged_sessions_are_refused_and_honest_clients_unharmed(service, weights, forged_parameters):
    W, b = weights
    honest = Client(service.url, token=TOKEN)
    x = np.linspace(-1, 1, 16)
    assert np.allclose(honest.infer("affine", x), x @ W + b, atol=1e-4)
    target = si.Context.create(preset="fast")
    attacker = si.Context.create(**forged_parameters)
    response = httpx.post(service.url + "/v1/sessions", content=forged_session(target, attacker), headers=AUTH,
                          timeout=60)
    assert response.status_code == 400 and response.json()["error"] == "malformed", response.text
    # A second honest client, and the first again: right answers, server alive.
    with Client(service.url, token=TOKEN) as other:
        assert np.allclose(other.infer("affine", -x), -x @ W + b, atol=1e-4)
    assert np.allclose(honest.infer("affine", x), x @ W + b, atol=1e-4)
    honest.close()
    assert httpx.get(service.url + "/healthz").json() == {"status": "ok"}
