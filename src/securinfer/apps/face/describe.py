"""What a gallery tells a remote client (``describe()``), and the checks on
what a saved gallery claims about itself.

Example:
    >>> from securinfer.apps.face.describe import description
    >>> from securinfer.apps.face.params import FACE_PARAMETERS
    >>> d = description("staff", FACE_PARAMETERS, 3000, encrypted_templates=False)
    >>> d["kind"], d["inputs"]["ciphertexts"], d["outputs"]["ciphertexts"]
    ('gallery', 128, 2)
"""

from __future__ import annotations

from typing import Optional

from ...errors import SerializationError
from .params import EMBEDDING_SIZE


COLUMNS_INPUT = "ciphertext d holds coordinate d of the unit-norm probe embedding in every slot"
COMPACT_INPUT = ("one ciphertext: slot j holds coordinate j mod 128 of the unit-norm probe embedding "
                 "(the server rotates it with the keys of 'rotations')")


def description(name: str, parameters: dict, count: int, *, encrypted_templates: bool,
                match: Optional[dict] = None, probe: str = "columns", rotations=None) -> dict:
    """The servable contract's dict for a gallery of ``count`` templates
    (``match``: the match rule of a ``reveal="match"`` gallery; ``probe``:
    ``"compact"`` for one probe ciphertext, ``"columns"`` for 128;
    ``rotations``: the compact probe's keys, default all 7 power-of-two steps)."""
    from .compact_probe import EXPANSION_STEPS

    d = _description(name, parameters, count, encrypted_templates, match)
    if probe == "compact":
        d["rotations"] = list(EXPANSION_STEPS if rotations is None else rotations)
        d["inputs"].update(ciphertexts=1, layout=COMPACT_INPUT, form="compact")
    else:
        d["inputs"]["form"] = "columns"
    return d


def _description(name, parameters, count, encrypted_templates, match) -> dict:
    slots = parameters["poly_degree"] // 2
    if match is not None:
        return {
            "kind": "gallery", "name": name, "reveal": "match", "match": match,
            "context": dict(parameters, coeff_bits=list(parameters["coeff_bits"])),
            "rotations": [], "conjugation": True, "encrypted_templates": encrypted_templates,
            "inputs": {"ciphertexts": EMBEDDING_SIZE, "levels": match["levels"],
                       "layout": COLUMNS_INPUT,
                       "embedding_size": EMBEDDING_SIZE},
            "outputs": {"ciphertexts": -(-count // slots), "slots": slots, "templates": count,
                        "layout": "ciphertext b, slot j: about 1 if template b * slots + j matched "
                                  "(score >= threshold), about 0 if not, plus Gaussian noise of sd answer_noise"},
        }
    return {
        "kind": "gallery",
        "name": name,
        "reveal": "scores",
        "context": dict(parameters, coeff_bits=list(parameters["coeff_bits"])),
        "rotations": [],
        "encrypted_templates": encrypted_templates,
        "inputs": {
            "ciphertexts": EMBEDDING_SIZE,
            "layout": COLUMNS_INPUT,
            "embedding_size": EMBEDDING_SIZE,
        },
        "outputs": {
            "ciphertexts": -(-count // slots),
            "layout": "ciphertext b, slot j: cosine similarity of the probe with template b * slots + j",
            "slots": slots,
            "templates": count,
        },
    }


# The kinds galleries were saved under before the one servable store (same layout).
_LEGACY_KINDS = {"gallery": "face.Gallery", "encrypted-gallery": "face.EncryptedGallery"}


def check_saved(meta: dict, kind: str, arrays: dict, names) -> None:
    """``SerializationError`` unless ``meta`` is a well-formed header of
    ``kind`` (or of its name in older files) and ``arrays`` holds exactly ``names``."""
    if meta.get("kind") not in (kind, _LEGACY_KINDS[kind]):
        raise SerializationError(f"this file holds {meta.get('kind')!r}, not {kind!r}")
    if set(arrays) != set(names):
        raise SerializationError(f"a saved {kind} holds the arrays {sorted(names)}, this one {sorted(arrays)}")
    if not isinstance(meta.get("name"), str) or not isinstance(meta.get("labels"), list):
        raise SerializationError("saved gallery lacks its name or labels")
    params = meta.get("parameters")
    ints = ("poly_degree", "scale_bits", "special_primes")
    if (not isinstance(params, dict) or set(params) != set(ints) | {"coeff_bits"}
            or not all(isinstance(params[k], int) and not isinstance(params[k], bool) for k in ints)
            or not isinstance(params["coeff_bits"], list)
            or not all(isinstance(b, int) and not isinstance(b, bool) for b in params["coeff_bits"])
            or params["poly_degree"] not in (4096, 8192, 16384, 32768, 65536)
            # The ranges Context.create takes: a saved scale of 2^(2^40) loaded, then the
            # first probe hit OverflowError (ZeroDivisionError for a negative one).
            or not 10 <= params["scale_bits"] <= 60
            or not all(20 <= b <= 60 for b in params["coeff_bits"])
            or not 1 <= params["special_primes"] < len(params["coeff_bits"])):
        raise SerializationError("saved gallery parameters are malformed")
