"""Interval bounds of a plan hold for every input of the box: checked
against the plan run in plaintext on random points and corners of the box."""

import numpy as np

from securinfer.nn.activations import calibrate
from securinfer.nn.graph import Graph
from securinfer.nn.intervals import bounds


def _plan(rng):
    g = Graph(5)
    h = g.affine(-1, rng.normal(size=(5, 6)), rng.normal(size=6), name="fc1")
    a = g.act(h, "relu", name="relu")
    s = g.square(a, name="square")
    h2 = g.affine(s, rng.normal(size=(6, 6)) * 0.1, rng.normal(size=6), name="fc2")
    t = g.act(h2, "tanh", name="tanh")
    p = g.poly(t, [0.5, 1.0, 0.25], name="given")          # power basis: 0.5 + x + x^2/4
    g.add(p, h2, name="residual")
    return g


def test_bounds_contain_every_value_of_the_box():
    rng = np.random.default_rng(3)
    g = _plan(rng)
    low, high = -np.ones(5), np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    calibrate(g, rng.uniform(low, high, size=(500, 5)), safety=0.25, box=(low, high), cover_input_box=True)
    lows, highs, inside = bounds(g, low, high)
    points = np.concatenate([rng.uniform(low, high, size=(20_000, 5)),
                             np.where(rng.random((2_000, 5)) < 0.5, low, high)])
    trace = []
    g.run(points, trace=trace)
    for node, values, lo, hi in zip(g.nodes, trace, lows, highs):
        slack = 1e-9 * (1 + np.abs(hi - lo))
        assert np.all(values >= lo - slack) and np.all(values <= hi + slack), node.name
    fitted = [i for i, n in enumerate(g.nodes) if n.op == "poly" and n.function]
    assert all(inside[i] is not None and bool(np.all(inside[i])) for i in fitted)   # cover_input_box
    # The first layer's bound is exact: some corner reaches each end.
    corners = np.array(np.meshgrid(*zip(low, high))).reshape(5, -1).T
    exact = corners @ g.nodes[0].weight + g.nodes[0].bias
    np.testing.assert_allclose(lows[0], exact.min(axis=0))
    np.testing.assert_allclose(highs[0], exact.max(axis=0))
