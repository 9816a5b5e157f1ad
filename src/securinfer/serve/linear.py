"""A small servable: the affine model ``y = x @ W + b`` on one encrypted vector.

It meets the servable contract (call on ciphertexts, ``describe()``,
``required_rotations()``, ``save``/``load``) with nothing but
:class:`securinfer.linalg.LinearTransform`, so the service can be deployed
and tested on its own; :mod:`securinfer.nn` models and the face galleries
plug in the same way.

Layout: the input is one ciphertext holding x in slots ``[0, rows)``; the
output one ciphertext holding y in slots ``[0, cols)`` (one level lower).

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.serve import LinearModel
    >>> model = LinearModel(np.arange(6.0).reshape(3, 2), [0.5, -1.0], context={"preset": "fast"}, name="toy")
    >>> ctx = si.Context.create(**model.describe()["context"])
    >>> ctx.generate_rotation_keys(steps=model.required_rotations())
    >>> [y] = model([ctx.public().encrypt([1.0, 2.0, 3.0])])
    >>> np.round(ctx.decrypt(y), 3)
    array([16.5, 21. ])
"""

from __future__ import annotations

import json
import threading
from typing import List, Mapping

import numpy as np

from .._archive import ARCHIVE_ERRORS, read_npz
from .._validation import as_real_matrix
from ..ciphertext import Ciphertext
from ..context import Context
from ..server_parameters import context_for_server
from ..errors import ContextMismatchError, LevelError, ParameterError, SerializationError
from ..linalg import LinearTransform
from ..servable import register, store
from .parameters import ParameterSet

__all__ = ["LinearModel", "VectorClient"]

# The layout of files saved before the one servable store (still read).
_LEGACY_FORMAT = "securinfer.serve.LinearModel/1"
#: Largest uncompressed member a LinearModel file may hold (a 4096 x 4096 float64 matrix is 128 MiB).
MAX_MEMBER_BYTES = 256 << 20


class VectorClient:
    """The client of a servable whose input and output are one vector each
    (``inputs``/``outputs`` of layout ``"vector"`` with a ``length``).

    Example:
        >>> import numpy as np
        >>> from securinfer.serve import LinearModel
        >>> model = LinearModel(np.eye(3)[:, :2], context={"preset": "fast"})
        >>> client = LinearModel.client(model.describe())
        >>> ctx = client.create_context()
        >>> np.round(client.decrypt(ctx, model(client.encrypt(ctx, [1.0, 2.0, 3.0]))), 3)
        array([1., 2.])
    """

    def __init__(self, description: dict):
        inputs, outputs = description.get("inputs") or {}, description.get("outputs") or {}
        if inputs.get("layout") != "vector" or outputs.get("layout") != "vector":
            raise ParameterError("a VectorClient needs inputs and outputs of layout 'vector'")
        self.description = description
        self.input_length, self.output_length = int(inputs["length"]), int(outputs["length"])

    def create_context(self) -> Context:
        """A context with the servable's parameters, its secret key and exactly
        its rotation keys (the description may come from a remote server:
        whitelisted and 128-bit checked before any key exists)."""
        return context_for_server(self.description["context"], rotations=self.description.get("rotations") or ())

    def encrypt(self, ctx, values) -> List[Ciphertext]:
        x = np.asarray(values, dtype=np.float64)
        if x.shape != (self.input_length,):
            raise ParameterError(f"this servable takes a vector of {self.input_length} values, got shape {x.shape}")
        return [ctx.encrypt(x)]

    def decrypt(self, ctx, ciphertexts) -> np.ndarray:
        if len(ciphertexts) != 1:
            raise ParameterError(f"expected one answer ciphertext, got {len(ciphertexts)}")
        return ctx.decrypt(ciphertexts[0])[: self.output_length]


@register
class LinearModel:
    """``y = x @ weights + bias`` for CKKS parameters ``context`` (arguments
    of ``si.Context.create``)."""

    kind = "linear"
    client = VectorClient

    def __init__(self, weights, bias=None, *, context: Mapping, name: str = "linear"):
        W = as_real_matrix(weights, "weights")
        b = np.zeros(W.shape[1]) if bias is None else np.asarray(bias)
        if b.shape != (W.shape[1],) or b.dtype.kind not in "fiu" or not np.all(np.isfinite(b)):
            raise ParameterError(f"bias must be a finite real vector of {W.shape[1]} values")
        if not isinstance(name, str) or not name:
            raise ParameterError("name must be a non-empty str")
        self.weights, self.bias, self.name = W.astype(np.float64), b.astype(np.float64), name
        self.parameters = ParameterSet.from_description(context)
        if max(W.shape) > self.parameters.slots:
            raise ParameterError(f"a {W.shape} matrix does not fit {self.parameters.slots} slots")
        # The rotation steps depend on the shape and the parameters only: plan
        # them on a key-less parameter set (the transform itself is encoded
        # later, for the parameters the first query comes with).
        plan = self.parameters.planning_context()
        self._rotations = sorted(LinearTransform(plan, self.weights, plan.max_level)
                                 .required_rotations())
        self._transforms: dict = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the contract
    def describe(self) -> dict:
        rows, cols = self.weights.shape
        return {"kind": self.kind, "name": self.name, "context": dict(self.parameters.description),
                "rotations": list(self._rotations),
                "inputs": {"ciphertexts": 1, "layout": "vector", "length": rows},
                "outputs": {"ciphertexts": 1, "layout": "vector", "length": cols}}

    def required_rotations(self) -> List[int]:
        return list(self._rotations)

    def __call__(self, ciphertexts) -> list:
        if len(ciphertexts) != 1 or not isinstance(ciphertexts[0], Ciphertext):
            raise ParameterError(f"{self.name} takes exactly one ciphertext")
        x = ciphertexts[0]
        if not self.parameters.matches(x.context):
            raise ContextMismatchError(f"{self.name} runs on other parameters than this ciphertext's")
        if x.level < 1:
            raise LevelError(f"{self.name} needs one level (a product by the weights); this ciphertext is at level 0")
        with self._lock:  # encode the diagonals once per level, whichever thread asks first
            lt = self._transforms.get(x.level)
            if lt is None:
                lt = self._transforms[x.level] = LinearTransform(x.context, self.weights, x.level)
        return [lt.apply(x) + self.bias]

    # ------------------------------------------------------------------ files
    def save(self, target) -> None:
        """Weights, bias and a JSON header, in the servable store (no pickle)."""
        store.write(target, self.kind, {"name": self.name, "context": self.parameters.description},
                    weights=self.weights, bias=self.bias)

    @classmethod
    def load(cls, source) -> "LinearModel":
        """Safe on untrusted files: no pickle, members' sizes bounded before
        they are read, every field checked; any fault raises a securinfer
        error (``SerializationError`` for the file, ``ParameterError`` or
        ``SecurityError`` for its content). Files of the older layout
        (a ``format`` string in the header) still load."""
        try:
            meta, arrays = store.read(source, cls.kind, ["weights", "bias"], max_member_bytes=MAX_MEMBER_BYTES)
        except SerializationError as error:
            if hasattr(source, "seek"):
                source.seek(0)
            try:
                meta, arrays = _read_legacy(source)
            except SerializationError:
                raise error from None
        if not isinstance(meta.get("name"), str) or not isinstance(meta.get("context"), dict):
            raise SerializationError(f"{source}: a LinearModel file needs a str 'name' and a dict 'context'")
        return cls(arrays["weights"], arrays["bias"], context=meta["context"], name=meta["name"])

    def __repr__(self) -> str:
        return f"<securinfer.serve.LinearModel {self.name!r} {self.weights.shape[0]}->{self.weights.shape[1]}>"



def _read_legacy(source):
    """The header and arrays of a file saved before the servable store."""
    data = read_npz(source, what="LinearModel", max_member_bytes=MAX_MEMBER_BYTES)
    if set(data) != {"weights", "bias", "meta"}:
        raise SerializationError(f"{source}: not a LinearModel file (arrays {sorted(data)})")
    try:
        meta = json.loads(str(data["meta"]))
    except ARCHIVE_ERRORS as error:
        raise SerializationError(f"{source}: not a LinearModel file: {type(error).__name__}: {error}") from None
    if not isinstance(meta, dict) or meta.get("format") != _LEGACY_FORMAT:
        raise SerializationError(f"{source}: not a LinearModel file (format "
                                 f"{meta.get('format') if isinstance(meta, dict) else None!r})")
    return meta, {"weights": data["weights"], "bias": data["bias"]}
