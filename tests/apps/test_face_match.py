"""Reveal-only-the-match: the server thresholds, the client learns which
templates matched; the least-squares reconstruction attack that copies a
gallery from its scores fails against it.

Test sizes: the attack sends its 128 probes packed in the slots of one
query against 6 templates tiled across the slots (each probe-template pair
is the same slot computation as in a query of its own). A match-mode query costs about 15 s in the
default ring (N = 32768), so the attack and the mechanics run in a smaller
ring (N = 16384, scale 2^24: 128-bit secure, same circuit, errors near
2^-8 instead of 2^-22.6), and LFW in the default ring on a few probes.
"""

import numpy as np
import pytest

from securinfer.apps import face
from securinfer.apps.face.match import MATCH_PARAMETERS, MatchRule, decode_bits, leak_bound
from securinfer.apps.face.threshold import F_COEFFS, G_COEFFS, design
from securinfer.errors import ContextMismatchError, LevelError, ParameterError

from ._face_data import astronaut_embeddings, lfw_embeddings, lfw_variant_embeddings, packed_query_values


def _textbook_step(scores, threshold, g_steps, f_steps):
    """Cheon et al.'s composition written out independently: g^a then f^b, then (1 + y) / 2."""
    g = lambda x: (4589 * x - 16577 * x ** 3 + 25614 * x ** 5 - 12860 * x ** 7) / 1024
    f = lambda x: (35 * x - 35 * x ** 3 + 21 * x ** 5 - 5 * x ** 7) / 16
    y = (np.asarray(scores, dtype=np.float64) - threshold) / (1 + abs(threshold))
    for _ in range(g_steps):
        y = g(y)
    for _ in range(f_steps):
        y = f(y)
    return (1 + y) / 2


def test_step_design_meets_its_bound_outside_the_band():
    rng = np.random.default_rng(0)
    for threshold, margin in [(0.6694, 0.0053), (0.695, 0.045), (0.363, 0.05), (-0.2, 0.1)]:
        plan = design(threshold, margin)
        s = rng.uniform(-1, 1, 200_000)
        s = s[np.abs(s - threshold) >= margin]
        want = (s >= threshold).astype(float)
        got = plan.reference(s)
        assert np.allclose(got, _textbook_step(s, threshold, plan.g_steps, plan.f_steps), atol=1e-12)
        assert np.max(np.abs(got - want)) <= 2.0 ** -20
        assert plan.levels == 3 * (plan.g_steps + plan.f_steps)
    assert G_COEFFS[1] == 4589 / 1024 and F_COEFFS[7] == -5 / 16
    with pytest.raises(ParameterError):
        design(1.5, 0.05)
    with pytest.raises(ParameterError):
        design(0.5, 0.0)
    with pytest.raises(ParameterError):
        design(0.5, 1e-6)        # no plan of 8 stages is that sharp


def test_each_step_stage_equals_numpy_in_three_levels():
    """odd_degree7 (4 relinearisations, Chebyshev division by T4) against numpy's power-basis value,
    for g, f and the last stage (with its constant 1/2), in a ring whose primes are not the scale."""
    import securinfer as si
    from securinfer.apps.face.threshold import odd_degree7

    with pytest.warns(UserWarning, match="security=None"):       # a small test ring (depth 3)
        ctx = si.Context.create(poly_degree=4096, coeff_bits=[36, 30, 30, 30, 36], scale_bits=30, security=None)
    x = np.linspace(-1, 1, 101)
    ct = ctx.encrypt(x)
    for coeffs in design(0.6694, 0.0053).stages()[-1:] + [G_COEFFS, F_COEFFS]:
        y = odd_degree7(ct, coeffs)
        assert y.level == ct.level - 3
        err = np.max(np.abs(ctx.decrypt(y).real - np.polynomial.polynomial.polyval(x, coeffs)))
        print(f"stage error 2^{np.log2(err):.1f}")
        assert err < 2.0 ** -12
    with pytest.raises(ParameterError):
        odd_degree7(ct, [0, 1, 1])                # an even term


def test_sface_lfw_margin_holds():
    """The default threshold and margin come from these scores: every same-person
    copy above threshold + margin, every other person below threshold - margin."""
    rule = MatchRule()
    base, variants = lfw_embeddings(), lfw_variant_embeddings(100)
    genuine = np.einsum("pvd,pd->pv", variants, base)
    others = ~np.eye(len(base), dtype=bool)
    impostor = np.concatenate([(base @ base.T)[others],
                               np.einsum("pvd,qd->pvq", variants, base).transpose(0, 2, 1)[others].ravel()])
    assert genuine.min() >= rule.threshold + rule.margin
    assert impostor.max() <= rule.threshold - rule.margin


#: Same depth and circuit as MATCH_PARAMETERS, in a ring four times cheaper.
TEST_RING = dict(poly_degree=16384, coeff_bits=[26] + [24] * 16 + [28], scale_bits=24, special_primes=1)
#: A rule with a wider margin (0.02), 15 levels of step: fits TEST_RING's 16 levels without the norm check.
TEST_RULE = dict(threshold=0.6694, margin=0.02)


def small_gallery(*args, **kwargs):
    return face.Gallery(*args, parameters=TEST_RING, **TEST_RULE, **dict({"norm_check": False}, **kwargs))


@pytest.fixture(scope="module")
def match_ctx():
    return face.create_context(small_gallery(np.eye(1, 128)).describe())


@pytest.fixture(scope="module")
def default_ctx():
    return face.create_context(face.Gallery(np.eye(1, 128)).describe())


def test_lfw_matches_identical_to_plaintext(default_ctx):
    match_ctx = default_ctx
    base = lfw_embeddings()
    gallery = face.Gallery(base, labels=[f"p{i}" for i in range(len(base))])
    assert gallery.parameters == MATCH_PARAMETERS
    assert gallery.reveal == "match" and gallery.describe()["reveal"] == "match"
    desc = gallery.describe()
    variants = lfw_variant_embeddings()
    probes = [variants[3, 2], astronaut_embeddings()[0]]
    for probe in probes:      # the compact probe, the default form (the 128-ciphertext one: TEST_RING tests below)
        answer = gallery(face.encrypt_probe(match_ctx, probe, compact=True))
        assert len(answer) == 1 and answer[0].level == 0
        want = [f"p{i}" for i in np.flatnonzero(base @ (probe / np.linalg.norm(probe)) >= gallery.rule.threshold)]
        assert face.decrypt_matches(match_ctx, desc, answer, gallery.labels) == want
        values = match_ctx.decrypt(answer[0], complex=True)[: len(base)]
        bits = np.isin(gallery.labels, want).astype(float)
        # What the client sees is the bit plus the server's noise (sd 1/16 per part), nothing near a score.
        assert np.max(np.abs(values - bits)) < 0.5
        assert 0.02 < np.std(values.real - bits) < 0.12 and 0.02 < np.std(values.imag) < 0.12
    with pytest.raises(ParameterError, match="decrypt_matches"):
        face.decrypt_scores(match_ctx, desc, answer)


def test_one_to_one_verification_returns_one_value(match_ctx):
    base = lfw_embeddings()[:10]
    gallery = small_gallery(base, labels=[f"p{i}" for i in range(10)])
    claimed = gallery.select("p4")
    probe_cts = face.encrypt_probe(match_ctx, lfw_variant_embeddings()[4, 1], compact=True)
    answer = claimed(probe_cts)
    assert claimed.describe()["outputs"]["templates"] == 1
    assert face.decrypt_matches(match_ctx, claimed.describe(), answer) == [0]
    impostor = face.encrypt_probe(match_ctx, lfw_variant_embeddings()[5, 1], compact=True)
    assert face.decrypt_matches(match_ctx, claimed.describe(), claimed(impostor)) == []
    # Several templates of one person merge into one (their normalised mean): one value back.
    twice = small_gallery(np.vstack([base, lfw_variant_embeddings()[4, 2]]), labels=[f"p{i}" for i in range(10)] + ["p4"])
    merged = twice.select("p4", merge=True)
    mean = base[4] / np.linalg.norm(base[4]) + lfw_variant_embeddings()[4, 2] / np.linalg.norm(lfw_variant_embeddings()[4, 2])
    assert len(merged) == 1 and np.allclose(merged.templates[0], mean / np.linalg.norm(mean), atol=1e-6)
    assert face.decrypt_matches(match_ctx, merged.describe(), merged(probe_cts), merged.labels) == ["p4"]


def _least_squares_attack(answers, probes):
    """Solve probes @ T.T = answers for T (the attack of issue 18), rows normalised."""
    T = np.linalg.lstsq(probes, answers, rcond=None)[0].T
    norms = np.linalg.norm(T, axis=1, keepdims=True)
    return T / np.where(norms == 0, 1, norms)


def test_reconstruction_attack_copies_scores_gallery_but_not_match_gallery(match_ctx):
    """128 random probes, least squares: the whole gallery from the scores, noise from the match answers.
    The probes travel packed in the slots of one query (test time), against a tiled gallery."""
    rng = np.random.default_rng(18)
    n = 6
    templates = rng.normal(size=(n, 128))
    templates /= np.linalg.norm(templates, axis=1, keepdims=True)
    probes = rng.normal(size=(128, 128))
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)

    leaky = face.Gallery(np.tile(templates, (face.FACE_PARAMETERS["poly_degree"] // 2 // n, 1)), reveal="scores")
    ctx = face.create_context(leaky.describe())
    answers = packed_query_values(ctx, leaky, probes, n)
    copied = np.sum(_least_squares_attack(answers, probes) * templates, axis=1)
    assert copied.min() > 0.999                      # every template copied

    private = small_gallery(np.tile(templates, (match_ctx.slots // n, 1)))     # reveal="match", the default
    raw = packed_query_values(match_ctx, private, probes, n)          # the raw values, not only the bits
    assert np.array_equal(decode_bits(raw), probes @ templates.T >= private.rule.threshold)
    copied = np.sum(_least_squares_attack(raw, probes) * templates, axis=1)
    # Noise only: a random direction in 128 dimensions has |cosine| about 0.07 with a template.
    assert np.max(np.abs(copied)) < 0.4


def test_match_mode_refuses_shallow_probes_and_bad_rules(match_ctx):
    gallery = small_gallery(np.eye(2, 128))
    probe = face.encrypt_probe(match_ctx, np.eye(1, 128)[0])
    with pytest.raises(LevelError, match="levels"):
        gallery([c.drop_to_level(5) for c in probe])
    with pytest.raises(ParameterError):
        face.Gallery(np.eye(2, 128), reveal="everything")
    with pytest.raises(ParameterError):
        face.Gallery(np.eye(2, 128), reveal="scores", threshold=0.5)
    with pytest.raises(ParameterError):
        face.Gallery(np.eye(2, 128), answer_noise=0.5)
    with pytest.raises(ParameterError, match="decrypt_scores"):
        face.decrypt_matches(match_ctx, face.Gallery(np.eye(2, 128), reveal="scores").describe(), [])
    with pytest.raises(ContextMismatchError):
        face.Gallery(np.eye(2, 128))(face.encrypt_probe(match_ctx, np.eye(1, 128)[0]))   # another ring


def test_match_gallery_save_load_keeps_its_rule(tmp_path):
    gallery = face.Gallery(np.eye(3, 128), threshold=0.5, margin=0.1)
    gallery.save(tmp_path / "g.npz")
    loaded = face.Gallery.load(tmp_path / "g.npz")
    assert loaded.reveal == "match" and loaded.rule == gallery.rule
    assert loaded.describe() == gallery.describe()
    assert loaded.parameters == MATCH_PARAMETERS


def test_leak_bound_formula():
    # slots * (r + e)^2 / (2 sigma^2)
    assert leak_bound(0.0, 2.0 ** -10, 2.0 ** -4, 8) == pytest.approx(8 * 2.0 ** -20 / (2 * 2.0 ** -8))


#: The norm check takes one level more: a rule of 12 levels of step fits TEST_RING with it.
NORM_RULE = dict(threshold=0.6694, margin=0.08)


@pytest.mark.parametrize("norm_check", [False, True])
def test_the_scaling_attack_and_the_norm_check(match_ctx, norm_check):
    """The scaling attack (docs/face.md, "A hostile client"): without the norm
    check a probe of norm lambda compares each score with threshold / lambda
    (lambda = 2 matches scores of 0.34 and up; searching lambda reads every
    score). With ``norm_check=True`` the server folds the probe's encrypted
    squared norm into the step: a template matches when lambda * score >=
    threshold * (1 + lambda^2) / 2, i.e. score >= threshold * (lambda + 1/lambda) / 2
    >= threshold, so a scaled probe never matches a template the unit probe misses."""
    rng = np.random.default_rng(9)
    p0 = rng.normal(size=128)
    p0 /= np.linalg.norm(p0)
    cosines = np.array([0.2, 0.4, 0.5, 0.79, 0.95])
    other = rng.normal(size=(len(cosines), 128))
    other -= np.outer(other @ p0, p0)
    other /= np.linalg.norm(other, axis=1, keepdims=True)
    templates = cosines[:, None] * p0 + np.sqrt(1 - cosines[:, None] ** 2) * other
    rule = NORM_RULE if norm_check else TEST_RULE
    scales = (0.8, 1.0, 1.25, 2.0)
    n = len(cosines)
    # One query asks all four scales: probe k fills slots k*n .. k*n + n - 1
    # (a slot-varying probe, docs/face.md), each slot computed as in its own query.
    gallery = face.Gallery(np.tile(templates, (len(scales), 1)), parameters=TEST_RING, probe="columns",
                           norm_check=norm_check, **rule)
    assert gallery.rule.levels == (14 if norm_check else 16)
    t, margin = gallery.rule.threshold, gallery.rule.margin
    honest = cosines >= t
    coords = np.zeros((128, match_ctx.slots))
    for k, scale in enumerate(scales):
        coords[:, k * n:(k + 1) * n] = scale * p0[:, None]
    answer = match_ctx.decrypt(gallery([match_ctx.encrypt(c) for c in coords])[0])   # bypasses encrypt_probe
    for k, scale in enumerate(scales):
        # the textbook decision of each design, and no template inside its band
        gap = scale * cosines - (t * (1 + scale ** 2) / 2 if norm_check else t)
        assert np.all(np.abs(gap) >= margin)
        bits = decode_bits(answer[k * n:(k + 1) * n])
        assert np.array_equal(bits, gap >= 0)
        if norm_check:
            assert np.array_equal(bits, cosines >= t * (scale + 1 / scale) / 2)    # the AM-GM threshold
            assert not np.any(bits & ~honest)            # never a match the unit probe would not get
        elif scale == 2.0:
            assert np.any(bits & ~honest)                # the attack: 0.4 and 0.5 match at lambda = 2


def test_norm_check_with_the_compact_probe(match_ctx):
    """The compact probe's norm comes from its 128 rotations: the template at
    0.775 matches the unit probe and not the probe scaled by 2 (threshold 0.837)."""
    rng = np.random.default_rng(10)
    p0 = rng.normal(size=128)
    p0 /= np.linalg.norm(p0)
    cosines = np.array([0.95, 0.775])
    other = rng.normal(size=(2, 128))
    other -= np.outer(other @ p0, p0)
    other /= np.linalg.norm(other, axis=1, keepdims=True)
    templates = cosines[:, None] * p0 + np.sqrt(1 - cosines[:, None] ** 2) * other
    gallery = face.Gallery(templates, parameters=TEST_RING, norm_check=True, **NORM_RULE)
    assert match_ctx.rotation_steps == gallery.required_rotations()
    for scale, want in ((1.0, [0, 1]), (2.0, [0])):
        answer = gallery([match_ctx.encrypt(np.tile(scale * p0, match_ctx.slots // 128))])   # the compact layout
        assert face.decrypt_matches(match_ctx, gallery.describe(), answer) == want


def test_match_gallery_through_the_servable_registry(match_ctx):
    from securinfer import servable

    gallery = small_gallery(lfw_embeddings()[:4], labels=list("abcd"))
    again = servable.from_bytes(gallery.kind, servable.to_bytes(gallery))
    assert again.describe() == gallery.describe() and again.rule == gallery.rule
    helper = servable.client_for(gallery.describe())
    probe = helper.encrypt(match_ctx, lfw_variant_embeddings()[2, 0])
    assert helper.decrypt(match_ctx, again(probe)).tolist() == [2]


def test_dist_shards_refuse_a_match_gallery_file(tmp_path):
    """dist's shards score templates and answer scores: a match gallery's file must not become one."""
    shard = pytest.importorskip("securinfer.dist.shard")
    face.Gallery(np.eye(3, 128), parameters=TEST_RING, norm_check=False, **TEST_RULE).save(tmp_path / "m.npz")
    with pytest.raises(ParameterError, match="only matches"):
        shard.build_shard("file", str(tmp_path / "m.npz"), None)
    face.Gallery(np.eye(3, 128), reveal="scores").save(tmp_path / "s.npz")
    assert len(shard.build_shard("file", str(tmp_path / "s.npz"), None).labels) == 3


def test_answer_noise_is_gaussian_from_the_os():
    from scipy import stats

    from securinfer.apps.face.match import secure_normal

    a, b = secure_normal(20001, 0.0625), secure_normal(20001, 0.0625)
    assert a.shape == (20001,) and not np.array_equal(a, b)
    assert abs(np.std(a) - 0.0625) < 0.002 and abs(np.mean(a)) < 0.002
    assert stats.kstest(a / 0.0625, "norm").pvalue > 1e-4      # a normal law (Kolmogorov-Smirnov)
