"""The error a model compiler raises for a layer it cannot run encrypted.

Example:
    >>> import securinfer as si
    >>> from securinfer.nn import UnsupportedModelError
    >>> issubclass(UnsupportedModelError, si.ParameterError)
    True
"""

from ..errors import ParameterError


class UnsupportedModelError(ParameterError):
    """A model holds a layer or operation with no encrypted counterpart; the
    message names it and says what to use instead."""


__all__ = ["UnsupportedModelError"]
