"""Client-side encryption and decryption for a servable, from its ``describe()``.

The service moves ciphertexts; what goes in which slot is the servable
kind's business. This module picks the kind's own client helpers:

* ``inputs["layout"] == "vector"`` (e.g. :class:`~securinfer.serve.LinearModel`):
  one ciphertext holding the vector, one back;
* ``kind == "model"``: :class:`securinfer.nn.Client` (batches of rows in, rows out);
* ``kind == "gallery"``: :mod:`securinfer.apps.face` (a probe embedding in,
  one similarity per template out).

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.serve.codecs import codec_for
    >>> d = {"kind": "model", "inputs": {"layout": "vector", "length": 3}, "outputs": {"layout": "vector", "length": 2}}
    >>> codec = codec_for(d)
    >>> ctx = si.Context.create(preset="fast")
    >>> np.round(codec.decrypt(ctx, codec.encrypt(ctx, [1.0, 2.0, 3.0])), 3)
    array([1., 2.])
"""

from __future__ import annotations

from typing import Callable, List, NamedTuple

import numpy as np

from ..errors import ParameterError

__all__ = ["Codec", "codec_for"]


class Codec(NamedTuple):
    encrypt: Callable    # (ctx, values) -> list of ciphertexts
    decrypt: Callable    # (ctx, ciphertexts) -> numpy array


def codec_for(description: dict) -> Codec:
    """The encrypt/decrypt pair for a servable described by ``description``."""
    inputs, outputs = description.get("inputs") or {}, description.get("outputs") or {}
    if inputs.get("layout") == "vector" and outputs.get("layout") == "vector":
        return Codec(lambda ctx, x: _encrypt_vector(ctx, x, int(inputs["length"])),
                     lambda ctx, cts: ctx.decrypt(cts[0])[: int(outputs["length"])])
    if description.get("kind") == "model":
        from ..nn import Client as ModelClient

        model = ModelClient(description)
        return Codec(model.encrypt, model.decrypt)
    if description.get("kind") == "gallery":
        from ..apps import face

        return Codec(face.encrypt_probe, lambda ctx, cts: face.decrypt_scores(ctx, description, cts))
    raise ParameterError(f"no client helper for a servable of kind {description.get('kind')!r} with layout "
                         f"{inputs.get('layout')!r}; use Client.run with your own encryption")


def _encrypt_vector(ctx, values, length: int) -> List:
    x = np.asarray(values, dtype=np.float64)
    if x.shape != (length,):
        raise ParameterError(f"this servable takes a vector of {length} values, got shape {x.shape}")
    return [ctx.encrypt(x)]
