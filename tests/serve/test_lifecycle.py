"""Sessions over time: expiry, eviction, freed keys, restarts, clients that vanish."""

import gc
import socket
import threading
import time
import weakref

import numpy as np
import pytest

from securinfer.serve import Client, ServiceError, create_app

from .conftest import TOKEN
from .server import ServerThread, free_port


def answer_ok(client, weights, rng):
    W, b = weights
    x = rng.normal(size=16)
    assert np.allclose(client.infer("affine", x), x @ W + b, atol=1e-4)


def test_expired_session_is_forgotten_and_the_client_uploads_again(model, weights, rng):
    app = create_app([model], token=TOKEN, session_ttl=0.5)
    with ServerThread(app) as server, Client(server.url, token=TOKEN) as client:
        answer_ok(client, weights, rng)
        first = client.session("affine")
        time.sleep(0.8)
        assert app.state.sessions.get(first) is None
        answer_ok(client, weights, rng)   # 404 unknown_session, new upload, same answer
        assert client.session("affine") != first
        m = client.metrics()
        assert m["sessions"]["expired"] >= 1 and m["sessions"]["created"] == 2
        assert m["routes"]["POST /v1/run/{name}"]["by_status"]["404"] == 1


def test_least_recently_used_session_is_evicted_and_its_keys_freed(model, weights, rng):
    app = create_app([model], token=TOKEN, max_sessions=2)
    with ServerThread(app) as server:
        clients = [Client(server.url, token=TOKEN) for _ in range(3)]
        try:
            ids = [clients[0].session("affine"), clients[1].session("affine")]
            held = weakref.ref(app.state.sessions.get(ids[0]).context)
            answer_ok(clients[1], weights, rng)
            clients[2].session("affine")      # full: the least recently used (client 0) goes
            assert app.state.sessions.get(ids[0]) is None and app.state.sessions.get(ids[1]) is not None
            gc.collect()
            assert held() is None, "an evicted session's context (its evaluation keys) must be freed"
            assert app.state.sessions.stats()["evicted"] == 1 and app.state.sessions.stats()["active"] == 2
            answer_ok(clients[0], weights, rng)   # comes back with a new upload
        finally:
            for c in clients:
                c.close()


def test_server_restart_then_the_client_carries_on(model, weights, rng):
    port = free_port()
    with Client(f"http://127.0.0.1:{port}", token=TOKEN) as client:
        with ServerThread(create_app([model], token=TOKEN), port):
            answer_ok(client, weights, rng)
            before = client.session("affine")
        with ServerThread(create_app([model], token=TOKEN), port):
            answer_ok(client, weights, rng)      # the new process knows no session: re-upload, carry on
            assert client.session("affine") != before
            assert client.metrics()["sessions"]["created"] == 1


def test_client_disconnecting_mid_upload_leaves_the_server_serving(client, server, weights, rng):
    created = client.metrics()["sessions"]["created"]
    host, port = "127.0.0.1", server.port

    def disconnected():
        statuses = client.metrics()["routes"].get("POST /v1/sessions", {}).get("by_status", {})
        return statuses.get("499", 0)

    before = disconnected()
    for k in range(1, 4):
        with socket.create_connection((host, port)) as raw:
            raw.sendall((f"POST /v1/sessions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n"
                         "Content-Type: application/octet-stream\r\nContent-Length: 4000000\r\n\r\n").encode())
            raw.sendall(b"SINF" + bytes(200_000))
        # One at a time: an upload slot is freed once the server has seen the
        # disconnect (a third upload in flight would rightly get 503 busy).
        deadline = time.monotonic() + 10
        while disconnected() < before + k and time.monotonic() < deadline:
            time.sleep(0.05)
    assert disconnected() == before + 3
    assert client.metrics()["sessions"]["created"] == created
    assert client.health() == {"status": "ok"}
    answer_ok(client, weights, rng)


class Broken:
    """A servable with a bug: the service answers 500 and keeps serving."""

    def __init__(self, model, name, answer):
        self.model, self.name, self.answer = model, name, answer

    def describe(self):
        return dict(self.model.describe(), name=self.name)

    def required_rotations(self):
        return self.model.required_rotations()

    def __call__(self, cts):
        if self.answer == "raise":
            raise RuntimeError("internal detail that must not leak")
        return "not ciphertexts"


def test_a_failing_servable_gets_500_and_the_server_carries_on(model, weights, rng):
    servables = [model, Broken(model, "raises", "raise"), Broken(model, "returns-junk", "junk")]
    with ServerThread(create_app(servables, token=TOKEN)) as server, Client(server.url, token=TOKEN) as client:
        for name in ("raises", "returns-junk"):
            with pytest.raises(ServiceError) as failed:
                client.run(name, [client.encrypt(name, rng.normal(size=16))])
            assert failed.value.status == 500 and failed.value.code == "internal"
            assert "internal detail" not in failed.value.detail
        answer_ok(client, weights, rng)


class Gate:
    """A servable that waits for the test to open it: while it computes, the
    event loop must keep answering other requests."""

    def __init__(self, model):
        self.model, self.entered, self.opened = model, threading.Event(), threading.Event()

    def describe(self):
        return dict(self.model.describe(), name="gate")

    def required_rotations(self):
        return self.model.required_rotations()

    def __call__(self, cts):
        self.entered.set()
        assert self.opened.wait(30)
        return self.model(cts)


def test_compute_runs_off_the_event_loop(model, weights, rng):
    gate = Gate(model)
    W, b = weights
    x = rng.normal(size=16)
    with ServerThread(create_app([model, gate], token=TOKEN)) as server, Client(server.url, token=TOKEN) as client:
        client.session("gate")
        result = {}
        worker = threading.Thread(target=lambda: result.update(y=client.infer("gate", x)))
        worker.start()
        assert gate.entered.wait(30)
        with Client(server.url, token=TOKEN) as other:   # served while the gate's computation blocks
            assert other.health() == {"status": "ok"}
            answer_ok(other, weights, rng)
        gate.opened.set()
        worker.join(30)
    assert np.allclose(result["y"], x @ W + b, atol=1e-4)


def test_client_retries_until_the_server_is_up_and_reports_an_unreachable_one(model):
    port = free_port()
    with Client(f"http://127.0.0.1:{port}", token=TOKEN, retries=1, backoff=0.01) as client:
        with pytest.raises(ServiceError) as unreachable:
            client.health()
        assert unreachable.value.code == "unreachable" and unreachable.value.status is None
    server = ServerThread(create_app([model], token=TOKEN), port)
    starter = threading.Timer(0.3, server.start)
    starter.start()
    try:
        with Client(server.url, token=TOKEN, retries=8, backoff=0.1) as client:
            assert list(client.servables()) == ["affine"]   # GETs retried while the server starts
    finally:
        starter.join()
        server.stop()
