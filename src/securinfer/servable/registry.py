"""The one registry of servable kinds, used by ``securinfer serve`` (to load
the files of ``--models``, and to pick a client helper for a description) and
by ``securinfer.dist`` (to ship a servable to its workers as bytes).

A kind is a class meeting :class:`~securinfer.servable.protocol.Servable`.
The layers that define servables fill the registry: each class registers
itself when its module is imported (``@register``), and the package declares
the same classes as entry points of the group ``securinfer.servables``
(pyproject.toml), so a kind is found without importing its module first — and
another installed package can add kinds the same way.

| kind | class |
|---|---|
| ``linear`` | ``securinfer.serve.LinearModel`` |
| ``model`` | ``securinfer.nn.EncryptedModel`` |
| ``gallery`` | ``securinfer.apps.face.Gallery`` |
| ``encrypted-gallery`` | ``securinfer.apps.face.EncryptedGallery`` |

Example:
    >>> import numpy as np
    >>> from securinfer.servable import registry
    >>> from securinfer.serve import LinearModel
    >>> model = LinearModel(np.eye(2), context={"preset": "fast"}, name="id2")
    >>> again = registry.from_bytes("linear", registry.to_bytes(model))
    >>> again.describe() == model.describe()
    True
    >>> registry.servable_class("nope")
    Traceback (most recent call last):
    ...
    securinfer.errors.ParameterError: unknown servable kind 'nope'; known: ['encrypted-gallery', 'gallery', 'linear', 'model']
"""

from __future__ import annotations

import io
import threading
from importlib import metadata
from typing import Dict, List

from ..errors import ParameterError, SecurinferError, SerializationError
from .protocol import ServableClient

__all__ = ["ENTRY_POINT_GROUP", "register", "kinds", "servable_class", "load", "client_for",
           "to_bytes", "from_bytes"]

ENTRY_POINT_GROUP = "securinfer.servables"
_KINDS: Dict[str, type] = {}
_UNAVAILABLE: Dict[str, str] = {}      # kind -> why its entry point did not load (a missing extra)
_lock = threading.Lock()
_entry_points_loaded = False


def register(cls: type) -> type:
    """Add ``cls`` under ``cls.kind`` (a decorator); a kind already held by
    another class is refused."""
    kind = getattr(cls, "kind", None)
    if not isinstance(kind, str) or not kind:
        raise ParameterError(f"{cls!r}: a servable class needs a non-empty str 'kind'")
    for name in ("load", "client", "describe", "required_rotations", "save"):
        if not callable(getattr(cls, name, None)):
            raise ParameterError(f"{cls.__name__} lacks {name}: it does not meet the servable contract")
    with _lock:
        held = _KINDS.get(kind)
        if held is not None and held is not cls and _qualified(held) != _qualified(cls):
            raise ParameterError(f"servable kind {kind!r} is already {_qualified(held)}")
        _KINDS[kind] = cls
        _UNAVAILABLE.pop(kind, None)
    return cls


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in _KINDS:
            continue
        try:
            cls = entry.load()
        except ImportError as error:    # the kind's extra is not installed here
            _UNAVAILABLE[entry.name] = f"{entry.value}: {error}"
            continue
        if getattr(cls, "kind", None) != entry.name:
            raise ParameterError(f"entry point {entry.name!r} names {entry.value}, whose kind is "
                                 f"{getattr(cls, 'kind', None)!r}")
        register(cls)
    _entry_points_loaded = True


def kinds() -> List[str]:
    """The kinds available in this process."""
    _load_entry_points()
    return sorted(_KINDS)


def servable_class(kind: str) -> type:
    """The class of ``kind`` (``ParameterError`` for an unknown or unavailable kind)."""
    if not isinstance(kind, str):
        raise ParameterError(f"a servable kind is a str, got {type(kind).__name__}")
    if kind not in _KINDS:
        _load_entry_points()
    if kind in _KINDS:
        return _KINDS[kind]
    if kind in _UNAVAILABLE:
        raise ParameterError(f"servable kind {kind!r} is not available here: {_UNAVAILABLE[kind]}")
    raise ParameterError(f"unknown servable kind {kind!r}; known: {kinds()}")


def load(kind: str, source):
    """A servable of ``kind`` from its saved file (a path or a binary file
    object); any fault of the loader is a securinfer error
    (``SerializationError`` for what it did not expect)."""
    cls = servable_class(kind)
    try:
        return cls.load(source)
    except SecurinferError:
        raise
    except Exception as error:  # a loader's own fault on a hostile file: still a clear refusal
        name = getattr(source, "name", source if isinstance(source, str) else "data")
        raise SerializationError(f"{name}: cannot load as {kind!r}: {type(error).__name__}: {error}") from None


def client_for(description: dict) -> ServableClient:
    """The client helper for a servable described by ``description`` (its ``describe()``)."""
    if not isinstance(description, dict):
        raise ParameterError(f"a description is a dict, got {type(description).__name__}")
    return servable_class(description.get("kind")).client(description)


def to_bytes(servable) -> bytes:
    """The servable's saved file as bytes (how it travels between processes)."""
    buffer = io.BytesIO()
    servable.save(buffer)
    return buffer.getvalue()


def from_bytes(kind: str, data) -> object:
    """The servable of :func:`to_bytes`'s bytes (validated like a file)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SerializationError(f"expected a saved servable's bytes, got {type(data).__name__}")
    return load(kind, io.BytesIO(bytes(data)))
