"""The errors of the model compiler and of its client.

Example:
    >>> import securinfer as si
    >>> from securinfer.nn import OutOfRangeError, UnsupportedModelError
    >>> issubclass(UnsupportedModelError, si.ParameterError), issubclass(OutOfRangeError, si.ParameterError)
    (True, True)
"""

from typing import Optional

from ..errors import ParameterError


class UnsupportedModelError(ParameterError):
    """A model holds a layer or operation with no encrypted counterpart; the
    message names it and says what to use instead."""


class OutOfRangeError(ParameterError):
    """A record lies outside the input ranges the model was calibrated on;
    ``record`` and ``feature`` are the indices of the first such value."""

    def __init__(self, message: str, record: Optional[int] = None, feature: Optional[int] = None):
        super().__init__(message)
        self.record = record
        self.feature = feature


__all__ = ["UnsupportedModelError", "OutOfRangeError"]
