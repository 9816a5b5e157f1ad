"""A budget of queries per session and per token, for servables whose every
answer leaks something (face galleries: at least which templates matched).

Encryption hides the probe, not the answer: a client that may ask without
limit learns, query after query, what the answers say about the server's
data (with ``reveal="scores"`` 128 queries copy a face gallery; with
``reveal="match"`` each query still tells which templates matched). The
budget bounds that: at most ``per_session`` queries in one session and
``per_token`` queries per bearer token within a sliding ``window`` of
seconds (default: for the life of the service). A session is cheap to open
again, so ``per_token`` is the bound that counts; ``per_session`` limits
what one set of keys may ask.

A query is counted when it is accepted, before it runs (a failed query
counts: its answer may still have been computed). By default the budget
applies to the servables whose ``describe()["kind"]`` is ``"gallery"``.

Example:
    >>> from securinfer.serve.query_budget import QueryBudget, BudgetExceeded
    >>> budget = QueryBudget(per_session=2, per_token=3)
    >>> budget.charge("alice", "s1"); budget.charge("alice", "s1")
    >>> try:
    ...     budget.charge("alice", "s1")
    ... except BudgetExceeded as e:
    ...     e.scope
    'session'
    >>> budget.charge("alice", "s2")
    >>> budget.remaining("alice", "s3")
    {'session': 2, 'token': 0}
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from typing import Callable, Iterable, Optional

from ..errors import ParameterError, SecurinferError
from .._validation import is_int

__all__ = ["QueryBudget", "BudgetExceeded"]


class BudgetExceeded(SecurinferError):
    """A query beyond the session's or the token's budget (``scope``: ``"session"`` or ``"token"``)."""

    def __init__(self, scope: str, limit: int, retry_after: Optional[float]):
        self.scope, self.limit, self.retry_after = scope, limit, retry_after
        when = "" if retry_after is None else f"; retry in {retry_after:.0f} s"
        super().__init__(f"query budget of this {scope} spent ({limit} queries){when}")


def _limit(value, what: str) -> Optional[int]:
    if value is None:
        return None
    if not is_int(value) or value < 1:
        raise ParameterError(f"{what} must be a positive int or None")
    return value


class QueryBudget:
    """Counts queries per session and per token; :meth:`charge` refuses past a limit.

    ``per_session``, ``per_token``: limits (None: none); ``window``: seconds
    of the token's sliding window (None: the service's life);
    ``kinds``: ``describe()["kind"]`` values the budget applies to;
    ``max_tracked_sessions``: counts kept (oldest forgotten first; keep it
    far above the session store's size so a live session is never forgotten).
    """

    def __init__(self, per_session: Optional[int] = None, per_token: Optional[int] = None, *,
                 window: Optional[float] = None, kinds: Iterable[str] = ("gallery",),
                 max_tracked_sessions: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self.per_session = _limit(per_session, "per_session")
        self.per_token = _limit(per_token, "per_token")
        if window is not None and not (isinstance(window, (int, float)) and window > 0):
            raise ParameterError("window must be a positive number of seconds or None")
        self.window = None if window is None else float(window)
        self.kinds = frozenset(kinds)
        self._max_sessions = _limit(max_tracked_sessions, "max_tracked_sessions")
        self._clock = clock
        self._sessions: "OrderedDict[str, int]" = OrderedDict()
        self._tokens: dict = {}              # tenant -> deque of query times (at most per_token)
        self._lock = threading.Lock()

    def applies(self, servable) -> bool:
        """Whether queries to ``servable`` are counted."""
        try:
            return servable.describe().get("kind") in self.kinds
        except Exception:       # a servable that cannot describe itself is counted
            return True

    def _token_times(self, tenant: str, now: float) -> deque:
        times = self._tokens.setdefault(tenant, deque())
        if self.window is not None:
            while times and times[0] <= now - self.window:
                times.popleft()
        return times

    def charge(self, tenant: str, session: str) -> None:
        """Count one query of ``session`` under ``tenant``; ``BudgetExceeded`` (nothing counted) past a limit."""
        with self._lock:
            now = self._clock()
            used = self._sessions.get(session, 0)
            if self.per_session is not None and used >= self.per_session:
                raise BudgetExceeded("session", self.per_session, None)
            times = self._token_times(tenant, now)
            if self.per_token is not None and len(times) >= self.per_token:
                retry = None if self.window is None else times[0] + self.window - now
                raise BudgetExceeded("token", self.per_token, retry)
            self._sessions[session] = used + 1
            self._sessions.move_to_end(session)
            while len(self._sessions) > self._max_sessions:
                self._sessions.popitem(last=False)
            if self.per_token is not None:
                times.append(now)

    def remaining(self, tenant: str, session: str) -> dict:
        """Queries left to this session and this token (None: unlimited)."""
        with self._lock:
            times = self._token_times(tenant, self._clock())
            return {"session": None if self.per_session is None else self.per_session - self._sessions.get(session, 0),
                    "token": None if self.per_token is None else self.per_token - len(times)}
