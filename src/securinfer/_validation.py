"""Checks of user input shared by the whole package: one place for the
integer, vector and matrix rules, so every entry point refuses the same
things with the same securinfer errors.

Example:
    >>> from securinfer._validation import require_int, as_values
    >>> require_int(3, "steps")
    3
    >>> as_values([1, 2]).dtype
    dtype('int64')
"""

from __future__ import annotations

import numbers
from typing import Optional

import numpy as np

from .errors import ParameterError, ShapeError


def is_int(value) -> bool:
    """A Python or numpy integer, not a bool."""
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def require_int(value, name: str, *, minimum: Optional[int] = None, maximum: Optional[int] = None) -> int:
    """``int(value)`` when it is an integer within [minimum, maximum]; else ParameterError."""
    if not is_int(value):
        raise ParameterError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        low = "-inf" if minimum is None else minimum
        high = "inf" if maximum is None else maximum
        raise ParameterError(f"{name} must be an int in [{low}, {high}], got {value}")
    return value


def as_array(values, what: str = "values") -> np.ndarray:
    """numpy view of nested user data; ragged lists become a ParameterError."""
    try:
        return np.asarray(values)
    except (ValueError, TypeError) as e:
        raise ParameterError(f"{what} must be a rectangular numeric array: {e}") from None


def as_values(values, what: str = "values") -> np.ndarray:
    """A 1-D numeric numpy vector (a scalar becomes one value); ShapeError
    for more dimensions, ParameterError for non-numeric data."""
    arr = as_array(values, what)
    if arr.dtype == object or arr.dtype.kind not in "fciub":
        raise ParameterError(f"{what} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ShapeError(f"{what} must be a 1-D vector, got shape {arr.shape}")
    if arr.size == 0:
        raise ShapeError(f"{what} is empty: a ciphertext holds at least one value")
    return arr


def as_real_matrix(values, what: str = "matrix") -> np.ndarray:
    """A finite, non-empty, real 2-D float64 matrix (C-contiguous), or a
    ParameterError saying which of those it is not."""
    m = as_array(values, what)
    if m.dtype == object or m.dtype.kind not in "fiub":
        kind = "complex matrices are not supported" if m.dtype.kind == "c" else f"got dtype {m.dtype}"
        raise ParameterError(f"{what} must be real and numeric; {kind}")
    if m.ndim != 2:
        raise ParameterError(f"{what} must be 2-D, got shape {m.shape}")
    if m.size == 0:
        raise ParameterError(f"{what} must not be empty, got shape {m.shape}")
    m = np.ascontiguousarray(m, dtype=np.float64)
    if not np.all(np.isfinite(m)):
        raise ParameterError(f"{what} must be finite")
    return m
