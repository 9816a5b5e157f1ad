"""How many special primes key switching should use: a cost model in NTTs.

Hybrid (GHS) key switching with ``k`` special primes cuts a chain of ``L``
primes into ``dnum = ceil(L / k)`` digits of ``k`` primes. Its work, as
``csrc/ckks/key_switch.cpp`` does it at the top level:

- decompose: one inverse NTT per chain limb, then each digit is lifted by base
  conversion to the ``L + k - alpha`` primes it lacks and forward-NTT'd there;
- inner product: ``dnum`` digit x key products per limb of the extended base,
  for the two key halves;
- ModDown (twice): ``k`` inverse NTTs, a base conversion ``k -> L`` and ``L``
  forward NTTs.

Products that are not inside an NTT are weighed as ``2 / log2(N)`` NTT each
(an NTT does ``N/2 log2 N`` butterflies, each about one modular product), so
the cost is in NTT-equivalents of one limb. More special primes mean fewer
digits (the ``L^2 / k`` term shrinks) but more primes to lift to and to divide
by; they also add ``k`` primes to the total modulus, which the 128-bit bound
caps.

Example:
    >>> from securinfer.key_switching import key_switch_cost, choose_special_primes
    >>> round(key_switch_cost(65536, chain=21, special=1)), round(key_switch_cost(65536, chain=21, special=3))
    (695, 343)
    >>> choose_special_primes(8192, chain_bits=[60, 40, 40], special_bits=60)
    1
"""

from __future__ import annotations

import math
from typing import Sequence

from ._core import ckks as _ckks
from .errors import ParameterError


def key_switch_cost(poly_degree: int, chain: int, special: int) -> float:
    """NTT-equivalents of one key switch with ``chain`` limbs and ``special``
    special primes (digits of ``special`` primes, the last one shorter).

    Example:
        >>> round(key_switch_cost(8192, chain=3, special=1), 1)
        28.6
    """
    if chain < 1 or special < 1:
        raise ParameterError("key switching needs at least one chain prime and one special prime")
    log_n = math.log2(poly_degree)
    product = 2.0 / log_n  # one element-wise modular product per coefficient, in NTTs
    digit_sizes = [min(special, chain - start) for start in range(0, chain, special)]
    dnum = len(digit_sizes)
    ext = chain + special
    ntts = chain  # inverse NTT of the polynomial to decompose
    products = 0.0
    for alpha in digit_sizes:
        ntts += ext - alpha  # the digit's lifted limbs
        products += alpha * (ext - alpha) + alpha  # base conversion (with its per-source factor)
    products += 2 * dnum * ext  # inner product with both key halves
    ntts += 2 * (special + chain)  # two ModDowns: inverse on P, forward on the chain
    products += 2 * (special * chain + special + 2 * chain)  # their base conversions, subtract and scale
    return ntts + products * product


def choose_special_primes(poly_degree: int, chain_bits: Sequence[int], special_bits: int, *,
                          min_special: int = 1, secure: bool = True) -> int:
    """The number of special primes of ``special_bits`` bits that makes key
    switching cheapest for this chain, within the 128-bit bound on the total
    modulus (when ``secure``) and never below ``min_special``. Ties go to
    fewer special primes (smaller keys).

    Raises ParameterError when even ``min_special`` primes break the bound.

    Example:
        >>> choose_special_primes(65536, chain_bits=[50] * 21, special_bits=50)
        7
    """
    chain = len(chain_bits)
    if chain < 1 or min_special < 1:
        raise ParameterError("key switching needs at least one chain prime and one special prime")
    bound = _ckks.max_secure_modulus_bits(poly_degree) if secure else math.inf
    best, best_cost = None, math.inf
    for special in range(min_special, chain + 1):
        if sum(chain_bits) + special * special_bits > bound:
            break
        cost = key_switch_cost(poly_degree, chain, special)
        if cost < best_cost - 1e-9:
            best, best_cost = special, cost
    if best is None:
        raise ParameterError(
            f"{sum(chain_bits)} chain bits plus {min_special} special prime(s) of {special_bits} bits exceed "
            f"the 128-bit bound for N = {poly_degree}")
    return best


def default_special_primes(poly_degree: int, coeff_bits: Sequence[int], *, secure: bool = True) -> dict:
    """What ``Context.create(poly_degree=..., coeff_bits=...)`` should use when
    the caller leaves ``special_primes`` out: the last entry of ``coeff_bits``
    is the special prime size (as today), the others the chain, and the count
    of special primes of that size is chosen by cost within the 128-bit bound.
    A chain that does not fit even with one special prime is returned as given
    (one special prime), for the caller's own security check to refuse.

    Example:
        >>> default_special_primes(8192, [60, 40, 40, 60])
        {'coeff_bits': [60, 40, 40, 60], 'special_primes': 1}
        >>> default_special_primes(16384, [60] + [40] * 6 + [60])["special_primes"]
        2
    """
    bits = list(coeff_bits)
    if len(bits) < 2:
        return dict(coeff_bits=bits, special_primes=1)
    chain, special_bits = bits[:-1], bits[-1]
    try:
        count = choose_special_primes(poly_degree, chain, special_bits, secure=secure)
    except ParameterError:
        count = 1
    return dict(coeff_bits=chain + [special_bits] * count, special_primes=count)
