"""Two-pass bootstrapping (meta-bootstrapping, Bae et al. 2022) at N = 2^12,
insecure test parameters with encapsulation: the second pass bootstraps the
first's error scaled by 2^error_scale_bits, so the result is about that many
bits more precise than one pass, at the same level."""

import numpy as np
import pytest

from securinfer._core import bootstrap as _boot
from securinfer.bootstrapping import Bootstrapper, failure_log2
from securinfer.errors import ParameterError

from .helpers import at_level_zero


def bits(err):
    return float(-np.log2(np.max(err)))


def test_two_passes_cut_the_error_by_the_error_scale(enc_ctx, rng):
    ctx = enc_ctx
    enc = _boot.encapsulation_keys(ctx._keys)
    two = Bootstrapper(ctx._core, encapsulation=32, passes=2, error_scale_bits=12)
    z = rng.uniform(-1, 1, ctx.slots) + 1j * rng.uniform(-1, 1, ctx.slots)
    x = at_level_zero(ctx, z)
    reference = ctx.decrypt(x, complex=True)  # what the input holds, its own noise included
    y1 = x.bootstrap()  # the context's one-pass plan
    y2 = x._new(two.bootstrap_core(ctx._keys, x._core, enc))
    assert y1.level == y2.level == ctx.levels_after_bootstrap
    # Two modular reductions, each within half the 2^-40 failure bound.
    assert failure_log2(ctx.poly_degree, 32, two.k_range) <= -41
    e1 = bits(np.abs(ctx.decrypt(y1, complex=True) - reference))
    e2 = bits(np.abs(ctx.decrypt(y2, complex=True) - reference))
    print(f"one pass {e1:.2f} bits, two passes {e2:.2f} bits (against the decrypted input)")
    # Measured: 22.3 and 31.9 bits. The second pass's floor is no longer the
    # first's error but its own error / 2^12 and the top level's noise.
    assert e1 >= 20
    assert e2 >= e1 + 7 and e2 >= 29
    # Against numpy too, where the input's own level-0 noise caps both.
    assert bits(np.abs(ctx.decrypt(y2, complex=True) - z)) > bits(np.abs(ctx.decrypt(y1, complex=True) - z)) + 3
    # The result is an ordinary ciphertext on its level's canonical scale:
    # a product lands where numpy's does.
    w = y2 * y2
    assert bits(np.abs(ctx.decrypt(w, complex=True) - z * z)) >= 25


@pytest.mark.parametrize("kwargs", [dict(passes=3), dict(passes=2, error_scale_bits=0),
                                    dict(passes=2, error_scale_bits=40), dict(passes=2, slots=1024),
                                    dict(passes=True), dict(passes=2.0), dict(passes=2, error_scale_bits=12.7),
                                    dict(passes="2")])
def test_two_pass_options_are_checked(enc_ctx, kwargs):
    with pytest.raises(ParameterError):
        Bootstrapper(enc_ctx._core, encapsulation=32, **kwargs)
