"""Real SFace embeddings of scikit-image's faces, computed once per test session."""

from functools import lru_cache

import numpy as np

from securinfer.apps.face import FaceEmbedder
from securinfer.apps.face.photos import astronaut, lfw_faces, variants


@lru_cache(maxsize=None)
def crop_embedder():
    return FaceEmbedder()


@lru_cache(maxsize=None)
def lfw_embeddings() -> np.ndarray:
    """(100, 128): one embedding per LFW face crop."""
    return crop_embedder()(lfw_faces())


@lru_cache(maxsize=None)
def lfw_variant_embeddings(count: int = 10) -> np.ndarray:
    """(count, 4, 128): the variants (mirror, brighter, darker, crop) of the first ``count`` faces."""
    faces = lfw_faces()[:count]
    return np.stack([crop_embedder()(variants(f)) for f in faces])


@lru_cache(maxsize=None)
def astronaut_embeddings() -> np.ndarray:
    """(5, 128): the astronaut photo then its four variants, detected and aligned."""
    photo = astronaut()
    return FaceEmbedder(detect=True)([photo] + variants(photo))


@lru_cache(maxsize=None)
def every_lfw_probe() -> np.ndarray:
    """(505, 128) unit rows: every face probe scikit-image ships, the 100 LFW
    crops, their 400 same-person copies, the astronaut and her 4 copies."""
    probes = np.vstack([lfw_embeddings(), lfw_variant_embeddings(100).reshape(-1, 128), astronaut_embeddings()])
    probes = probes.astype(np.float64)
    return probes / np.linalg.norm(probes, axis=1, keepdims=True)


def packed_query_values(ctx, gallery, probes, n: int) -> np.ndarray:
    """(len(probes), n): what ``gallery`` (n templates tiled across the slots)
    answers to each probe, ``slots // n`` probes to a query: probe k fills slots
    k n .. k n + n - 1 of the 128 coordinate ciphertexts, so each (probe,
    template) pair is the same slot computation as in a query of its own."""
    per_query = ctx.slots // n
    out = []
    for start in range(0, len(probes), per_query):
        chunk = probes[start:start + per_query]
        coords = np.zeros((128, ctx.slots))
        for k, p in enumerate(chunk):
            coords[:, k * n:(k + 1) * n] = p[:, None]
        answer = gallery([ctx.encrypt(c) for c in coords])
        out.append(ctx.decrypt(answer[0])[: len(chunk) * n].reshape(len(chunk), n))
    return np.vstack(out)
