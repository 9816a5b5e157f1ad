"""Real face photos from installed packages, and transformed copies that
stand for other photos of the same person (for tests, demos, benchmarks).

* :func:`astronaut`: scikit-image's portrait of Eileen Collins (512 x 512 RGB;
  embed with ``FaceEmbedder(detect=True)``);
* :func:`lfw_faces`: the 100 face crops of scikit-image's LFW subset
  (25 x 25 grey, different people; embed as crops);
* :func:`variants`: flipped, brighter, darker and slightly cropped copies.

Example:
    >>> from securinfer.apps.face.photos import lfw_faces, variants
    >>> faces = lfw_faces()
    >>> faces.shape, len(variants(faces[0]))
    ((100, 25, 25), 4)
"""

from __future__ import annotations

from typing import List

import numpy as np


def astronaut() -> np.ndarray:
    """A 512 x 512 RGB uint8 portrait (scikit-image)."""
    from skimage import data

    return data.astronaut()


def lfw_faces() -> np.ndarray:
    """(100, 25, 25) float grey face crops in [0, 1] (scikit-image's LFW subset)."""
    from skimage import data

    return data.lfw_subset()[:100]       # the next 100 images are not faces


def variants(image) -> List[np.ndarray]:
    """Same-identity copies: mirrored, 25% brighter, 25% darker, and cropped by
    1/16 of each side then resized back."""
    from skimage.transform import resize

    img = np.asarray(image)
    scale = 255.0 if img.dtype == np.uint8 else 1.0
    f = img.astype(np.float64) / scale
    h, w = f.shape[:2]
    dy, dx = max(1, h // 16), max(1, w // 16)
    cropped = resize(f[dy:h - dy, dx:w - dx], f.shape, anti_aliasing=True)
    out = [f[:, ::-1], np.clip(f * 1.25, 0, 1), f * 0.75, cropped]
    return [(v * scale).astype(img.dtype) if img.dtype == np.uint8 else v for v in out]
