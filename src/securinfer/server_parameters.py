"""Making a client's keys from parameters a server described, trusting nothing.

A remote server tells its clients which CKKS parameters to use (a servable's
``describe()["context"]``). A malicious or compromised server could describe
weak parameters (so the client's secret key is cheap to recover from the
public key it uploads), huge ones (so the client spends minutes and
gigabytes making keys), or odd ones (``"security": None``, unknown fields).
So a client never passes a description to :meth:`Context.create` as it is:

* only the fields and value ranges of :data:`ALLOWED` pass (anything else,
  ``security`` included, is refused);
* the 128-bit check is always the client's own (``security="128"``, which
  no description can lift);
* every refusal is a :class:`~securinfer.errors.SecurityError`, raised before
  any key exists.

Example:
    >>> from securinfer.server_parameters import context_for_server
    >>> ctx = context_for_server({"preset": "fast"}, rotations=[1, 2])
    >>> ctx.poly_degree, ctx.has_secret_key
    (8192, True)
    >>> context_for_server({"poly_degree": 1024, "coeff_bits": [60] * 8, "scale_bits": 40, "security": None})
    Traceback (most recent call last):
    ...
    securinfer.errors.SecurityError: refused server parameters: field 'security' is not accepted from a server (the client's 128-bit check always applies)
"""

from __future__ import annotations

import warnings
from typing import Iterable, Mapping, Optional

from .context import Context
from .errors import ParameterError, SecurityError
from .presets import PRESETS, parameters_for_depth
from ._validation import is_int

__all__ = ["ALLOWED", "checked_description", "context_for_server", "check_key_budget", "key_bytes"]

#: What a server may ask for. Ring degrees from the smallest useful secure ring
#: to the largest whose keys a client makes in seconds; primes our kernels take.
ALLOWED = {
    "poly_degree": (4096, 8192, 16384, 32768),
    "prime_bits": (20, 60),          # each of coeff_bits, inclusive
    "chain_primes": (2, 48),         # primes in coeff_bits, special ones included
    "scale_bits": (20, 58),
    "special_primes": (1, 16),
    "depth": (1, 40),                # and the ring it needs must be one of poly_degree's
    "dnum": (1, 8),
    "presets": tuple(sorted(PRESETS)),
    "rotations": 256,                # distinct rotation steps a server may ask keys for
    # Memory of the evaluation keys (relinearisation and Galois) a server may make a client
    # generate: 256 rotation keys at N = 16384 are 12 GiB, at N = 32768 tens of GiB (the
    # client runs out of memory); the face match mode's compact probe needs about 2 GiB.
    "key_bytes": 4 << 30,
}

_FIELDS = {"preset", "depth", "dnum", "poly_degree", "coeff_bits", "scale_bits", "special_primes"}


def _refuse(why: str) -> SecurityError:
    return SecurityError(f"refused server parameters: {why}")


def _int_in(name: str, value, bounds) -> int:
    low, high = bounds
    if not is_int(value) or not low <= value <= high:
        raise _refuse(f"{name}={value!r} is not an int in [{low}, {high}]")
    return value


def checked_description(context: Mapping) -> dict:
    """The ``Context.create`` arguments of a server's description, each field
    and value checked against :data:`ALLOWED` (``SecurityError`` otherwise)."""
    if not isinstance(context, Mapping):
        raise _refuse(f"the description's context must be a dict, got {type(context).__name__}")
    for key in context:
        if key == "security":
            raise _refuse("field 'security' is not accepted from a server (the client's 128-bit check always applies)")
        if key not in _FIELDS:
            raise _refuse(f"unknown field {key!r}; a server may give only {sorted(_FIELDS)}")
    kw = dict(context)
    if "preset" in kw:
        if set(kw) != {"preset"}:
            raise _refuse("a preset goes alone")
        if not isinstance(kw["preset"], str) or kw["preset"] not in PRESETS:
            raise _refuse(f"unknown preset {kw['preset']!r}")
        return {"preset": kw["preset"]}
    if "depth" in kw:
        if set(kw) - {"depth", "scale_bits", "dnum"}:
            raise _refuse("depth goes only with scale_bits and dnum")
        out = {"depth": _int_in("depth", kw["depth"], ALLOWED["depth"])}
        if "scale_bits" in kw:
            out["scale_bits"] = _int_in("scale_bits", kw["scale_bits"], ALLOWED["scale_bits"])
        if "dnum" in kw:
            out["dnum"] = _int_in("dnum", kw["dnum"], ALLOWED["dnum"])
        try:  # the ring this depth needs, before any key: a deep request must not mean a huge ring
            degree = parameters_for_depth(out["depth"], out.get("scale_bits", 40), digits=out.get("dnum", 3))["poly_degree"]
        except ParameterError as error:
            raise _refuse(str(error)) from None
        if degree not in ALLOWED["poly_degree"]:
            raise _refuse(f"depth {out['depth']} needs N = {degree}, more than a client makes keys for "
                          f"({max(ALLOWED['poly_degree'])})")
        return out
    if set(kw) - {"poly_degree", "coeff_bits", "scale_bits", "special_primes"} or \
            not {"poly_degree", "coeff_bits", "scale_bits"} <= set(kw):
        raise _refuse("give a preset, a depth, or poly_degree with coeff_bits and scale_bits")
    degree = kw["poly_degree"]
    if isinstance(degree, bool) or degree not in ALLOWED["poly_degree"]:
        raise _refuse(f"poly_degree={degree!r} is not one of {ALLOWED['poly_degree']}")
    bits = kw["coeff_bits"]
    if not isinstance(bits, (list, tuple)):
        raise _refuse("coeff_bits must be a list of ints")
    _int_in("the number of primes", len(bits), ALLOWED["chain_primes"])
    bits = [_int_in("coeff_bits[i]", b, ALLOWED["prime_bits"]) for b in bits]
    scale = _int_in("scale_bits", kw["scale_bits"], ALLOWED["scale_bits"])
    out = {"poly_degree": degree, "coeff_bits": bits, "scale_bits": scale}
    if "special_primes" in kw:  # else Context.create's choice by cost, within the 128-bit bound
        out["special_primes"] = _int_in("special_primes", kw["special_primes"], (
            ALLOWED["special_primes"][0], min(ALLOWED["special_primes"][1], len(bits) - 1)))
    return out


def context_for_server(context: Mapping, rotations: Iterable = (), conjugation: bool = False,
                       max_key_bytes: Optional[int] = None) -> Context:
    """A fresh secret-key :class:`Context` for a server's described parameters
    (checked by :func:`checked_description` and by the 128-bit bound, both
    before any key is made), with Galois keys for ``rotations`` (at most
    ``ALLOWED["rotations"]`` distinct int steps) and, with ``conjugation=True``,
    the conjugation key; their memory at most ``max_key_bytes`` (default
    ``ALLOWED["key_bytes"]``: a client that expects more raises it itself)."""
    kw = checked_description(context)
    if not isinstance(conjugation, bool):
        raise _refuse(f"conjugation must be True or False, got {conjugation!r}")
    steps = set()
    for step in rotations:
        if not is_int(step) or abs(step) >= 1 << 31:
            raise _refuse(f"rotation step {step!r} is not a small int")
        steps.add(step)
    if len(steps) > ALLOWED["rotations"]:
        raise _refuse(f"{len(steps)} rotation keys asked for, at most {ALLOWED['rotations']} accepted")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning may pass silently here
            ctx = Context.create(**kw, security="128")
    except SecurityError as error:
        raise _refuse(str(error)) from None
    except (ParameterError, Warning) as error:
        raise _refuse(str(error)) from None
    check_key_budget(ctx, len(steps) + int(conjugation), max_key_bytes)
    if steps or conjugation:
        ctx.generate_rotation_keys(steps=sorted(steps), conjugation=conjugation)
    return ctx


def key_bytes(context: Context, galois_keys: int) -> int:
    """The memory of ``galois_keys`` Galois keys of ``context``'s parameters
    (each: dnum digits of two polynomials over all primes)."""
    p = context.parameters
    return int(galois_keys) * p.dnum * 2 * (len(p.q_primes) + len(p.p_primes)) * p.poly_degree * 8


def check_key_budget(context: Context, galois_keys: int, limit: Optional[int] = None) -> None:
    """``SecurityError`` unless the relinearisation key and ``galois_keys``
    Galois keys of ``context``'s parameters take at most ``limit`` bytes
    (default ``ALLOWED["key_bytes"]``): called before a client makes the
    Galois keys a server asked for."""
    if limit is None:
        limit = ALLOWED["key_bytes"]
    if not is_int(limit) or limit < 0:
        raise ParameterError(f"max_key_bytes must be a non-negative int, got {limit!r}")
    per_key = key_bytes(context, 1)
    total = (int(galois_keys) + 1) * per_key
    if total > limit:
        raise _refuse(f"{galois_keys} Galois keys of {per_key / 2 ** 20:.0f} MiB each (and the relinearisation key) "
                      f"make {total / 2 ** 30:.1f} GiB; this client accepts at most {limit / 2 ** 30:.1f} GiB of "
                      "keys (max_key_bytes=... raises it)")
