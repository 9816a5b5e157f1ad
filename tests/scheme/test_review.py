"""Regression tests from the review of the scheme layer (a hostile server's description)."""

import pytest

import securinfer as si
from securinfer.server_parameters import ALLOWED, check_key_budget, context_for_server


def _key_memory(parameters, keys):
    """What ``keys`` key-switching keys hold: dnum digits, two polynomials each, over all primes."""
    p = parameters
    return keys * p.dnum * 2 * (len(p.q_primes) + len(p.p_primes)) * p.poly_degree * 8


def test_a_server_cannot_make_the_client_generate_gigabytes_of_keys(monkeypatch):
    """The whitelist bounded the ring and the count of rotation keys (256),
    not their size: at N = 16384 with 14 primes (13 digits) a Galois key holds
    47 MiB, so a description asking for 256 rotations made the client build
    12 GiB of keys (at N = 32768 tens of GiB: out of memory). Refused before
    any Galois key is made."""
    made = []
    real = si.Context.generate_rotation_keys
    monkeypatch.setattr(si.Context, "generate_rotation_keys",
                        lambda self, steps=None, **kw: made.append(len(steps)) or real(self, steps, **kw))
    description = {"poly_degree": 16384, "coeff_bits": [30] * 14, "scale_bits": 25, "special_primes": 1}
    planning = si.Context.for_planning(**description).parameters
    assert _key_memory(planning, 257) > 11 * 2 ** 30 > ALLOWED["key_bytes"]
    with pytest.raises(si.SecurityError, match="GiB of keys"):
        context_for_server(description, rotations=range(1, 257))
    assert made == []
    ctx = context_for_server(description, rotations=[1, 2, 4], conjugation=True)     # a few keys are fine
    assert ctx.rotation_steps == [1, 2, 4] and ctx.has_conjugation_key
    with pytest.raises(si.SecurityError):
        check_key_budget(ctx, ALLOWED["key_bytes"] // _key_memory(planning, 1))


def test_the_face_match_mode_keys_fit_the_budget():
    from securinfer.apps.face.compact_probe import EXPANSION_STEPS
    from securinfer.apps.face.match import MATCH_PARAMETERS

    parameters = si.Context.for_planning(**MATCH_PARAMETERS).parameters
    assert _key_memory(parameters, len(EXPANSION_STEPS) + 1 + 1) <= ALLOWED["key_bytes"]   # rotations, conj, relin
