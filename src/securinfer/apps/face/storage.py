"""Saving galleries: one ``.npz`` holding numeric arrays and a JSON header,
read with ``allow_pickle=False`` so that loading an untrusted file runs no code.

Example:
    >>> import io, numpy as np
    >>> from securinfer.apps.face.storage import write, read
    >>> buf = io.BytesIO()
    >>> write(buf, {"kind": "demo"}, values=np.arange(3))
    >>> meta, arrays = read(io.BytesIO(buf.getvalue()), ["values"])
    >>> meta["kind"], arrays["values"].tolist()
    ('demo', [0, 1, 2])
"""

from __future__ import annotations

import json
from typing import Dict, Iterable, Tuple

import numpy as np

from ..._archive import ARCHIVE_ERRORS, read_npz
from ...errors import SerializationError

FORMAT_VERSION = 1


def write(path, meta: dict, **arrays: np.ndarray) -> None:
    """Write ``meta`` (JSON-serialisable) and the arrays to ``path``."""
    header = dict(meta, format_version=FORMAT_VERSION)
    blob = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    np.savez(path, meta=blob, **arrays)


def read(path, names: Iterable[str]) -> Tuple[dict, Dict[str, np.ndarray]]:
    """The JSON header and the named arrays; ``SerializationError`` for
    anything that is not such a file."""
    data = read_npz(path, what="saved gallery")
    try:
        meta = json.loads(bytes(data["meta"]).decode("utf-8"))
        arrays = {name: data[name] for name in names}
    except ARCHIVE_ERRORS as exc:
        raise SerializationError(f"not a saved gallery: {type(exc).__name__}: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        raise SerializationError("unknown gallery file format version")
    return meta, arrays
