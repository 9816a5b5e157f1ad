"""Bounds on work in flight: how many bodies may be read (and held) at once,
in all and per token, so that uploads held open cost at most a known number
of bytes and one token holder cannot take every slot.

A :class:`Gate` never queues: a request over a bound is answered at once
with 503 ``busy`` and ``Retry-After`` (a queue would keep its socket and its
bytes anyway). Time is bounded separately: every body must arrive within the
service's ``body_timeout`` (:mod:`securinfer.serve.bodies`), headers within
``header_timeout`` (:mod:`securinfer.serve.protocol`).

Example:
    >>> from securinfer.serve.limits import Gate
    >>> gate = Gate("uploads", total=2, per_tenant=1)
    >>> with gate.enter("alice"):
    ...     try:
    ...         gate.enter("alice").__enter__()
    ...     except Exception as refusal:
    ...         print(refusal.status, refusal.code)
    503 busy
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Dict

from ..errors import ParameterError
from .http_errors import Refusal

__all__ = ["Gate"]


class Gate:
    """At most ``total`` holders, ``per_tenant`` of them from one tenant."""

    def __init__(self, what: str, total: int, per_tenant: int):
        for name, value in (("total", total), ("per_tenant", per_tenant)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"{what}: {name} must be a positive int")
        self.what, self.total, self.per_tenant = what, total, min(per_tenant, total)
        self._held: Dict[str, int] = {}
        self._lock = threading.Lock()
        self.refused = 0

    @contextmanager
    def enter(self, tenant: str):
        with self._lock:
            mine = self._held.get(tenant, 0)
            if mine >= self.per_tenant or sum(self._held.values()) >= self.total:
                self.refused += 1
                scope = "this token's" if mine >= self.per_tenant else "the server's"
                raise Refusal(503, "busy", f"{scope} limit of concurrent {self.what} is reached; retry shortly",
                              headers={"Retry-After": "1"})
            self._held[tenant] = mine + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._held[tenant] - 1
                if left:
                    self._held[tenant] = left
                else:
                    del self._held[tenant]

    def stats(self) -> dict:
        with self._lock:
            return {"in_flight": sum(self._held.values()), "limit": self.total, "per_token": self.per_tenant,
                    "refused": self.refused}
