"""One wire format for a batch of ciphertexts: the length-prefixed container
that carries them in an HTTP body of ``securinfer serve`` (``POST
/v1/run/{name}``, both ways) and between a ``securinfer.dist`` driver and its
workers. Each item is one ``Ciphertext.serialize()`` output, which carries the
ciphertext's parameters fingerprint and slot state.

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
    >>> import securinfer as si
    >>> from securinfer.ciphertext_batch import pack, unpack
    >>> ctx = si.Context.create(preset="fast")
    >>> body = pack([ctx.encrypt([1.0, 2.0]), ctx.encrypt([3.0])])
    >>> [ctx.decrypt(c).round(6).tolist() for c in unpack(body, ctx)]
    [[1.0, 2.0], [3.0]]
"""

from __future__ import annotations

import struct
from typing import List, Optional, Sequence

from .ciphertext import Ciphertext
from .errors import ParameterError, SerializationError

MAGIC = b"SICB"
VERSION = 1
_HEAD = struct.Struct("<4sHHI")
_LENGTH = struct.Struct("<Q")

__all__ = ["MAGIC", "VERSION", "pack", "unpack", "pack_items", "unpack_items", "overhead"]


def overhead(count: int) -> int:
    """Bytes the container adds around ``count`` items."""
    return _HEAD.size + count * _LENGTH.size


def pack(ciphertexts: Sequence[Ciphertext]) -> bytes:
    """The ciphertexts, serialized, as one body (in order)."""
    if isinstance(ciphertexts, Ciphertext) or not isinstance(ciphertexts, (list, tuple)) \
            or not all(isinstance(c, Ciphertext) for c in ciphertexts):
        raise ParameterError("expected a list of securinfer.Ciphertext")
    return pack_items([c.serialize() for c in ciphertexts])


def unpack(body, context, *, max_items: Optional[int] = None,
           max_item_bytes: Optional[int] = None) -> List[Ciphertext]:
    """The ciphertexts of :func:`pack`'s body, each loaded (and validated)
    under ``context``; ``SerializationError`` for a malformed body."""
    return [Ciphertext.load(item, context)
            for item in unpack_items(body, max_items=max_items, max_item_bytes=max_item_bytes)]


def pack_items(items: Sequence[bytes]) -> bytes:
    """One body holding ``items`` (bytes-like) in order."""
    parts = [_HEAD.pack(MAGIC, VERSION, 0, len(items))]
    for item in items:
        parts.append(_LENGTH.pack(len(item)))
        parts.append(bytes(item))
    return b"".join(parts)


def unpack_items(body, *, max_items: Optional[int] = None, max_item_bytes: Optional[int] = None) -> List[memoryview]:
    """The items of a container, as zero-copy views of ``body``.

    ``SerializationError`` (with the offset) for a wrong magic or version, a
    count or item above the caps, a truncated item or trailing bytes."""
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise SerializationError(f"expected a ciphertext batch's bytes, got {type(body).__name__}")
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
