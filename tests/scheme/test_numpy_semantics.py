"""numpy's shape rules, case by case: every operator against numpy, for every
pair of lengths among {1, 2, 3, slots-1, slots} and operands made by every
producer (fresh, sum(), dot(), @, rotate, a serialize/load round trip,
pickle). Where numpy answers, so do we, to CKKS precision; where numpy
refuses, we raise ShapeError. Operations that read the padding (sum, @,
rotate) may also refuse an operand whose padding is undefined; they never
return a wrong number.
"""

import itertools
import operator
import pickle

import numpy as np
import pytest

import securinfer as si

from .conftest import assert_close

BITS = 12  # sums of up to 4,096 values of |x| <= 1 with one or two products


@pytest.fixture(scope="module")
def ctx():
    # 128-bit, depth 3: a producer's level, the mask of a broadcast, the operation.
    c = si.Context.create(poly_degree=8192, coeff_bits=[48, 40, 40, 40, 50], scale_bits=40)
    c.generate_rotation_keys()
    return c


def lengths(ctx):
    return [1, 2, 3, ctx.slots - 1, ctx.slots]


def values(n, seed):
    return np.random.default_rng(seed).uniform(-1, 1, n)


# Producers: (ciphertext, the numpy vector it stands for) of a given length.
def fresh(ctx, n, seed):
    v = values(n, seed)
    return ctx.encrypt(v), v


def from_sum(ctx, n, seed):
    if n != 1:
        return None  # sum() always gives length 1
    v = values(3, seed)
    return ctx.encrypt(v).sum(), np.array([v.sum()])


def from_dot(ctx, n, seed):
    if n != 1:
        return None
    v, w = values(5, seed), values(5, seed + 1)
    return ctx.encrypt(v).dot(w), np.array([v @ w])


def from_matmul(ctx, n, seed):
    u, W = values(4, seed), np.random.default_rng(seed).uniform(-1, 1, (4, n)) / 4
    return ctx.encrypt(u) @ W, u @ W


def from_rotate(ctx, n, seed):
    if n != ctx.slots:
        return None  # a rotation's result spans every slot
    v = values(n, seed)
    return ctx.encrypt(v).rotate(5), np.roll(v, -5)


def round_trip(producer):
    def make(ctx, n, seed):
        made = producer(ctx, n, seed)
        if made is None:
            return None
        ct, v = made
        return si.Ciphertext.load(ct.serialize(), ctx), v
    make.__name__ = f"serialized_{producer.__name__}"
    return make


def pickled(producer):
    def make(ctx, n, seed):
        made = producer(ctx, n, seed)
        if made is None:
            return None
        ct, v = made
        return pickle.loads(pickle.dumps(ct)), v
    make.__name__ = f"pickled_{producer.__name__}"
    return make


PRODUCERS = [fresh, from_sum, from_dot, from_matmul, from_rotate, round_trip(from_sum), round_trip(fresh),
             pickled(from_sum), pickled(from_matmul), round_trip(from_rotate)]


_OPERANDS = {}


def operands(ctx, n, seed):
    """Every producer's operand of length n (those that can make it), made
    once per (length, seed) and context: ciphertexts are immutable."""
    key = (ctx.parameters, n, seed)
    if key not in _OPERANDS:
        _OPERANDS[key] = [(p.__name__, *made) for p in PRODUCERS if (made := p(ctx, n, seed)) is not None]
    return _OPERANDS[key]


def numpy_or_error(fn, *args):
    try:
        return fn(*args), None
    except ValueError as error:
        return None, error


OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul}


@pytest.mark.parametrize("op", sorted(OPS))
def test_ciphertext_with_ciphertext(ctx, op):
    """ct (op) ct for every pair of lengths; producers paired in turn."""
    fn = OPS[op]
    checked = refused = 0
    for la, lb in itertools.product(lengths(ctx), repeat=2):
        a_ops, b_ops = operands(ctx, la, 10), operands(ctx, lb, 50)
        # Each producer of each side meets at least one of the other's.
        pairs = [(a_ops[k % len(a_ops)], b_ops[k % len(b_ops)]) for k in range(max(len(a_ops), len(b_ops)))]
        for (an, a, av), (bn, b, bv) in pairs:
            want, error = numpy_or_error(fn, av, bv)
            if error is not None:
                with pytest.raises(si.ShapeError, match=f"{la} and {lb}"):
                    fn(a, b)
                refused += 1
                continue
            got = fn(a, b)
            assert got.size == want.size, (an, bn, la, lb)
            assert_close(ctx.decrypt(got), want, BITS, f"{an}[{la}] {op} {bn}[{lb}]")
            checked += 1
    assert checked and refused


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("reflected", [False, True])
def test_ciphertext_with_plain_vector(ctx, op, reflected):
    fn = OPS[op]
    for i, (la, lb) in enumerate(itertools.product(lengths(ctx), repeat=2)):
        for name, ct, v in operands(ctx, la, 10)[:3]:
            p = values(lb, 200 + i)
            args_np, args = ((p, v), (p, ct)) if reflected else ((v, p), (ct, p))
            want, error = numpy_or_error(fn, *args_np)
            if error is not None:
                with pytest.raises(si.ShapeError):
                    fn(*args)
                continue
            assert_close(ctx.decrypt(fn(*args)), want, BITS, f"{name}[{la}] {op} plain[{lb}] reflected={reflected}")


@pytest.mark.parametrize("scalar", [2, -0.5, np.float64(3.25), np.array(1.5), np.array([0.75])])
def test_ciphertext_with_scalar(ctx, scalar):
    for n in lengths(ctx):
        for name, ct, v in operands(ctx, n, 10):
            for op, fn in OPS.items():
                assert_close(ctx.decrypt(fn(ct, scalar)), fn(v, scalar), BITS, f"{name}[{n}] {op} {scalar!r}")
                assert_close(ctx.decrypt(fn(scalar, ct)), fn(scalar, v), BITS, f"{scalar!r} {op} {name}[{n}]")


def test_in_place_forms_follow_the_same_rules(ctx):
    x, xv = fresh(ctx, 3, 1)
    y = x
    y += ctx.encrypt([1.0])
    y *= np.array([2.0, 3.0, 4.0])
    y -= 1
    assert_close(ctx.decrypt(y), (xv + 1) * [2, 3, 4] - 1, BITS, "in place")
    assert_close(ctx.decrypt(x), xv, BITS, "the operand itself is unchanged")
    with pytest.raises(si.ShapeError):
        y += ctx.encrypt([1.0, 2.0])


def test_sum_dot_matmul_rotate(ctx):
    """Reductions and products: numpy's answer, or a refusal naming the padding."""
    for n in lengths(ctx):
        for name, ct, v in operands(ctx, n, 50):
            assert_close(ctx.decrypt(ct.sum()), [v.sum()], BITS, f"{name}[{n}].sum()")
            w = values(n, 7)
            assert_close(ctx.decrypt(ct.dot(w)), [v @ w], BITS, f"{name}[{n}].dot(plain)")
            assert_close(ctx.decrypt(ct.dot(ct)), [v @ v], BITS, f"{name}[{n}].dot(itself)")
            assert_close(ctx.decrypt(ct @ w), [v @ w], BITS, f"{name}[{n}] @ 1-D plain")
            with pytest.raises(si.ShapeError, match="not aligned"):
                ct.dot(values(n + 1, 8))
            W = np.random.default_rng(n).uniform(-1, 1, (n, 3)) / max(1, n) ** 0.5
            if n > 64:  # larger matrices are test_blocks' and test_linear_transform's
                continue
            for what, ours, want in [("x @ W", lambda c: c @ W, v @ W), ("W.T @ x", lambda c: W.T @ c, W.T @ v)]:
                try:
                    got = ctx.decrypt(ours(ct))
                except si.ParameterError as error:  # a refusal is allowed only for undefined padding
                    assert ct.padding == "undefined" and "padding" in str(error), (name, error)
                    got = ctx.decrypt(ours(ct.mask_padding()))
                assert_close(got, want, BITS, f"{what} for {name}[{n}]")


def test_rotation_of_short_vectors_shows_the_padding(ctx):
    """rotate(k) is np.roll of the whole slot vector: the zero padding rotates in;
    an undefined padding is refused rather than shown."""
    slots = ctx.slots
    x, xv = fresh(ctx, 3, 2)
    full = np.concatenate([xv, np.zeros(slots - 3)])
    for k in (1, -1, 3, slots + 2, 2**80):
        assert_close(ctx.decrypt(x.rotate(k)), np.roll(full, -(k % slots)), BITS, f"rotate({k})")
    s = x.sum()
    with pytest.raises(si.ParameterError, match="undefined"):
        s.rotate(1)
    assert_close(ctx.decrypt(s.mask_padding().rotate(-2))[:3], [0, 0, xv.sum()], BITS, "masked sum rotated")


def test_sum_over_every_slot_is_replicated_and_broadcasts_for_free(ctx):
    v = values(ctx.slots, 3)
    s = ctx.encrypt(v).sum()
    assert (s.padding, s.period) == ("replicated", 1)
    level = s.level
    y = s + ctx.encrypt(values(5, 4))
    assert y.level == level  # no mask, no level spent
    assert_close(ctx.decrypt(y), v.sum() + values(5, 4), BITS, "replicated sum + vector")


def test_broadcasting_needs_rotation_keys_and_names_them(ctx):
    bare = si.Context.create(poly_degree=8192, coeff_bits=[48, 40, 40, 40, 50], scale_bits=40)
    one, three = bare.encrypt([2.0]), bare.encrypt([1.0, 2.0, 3.0])
    with pytest.raises(si.MissingKeyError, match="step"):
        one + three
    # A plaintext of length 1, or a scalar, needs no key.
    assert_close(bare.decrypt(three * np.array([2.0])), [2, 4, 6], BITS, "ct * plain[1]")


def test_complex_state_survives_every_path(ctx):
    z = np.array([1 + 2j, 3j, -1.5])
    ct = ctx.encrypt(z)
    assert ct.is_complex
    for name, c in [("fresh", ct), ("serialized", si.Ciphertext.load(ct.serialize(), ctx)),
                    ("pickled", pickle.loads(pickle.dumps(ct))), ("public", si.Ciphertext.load(
                        ctx.public().encrypt(z).serialize(), ctx))]:
        assert_close(ctx.decrypt(c), z, BITS, f"complex {name}")
    real = ctx.encrypt([1.0, 2.0, 3.0])
    assert not real.is_complex
    assert (real * z).is_complex and (real + 1j).is_complex and not (real * 2.5).is_complex
    assert_close(ctx.decrypt(real * z), np.array([1, 2, 3]) * z, BITS, "real * complex plain")


def test_bad_operands_are_securinfer_errors(ctx):
    x = ctx.encrypt([1.0, 2.0, 3.0])
    for bad, error in [([1.0, [2.0, 3.0]], si.ParameterError), (np.ones((3, 3)), si.ShapeError),
                       (np.ones(0), si.ShapeError), (np.ones(ctx.slots + 1), si.ShapeError),
                       (["a", "b", "c"], si.ParameterError), ([np.nan, 1, 2], si.ParameterError)]:
        for fn in (operator.add, operator.mul, operator.sub):
            with pytest.raises(error):
                fn(x, bad)
    with pytest.raises(si.ParameterError):
        ctx.encrypt([1.0, [2.0, 3.0]])
    with pytest.raises(TypeError):
        x + "text"
    with pytest.raises(si.ParameterError):
        x.rotate(1.5)
    with pytest.raises(si.ParameterError):
        ctx.generate_rotation_keys(steps=[1.5])
    ctx.generate_rotation_keys(steps=[2**70 + 1])  # = a rotation by (2^70 + 1) mod slots
    assert_close(ctx.decrypt(ctx.encrypt(np.arange(ctx.slots) / ctx.slots).rotate(2**70 + 1))[:2],
                 (np.arange(2) + (2**70 + 1) % ctx.slots) / ctx.slots, BITS, "rotate(2^70 + 1)")


def test_linear_algebra_of_unequal_lengths_and_comparisons_refuse(ctx):
    """The combinations are sums of products: vectors of different lengths
    meet there no more than in `a + b` (they were zero-extended: [11, 22, 3]),
    and `==` on ciphertexts raises instead of answering False for equal data."""
    a, b = ctx.encrypt([1.0, 2.0, 3.0]), ctx.encrypt([10.0, 20.0])
    with pytest.raises(si.ShapeError):
        si.linalg.combine([a, b], [[1.0, 1.0]])
    with pytest.raises(si.ShapeError):
        si.linalg.sum_of_products([a], [b])
    assert_close(ctx.decrypt(si.linalg.combine([a, a], [[1.0, 2.0]])[0]), [3, 6, 9], BITS, "combine, equal lengths")
    for compare in (lambda: a == a, lambda: a != b):
        with pytest.raises(TypeError, match="compared"):
            compare()
    assert a in [a] and len({a, b}) == 2          # identity still works for containers
