"""Encrypted vectors and their arithmetic.

Operators take ciphertexts, numpy arrays, lists and Python scalars on either
side; products are relinearised and rescaled at once, levels and scales of
operands aligned automatically.

Example:
    >>> import numpy as np, securinfer as si
    >>> ctx = si.Context.create(preset="fast"); ctx.generate_rotation_keys()
    >>> x = ctx.encrypt(np.array([1.0, 2.0, 3.0]))
    >>> y = x * x + 2 * x - 1
    >>> np.round(ctx.decrypt(y), 4)
    array([ 2.,  7., 14.])
    >>> round(float(ctx.decrypt(x.dot([1.0, 1.0, 1.0]))[0]), 4)
    6.0
"""

from __future__ import annotations

import numbers
from typing import Iterable, List

import numpy as np

from ._core import ckks as _ckks
from ._core import io as _io
from .context import Context, _as_values
from .errors import ContextMismatchError, ParameterError


class Ciphertext:
    """An encrypted vector of ``size`` values (``size <= slots``)."""

    # _clean: the slots past `size` are known to hold zeros (false after sum(),
    # whose result fills every slot); sums and matrix products need it.
    __slots__ = ("_context", "_core", "_complex", "_clean")
    # Makes numpy hand `array + ciphertext` to our reflected operators instead of
    # applying the operator element by element.
    __array_ufunc__ = None

    def __init__(self, *_args, **_kwargs):
        raise ParameterError("ciphertexts come from Context.encrypt or from arithmetic on ciphertexts")

    @classmethod
    def _wrap(cls, context: Context, core, is_complex: bool) -> "Ciphertext":
        obj = object.__new__(cls)
        obj._context = context
        obj._core = core
        obj._complex = bool(is_complex)
        obj._clean = True
        return obj

    def _new(self, core, is_complex: bool = None, clean: bool = None) -> "Ciphertext":
        out = Ciphertext._wrap(self._context, core, self._complex if is_complex is None else is_complex)
        out._clean = self._clean if clean is None else clean
        return out

    def _require_clean(self, what: str) -> None:
        if not self._clean and self.size < self._context.slots:
            raise ParameterError(f"{what} needs zeros past the vector's {self.size} values; this ciphertext "
                                 "(e.g. a sum() result) fills every slot")

    # ------------------------------------------------------------------ bytes
    def serialize(self) -> bytes:
        """Compact bytes (coefficients packed to their primes' widths; a fresh
        symmetric ciphertext stores its random half as a 32-byte seed).

        Example:
            >>> import numpy as np, securinfer as si
            >>> ctx = si.Context.create(preset="fast")
            >>> data = ctx.encrypt(np.ones(4)).serialize()
            >>> ctx.decrypt(si.Ciphertext.load(data, ctx.public())).round(6)
            array([1., 1., 1., 1.])
        """
        return _io.save_ciphertext(self._core)

    @classmethod
    def load(cls, data, context: Context) -> "Ciphertext":
        """A ciphertext from :meth:`serialize`'s bytes, validated against
        ``context`` (``SerializationError`` on corrupt bytes,
        ``ContextMismatchError`` for another context's ciphertext)."""
        if not isinstance(context, Context):
            raise ParameterError("load needs the securinfer.Context the ciphertext belongs to")
        core = _io.load_ciphertext(data, context._core, context._keys)
        return cls._wrap(context, core, False)

    def __reduce__(self):
        return (_unpickle, (self.serialize(), self._context.fingerprint, self._core.key_id, self._complex,
                            self._clean))

    # ------------------------------------------------------------------ facts
    @property
    def level(self) -> int:
        """Multiplications left before the ciphertext is out of depth."""
        return self._core.level

    @property
    def scale(self) -> float:
        """The exact scale of the encoded values."""
        return self._core.scale

    @property
    def size(self) -> int:
        """Number of slots in use (the vector's length)."""
        return self._core.slots_used

    @property
    def nbytes(self) -> int:
        """Bytes of polynomial data held in memory."""
        return self._core.byte_size

    @property
    def context(self) -> Context:
        return self._context

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return (f"<securinfer.Ciphertext size={self.size} level={self.level} scale=2^{np.log2(self.scale):.2f} "
                f"N={self._context.poly_degree} bytes={self.nbytes}>")

    # ------------------------------------------------------------------ helpers
    def _other(self, other):
        """Classifies an operand: ('ct', core) | ('scalar', complex) | ('vector', ndarray)."""
        if isinstance(other, Ciphertext):
            if other._context.fingerprint != self._context.fingerprint:
                raise ContextMismatchError("ciphertexts come from different parameters")
            return "ct", other._core
        if isinstance(other, numbers.Number) and not isinstance(other, bool):
            value = complex(other)
            if not (np.isfinite(value.real) and np.isfinite(value.imag)):
                raise ParameterError("scalar operands must be finite")
            return "scalar", value
        if isinstance(other, (np.ndarray, list, tuple)):
            arr = _as_values(other)
            if arr.size == 1 and np.ndim(other) == 0:
                return "scalar", complex(arr[0])
            return "vector", arr
        return None, None

    def _keys(self):
        return self._context._keys

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        kind, value = self._other(other)
        if kind == "ct":
            return self._new(_ckks.add(self._core, value), self._complex or other._complex,
                             self._clean and other._clean)
        if kind == "scalar":
            return self._new(_ckks.add_scalar(self._core, value), self._complex or value.imag != 0)
        if kind == "vector":
            return self._new(_ckks.add_values(self._core, value), self._complex or np.iscomplexobj(value))
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other):
        kind, value = self._other(other)
        if kind == "ct":
            return self._new(_ckks.sub(self._core, value), self._complex or other._complex,
                             self._clean and other._clean)
        if kind == "scalar":
            return self._new(_ckks.add_scalar(self._core, -value), self._complex or value.imag != 0)
        if kind == "vector":
            return self._new(_ckks.sub_values(self._core, value, False), self._complex or np.iscomplexobj(value))
        return NotImplemented

    def __rsub__(self, other):
        kind, value = self._other(other)
        if kind == "scalar":
            return self._new(_ckks.add_scalar(_ckks.negate(self._core), value), self._complex or value.imag != 0)
        if kind == "vector":
            return self._new(_ckks.sub_values(self._core, value, True), self._complex or np.iscomplexobj(value))
        return NotImplemented

    def __neg__(self):
        return self._new(_ckks.negate(self._core))

    def __mul__(self, other):
        kind, value = self._other(other)
        if kind == "ct":
            return self._new(_ckks.multiply(self._keys(), self._core, value), self._complex or other._complex,
                             self._clean or other._clean)
        if kind == "scalar":
            return self._new(_ckks.multiply_scalar(self._core, value), self._complex or value.imag != 0)
        if kind == "vector":
            return self._new(_ckks.multiply_values(self._core, value), self._complex or np.iscomplexobj(value))
        return NotImplemented

    __rmul__ = __mul__

    def __pow__(self, exponent):
        """Integer powers >= 1 by repeated squaring (depth ceil(log2(exponent)))."""
        if isinstance(exponent, bool) or not isinstance(exponent, (int, np.integer)) or exponent < 1:
            raise ParameterError("only integer powers >= 1 are supported")
        result, base, e = None, self, int(exponent)
        while e:
            if e & 1:
                result = base if result is None else result * base
            e >>= 1
            if e:
                base = base.square()
        return result

    def square(self) -> "Ciphertext":
        """``self * self`` (relinearised and rescaled)."""
        return self._new(_ckks.square(self._keys(), self._core))

    def __matmul__(self, matrix):
        """``x @ W`` for a plaintext matrix W of ``size`` rows: the baby-step
        giant-step diagonal method of :mod:`securinfer.linalg`, the matrix
        prepared once and cached (uses one level)."""
        from .linalg import _matmul

        return _matmul(self, matrix)

    # ------------------------------------------------------------------ rotations and reductions
    def rotate(self, steps: int) -> "Ciphertext":
        """Rotate the slots left: on a full-slot vector ``np.roll(x, -steps)``.
        The result spans all slots (the zero padding rotates in)."""
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
            raise ParameterError("steps must be an int")
        return self._new(_ckks.rotate(self._keys(), self._core, int(steps)), clean=True)

    def rotate_many(self, steps: Iterable[int]) -> List["Ciphertext"]:
        """Several rotations of this ciphertext, hoisted (one decomposition)."""
        steps = [int(s) for s in steps]
        return [self._new(c, clean=True) for c in _ckks.rotate_many(self._keys(), self._core, steps)]

    def conjugate(self) -> "Ciphertext":
        """Complex conjugate of every slot (needs the conjugation key)."""
        return self._new(_ckks.conjugate(self._keys(), self._core))

    def sum(self) -> "Ciphertext":
        """The sum of the vector, as a ciphertext of size 1 (in slot 0; the other
        slots hold partial sums, so the result is not zero-padded). Uses
        ceil(log2(size)) rotations."""
        self._require_clean("sum()")
        # Zeros past the vector: rotations up to its length suffice (fewer for short vectors).
        span = 1
        while span < self.size:
            span *= 2
        return self._new(_ckks.with_slots_used(_ckks.sum_slots(self._keys(), self._core, span), 1), clean=False)

    def dot(self, other) -> "Ciphertext":
        """Inner product with a ciphertext or plaintext vector, as a size-1 ciphertext."""
        return (self * other).sum()

    def drop_to_level(self, level: int) -> "Ciphertext":
        """The same values at a lower level (smaller, faster, less depth)."""
        if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or not 0 <= level <= self.level:
            raise ParameterError(f"level must be an int in [0, {self.level}]")
        return self._new(_ckks.drop_to_level(self._core, int(level)))


    def bootstrap(self, slots=None) -> "Ciphertext":
        """The same values refreshed to ``context.levels_after_bootstrap`` levels."""
        from . import bootstrapping
        return bootstrapping.bootstrap(self, slots)

def _unpickle(data, fingerprint, key_id, is_complex, clean):
    from .context import _lookup

    ct = Ciphertext.load(data, _lookup(fingerprint, key_id))
    ct._complex, ct._clean = is_complex, clean
    return ct
