"""A small torch CNN end to end: client, server holding only public keys,
save/load, remote client from describe(), residual graphs through torch.fx."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import securinfer as si  # noqa: E402
import securinfer.nn as snn  # noqa: E402


class Square(torch.nn.Module):
    def forward(self, x):
        return x ** 2


def _cnn():
    torch.manual_seed(3)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, stride=2, padding=1), Square(), torch.nn.Flatten(),
                               torch.nn.Linear(32, 8), Square(), torch.nn.Linear(8, 3)).double().eval()


@pytest.fixture(scope="module")
def cnn_case():
    net = _cnn()
    x = np.random.default_rng(7).uniform(0, 1, size=(5, 1, 8, 8))
    with torch.no_grad():
        ref = net(torch.tensor(x)).numpy()
    return net, x, ref


@pytest.mark.parametrize("packing", ["features", "slots"])
def test_cnn_client_server_with_public_context(cnn_case, packing):
    net, x, ref = cnn_case
    enc = snn.compile(net, input_shape=(1, 8, 8), calibration=x, packing=packing, batch_size=len(x))
    client_ctx = enc.create_context()
    assert sorted(client_ctx.rotation_steps) == sorted(s % client_ctx.slots for s in enc.required_rotations())
    # the server gets bytes: the public context and the ciphertexts
    server_ctx = si.Context.load(client_ctx.public().serialize())
    assert not server_ctx.has_secret_key
    wire = [c.serialize() for c in enc.encrypt(client_ctx, x)]
    server_out = enc([si.Ciphertext.load(b, server_ctx) for b in wire])
    back = [si.Ciphertext.load(c.serialize(), client_ctx) for c in server_out]
    got = enc.decrypt(client_ctx, back)
    print(packing, "max error vs torch", np.abs(got - ref).max())
    np.testing.assert_allclose(got, ref, atol=1e-2 * max(1.0, np.abs(ref).max()))
    np.testing.assert_allclose(got, enc.simulate(x), atol=1e-2 * max(1.0, np.abs(ref).max()))
    with pytest.raises(si.MissingKeyError):
        server_ctx.decrypt(server_out[0])


def test_save_load_round_trip_and_remote_client(cnn_case, tmp_path):
    net, x, ref = cnn_case
    enc = snn.compile(net, input_shape=(1, 8, 8), calibration=x)
    path = tmp_path / "model.npz"
    enc.save(path)
    loaded = snn.EncryptedModel.load(path)
    assert loaded.describe() == enc.describe()
    np.testing.assert_array_equal(loaded.simulate(x), enc.simulate(x))
    # a remote client knows only the JSON description
    client = snn.Client(json.loads(json.dumps(enc.describe())))
    ctx = client.create_context()
    out = loaded(client.encrypt(ctx, x.reshape(len(x), -1)))
    np.testing.assert_allclose(client.decrypt(ctx, out), enc.simulate(x), atol=1e-2 * max(1.0, np.abs(ref).max()))


def test_load_refuses_bad_files(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(si.SerializationError):
        snn.EncryptedModel.load(bad)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, plan=np.array([{"format": "x"}], dtype=object))
    with pytest.raises(si.SerializationError):
        snn.EncryptedModel.load(pickled)
    with pytest.raises(si.SerializationError):
        snn.EncryptedModel.load(tmp_path / "missing.npz")


def test_tampered_plan_is_refused(cnn_case, tmp_path):
    net, x, _ = cnn_case
    enc = snn.compile(net, input_shape=(1, 8, 8), calibration=x)
    path = tmp_path / "m.npz"
    enc.save(path)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["node0_weight"] = arrays["node0_weight"][:, :5]
    np.savez(path, **arrays)
    with pytest.raises(si.SerializationError):
        snn.EncryptedModel.load(path)


class Residual(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(6, 6)
        self.bn = torch.nn.BatchNorm1d(6)
        self.fc2 = torch.nn.Linear(6, 6)
        self.out = torch.nn.Linear(6, 2)

    def forward(self, x):
        h = self.bn(self.fc1(x))
        h = h + self.fc2(torch.nn.functional.silu(h)) * 0.5
        return self.out(h - 1.0)


def test_residual_graph_through_fx(rng):
    torch.manual_seed(5)
    net = Residual().double().eval()
    net.bn.running_mean[:] = torch.tensor(rng.normal(size=6))
    x = rng.normal(size=(30, 6))
    enc = snn.compile(net, input_shape=(6,), calibration=x, packing="slots", batch_size=4, degrees={"silu": 15})
    assert [n.op for n in enc.graph.nodes].count("add") == 1
    text = enc.summary()
    assert "silu" in text and f"N={enc.parameters['poly_degree']}" in text and "depth" in text
    with torch.no_grad():
        ref = net(torch.tensor(x[:4])).numpy()
    assert np.abs(enc.simulate(x[:4]) - ref).max() < 0.05
    ctx = enc.create_context()
    got = enc.decrypt(ctx, enc(enc.encrypt(ctx, x[:4])))
    np.testing.assert_allclose(got, enc.simulate(x[:4]), atol=5e-3)


@pytest.mark.parametrize("packing", ["features", "slots"])
def test_batches_larger_than_one_ciphertext(rng, packing):
    from sklearn.linear_model import LinearRegression

    X = rng.normal(size=(2500, 3))
    y = X @ [1.0, 2.0, 3.0] - 1
    enc = snn.compile(LinearRegression().fit(X, y), packing=packing, batch_size=7)
    ctx = enc.create_context()
    cts = enc.encrypt(ctx, X)
    per = enc.layout.per_ciphertext
    assert len(cts) == (-(-len(X) // per)) * (3 if packing == "features" else 1)
    got = enc.decrypt(ctx, enc(cts))
    assert got.shape == (len(X), 1)
    np.testing.assert_allclose(got.ravel(), y, atol=5e-3)
