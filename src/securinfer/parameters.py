"""CKKS parameters as a value: ring degree, primes, scale and security level,
compared in full.

Two contexts, or a context and a file, meet only when their parameters are
equal field by field; the core checks this itself on every operation that
takes two objects. The fingerprint (SHA-256 of a canonical encoding) names
parameters in logs and caches; it is a 256-bit hash, not a 64-bit checksum
that could be forged.

Example:
    >>> import securinfer as si
    >>> a = si.Context.create(preset="fast").parameters
    >>> b = si.Context.create(preset="fast").parameters
    >>> a == b, a.poly_degree, len(a.fingerprint)
    (True, 8192, 64)
    >>> a == si.Context.create(preset="default").parameters
    False
"""

from __future__ import annotations

from typing import Tuple

from .errors import ParameterError

from ._core import ckks as _ckks
from ._core import io as _io
from ._validation import is_int

__all__ = ["Parameters", "max_secure_modulus_bits"]


def max_secure_modulus_bits(poly_degree: int) -> int:
    """The largest log2(Q*P) for 128-bit security with a uniform ternary
    secret (HomomorphicEncryption.org); 0 for an unlisted ring degree.

    Example:
        >>> max_secure_modulus_bits(8192), max_secure_modulus_bits(3000)
        (218, 0)
    """
    return _ckks.max_secure_modulus_bits(int(poly_degree))


class Parameters:
    """Immutable, hashable, comparable CKKS parameters (``Context.parameters``)."""

    __slots__ = ("_core",)

    def __init__(self, *_args, **_kwargs):
        raise ParameterError("parameters come from Context.parameters (make them with Context.create)")

    @classmethod
    def _from_core(cls, core) -> "Parameters":
        obj = object.__new__(cls)
        obj._core = core
        return obj

    @property
    def poly_degree(self) -> int:
        """Ring degree N (slots = N / 2)."""
        return self._core.poly_degree

    @property
    def q_primes(self) -> Tuple[int, ...]:
        """The ciphertext chain q_0 .. q_L."""
        return tuple(self._core.q_primes)

    @property
    def p_primes(self) -> Tuple[int, ...]:
        """The special primes of key switching."""
        return tuple(self._core.p_primes)

    @property
    def coeff_bits(self) -> Tuple[int, ...]:
        """Bit sizes of the chain primes then the special primes."""
        return tuple(int(q).bit_length() for q in self.q_primes + self.p_primes)

    @property
    def dnum(self) -> int:
        """Key-switching digits: chain primes per digit = special primes."""
        return -(-len(self.q_primes) // len(self.p_primes))

    @property
    def scale(self) -> float:
        """The nominal scale of fresh encodings (2 ** scale_bits)."""
        return self._core.default_scale

    @property
    def security(self):
        """``"128"`` when the 128-bit bound is enforced, else None."""
        return "128" if self._core.enforce_security else None

    @property
    def canonical_bytes(self) -> bytes:
        """The encoding the fingerprint hashes: a domain tag, then N, the
        primes, the scale's IEEE-754 bits and the security flag, little-endian."""
        return self._core.canonical_bytes

    @property
    def fingerprint(self) -> str:
        """SHA-256 of :attr:`canonical_bytes`, in hex."""
        return self._core.fingerprint.hex()

    @property
    def digest(self) -> bytes:
        """The same SHA-256, as the 32 bytes serialized headers carry."""
        return bytes(self._core.fingerprint)

    # ------------------------------------------------------------------ serialized sizes
    def max_ciphertext_bytes(self) -> int:
        """The largest serialized ciphertext of these parameters (two full
        polynomials at the top level), computed by the core from the layout
        it writes: a server's bound on an honest input before reading it."""
        return int(_io.max_ciphertext_bytes(self._core))

    def galois_key_bytes(self) -> int:
        """One serialized Galois key of these parameters."""
        return int(_io.galois_key_bytes(self._core))

    def public_context_bytes(self, galois_keys: int) -> int:
        """The serialized public context with ``galois_keys`` Galois keys
        (parameters, public key, relinearisation key, no secret key)."""
        if not is_int(galois_keys) or not 0 <= galois_keys < 1 << 20:
            raise ParameterError("galois_keys must be an int in [0, 2^20)")
        return int(_io.public_context_bytes(self._core, galois_keys))

    def __eq__(self, other) -> bool:
        if not isinstance(other, Parameters):
            return NotImplemented
        return self._core == other._core

    def __hash__(self) -> int:
        return hash(self._core.fingerprint)

    def __reduce__(self):
        raise ParameterError("Parameters are not pickled on their own; pickle the public context")

    def __repr__(self) -> str:
        sec = "128-bit" if self.security else "security=None"
        return f"<securinfer.Parameters N={self.poly_degree} coeff_bits={list(self.coeff_bits)} {sec}>"
