"""The servable contract: what ``securinfer serve`` and ``securinfer.dist``
require of a model or gallery they run, and of the client helper that
encrypts its inputs and decrypts its outputs.

A servable is a server-side object that never holds a secret key. It is
called on a list of ciphertexts and answers a list of ciphertexts (under the
same public context); ``describe()`` tells a remote client everything it
needs (a JSON dict with at least ``kind``, ``name``, ``context`` — the
keyword arguments of ``si.Context.create`` — ``rotations``, ``inputs`` and
``outputs``); it saves to and loads from one file of the
:mod:`~securinfer.servable.store` (``save(target)`` / ``load(source)``,
a path or a binary file object), which is also how it travels between
processes (:func:`~securinfer.servable.registry.to_bytes`).

A client helper is made from a description alone (``client(description)``,
a class attribute of the servable): ``create_context()`` (secret key plus
exactly the keys the servable needs), ``encrypt(ctx, values)`` and
``decrypt(ctx, ciphertexts)``.

Example:
    >>> import numpy as np
    >>> from securinfer.serve import LinearModel
    >>> from securinfer.servable import Servable, check_servable
    >>> model = LinearModel(np.eye(2), context={"preset": "fast"}, name="id2")
    >>> isinstance(model, Servable), check_servable(model) is model
    (True, True)
"""

from __future__ import annotations

from typing import Any, List, Protocol, Sequence, runtime_checkable

import numpy as np

from ..errors import ParameterError

__all__ = ["Servable", "ServableClient", "check_servable", "REQUIRED_DESCRIPTION_KEYS"]

REQUIRED_DESCRIPTION_KEYS = ("kind", "name", "context", "rotations", "inputs", "outputs")


@runtime_checkable
class ServableClient(Protocol):
    """Encrypts a servable's inputs and decrypts its outputs, from its description."""

    def create_context(self) -> Any: ...

    def encrypt(self, ctx, values) -> List[Any]: ...

    def decrypt(self, ctx, ciphertexts: Sequence[Any]) -> np.ndarray: ...


@runtime_checkable
class Servable(Protocol):
    """A model or gallery the service runs on ciphertexts (see the module doc)."""

    kind: str

    def __call__(self, ciphertexts: Sequence[Any]) -> List[Any]: ...

    def describe(self) -> dict: ...

    def required_rotations(self) -> List[int]: ...

    def save(self, target) -> None: ...

    @classmethod
    def load(cls, source) -> "Servable": ...

    @classmethod
    def client(cls, description: dict) -> ServableClient: ...


def check_servable(obj) -> Servable:
    """``obj`` if it meets the contract, else a ``ParameterError`` naming
    what it lacks (``describe()`` is called and its keys checked)."""
    missing = [name for name in ("kind", "describe", "required_rotations", "save", "load", "client")
               if not hasattr(obj, name)]
    if missing or not callable(obj):
        raise ParameterError(f"{type(obj).__name__} is not a servable: it lacks "
                             f"{', '.join(missing) or '__call__'} (see securinfer.servable.protocol)")
    description = obj.describe()
    absent = [key for key in REQUIRED_DESCRIPTION_KEYS if key not in description]
    if not isinstance(description, dict) or absent:
        raise ParameterError(f"{type(obj).__name__}.describe() lacks {absent}")
    return obj
