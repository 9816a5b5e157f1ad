"""Bootstrap placement on synthetic plans whose optimum is known (brute
force over every placement), and a bootstrapped residual network end to end
on the small insecure test parameters (reachable only with security=None)."""

import itertools
import warnings

import numpy as np
import pytest

import securinfer as si
from securinfer.nn.graph import Graph
from securinfer.nn.placement import Placement, insert_bootstraps, node_levels, place_bootstraps


def _chain(kinds):
    """A chain of nodes: "a" affine, "s" square, "p" a degree-7 polynomial."""
    g = Graph(3)
    h = -1
    for k in kinds:
        if k == "a":
            h = g.affine(h, np.eye(3) * 0.5, np.full(3, 0.1))
        elif k == "s":
            h = g.square(h)
        else:
            h = g.poly(h, np.r_[0.0, 1.0, np.zeros(5), 0.01], basis="chebyshev")
    return g


def _feasible(graph, boots, top, refresh):
    """Levels never go below zero with these bootstraps ((value, first reader) pairs);
    an independent walk of the plan (a non-folded scale-down costs a level)."""
    levels = node_levels(graph)
    readers = {i: [j for j, n in enumerate(graph.nodes) if i in n.inputs] for i in range(len(graph.nodes))}
    level = {-1: top}
    for i, node in enumerate(graph.nodes):
        for u, first in boots:
            if first == i:
                fold = graph.nodes[u].op in ("affine", "poly") and len(readers[u]) == 1
                if level[u] < (0 if fold else 1):
                    return False
                level[u] = refresh
        start = min(level[u] for u in node.inputs)
        if start < levels[i]:
            return False
        level[i] = start - levels[i]
    return True


def _brute_force(graph, top, refresh, op_ms):
    """(fewest bootstraps, least time among them) over every subset of chain positions."""
    n = len(graph.nodes)
    levels = node_levels(graph)
    best = None
    for k in range(n):
        for subset in itertools.combinations(range(n - 1), k):
            boots = [(i, i + 1) for i in subset]
            if not _feasible(graph, boots, top, refresh):
                continue
            level, ms = top, 0.0
            for i in range(n):
                ms += op_ms[i] * (level + 1)
                level -= levels[i]
                if i in subset:
                    level = refresh
            if best is None or (k, ms) < best[:2]:
                best = (k, ms, boots)
        if best is not None:
            return best
    return None


@pytest.mark.parametrize("n,top,refresh", [(6, 6, 2), (7, 3, 2), (14, 5, 4), (20, 9, 3), (9, 2, 2), (40, 29, 9)])
def test_unit_chain_count_is_the_known_optimum(n, top, refresh):
    g = _chain("a" * n)
    p = place_bootstraps(g, top, refresh)
    assert p.count == max(0, -(-(n - top) // refresh))
    assert _feasible(g, p.after, top, refresh)


@pytest.mark.parametrize("seed", range(12))
def test_chain_placement_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    kinds = "".join(rng.choice(list("aasp"), size=int(rng.integers(4, 11))))
    g = _chain(kinds)
    deepest = max(node_levels(g))
    refresh = int(rng.integers(deepest, deepest + 3))
    top = int(rng.integers(refresh, refresh + 4))
    op_ms = rng.uniform(0.1, 3.0, size=len(kinds))
    want = _brute_force(g, top, refresh, op_ms)
    got = place_bootstraps(g, top, refresh, op_ms=op_ms, bootstrap_ms=1000.0)
    assert got.count == want[0], (kinds, top, refresh)
    assert got.estimated_ms == pytest.approx(want[1] + 1000.0 * want[0], abs=0.1)
    assert _feasible(g, got.after, top, refresh)


def test_square_before_a_bootstrap_costs_a_level():
    """A square's output cannot absorb the division by the scale: with
    refresh 2 and 1 level per node, each bootstrap after a square waits for
    one level left; the placement knows it (brute force agrees)."""
    g = _chain("asasasas")
    p = place_bootstraps(g, 3, 2)
    want = _brute_force(g, 3, 2, [1.0] * 8)
    assert p.count == want[0] and _feasible(g, p.after, 3, 2)
    assert not _feasible(g, [(1, 2), (3, 4), (5, 6)], 3, 2)   # bootstrapping squares at level 0: refused


def _residual(blocks, width=3):
    g = Graph(width)
    h = g.affine(-1, np.eye(width))
    for _ in range(blocks):
        t = g.square(g.affine(h, np.eye(width)))
        t = g.affine(t, np.eye(width))
        h = g.add(h, t)
    return g


def _brute_force_count(graph, top, refresh, most):
    """The fewest bootstraps over every set of (value, reader) placements, up to ``most``."""
    readers = {u: [j for j, n in enumerate(graph.nodes) if u in n.inputs] for u in range(len(graph.nodes))}
    candidates = [(u, i) for u in readers for i in readers[u]]
    for k in range(most + 1):
        if any(_feasible(graph, list(s), top, refresh) for s in itertools.combinations(candidates, k)):
            return k
    return None


@pytest.mark.parametrize("blocks", [1, 2, 3])
def test_residual_placement_count_equals_brute_force(blocks):
    """On residual blocks the fewest bootstraps often refresh the block's sum
    once rather than both of its inputs; the placement finds that count."""
    g = _residual(blocks)
    for top in range(3, 9):
        for refresh in range(3, top + 1):
            p = place_bootstraps(g, top, refresh)
            assert _feasible(g, p.after, top, refresh)
            assert p.count == _brute_force_count(g, top, refresh, p.count), (blocks, top, refresh, p.after)


@pytest.mark.parametrize("blocks,top,refresh", [(2, 4, 3), (4, 5, 3), (6, 5, 2)])
def test_residual_placement_is_feasible_and_not_more_than_a_chain_needs(blocks, top, refresh):
    g = _residual(blocks)
    p = place_bootstraps(g, top, refresh)
    assert p.method == "exact" and _feasible(g, p.after, top, refresh)
    depth = g.depth
    assert p.count >= -(-(depth - top) // refresh)       # a lower bound: every level past top is refreshed
    sizes = [1.0] * len(g.nodes)
    new = insert_bootstraps(g, p, sizes, top, refresh)
    assert sum(n.op == "bootstrap" for n in new.nodes) == p.count
    x = np.random.default_rng(0).uniform(-1, 1, size=(4, 3))
    np.testing.assert_allclose(new.run(x), g.run(x), atol=1e-12)      # bootstraps change no value


def test_a_node_deeper_than_a_refresh_is_refused():
    g = _chain("ap")
    with pytest.raises(si.ParameterError, match="levels"):
        place_bootstraps(g, top=2, refresh=2)


# --------------------------------------------------------------------------- compile, encrypted
torch = pytest.importorskip("torch")
snn = pytest.importorskip("securinfer.nn")


class Square(torch.nn.Module):
    def forward(self, x):
        return x * x


class Block(torch.nn.Module):
    """x + f(x), f: six (Linear, square) pairs then a Linear: 13 levels."""

    def __init__(self, width):
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(width, width) for _ in range(7))

    def forward(self, x):
        h = x
        for layer in self.layers[:-1]:
            h = layer(h)
            h = h * h
        return x + self.layers[-1](h)


def _residual_net(width=4, blocks=2):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, width), *[Block(width) for _ in range(blocks)],
                              torch.nn.Linear(width, 2))
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(0.6)
                m.bias.uniform_(-0.3, 0.1)
    return net.double().eval()


def test_test_parameters_need_security_none():
    from securinfer.bootstrapping import TEST_PARAMETERS

    net = _residual_net()
    x = np.random.default_rng(1).uniform(-1, 1, size=(8, 5))
    with pytest.raises(si.SecurityError):
        snn.compile(net, input_shape=(5,), calibration=x, bootstrap_parameters=TEST_PARAMETERS)
    plain = snn.compile(net, input_shape=(5,), calibration=x)      # 28 levels fit a 128-bit ring: no bootstrap
    assert plain.bootstraps == 0 and "bootstrap" not in plain.describe()
    with pytest.raises(si.ParameterError, match="bootstrap"):
        snn.compile(net, input_shape=(5,), calibration=x, bootstrap="sometimes")


def test_secure_default_plan_places_bootstraps_for_the_preset():
    """bootstrap="always": the preset's N = 2^16 chain (24 levels fresh, 9
    after each bootstrap), planned and simulated (not run here: its keys
    take 4.9 GiB)."""
    net2 = _residual_net(blocks=4)           # 54 levels: past the 24 of a fresh input
    x = np.random.default_rng(1).uniform(-1, 1, size=(8, 5))
    enc = snn.compile(net2, input_shape=(5,), calibration=x, bootstrap="always", batch_size=8)
    assert enc.parameters["poly_degree"] == 65536 and enc.bootstraps >= 3
    assert enc.describe()["bootstraps"] == enc.bootstraps
    assert "bootstraps:" in enc.summary() and "128-bit secure" in enc.summary()
    with torch.no_grad():
        ref = net2(torch.tensor(x)).numpy()
    np.testing.assert_allclose(enc.simulate(x), ref, atol=1e-9)
    # Far outside the calibrated values (this net's bootstrapped values stay
    # near 0.25 up to 12x; at 20x its polynomial activations overflow).
    with pytest.warns(UserWarning, match="enters the bootstrap"), np.errstate(all="ignore"):
        enc.simulate(20 * x)


@pytest.fixture(scope="module")
def boot_ctx():
    """The N = 2^12 test chain with bootstrapping keys (what Client.create_context
    makes for a bootstrapped plan; a client refuses these insecure parameters)."""
    from securinfer.bootstrapping import TEST_PARAMETERS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = si.Context.create(**TEST_PARAMETERS, security=None)
    ctx.generate_bootstrapping_keys()
    return ctx


def test_bootstrap_node_scales_values_into_range_encrypted(boot_ctx):
    """A value up to 3.1 made by a square (no producer to fold into): the
    node divides by s = 7 (one level), bootstraps, multiplies by 7 (no
    level); the same value comes back at the refreshed level."""
    from securinfer.nn.packing import run_features

    g = Graph(1)
    h = g.square(g.affine(-1, np.array([[1.0]]), np.array([0.5])))
    g.affine(h, np.eye(1) * 2.0)
    top, refresh = boot_ctx.max_level, boot_ctx.levels_after_bootstrap
    assert place_bootstraps(g, top, refresh).count == 0     # 3 levels fit 21: nothing placed
    forced = Placement([(1, 2)])                            # so place one by hand after the square
    x = np.linspace(-2.26, 1.26, 32).reshape(-1, 1)      # (x + 0.5)^2 up to 3.1
    sizes = [float(np.max(np.abs(v))) for v in _trace(g, x)]
    new = insert_bootstraps(g, forced, sizes, top, refresh)
    node = new.nodes[2]
    assert node.op == "bootstrap" and node.extra["prescale"] == "multiply" and node.extra["scale"] == 7
    np.testing.assert_allclose(new.run(x), g.run(x), atol=1e-12)
    ct = boot_ctx.encrypt(x.ravel())
    out = run_features(new, [ct])[0]
    assert out.level == refresh - 1
    np.testing.assert_allclose(boot_ctx.decrypt(out), g.run(x).ravel(), atol=1e-3)


def _trace(graph, x):
    trace = []
    graph.run(x, trace=trace)
    return trace


def test_bootstrapped_residual_network_end_to_end(tmp_path, boot_ctx):
    """Two residual blocks (28 levels) on the N = 2^12 test chain (21 levels
    fresh, 3 after a bootstrap): the compiler places the bootstraps, the
    encrypted result equals torch's."""
    from securinfer.bootstrapping import TEST_PARAMETERS

    net = _residual_net()
    x = np.random.default_rng(1).uniform(-1, 1, size=(8, 5))
    with pytest.warns(UserWarning, match="128-bit"):
        enc = snn.compile(net, input_shape=(5,), calibration=x, bootstrap_parameters=TEST_PARAMETERS,
                          security=None, batch_size=2)
    assert enc.packing == "slots" and enc.bootstraps >= 2
    p = place_bootstraps(_plan_without_bootstraps(enc.graph), 21, 3)
    assert enc.bootstraps == p.count
    assert "NOT secure" in enc.summary()
    assert enc.cost()["bootstraps"] == enc.bootstraps
    path = tmp_path / "boot.npz"
    enc.save(path)
    loaded = snn.EncryptedModel.load(path)
    assert loaded.bootstraps == enc.bootstraps and loaded.describe() == enc.describe()
    np.testing.assert_allclose(loaded.simulate(x), enc.simulate(x), atol=0)
    with pytest.raises(si.SecurityError):
        snn.Client(loaded.describe()).create_context()     # a client never takes test parameters
    ctx = boot_ctx
    assert ctx.parameters.coeff_bits == tuple(enc.parameters["coeff_bits"])
    ctx.generate_rotation_keys(steps=enc.required_rotations())
    got = enc.decrypt(ctx, enc(enc.encrypt(ctx, x[:2])))
    with torch.no_grad():
        ref = net(torch.tensor(x[:2])).numpy()
    print(enc.summary())
    print("bootstraps", enc.bootstraps, "max error", np.abs(got - ref).max(), "outputs", ref.ravel())
    assert np.abs(ref).max() > 0.1                          # a real signal, not a vanished one
    np.testing.assert_allclose(got, ref, atol=1e-3)


def test_bootstraps_on_a_slots_to_coeffs_first_chain_happen_above_its_input_level():
    """A chain that runs SlotsToCoeffs first (bootstraps take their input at
    level 3, return at 6): the compiler counts levels from 3, so every
    bootstrap meets a ciphertext at level 3 or above, and the encrypted
    result equals torch's."""
    from securinfer.bootstrapping import parameters_for_bootstrap

    params = parameters_for_bootstrap(4096, 3, arcsine=True)
    net = _residual_net()
    x = np.random.default_rng(1).uniform(-1, 1, size=(8, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = snn.compile(net, input_shape=(5,), calibration=x, bootstrap_parameters=params, security=None,
                          batch_size=2)
        ctx = si.Context.create(**params, security=None)
    assert (ctx.bootstrap_input_level, ctx.levels_after_bootstrap) == (3, 6)
    assert enc.bootstraps == place_bootstraps(_plan_without_bootstraps(enc.graph), ctx.max_level - 3, 3).count >= 2
    ctx.generate_bootstrapping_keys()
    ctx.generate_rotation_keys(steps=enc.required_rotations())
    got = enc.decrypt(ctx, enc(enc.encrypt(ctx, x[:2])))
    with torch.no_grad():
        ref = net(torch.tensor(x[:2])).numpy()
    assert np.abs(ref).max() > 0.1
    np.testing.assert_allclose(got, ref, atol=1e-3)


def _plan_without_bootstraps(graph):
    """The plan with its bootstrap nodes taken out (readers rewired): the
    placement must find the same count again."""
    g = Graph(graph.input_size)
    index = {-1: -1}
    for i, node in enumerate(graph.nodes):
        if node.op == "bootstrap":
            index[i] = index[node.inputs[0]]
            continue
        node = type(node)(**{**node.__dict__, "inputs": [index[r] for r in node.inputs]})
        g.nodes.append(node)
        index[i] = len(g.nodes) - 1
    return g


def test_greedy_fallback_is_feasible_and_exact_returns_none_past_its_limit():
    from securinfer.nn import placement

    g = _residual(4)
    levels = node_levels(g)
    assert placement._exact(g, levels, 5, 3, [1.0] * len(levels), 1.0, limit=1) is None
    p = placement._greedy(g, levels, 5, 3, [1.0] * len(levels), 1.0)
    assert p.method == "greedy" and _feasible(g, p.after, 5, 3)
    assert p.count >= place_bootstraps(g, 5, 3).count


def test_client_makes_the_bootstrapping_keys_of_a_bootstrapped_plan(monkeypatch):
    """The client code does not change: Client.create_context reads
    describe()["bootstraps"] and makes the bootstrapping keys. (Its 128-bit
    check refuses the test chain, so the context factory is replaced by one
    that makes the test chain; everything after it is the client's own.)"""
    from securinfer.bootstrapping import TEST_PARAMETERS
    from securinfer.nn import client as client_module

    net = _residual_net()
    x = np.random.default_rng(1).uniform(-1, 1, size=(8, 5))
    with pytest.warns(UserWarning, match="128-bit"):
        enc = snn.compile(net, input_shape=(5,), calibration=x, bootstrap_parameters=TEST_PARAMETERS,
                          security=None, batch_size=2)

    def insecure(params, rotations=(), max_key_bytes=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx = si.Context.create(**params, security=None)
        ctx.generate_rotation_keys(steps=sorted(rotations))
        return ctx

    monkeypatch.setattr(client_module, "context_for_server", insecure)
    ctx = snn.Client(enc.describe()).create_context()
    y = ctx.encrypt(np.linspace(-0.5, 0.5, 8)).drop_to_level(0).bootstrap()   # the keys are there
    assert y.level == ctx.levels_after_bootstrap
    np.testing.assert_allclose(ctx.decrypt(y), np.linspace(-0.5, 0.5, 8), atol=1e-4)


def _deep_conv_net(hidden_layers=10):
    """A small LeNet-like conv net with he_friendly's degree-2 activations
    (evaluated exactly by the plan): conv 1->2 3x3 on 6x6, activation,
    average pooling, then Linear + activation pairs: 2 + 2 x 11 levels."""
    from securinfer.nn.he_friendly import PolyActivation

    torch.manual_seed(3)

    def act():
        return PolyActivation([0.0, 1.0, 0.2], 1.0)

    layers = [torch.nn.Conv2d(1, 2, 3), act(), torch.nn.AvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(8, 4), act()]
    for _ in range(hidden_layers - 1):
        layers += [torch.nn.Linear(4, 4), act()]
    net = torch.nn.Sequential(*layers, torch.nn.Linear(4, 3))
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(2.0)         # the signal neither dies nor explodes over the 11 layers
    return net.double().eval()


def test_bootstrapped_conv_net_equals_torch(boot_ctx):
    """A conv net deeper than the test chain's 21 fresh levels: the compiler
    places the bootstrap (3 levels after it; the convolution on im2col
    windows, one image per ciphertext); the plan equals torch on two
    images and the encrypted logits of one equal torch's."""
    from securinfer.bootstrapping import TEST_PARAMETERS

    net = _deep_conv_net()
    x = np.random.default_rng(4).uniform(0, 1, size=(32, 1, 6, 6))
    with pytest.warns(UserWarning, match="128-bit"):
        enc = snn.compile(net, input_shape=(1, 6, 6), calibration=x, bootstrap_parameters=TEST_PARAMETERS,
                          security=None, batch_size=1)
    plain = _plan_without_bootstraps(enc.graph)
    assert enc.packing == "slots" and plain.depth > 21
    assert enc.bootstraps == place_bootstraps(plain, 21, 3).count >= 1
    rows = enc.plan()                                      # the plan as data (the notebooks draw it)
    assert [r["op"] for r in rows] == [n.op for n in enc.graph.nodes]
    assert [r["level"] for r in rows if r["op"] == "bootstrap"] == [3] * enc.bootstraps
    assert rows[0]["level"] == 21 - rows[0]["levels_used"] and min(r["level"] for r in rows) >= 0
    assert all((r["levels_used"] < 0) == (r["op"] == "bootstrap") for r in rows)
    assert sum(r["estimated_ms"] for r in rows) == pytest.approx(enc.cost()["estimated_ms"], abs=1)
    with torch.no_grad():
        ref = net(torch.tensor(x[:2])).numpy()
    assert np.abs(ref[0] - ref[1]).max() > 0.05              # the inputs still differ at the logits
    np.testing.assert_allclose(enc.simulate(x[:2].reshape(2, -1)), ref, atol=1e-9)
    boot_ctx.generate_rotation_keys(steps=enc.required_rotations())
    got = enc.decrypt(boot_ctx, enc(enc.encrypt(boot_ctx, x[:1])))     # one image: a bootstrap takes seconds
    print(enc.summary())
    print("bootstraps", enc.bootstraps, "max error", np.abs(got - ref[:1]).max(), "logits", ref[0])
    np.testing.assert_allclose(got, ref[:1], atol=1e-4)


def test_a_preset_plan_is_described_by_name_and_its_keys_are_budgeted():
    """A plan on the bootstrap preset names the preset (a client takes
    N = 2^16 only as that chain), and a remote client counts its
    bootstrapping keys (5.6 GiB) against its key budget: refused under the
    default 4 GiB before any Galois key is made; raising ``max_key_bytes``
    is the client's own decision."""
    net = _residual_net(blocks=4)
    x = np.random.default_rng(1).uniform(-1, 1, size=(8, 5))
    enc = snn.compile(net, input_shape=(5,), calibration=x, bootstrap="always", batch_size=8)
    description = enc.describe()
    assert description["context"] == {"preset": "bootstrap"} and description["bootstraps"] == enc.bootstraps
    with pytest.raises(si.SecurityError, match="max_key_bytes"):
        snn.Client(description).create_context()


def test_a_loaded_model_keeps_the_key_budget(tmp_path):
    """Only a model compiled in this process makes its keys without a budget;
    one loaded from a file (someone else's plan) is held to the client's."""
    net = _residual_net(blocks=4)
    x = np.random.default_rng(1).uniform(-1, 1, size=(8, 5))
    enc = snn.compile(net, input_shape=(5,), calibration=x, bootstrap="always", batch_size=8)
    assert enc.compiled_here
    enc.save(tmp_path / "deep.npz")
    loaded = snn.EncryptedModel.load(tmp_path / "deep.npz")
    assert not loaded.compiled_here and loaded.describe() == enc.describe()
    with pytest.raises(si.SecurityError, match="max_key_bytes"):
        loaded.create_context()
