"""The length-prefixed container that carries several serialized objects in
one HTTP body (requests and responses of ``POST /v1/run/{name}``).

Layout (little-endian)::

    offset  size  field
    0       4     magic b"SICB" ("securinfer ciphertext batch")
    4       2     version (1)
    6       2     reserved, zero
    8       4     count n
    12      ...   n items, each: u64 length, then that many bytes
                  (one ``Ciphertext.serialize()`` output)

Nothing may follow the last item. :func:`unpack` checks every field before it
slices anything and refuses a count or an item larger than the caller's caps,
so a hostile body costs at most its own size.

Example:
    >>> from securinfer.serve.container import pack, unpack
    >>> body = pack([b"abc", b"de"])
    >>> len(body), [bytes(item) for item in unpack(body)]
    (33, [b'abc', b'de'])
"""

from __future__ import annotations

import struct
from typing import List, Optional, Sequence

from ..errors import SerializationError

MAGIC = b"SICB"
VERSION = 1
_HEAD = struct.Struct("<4sHHI")
_LENGTH = struct.Struct("<Q")

__all__ = ["MAGIC", "VERSION", "pack", "unpack", "overhead"]


def overhead(count: int) -> int:
    """Bytes the container adds around ``count`` items."""
    return _HEAD.size + count * _LENGTH.size


def pack(items: Sequence[bytes]) -> bytes:
    """One body holding ``items`` (bytes-like) in order."""
    parts = [_HEAD.pack(MAGIC, VERSION, 0, len(items))]
    for item in items:
        parts.append(_LENGTH.pack(len(item)))
        parts.append(bytes(item))
    return b"".join(parts)


def unpack(body, *, max_items: Optional[int] = None, max_item_bytes: Optional[int] = None) -> List[memoryview]:
    """The items of a container, as zero-copy views of ``body``.

    ``SerializationError`` (with the offset) for a wrong magic or version, a
    count or item above the caps, a truncated item or trailing bytes."""
    view = memoryview(body).cast("B")
    if len(view) < _HEAD.size:
        raise SerializationError(f"container truncated: {len(view)} bytes, the header alone takes {_HEAD.size}")
    magic, version, reserved, count = _HEAD.unpack_from(view, 0)
    if magic != MAGIC:
        raise SerializationError(f"not a ciphertext container (magic {bytes(magic)!r}, expected {MAGIC!r})")
    if version != VERSION:
        raise SerializationError(f"container version {version} is not supported (this build reads {VERSION})")
    if reserved != 0:
        raise SerializationError("container reserved field must be zero")
    if count == 0:
        raise SerializationError("container holds no items")
    if max_items is not None and count > max_items:
        raise SerializationError(f"container holds {count} items, at most {max_items} allowed here")
    items, at = [], _HEAD.size
    for index in range(count):
        if len(view) - at < _LENGTH.size:
            raise SerializationError(f"container truncated in the length of item {index} (offset {at})")
        (length,) = _LENGTH.unpack_from(view, at)
        at += _LENGTH.size
        if max_item_bytes is not None and length > max_item_bytes:
            raise SerializationError(f"item {index} is {length} bytes, at most {max_item_bytes} allowed here")
        if length > len(view) - at:
            raise SerializationError(f"container truncated in item {index}: {length} bytes announced, "
                                     f"{len(view) - at} left (offset {at})")
        items.append(view[at:at + length])
        at += length
    if at != len(view):
        raise SerializationError(f"{len(view) - at} unexpected bytes after the container's last item")
    return items
