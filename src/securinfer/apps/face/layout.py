"""Input checks and the slot layout shared by both galleries.

The probe travels as 128 ciphertexts, ciphertext d holding probe coordinate d
in every slot. A gallery is cut into blocks of ``slots`` templates; block b
is 128 columns, column d holding coordinate d of templates
``b*slots .. b*slots + slots - 1``. Then the scores of block b are
``sum_d probe_d * column_d`` slot by slot: 128 products and no rotation.

Example:
    >>> import numpy as np
    >>> from securinfer.apps.face.layout import as_templates, block_columns
    >>> t = as_templates(np.eye(3, 128))
    >>> block_columns(t, slots=2).shape        # 2 blocks x 128 columns x 2 slots
    (2, 128, 2)
"""

from __future__ import annotations

import numpy as np

from ...errors import ContextMismatchError, ParameterError, ShapeError
from .params import EMBEDDING_SIZE


def as_templates(templates, dim: int = EMBEDDING_SIZE) -> np.ndarray:
    """(n, dim) float32 unit vectors from user input (rows normalised; cosine
    similarity is then the inner product)."""
    arr = np.asarray(templates)
    if arr.dtype == object or arr.dtype.kind not in "fiu":
        raise ParameterError(f"templates must be real numbers, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ParameterError(f"templates must have shape (n, {dim}), got {np.shape(templates)}")
    if arr.shape[0] == 0:
        raise ParameterError("no templates given")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ParameterError("templates must be finite")
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ParameterError("a template is the zero vector (no direction to compare)")
    return (arr / norms).astype(np.float32)


def as_labels(labels, count: int) -> list:
    """Labels as a list of ``count`` strings (default: "0", "1", ...)."""
    if labels is None:
        return [str(i) for i in range(count)]
    labels = [str(x) for x in labels]
    if len(labels) != count:
        raise ParameterError(f"{len(labels)} labels for {count} templates")
    return labels


def block_columns(templates: np.ndarray, slots: int) -> np.ndarray:
    """(blocks, dim, slots) float32: block b's columns, zero-padded at the end."""
    n, dim = templates.shape
    blocks = -(-n // slots)
    padded = np.zeros((blocks * slots, dim), dtype=np.float32)
    padded[:n] = templates
    return np.ascontiguousarray(padded.reshape(blocks, slots, dim).transpose(0, 2, 1))


def check_context(context, parameters: dict) -> None:
    """``ContextMismatchError`` unless ``context`` has the gallery's parameters."""
    want = (parameters["poly_degree"], list(parameters["coeff_bits"]), 2.0 ** parameters["scale_bits"])
    have = (context.poly_degree, context.coeff_bits, context.scale)
    # Primes far from 2^scale_bits make the core lower the top scale so that level 0's is 2^scale_bits.
    scale_ok = have[2] == want[2] or abs(context.level_scale(0) / want[2] - 1) < 1e-9
    if have[:2] != want[:2] or not scale_ok:
        raise ContextMismatchError(f"the probe's parameters (N={have[0]}, coeff_bits={have[1]}) are not the "
                                   f"gallery's (N={want[0]}, coeff_bits={want[1]}, scale 2^{parameters['scale_bits']})")


def check_probe(cts, parameters: dict, dim: int = EMBEDDING_SIZE, compact_ok: bool = False) -> bool:
    """The probe is ``dim`` ciphertexts (or, where ``compact_ok``, one: the
    compact probe) of one context with the gallery's parameters. True for the compact form."""
    from ...ciphertext import Ciphertext

    forms = f"a list of {dim} ciphertexts (one per coordinate)"
    forms += " or of one (the compact probe)" if compact_ok else ""
    if isinstance(cts, Ciphertext) or not isinstance(cts, (list, tuple)):
        raise ParameterError(f"the probe is {forms}")
    if len(cts) != dim and not (compact_ok and len(cts) == 1):
        raise ParameterError(f"the probe must be {forms}, got {len(cts)}")
    if not all(isinstance(c, Ciphertext) for c in cts):
        raise ParameterError("the probe must hold securinfer.Ciphertext objects only")
    check_context(cts[0].context, parameters)
    key = cts[0].key_id
    if any(not c.context.same_parameters(cts[0].context) or c.key_id != key for c in cts):
        raise ContextMismatchError("the probe's ciphertexts come from different contexts or keys")
    # Every slot is read (block-wide products, the compact probe's rotations): a shorter
    # vector (ctx.encrypt(probe) instead of encrypt_probe) would score silently wrong.
    slots = parameters["poly_degree"] // 2
    short = [c.size for c in cts if c.size != slots]
    if short:
        raise ShapeError(f"each probe ciphertext must fill all {slots} slots (face.encrypt_probe makes it); "
                         f"got a vector of length {short[0]}")
    return len(cts) == 1

