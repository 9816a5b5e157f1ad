"""Exceptions raised by securinfer. Every failure of the library is one of these.

Example:
    >>> import securinfer as si
    >>> try:
    ...     si.set_num_threads(0)
    ... except si.ParameterError as e:
    ...     print("refused:", e)
    refused: number of threads must be between 1 and 1024
"""


class SecurinferError(Exception):
    """Base class of every securinfer error."""


class ParameterError(SecurinferError, ValueError):
    """A bad argument: wrong shape, dtype, size, modulus or option."""


class ShapeError(ParameterError):
    """Operands whose lengths numpy would not broadcast together (equal
    lengths, or one of length 1, are the only shapes that meet)."""


class SecurityError(SecurinferError):
    """Parameters below the 128-bit security standard."""


class MissingKeyError(SecurinferError):
    """A needed rotation key or the secret key is absent."""


class ContextMismatchError(SecurinferError):
    """Objects made under different parameters or keys were mixed."""


class LevelError(SecurinferError):
    """The ciphertext is out of multiplicative depth."""


class SerializationError(SecurinferError):
    """Bytes that are corrupt, truncated or of an incompatible format."""


__all__ = [
    "SecurinferError",
    "ParameterError",
    "ShapeError",
    "SecurityError",
    "MissingKeyError",
    "ContextMismatchError",
    "LevelError",
    "SerializationError",
]
