"""Sessions: a client's uploaded public context, bounded in number and time.

A session id is ``secrets.token_urlsafe(32)`` (256 random bits): knowing it
is what lets a request use the session's keys, so it is never guessable and
never derived from anything. The store holds at most ``max_sessions``
(least recently used evicted first) and drops a session idle for longer
than ``ttl`` seconds; a dropped session's context is released at once (a
request already running on it keeps it alive until it finishes), so its
evaluation keys are freed.

Example:
    >>> from securinfer.serve.sessions import SessionStore
    >>> store = SessionStore(max_sessions=2, ttl=60.0)
    >>> a = store.add("context-a", nbytes=10); b = store.add("context-b", nbytes=20)
    >>> _ = store.get(a)                    # a is now the most recently used
    >>> c = store.add("context-c", nbytes=30)
    >>> store.get(b) is None, store.get(a).context, store.stats()["evicted"]
    (True, 'context-a', 1)
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..errors import ParameterError

__all__ = ["Session", "SessionStore"]


@dataclass
class Session:
    """One client's keys: ``context`` is the loaded public context."""

    id: str
    context: Any
    nbytes: int
    created: float
    last_used: float = field(default=0.0)


class SessionStore:
    """Thread-safe LRU + time-to-live map of session id -> :class:`Session`."""

    def __init__(self, max_sessions: int = 64, ttl: float = 900.0, clock: Callable[[], float] = time.monotonic):
        if not isinstance(max_sessions, int) or max_sessions < 1:
            raise ParameterError("max_sessions must be a positive int")
        if not ttl > 0:
            raise ParameterError("ttl must be positive (seconds)")
        self.max_sessions, self.ttl, self._clock = max_sessions, float(ttl), clock
        self._sessions: "OrderedDict[str, Session]" = OrderedDict()
        self._lock = threading.Lock()
        self._counts = {"created": 0, "evicted": 0, "expired": 0, "closed": 0}

    def add(self, context, nbytes: int) -> str:
        """Store a context; returns its new session id (evicting the least
        recently used session when full)."""
        now = self._clock()
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._expire(now)
            while len(self._sessions) >= self.max_sessions:
                self._sessions.popitem(last=False)
                self._counts["evicted"] += 1
            self._sessions[sid] = Session(sid, context, int(nbytes), now, now)
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

    def remove(self, sid: str) -> bool:
        """Close a session; False when there was none."""
        with self._lock:
            if self._sessions.pop(sid, None) is None:
                return False
            self._counts["closed"] += 1
            return True

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()

    def _expire(self, now: float) -> None:
        # Entries are in last-use order: stop at the first live one.
        while self._sessions:
            sid, oldest = next(iter(self._sessions.items()))
            if now - oldest.last_used <= self.ttl:
                break
            del self._sessions[sid]
            self._counts["expired"] += 1

    def stats(self) -> dict:
        """Live sessions, their key bytes, and lifetime counts."""
        with self._lock:
            self._expire(self._clock())
            return {"active": len(self._sessions), "key_bytes": sum(s.nbytes for s in self._sessions.values()),
                    **self._counts}
