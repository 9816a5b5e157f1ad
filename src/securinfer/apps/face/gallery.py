"""A gallery of plaintext face templates scored against an encrypted probe.

The server holds the templates (it enrolled them) and never sees the probe or
the scores: the client sends its embedding as 128 ciphertexts (see
:mod:`~securinfer.apps.face.layout`), the server returns one ciphertext of
similarity scores per block of ``slots`` templates, the client decrypts them
and takes the best matches (:mod:`~securinfer.apps.face.client`).

Each block's 128 columns are encoded once for the probe's parameters (the
first query, or :meth:`Gallery.prepare`) and kept up to ``max_encoded_bytes``;
blocks past that budget are encoded again at each query (slower, bounded memory).

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.apps import face
    >>> rng = np.random.default_rng(0)
    >>> templates = rng.normal(size=(5, 128))
    >>> gallery = face.Gallery(templates, labels=list("abcde"))
    >>> ctx = face.create_context(gallery.describe())
    >>> scores = face.decrypt_scores(ctx, gallery.describe(), gallery(face.encrypt_probe(ctx, templates[3])))
    >>> [label for label, _ in face.top_k(scores, 1, gallery.labels)]
    ['d']
"""

from __future__ import annotations

import threading
from typing import Dict, List, Optional

import numpy as np

from ...errors import ParameterError, SerializationError
from . import storage
from ...servable import register
from ...linalg import EncodedColumns, combine_plain
from .blocks import map_blocks
from .gallery_client import GalleryClient
from .layout import as_labels, as_templates, block_columns, check_context, check_probe
from .params import EMBEDDING_SIZE, FACE_PARAMETERS


def _slots(parameters: dict) -> int:
    return parameters["poly_degree"] // 2


@register
class Gallery:
    """Plaintext templates, scored against encrypted probes (server side).

    ``templates``: (n, 128) embeddings (normalised here); ``labels``: n names
    (default "0", "1", ...); ``threads``: threads over blocks (default 1: the core's threads split each block);
    ``max_encoded_bytes``: memory for encoded columns (default: no limit).
    """

    kind = "gallery"
    client = GalleryClient

    def __init__(self, templates=None, labels=None, *, name: str = "face-gallery", threads: Optional[int] = None,
                 max_encoded_bytes: Optional[int] = None, parameters: Optional[dict] = None):
        self.name = str(name)
        self.parameters = dict(FACE_PARAMETERS if parameters is None else parameters)
        self.threads = threads
        self.max_encoded_bytes = max_encoded_bytes
        self._labels: List[str] = []
        # The templates, stored only in block layout: (blocks, 128, slots), zero-padded.
        self._columns = np.zeros((0, EMBEDDING_SIZE, self.slots), dtype=np.float32)
        self._encoded: Dict[tuple, Dict[int, object]] = {}
        self._encoded_bytes = 0
        self._lock = threading.Lock()      # scoring threads fill the cache concurrently
        if templates is not None:
            self.add(templates, labels)

    # ------------------------------------------------------------------ enrollment
    def add(self, templates, labels=None) -> None:
        """Enroll more templates (appended after the current ones)."""
        new = as_templates(templates)
        labels = as_labels(labels, len(new))
        first_changed = len(self) // self.slots
        kept = self._rows(first_changed * self.slots, len(self))     # the partly filled last block
        tail = block_columns(np.concatenate([kept, new]), self.slots)
        with self._lock:
            self._columns = np.concatenate([self._columns[:first_changed], tail])
            self._labels += labels
            for cache in self._encoded.values():      # the changed blocks' encodings are stale
                for b in [b for b in cache if b >= first_changed]:
                    self._encoded_bytes -= cache.pop(b).nbytes

    def select(self, labels) -> "Gallery":
        """The gallery of the templates with these labels (1:1 verification
        is identification against the claimed identity's templates)."""
        wanted = {labels} if isinstance(labels, str) else {str(x) for x in labels}
        keep = [i for i, label in enumerate(self._labels) if label in wanted]
        if not keep:
            raise ParameterError(f"no template has label(s) {sorted(wanted)}")
        return Gallery(self.templates[keep], [self._labels[i] for i in keep], name=self.name,
                       threads=self.threads, max_encoded_bytes=self.max_encoded_bytes, parameters=self.parameters)

    # ------------------------------------------------------------------ facts
    def __len__(self) -> int:
        return len(self._labels)

    @property
    def slots(self) -> int:
        """Templates per block."""
        return _slots(self.parameters)

    @property
    def blocks(self) -> int:
        return self._columns.shape[0]

    @property
    def labels(self) -> List[str]:
        return list(self._labels)

    @property
    def templates(self) -> np.ndarray:
        """(n, 128) float32 unit vectors (a copy)."""
        return self._rows(0, len(self))

    def _rows(self, start: int, stop: int) -> np.ndarray:
        """Templates start..stop-1 as (rows, 128), from the block layout."""
        first, last = start // self.slots, -(-stop // self.slots)
        rows = self._columns[first:last].transpose(0, 2, 1).reshape(-1, EMBEDDING_SIZE)
        return np.ascontiguousarray(rows[start - first * self.slots: stop - first * self.slots])

    @property
    def nbytes(self) -> dict:
        """Memory held: the templates (float32, block layout) and the encoded columns."""
        return {"templates": int(self._columns.nbytes), "encoded": int(self._encoded_bytes)}

    def __repr__(self) -> str:
        return f"<securinfer.apps.face.Gallery {self.name!r} templates={len(self)} blocks={self.blocks}>"

    # ------------------------------------------------------------------ server computation
    def prepare(self, context, level: Optional[int] = None) -> None:
        """Encode every block's columns for ``context``'s parameters now (a
        public context suffices), within ``max_encoded_bytes``."""
        check_context(context, self.parameters)
        level = context.max_level if level is None else level
        map_blocks(lambda b: self._block_columns(context, level, b), self.blocks, self.threads)

    def _block_columns(self, context, level: int, b: int):
        with self._lock:
            cache = self._encoded.setdefault((context.parameters, level), {})
            cols = cache.get(b)
        if cols is None:
            cols = EncodedColumns(context, self._columns[b], level=level)      # outside the lock: slow
            with self._lock:
                if b not in cache and (self.max_encoded_bytes is None
                                       or self._encoded_bytes + cols.nbytes <= self.max_encoded_bytes):
                    cache[b] = cols
                    self._encoded_bytes += cols.nbytes
        return cols

    def __call__(self, probe_cts) -> list:
        """Encrypted scores: ciphertext b, slot j holds the cosine similarity
        of the probe with template ``b * slots + j`` (one level consumed)."""
        check_probe(probe_cts, self.parameters)
        if not len(self):
            raise ParameterError("the gallery is empty")
        context, level = probe_cts[0].context, min(c.level for c in probe_cts)
        return map_blocks(lambda b: combine_plain(probe_cts, self._block_columns(context, level, b)),
                          self.blocks, self.threads)

    # ------------------------------------------------------------------ servable contract
    def required_rotations(self) -> List[int]:
        """None: scoring uses no rotation."""
        return []

    def describe(self) -> dict:
        from .describe import description

        return description(self.name, self.parameters, len(self), encrypted_templates=False)

    def save(self, path) -> None:
        """Templates, labels and parameters to an ``.npz`` file (no pickle)."""
        storage.write(path, {"kind": "face.Gallery", "name": self.name, "parameters": self.parameters,
                             "labels": self._labels}, templates=self.templates)

    @classmethod
    def load(cls, path, *, threads: Optional[int] = None, max_encoded_bytes: Optional[int] = None) -> "Gallery":
        """A gallery from :meth:`save`'s file (validated; safe on untrusted files)."""
        meta, arrays = storage.read(path, ["templates"])
        from .describe import check_saved

        check_saved(meta, "face.Gallery")
        templates = arrays["templates"]
        if templates.dtype != np.float32 or templates.ndim != 2 or len(templates) != len(meta["labels"]):
            raise SerializationError("saved templates must be a 2-D float32 array, one row per label")
        gallery = cls(name=meta["name"], threads=threads, max_encoded_bytes=max_encoded_bytes,
                      parameters=meta["parameters"])
        if len(templates):
            try:
                gallery.add(templates, meta["labels"])
            except ParameterError as exc:
                raise SerializationError(f"saved templates are invalid: {exc}") from None
        return gallery
