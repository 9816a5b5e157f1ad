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
from . import linalg, polynomial, reductions

from ._core import __version__

__all__ = [
    "Context",
    "Ciphertext",
    "Parameters",
    "linalg",
    "polynomial",
    "reductions",
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
