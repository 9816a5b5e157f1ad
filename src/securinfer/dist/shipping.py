"""The driver's side of sending things to workers once: public contexts (one
copy per worker, reused by every later call with the same keys) and probes
(one copy per worker, shared by all the shards that worker holds).

Example (plain code: it needs a cluster)::

    contexts = ContextShipper(client)
    key, future = contexts.ship(probe[0].context, workers)   # scattered once per worker
    key, future = contexts.ship(probe[0].context, workers)   # cached: nothing sent
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

from .._lru import LRU
from ..context import Context
from ..errors import ParameterError
from ..ciphertext_batch import pack
from .wire import ContextKey, context_key, public_bytes

# Futures kept alive on the driver (each pins one public context on the workers).
MAX_SHIPPED_CONTEXTS = 4


def check_client(client) -> None:
    """``ParameterError`` unless ``client`` is a ``distributed.Client``."""
    from distributed import Client

    if not isinstance(client, Client):
        raise ParameterError(f"expected a distributed.Client, got {type(client).__name__}")


def broadcast(client, data: bytes, workers: Sequence[str]):
    """``data`` scattered to every one of ``workers`` (one copy each); a future."""
    return client.scatter(data, workers=list(workers), broadcast=True, hash=False)


class ContextShipper:
    """Public contexts scattered to workers, remembered by (parameters, key id, content digest)."""

    def __init__(self, client):
        self.client = client
        self._shipped = LRU(MAX_SHIPPED_CONTEXTS)    # ContextKey -> (future, workers holding it)

    def ship(self, context: Context, workers: Sequence[str]) -> Tuple[ContextKey, object]:
        """The context's key and a future of its public bytes, present on ``workers``."""
        key = context_key(context)
        hit = self._shipped.get(key)
        if hit is not None and hit[1] >= frozenset(workers):
            return key, hit[0]
        data = public_bytes(context)
        key = context_key(context, data)     # the digest of exactly the bytes sent
        future = broadcast(self.client, data, workers)
        self._shipped.put(key, (future, frozenset(workers)), replace=True)
        return key, future

    def clear(self) -> None:
        self._shipped.clear()


def ship_ciphertexts(client, cts: List, workers: Sequence[str]):
    """The ciphertexts packed (:func:`~securinfer.ciphertext_batch.pack`) and scattered
    to ``workers``; a future (its ``key`` names the probe on the workers)."""
    return broadcast(client, pack(cts), workers)
