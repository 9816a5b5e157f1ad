"""A batch is as strong as its records: the client checks every record against
the input ranges the model was calibrated on, and the approximated
activations stay bounded a margin outside their calibrated range, so one odd
record cannot spoil the others (issue 12, case 5).

The model is the docs/nn.md quick-start MLP with ``random_state=17``: before
these checks, one test record pushed its ReLU just outside the fitted range,
the degree-63 polynomial returned ~1e6, the value overflowed at decryption
and every record of the batch came back wrong (agreement 0.49).
"""

import io
import json
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import securinfer as si  # noqa: E402
import securinfer.nn as snn  # noqa: E402
from numpy.polynomial import chebyshev as C  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

WILD_RECORD, WILD_FEATURE = 7, 3


@pytest.fixture(scope="module")
def data():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2000, random_state=17).fit(X[:400], y[:400])
    return model, snn.compile(model, calibration=X[:400])


@pytest.fixture(scope="module")
def ctx(fitted):
    return fitted[1].create_context()


def _wild_batch(X, value):
    batch = X[400:440].copy()
    batch[WILD_RECORD, WILD_FEATURE] = value
    return batch


def test_wild_record_raises_by_default_naming_record_and_feature(data, fitted, ctx):
    X, _ = data
    _, enc = fitted
    batch = _wild_batch(X, 1e3)
    with pytest.raises(snn.OutOfRangeError) as info:
        enc.encrypt(ctx, batch)
    assert info.value.record == WILD_RECORD and info.value.feature == WILD_FEATURE
    assert f"record {WILD_RECORD}, feature {WILD_FEATURE}" in str(info.value) and "clip" in str(info.value)
    assert isinstance(info.value, si.ParameterError)
    # A remote client, from the JSON description, refuses it too.
    client = snn.Client(json.loads(json.dumps(enc.describe())))
    with pytest.raises(snn.OutOfRangeError, match=f"record {WILD_RECORD}, feature {WILD_FEATURE}"):
        client.encrypt(ctx, batch)
    # The box is each feature's calibration range widened by input_margin widths (at least the median width).
    lo, hi = X[:400].min(axis=0), X[:400].max(axis=0)
    spread = np.maximum(hi - lo, np.median(hi - lo))
    np.testing.assert_allclose(client.input_ranges.low, lo - spread)
    np.testing.assert_allclose(client.input_ranges.high, hi + spread)


def test_clip_keeps_the_other_records_equal_to_plaintext(data, fitted, ctx):
    X, _ = data
    model, enc = fitted
    batch = _wild_batch(X, 1e3)
    out = enc(enc.encrypt(ctx.public(), batch, out_of_range="clip"))
    labels = enc.predict(ctx, out)
    scores = enc.decrypt(ctx, out)[:, 0]
    others = np.arange(len(batch)) != WILD_RECORD
    np.testing.assert_array_equal(labels[others], model.predict(batch[others]))
    clipped = np.clip(batch, enc.input_ranges.low, enc.input_ranges.high)
    assert clipped[WILD_RECORD, WILD_FEATURE] == enc.input_ranges.high[WILD_FEATURE]
    want = enc.simulate(clipped)[:, 0]
    print(f"clip: max |encrypted - simulated| {np.max(np.abs(scores - want)):.2e}")
    np.testing.assert_allclose(scores, want, atol=1e-2)   # the clipped record too: the plan on its clipped values
    # And against the plaintext model's logit, within what the ReLU approximation error can move it.
    proba = np.clip(model.predict_proba(batch[others])[:, 1], 1e-15, 1 - 1e-15)
    node = next(n for n in enc.graph.nodes if n.op == "poly")
    budget = node.error * np.abs(model.coefs_[1]).sum() + 1e-2
    assert np.max(np.abs(scores[others] - np.log(proba / (1 - proba)))) <= budget


def test_ignore_encrypts_as_is_and_a_mild_outlier_spares_the_others(data, fitted, ctx):
    X, _ = data
    model, enc = fitted
    r = enc.input_ranges
    batch = _wild_batch(X, r.high[WILD_FEATURE] + 0.02 * (r.high[WILD_FEATURE] - r.low[WILD_FEATURE]))
    with pytest.raises(snn.OutOfRangeError):
        enc.check(batch)
    np.testing.assert_array_equal(enc.check(batch, "ignore"), batch)
    out = enc(enc.encrypt(ctx, batch, out_of_range="ignore"))
    scores = enc.decrypt(ctx, out)[:, 0]
    others = np.arange(len(batch)) != WILD_RECORD
    np.testing.assert_array_equal(enc.predict(ctx, out)[others], model.predict(batch[others]))
    np.testing.assert_allclose(scores[others], enc.simulate(batch[others])[:, 0], atol=1e-2)


def test_bad_policy_is_refused(data, fitted):
    X, _ = data
    with pytest.raises(si.ParameterError, match="out_of_range"):
        fitted[1].check(X[400:402], "wrap")


def test_activation_stays_bounded_on_its_safety_margin(fitted):
    """Measured independently: the ReLU polynomial on its fitted range F
    (the accurate range widened by 25% of its width on each side) stays
    within its error of ReLU; 5% of F's width beyond F it is far larger."""
    _, enc = fitted
    node = next(n for n in enc.graph.nodes if n.op == "poly")
    accurate, (a, b) = node.extra["accurate_on"], node.extra["bounded_on"]
    width = accurate[1] - accurate[0]
    assert np.isclose(a, accurate[0] - 0.25 * width) and np.isclose(b, accurate[1] + 0.25 * width)
    lo, hi = node.extra["calibrated_range"]
    assert np.isclose(accurate[0], lo - 0.2 * (hi - lo)) and np.isclose(accurate[1], hi + 0.2 * (hi - lo))

    def p(x):   # the folded polynomial reads t = (2x - a - b) / (b - a)
        return C.chebval((2 * x - a - b) / (b - a), node.coeffs)

    grid = np.linspace(a, b, 20_001)
    relu = np.maximum(grid, 0)
    inner = (grid >= accurate[0]) & (grid <= accurate[1])
    print(f"degree {len(node.coeffs) - 1}: error {np.max(np.abs(p(grid) - relu)[inner]):.3g} on A, "
          f"max |p| {np.max(np.abs(p(grid))):.4g} on F against max ReLU {relu.max():.4g}; "
          f"|p| 5% beyond F: {abs(p(b + 0.05 * (b - a))):.3g}")
    assert np.max(np.abs(p(grid) - relu)[inner]) <= 0.01 * relu[inner].max() + 1e-12
    assert np.max(np.abs(p(grid))) <= relu.max() + 2 * node.error
    assert abs(p(b + 0.05 * (b - a))) > 100 * relu.max()   # why inputs are checked at all


def test_ranges_survive_save_and_load(tmp_path, data, fitted):
    X, _ = data
    _, enc = fitted
    path = tmp_path / "model.npz"
    enc.save(path)
    loaded = snn.EncryptedModel.load(path)
    np.testing.assert_array_equal(loaded.input_ranges.low, enc.input_ranges.low)
    np.testing.assert_array_equal(loaded.input_ranges.high, enc.input_ranges.high)
    assert loaded.describe()["inputs"]["ranges"] == enc.describe()["inputs"]["ranges"]
    with pytest.raises(snn.OutOfRangeError, match=f"record {WILD_RECORD}"):
        loaded.check(_wild_batch(X, -1e3))


def _without_ranges(path):
    """The file as securinfer wrote it before input ranges (and before the
    servable store): the plan in a ``plan`` member, no ``input_ranges``."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    plan = json.loads(arrays.pop("meta").tobytes().decode())
    for key in ("input_ranges", "kind", "format_version"):
        del plan[key]
    plan["format"] = "securinfer.nn/1"
    arrays["plan"] = np.frombuffer(json.dumps(plan).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())


def test_older_files_without_ranges_load_and_say_they_cannot_check(tmp_path, data, fitted):
    X, _ = data
    _, enc = fitted
    path = tmp_path / "old.npz"
    enc.save(path)
    _without_ranges(path)
    with pytest.warns(UserWarning, match="without input ranges"):
        old = snn.EncryptedModel.load(path)
    assert old.input_ranges is None and "ranges" not in old.describe()["inputs"]
    with pytest.warns(UserWarning, match="carries no input ranges"):
        client = snn.Client(old.describe())
    wild = _wild_batch(X, 1e3)
    np.testing.assert_array_equal(client.check(wild), wild)   # nothing to check against: documented, warned


def test_bad_ranges_in_a_file_are_a_serialization_error(tmp_path, fitted):
    path = tmp_path / "bad.npz"
    fitted[1].save(path)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    plan = json.loads(arrays["meta"].tobytes().decode())
    plan["input_ranges"]["low"] = plan["input_ranges"]["low"][:-1]
    arrays["meta"] = np.frombuffer(json.dumps(plan).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(si.SerializationError, match="ranges"):
        snn.EncryptedModel.load(path)


def test_a_model_compiled_without_calibration_has_no_ranges():
    from sklearn.linear_model import LinearRegression

    X = np.random.default_rng(0).normal(size=(20, 3))
    enc = snn.compile(LinearRegression().fit(X, X[:, 0]))
    assert enc.describe()["inputs"]["ranges"] is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # explicit None: documented, no warning
        client = snn.Client(enc.describe())
    assert client.input_ranges is None
    np.testing.assert_array_equal(client.check(X * 100), X * 100)


def test_cover_input_box_proves_every_accepted_record_in_range(data, fitted):
    """With cover_input_box=True each activation is fitted on (at least) the
    interval bound of its inputs over the client's box, so no record that
    passes the check can leave its bounded range: checked on the box's
    corners-like extremes drawn at random, in plaintext."""
    X, _ = data
    model, _ = fitted
    enc = snn.compile(model, calibration=X[:400], cover_input_box=True)
    node = next(n for n in enc.graph.nodes if n.op == "poly")
    assert node.extra["box_inside"] is True
    r = enc.input_ranges
    rng = np.random.default_rng(0)
    corners = np.where(rng.random((2000, r.features)) < 0.5, r.low, r.high)
    hidden = corners @ model.coefs_[0] + model.intercepts_[0]
    a, b = node.extra["bounded_on"]
    assert hidden.min() >= a and hidden.max() <= b


def test_the_slot_packing_checks_records_too(data, fitted):
    """Several records share a ciphertext there as well: the same check."""
    X, _ = data
    model, _ = fitted
    enc = snn.compile(model, calibration=X[:400], packing="slots", batch_size=4)
    assert enc.packing == "slots"
    batch = X[400:404].copy()
    batch[2, 5] = -1e3
    with pytest.raises(snn.OutOfRangeError, match="record 2, feature 5"):
        enc.encrypt(enc.create_context(), batch)
