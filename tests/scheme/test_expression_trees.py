"""Random expression trees over random lengths, checked against numpy:
each result equals numpy's, or a ShapeError is raised exactly where numpy
raises (Hypothesis draws the trees)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import securinfer as si

LENGTHS = [1, 2, 3, 5, 8]


@pytest.fixture(scope="module")
def ctx():
    c = si.Context.create(poly_degree=8192, coeff_bits=[48, 40, 40, 40, 50], scale_bits=40)
    c.generate_rotation_keys()
    return c


# A tree: ("leaf", kind, length, seed) | ("op", symbol, left, right) | ("sum", child).
# Trees that could need more levels than the context has are skipped.
def leaves():
    return st.tuples(st.just("leaf"), st.sampled_from(["ct", "plain", "scalar"]), st.sampled_from(LENGTHS),
                     st.integers(0, 10**6))


def trees():
    def extend(children):
        ops = ["+", "-", "*"]
        return st.one_of(
            st.tuples(st.just("op"), st.sampled_from(ops), children, children),
            st.tuples(st.just("sum"), children))
    return st.recursive(leaves(), extend, max_leaves=4)


def levels_needed(tree):
    """At most: one per product, one per sum (its result may be masked when broadcast)."""
    if tree[0] == "leaf":
        return 0
    if tree[0] == "sum":
        return 1 + levels_needed(tree[1])
    return (tree[1] == "*") + max(levels_needed(tree[2]), levels_needed(tree[3]))


def evaluate(tree, ctx):
    """(securinfer value, numpy value); values are Ciphertext, ndarray or float."""
    if tree[0] == "leaf":
        _, kind, n, seed = tree
        v = np.random.default_rng(seed).uniform(-1, 1, n)
        if kind == "scalar":
            return float(v[0]), float(v[0])
        return (ctx.encrypt(v) if kind == "ct" else v), v
    if tree[0] == "sum":
        ours, ref = evaluate(tree[1], ctx)
        if isinstance(ours, si.Ciphertext):
            return ours.sum(), np.array([np.sum(ref)])
        return ours, ref  # sums apply to ciphertexts only
    _, symbol, left, right = tree
    (a, av), (b, bv) = evaluate(left, ctx), evaluate(right, ctx)
    fn = {"+": np.add, "-": np.subtract, "*": np.multiply}[symbol]
    if isinstance(a, si.Ciphertext) or isinstance(b, si.Ciphertext):
        ours = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b}[symbol]
        try:
            want = fn(av, bv)
        except ValueError:
            with pytest.raises(si.ShapeError):
                ours()
            raise _Refused()
        return ours(), want
    try:
        return fn(a, b), fn(av, bv)
    except ValueError:  # numpy refused two plaintexts: nothing of ours to check
        raise _Refused() from None


class _Refused(Exception):
    """numpy refused and so did we: the tree ends there."""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(tree=trees())
def test_random_expressions_match_numpy(ctx, tree):
    if levels_needed(tree) > ctx.max_level:
        return
    try:
        ours, want = evaluate(tree, ctx)
    except _Refused:
        return
    if isinstance(ours, si.Ciphertext):
        got = ctx.decrypt(ours)
        assert got.shape == np.shape(want), (tree, got.shape, np.shape(want))
        assert np.max(np.abs(got - want)) < 1e-3, (tree, got, want)
