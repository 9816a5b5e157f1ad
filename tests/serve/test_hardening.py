"""Hostile clients against a real server: bounded bytes and seconds, fair
sessions between tokens, TLS, API docs behind the token, file loaders that
only raise securinfer errors, and the documented status codes."""

import shutil
import socket
import subprocess
import time

import httpx
import numpy as np
import pytest

import securinfer as si
from securinfer import ciphertext_batch
from securinfer.serve import Client, LinearModel, ServiceConfig, ServiceError, create_app
from securinfer.serve.limits import Gate
from securinfer.serve.protocol import ServerLimits
from securinfer.serve.sessions import QuotaExceeded, SessionStore

from .conftest import TOKEN
from .server import ServerThread

OTHER = "another-tenant-token-987654"
BINARY = {"Content-Type": "application/octet-stream"}


def auth(token=TOKEN):
    return {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------- sessions: bytes and fairness

def test_a_token_uploading_in_a_loop_evicts_only_its_own_sessions():
    store = SessionStore(max_sessions=100, ttl=60.0, max_bytes=1000, tenant_bytes=400)
    honest = [store.add(f"honest-{i}", nbytes=100, tenant="alice") for i in range(3)]
    for i in range(200):
        store.add(f"loop-{i}", nbytes=100, tenant="mallory")
    assert all(store.get(s) is not None for s in honest)
    stats = store.stats()
    assert stats["key_bytes"] == 700 and stats["evicted"] == 196 and stats["tenants"] == 2


def test_when_the_store_is_full_the_largest_tenant_gives_way():
    store = SessionStore(max_sessions=100, ttl=60.0, max_bytes=600, tenant_bytes=400)
    a = [store.add("a", nbytes=100, tenant="a") for _ in range(2)]
    b = [store.add("b", nbytes=100, tenant="b") for _ in range(4)]          # full: 600
    c = store.add("c", nbytes=100, tenant="c")                               # b (400) gives way, not a
    assert all(store.get(s) for s in a) and store.get(c) and store.get(b[0]) is None
    assert sum(store.get(s) is not None for s in b) == 3
    with pytest.raises(QuotaExceeded):
        store.add("huge", nbytes=401, tenant="a")


def test_session_count_is_bounded_fairly_too():
    store = SessionStore(max_sessions=4, ttl=60.0)
    keep = store.add("x", nbytes=1, tenant="honest")
    for i in range(20):
        store.add(i, nbytes=1, tenant="loop")
    assert store.get(keep) is not None and store.stats()["active"] == 4


def test_gate_refuses_beyond_a_token_share_and_queues_within_it():
    import asyncio

    async def scenario():
        gate = Gate("uploads", total=2, per_tenant=2, wait=0.5)
        order = []

        async def hold(tenant, seconds, tag):
            async with gate.enter(tenant):
                order.append(tag)
                await asyncio.sleep(seconds)

        first = [asyncio.create_task(hold("a", 0.2, "a1")), asyncio.create_task(hold("b", 0.2, "b1"))]
        await asyncio.sleep(0.05)
        with pytest.raises(Exception, match="token's limit"):       # a holds 1 + waits 1 = its share of 2
            await asyncio.gather(hold("a", 0, "a2"), hold("a", 0, "a3"))
        waited = asyncio.create_task(hold("c", 0, "c1"))          # waits for a slot, then gets it
        await asyncio.gather(*first, waited)
        slow = [asyncio.create_task(hold(t, 1.0, t)) for t in ("x", "y")]
        await asyncio.sleep(0.05)
        with pytest.raises(Exception, match="server's limit"):      # waits 0.5 s, then refused
            await hold("z", 0, "z")
        await asyncio.gather(*slow)
        return gate.stats(), order

    stats, order = asyncio.run(scenario())
    assert stats["in_flight"] == 0 and stats["waiting"] == 0 and stats["refused"] == 2
    assert "c1" in order and "z" not in order


def test_tokens_must_be_long_and_distinct():
    for bad in ("short", "x" * 15, " padded-token-0123456 "):
        with pytest.raises(si.ParameterError):
            ServiceConfig(token=bad)
    with pytest.raises(si.ParameterError):
        ServiceConfig(token=TOKEN, extra_tokens=(TOKEN,))
    assert ServiceConfig(token="x" * 16).session_bytes_per_token == 1 << 30
    assert ServiceConfig(token=TOKEN, extra_tokens=(OTHER,)).session_bytes_per_token == 1 << 28


# ---------------------------------------------------------------- a real server with two tenants

@pytest.fixture(scope="module")
def blob_size(model):
    """Bytes of the context an honest client uploads for ``model``."""
    from securinfer.server_parameters import context_for_server

    ctx = context_for_server(model.describe()["context"], rotations=model.required_rotations())
    return len(ctx.public().serialize())


@pytest.fixture(scope="module")
def tenants_server(model, blob_size):
    # Room for six honest contexts in all, three per token.
    app = create_app([model], token=TOKEN, extra_tokens=(OTHER,), max_sessions=64, body_timeout=1.5,
                     max_session_bytes=6 * blob_size, token_session_bytes=3 * blob_size)
    limits = ServerLimits(header_timeout=1.0, keep_alive_timeout=1)
    with ServerThread(app, limits=limits) as server:
        yield server


def test_an_attacker_token_cannot_evict_an_honest_session_over_http(tenants_server, weights, blob_size):
    W, b = weights
    with Client(tenants_server.url, token=TOKEN) as honest:
        x = np.linspace(-1, 1, 16)
        assert np.allclose(honest.infer("affine", x), x @ W + b, atol=1e-3)
        sid = honest.session("affine")
        blob = honest.context("affine").public().serialize()
        for _ in range(8):          # twice what the attacker's quota holds
            r = httpx.post(tenants_server.url + "/v1/sessions", content=blob, headers={**auth(OTHER), **BINARY},
                           timeout=60)
            assert r.status_code == 201, r.text
        assert honest.session("affine") == sid
        body = ciphertext_batch.pack_items([honest.encrypt("affine", x).serialize()])
        r = httpx.post(tenants_server.url + "/v1/run/affine", content=body, timeout=60,
                       headers={**auth(), **BINARY, "X-Session": sid})
        assert r.status_code == 200                          # the honest session is still there
        # A session id is a capability, but another token cannot close it.
        r = httpx.delete(tenants_server.url + "/v1/sessions", headers={**auth(OTHER), "X-Session": sid})
        assert r.status_code == 404
        stats = honest.metrics()["sessions"]
        assert stats["key_bytes"] == 4 * blob_size and stats["evicted"] == 5     # the attacker's own oldest five


def test_a_slow_body_is_cut_off_with_408(tenants_server):
    host, port = "127.0.0.1", tenants_server.port
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(f"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                  f"Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n".encode())
        start = time.monotonic()
        answer = b""
        try:
            while time.monotonic() - start < 8:
                s.sendall(b"x")                          # a byte now and then
                time.sleep(0.2)
        except OSError:
            pass                                          # closed by the server
        s.settimeout(2)
        try:
            while chunk := s.recv(4096):
                answer += chunk
        except OSError:
            pass
    assert time.monotonic() - start < 6
    assert b" 408 " in answer.split(b"\r\n")[0] and b"timeout" in answer


def test_slow_loris_headers_are_cut_off(tenants_server):
    sockets = []
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", tenants_server.port), timeout=10)
        s.sendall(b"GET /v1/info HTTP/1.1\r\nHost: x\r\n")   # never finishes its headers
        sockets.append(s)
    time.sleep(2.5)                                        # header deadline: 1 s
    closed = 0
    for s in sockets:
        try:
            s.sendall(b"X-Slow: 1\r\n")
            s.settimeout(1)
            closed += s.recv(1) == b""
        except OSError:
            closed += 1
        finally:
            s.close()
    assert closed == 50
    assert httpx.get(tenants_server.url + "/healthz").status_code == 200


def test_bodies_are_refused_beyond_the_concurrency_bound(model):
    app = create_app([model], token=TOKEN, extra_tokens=(OTHER,), max_uploads=1, max_uploads_per_token=1,
                     body_timeout=1.0)
    with ServerThread(app) as server:
        with socket.create_connection(("127.0.0.1", server.port)) as held:
            held.sendall(f"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                         f"Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n".encode())
            time.sleep(0.3)
            r = httpx.post(server.url + "/v1/sessions", content=b"x" * 100, headers={**auth(), **BINARY})
            assert r.status_code == 503 and r.json()["error"] == "busy" and r.headers["retry-after"] == "1"
            assert "token's" in r.json()["detail"]                     # at once: the token's share is taken
            start = time.monotonic()
            r = httpx.post(server.url + "/v1/sessions", content=b"x" * 100, headers={**auth(OTHER), **BINARY})
            # Another token waits for the server's one slot; the held upload is cut at 1 s, then it is served.
            assert r.status_code == 400 and r.json()["error"] == "malformed", r.text
            assert 0.3 < time.monotonic() - start < 3


# ---------------------------------------------------------------- docs, status codes, client

def test_api_docs_only_when_asked_and_behind_the_token(model):
    with ServerThread(create_app([model], token=TOKEN, api_docs=True)) as server:
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert httpx.get(server.url + path).status_code == 401
            assert httpx.get(server.url + path, headers=auth()).status_code == 200
        spec = httpx.get(server.url + "/openapi.json", headers=auth()).json()
        assert {"/v1/sessions", "/v1/run/{name}"} <= set(spec["paths"])


def test_documented_status_codes(client, server):
    sid = client.session("affine")
    ctx = client.context("affine")
    low = ctx.encrypt(np.ones(16)) * 0.5 * 0.5                     # level 0
    assert low.level == 0
    r = httpx.post(server.url + "/v1/run/affine", content=ciphertext_batch.pack_items([low.serialize()]), timeout=60,
                   headers={**auth(), **BINARY, "X-Session": sid})
    assert r.status_code == 422 and r.json()["error"] == "out_of_depth", r.text
    two = ciphertext_batch.pack_items([ctx.encrypt(np.ones(16)).serialize()] * 2)   # two full ciphertexts, one input
    r = httpx.post(server.url + "/v1/run/affine", content=two, timeout=60,
                   headers={**auth(), **BINARY, "X-Session": sid})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    small = ciphertext_batch.pack_items([low.serialize()] * 2)                     # two small ones: fits, but two
    r = httpx.post(server.url + "/v1/run/affine", content=small, timeout=60,
                   headers={**auth(), **BINARY, "X-Session": sid})
    assert r.status_code == 400 and r.json()["error"] == "malformed"


def test_leaving_the_with_block_deletes_the_sessions(server):
    with Client(server.url, token=TOKEN) as probe:
        before = probe.metrics()["sessions"]
    with Client(server.url, token=TOKEN) as c:
        c.infer("affine", np.ones(16))
        c.infer("other", np.ones(8))
        assert c.metrics()["sessions"]["active"] >= before["active"] + 2
    with Client(server.url, token=TOKEN) as probe:
        after = probe.metrics()["sessions"]
    assert after["active"] == before["active"] and after["closed"] >= before["closed"] + 2


def test_client_refuses_unverified_tls():
    with pytest.raises(si.SecurityError):
        Client("https://127.0.0.1:1", token=TOKEN, verify=False)


def _self_signed(tmp_path):
    """A CA-less self-signed certificate for 127.0.0.1 (openssl CLI)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not available")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out",
                    str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


def test_tls_end_to_end_with_the_client_verifying_the_certificate(model, weights, tmp_path):
    cert, key = _self_signed(tmp_path)
    W, b = weights
    with ServerThread(create_app([model], token=TOKEN), tls_cert=cert, tls_key=key) as server:
        assert server.url.startswith("https://")
        with Client(server.url, token=TOKEN, verify=cert) as c:     # trusts exactly this certificate
            x = np.linspace(0, 1, 16)
            assert np.allclose(c.infer("affine", x), x @ W + b, atol=1e-3)
        with Client(server.url, token=TOKEN, retries=0) as c:         # system CAs: not trusted
            with pytest.raises(ServiceError) as refused:
                c.health()
            assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
        with pytest.raises(httpx.HTTPError):                          # plain HTTP to a TLS port
            httpx.get(server.url.replace("https", "http") + "/healthz", timeout=5)


# ---------------------------------------------------------------- files

def test_servables_are_named_by_their_files(tmp_path, model):
    from securinfer.serve.discovery import discover

    model.save(tmp_path / "iris.linear.npz")                   # saved as "affine"
    (tmp_path / "sub").mkdir()
    model.save(tmp_path / "sub" / "x.npz")
    assert [s.describe()["name"] for s in discover(tmp_path)] == ["iris"]
    (tmp_path / "servables.json").write_text('{"servables": [{"type": "linear", "path": "sub/x.npz"},'
                                             ' {"type": "linear", "path": "iris.linear.npz", "name": "flowers"}]}')
    found = discover(tmp_path)
    assert [s.describe()["name"] for s in found] == ["x", "flowers"]
    assert found[0].required_rotations() == model.required_rotations()


def test_linear_model_load_raises_only_securinfer_errors_on_fuzzed_files(tmp_path, model):
    """Structure-aware fuzzing of the .npz (zip) container: random byte edits,
    truncations, and header fields (compression method, flags, sizes) set to
    odd values. Every file either loads or raises a securinfer error."""
    good = tmp_path / "good.npz"
    model.save(good)
    data = bytearray(good.read_bytes())
    rng = np.random.default_rng(13)  # test data only
    headers = [i for i in range(len(data) - 4) if data[i:i + 4] in (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06")]
    outcomes = {"loaded": 0, "refused": 0}
    path = tmp_path / "fuzz.npz"
    for trial in range(1500):
        mutated = bytearray(data)
        kind = trial % 4
        if kind == 0:                                   # random bytes anywhere
            for _ in range(rng.integers(1, 8)):
                mutated[rng.integers(len(mutated))] = rng.integers(256)
        elif kind == 1:                                 # header fields: method, flags, sizes, name lengths
            at = int(rng.choice(headers))
            offset = int(rng.choice([6, 8, 10, 18, 22, 26, 28, 20, 24, 30, 42]))
            if at + offset + 4 <= len(mutated):
                mutated[at + offset:at + offset + 4] = rng.integers(0, 256, 4, dtype=np.uint8).tobytes()
        elif kind == 2:                                 # truncation
            mutated = mutated[: rng.integers(0, len(mutated))]
        else:                                           # odd compression methods (bzip2, lzma, 99: AES)
            at = int(rng.choice(headers))
            offset = 8 if data[at + 2] == 3 else 10
            mutated[at + offset:at + offset + 2] = int(rng.choice([1, 6, 9, 12, 14, 98, 99])).to_bytes(2, "little")
        path.write_bytes(bytes(mutated))
        try:
            LinearModel.load(path)
            outcomes["loaded"] += 1
        except si.SecurinferError:
            outcomes["refused"] += 1
    print(outcomes)
    assert outcomes["refused"] > 1000


def _mutations(data: bytes, rng, trials: int):
    for trial in range(trials):
        mutated = bytearray(data)
        if trial % 3 == 0:
            for _ in range(rng.integers(1, 8)):
                mutated[rng.integers(len(mutated))] = rng.integers(256)
        elif trial % 3 == 1:
            mutated = mutated[: rng.integers(0, len(mutated))]
        else:                                           # a local header's method, flags or sizes
            at = mutated.find(b"PK\x03\x04", int(rng.integers(0, max(1, len(mutated) - 4))))
            at = mutated.find(b"PK\x03\x04") if at < 0 else at
            offset = int(rng.choice([6, 8, 18, 22, 26]))
            mutated[at + offset:at + offset + 2] = rng.integers(0, 256, 2, dtype=np.uint8).tobytes()
        yield bytes(mutated)


def test_every_servable_file_loader_behind_discovery_raises_only_securinfer_errors(tmp_path, model):
    """The loaders of every servable type (LinearModel, nn.EncryptedModel,
    face.Gallery), fuzzed through discovery, the server's entry point."""
    from securinfer.serve.discovery import discover

    files = {"linear": lambda path: model.save(path)}
    nn = pytest.importorskip("securinfer.nn")
    face = pytest.importorskip("securinfer.apps.face")
    sklearn = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(17)  # test data only
    X = rng.normal(size=(60, 4))
    compiled = nn.compile(sklearn.LogisticRegression().fit(X, (X[:, 0] > 0).astype(int)))
    files["model"] = compiled.save
    files["gallery"] = face.Gallery(rng.normal(size=(5, 128)), labels=list("abcde"), name="g").save
    counts = {}
    for kind, save in files.items():
        good = tmp_path / f"good.{kind}.npz"
        save(good)
        folder = tmp_path / kind
        folder.mkdir()
        target = folder / f"fuzz.{kind}.npz"
        counts[kind] = {"loaded": 0, "refused": 0}
        for mutated in _mutations(good.read_bytes(), rng, 300):
            target.write_bytes(mutated)
            try:
                discover(folder)
                counts[kind]["loaded"] += 1
            except si.SecurinferError:
                counts[kind]["refused"] += 1
    print(counts)
    assert all(c["refused"] > 150 for c in counts.values())


def test_every_servable_file_loader_called_directly_raises_only_securinfer_errors(tmp_path, model):
    """The same loaders called by a user's own code, without discovery's
    wrapper: one archive reader (securinfer._archive) turns every zipfile and
    numpy fault into a SerializationError."""
    import securinfer.nn as nn
    from securinfer.apps import face
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(19)  # test data only
    X = rng.normal(size=(60, 4))
    compiled = nn.compile(LogisticRegression().fit(X, (X[:, 0] > 0).astype(int)))
    cases = {"linear": (model.save, LinearModel.load), "model": (compiled.save, nn.EncryptedModel.load),
             "gallery": (face.Gallery(rng.normal(size=(5, 128)), labels=list("abcde"), name="g").save, face.Gallery.load)}
    for kind, (save, load) in cases.items():
        good = tmp_path / f"good.{kind}.npz"
        save(good)
        target = tmp_path / f"fuzz.{kind}.npz"
        refused = 0
        for mutated in _mutations(good.read_bytes(), rng, 300):
            target.write_bytes(mutated)
            try:
                load(target)
            except si.SecurinferError:
                refused += 1
        assert refused > 150, (kind, refused)
