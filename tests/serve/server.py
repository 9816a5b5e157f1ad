"""A real uvicorn server on 127.0.0.1 in a background thread, for tests and
the load benchmark (no transport mocks: clients speak HTTP over loopback)."""

import socket
import threading
import time

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """``with ServerThread(app, port) as server: ... server.url``; ``stop()``
    shuts it down as a restart would (sessions are lost with the app)."""

    def __init__(self, app, port: int = 0, limits=None, tls_cert=None, tls_key=None):
        from securinfer.serve.protocol import uvicorn_config

        self.port = port or free_port()
        self.url = f"{'https' if tls_cert else 'http'}://127.0.0.1:{self.port}"
        # The same server settings as `securinfer serve` (header deadline, limits, TLS).
        config = uvicorn_config(app, "127.0.0.1", self.port, limits, tls_cert=tls_cert, tls_key=tls_key,
                                log_level="warning")
        config.timeout_graceful_shutdown = 2
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> "ServerThread":
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=20)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
