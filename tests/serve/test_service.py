"""The service over real HTTP: answers, refusals, and that refusals leave it serving."""

import json

import httpx
import numpy as np
import pytest

import securinfer as si
from securinfer.serve import Client, ServiceError
from securinfer import ciphertext_batch

from .conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
BINARY = {"Content-Type": "application/octet-stream"}


def post(server, path, body, **headers):
    return httpx.post(server.url + path, content=body, headers={**AUTH, **BINARY, **headers}, timeout=60)


def refusal(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    payload = response.json()
    assert payload["error"] == code and payload["detail"], payload
    return payload["detail"]


def test_happy_path_decrypts_to_the_numpy_answer(client, weights, rng):
    W, b = weights
    for _ in range(3):
        x = rng.normal(size=16)
        y = client.infer("affine", x)
        print("max error", np.abs(y - (x @ W + b)).max())
        assert np.allclose(y, x @ W + b, atol=1e-4)
    # The same through run(): ciphertexts in and out.
    x = rng.normal(size=16)
    [out] = client.run("affine", [client.encrypt("affine", x)])
    assert out.level == client.context("affine").max_level - 1
    assert np.allclose(client.decrypt("affine", out)[:4], x @ W + b, atol=1e-4)


def test_listing_metadata_and_openapi(client, server, model):
    listed = client.servables()
    assert set(listed) == {"affine", "other"}
    assert listed["affine"] == json.loads(json.dumps(model.describe()))
    info = client.info()
    assert info["servables"] == ["affine", "other"] and info["limits"]["max_sessions"] == 16
    for path in ("/openapi.json", "/docs", "/redoc"):   # off by default (api_docs=True serves them behind the token)
        for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
            assert httpx.get(server.url + path, headers=headers).status_code == 404


def test_health_needs_no_token_everything_else_does(server):
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    for path in ("/v1/info", "/v1/servables", "/v1/metrics", "/v1/servables/affine"):
        refusal(httpx.get(server.url + path), 401, "bad_token")
    for header in ("Bearer wrong-token-0123456789", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x", "Bearer  x"):
        r = httpx.get(server.url + "/v1/servables", headers={"Authorization": header})
        refusal(r, 401, "bad_token")
        assert r.headers["www-authenticate"] == "Bearer"
    refusal(httpx.post(server.url + "/v1/sessions", content=b"x" * 100, headers=BINARY), 401, "bad_token")
    with Client(server.url, token="wrong-token-0123456789") as bad:
        with pytest.raises(ServiceError) as e:
            bad.servables()
    assert e.value.status == 401 and e.value.code == "bad_token"


def test_secret_key_context_is_refused(client, server):
    ctx = client.context("affine")
    before = client.metrics()["sessions"]["created"]
    detail = refusal(post(server, "/v1/sessions", ctx.serialize(secret_key=True)), 403, "refused")
    assert "secret key" in detail
    assert client.metrics()["sessions"]["created"] == before


def test_context_of_unknown_parameters_is_refused(server):
    ctx = si.Context.create(depth=3, scale_bits=30)  # no servable uses these
    refusal(post(server, "/v1/sessions", ctx.public().serialize()), 409, "mismatch")


def test_oversized_bodies_get_413(client, server):
    info = client.info()["limits"]
    # Declared too large: refused (read and discarded, so the client gets the answer).
    refusal(post(server, "/v1/run/affine", b"\0" * (info["max_run_bytes"]["affine"] + 1),
                 **{"X-Session": client.session("affine")}), 413, "too_large")
    refusal(post(server, "/v1/sessions", b"\0" * (info["max_context_bytes"] + 1)), 413, "too_large")
    # Streamed (chunked, no Content-Length) past the cap: refused as it grows.
    chunks = (b"\0" * 65536 for _ in range(info["max_run_bytes"]["affine"] // 65536 + 2))
    refusal(post(server, "/v1/run/affine", chunks, **{"X-Session": client.session("affine")}), 413, "too_large")
    # The cap counts Galois keys: more keys than the servables could use is too many bytes.
    greedy = si.Context.create(preset="fast")
    greedy.generate_rotation_keys(steps=range(1, 40))
    refusal(post(server, "/v1/sessions", greedy.public().serialize()), 413, "too_large")


def test_truncated_garbage_and_mismatched_bodies_get_4xx(client, server, rng):
    sid = client.session("affine")
    ct = client.encrypt("affine", rng.normal(size=16)).serialize()
    run = lambda body, **h: post(server, "/v1/run/affine", body, **{"X-Session": sid, **h})  # noqa: E731
    good = ciphertext_batch.pack_items([ct])
    refusal(run(good[:-10]), 400, "malformed")                               # truncated ciphertext
    refusal(run(good[:20]), 400, "malformed")                                # truncated container
    refusal(run(bytes(rng.integers(0, 256, 5000, dtype=np.uint8))), 400, "malformed")   # garbage
    refusal(run(b""), 400, "malformed")
    refusal(run(ciphertext_batch.pack_items([b"not a ciphertext"])), 400, "malformed")
    refusal(run(ciphertext_batch.pack_items([ct, ct])), 413, "too_large")                 # more bytes than one input takes
    low = client.encrypt("affine", rng.normal(size=16)).drop_to_level(0).serialize()
    refusal(run(ciphertext_batch.pack_items([low, low])), 400, "malformed")               # more inputs than declared
    refusal(run(good + b"x"), 400, "malformed")                              # trailing bytes
    refusal(run(good, **{"Content-Type": "application/json"}), 415, "unsupported_media_type")
    ctx_bytes = client.context("affine").public().serialize()
    refusal(post(server, "/v1/sessions", ctx_bytes[: len(ctx_bytes) // 2]), 400, "malformed")
    refusal(post(server, "/v1/sessions", b"SINF" + bytes(100)), 400, "malformed")
    # A ciphertext of the wrong length for the model: the servable's own check, as a 422.
    refusal(run(ciphertext_batch.pack([client.encrypt("affine", np.ones(5))])), 422, "bad_input")
    # Still serving.
    assert client.health() == {"status": "ok"}
    assert np.isfinite(client.infer("affine", np.ones(16))).all()


def test_sessions_are_private_and_checked(client, server, rng):
    sid = client.session("affine")
    ct = ciphertext_batch.pack([client.encrypt("affine", rng.normal(size=16))])
    refusal(post(server, "/v1/run/affine", ct), 400, "missing_session")
    refusal(post(server, "/v1/run/affine", ct, **{"X-Session": "not-a-session"}), 404, "unknown_session")
    refusal(post(server, "/v1/run/nope", ct, **{"X-Session": sid}), 404, "unknown_servable")
    refusal(post(server, "/v1/run/other", ct, **{"X-Session": sid}), 409, "mismatch")   # other parameters
    # Another client's session (same parameters, other keys) cannot use this client's ciphertexts.
    with Client(server.url, token=TOKEN) as stranger:
        their_sid = stranger.session("affine")
        assert their_sid != sid and len(their_sid) >= 40
        refusal(post(server, "/v1/run/affine", ct, **{"X-Session": their_sid}), 409, "mismatch")
        stranger.close_session("affine")
    refusal(post(server, "/v1/run/affine", ct, **{"X-Session": their_sid}), 404, "unknown_session")


def test_other_parameters_get_their_own_session(client):
    x = np.arange(8.0)
    assert np.allclose(client.infer("other", x), x[:3], atol=1e-4)
    assert client.session("other") != client.session("affine")


def test_metrics_count_requests_sessions_and_bytes(client):
    client.infer("affine", np.ones(16))
    m = client.metrics()
    run = m["routes"]["POST /v1/run/{name}"]
    assert run["by_status"]["200"] >= 1 and run["bytes_in"] > 0 and run["bytes_out"] > 0
    assert run["latency_ms"]["p50"] > 0 and run["latency_ms"]["p99"] >= run["latency_ms"]["p50"]
    assert m["sessions"]["active"] >= 1 and m["sessions"]["key_bytes"] > 0
    assert m["process"]["rss_bytes"] is None or m["process"]["rss_bytes"] > 0


def test_a_flood_of_bad_requests_leaves_it_serving(client, server, weights, rng):
    """200 bad requests from 16 threads at once (garbage, truncated and
    oversized bodies, bad tokens, unknown sessions and servables): every one
    gets its 4xx, and a good request afterwards gets the right answer."""
    from concurrent.futures import ThreadPoolExecutor

    sid = client.session("affine")
    good = ciphertext_batch.pack([client.encrypt("affine", rng.normal(size=16))])
    too_big = client.info()["limits"]["max_run_bytes"]["affine"] + 1
    noise = np.random.default_rng(99)  # test data only
    bad = [
        lambda: post(server, "/v1/run/affine", bytes(noise.integers(0, 256, 3000, dtype=np.uint8)), **{"X-Session": sid}),
        lambda: post(server, "/v1/run/affine", good[: len(good) // 2], **{"X-Session": sid}),
        lambda: post(server, "/v1/run/affine", b"\0" * too_big, **{"X-Session": sid}),
        lambda: httpx.post(server.url + "/v1/run/affine", content=good, timeout=60,
                           headers={**BINARY, "Authorization": "Bearer wrong", "X-Session": sid}),
        lambda: post(server, "/v1/run/affine", good, **{"X-Session": "no-such-session"}),
        lambda: post(server, "/v1/run/no-such-model", good, **{"X-Session": sid}),
        lambda: post(server, "/v1/sessions", b"SINF" + bytes(64)),
        lambda: post(server, "/v1/run/affine", good, **{"X-Session": sid, "Content-Type": "text/plain"}),
    ]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda i: bad[i % len(bad)](), range(200)))
    # 4xx each, or 503 busy where more context uploads came at once than a token may send (limits.Gate).
    statuses = [a.status_code for a in answers]
    assert all(400 <= a.status_code < 500 or (a.status_code == 503 and a.json()["error"] == "busy")
               for a in answers), sorted(set(statuses))
    assert client.health() == {"status": "ok"}
    x = rng.normal(size=16)
    W, b = weights
    assert np.allclose(client.infer("affine", x), x @ W + b, atol=1e-3)
