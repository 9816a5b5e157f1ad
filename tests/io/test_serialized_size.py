"""The core's serialized sizes (``Parameters.max_ciphertext_bytes``,
``galois_key_bytes``, ``public_context_bytes``) equal the lengths of real
serialized objects, byte for byte, over several parameter shapes: the
server's body caps cannot drift from the layout the core writes."""

import numpy as np
import pytest

import securinfer as si

SHAPES = [dict(preset="fast"),
          dict(poly_degree=4096, coeff_bits=[40, 20, 40], scale_bits=20),
          dict(poly_degree=8192, coeff_bits=[50, 30, 30, 50, 50], scale_bits=30, special_primes=2),
          dict(poly_degree=16384, coeff_bits=[49, 31, 31, 31, 31, 49], scale_bits=31, special_primes=1)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: str(s.get("preset", s.get("coeff_bits"))))
def test_sizes_equal_real_objects(shape):
    ctx = si.Context.create(**shape)
    p = ctx.parameters
    full = ctx.public().encrypt(np.ones(ctx.slots))          # public-key encryption: two full polynomials
    assert p.max_ciphertext_bytes() == len(full.serialize())
    assert len(ctx.encrypt([1.0]).serialize()) < p.max_ciphertext_bytes()   # seeded: smaller
    assert p.public_context_bytes(0) == len(ctx.public().serialize())
    ctx.generate_rotation_keys(steps=[1, 2, 5])
    galois = len(ctx.public().serialize()) - p.public_context_bytes(0)
    assert galois == 3 * p.galois_key_bytes()
    assert p.public_context_bytes(3) == len(ctx.public().serialize())


def test_bad_key_counts_are_refused():
    p = si.Context.create(preset="fast").parameters
    for bad in (-1, True, 2.0, 1 << 20):
        with pytest.raises(si.ParameterError):
            p.public_context_bytes(bad)
