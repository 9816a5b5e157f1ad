"""Finding the servables saved in a directory, for ``securinfer serve --models DIR``.

Either a manifest ``DIR/servables.json``::

    {"servables": [{"type": "model", "path": "iris.npz"},
                   {"type": "gallery", "path": "staff"}]}

or, without one, the file names say the type: ``NAME.TYPE.EXT`` (a file) or
``NAME.TYPE`` (a directory), e.g. ``iris.linear.npz``, ``staff.gallery.npz``.
Types and the classes whose ``load(path)`` reads them:

| type                | class                                     |
|---------------------|-------------------------------------------|
| ``linear``          | ``securinfer.serve.LinearModel``          |
| ``model``           | ``securinfer.nn.EncryptedModel``          |
| ``gallery``         | ``securinfer.apps.face.Gallery``          |
| ``encrypted-gallery`` | ``securinfer.apps.face.EncryptedGallery`` |

Paths must stay inside DIR; loaders are the classes' own (no pickle).

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from securinfer.serve import LinearModel
    >>> from securinfer.serve.discovery import discover
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> LinearModel(np.eye(2), context={"preset": "fast"}, name="id2").save(d / "id2.linear.npz")
    >>> [s.describe()["name"] for s in discover(d)]
    ['id2']
"""

from __future__ import annotations

import importlib
import json
import pathlib
from typing import List

from ..errors import ParameterError, SerializationError

__all__ = ["discover", "TYPES", "MANIFEST"]

MANIFEST = "servables.json"
TYPES = {
    "linear": ("securinfer.serve.linear", "LinearModel"),
    "model": ("securinfer.nn", "EncryptedModel"),
    "gallery": ("securinfer.apps.face", "Gallery"),
    "encrypted-gallery": ("securinfer.apps.face", "EncryptedGallery"),
}


def _loader(kind: str):
    if kind not in TYPES:
        raise ParameterError(f"unknown servable type {kind!r}; known: {sorted(TYPES)}")
    module, cls = TYPES[kind]
    try:
        return getattr(importlib.import_module(module), cls).load
    except (ImportError, AttributeError) as error:
        raise ParameterError(f"servable type {kind!r} needs {module}.{cls}, not available here: {error}") from None


def _type_from_name(path: pathlib.Path):
    parts = path.name.split(".")
    if path.is_dir():
        return parts[-1] if len(parts) >= 2 else None
    return parts[-2] if len(parts) >= 3 else None


def discover(directory) -> List[object]:
    """Load every servable of ``directory`` (manifest first, else file names)."""
    root = pathlib.Path(directory).resolve()
    if not root.is_dir():
        raise ParameterError(f"{directory}: not a directory")
    manifest = root / MANIFEST
    if manifest.exists():
        try:
            entries = json.loads(manifest.read_text())["servables"]
            pairs = [(e["type"], e["path"]) for e in entries]
        except (ValueError, KeyError, TypeError) as error:
            raise SerializationError(f"{manifest}: expected {{'servables': [{{'type': ..., 'path': ...}}]}}: "
                                     f"{error}") from None
    else:
        pairs = [(_type_from_name(p), p.name) for p in sorted(root.iterdir())
                 if not p.name.startswith(".") and _type_from_name(p) in TYPES]
    servables = []
    for kind, relative in pairs:
        path = (root / str(relative)).resolve()
        if root not in path.parents:
            raise ParameterError(f"{relative}: servable paths must stay inside {root}")
        servables.append(_loader(kind)(path))
    if not servables:
        raise ParameterError(f"{directory}: no servables found (add {MANIFEST} or name files NAME.TYPE.EXT, "
                             f"TYPE in {sorted(TYPES)})")
    return servables
