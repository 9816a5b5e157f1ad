"""A malicious server describes weak, huge or odd parameters: every client
(serve.Client, nn.Client, apps.face.create_context) refuses with
SecurityError before making any key, and uploads nothing.

The server here is real HTTP (uvicorn on loopback) serving crafted
descriptions; "no key made" is checked by counting calls into the core's key
generation, "nothing uploaded" by the requests the server received.
"""

import copy

import pytest

import securinfer as si
from securinfer import server_parameters

fastapi = pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

TOKEN = "malicious-server-token-0123"

GOOD = {"preset": "fast"}

# (why, context) pairs: each must be refused.
HOSTILE = [
    ("the review's case: N=1024, 480-bit modulus, security off",
     {"poly_degree": 1024, "coeff_bits": [60] * 8, "scale_bits": 40, "security": None}),
    ("security off on otherwise good parameters", {"preset": "fast", "security": None}),
    ("security as a string", {"poly_degree": 8192, "coeff_bits": [49, 40, 40, 49], "scale_bits": 40,
                              "security": "none"}),
    ("weak: N=4096 with 200 bits (bound 109)", {"poly_degree": 4096, "coeff_bits": [50] * 4, "scale_bits": 40}),
    ("weak: N=8192 with 260 bits (bound 218)", {"poly_degree": 8192, "coeff_bits": [52] * 5, "scale_bits": 40}),
    ("weak: N=2048", {"poly_degree": 2048, "coeff_bits": [20, 20], "scale_bits": 20}),
    ("huge: N=65536", {"poly_degree": 65536, "coeff_bits": [50] * 30, "scale_bits": 40}),
    ("huge: N=131072", {"poly_degree": 131072, "coeff_bits": [60] * 50, "scale_bits": 40}),
    ("huge depth", {"depth": 60}),
    ("deep enough to need N=65536", {"depth": 30}),
    ("odd: degree not a power of two", {"poly_degree": 10000, "coeff_bits": [49, 40, 49], "scale_bits": 40}),
    ("odd: 61-bit prime", {"poly_degree": 8192, "coeff_bits": [61, 40, 49], "scale_bits": 40}),
    ("odd: 8-bit prime", {"poly_degree": 8192, "coeff_bits": [8, 40, 49], "scale_bits": 40}),
    ("odd: float degree", {"poly_degree": 8192.0, "coeff_bits": [49, 40, 49], "scale_bits": 40}),
    ("odd: bool scale", {"poly_degree": 8192, "coeff_bits": [49, 40, 49], "scale_bits": True}),
    ("odd: string bits", {"poly_degree": 8192, "coeff_bits": "49,40,49", "scale_bits": 40}),
    ("odd: nested bits", {"poly_degree": 8192, "coeff_bits": [[49], 40, 49], "scale_bits": 40}),
    ("odd: no special prime left", {"poly_degree": 8192, "coeff_bits": [49, 40], "scale_bits": 40,
                                    "special_primes": 2}),
    ("odd: 0 special primes", {"poly_degree": 8192, "coeff_bits": [49, 40, 49], "scale_bits": 40,
                               "special_primes": 0}),
    ("odd: unknown field", {"preset": "fast", "simd_path": "scalar"}),
    ("odd: unknown preset", {"preset": "../../etc/passwd"}),
    ("odd: preset as a list", {"preset": ["fast"]}),
    ("odd: not a dict", ["fast"]),
    ("odd: missing", None),
    ("odd: depth with poly_degree", {"depth": 2, "poly_degree": 8192}),
]


@pytest.fixture
def key_generations(monkeypatch):
    """Counts every key set the core makes (the only way a secret key is born)."""
    from securinfer import context as context_module

    real = context_module._ckks.KeySet
    made = []

    def counting(*args, **kwargs):
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(context_module._ckks, "KeySet", counting)
    return made


def test_the_whitelist_accepts_what_honest_servers_describe(key_generations):
    for context in (GOOD, {"depth": 2}, {"depth": 3, "scale_bits": 30, "dnum": 2},
                    {"poly_degree": 8192, "coeff_bits": [49, 40, 40, 49], "scale_bits": 40},
                    {"poly_degree": 4096, "coeff_bits": [38, 30, 38], "scale_bits": 30, "special_primes": 1}):
        ctx = server_parameters.context_for_server(context, rotations=[1, -1])
        assert ctx.has_secret_key and ctx.rotation_steps
    assert len(key_generations) == 5


@pytest.mark.parametrize("why,context", HOSTILE, ids=[w for w, _ in HOSTILE])
def test_context_for_server_refuses_before_any_key(why, context, key_generations):
    with pytest.raises(si.SecurityError, match="refused server parameters"):
        server_parameters.context_for_server(context)
    assert key_generations == [], why


def test_too_many_or_odd_rotations_are_refused(key_generations):
    for rotations in (list(range(1, 300)), [1.5], ["1"], [True], [2 ** 40]):
        with pytest.raises(si.SecurityError):
            server_parameters.context_for_server(GOOD, rotations=rotations)
    assert key_generations == []


# ---------------------------------------------------------------- a real malicious server

def _malicious_app(descriptions, seen):
    app = fastapi.FastAPI()

    @app.middleware("http")
    async def record(request, call_next):
        seen.append((request.method, request.url.path))
        return await call_next(request)

    @app.get("/v1/servables")
    async def servables():
        return {"servables": descriptions}

    @app.post("/v1/sessions")
    async def sessions():  # never reached: the client refuses first
        return {"session": "x" * 43}

    return app


def _descriptions():
    out = []
    for i, (_why, context) in enumerate(HOSTILE):
        out.append({"kind": "linear", "name": f"m{i}", "context": context, "rotations": [1],
                    "inputs": {"ciphertexts": 1, "layout": "vector", "length": 4},
                    "outputs": {"ciphertexts": 1, "layout": "vector", "length": 2}})
    return out


def test_serve_client_refuses_every_hostile_description_before_a_key(key_generations):
    from securinfer.serve import Client

    from tests.serve.server import ServerThread

    seen = []
    descriptions = _descriptions()
    with ServerThread(_malicious_app(descriptions, seen)) as server, Client(server.url, token=TOKEN) as client:
        for d in descriptions:
            with pytest.raises(si.SecurityError, match="refused server parameters"):
                client.context(d["name"])
            with pytest.raises(si.SecurityError):
                client.infer(d["name"], [1.0, 2.0, 3.0, 4.0])
            with pytest.raises(si.SecurityError):              # the client helper alone refuses too
                si.servable.client_for(d).create_context()
    assert key_generations == []
    assert all(method == "GET" for method, _ in seen), seen          # no key was ever uploaded


def test_nn_client_refuses_every_hostile_description_before_a_key(key_generations):
    nn = pytest.importorskip("securinfer.nn")
    base = {"kind": "model", "name": "m", "rotations": [1],
            "inputs": {"packing": "features", "features": 4, "slots": 4096},
            "outputs": {"packing": "features", "features": 2, "slots": 4096}}
    assert nn.Client(base | {"context": GOOD}).create_context().has_secret_key   # the honest twin works
    assert len(key_generations) == 1
    for _why, context in HOSTILE:
        if not isinstance(context, dict):   # nn.Client refuses a non-dict context when constructed
            with pytest.raises(si.ParameterError):
                nn.Client(copy.deepcopy(base) | {"context": context})
            continue
        client = nn.Client(copy.deepcopy(base) | {"context": context})
        with pytest.raises(si.SecurityError):
            client.create_context()
    assert len(key_generations) == 1


def test_face_create_context_refuses_every_hostile_description_before_a_key(key_generations):
    face = pytest.importorskip("securinfer.apps.face")
    for _why, context in HOSTILE:
        with pytest.raises(si.SecurityError):
            face.create_context({"kind": "gallery", "name": "g", "context": context})
    assert key_generations == []
