"""Reading the ``.npz`` archives securinfer saves (models, galleries) from
files that may be hostile: no pickle, members' sizes bounded before numpy
inflates anything, and every fault of zipfile or numpy turned into a
:class:`~securinfer.errors.SerializationError` (crafted archives make them
raise a dozen exception types).

Example:
    >>> import io, numpy as np
    >>> from securinfer._archive import read_npz
    >>> buf = io.BytesIO(); np.savez(buf, a=np.arange(3))
    >>> read_npz(io.BytesIO(buf.getvalue()), what="demo")["a"].tolist()
    [0, 1, 2]
    >>> read_npz(io.BytesIO(b"not a zip"), what="demo")
    Traceback (most recent call last):
    ...
    securinfer.errors.SerializationError: not a demo file: BadZipFile: File is not a zip file
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from typing import Dict, Optional

import numpy as np

from .errors import SerializationError

# What numpy and zipfile raise on crafted archives (unsupported compression,
# encrypted members, bad headers, truncated or corrupt streams, odd dtypes).
ARCHIVE_ERRORS = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile,
                  NotImplementedError, RuntimeError, zlib.error, struct.error, TypeError, IndexError, OverflowError,
                  UnicodeError, MemoryError, AttributeError)


def read_npz(source, *, what: str, max_member_bytes: Optional[int] = None) -> Dict[str, np.ndarray]:
    """Every array of the archive ``source`` (a path or a binary file object).
    ``max_member_bytes`` bounds each member's uncompressed size, read from the
    archive's directory before anything is inflated."""
    try:
        # An archive, checked from its directory first (np.load would also
        # take a bare .npy, or a pickle it then refuses).
        with zipfile.ZipFile(source) as archive:
            for info in archive.infolist():
                if max_member_bytes is not None and info.file_size > max_member_bytes:
                    raise SerializationError(f"{what} file: member {info.filename!r} of {info.file_size} bytes "
                                             f"is larger than allowed ({max_member_bytes})")
        if hasattr(source, "seek"):
            source.seek(0)
        with np.load(source, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except SerializationError:
        raise
    except ARCHIVE_ERRORS as error:
        raise SerializationError(f"not a {what} file: {type(error).__name__}: {error}") from None
