"""One worker's part of a sharded gallery, and how it is built from what the
driver sent.

A shard is a run of whole blocks (``slots`` templates each) of the gallery:

* :class:`PlainShard`: plaintext templates, an in-memory array or a
  memory-mapped ``.npy`` file of shape (n, 128); each block's 128 columns are
  encoded once per (context, level) and kept (up to ``max_encoded_bytes``),
  so a repeated identification only multiplies (``si.linalg.combine_plain``);
* an encrypted shard is a :class:`securinfer.apps.face.EncryptedGallery`
  (its ciphertexts are loaded under the probe's public context once).

Sources (:func:`build_shard`): ``("templates", array)`` (unit float32 rows
the driver prepared), ``("npy", path)`` (memory-mapped, checked and
normalised here), ``("gallery", path_or_bytes)`` (a ``Gallery.save`` file),
``("encrypted", path_or_bytes)`` (an ``EncryptedGallery.save`` file);
``("file", path)``: one of the last three, told by the name and header.

Example:
    >>> import numpy as np
    >>> from securinfer.apps import face
    >>> from securinfer.dist.shard import PlainShard
    >>> t = np.random.default_rng(0).normal(size=(5, 128))
    >>> shard = PlainShard(face.layout.as_templates(t), face.FACE_PARAMETERS)
    >>> ctx = face.create_context()
    >>> scores = ctx.decrypt(shard.score(face.encrypt_probe(ctx, t[2]))[0])
    >>> int(np.argmax(scores[:5]))
    2
"""

from __future__ import annotations

import io
from typing import List, Optional

import numpy as np

from ..apps.face import EncryptedGallery, Gallery
from ..apps.face.blocks import map_blocks
from ..apps.face.encoded_blocks import EncodedBlocks
from ..apps.face.layout import as_templates, block_columns, check_context, check_probe
from ..apps.face.params import EMBEDDING_SIZE
from ..errors import ParameterError, SerializationError
from ..linalg import combine_plain
from ..servable import store

SOURCE_KINDS = ("templates", "npy", "gallery", "encrypted", "file")


class PlainShard:
    """Plaintext templates (n, 128) scored block by block.

    ``normalised``: the rows are already unit float32 (as the driver sends
    them); otherwise each block is checked and normalised when encoded."""

    encrypted = False

    def __init__(self, templates, parameters: dict, *, labels: Optional[List[str]] = None, normalised: bool = True,
                 max_encoded_bytes: Optional[int] = None, threads: Optional[int] = None):
        if getattr(templates, "ndim", None) != 2 or templates.shape[1] != EMBEDDING_SIZE:
            raise ParameterError(f"shard templates must have shape (n, {EMBEDDING_SIZE}), "
                                 f"got {getattr(templates, 'shape', None)}")
        self.parameters = dict(parameters)
        self.labels = labels
        self.threads = threads
        self._templates = templates
        self._normalised = normalised
        self._encoded = EncodedBlocks(self.columns, max_encoded_bytes)     # the face gallery's cache

    @property
    def slots(self) -> int:
        return self.parameters["poly_degree"] // 2

    def __len__(self) -> int:
        return int(self._templates.shape[0])

    @property
    def blocks(self) -> int:
        return -(-len(self) // self.slots)

    def columns(self, b: int) -> np.ndarray:
        """Block ``b``'s (128, slots) columns."""
        rows = self._templates[b * self.slots:(b + 1) * self.slots]
        rows = np.asarray(rows, dtype=np.float32) if self._normalised else as_templates(rows)
        return block_columns(rows, self.slots)[0]

    def check(self) -> None:
        """Read every block once (``ParameterError`` for a non-finite or zero row)."""
        for b in range(self.blocks):
            self.columns(b)

    @property
    def nbytes(self) -> dict:
        """Memory: templates (0 when memory-mapped: the page cache holds them) and encoded columns."""
        mapped = isinstance(self._templates, np.memmap)
        return {"templates": 0 if mapped else int(self._templates.nbytes),
                "mapped": int(self._templates.nbytes) if mapped else 0, "encoded": int(self._encoded.nbytes)}

    @property
    def stats(self) -> dict:
        """``nbytes`` and the number of block encodings done."""
        return dict(self.nbytes, encodings=self._encoded.encodings)

    @property
    def encodings(self) -> int:
        """Blocks encoded so far (a repeated query adds none)."""
        return self._encoded.encodings

    def encoded(self, context, level: int, b: int):
        """Block ``b``'s columns encoded for ``context`` at ``level`` (cached within the budget)."""
        return self._encoded.get(context, level, b)

    def prepare(self, context, level: Optional[int] = None) -> None:
        """Encode every block now (a public context suffices)."""
        check_context(context, self.parameters)
        level = context.max_level if level is None else level
        map_blocks(lambda b: self.encoded(context, level, b), self.blocks, self.threads)

    def score(self, probe_cts) -> List:
        """One score ciphertext per block, in block order."""
        check_probe(probe_cts, self.parameters)
        context, level = probe_cts[0].context, min(c.level for c in probe_cts)
        return map_blocks(lambda b: combine_plain(probe_cts, self.encoded(context, level, b)),
                          self.blocks, self.threads)


class EncryptedShard:
    """Encrypted templates: a :class:`~securinfer.apps.face.EncryptedGallery`
    seen as a shard (same ``score``/``prepare``/``nbytes`` as :class:`PlainShard`)."""

    encrypted = True

    def __init__(self, gallery: EncryptedGallery):
        self.gallery = gallery
        self.parameters = gallery.parameters
        self.labels = gallery.labels

    def __len__(self) -> int:
        return len(self.gallery)

    @property
    def blocks(self) -> int:
        return self.gallery.blocks

    @property
    def nbytes(self) -> dict:
        return self.gallery.nbytes

    @property
    def stats(self) -> dict:
        return self.nbytes

    def prepare(self, context, level: Optional[int] = None) -> None:
        """Load the ciphertexts under ``context`` now (``level`` is unused:
        ciphertext products need no encoding)."""
        self.gallery.bind(context)

    def score(self, probe_cts) -> List:
        return self.gallery(probe_cts)


def _file(source):
    """A path, or bytes made file-like."""
    return io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) else source


def file_kind(path: str) -> str:
    """``"npy"``, ``"gallery"`` or ``"encrypted"`` for a shard file."""
    if str(path).endswith(".npy"):
        return "npy"
    meta, _ = store.read_any(path)
    kinds = {"gallery": "gallery", "face.Gallery": "gallery",
             "encrypted-gallery": "encrypted", "face.EncryptedGallery": "encrypted"}
    if meta.get("kind") not in kinds:
        raise SerializationError(f"{path!r} is neither a .npy of templates nor a saved face gallery")
    return kinds[meta["kind"]]


def build_shard(kind: str, source, parameters: Optional[dict], *, max_encoded_bytes: Optional[int] = None,
                threads: Optional[int] = None):
    """A shard from what the driver sent (see the module docstring);
    ``shard.labels`` holds the source's labels (``None`` for bare templates)."""
    if kind == "file":
        kind = file_kind(source)
    if kind == "templates":
        shard = PlainShard(source, parameters, max_encoded_bytes=max_encoded_bytes, threads=threads)
    elif kind == "npy":
        if parameters is None:
            raise ParameterError("templates in a .npy file need the gallery's parameters")
        try:
            templates = np.load(source, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise SerializationError(f"cannot memory-map templates from {source!r}: {exc}") from None
        if templates.dtype.kind not in "fiu":
            raise SerializationError(f"{source!r}: templates must be real numbers, got dtype {templates.dtype}")
        shard = PlainShard(templates, parameters, normalised=False, max_encoded_bytes=max_encoded_bytes,
                           threads=threads)
        shard.check()
    elif kind == "gallery":
        gallery = Gallery.load(_file(source))            # the face gallery's own checks
        if gallery.reveal == "match":                     # shards answer scores: no silent downgrade
            raise ParameterError("this gallery reveals only matches; dist shards answer scores (reveal='scores' only)")
        if parameters is not None and gallery.parameters != parameters:
            raise ParameterError(f"shard parameters {gallery.parameters} differ from the gallery's {parameters}")
        shard = PlainShard(gallery.templates, gallery.parameters, labels=gallery.labels,
                           max_encoded_bytes=max_encoded_bytes, threads=threads)
    elif kind == "encrypted":
        shard = EncryptedShard(EncryptedGallery.load(_file(source), threads=threads))
        if shard.gallery.reveal == "match":
            raise ParameterError("this gallery reveals only matches; dist shards answer scores (reveal='scores' only)")
        if parameters is not None and shard.parameters != parameters:
            raise ParameterError(f"shard parameters {shard.parameters} differ from the gallery's {parameters}")
    else:
        raise ParameterError(f"unknown shard source {kind!r}; choose from {SOURCE_KINDS}")
    return shard
