"""Request counts, latencies and bytes, for ``GET /v1/metrics``.

Latency percentiles come from the last ``window`` requests of each route (a
bounded ring, so memory stays flat however long the server runs).

Example:
    >>> from securinfer.serve.metrics import Metrics
    >>> m = Metrics()
    >>> for ms in (10, 20, 30, 40):
    ...     m.record("run", 200, ms / 1000, bytes_in=100, bytes_out=50)
    >>> m.record("run", 413, 0.001, bytes_in=0, bytes_out=0)
    >>> snap = m.snapshot()["routes"]["run"]
    >>> snap["count"], snap["by_status"], snap["bytes_in"], round(snap["latency_ms"]["p50"])
    (5, {'200': 4, '413': 1}, 400, 20)
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque

import numpy as np

__all__ = ["Metrics"]


class _Route:
    __slots__ = ("count", "by_status", "bytes_in", "bytes_out", "latencies")

    def __init__(self, window: int):
        self.count, self.bytes_in, self.bytes_out = 0, 0, 0
        self.by_status: Counter = Counter()
        self.latencies: deque = deque(maxlen=window)


class Metrics:
    """Thread-safe counters per route name."""

    def __init__(self, window: int = 4096):
        self._window = window
        self._routes: dict = {}
        self._lock = threading.Lock()
        self._started = time.time()
        self.in_flight = 0

    def record(self, route: str, status: int, seconds: float, *, bytes_in: int, bytes_out: int) -> None:
        with self._lock:
            r = self._routes.get(route)
            if r is None:
                r = self._routes[route] = _Route(self._window)
            r.count += 1
            r.by_status[str(status)] += 1
            r.bytes_in += bytes_in
            r.bytes_out += bytes_out
            r.latencies.append(seconds)

    def snapshot(self) -> dict:
        with self._lock:
            routes = {}
            for name, r in sorted(self._routes.items()):
                lat = np.asarray(r.latencies, dtype=float) * 1000.0
                pct = ({f"p{q}": float(np.percentile(lat, q)) for q in (50, 95, 99)} | {"max": float(lat.max())}
                       if lat.size else {})
                routes[name] = {"count": r.count, "by_status": dict(sorted(r.by_status.items())),
                                "bytes_in": r.bytes_in, "bytes_out": r.bytes_out,
                                "latency_ms": pct | {"window": int(lat.size)}}
            return {"uptime_s": time.time() - self._started, "in_flight": self.in_flight, "routes": routes}
