"""securinfer.serve: an HTTP service for encrypted inference, and its client.

The server holds servables (encrypted models, face galleries: any object
with ``obj(ciphertexts)``, ``describe()``, ``required_rotations()``) and, per
client session, only public and evaluation keys. A client builds keys from a
servable's ``describe()``, uploads the public part once, sends ciphertexts
and decrypts the answers. See docs/serve.md.

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.serve import LinearModel, ServiceError, create_app
    >>> app = create_app([LinearModel(np.eye(3), context={"preset": "fast"}, name="id3")], token="a-long-s3cret-token")
    >>> sorted(r.path for r in app.routes if r.path.startswith("/v1"))[:3]
    ['/v1/info', '/v1/metrics', '/v1/run/{name}']
"""

from .errors import ServiceError
from .linear import LinearModel
from .config import ServiceConfig


def create_app(servables, config=None, **settings):
    """The ASGI app serving ``servables`` (see :mod:`securinfer.serve.app`)."""
    from .app import create_app as _create_app

    return _create_app(servables, config, **settings)


def __getattr__(name):
    # The client needs httpx only; the server fastapi: import each on first use.
    if name == "Client":
        from .client import Client

        return Client
    raise AttributeError(f"module 'securinfer.serve' has no attribute {name!r}")


__all__ = ["Client", "LinearModel", "ServiceConfig", "ServiceError", "create_app"]
