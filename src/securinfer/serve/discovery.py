"""Finding the servables saved in a directory, for ``securinfer serve --models DIR``.

Either a manifest ``DIR/servables.json``::

    {"servables": [{"type": "model", "path": "iris.npz", "name": "iris"},
                   {"type": "gallery", "path": "staff"}]}

or, without one, the file names say the type: ``NAME.TYPE.EXT`` (a file) or
``NAME.TYPE`` (a directory), e.g. ``iris.linear.npz``, ``staff.gallery.npz``.

The servable is served under the manifest's ``name`` when given, else under
its file's NAME (the part before the type, or before the first dot for
manifest paths): ``iris.model.npz`` is ``"iris"``, whatever name the object
was saved with. A file that cannot be loaded raises a securinfer error
naming it (``SerializationError`` for anything its loader did not expect).
The types are the kinds of :mod:`securinfer.servable.registry` (``linear``,
``model``, ``gallery``, ``encrypted-gallery``, and any an installed package
adds), whose classes' ``load`` reads the files.

Paths must stay inside DIR; loaders are the classes' own (no pickle).

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from securinfer.serve import LinearModel
    >>> from securinfer.serve.discovery import discover
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> LinearModel(np.eye(2), context={"preset": "fast"}, name="id2").save(d / "id2.linear.npz")
    >>> LinearModel(np.eye(2), context={"preset": "fast"}).save(d / "iris.linear.npz")   # saved as "linear"
    >>> [s.describe()["name"] for s in discover(d)]
    ['id2', 'iris']
"""

from __future__ import annotations

import json
import pathlib
from typing import List

from ..errors import ParameterError, SerializationError
from ..servable import registry

__all__ = ["discover", "MANIFEST"]

MANIFEST = "servables.json"


class Renamed:
    """A servable served under another name: ``describe()["name"]`` is
    ``name``; everything else is the wrapped servable's."""

    def __init__(self, servable, name: str):
        self.servable, self.name = servable, name

    def __call__(self, ciphertexts):
        return self.servable(ciphertexts)

    def describe(self) -> dict:
        return {**self.servable.describe(), "name": self.name}

    def required_rotations(self):
        return self.servable.required_rotations()

    def __getattr__(self, attribute):
        return getattr(self.servable, attribute)

    def __repr__(self) -> str:
        return f"<{self.name!r}: {self.servable!r}>"


def _name_from_path(path: pathlib.Path) -> str:
    return path.name.split(".")[0]


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
            pairs = [(e["type"], e["path"], e.get("name")) for e in entries]
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise SerializationError(f"{manifest}: expected {{'servables': [{{'type': ..., 'path': ...}}]}}: "
                                     f"{error}") from None
    else:
        known = registry.kinds()
        pairs = [(_type_from_name(p), p.name, None) for p in sorted(root.iterdir())
                 if not p.name.startswith(".") and _type_from_name(p) in known]
    servables = []
    for kind, relative, name in pairs:
        path = (root / str(relative)).resolve()
        if root not in path.parents:
            raise ParameterError(f"{relative}: servable paths must stay inside {root}")
        name = _name_from_path(path) if name is None else name
        if not isinstance(name, str) or not name or "/" in name:
            raise ParameterError(f"{relative}: a servable's name must be a non-empty str without '/'")
        servable = registry.load(kind, path)
        servables.append(servable if servable.describe().get("name") == name else Renamed(servable, name))
    if not servables:
        raise ParameterError(f"{directory}: no servables found (add {MANIFEST} or name files NAME.TYPE.EXT, "
                             f"TYPE in {registry.kinds()})")
    return servables
