"""A face gallery sharded across Dask workers.

The gallery is cut into shards of whole blocks (``slots`` templates each);
each shard lives on one worker (pinned there), which keeps its templates
and their encoded columns (or its encrypted templates) across calls. An
identification scatters the public context (once per worker and key set)
and the packed probe (once per worker), runs one task per shard, and
gathers the score ciphertexts back in block order: the answer has the same
layout as a single-process :class:`securinfer.apps.face.Gallery`, so the
face client functions (``decrypt_scores``, ``top_k``) work unchanged on
:meth:`ShardedGallery.describe`.

Example (plain code: it needs a cluster)::

    from distributed import Client
    from securinfer import dist
    from securinfer.apps import face

    client = Client("tcp://scheduler:8786")
    gallery = dist.ShardedGallery.from_templates(client, templates, labels)      # or .from_files(...)
    ctx = face.create_context(gallery.describe())                                # client side
    scores = face.decrypt_scores(ctx, gallery.describe(), gallery(face.encrypt_probe(ctx, probe)))
    face.top_k(scores, 5, gallery.labels)
"""

from __future__ import annotations

import io
import uuid
from typing import List, Optional, Sequence

import numpy as np

from ..apps.face import EncryptedGallery, storage
from ..apps.face.describe import description
from ..apps.face.layout import as_labels, as_templates, check_probe
from ..apps.face.params import EMBEDDING_SIZE, FACE_PARAMETERS
from ..errors import ParameterError
from . import tasks
from .shipping import ContextShipper, check_client, ship_ciphertexts
from ..ciphertext_batch import unpack
from .wire import probe_context
from .._validation import is_int


def live_workers(client) -> List[str]:
    """The cluster's worker addresses, asked of the scheduler now (not
    ``client.scheduler_info()``, whose cached answer the client's periodic
    refresh can replace by one without workers)."""
    return sorted(client.sync(client.scheduler.identity, n_workers=-1)["workers"])


def cluster_workers(client, workers: Optional[Sequence[str]] = None) -> List[str]:
    """The workers to use: ``workers`` (checked against the cluster) or all of them, sorted."""
    known = live_workers(client)
    if not known:
        raise ParameterError("the Dask cluster has no workers")
    if workers is None:
        return known
    workers = [str(w) for w in workers]
    unknown = [w for w in workers if w not in known]
    if unknown or not workers:
        raise ParameterError(f"unknown workers {unknown}; the cluster has {known}")
    return workers


def split_blocks(blocks: int, shards: int) -> List[range]:
    """``blocks`` block indices in at most ``shards`` contiguous, nearly equal runs."""
    if not is_int(shards) or shards < 1:
        raise ParameterError("shards must be a positive int")
    edges = np.linspace(0, blocks, min(int(shards), blocks) + 1).round().astype(int)
    return [range(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


class ShardedGallery:
    """A gallery whose shards live on Dask workers; made by
    :meth:`from_templates`, :meth:`from_gallery`, :meth:`from_encrypted` or
    :meth:`from_files`. Call it like a gallery; :meth:`close` frees the workers."""

    kind = "gallery"

    def __init__(self, client, shards: list, metas: list, *, name: str, parameters: dict, labels=None,
                 _private: bool = False):
        if not _private:
            raise ParameterError("use ShardedGallery.from_templates / from_gallery / from_encrypted / from_files")
        self.client = client
        self.name = name
        self.parameters = dict(parameters)
        self._shards = shards                # (shard id, worker, kind, source, parameters, options)
        self._id = shards[0][0].rsplit("/", 1)[0] + "/"
        slots = self.slots
        counts = [m["count"] for m in metas]
        for i, (count, meta) in enumerate(zip(counts, metas)):
            if meta["parameters"] != self.parameters:
                raise ParameterError(f"shard {i} has parameters {meta['parameters']}, not {self.parameters}")
            if i < len(metas) - 1 and count % slots:
                raise ParameterError(f"shard {i} holds {count} templates, not a multiple of the block size "
                                     f"({slots}); only the last shard may hold a partial block")
        if len({m["encrypted"] for m in metas}) != 1:
            raise ParameterError("shards mix plaintext and encrypted templates")
        self.encrypted = metas[0]["encrypted"]
        self._count = int(sum(counts))
        self._blocks = [-(-c // slots) for c in counts]
        if labels is None:
            have = [m["labels"] for m in metas]
            labels = sum(have, []) if all(h is not None for h in have) else None
        self._labels = as_labels(labels, self._count)
        self._contexts = ContextShipper(client)

    # ------------------------------------------------------------------ construction
    @classmethod
    def _start(cls, client, sources, workers, *, name, parameters, labels, options):
        """Place source i on ``workers[i]``, build the shards there, check them."""
        gallery_id = f"securinfer-gallery-{uuid.uuid4().hex}"
        shards = [(f"{gallery_id}/{i}", worker, kind, source, parameters, options)
                  for i, ((kind, source), worker) in enumerate(zip(sources, workers))]
        futures = [client.submit(tasks.load_shard, sid, kind, source, params, opts, workers=[worker],
                                 allow_other_workers=False, pure=False)
                   for sid, worker, kind, source, params, opts in shards]
        try:
            metas = client.gather(futures)
            parameters = metas[0]["parameters"] if parameters is None else parameters
            return cls(client, shards, metas, name=name, parameters=parameters, labels=labels, _private=True)
        except BaseException:
            client.run(tasks.release, gallery_id, workers=sorted(set(workers)))
            raise

    @staticmethod
    def _options(threads, max_encoded_bytes) -> dict:
        for label, value in (("threads", threads), ("max_encoded_bytes", max_encoded_bytes)):
            if value is not None and (not is_int(value)
                                      or value < (1 if label == "threads" else 0)):
                raise ParameterError(f"{label} must be a {'positive' if label == 'threads' else 'non-negative'} int")
        return {"threads": threads, "max_encoded_bytes": max_encoded_bytes}

    @classmethod
    def from_templates(cls, client, templates, labels=None, *, shards: Optional[int] = None,
                       workers: Optional[Sequence[str]] = None, name: str = "face-gallery",
                       parameters: Optional[dict] = None, threads: Optional[int] = None,
                       max_encoded_bytes: Optional[int] = None) -> "ShardedGallery":
        """Plaintext templates ((n, 128), normalised here) cut into ``shards``
        (default: one per worker) of whole blocks, each scattered to its worker.
        ``threads``: core threads per worker (default: the worker's);
        ``max_encoded_bytes``: per shard, for encoded columns (default: no limit)."""
        check_client(client)
        options = cls._options(threads, max_encoded_bytes)
        parameters = dict(FACE_PARAMETERS if parameters is None else parameters)
        rows = as_templates(templates)
        labels = as_labels(labels, len(rows))
        workers = cluster_workers(client, workers)
        slots = parameters["poly_degree"] // 2
        runs = split_blocks(-(-len(rows) // slots), len(workers) if shards is None else shards)
        placed = [workers[i % len(workers)] for i in range(len(runs))]
        sources = [("templates", client.scatter(rows[r.start * slots:r.stop * slots], workers=[w], hash=False))
                   for r, w in zip(runs, placed)]
        return cls._start(client, sources, placed, name=name, parameters=parameters, labels=labels, options=options)

    @classmethod
    def from_gallery(cls, client, gallery, **kwargs) -> "ShardedGallery":
        """A single-process :class:`~securinfer.apps.face.Gallery` (or
        :class:`~securinfer.apps.face.EncryptedGallery`) spread over the cluster."""
        if isinstance(gallery, EncryptedGallery):
            return cls.from_encrypted(client, gallery, **kwargs)
        from ..apps.face import Gallery

        if not isinstance(gallery, Gallery):
            raise ParameterError(f"expected a face Gallery or EncryptedGallery, got {type(gallery).__name__}")
        kwargs.setdefault("name", gallery.name)
        return cls.from_templates(client, gallery.templates, gallery.labels, parameters=gallery.parameters,
                                  **kwargs)

    @classmethod
    def from_encrypted(cls, client, gallery: EncryptedGallery, *, shards: Optional[int] = None,
                       workers: Optional[Sequence[str]] = None, threads: Optional[int] = None) -> "ShardedGallery":
        """An :class:`~securinfer.apps.face.EncryptedGallery` cut into shards of
        whole blocks; each worker gets its blocks' serialized ciphertexts
        (no key travels with them; the probe's public context binds them)."""
        check_client(client)
        if not isinstance(gallery, EncryptedGallery):
            raise ParameterError(f"expected a face EncryptedGallery, got {type(gallery).__name__}")
        options = cls._options(threads, None)
        buffer = io.BytesIO()
        gallery.save(buffer)
        meta, arrays = storage.read(io.BytesIO(buffer.getvalue()), ["ciphertexts", "offsets"])
        data, offsets = arrays["ciphertexts"], arrays["offsets"]
        meta.pop("format_version")
        workers = cluster_workers(client, workers)
        slots = gallery.slots
        runs = split_blocks(gallery.blocks, len(workers) if shards is None else shards)
        placed = [workers[i % len(workers)] for i in range(len(runs))]
        sources = []
        for r, worker in zip(runs, placed):
            first, last = r.start * EMBEDDING_SIZE, r.stop * EMBEDDING_SIZE
            part = io.BytesIO()
            storage.write(part, dict(meta, labels=meta["labels"][r.start * slots:r.stop * slots]),
                          ciphertexts=data[offsets[first]:offsets[last]],
                          offsets=offsets[first:last + 1] - offsets[first])
            sources.append(("encrypted", client.scatter(part.getvalue(), workers=[worker], hash=False)))
        return cls._start(client, sources, placed, name=gallery.name, parameters=gallery.parameters,
                          labels=None, options=options)

    @classmethod
    def from_files(cls, client, paths: Sequence[str], *, workers: Optional[Sequence[str]] = None, labels=None,
                   name: str = "face-gallery", parameters: Optional[dict] = None, threads: Optional[int] = None,
                   max_encoded_bytes: Optional[int] = None) -> "ShardedGallery":
        """One shard per file, opened by the worker it is placed on (the path
        is the worker's): ``.npy`` (n, 128) templates, memory-mapped;
        ``Gallery.save`` / ``EncryptedGallery.save`` ``.npz`` files.
        ``workers[i]`` holds file i (default: round robin). Every file but the
        last must hold whole blocks (a multiple of ``slots`` templates)."""
        check_client(client)
        options = cls._options(threads, max_encoded_bytes)
        if isinstance(paths, (str, bytes)) or not len(paths):
            raise ParameterError("paths must be a non-empty list of file paths")
        all_workers = cluster_workers(client, workers)
        placed = all_workers if workers is not None else [all_workers[i % len(all_workers)] for i in range(len(paths))]
        if len(placed) != len(paths):
            raise ParameterError(f"{len(placed)} workers for {len(paths)} files")
        if parameters is None and any(str(p).endswith(".npy") for p in paths):
            parameters = dict(FACE_PARAMETERS)
        sources = [("file", str(p)) for p in paths]
        return cls._start(client, sources, placed, name=name, parameters=parameters, labels=labels, options=options)

    # ------------------------------------------------------------------ facts
    def __len__(self) -> int:
        return self._count

    @property
    def slots(self) -> int:
        return self.parameters["poly_degree"] // 2

    @property
    def blocks(self) -> int:
        return int(sum(self._blocks))

    @property
    def labels(self) -> List[str]:
        return list(self._labels)

    @property
    def workers(self) -> List[str]:
        """The workers holding shards (in shard order, repeats removed)."""
        return list(dict.fromkeys(s[1] for s in self._shards))

    @property
    def shards(self) -> List[dict]:
        """Where each shard lives and which blocks it holds."""
        first = np.concatenate([[0], np.cumsum(self._blocks)])
        return [{"id": s[0], "worker": s[1], "blocks": range(int(a), int(b))}
                for s, a, b in zip(self._shards, first[:-1], first[1:])]

    def __repr__(self) -> str:
        return (f"<securinfer.dist.ShardedGallery {self.name!r} templates={len(self)} blocks={self.blocks} "
                f"shards={len(self._shards)} workers={len(self.workers)}>")

    # ------------------------------------------------------------------ server computation
    def _submit(self, function, shard, *args):
        shard_id, worker, kind, source, parameters, options = shard
        return self.client.submit(function, shard_id, kind, source, parameters, options, *args, workers=[worker],
                                  allow_other_workers=False, pure=False)

    def _check_workers(self) -> None:
        """``ParameterError`` if a shard's worker left (its pinned tasks would wait for ever)."""
        if not self._shards:
            raise ParameterError("this gallery is closed")
        alive = set(live_workers(self.client))
        gone = [s[1] for s in self._shards if s[1] not in alive]
        if gone:
            raise ParameterError(f"workers {sorted(set(gone))} holding shards left the cluster; "
                                 "create the gallery again")

    def _check(self, probe_cts):
        check_probe(probe_cts, self.parameters)
        return probe_context(probe_cts)

    def prepare(self, context, level: Optional[int] = None) -> List[dict]:
        """Encode every shard's columns (or load its ciphertexts) for
        ``context`` now, on the workers; each shard's memory afterwards."""
        self._check_workers()
        key, ctx_future = self._contexts.ship(context, self.workers)
        return self.client.gather([self._submit(tasks.prepare_shard, s, key, ctx_future, level)
                                   for s in self._shards])

    def map(self, probes: Sequence[Sequence]) -> List[list]:
        """Score many probes (each a list of 128 ciphertexts), all submitted
        before any is gathered; the score lists in probe order."""
        probes = list(probes)
        contexts = [self._check(p) for p in probes]
        self._check_workers()
        workers = self.workers
        pending = []
        for probe, context in zip(probes, contexts):
            key, ctx_future = self._contexts.ship(context, workers)
            probe_future = ship_ciphertexts(self.client, list(probe), workers)
            pending.append([self._submit(tasks.score_shard, s, key, ctx_future, probe_future.key, probe_future)
                            for s in self._shards])
        answers = self.client.gather(pending)
        return [[ct for blob in blobs for ct in unpack(blob, context)] for blobs, context in zip(answers, contexts)]

    def __call__(self, probe_cts) -> list:
        """Encrypted scores, as a single-process gallery returns them:
        ciphertext b, slot j holds the probe's cosine similarity with
        template ``b * slots + j``."""
        return self.map([probe_cts])[0]

    def memory(self) -> dict:
        """Per worker: its process RSS and each of its shards' bytes
        (templates in memory, memory-mapped, encoded columns or ciphertexts)
        and the block encodings done."""
        if not self._shards:
            return {}
        return self.client.run(tasks.memory, self._id, workers=self.workers)

    def close(self) -> None:
        """Drop the shards on the workers and the driver's futures."""
        if self._shards:
            self.client.run(tasks.release, self._id, workers=self.workers)
        self._shards = []
        self._contexts.clear()

    def __enter__(self) -> "ShardedGallery":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ servable contract
    def required_rotations(self) -> List[int]:
        """None: scoring uses no rotation."""
        return []

    def describe(self) -> dict:
        return description(self.name, self.parameters, len(self), encrypted_templates=self.encrypted)
