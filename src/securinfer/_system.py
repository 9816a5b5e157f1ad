"""Process-wide settings: SIMD kernel paths and threads."""

from __future__ import annotations

from . import _core
from ._validation import is_int


def simd_info() -> dict:
    """CPU features, kernel paths and the path in use.

    Returns a dict with ``detected`` (SIMD features of this CPU), ``available``
    (kernel paths this build can run here), ``active`` (the highest path in use,
    capped by ``SECURINFER_SIMD``) and ``emulated`` (True in a test build whose
    AVX-512 kernels run through software emulation).

    Example:
        >>> import securinfer as si
        >>> info = si.simd_info()
        >>> info["active"] in info["available"]
        True
    """
    return dict(_core.simd_info())


def set_num_threads(n: int) -> None:
    """Use ``n`` threads (the caller included) for work inside the core.

    Example:
        >>> import securinfer as si
        >>> si.set_num_threads(2); si.get_num_threads()
        2
    """
    if not is_int(n):
        from .errors import ParameterError

        raise ParameterError(f"number of threads must be an int, got {type(n).__name__}")
    if not 1 <= n <= 1024:
        from .errors import ParameterError

        raise ParameterError("number of threads must be between 1 and 1024")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """The number of threads the core uses (default: the available cores)."""
    return _core.get_num_threads()


# Reading the active path here makes a bad SECURINFER_SIMD fail at import.
_core.simd_info()
