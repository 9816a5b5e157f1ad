"""Shared helpers of the bootstrapping tests."""


def at_level_zero(ctx, values):
    """An encryption of `values` at level 0 with the canonical level-0 scale,
    as a computation that used up every level leaves it."""
    import numpy as np

    from securinfer._core import bootstrap as _boot
    from securinfer._core import ckks as _ckks
    from securinfer.ciphertext import Ciphertext

    values = np.asarray(values)
    core = _ckks.encrypt(ctx._core, ctx._keys, values.astype(complex))
    core = _boot.adjust_to(core, 0, ctx._core.level_scale(0))
    return Ciphertext._wrap(ctx, core, np.iscomplexobj(values))
