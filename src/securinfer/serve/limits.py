"""Bounds on work in flight: how many bodies may be read (and held) at once,
in all and per token, so that uploads held open cost at most a known number
of bytes and one token holder cannot take every slot.

A request over its token's share is answered at once with 503 ``busy`` and
``Retry-After``. A request within its share that finds every slot taken
waits for one, first come first served, for at most ``wait`` seconds (then
503): it has not sent its body yet, so waiting costs its socket and the
server's small read buffer, not its bytes. Time is bounded separately: every
body must arrive within the service's ``body_timeout``
(:mod:`securinfer.serve.bodies`), headers within ``header_timeout``
(:mod:`securinfer.serve.protocol`).

Example:
    >>> import asyncio
    >>> from securinfer.serve.limits import Gate
    >>> gate = Gate("uploads", total=2, per_tenant=1, wait=0.1)
    >>> async def demo():
    ...     async with gate.enter("alice"):
    ...         try:
    ...             async with gate.enter("alice"):
    ...                 pass
    ...         except Exception as refusal:
    ...             return refusal.status, refusal.code
    >>> asyncio.run(demo())
    (503, 'busy')
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextlib import asynccontextmanager
from typing import Deque, Dict

from ..errors import ParameterError
from .http_errors import Refusal
from .._validation import is_int

__all__ = ["Gate"]


class Gate:
    """At most ``total`` holders, ``per_tenant`` of them from one tenant;
    within its share, a newcomer waits up to ``wait`` seconds for a slot.
    Used from one event loop (the service's)."""

    def __init__(self, what: str, total: int, per_tenant: int, wait: float = 0.0):
        for name, value in (("total", total), ("per_tenant", per_tenant)):
            if not is_int(value) or value < 1:
                raise ParameterError(f"{what}: {name} must be a positive int")
        if not (isinstance(wait, (int, float)) and 0 <= wait < float("inf")):
            raise ParameterError(f"{what}: wait must be a non-negative number of seconds")
        self.what, self.total, self.per_tenant, self.wait = what, total, min(per_tenant, total), float(wait)
        self._held: Dict[str, int] = {}       # tenant -> slots held or waited for
        self._in_use = 0
        self._waiters: Deque[asyncio.Future] = deque()
        self.refused = 0

    def _busy(self, scope: str) -> Refusal:
        self.refused += 1
        return Refusal(503, "busy", f"{scope} limit of concurrent {self.what} is reached; retry shortly",
                       headers={"Retry-After": "1"})

    @asynccontextmanager
    async def enter(self, tenant: str):
        mine = self._held.get(tenant, 0)
        if mine >= self.per_tenant:
            raise self._busy("this token's")
        self._held[tenant] = mine + 1       # counts while waiting too: a token cannot queue beyond its share
        try:
            if self._in_use < self.total and not self._waiters:
                self._in_use += 1
            else:
                await self._wait_for_slot()
            try:
                yield
            finally:
                self._release()
        finally:
            left = self._held[tenant] - 1
            if left:
                self._held[tenant] = left
            else:
                del self._held[tenant]

    async def _wait_for_slot(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            if self.wait > 0:
                await asyncio.wait_for(asyncio.shield(waiter), self.wait)
        except asyncio.TimeoutError:
            pass
        except BaseException:  # the client went away while waiting
            if waiter.done() and not waiter.cancelled():
                self._release()  # a slot was handed over just then: pass it on
            else:
                waiter.cancel()
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
        if not waiter.done():
            waiter.cancel()
            raise self._busy("the server's")

    def _release(self) -> None:
        # Hand the slot straight to the longest waiter, else free it.
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._in_use -= 1

    def stats(self) -> dict:
        return {"in_flight": self._in_use, "waiting": len(self._waiters), "limit": self.total,
                "per_token": self.per_tenant, "refused": self.refused}
