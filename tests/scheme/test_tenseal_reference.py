"""TenSEAL as a second reference: the cases of its CKKS-vector tests
(test_ckks_vector.py), run through TenSEAL and securinfer side by side on the
same parameters. Both answer the same (to CKKS precision, checked against
numpy too), or both refuse."""

import numpy as np
import pytest
import tenseal as ts  # in the test extras: the second reference, never skipped

import securinfer as si

PAIRS = [([0], [0]), ([1], [0]), ([-1], [-1]), ([-1], [1]), ([1, 2, 3, 4], [4, 3, 2, 1]), ([-1, -2], [-73, -10]),
         ([1, 2, 3, 4], [2]), ([1, 0, -2, 73], [-5]), ([1, 2, 3, 4, 5], [1]), ([1, 0, -2, 0, -8, 4, 73], [81]),
         # TenSEAL's failing cases: different sizes
         ([1, 2, 3], [1, 2]), ([1, 2], [1, 2, 3, 4])]
SCALARS = [2, 0, -2, 0.5]


@pytest.fixture(scope="module")
def both():
    tctx = ts.context(ts.SCHEME_TYPE.CKKS, 8192, coeff_mod_bit_sizes=[60, 40, 40, 60])
    tctx.global_scale = 2**40
    tctx.generate_galois_keys()
    ctx = si.Context.create(poly_degree=8192, coeff_bits=[60, 40, 40, 60], scale_bits=40)
    ctx.generate_rotation_keys()
    return tctx, ctx


def run(fn):
    """(decrypted answer, None) or (None, the exception)."""
    try:
        out = fn()
        return np.real(np.asarray(out.decrypt() if hasattr(out, "decrypt") else out, dtype=complex)), None
    except Exception as error:  # noqa: BLE001 - TenSEAL raises ValueError/RuntimeError variously
        return None, error


def assert_same(theirs, ours, want, what, tolerance=1e-2):
    (t, terror), (o, oerror) = theirs, ours
    if terror is not None:
        assert oerror is not None, f"{what}: TenSEAL refused ({terror}) but securinfer answered {o}"
        assert isinstance(oerror, si.SecurinferError), (what, oerror)
        return
    assert oerror is None, f"{what}: securinfer refused ({oerror}) where TenSEAL answered {t}"
    assert o.shape == np.shape(want), (what, o.shape, np.shape(want))
    assert np.allclose(o, want, atol=tolerance), (what, o, want)
    assert np.allclose(t, want, atol=max(tolerance, 1e-1)), (what, t, want)


@pytest.mark.parametrize("vec1, vec2", PAIRS)
@pytest.mark.parametrize("op", ["+", "-", "*"])
def test_encrypted_with_encrypted(both, vec1, vec2, op):
    tctx, ctx = both
    fn = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}[op]
    want = None
    try:
        want = fn(np.array(vec1, float), np.array(vec2, float))
    except ValueError:
        pass
    theirs = run(lambda: fn(ts.ckks_vector(tctx, vec1), ts.ckks_vector(tctx, vec2)))
    ours = run(lambda: ctx.decrypt(fn(ctx.encrypt(vec1), ctx.encrypt(vec2))))
    if want is None:  # numpy refuses: so must we (TenSEAL too, or it zero-pads)
        assert ours[1] is not None and isinstance(ours[1], si.ShapeError), (vec1, vec2, ours)
        return
    assert_same(theirs, ours, want, f"{vec1} {op} {vec2}")


@pytest.mark.parametrize("vec1, vec2", [p for p in PAIRS if len(p[0]) == len(p[1])])
@pytest.mark.parametrize("op", ["+", "-", "*", "r-"])
def test_encrypted_with_plain_list(both, vec1, vec2, op):
    tctx, ctx = both
    fn = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "r-": lambda a, b: b - a}[op]
    want = fn(np.array(vec1, float), np.array(vec2, float))
    theirs = run(lambda: fn(ts.ckks_vector(tctx, vec1), vec2))
    ours = run(lambda: ctx.decrypt(fn(ctx.encrypt(vec1), vec2)))
    assert_same(theirs, ours, want, f"{vec1} {op} plain {vec2}")


@pytest.mark.parametrize("scalar", SCALARS)
@pytest.mark.parametrize("op", ["+", "-", "*", "r+", "r-", "r*"])
def test_encrypted_with_scalar(both, scalar, op):
    tctx, ctx = both
    vec = [1, 2, 3, 4]
    fn = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "r+": lambda a, b: b + a,
          "r-": lambda a, b: b - a, "r*": lambda a, b: b * a}[op]
    want = fn(np.array(vec, float), scalar)
    assert_same(run(lambda: fn(ts.ckks_vector(tctx, vec), scalar)),
                run(lambda: ctx.decrypt(fn(ctx.encrypt(vec), scalar))), want, f"{vec} {op} {scalar}")


@pytest.mark.parametrize("vec", [[0], [1], [1, -1, 2, -2], [1, -4, 3, 5]])
def test_negate_square_power(both, vec):
    tctx, ctx = both
    v = np.array(vec, float)
    for what, theirs, ours, want in [
            ("neg", lambda: -ts.ckks_vector(tctx, vec), lambda: -ctx.encrypt(vec), -v),
            ("square", lambda: ts.ckks_vector(tctx, vec).square(), lambda: ctx.encrypt(vec).square(), v**2),
            ("pow 2", lambda: ts.ckks_vector(tctx, vec) ** 2, lambda: ctx.encrypt(vec) ** 2, v**2)]:
        assert_same(run(theirs), run(lambda: ctx.decrypt(ours())), want, f"{what} {vec}")


@pytest.mark.parametrize("vec1, vec2", PAIRS)
def test_dot_and_sum(both, vec1, vec2):
    tctx, ctx = both
    a, b = np.array(vec1, float), np.array(vec2, float)
    assert_same(run(lambda: ts.ckks_vector(tctx, vec1).sum()), run(lambda: ctx.decrypt(ctx.encrypt(vec1).sum())),
                [a.sum()], f"sum {vec1}", tolerance=1e-1)
    ours = run(lambda: ctx.decrypt(ctx.encrypt(vec1).dot(ctx.encrypt(vec2))))
    if len(vec1) != len(vec2):  # np.dot refuses: so do we
        assert isinstance(ours[1], si.ShapeError), (vec1, vec2, ours)
        return
    assert_same(run(lambda: ts.ckks_vector(tctx, vec1).dot(ts.ckks_vector(tctx, vec2))), ours, [a @ b],
                f"dot {vec1} {vec2}", tolerance=1e-1)
    assert_same(run(lambda: ts.ckks_vector(tctx, vec1).dot(vec2)), run(lambda: ctx.decrypt(ctx.encrypt(vec1).dot(vec2))),
                [a @ b], f"dot plain {vec1} {vec2}", tolerance=1e-1)


@pytest.mark.parametrize("shape", [(1, 1), (3, 2), (4, 5), (16, 3)])
def test_vector_matrix_product(both, shape):
    tctx, ctx = both
    rng = np.random.default_rng(sum(shape))
    v, W = rng.uniform(-1, 1, shape[0]), rng.uniform(-1, 1, shape)
    assert_same(run(lambda: ts.ckks_vector(tctx, v.tolist()).mm(W.tolist())),
                run(lambda: ctx.decrypt(ctx.encrypt(v) @ W)), v @ W, f"mm {shape}")
    # A matrix of the wrong height: both refuse.
    assert_same(run(lambda: ts.ckks_vector(tctx, v.tolist()).mm(np.ones((shape[0] + 1, 2)).tolist())),
                run(lambda: ctx.decrypt(ctx.encrypt(v) @ np.ones((shape[0] + 1, 2)))), None, f"mm bad {shape}")


def test_polyval(both):
    tctx, ctx = both
    v = np.array([-1.0, -0.5, 0.25, 1.0])
    coefficients = [0.5, 0.197, 0, -0.004]
    assert_same(run(lambda: ts.ckks_vector(tctx, v.tolist()).polyval(coefficients)),
                run(lambda: ctx.decrypt(si.linalg.polyval(ctx.encrypt(v), coefficients))),
                np.polynomial.polynomial.polyval(v, coefficients), "polyval")
