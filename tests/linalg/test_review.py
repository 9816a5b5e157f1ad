"""Regression tests from the review of the composed rotations (csrc/ckks/rotation.cpp,
csrc/linalg/composed_rotations.cpp)."""

import numpy as np
import pytest

import securinfer as si

from ..scheme.conftest import PARAMETER_SETS, assert_close


@pytest.fixture(scope="module")
def one_direction():
    """Two contexts (one key): power-of-two keys to the left only, and to the right only."""
    ctx = si.Context.create(**PARAMETER_SETS["N8192-s40"])
    powers = [1 << k for k in range(12)]
    ctx.generate_rotation_keys(steps=powers)
    ctx2 = si.Context.create(**PARAMETER_SETS["N8192-s40"])
    ctx2.generate_rotation_keys(steps=[-p for p in powers])
    return ctx, ctx2


def test_rotations_compose_from_one_direction_of_keys(one_direction):
    """The design promises any rotation from power-of-two keys; with the keys
    of one direction only (steps 1, 2, 4, ... without -1, -2, ...) step 3 was
    refused (MissingKeyError naming -1: only the non-adjacent form 4 - 1 was
    tried), and so were x @ W and rotations the keys compose (1 + 2)."""
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, 4096)
    for ctx in one_direction:
        ct = ctx.encrypt(x)
        for step in (3, 7, -5, 2047, 4095):
            assert np.abs(ctx.decrypt(ct.rotate(step)) - np.roll(x, -step)).max() < 1e-5
        for m, n in ((5, 1), (129, 130)):
            W = rng.uniform(-1, 1, (m, n))
            assert_close(ctx.decrypt(ctx.encrypt(x[:m]) @ W), x[:m] @ W, 15, f"{m}x{n}")


def test_a_rotation_no_key_set_composes_is_still_refused():
    ctx = si.Context.create(**PARAMETER_SETS["N8192-s40"])
    ctx.generate_rotation_keys(steps=[1, 4])
    with pytest.raises(si.MissingKeyError, match="step 3"):
        ctx.encrypt(np.ones(4096)).rotate(3)       # 1 + 2 lacks 2, 4 - 1 lacks -1
