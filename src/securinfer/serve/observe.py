"""ASGI middleware feeding :class:`~securinfer.serve.metrics.Metrics`: per
route, the status, the latency and the bytes that went in and out.

Routes are named by their template (``/v1/run/{name}``), never by the
concrete path, so metrics stay small whatever clients send.
"""

from __future__ import annotations

import time

from .metrics import Metrics

__all__ = ["MetricsMiddleware"]


class MetricsMiddleware:
    def __init__(self, app, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        counts = {"in": 0, "out": 0, "status": 500}
        start = time.perf_counter()

        async def counting_receive():
            message = await receive()
            if message["type"] == "http.request":
                counts["in"] += len(message.get("body", b""))
            return message

        async def counting_send(message):
            if message["type"] == "http.response.start":
                counts["status"] = message["status"]
            elif message["type"] == "http.response.body":
                counts["out"] += len(message.get("body", b""))
            await send(message)

        self.metrics.in_flight += 1
        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            self.metrics.in_flight -= 1
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.record(f"{scope['method']} {route}", counts["status"], time.perf_counter() - start,
                                bytes_in=counts["in"], bytes_out=counts["out"])
