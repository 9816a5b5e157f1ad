"""CKKS parameters named by a servable's ``describe()["context"]``, without
any key, and the largest serialized objects they allow.

The server must know, before it reads a body, how large an honest body can
be: a ciphertext of these parameters has at most two polynomials over the
whole chain, and a context carries a public key, a relinearisation key and
a bounded number of Galois keys, each of known packed size (computed by the
core from the layout it writes: ``Parameters.max_ciphertext_bytes`` and
friends). :class:`ParameterSet` gives those caps for the parameters alone;
the server refuses anything larger unread.

Example:
    >>> from securinfer.serve.parameters import ParameterSet
    >>> p = ParameterSet.from_description({"preset": "fast"})
    >>> p.poly_degree, p.slots, p.dnum
    (8192, 4096, 3)
    >>> p.max_ciphertext_bytes()   # header + level/size/slot state/scale + 2 x (49+40+40 bits x 8192)
    264277
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..context import Context
from ..errors import ParameterError
from ..parameters import Parameters
from ..presets import PRESETS, parameters_for_depth

__all__ = ["ParameterSet"]


@dataclass(frozen=True)
class ParameterSet:
    """Parameters (no keys) with the facts the server checks bodies against."""

    description: dict
    poly_degree: int
    chain_bits: tuple        # bit widths of the chain primes q_0 .. q_L
    special_bits: tuple      # bit widths of the special primes
    dnum: int                # key-switching digits
    scale_bits: int
    parameters: Parameters   # compared in full with an upload's
    fingerprint: bytes       # SHA-256 of the parameters: finds them before a body is parsed

    @classmethod
    def from_description(cls, context: Mapping) -> "ParameterSet":
        """The parameters ``si.Context.create(**context)`` would make (a
        preset, a depth, or poly_degree/coeff_bits/scale_bits/special_primes),
        checked for 128-bit security, without generating keys. Any malformed
        value (a file's content is untrusted) raises ``ParameterError``."""
        try:
            return cls._from_description(context)
        except (TypeError, OverflowError, AttributeError) as error:
            raise ParameterError(f"malformed context description: {error}") from None

    @classmethod
    def _from_description(cls, context: Mapping) -> "ParameterSet":
        if not isinstance(context, Mapping):
            raise ParameterError("a servable's description must give its context as a dict of Context.create arguments")
        kw = dict(context)
        allowed = {"preset", "depth", "dnum", "poly_degree", "coeff_bits", "scale_bits", "special_primes"}
        if set(kw) - allowed:
            raise ParameterError(f"unknown context arguments {sorted(set(kw) - allowed)}; allowed: {sorted(allowed)}")
        if "preset" in kw:
            if not isinstance(kw["preset"], str) or kw["preset"] not in PRESETS:
                raise ParameterError(f"unknown preset {kw['preset']!r}; choose from {sorted(PRESETS)}")
            spec = dict(PRESETS[kw["preset"]])
        elif "depth" in kw:
            spec = parameters_for_depth(kw["depth"], kw.get("scale_bits", 40), digits=kw.get("dnum"))
        else:
            try:
                spec = dict(poly_degree=int(kw["poly_degree"]), coeff_bits=[int(b) for b in kw["coeff_bits"]],
                            scale_bits=int(kw["scale_bits"]), special_primes=int(kw.get("special_primes", 1)))
            except (KeyError, TypeError, ValueError) as error:
                raise ParameterError(f"context needs poly_degree, coeff_bits and scale_bits: {error}") from None
        plan = Context.for_planning(spec["poly_degree"], spec["coeff_bits"], spec["scale_bits"], spec["special_primes"])
        params = plan.parameters
        return cls(description=dict(kw), poly_degree=params.poly_degree,
                   chain_bits=tuple(int(q).bit_length() for q in params.q_primes),
                   special_bits=tuple(int(p).bit_length() for p in params.p_primes),
                   scale_bits=int(spec["scale_bits"]), dnum=params.dnum, parameters=params,
                   fingerprint=params.digest)

    def matches(self, context) -> bool:
        """Whether ``context`` (a securinfer.Context) has exactly these parameters."""
        return context.parameters == self.parameters

    def planning_context(self) -> Context:
        """A keyless context of these parameters, to plan or encode plaintext
        work before any client key exists (:meth:`Context.for_planning`)."""
        return Context.for_planning(self.poly_degree, list(self.chain_bits) + list(self.special_bits),
                                    self.scale_bits, len(self.special_bits))

    @property
    def slots(self) -> int:
        return self.poly_degree // 2

    @property
    def max_level(self) -> int:
        return len(self.chain_bits) - 1

    def max_ciphertext_bytes(self) -> int:
        """The largest serialized ciphertext: two full polynomials at the top level."""
        return self.parameters.max_ciphertext_bytes()

    def galois_key_bytes(self) -> int:
        """One serialized Galois key."""
        return self.parameters.galois_key_bytes()

    def max_galois_keys(self, rotations=()) -> int:
        """The most Galois keys an honest client sends: the power-of-two steps
        in both directions, the exact ``rotations`` servables ask for, and
        the conjugation key."""
        powers, p = set(), 1
        while p < self.slots:
            powers |= {p % self.slots, -p % self.slots}
            p *= 2
        exact = {int(r) % self.slots for r in rotations} - {0}
        return len(powers | exact) + 1

    def context_bytes(self, galois_keys: int) -> int:
        """The serialized public context with ``galois_keys`` Galois keys."""
        return self.parameters.public_context_bytes(galois_keys)
