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
