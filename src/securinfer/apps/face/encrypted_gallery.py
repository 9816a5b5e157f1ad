"""A gallery whose templates the enrolling client encrypted: the server sees
neither the probe nor the templates nor the scores.

The client enrolls with :meth:`EncryptedGallery.enroll` (its secret context
encrypts each block's 128 columns; the gallery keeps them under the public
context only), saves the gallery and hands the file to the server, which
loads it and scores probes encrypted under the same keys: 128 ciphertext
products per block, relinearised and rescaled once
(``si.linalg.sum_of_products``).

A loaded gallery keeps the ciphertext bytes until the first probe (or
:meth:`EncryptedGallery.bind`) gives it the context to validate them against.

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.apps import face
    >>> rng = np.random.default_rng(1)
    >>> templates = rng.normal(size=(4, 128))
    >>> ctx = face.create_context()
    >>> gallery = face.EncryptedGallery.enroll(ctx, templates, labels=["ann", "bob", "cy", "dee"])
    >>> scores = face.decrypt_scores(ctx, gallery.describe(), gallery(face.encrypt_probe(ctx, templates[1])))
    >>> face.top_k(scores, 1, gallery.labels)[0][0]
    'bob'
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np

from ...errors import ContextMismatchError, ParameterError, SerializationError
from ...servable import register, store
from ...linalg import sum_of_products_many
from .blocks import map_blocks
from .gallery_client import GalleryClient
from .layout import as_labels, as_templates, block_columns, check_context, check_probe
from .params import EMBEDDING_SIZE, FACE_PARAMETERS


@register
class EncryptedGallery:
    """Encrypted templates, scored against encrypted probes (server side).

    Made by :meth:`enroll` (client side) or :meth:`load` (server side)."""

    kind = "encrypted-gallery"
    client = GalleryClient

    def __init__(self, *, name: str, parameters: dict, labels: List[str], blocks=None, serialized=None,
                 threads: Optional[int] = None, _private: bool = False):
        if not _private:
            raise ParameterError("use EncryptedGallery.enroll(context, templates) or EncryptedGallery.load(path)")
        self.name = name
        self.parameters = dict(parameters)
        self.threads = threads
        self._labels = list(labels)
        self._blocks = blocks                 # list of blocks, each a list of 128 Ciphertext
        self._serialized = serialized         # (bytes array, offsets) until bound to a context

    # ------------------------------------------------------------------ enrollment (client side)
    @classmethod
    def enroll(cls, context, templates, labels=None, *, name: str = "face-gallery",
               threads: Optional[int] = None) -> "EncryptedGallery":
        """Encrypt ``templates`` ((n, 128), normalised here) with ``context``
        (the client's; it must have :data:`FACE_PARAMETERS`). The gallery holds
        them under ``context.public()``: it carries no secret key."""
        parameters = dict(FACE_PARAMETERS)
        check_context(context, parameters)
        arr = as_templates(templates)
        labels = as_labels(labels, len(arr))
        columns = block_columns(arr, context.slots)
        public = context.public()

        def encrypt_block(b):
            return [public.adopt(context.encrypt(col.astype(np.float64))) for col in columns[b]]

        blocks = map_blocks(encrypt_block, columns.shape[0], threads)
        return cls(name=name, parameters=parameters, labels=labels, blocks=blocks, threads=threads, _private=True)

    def select(self, labels) -> "EncryptedGallery":
        """The gallery of the blocks holding templates with these labels, for
        1:1 verification. A block cannot be cut without rotations, so the
        other templates of those blocks come along (in its ``labels``):
        decide with :func:`~securinfer.apps.face.client.verify`."""
        wanted = {labels} if isinstance(labels, str) else {str(x) for x in labels}
        chosen = sorted({i // self.slots for i, label in enumerate(self._labels) if label in wanted})
        if not chosen:
            raise ParameterError(f"no template has label(s) {sorted(wanted)}")
        if self._blocks is None:
            raise ParameterError("bind the gallery to a context first (bind(context) or a first query)")
        sub_labels = [label for b in chosen for label in self._labels[b * self.slots:(b + 1) * self.slots]]
        return EncryptedGallery(name=self.name, parameters=self.parameters, labels=sub_labels,
                                blocks=[self._blocks[b] for b in chosen], threads=self.threads, _private=True)

    # ------------------------------------------------------------------ facts
    def __len__(self) -> int:
        return len(self._labels)

    @property
    def slots(self) -> int:
        return self.parameters["poly_degree"] // 2

    @property
    def blocks(self) -> int:
        return -(-len(self) // self.slots)

    @property
    def labels(self) -> List[str]:
        return list(self._labels)

    @property
    def nbytes(self) -> dict:
        """Memory held by the ciphertexts (in memory, or as bytes before binding)."""
        if self._blocks is not None:
            return {"ciphertexts": int(sum(c.nbytes for block in self._blocks for c in block))}
        return {"serialized": int(self._serialized[0].nbytes)}

    def __repr__(self) -> str:
        return f"<securinfer.apps.face.EncryptedGallery {self.name!r} templates={len(self)} blocks={self.blocks}>"

    # ------------------------------------------------------------------ server computation
    def bind(self, context) -> None:
        """Load the saved ciphertexts under ``context`` (the enrolling client's
        public context); ``ContextMismatchError`` if they belong to other keys."""
        from ...ciphertext import Ciphertext

        check_context(context, self.parameters)
        if self._blocks is not None:
            if self._blocks[0][0].key_id != context.key_id:
                raise ContextMismatchError("the gallery was encrypted under other keys than the probe")
            return
        data, offsets = self._serialized

        def load_block(b):
            first = b * EMBEDDING_SIZE
            return [Ciphertext.load(data[offsets[i]:offsets[i + 1]].tobytes(), context)
                    for i in range(first, first + EMBEDDING_SIZE)]

        self._blocks = map_blocks(load_block, self.blocks, self.threads)
        self._serialized = None

    def __call__(self, probe_cts) -> list:
        """Encrypted scores: ciphertext b, slot j holds the cosine similarity
        of the probe with template ``b * slots + j`` (one level consumed)."""
        check_probe(probe_cts, self.parameters)
        self.bind(probe_cts[0].context)
        # ``threads`` groups of consecutive blocks, each in one core call: the
        # probe's 128 ciphertexts are read from memory once per group.
        groups = max(1, min(self.threads or 1, self.blocks))
        bounds = [self.blocks * g // groups for g in range(groups + 1)]
        parts = map_blocks(lambda g: sum_of_products_many(probe_cts, self._blocks[bounds[g]:bounds[g + 1]]),
                           groups, groups)
        return [y for part in parts for y in part]

    # ------------------------------------------------------------------ servable contract
    def required_rotations(self) -> List[int]:
        """None: scoring uses no rotation (only the relinearisation key)."""
        return []

    def describe(self) -> dict:
        from .describe import description

        return description(self.name, self.parameters, len(self), encrypted_templates=True)

    def save(self, target) -> None:
        """Ciphertext bytes, labels and parameters to one file of the
        servable store (a path or a binary file; no keys, no pickle)."""
        if self._blocks is None:
            data, offsets = self._serialized
        else:
            parts = [c.serialize() for block in self._blocks for c in block]
            offsets = np.zeros(len(parts) + 1, dtype=np.int64)
            offsets[1:] = np.cumsum([len(p) for p in parts])
            data = np.frombuffer(b"".join(parts), dtype=np.uint8)
        store.write(target, self.kind, {"name": self.name, "parameters": self.parameters, "labels": self._labels},
                    ciphertexts=data, offsets=offsets)

    @classmethod
    def load(cls, source, context=None, *, threads: Optional[int] = None) -> "EncryptedGallery":
        """A gallery from :meth:`save`'s file; its ciphertexts are validated
        against ``context`` now, or against the first probe's context."""
        from .describe import check_saved

        meta, arrays = store.read_any(source)
        check_saved(meta, cls.kind, arrays, ["ciphertexts", "offsets"])
        data, offsets = arrays["ciphertexts"], arrays["offsets"]
        slots = meta["parameters"]["poly_degree"] // 2
        expected = -(-len(meta["labels"]) // slots) * EMBEDDING_SIZE + 1
        if (data.dtype != np.uint8 or data.ndim != 1 or offsets.dtype != np.int64 or offsets.shape != (expected,)
                or offsets[0] != 0 or offsets[-1] != data.size or np.any(np.diff(offsets) <= 0)):
            raise SerializationError("saved gallery ciphertexts do not match its labels")
        gallery = cls(name=meta["name"], parameters=meta["parameters"], labels=[str(x) for x in meta["labels"]],
                      serialized=(data, offsets), threads=threads, _private=True)
        if context is not None:
            gallery.bind(context)
        return gallery
