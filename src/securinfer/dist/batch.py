"""Batch inference on a Dask cluster: one servable (an ``nn.EncryptedModel``,
a face ``Gallery`` or ``EncryptedGallery``) copied to every worker once,
many groups of ciphertexts (batches for a model, probes for a gallery)
spread across the workers, the answers gathered in order.

The servable travels as its kind and the bytes of its saved file
(:func:`securinfer.servable.to_bytes`: weights and plan, never a key) and is
loaded once per worker through the servable registry, where it keeps what it
prepares (encoded weights, encoded columns) for the next groups. Each group
travels in the one ciphertext batch format (:mod:`securinfer.ciphertext_batch`)
and its public context once per worker.

Example (plain code: it needs a cluster)::

    from securinfer import dist
    runner = dist.BatchRunner(client, model)               # model = securinfer.nn.compile(...)
    groups = [model.encrypt(ctx.public(), X) for X in batches]
    outputs = runner.map(groups)                            # one list of ciphertexts per group, in order
    predictions = [model.decrypt(ctx, out) for out in outputs]
"""

from __future__ import annotations

import uuid
from typing import List, Optional, Sequence

from ..errors import ParameterError
from ..servable import check_servable, registry
from . import tasks
from .sharded_gallery import cluster_workers
from .shipping import ContextShipper, broadcast, check_client
from ..ciphertext_batch import pack, unpack
from .wire import probe_context
from .._validation import is_int


class BatchRunner:
    """Runs ``servable(cts)`` for many groups of ciphertexts on the cluster's
    workers (or ``workers``), ``threads`` core threads per worker (default:
    the worker's). Implements the servable contract on one group."""

    def __init__(self, client, servable, *, workers: Optional[Sequence[str]] = None,
                 threads: Optional[int] = None):
        check_client(client)
        check_servable(servable)
        if registry.servable_class(servable.kind) is not type(servable):
            raise ParameterError(f"{type(servable).__name__} is not the registered class of kind "
                                 f"{servable.kind!r}: register it (securinfer.servable.register)")
        if threads is not None and (not is_int(threads) or threads < 1):
            raise ParameterError("threads must be a positive int")
        self.client = client
        self.servable = servable
        self.threads = threads
        self.workers = cluster_workers(client, workers)
        self._kind = servable.kind
        self._id = f"securinfer-servable-{uuid.uuid4().hex}"
        self._saved = broadcast(client, registry.to_bytes(servable), self.workers)
        self._contexts = ContextShipper(client)

    def map(self, groups: Sequence[Sequence]) -> List[list]:
        """``[servable(group) for group in groups]``, computed on the workers."""
        groups = list(groups)
        if not groups:
            return []
        contexts = [probe_context(g) for g in groups]
        blobs = self.client.scatter([pack(list(g)) for g in groups], workers=self.workers, hash=False)
        futures = []
        for blob, context in zip(blobs, contexts):
            key, ctx_future = self._contexts.ship(context, self.workers)
            futures.append(self.client.submit(tasks.run_servable, self._id, self._kind, self._saved,
                                              self.threads, key, ctx_future, blob, workers=self.workers,
                                              pure=False))
        answers = self.client.gather(futures)
        return [unpack(answer, context) for answer, context in zip(answers, contexts)]

    def __call__(self, cts) -> list:
        return self.map([cts])[0]

    def describe(self) -> dict:
        return self.servable.describe()

    def required_rotations(self) -> List[int]:
        return self.servable.required_rotations()

    def close(self) -> None:
        """Drop the servable on the workers."""
        self.client.run(tasks.release, self._id, workers=self.workers)
        self._contexts.clear()

    def __enter__(self) -> "BatchRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def map_groups(client, servable, groups: Sequence[Sequence], **kwargs) -> List[list]:
    """One-shot :meth:`BatchRunner.map` (the servable is dropped afterwards)."""
    with BatchRunner(client, servable, **kwargs) as runner:
        return runner.map(groups)
