"""The functions Dask runs on the workers (module-level, so tasks name them
by reference). They take bytes and small specs, keep what they build in the
worker's :mod:`~securinfer.dist.worker_cache`, and return bytes.

Every task that needs a shard or a servable also carries how to build it,
so a worker that lost its cache (restarted) rebuilds it instead of failing.
"""

from __future__ import annotations

import gc
from typing import Optional

from .._system import get_num_threads, set_num_threads
from ..context import Context
from ..servable import registry
from .shard import build_shard
from ..ciphertext_batch import pack, unpack
from .worker_cache import state, worker_threads


def _use_threads(threads: Optional[int]) -> int:
    """Run the core on this worker's threads (not on every core of the
    machine: other workers share it); returns the count."""
    threads = worker_threads() if threads is None else int(threads)
    if get_num_threads() != threads:
        set_num_threads(threads)
    return threads


def _shard(shard_id, spec):
    kind, source, parameters, options = spec
    threads = _use_threads(options.get("threads"))
    return state().get_or_build(shard_id, lambda: build_shard(
        kind, source, parameters, max_encoded_bytes=options.get("max_encoded_bytes"), threads=threads))


def load_shard(shard_id: str, kind: str, source, parameters, options: dict) -> dict:
    """Build (or find) a shard; what the driver needs to know of it."""
    shard = _shard(shard_id, (kind, source, parameters, options))
    return {"count": len(shard), "labels": shard.labels, "parameters": shard.parameters,
            "encrypted": shard.encrypted}


def prepare_shard(shard_id: str, kind: str, source, parameters, options: dict, context_key, context_bytes,
                  level: Optional[int]) -> dict:
    """Encode (or bind) a shard for a context now; its memory afterwards."""
    shard = _shard(shard_id, (kind, source, parameters, options))
    shard.prepare(state().context(context_key, context_bytes), level)
    return shard.nbytes


def score_shard(shard_id: str, kind: str, source, parameters, options: dict, context_key, context_bytes,
                probe_id: str, probe_blob: bytes) -> bytes:
    """The shard's score ciphertexts (block order) for a packed probe."""
    shard = _shard(shard_id, (kind, source, parameters, options))
    st = state()
    probe = st.probe(probe_id, probe_blob, st.context(context_key, context_bytes))
    return pack(shard.score(probe))


def run_servable(object_id: str, kind: str, saved: bytes, threads: Optional[int], context_key,
                 context_bytes, blob: bytes) -> bytes:
    """A servable of a registered ``kind`` (loaded once per worker from its
    saved bytes) on one packed group of ciphertexts."""
    _use_threads(threads)
    st = state()
    servable = st.get_or_build(object_id, lambda: registry.from_bytes(kind, saved))
    return pack(servable(unpack(blob, st.context(context_key, context_bytes))))


def _address(dask_worker) -> Optional[str]:
    # client.run hands the worker in; get_worker() works only inside tasks.
    return None if dask_worker is None else dask_worker.address


def memory(prefix: str, dask_worker=None) -> dict:
    """This worker's process memory (RSS) and, for each cached shard whose
    id starts with ``prefix``, its bytes and encodings (run with ``client.run``)."""
    import psutil

    st = state(_address(dask_worker))
    objects = {k: dict(getattr(v, "stats", {})) for k, v in list(st.objects.items()) if k.startswith(prefix)}
    return {"rss": int(psutil.Process().memory_info().rss), "objects": objects}


def release(prefix: str, dask_worker=None) -> int:
    """Forget the cached objects whose ids start with ``prefix`` (run with ``client.run``)."""
    return state(_address(dask_worker)).drop(prefix)


def audit_contexts(dask_worker=None) -> dict:
    """Every securinfer context alive in this worker process, and whether
    any of them holds a secret key (there must be none; run with ``client.run``)."""
    contexts = [obj for obj in gc.get_objects() if isinstance(obj, Context)]
    return {"contexts": len(contexts), "secret_keys": sum(1 for c in contexts if c.has_secret_key),
            "cached": len(state(_address(dask_worker)).contexts())}
