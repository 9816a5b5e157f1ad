"""State a Dask worker keeps across calls: public contexts, shards, servables
and the last probes, so repeated identifications neither reload a context
nor re-encode a gallery.

Each worker has one :class:`WorkerState`, found by the worker's address
(several threaded workers may share a process); outside a worker (plain
function calls, tests) one state named ``"local"`` is used. Contexts are
held strongly here, which also keeps them in securinfer's registry, so a
ciphertext unpickled on this worker finds its context.

Example:
    >>> import securinfer as si
    >>> from securinfer.dist.wire import context_key, public_bytes
    >>> from securinfer.dist.worker_cache import state
    >>> ctx = si.Context.create(preset="fast")
    >>> server = state().context(context_key(ctx), public_bytes(ctx))
    >>> server.has_secret_key, state().context(context_key(ctx), None) is server
    (False, True)
"""

from __future__ import annotations

import hashlib
import threading
from typing import Callable, Dict, Optional

from ..context import Context
from .._lru import LRU
from ..errors import SerializationError
from ..ciphertext_batch import unpack
from .wire import ContextKey, context_key, load_public

# Contexts and probes are small in number per worker; keep a few, drop the oldest.
MAX_CONTEXTS = 8
MAX_PROBES = 4

_STATES: Dict[str, "WorkerState"] = {}
_STATES_LOCK = threading.Lock()


class WorkerState:
    """One worker's caches (thread-safe)."""

    def __init__(self):
        self._lock = threading.RLock()
        self._contexts = LRU(MAX_CONTEXTS)      # ContextKey -> public Context
        self._probes = LRU(MAX_PROBES)          # probe id -> its ciphertexts
        self.objects: Dict[str, object] = {}     # shards and servables by id

    def context(self, key: ContextKey, data: Optional[bytes]) -> Context:
        """The cached public context ``key``, loaded from ``data`` (its
        public bytes) the first time; never one holding a secret key."""
        key = (bytes(key[0]), int(key[1]), bytes(key[2]))
        hit = self._contexts.get(key)
        if hit is not None:
            return hit
        if data is None:
            raise SerializationError("this worker has not received the context of these ciphertexts")
        if hashlib.sha256(data).digest() != key[2]:
            raise SerializationError("the context bytes do not match the context named by the task")
        context = load_public(data)
        if context_key(context, data) != key:
            raise SerializationError("the context bytes do not match the context named by the task")
        return self._contexts.put(key, context)

    def contexts(self) -> list:
        return self._contexts.values()

    def probe(self, probe_id: str, blob: bytes, context: Context) -> list:
        """The ciphertexts packed in ``blob``, loaded once per worker (the
        shards of one worker share them)."""
        return self._probes.get_or_make(probe_id, lambda: unpack(blob, context))

    def get_or_build(self, object_id: str, build: Callable[[], object]) -> object:
        """The object cached under ``object_id``, built once by ``build()``."""
        with self._lock:
            obj = self.objects.get(object_id)
            if obj is None:
                obj = self.objects[object_id] = build()
            return obj

    def drop(self, prefix: str) -> int:
        """Forget the objects whose ids start with ``prefix``; how many."""
        with self._lock:
            gone = [k for k in self.objects if k.startswith(prefix)]
            for k in gone:
                del self.objects[k]
            return len(gone)


def worker_address() -> str:
    """This worker's address, or ``"local"`` outside a Dask worker."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "local"


def worker_threads() -> int:
    """Threads this worker runs tasks on (securinfer's thread count outside a worker)."""
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError):
        from .._system import get_num_threads

        return get_num_threads()


def state(address: Optional[str] = None) -> WorkerState:
    """The state of the worker at ``address`` (default: the calling worker's)."""
    address = worker_address() if address is None else address
    with _STATES_LOCK:
        found = _STATES.get(address)
        if found is None:
            found = _STATES[address] = WorkerState()
        return found
