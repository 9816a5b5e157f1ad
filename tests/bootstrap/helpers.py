"""Shared helpers of the bootstrapping tests."""


def at_level_zero(ctx, values):
    """An encryption of `values` at level 0 with the canonical level-0 scale,
    as a computation that used up every level leaves it."""
    return ctx.encrypt(values).drop_to_level(0)
