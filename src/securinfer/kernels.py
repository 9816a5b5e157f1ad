"""Low-level kernels: modular arithmetic, NTT-friendly primes, the negacyclic NTT
and element-wise operations over one RNS limb.

Most users never need this module; it is here for tests, benchmarks and those
who build on the kernels. Arrays are 1-D ``numpy.uint64``; values must be below
the modulus. ``path`` forces a SIMD path (``"scalar"``, ``"avx2"``,
``"avx512"``, ``"ifma"``); by default the fastest valid one for the prime.

Example:
    >>> import numpy as np
    >>> from securinfer import kernels
    >>> q = kernels.generate_ntt_primes(49, 1024, 1)[0]
    >>> plan = kernels.NttPlan(1024, q)
    >>> a = np.arange(1024, dtype=np.uint64)
    >>> bool((plan.inverse(plan.forward(a)) == a).all())
    True
"""

from ._core.kernels import (  # noqa: F401
    NttPlan,
    add_mod,
    base_convert,
    eltwise_add,
    eltwise_dot,
    eltwise_mul,
    eltwise_mul_add,
    eltwise_mul_scalar,
    eltwise_negate,
    eltwise_sub,
    generate_ntt_primes,
    inv_mod,
    is_prime,
    minimal_primitive_root,
    mul_mod,
    mul_shoup,
    pow_mod,
    sub_mod,
)

__all__ = [
    "NttPlan",
    "add_mod",
    "sub_mod",
    "mul_mod",
    "mul_shoup",
    "pow_mod",
    "inv_mod",
    "is_prime",
    "generate_ntt_primes",
    "minimal_primitive_root",
    "eltwise_add",
    "eltwise_sub",
    "eltwise_negate",
    "eltwise_mul",
    "eltwise_mul_add",
    "eltwise_mul_scalar",
    "eltwise_dot",
    "base_convert",
]
