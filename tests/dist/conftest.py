"""One two-process Dask cluster on loopback for the dist tests, closed at the end."""

import numpy as np
import pytest

from securinfer.apps import face


@pytest.fixture(scope="session")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as dask_client:
        yield dask_client


@pytest.fixture(scope="session")
def face_ctx():
    """The client's context (it holds the secret key; workers must never get it)."""
    ctx = face.create_context()
    assert ctx.has_secret_key
    return ctx


@pytest.fixture(scope="session")
def templates():
    """5,000 random templates: three blocks of 2,048 slots (the last partial)."""
    return np.random.default_rng(11).normal(size=(5000, 128))
