"""Encrypted face recognition: 1:1 verification and 1:N identification on
encrypted face embeddings.

* :class:`FaceEmbedder` turns face photos into 128-D unit vectors with the
  SFace network (any callable ``images -> (n, 128)`` can replace it);
* :class:`Gallery` holds plaintext templates on the server (the probe stays
  private); by default (``reveal="match"``) the client learns only which
  templates matched, ``reveal="scores"`` returns every score and leaks the
  gallery; :class:`EncryptedGallery` holds templates the enrolling client
  encrypted (the server sees neither side; the client sees the scores, or
  with ``reveal="match"`` only which templates matched);
* the client functions (:func:`create_context`, :func:`encrypt_probe`,
  :func:`decrypt_scores`, :func:`top_k`, :func:`verify`, :func:`is_match`) need only a
  gallery's ``describe()``.

Example:
    >>> import numpy as np
    >>> from securinfer.apps import face
    >>> rng = np.random.default_rng(2)
    >>> people = rng.normal(size=(3, 128))
    >>> gallery = face.Gallery(people, labels=["ann", "bob", "cy"], reveal="scores")
    >>> ctx = face.create_context(gallery.describe())
    >>> probe = people[2] + 0.1 * rng.normal(size=128)            # cy, another photo
    >>> scores = face.decrypt_scores(ctx, gallery.describe(), gallery(face.encrypt_probe(ctx, probe)))
    >>> face.top_k(scores, 1, gallery.labels)[0][0]
    'cy'
"""

from .client import create_context, decrypt_matches, decrypt_scores, encrypt_probe, is_match, top_k, verify
from .embedder import FaceEmbedder
from .encrypted_gallery import EncryptedGallery
from .gallery import Gallery
from .match import MATCH_PARAMETERS
from .params import EMBEDDING_SIZE, FACE_PARAMETERS

__all__ = ["FaceEmbedder", "Gallery", "EncryptedGallery", "create_context", "encrypt_probe", "decrypt_matches",
           "decrypt_scores", "top_k", "verify", "is_match", "EMBEDDING_SIZE", "FACE_PARAMETERS", "MATCH_PARAMETERS"]
