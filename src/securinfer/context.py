"""The CKKS context: parameters, keys, encryption and decryption.

Example:
    >>> import numpy as np
    >>> import securinfer as si
    >>> ctx = si.Context.create(preset="fast")
    >>> x = ctx.encrypt(np.array([1.0, 2.0, 3.0]))
    >>> np.round(ctx.decrypt(x * x + 1), 4)
    array([ 2.,  5., 10.])
"""

from __future__ import annotations

import warnings
from typing import Iterable, Optional, Sequence

import numpy as np

from . import bootstrapping
from ._core import ckks as _ckks
from ._core import io as _io
from ._registry import register as _register
from ._validation import as_values, is_int, require_int
from .ciphertext import Ciphertext
from .errors import ContextMismatchError, MissingKeyError, ParameterError, SecurityError, SerializationError, ShapeError
from .key_switching import default_special_primes
from .parameters import Parameters
from .presets import PRESETS, parameters_for_depth


def _load_public(data: bytes) -> "Context":
    return Context.load(data)



def _special_primes_by_cost(poly_degree, coeff_bits) -> dict:
    """``default_special_primes`` for arguments not yet checked: malformed ones
    are returned as given (one special prime) for the core's own checks to
    refuse with their usual message. The bound is always the 128-bit one, so
    ``security=None`` adds no primes beyond what a secure context would have."""
    bits = list(coeff_bits)
    if not (is_int(poly_degree) and bits
            and all(is_int(b) and 1 <= b <= 61 for b in bits)):
        return dict(coeff_bits=bits, special_primes=1)
    try:
        return default_special_primes(int(poly_degree), [int(b) for b in bits])
    except (ParameterError, ValueError, OverflowError):
        return dict(coeff_bits=bits, special_primes=1)

class Context:
    """CKKS parameters with their keys.

    A context made by :meth:`create` holds the secret key (the client's); its
    :meth:`public` copy holds only the public and evaluation keys (what a
    server gets) and can encrypt (with the public key) and compute, not decrypt.
    """

    def __init__(self, core_context, keys, *, _private=False):
        if not _private:
            raise ParameterError("use Context.create(...) to make a context")
        self._core = core_context
        self._keys = keys

    # ------------------------------------------------------------------ creation
    @classmethod
    def create(
        cls,
        poly_degree: Optional[int] = None,
        coeff_bits: Optional[Sequence[int]] = None,
        scale_bits: Optional[int] = None,
        *,
        preset: Optional[str] = None,
        depth: Optional[int] = None,
        special_primes: Optional[int] = None,
        dnum: Optional[int] = None,
        security: Optional[str] = "128",
        simd_path: Optional[str] = None,
    ) -> "Context":
        """Make parameters and a fresh key set (secret, public, relinearisation).

        Give either ``poly_degree`` with ``coeff_bits`` (the first prime is the
        base, the last ``special_primes`` are the special primes of key
        switching, as in SEAL/TenSEAL) and ``scale_bits``; or a ``preset``
        (see :mod:`securinfer.presets`); or a ``depth`` (with an optional
        ``scale_bits``), for which the smallest secure parameters are chosen.
        Key switching is hybrid (GHS): the chain is cut into digits of as many
        primes as there are special primes, so ``dnum = ceil(chain / special)``;
        with ``depth=...``, ``dnum`` sets it directly (default: the count of special
        primes with the fewest NTT-equivalents per key switch, :mod:`securinfer.key_switching`).
        With ``coeff_bits`` and no ``special_primes``, the last entry of
        ``coeff_bits`` is the special prime's size and as many special primes of
        that size are used as key switching is cheapest with, within the 128-bit
        bound (:func:`securinfer.key_switching.default_special_primes`): the chain
        stays exactly the one given, only special primes may be added
        (``ctx.parameters`` shows them). ``special_primes=1`` is SEAL's layout.
        ``security="128"`` enforces the 128-bit standard (``SecurityError``
        otherwise); ``security=None`` lifts the check and warns.

        Example:
            >>> import securinfer as si
            >>> ctx = si.Context.create(poly_degree=8192, coeff_bits=[60, 40, 40, 60], scale_bits=40)
            >>> ctx.max_level, ctx.slots
            (2, 4096)
        """
        if security not in ("128", 128, None):
            raise ParameterError("security must be '128' or None")
        enforce = security is not None
        if not enforce:
            warnings.warn("security=None: the 128-bit parameter check is off; never use this for real data",
                          stacklevel=2)
        given = [preset is not None, depth is not None, poly_degree is not None or coeff_bits is not None]
        if sum(given) != 1:
            raise ParameterError("give exactly one of: preset=..., depth=..., or poly_degree with coeff_bits")
        if dnum is not None and depth is None:
            raise ParameterError("dnum goes with depth=...; with coeff_bits, choose special_primes instead")
        if preset is not None:
            if preset not in PRESETS:
                raise ParameterError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}")
            spec = dict(PRESETS[preset])
        elif depth is not None:
            if dnum is not None and (not is_int(dnum) or dnum < 1):
                raise ParameterError("dnum must be a positive int")
            spec = parameters_for_depth(depth, 40 if scale_bits is None else scale_bits,
                                        digits=dnum, secure=enforce)
        else:
            if poly_degree is None or coeff_bits is None or scale_bits is None:
                raise ParameterError("poly_degree, coeff_bits and scale_bits go together")
            spec = dict(poly_degree=poly_degree, coeff_bits=list(coeff_bits), scale_bits=scale_bits,
                        special_primes=special_primes)
            if special_primes is None:
                spec.update(_special_primes_by_cost(poly_degree, spec["coeff_bits"]))
        # Integers only, small enough for the core, which checks the ranges.
        for name in ("poly_degree", "scale_bits", "special_primes"):
            require_int(spec[name], name, minimum=0, maximum=1 << 31)
        bits = spec["coeff_bits"]
        if not isinstance(bits, (list, tuple)) or not all(is_int(b) and -(1 << 31) < b < 1 << 31 for b in bits):
            raise ParameterError("coeff_bits must be a list of ints")
        core = _ckks.CkksContext(int(spec["poly_degree"]), [int(b) for b in bits], int(spec["scale_bits"]),
                                 int(spec["special_primes"]), enforce, simd_path)
        ctx = cls(core, _ckks.KeySet(core), _private=True)
        _register(ctx)
        return ctx

    @classmethod
    def for_planning(cls, poly_degree: int, coeff_bits: Sequence[int], scale_bits: int,
                     special_primes: Optional[int] = None, *, security: Optional[str] = "128") -> "Context":
        """Parameters only, no key at all: enough to plan and to encode
        plaintexts (a model's diagonals, the rotations a product needs, the
        scales of the levels) without making a secret key anywhere, e.g. on a
        server before any client came. Encrypting, decrypting or computing on
        ciphertexts with it raises ``MissingKeyError``. ``security=None``
        (research only) skips the 128-bit check, silently: nothing secret exists.
        Without ``special_primes``, the same choice as :meth:`create` makes.

        Example:
            >>> import securinfer as si
            >>> plan = si.Context.for_planning(8192, [60, 40, 40, 60], 40)
            >>> plan.has_secret_key, plan.max_level, round(plan.level_scale(0) / 2**40, 3)
            (False, 2, 1.0)
        """
        if security not in ("128", 128, None):
            raise ParameterError("security must be '128' or None")
        require_int(poly_degree, "poly_degree", minimum=0, maximum=1 << 31)
        require_int(scale_bits, "scale_bits", minimum=0, maximum=1 << 31)
        if not all(is_int(b) and -(1 << 31) < b < 1 << 31 for b in coeff_bits):
            raise ParameterError("coeff_bits must be a list of ints")
        if special_primes is None:
            chosen = _special_primes_by_cost(poly_degree, list(coeff_bits))
            coeff_bits, special_primes = chosen["coeff_bits"], chosen["special_primes"]
        require_int(special_primes, "special_primes", minimum=0, maximum=1 << 31)
        core = _ckks.CkksContext(int(poly_degree), [int(b) for b in coeff_bits], int(scale_bits),
                                 int(special_primes), security is not None, None)
        return cls(core, None, _private=True)

    def public(self) -> "Context":
        """The same parameters and evaluation keys without the secret key.

        Example:
            >>> import securinfer as si
            >>> ctx = si.Context.create(preset="fast")
            >>> ctx.public().has_secret_key
            False
        """
        public = Context(self._core, self._keys.without_secret(), _private=True)
        _register(public)
        return public

    def with_simd_path(self, path: str) -> "Context":
        """The same parameters and keys computing on another kernel path
        (``"scalar"``, ``"avx2"``, ``"avx512"``, ``"ifma"``), for tests and
        benchmarks; results are bit-identical across paths."""
        return Context(self._core.with_simd_path(path), self._keys, _private=True)

    def adopt(self, ciphertext: "Ciphertext") -> "Ciphertext":
        """The same ciphertext under this context: its public copy (to hand a
        client's ciphertexts to a server object without pickling) or a copy
        computing on another kernel path (:meth:`with_simd_path`). Same
        parameters and keys required (``ContextMismatchError``).

        Example:
            >>> import numpy as np, securinfer as si
            >>> ctx = si.Context.create(preset="fast")
            >>> ct = ctx.public().adopt(ctx.encrypt([1.0]))
            >>> ct.context.has_secret_key, np.round(ctx.decrypt(ct), 6)
            (False, array([1.]))
        """
        if not isinstance(ciphertext, Ciphertext):
            raise ParameterError(f"expected a securinfer.Ciphertext, got {type(ciphertext).__name__}")
        if self._keys is None or ciphertext.key_id != self._keys.key_id:
            raise ContextMismatchError("ciphertext was encrypted under other keys")
        return Ciphertext._wrap(self, ciphertext._core.rehome(self._core))

    def level_scale(self, level: int) -> float:
        """The scale a ciphertext at ``level`` has after the automatic
        pipeline (the top level's is :attr:`scale`; each lower one is the
        square of the one above over its prime)."""
        return self._core.level_scale(require_int(level, "level", minimum=0, maximum=self.max_level))

    # ------------------------------------------------------------------ bytes
    def serialize(self, *, secret_key: bool = False) -> bytes:
        """The context as bytes: parameters, public, relinearisation and Galois
        keys; the secret key only with ``secret_key=True`` (never by default).

        Example:
            >>> import securinfer as si
            >>> ctx = si.Context.create(preset="fast")
            >>> server = si.Context.load(ctx.public().serialize())
            >>> server.has_secret_key, server.parameters == ctx.parameters
            (False, True)
        """
        if secret_key and not self.has_secret_key:
            raise MissingKeyError("this context holds no secret key to serialize")
        return _io.save_context(self._core, self._keys, bool(secret_key))

    @classmethod
    def load(cls, data, *, security: Optional[str] = "128") -> "Context":
        """A context from :meth:`serialize`'s bytes, fully validated
        (``SerializationError`` on any fault). Parameters saved with the
        security check off load only with ``security=None``."""
        core, keys = _io.load_context(data)
        if not core.enforce_security:
            if security is not None:
                raise SecurityError("these parameters were made with security=None; load them with security=None "
                                    "if that is intended")
            warnings.warn("loading parameters made with security=None", stacklevel=2)
        ctx = cls(core, keys, _private=True)
        _register(ctx)
        return ctx

    def __reduce__(self):
        if self.has_secret_key:
            raise SerializationError("refusing to pickle a context holding the secret key; pickle ctx.public(), or "
                                     "use ctx.serialize(secret_key=True) deliberately")
        _register(self)
        return (_load_public, (self.serialize(),))

    # ------------------------------------------------------------------ keys
    def generate_rotation_keys(self, steps: Optional[Iterable[int]] = None, *, conjugation: bool = False) -> None:
        """Make Galois keys. Without ``steps``: the power-of-two steps in both
        directions (any rotation can then be composed). With ``steps``: exactly
        those. Needs the secret key.

        Example:
            >>> import numpy as np, securinfer as si
            >>> ctx = si.Context.create(preset="fast")
            >>> ctx.generate_rotation_keys(steps=[3])
            >>> np.round(ctx.decrypt(ctx.encrypt(np.arange(4096.0)).rotate(3))[:3], 3)
            array([3., 4., 5.])
        """
        if not self.has_secret_key:
            raise MissingKeyError("making rotation keys needs the secret key (a public context cannot)")
        if steps is None:
            powers = []
            p = 1
            while p < self.slots:
                powers += [p, -p]
                p *= 2
            steps = powers
        elements = []
        for s in steps:
            step = require_int(s, "a rotation step") % self.slots
            if step != 0:
                elements.append(self._core.galois_element(step))
        if conjugation:
            elements.append(self._core.conjugation_element)
        self._keys.add_galois_keys(self._core, sorted(set(elements)))

    @property
    def rotation_steps(self) -> list:
        """The left-rotation steps (in [1, slots)) that have a key."""
        have = set(self._keys.galois_elements())
        n2 = 2 * self.poly_degree
        steps, g = [], 1
        for step in range(self.slots):
            if step and g in have:
                steps.append(step)
            g = g * 5 % n2
        return steps

    @property
    def has_conjugation_key(self) -> bool:
        """Whether the Galois key of complex conjugation is present (``Ciphertext.conjugate``)."""
        return self._core.conjugation_element in set(self._keys.galois_elements())

    # ------------------------------------------------------------------ data
    def encrypt(self, values) -> "Ciphertext":
        """Encrypt a vector of up to ``slots`` real or complex values (padded
        with zeros). Symmetric with the secret key when the context has it,
        with the public key otherwise.

        Example:
            >>> import numpy as np, securinfer as si
            >>> ctx = si.Context.create(preset="fast")
            >>> ctx.encrypt(np.ones(10)).size
            10
        """
        if self._keys is None:
            raise MissingKeyError("this context holds no keys (it only plans); encrypt with a client's context")
        arr = as_values(values)
        if arr.size > self.slots:
            raise ShapeError(f"vector of {arr.size} values does not fit the {self.slots} slots of this context")
        return Ciphertext._wrap(self, _ckks.encrypt(self._core, self._keys, arr))

    #: Default of ``decrypt(noise_flooding=...)`` for this context (off: see docs/security.md).
    noise_flooding: bool = False
    #: Statistical security of flooding (lambda): the KL divergence between what the flooded
    #: decryptions reveal and what they would reveal without the ciphertexts' errors is at most 2^-lambda.
    flooding_statistical_bits: int = 30
    #: Flooded decryption refuses (ParameterError) when its noise would leave fewer bits than
    #: this in absolute terms (standard deviation of a slot above 2^-flooding_min_bits): at small
    #: scales flooding drowns the values, and a result that is noise must not look like one.
    flooding_min_bits: float = 4

    def decrypt(self, ciphertext: "Ciphertext", *, complex: Optional[bool] = None,
                noise_flooding: Optional[bool] = None, flooding_queries: int = 1,
                flooding_error_bound: Optional[float] = None) -> np.ndarray:
        """Decrypt to a numpy vector of the ciphertext's ``size`` values: real
        unless the data is complex (or ``complex=True``). Needs the secret key.

        ``noise_flooding=True`` (default: the context's ``noise_flooding``)
        hides the exact CKKS error, which depends on the secret key, from
        whoever sees the result (Li-Micciancio 2021, IND-CPA-D). The noise is
        deterministic per ciphertext (decrypting it again gives the same
        bits, so averaging gains nothing) and sized from an estimate of the
        ciphertext's own error (or ``flooding_error_bound``, the L2 norm of
        the error's coefficients in units of the scaled message) so that
        ``flooding_queries`` distinct shared decryptions keep
        ``flooding_statistical_bits`` (30) bits of statistical security. It
        costs precision (docs/security.md gives the numbers); when the noise
        would leave fewer than ``flooding_min_bits`` (4) bits, decryption
        raises ``ParameterError`` rather than return noise that looks like values.

        Example:
            >>> import numpy as np, securinfer as si
            >>> ctx = si.Context.create(preset="fast")
            >>> np.round(ctx.decrypt(ctx.encrypt([0.5, -2.0])), 6)
            array([ 0.5, -2. ])
            >>> ct = ctx.encrypt([0.5, -2.0])
            >>> a, b = ctx.decrypt(ct, noise_flooding=True), ctx.decrypt(ct, noise_flooding=True)
            >>> bool(np.array_equal(a, b)), bool(np.allclose(a, [0.5, -2.0], atol=0.05))
            (True, True)
        """
        if not isinstance(ciphertext, Ciphertext):
            raise ParameterError(f"expected a securinfer.Ciphertext, got {type(ciphertext).__name__}")
        if not self.has_secret_key:
            raise MissingKeyError("decryption needs the secret key; this is a public context")
        flood = self.noise_flooding if noise_flooding is None else bool(noise_flooding)
        if flood:
            if not is_int(flooding_queries) \
                    or flooding_queries < 1:
                raise ParameterError("flooding_queries must be a positive int")
            bound = 0.0 if flooding_error_bound is None else float(flooding_error_bound)
            if not (bound == 0.0 or (np.isfinite(bound) and bound > 0)):
                raise ParameterError("flooding_error_bound must be a positive finite number")
            values, info = _ckks.decrypt_flooded(self._keys, ciphertext._core, float(self.flooding_statistical_bits),
                                                 float(flooding_queries), not ciphertext.is_complex, bound)
            # A slot sums N coefficients over the scale: its noise has sd sigma sqrt(N) / scale.
            slot_sd = info["sigma"] * np.sqrt(self.poly_degree) / ciphertext.scale
            left = -np.log2(slot_sd) if slot_sd > 0 else np.inf
            if left < self.flooding_min_bits:
                raise ParameterError(
                    f"noise flooding at this ciphertext's scale (2^{np.log2(ciphertext.scale):.1f}) leaves "
                    f"{left:.1f} bits (slot noise sd {slot_sd:.3g}): the values would be noise. Use a larger "
                    f"scale, fewer flooding_queries, or decrypt without flooding for results that stay with "
                    f"the client (flooding_min_bits={self.flooding_min_bits} sets this bar)")
        else:
            values = _ckks.decrypt(self._keys, ciphertext._core, 0.0)
        values = values[: ciphertext.size]
        want_complex = ciphertext.is_complex if complex is None else complex
        return values if want_complex else values.real.copy()

    # ------------------------------------------------------------------ facts
    @property
    def poly_degree(self) -> int:
        return self._core.poly_degree

    @property
    def slots(self) -> int:
        return self._core.slots

    @property
    def max_level(self) -> int:
        """Multiplicative depth: the level of fresh ciphertexts."""
        return self._core.max_level

    @property
    def scale(self) -> float:
        """The scale of fresh ciphertexts: ``2 ** scale_bits``, unless the
        primes are so far from it that the level-0 scale would drift by more
        than a quarter bit; then slightly less, so that the level-0 scale is
        ``2 ** scale_bits`` (``csrc/ckks/context.cpp``)."""
        return self._core.level_scale(self.max_level)

    @property
    def coeff_bits(self) -> list:
        """Bit sizes of the chain primes then the special primes."""
        return [int(q).bit_length() for q in list(self._core.q_primes) + list(self._core.p_primes)]

    @property
    def key_id(self) -> int:
        """The random id of this context's key set (None for a planning context):
        ciphertexts carry it, so those of different clients are told apart."""
        return None if self._keys is None else self._keys.key_id

    @property
    def has_secret_key(self) -> bool:
        return self._keys is not None and self._keys.has_secret

    @property
    def parameters(self) -> Parameters:
        """The parameters (ring degree, primes, scale, security), a value
        compared in full."""
        return Parameters._from_core(self._core.parameters)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the parameters' canonical encoding, in hex: a name for
        logs and caches. Identity is decided by :meth:`same_parameters`."""
        return self.parameters.fingerprint

    def same_parameters(self, other: "Context") -> bool:
        """Whether ``other`` has exactly these parameters (compared in full)."""
        if not isinstance(other, Context):
            raise ParameterError(f"expected a securinfer.Context, got {type(other).__name__}")
        return self._core.same_parameters(other._core)

    @property
    def key_bytes(self) -> dict:
        """In-memory sizes of the evaluation keys."""
        return {"public": self._keys.public_byte_size, "relin": self._keys.relin_byte_size,
                "galois": self._keys.galois_byte_size}

    # ------------------------------------------------------------------ bootstrapping (securinfer.bootstrapping)
    def generate_bootstrapping_keys(self, slots=None) -> None:
        """The rotation and conjugation keys ``Ciphertext.bootstrap`` needs (also for sparse ``slots=[...]``)."""
        bootstrapping.generate_keys(self, slots)

    @property
    def levels_after_bootstrap(self) -> int:
        """The level a bootstrapped ciphertext comes back at."""
        return bootstrapping.levels_after(self)

    @property
    def bootstrap_input_level(self) -> int:
        """The lowest level a ciphertext can be bootstrapped from: 0, or on a
        chain laid out for SlotsToCoeffs first the levels that transform
        runs on (``levels_after_bootstrap - bootstrap_input_level`` levels
        are left for computation; docs/bootstrapping.md)."""
        return bootstrapping.input_level(self)

    def __repr__(self) -> str:
        kind = "secret" if self.has_secret_key else "public"
        return (f"<securinfer.Context N={self.poly_degree} coeff_bits={self.coeff_bits} "
                f"scale=2^{np.log2(self.scale):.0f} depth={self.max_level} {kind}>")

