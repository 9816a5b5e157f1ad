"""Servables of the other areas behind the service: an encrypted scikit-learn
model and face galleries (plaintext and encrypted templates), over HTTP."""

import numpy as np
import pytest

from securinfer.serve import Client, ServiceError, create_app

from .conftest import TOKEN
from .server import ServerThread

nn = pytest.importorskip("securinfer.nn")
face = pytest.importorskip("securinfer.apps.face")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)    # test data only
    X = rng.normal(size=(200, 4))
    y = (X @ [1.0, -2.0, 0.5, 0.0] > 0).astype(int)
    sk = LogisticRegression().fit(X, y)
    model = nn.compile(sk)
    model_path = tmp_path_factory.mktemp("models") / "m.npz"
    model.save(model_path)                      # served from its file, as in a deployment
    people = rng.normal(size=(5, 128))
    gallery = face.Gallery(people, labels=list("abcde"), name="staff", reveal="scores")
    enroller = face.create_context()
    sealed = face.EncryptedGallery.enroll(enroller, people, labels=list("abcde"), name="sealed")
    servables = [type(model).load(model_path), gallery, sealed]
    app = create_app(servables, token=TOKEN)
    with ServerThread(app) as server:
        yield server, sk, X, people, enroller, app


def test_encrypted_model_over_http(deployment):
    server, sk, X, _, _, _ = deployment
    with Client(server.url, token=TOKEN) as client:
        scores = client.infer(_model_name(client), X[:8])
        print("max error", np.abs(scores.ravel() - sk.decision_function(X[:8])).max())
        assert np.allclose(scores.ravel(), sk.decision_function(X[:8]), atol=1e-3)


def test_galleries_over_http(deployment):
    server, _, _, people, enroller, app = deployment
    probe = people[3] + 0.05 * np.random.default_rng(4).normal(size=128)
    unit = people / np.linalg.norm(people, axis=1, keepdims=True)
    expected = unit @ (probe / np.linalg.norm(probe))
    with Client(server.url, token=TOKEN) as client:
        scores = client.infer("staff", probe)
        assert np.allclose(scores, expected, atol=1e-3)
        assert face.top_k(scores, 1, list("abcde"))[0][0] == "d"
        # A large request (128 probe ciphertexts) after the server forgot the session:
        # the 404 still reaches the client, which uploads its keys again.
        app.state.sessions.clear()
        assert np.allclose(client.infer("staff", probe), expected, atol=1e-3)
        assert client.metrics()["routes"]["POST /v1/run/{name}"]["by_status"]["404"] == 1
        # The encrypted gallery answers only probes under the enrolling client's keys.
        with pytest.raises(ServiceError) as refused:
            client.infer("sealed", probe)
        assert refused.value.status == 409
        client.set_context("sealed", enroller)
        assert np.allclose(client.infer("sealed", probe), expected, atol=1e-3)


def _model_name(client):
    [name] = [n for n, d in client.servables().items() if d["kind"] == "model"]
    return name
