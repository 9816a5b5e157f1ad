"""The client's side of encrypted face matching, working from a gallery's
``describe()`` dict alone (a remote client needs nothing else).

The client makes the context (and keeps its secret key), encrypts its probe
embedding as 128 ciphertexts, sends them with ``context.public()`` (the
server needs no Galois key; the encrypted gallery needs the relinearisation
key), then decrypts the answer: which templates matched
(:func:`decrypt_matches`, a gallery with ``reveal="match"``) or the scores
(:func:`decrypt_scores`, ``reveal="scores"``), ranked by :func:`top_k`.

Example:
    >>> import numpy as np
    >>> from securinfer.apps import face
    >>> ctx = face.create_context()
    >>> probe = face.encrypt_probe(ctx, np.ones(128))
    >>> len(probe), probe[0].size == ctx.slots
    (128, True)
    >>> face.top_k(np.array([0.1, 0.9, 0.5]), 2)
    [('1', 0.9), ('2', 0.5)]
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np

from ...ciphertext import Ciphertext
from ...context import Context
from ...errors import ParameterError
from ...server_parameters import context_for_server
from .layout import as_templates, check_context
from .compact_probe import EXPANSION_STEPS, replicate
from .match import decode_bits
from .params import FACE_PARAMETERS
from ..._validation import is_int


def create_context(description: Optional[dict] = None, *, reveal: Optional[str] = None) -> Context:
    """A fresh context (with its secret key) for a gallery's parameters
    (default: :data:`~securinfer.apps.face.params.FACE_PARAMETERS`). Without a
    description, ``reveal="match"`` makes the context of an encrypted match
    gallery's enrolling client: :data:`~securinfer.apps.face.match.MATCH_PARAMETERS`,
    the conjugation key and the compact probe's 7 rotation keys."""
    if reveal is not None and description is not None:
        raise ParameterError("pass a gallery's description or reveal=, not both (the description says its mode)")
    if reveal not in (None, "scores", "match"):
        raise ParameterError(f"reveal must be 'scores' or 'match', got {reveal!r}")
    if reveal == "match":
        from .match import MATCH_PARAMETERS

        return context_for_server(dict(MATCH_PARAMETERS), rotations=list(EXPANSION_STEPS), conjugation=True)
    if description is None:
        return Context.create(**FACE_PARAMETERS)
    # A description may come from a remote server: whitelisted, 128-bit checked, before any key.
    # The compact probe's expansion keys, and no other (a gallery's needs are known).
    steps = description.get("rotations") or []
    if not isinstance(steps, list) or not set(steps) <= set(EXPANSION_STEPS):
        raise ParameterError(f"a gallery asks only for the rotation keys {EXPANSION_STEPS}, got {steps!r}")
    conjugation = description.get("conjugation", False)      # reveal="match": the server takes Re(probe)
    if not isinstance(conjugation, bool):
        raise ParameterError(f"a gallery's 'conjugation' is True or False, got {conjugation!r}")
    return context_for_server(_parameters(description), rotations=steps, conjugation=conjugation)


def _parameters(description: dict) -> dict:
    if not isinstance(description, dict) or description.get("kind") != "gallery":
        raise ParameterError("expected a gallery's describe() dict")
    return description.get("context")


def encrypt_probe(context: Context, embedding, *, compact: bool = False) -> List[Ciphertext]:
    """The probe as 128 ciphertexts, ciphertext d holding coordinate d of the
    normalised embedding in every slot; ``compact=True``: as ONE ciphertext,
    slot j holding coordinate j mod 128 (a plaintext ``Gallery`` expands it;
    the context then needs the rotation keys of the gallery's ``describe()["rotations"]``)."""
    if not isinstance(context, Context):
        raise ParameterError(f"expected a securinfer.Context, got {type(context).__name__}")
    values = as_templates(embedding)
    if values.shape[0] != 1:
        raise ParameterError(f"encrypt one probe embedding at a time, got {values.shape[0]}")
    if compact:
        return [context.encrypt(replicate(values[0], context.slots))]
    return [context.encrypt(np.full(context.slots, float(v))) for v in values[0]]


def decrypt_matches(context: Context, description: dict, answer_cts: Sequence[Ciphertext],
                    labels: Optional[Sequence[str]] = None) -> list:
    """The indices of the templates that matched (or their ``labels``), from
    a ``reveal="match"`` gallery's answer. For 1:1 verification against
    ``gallery.select(claimed)``: ``bool(decrypt_matches(...))``."""
    if description.get("reveal") != "match":
        raise ParameterError("this gallery reveals scores: use decrypt_scores")
    values = _decrypt(context, description, answer_cts, None)
    hits = np.flatnonzero(decode_bits(values))
    if labels is None:
        return [int(i) for i in hits]
    if len(labels) != values.size:
        raise ParameterError(f"{len(labels)} labels for {values.size} templates")
    return [labels[i] for i in hits]


def decrypt_scores(context: Context, description: dict, score_cts: Sequence[Ciphertext], *,
                   noise_flooding: Optional[bool] = None) -> np.ndarray:
    """The (templates,) cosine similarities from a ``reveal="scores"`` gallery's answer.
    ``noise_flooding=True`` for scores that will be shared (see ``Context.decrypt``)."""
    if description.get("reveal", "scores") != "scores":
        raise ParameterError("this gallery reveals only which templates matched: use decrypt_matches")
    return _decrypt(context, description, score_cts, noise_flooding)


def _decrypt(context, description, score_cts, noise_flooding) -> np.ndarray:
    if not isinstance(context, Context):
        raise ParameterError(f"expected a securinfer.Context, got {type(context).__name__}")
    check_context(context, _parameters(description))
    outputs = description["outputs"]
    if len(score_cts) != outputs["ciphertexts"]:
        raise ParameterError(f"expected {outputs['ciphertexts']} score ciphertexts, got {len(score_cts)}")
    if not score_cts:
        return np.zeros(0)
    scores = [context.decrypt(ct, noise_flooding=noise_flooding) for ct in score_cts]
    return np.concatenate(scores)[: outputs["templates"]]


def top_k(scores, k: int, labels: Optional[Sequence[str]] = None) -> List[Tuple[str, float]]:
    """The ``k`` best (label, score) pairs, best first (labels default to
    template indices as strings)."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if not is_int(k) or k < 1:
        raise ParameterError("k must be a positive int")
    if labels is not None and len(labels) != scores.size:
        raise ParameterError(f"{len(labels)} labels for {scores.size} scores")
    k = min(int(k), scores.size)
    best = np.argpartition(-scores, k - 1)[:k] if k < scores.size else np.arange(scores.size)
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(str(i) if labels is None else labels[i], float(scores[i])) for i in best]


def verify(scores, labels: Sequence[str], claimed: str, threshold: float) -> bool:
    """1:1 verification: whether a template labelled ``claimed`` scores at
    least ``threshold`` (the answer of a gallery's ``select(claimed)``)."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(labels) != scores.size:
        raise ParameterError(f"{len(labels)} labels for {scores.size} scores")
    mine = scores[[i for i, label in enumerate(labels) if label == claimed]]
    if mine.size == 0:
        raise ParameterError(f"no score belongs to {claimed!r}")
    return bool(mine.max() >= threshold)


def is_match(scores, threshold: float) -> bool:
    """1:1 verification: whether the best score reaches ``threshold``."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if scores.size == 0:
        raise ParameterError("no scores")
    return bool(scores.max() >= threshold)


__all__ = ["create_context", "encrypt_probe", "decrypt_matches", "decrypt_scores", "top_k", "verify", "is_match"]
