import numpy as np
import pytest

from securinfer.serve import LinearModel, create_app

from .server import ServerThread

TOKEN = "test-token-0123456789"


@pytest.fixture(scope="package")
def weights():
    rng = np.random.default_rng(7)  # test data only
    return rng.normal(size=(16, 4)), rng.normal(size=4)


@pytest.fixture(scope="package")
def model(weights):
    W, b = weights
    return LinearModel(W, b, context={"preset": "fast"}, name="affine")


@pytest.fixture(scope="package")
def other_model():
    """A servable of other parameters (the 60-bit TenSEAL chain)."""
    return LinearModel(np.eye(8)[:, :3], context={"preset": "tenseal"}, name="other")


@pytest.fixture(scope="package")
def server(model, other_model):
    with ServerThread(create_app([model, other_model], token=TOKEN, max_sessions=16)) as running:
        yield running


@pytest.fixture(scope="package")
def client(server):
    from securinfer.serve import Client

    with Client(server.url, token=TOKEN) as c:
        yield c
