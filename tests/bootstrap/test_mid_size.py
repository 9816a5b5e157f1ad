"""A mid-size bootstrap: N = 2^13 (insecure size) with the preset's chain layout
and 9 computing levels, full slots (the 128-bit N = 2^16 preset:
tests/bootstrap/test_preset.py)."""

import warnings

import numpy as np

import securinfer as si
from securinfer.bootstrapping import parameters_for_bootstrap

from .helpers import at_level_zero


def test_mid_size_bootstrap_keeps_nine_levels(rng):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = si.Context.create(**parameters_for_bootstrap(8192, 9), security=None)
    ctx.generate_bootstrapping_keys()
    assert ctx.levels_after_bootstrap == 9
    z = rng.uniform(-1, 1, ctx.slots)
    y = at_level_zero(ctx, z).bootstrap()
    err = np.max(np.abs(ctx.decrypt(y) - z))
    print("N = 2^13, 4096 slots: max error", err, "bits", -np.log2(err))
    assert -np.log2(err) >= 18
    # The nine levels are usable: a degree-2^9 power chain.
    w = y
    for _ in range(9):
        w = w * w
    assert w.level == 0
