"""The client helper of the gallery servables (the servable contract's
``client(description)``): the face client functions bound to one gallery's
description.

Example:
    >>> import numpy as np
    >>> from securinfer.apps import face
    >>> gallery = face.Gallery(np.eye(128)[:3], labels=["ann", "bob", "cy"], reveal="scores")
    >>> client = face.Gallery.client(gallery.describe())
    >>> ctx = client.create_context()
    >>> scores = client.decrypt(ctx, gallery(client.encrypt(ctx, np.eye(128)[1])))
    >>> bool(np.abs(scores - [0, 1, 0]).max() < 1e-3)
    True
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np

from ...ciphertext import Ciphertext
from ...context import Context
from ...errors import ParameterError
from .client import create_context, decrypt_matches, decrypt_scores, encrypt_probe


class GalleryClient:
    """Encrypts a probe embedding and decrypts the answer (scores or matches) for the gallery
    ``description`` describes (``ParameterError`` if it is not a gallery's)."""

    def __init__(self, description: dict):
        if not isinstance(description, dict) or description.get("kind") != "gallery":
            raise ParameterError("expected a gallery's describe() dict")
        self.description = description

    def create_context(self) -> Context:
        return create_context(self.description)

    def encrypt(self, ctx: Context, embedding) -> List[Ciphertext]:
        return encrypt_probe(ctx, embedding, compact=self.description.get("inputs", {}).get("form") == "compact")

    def decrypt(self, ctx: Context, ciphertexts, *, noise_flooding: Optional[bool] = None) -> np.ndarray:
        """The scores (``reveal="scores"``) or the indices of the templates
        that matched (``reveal="match"``, the default of plaintext galleries)."""
        if self.description.get("reveal") == "match":
            return np.array(decrypt_matches(ctx, self.description, ciphertexts), dtype=np.int64)
        return decrypt_scores(ctx, self.description, ciphertexts, noise_flooding=noise_flooding)
