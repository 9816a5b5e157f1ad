"""securinfer: machine-learning inference on homomorphically encrypted data.

Example:
    >>> import securinfer as si
    >>> si.simd_info()["active"] in ("scalar", "avx2", "avx512", "ifma")
    True
"""

from .errors import (  # noqa: F401  (imported before _core, which maps C++ errors onto them)
    ContextMismatchError,
    LevelError,
    MissingKeyError,
    ParameterError,
    SecurinferError,
    SecurityError,
    SerializationError,
    ShapeError,
)
from ._system import get_num_threads, set_num_threads, simd_info
from .parameters import Parameters
from .context import Context
from .ciphertext import Ciphertext
from . import linalg

from ._core import __version__

# The upper layers load on first use (si.servable, si.nn, si.apps, si.serve, si.dist), so
# `import securinfer` stays light and PyTorch, FastAPI and Dask optional.
_LAZY_SUBPACKAGES = ("servable", "nn", "apps", "serve", "dist")


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'securinfer' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBPACKAGES))

__all__ = [
    "Context",
    "Ciphertext",
    "Parameters",
    "linalg",
    "SecurinferError",
    "ParameterError",
    "ShapeError",
    "SecurityError",
    "MissingKeyError",
    "ContextMismatchError",
    "LevelError",
    "SerializationError",
    "simd_info",
    "set_num_threads",
    "get_num_threads",
]
