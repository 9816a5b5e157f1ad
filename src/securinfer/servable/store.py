"""The one file format of servables: an ``.npz`` holding numeric arrays and a
JSON header (member ``meta``, UTF-8 bytes) that names the kind and the format
version. Read with ``allow_pickle=False`` and members' sizes bounded before
anything is inflated (:mod:`securinfer._archive`), so loading an untrusted
file runs no code and costs at most what the caller allows.

Example:
    >>> import io, numpy as np
    >>> from securinfer.servable import store
    >>> buf = io.BytesIO()
    >>> store.write(buf, "demo", {"name": "x"}, values=np.arange(3))
    >>> meta, arrays = store.read(io.BytesIO(buf.getvalue()), "demo", ["values"])
    >>> meta["name"], arrays["values"].tolist()
    ('x', [0, 1, 2])
    >>> store.read(io.BytesIO(buf.getvalue()), "model", ["values"])
    Traceback (most recent call last):
    ...
    securinfer.errors.SerializationError: this file holds a 'demo', not a 'model'
"""

from __future__ import annotations

import json
from typing import Dict, Iterable, Optional, Tuple

import numpy as np

from .._archive import ARCHIVE_ERRORS, read_npz
from ..errors import SerializationError

__all__ = ["FORMAT_VERSION", "write", "read", "read_any", "split_header"]

FORMAT_VERSION = 1
_HEADER = "meta"


def write(target, kind: str, meta: dict, **arrays: np.ndarray) -> None:
    """Write the header (``meta`` plus ``kind`` and ``format_version``,
    JSON-serialisable) and the arrays to ``target`` (a path or a binary file)."""
    header = dict(meta, kind=kind, format_version=FORMAT_VERSION)
    blob = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    if isinstance(target, (str, bytes)) or hasattr(target, "__fspath__"):
        with open(target, "wb") as f:       # np.savez would append ".npz" to a path without it
            np.savez(f, **{_HEADER: blob}, **arrays)
    else:
        np.savez(target, **{_HEADER: blob}, **arrays)


def read_any(source, *, max_member_bytes: Optional[int] = None) -> Tuple[dict, Dict[str, np.ndarray]]:
    """The header and every array of a store file, whatever its kind."""
    return split_header(read_npz(source, what="securinfer servable", max_member_bytes=max_member_bytes))


def split_header(data: Dict[str, np.ndarray]) -> Tuple[dict, Dict[str, np.ndarray]]:
    """The header and the other arrays of an archive already read (``data`` is consumed)."""
    try:
        meta = json.loads(bytes(data.pop(_HEADER)).decode("utf-8"))
    except (KeyError, *ARCHIVE_ERRORS) as error:
        raise SerializationError(f"not a securinfer servable file: {type(error).__name__}: {error}") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        raise SerializationError("unknown servable file format version")
    return meta, data


def read(source, kind: str, names: Iterable[str], *,
         max_member_bytes: Optional[int] = None) -> Tuple[dict, Dict[str, np.ndarray]]:
    """The header and the named arrays of a file of ``kind``;
    ``SerializationError`` for anything else (another kind, a missing or
    unexpected array)."""
    meta, data = read_any(source, max_member_bytes=max_member_bytes)
    if meta.get("kind") != kind:
        raise SerializationError(f"this file holds a {meta.get('kind')!r}, not a {kind!r}")
    names = list(names)
    if set(data) != set(names):
        raise SerializationError(f"a {kind!r} file holds the arrays {sorted(names)}, this one {sorted(data)}")
    return meta, data
