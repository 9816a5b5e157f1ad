"""Encrypted vectors and their arithmetic, with numpy's shape rules.

A ciphertext is an encrypted 1-D vector of ``size`` values. Operators take
ciphertexts, numpy arrays, lists and Python scalars on either side and follow
numpy broadcasting for 1-D vectors: equal lengths, or one side of length 1
(or a scalar) broadcast to the other; anything else raises
:class:`~securinfer.errors.ShapeError`. Products are relinearised and
rescaled at once, levels and scales of operands aligned automatically.

What the slots past ``size`` hold (zeros, replicas, or undefined after
``sum()``) and whether the values are complex is state of the core's
ciphertext, carried through every operation and through ``serialize()``,
pickle, ``dist`` and ``serve``. Operations that read those slots (``sum``,
``dot``, ``@``, ``rotate``) refuse a state they cannot use.

Example:
    >>> import numpy as np, securinfer as si
    >>> ctx = si.Context.create(preset="fast"); ctx.generate_rotation_keys()
    >>> x = ctx.encrypt(np.array([1.0, 2.0, 3.0]))
    >>> y = x * x + 2 * x - 1
    >>> np.round(ctx.decrypt(y), 4)
    array([ 2.,  7., 14.])
    >>> round(float(ctx.decrypt(x.dot([1.0, 1.0, 1.0]))[0]), 4)
    6.0
    >>> np.round(ctx.decrypt(x + x.sum()), 4)          # a length-1 result broadcasts
    array([7., 8., 9.])
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Iterable, List

import numpy as np

from . import _registry, bootstrapping
from ._core import ckks as _ckks
from ._core import io as _io
from ._validation import as_values, require_int
from .errors import ContextMismatchError, ParameterError, ShapeError

if TYPE_CHECKING:  # context.py builds on this module, not the other way round
    from .context import Context


class Ciphertext:
    """An encrypted vector of ``size`` values (``size <= slots``)."""

    __slots__ = ("_context", "_core")
    # Makes numpy hand `array + ciphertext` to our reflected operators instead of
    # applying the operator element by element.
    __array_ufunc__ = None
    # Identity, not values: `==` would otherwise answer False for equal data.
    __hash__ = object.__hash__

    def __eq__(self, other):
        raise TypeError("encrypted values cannot be compared (numpy's == compares values; decrypt first, "
                        "or use `is` for identity)")

    __ne__ = __eq__

    def __init__(self, *_args, **_kwargs):
        raise ParameterError("ciphertexts come from Context.encrypt or from arithmetic on ciphertexts")

    @classmethod
    def _wrap(cls, context: "Context", core) -> "Ciphertext":
        obj = object.__new__(cls)
        obj._context = context
        obj._core = core
        return obj

    def _new(self, core) -> "Ciphertext":
        return Ciphertext._wrap(self._context, core)

    def _relabel(self, length: int, padding: str = "zeros", period: int = 0, is_complex=None) -> "Ciphertext":
        """The same polynomials under a layout the caller established (the
        linear-algebra layer, after its own rotations and masks); checked for
        consistency by the core, not for truth: never for user input."""
        return self._new(_ckks.with_layout(self._core, int(length), padding, int(period), is_complex))

    # ------------------------------------------------------------------ bytes
    def serialize(self) -> bytes:
        """Compact bytes (coefficients packed to their primes' widths; a fresh
        symmetric ciphertext stores its random half as a 32-byte seed), with
        the slot state (length, padding, complex).

        Example:
            >>> import numpy as np, securinfer as si
            >>> ctx = si.Context.create(preset="fast")
            >>> data = ctx.encrypt(np.ones(4)).serialize()
            >>> ctx.decrypt(si.Ciphertext.load(data, ctx.public())).round(6)
            array([1., 1., 1., 1.])
        """
        return _io.save_ciphertext(self._core)

    @classmethod
    def load(cls, data, context: "Context") -> "Ciphertext":
        """A ciphertext from :meth:`serialize`'s bytes, validated against
        ``context`` (``SerializationError`` on corrupt bytes,
        ``ContextMismatchError`` for another context's ciphertext). Format v1
        bytes (which kept no slot state) load with undefined padding and
        complex values: nothing is assumed."""
        if not isinstance(getattr(context, "_core", None), _ckks.CkksContext):
            raise ParameterError("load needs the securinfer.Context the ciphertext belongs to")
        core = _io.load_ciphertext(data, context._core, context._keys)
        return cls._wrap(context, core)

    def __reduce__(self):
        return (_unpickle, (self.serialize(), self._context.parameters.canonical_bytes, self._core.key_id))

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
        """The vector's length."""
        return self._core.slots_used

    @property
    def padding(self) -> str:
        """What the slots past ``size`` hold: ``"zeros"``, ``"replicated"``
        (slot i repeats slot ``i % period``) or ``"undefined"`` (a ``sum()``
        or ``dot()`` result: never read as data)."""
        return self._core.padding

    @property
    def period(self) -> int:
        """The replication period when ``padding == "replicated"`` (else 0)."""
        return self._core.period

    @property
    def is_complex(self) -> bool:
        """Whether the values are complex (decryption then returns complex numbers)."""
        return self._core.is_complex

    @property
    def key_id(self) -> int:
        """The random id of the key set the ciphertext was made under (not a
        secret: it tells ciphertexts of different clients apart)."""
        return self._core.key_id

    @property
    def nbytes(self) -> int:
        """Bytes of polynomial data held in memory."""
        return self._core.byte_size

    @property
    def context(self) -> "Context":
        return self._context

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return (f"<securinfer.Ciphertext size={self.size} level={self.level} scale=2^{np.log2(self.scale):.2f} "
                f"padding={self.padding} N={self._context.poly_degree} bytes={self.nbytes}>")

    # ------------------------------------------------------------------ shapes
    def _operands(self, other, what: str):
        """(kind, self broadcast, other broadcast) with numpy's 1-D rule:
        kind is 'ct', 'scalar' or 'vector'; (None, ...) for a foreign type."""
        if isinstance(other, Ciphertext):
            if not self._context.same_parameters(other._context):
                raise ContextMismatchError("ciphertexts come from different parameters")
            a, b = self, other
            if a.size != b.size:
                if b.size == 1:
                    b = b._broadcast(a.size)
                elif a.size == 1:
                    a = a._broadcast(b.size)
                else:
                    raise _shape_error(what, self.size, other.size)
            return "ct", a, b
        if isinstance(other, numbers.Number) and not isinstance(other, bool):
            value = complex(other)
            if not (np.isfinite(value.real) and np.isfinite(value.imag)):
                raise ParameterError("scalar operands must be finite")
            return "scalar", self, value
        if isinstance(other, (np.ndarray, np.generic, list, tuple)):
            if isinstance(other, (np.ndarray, np.generic)) and np.ndim(other) == 0:
                return self._operands(as_values(other)[0].item(), what)
            arr = as_values(other, what=f"the operand of {what}")
            if arr.size > self._context.slots:
                raise ShapeError(f"vector of {arr.size} values does not fit the {self._context.slots} slots "
                                 "of this context")
            a = self
            if arr.size != a.size:
                if arr.size == 1:
                    arr = np.full(a.size, arr[0])
                elif a.size == 1 and arr.size <= self._context.slots:
                    a = a._broadcast(arr.size)
                else:
                    raise _shape_error(what, self.size, arr.size)
            return "vector", a, arr
        return None, None, None

    def _broadcast(self, length: int) -> "Ciphertext":
        """This length-1 vector repeated ``length`` times, with zeros past it:
        copies doubled by right rotations, then placed block by block
        (about log2(length) + popcount(length) rotations; one level more when
        the padding is undefined, to mask it first). ``MissingKeyError``
        names a missing rotation step."""
        assert self.size == 1
        if self.padding == "replicated" and self.period == 1:
            return self._relabel(length, "replicated", 1)
        src = self if self.padding == "zeros" else self.mask_padding()
        keys = self._keys()
        slots = self._context.slots
        # doubled[k]: the value in slots [0, 2^k), zeros elsewhere.
        doubled = [_ckks.with_layout(src._core, slots, "zeros")]
        while 2 << (len(doubled) - 1) <= length:
            d = doubled[-1]
            doubled.append(_ckks.add(d, _ckks.rotate(keys, d, -(1 << (len(doubled) - 1)))))
        top = len(doubled) - 1
        acc, offset = doubled[top], 1 << top
        for k in range(top - 1, -1, -1):
            if (length - offset) & (1 << k):
                acc = _ckks.add(acc, _ckks.rotate(keys, doubled[k], -offset))
                offset += 1 << k
        return self._new(_ckks.with_layout(acc, length, "zeros"))

    def mask_padding(self) -> "Ciphertext":
        """The same values with zeros past ``size`` (a product with a 0/1 mask:
        one level). Makes a ``sum()`` result usable by ``sum``, ``@`` or ``rotate``.

        Example:
            >>> import numpy as np, securinfer as si
            >>> ctx = si.Context.create(preset="fast"); ctx.generate_rotation_keys()
            >>> s = ctx.encrypt([1.0, 2.0]).sum()
            >>> s.padding, s.mask_padding().padding
            ('undefined', 'zeros')
        """
        if self.padding == "zeros":
            return self
        return self._new(_ckks.multiply_values(self._core, np.ones(self.size)))

    def _require_zero_padding(self, what: str) -> None:
        """ParameterError unless the slots past ``size`` hold zeros (or the vector fills every slot)."""
        if self.padding != "zeros" and self.size < self._context.slots:
            raise ParameterError(f"{what} needs zeros past the vector's {self.size} values; this ciphertext's "
                                 f"padding is {self.padding} (e.g. a sum() result): call mask_padding() first")

    def _keys(self):
        return self._context._keys

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        kind, a, b = self._operands(other, "+")
        if kind == "ct":
            return self._new(_ckks.add(a._core, b._core))
        if kind == "scalar":
            return self._new(_ckks.add_scalar(a._core, b))
        if kind == "vector":
            return self._new(_ckks.add_values(a._core, b))
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other):
        kind, a, b = self._operands(other, "-")
        if kind == "ct":
            return self._new(_ckks.sub(a._core, b._core))
        if kind == "scalar":
            return self._new(_ckks.add_scalar(a._core, -b))
        if kind == "vector":
            return self._new(_ckks.sub_values(a._core, b, False))
        return NotImplemented

    def __rsub__(self, other):
        kind, a, b = self._operands(other, "-")
        if kind == "scalar":
            return self._new(_ckks.add_scalar(_ckks.negate(a._core), b))
        if kind == "vector":
            return self._new(_ckks.sub_values(a._core, b, True))
        return NotImplemented

    def __neg__(self):
        return self._new(_ckks.negate(self._core))

    def __mul__(self, other):
        kind, a, b = self._operands(other, "*")
        if kind == "ct":
            return self._new(_ckks.multiply(self._keys(), a._core, b._core))
        if kind == "scalar":
            return self._new(_ckks.multiply_scalar(a._core, b))
        if kind == "vector":
            return self._new(_ckks.multiply_values(a._core, b))
        return NotImplemented

    __rmul__ = __mul__

    def __pow__(self, exponent):
        """Integer powers >= 1 by repeated squaring (depth ceil(log2(exponent)))."""
        e = require_int(exponent, "exponent", minimum=1)
        result, base = None, self
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
        prepared once and cached (uses one level). A 1-D ``W`` of ``size``
        values gives the inner product, as numpy does."""
        if isinstance(matrix, Ciphertext) or np.ndim(matrix) == 1:
            return self.dot(matrix)
        from .linalg.product import matmul  # the one deliberate late import: linalg builds on Ciphertext

        return matmul(self, matrix)

    def __rmatmul__(self, matrix):
        """``W @ x`` = ``x @ W.T`` for a plaintext matrix (numpy's rule)."""
        if np.ndim(matrix) == 1:
            return self.dot(matrix)
        W = as_matrix_like(matrix)
        return self @ W.T

    # ------------------------------------------------------------------ rotations and reductions
    def rotate(self, steps: int) -> "Ciphertext":
        """Rotate the slots left: ``np.roll(v, -steps)`` of the full slot
        vector ``v`` (the values, then the padding). The result spans every
        slot; undefined padding is refused."""
        step = require_int(steps, "steps") % self._context.slots
        return self._new(_ckks.rotate(self._keys(), self._core, step))

    def rotate_many(self, steps: Iterable[int]) -> List["Ciphertext"]:
        """Several rotations of this ciphertext, hoisted (one decomposition)."""
        slots = self._context.slots
        steps = [require_int(s, "steps") % slots for s in steps]
        return [self._new(c) for c in _ckks.rotate_many(self._keys(), self._core, steps)]

    def conjugate(self) -> "Ciphertext":
        """Complex conjugate of every slot (needs the conjugation key)."""
        return self._new(_ckks.conjugate(self._keys(), self._core))

    def sum(self) -> "Ciphertext":
        """The sum of the vector, as a ciphertext of size 1. Uses
        ceil(log2(size)) rotations; the slots past it hold partial sums
        (padding ``"undefined"``), except when the sum spans every slot
        (then each slot holds the total: ``"replicated"``)."""
        if self.size == 1:
            return self
        span = 1
        while span < self.size:
            span *= 2
        return self._new(_ckks.sum_slots(self._keys(), self._core, span))

    def dot(self, other) -> "Ciphertext":
        """Inner product with a ciphertext or plaintext vector of the same
        length (numpy's ``np.dot`` does not broadcast), as a size-1 ciphertext."""
        length = other.size if isinstance(other, Ciphertext) else np.size(other)
        if isinstance(other, Ciphertext) or np.ndim(other) == 1:
            if length != self.size:
                raise ShapeError(f"dot: shapes ({self.size},) and ({length},) not aligned")
        else:
            raise ShapeError(f"dot needs a 1-D vector of {self.size} values, got shape {np.shape(other)}")
        return (self * other).sum()

    def drop_to_level(self, level: int) -> "Ciphertext":
        """The same values at a lower level (smaller, faster, less depth), on
        that level's canonical scale (a fresh ciphertext's scale would not fit
        the smaller modulus of level 0)."""
        level = require_int(level, "level", minimum=0, maximum=self.level)
        return self._new(_ckks.lower_to_level(self._core, level))

    def bootstrap(self, slots=None) -> "Ciphertext":
        """The same values refreshed to level ``context.levels_after_bootstrap``
        (needs ``generate_bootstrapping_keys()``; docs/bootstrapping.md). The
        ciphertext must be at level ``context.bootstrap_input_level`` or
        above (3 on ``preset="bootstrap"``, 0 on a usual-order chain;
        ``LevelError`` otherwise)."""
        return bootstrapping.bootstrap(self, slots)


def _shape_error(what: str, a: int, b: int) -> ShapeError:
    return ShapeError(f"{what}: operands of lengths {a} and {b} cannot be broadcast together "
                      "(numpy's rule: equal lengths, or one of length 1)")


def as_matrix_like(matrix) -> np.ndarray:
    """A 2-D numeric numpy view of ``matrix`` (ShapeError otherwise)."""
    try:
        W = np.asarray(matrix)
    except ValueError as e:
        raise ParameterError(f"matrix is not a rectangular array: {e}") from None
    if W.ndim != 2:
        raise ShapeError(f"matrix must be 2-D, got shape {W.shape}")
    return W


def _unpickle(data, canonical_parameters, key_id):
    return Ciphertext.load(data, _registry.lookup(canonical_parameters, key_id))
