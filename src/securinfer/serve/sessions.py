"""Sessions: clients' uploaded public contexts, bounded in bytes, number and
time, fairly shared between token holders.

A session id is ``secrets.token_urlsafe(32)`` (256 random bits): knowing it
is what lets a request use the session's keys, so it is never guessable and
never derived from anything. Each session belongs to a *tenant* (the token
that uploaded it). The store bounds:

* ``max_bytes``: the key bytes of all sessions together;
* ``tenant_bytes``: the key bytes of one tenant's sessions (a quota);
* ``max_sessions``: their number;
* ``ttl``: idle seconds before a session is dropped.

A new session that would pass its tenant's quota first evicts that tenant's
own least recently used sessions; one that would pass a global bound then
evicts the least recently used session of the tenant holding the most bytes
(the newcomer's tenant included), so a token holder who uploads in a loop
only ever evicts its own sessions while the others stay within their share.
A dropped session's context is released at once (a request already running
on it keeps it alive until it finishes), so its evaluation keys are freed.

Example:
    >>> from securinfer.serve.sessions import SessionStore
    >>> store = SessionStore(max_sessions=8, ttl=60.0, max_bytes=100, tenant_bytes=60)
    >>> honest = store.add("honest-context", nbytes=40, tenant="alice")
    >>> loop = [store.add(f"junk-{i}", nbytes=30, tenant="mallory") for i in range(5)]
    >>> store.get(honest).context, sum(store.get(s) is not None for s in loop)
    ('honest-context', 2)
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..errors import ParameterError
from .._validation import is_int

__all__ = ["Session", "SessionStore", "QuotaExceeded"]


class QuotaExceeded(ParameterError):
    """A single context larger than a tenant may hold (the service answers 413)."""


@dataclass
class Session:
    """One client's keys: ``context`` is the loaded public context."""

    id: str
    context: Any
    nbytes: int
    created: float
    tenant: str = ""
    last_used: float = field(default=0.0)


class SessionStore:
    """Thread-safe store of session id -> :class:`Session` (LRU within bounds)."""

    def __init__(self, max_sessions: int = 64, ttl: float = 900.0, clock: Callable[[], float] = time.monotonic, *,
                 max_bytes: Optional[int] = None, tenant_bytes: Optional[int] = None):
        if not is_int(max_sessions) or max_sessions < 1:
            raise ParameterError("max_sessions must be a positive int")
        if not ttl > 0:
            raise ParameterError("ttl must be positive (seconds)")
        for name, value in (("max_bytes", max_bytes), ("tenant_bytes", tenant_bytes)):
            if value is not None and (not is_int(value) or value < 1):
                raise ParameterError(f"{name} must be a positive int or None")
        self.max_sessions, self.ttl, self._clock = max_sessions, float(ttl), clock
        self.max_bytes = max_bytes
        self.tenant_bytes = tenant_bytes if tenant_bytes is not None else max_bytes
        self._sessions: "OrderedDict[str, Session]" = OrderedDict()
        self._bytes_of: dict = {}            # tenant -> key bytes held
        self._lock = threading.Lock()
        self._counts = {"created": 0, "evicted": 0, "expired": 0, "closed": 0}

    def add(self, context, nbytes: int, tenant: str = "") -> str:
        """Store a context for ``tenant``; returns its new session id (evicting
        as the class docstring says). ``QuotaExceeded`` when ``nbytes`` alone
        is more than a tenant may hold."""
        nbytes = int(nbytes)
        if self.max_bytes is not None and nbytes > self.max_bytes:
            raise QuotaExceeded(f"a context of {nbytes} bytes is more than this server holds ({self.max_bytes} bytes)")
        if self.tenant_bytes is not None and nbytes > self.tenant_bytes:
            raise QuotaExceeded(f"a context of {nbytes} bytes is more than one token may hold here "
                                f"({self.tenant_bytes} bytes)")
        now = self._clock()
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._expire(now)
            while self.tenant_bytes is not None and self._bytes_of.get(tenant, 0) + nbytes > self.tenant_bytes:
                self._evict_oldest_of(tenant)
            while len(self._sessions) >= self.max_sessions or \
                    (self.max_bytes is not None and self._total() + nbytes > self.max_bytes):
                self._evict_oldest_of(self._largest_tenant(tenant, nbytes))
            self._sessions[sid] = Session(sid, context, nbytes, now, tenant, now)
            self._bytes_of[tenant] = self._bytes_of.get(tenant, 0) + nbytes
            self._counts["created"] += 1
        return sid

    def get(self, sid: str) -> Optional[Session]:
        """The live session (refreshing its idle timer), or None."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            session = self._sessions.get(sid)
            if session is not None:
                session.last_used = now
                self._sessions.move_to_end(sid)
            return session

    def remove(self, sid: str, tenant: Optional[str] = None) -> bool:
        """Close a session (only ``tenant``'s, when given); False when there was none."""
        with self._lock:
            session = self._sessions.get(sid)
            if session is None or (tenant is not None and session.tenant != tenant):
                return False
            self._drop(sid)
            self._counts["closed"] += 1
            return True

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()
            self._bytes_of.clear()

    # ------------------------------------------------------------------ inside the lock
    def _total(self) -> int:
        return sum(self._bytes_of.values())

    def _drop(self, sid: str) -> Session:
        session = self._sessions.pop(sid)
        left = self._bytes_of[session.tenant] - session.nbytes
        if left:
            self._bytes_of[session.tenant] = left
        else:
            del self._bytes_of[session.tenant]
        return session

    def _largest_tenant(self, newcomer: str, nbytes: int) -> str:
        # The newcomer counts with its new session, so a loop evicts itself first.
        held = dict(self._bytes_of)
        held[newcomer] = held.get(newcomer, 0) + nbytes
        candidates = [t for t in held if any(s.tenant == t for s in self._sessions.values())]
        return max(candidates, key=lambda t: held[t])

    def _evict_oldest_of(self, tenant: str) -> None:
        for sid, session in self._sessions.items():  # least recently used first
            if session.tenant == tenant:
                self._drop(sid)
                self._counts["evicted"] += 1
                return
        raise AssertionError("no session of this tenant to evict")  # callers check there is one

    def _expire(self, now: float) -> None:
        # Entries are in last-use order: stop at the first live one.
        while self._sessions:
            sid, oldest = next(iter(self._sessions.items()))
            if now - oldest.last_used <= self.ttl:
                break
            self._drop(sid)
            self._counts["expired"] += 1

    def stats(self) -> dict:
        """Live sessions, their key bytes, tenants, and lifetime counts."""
        with self._lock:
            self._expire(self._clock())
            return {"active": len(self._sessions), "key_bytes": self._total(), "tenants": len({s.tenant for s in self._sessions.values()}),
                    "max_bytes": self.max_bytes, "tenant_bytes": self.tenant_bytes, **self._counts}
