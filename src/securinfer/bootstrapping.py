"""CKKS bootstrapping: a ciphertext at its last level back to many levels.

The pipeline (Cheon-Han-Kim-Kim-Song 2018, Bossuat et al. 2021), all slots::

    ModRaise        level 0 -> top: decrypts to t = Delta m + q0 I (I small)
    CoeffsToSlots   the inverse special FFT, factored into `level_budget[0]`
                    groups of butterfly stages (one BSGS transform each):
                    slots <- coefficients of t / (q0 (K + 1)), bit-reversed
    split           real and imaginary parts (one conjugation, a free
                    multiplication by -i)
    EvalMod         per part, a Chebyshev series of a scaled cosine and
                    `double_angles` steps c -> 2c^2 - 1: sin(2 pi t / q0)
    SlotsToCoeffs   the special FFT, `level_budget[1]` groups, times
                    q0 / (2 pi Delta): the original slots again

Sparse slots run one EvalMod on both parts (packed in alternate blocks of
the replicated vector). ``passes=2`` (meta-bootstrapping) bootstraps the
first result's error, scaled up by 2^error_scale_bits, and subtracts it.

SlotsToCoeffs first (``stc_first``, chains laid out by
``parameters_for_bootstrap(..., arcsine=True, stc_first=True)``): the same
stages in the order SlotsToCoeffs (on the input's last levels, where the
ciphertext is small), ModRaise, CoeffsToSlots, EvalMod. SlotsToCoeffs turns
the slots into the plaintext's coefficients, CoeffsToSlots turns them back,
and EvalMod's arcsine polynomial carries the factor q0 / (2 pi Delta).

The bit reversal of the FFT cancels between the two transforms (EvalMod acts
slot-wise), so neither transform permutes. K bounds |I|: for a secret of
Hamming weight h, I is within 1/2 of a sum of h independent terms uniform on
[-1/2, 1/2]; K is the least bound that a coefficient exceeds with
probability at most 2^-40 over the whole ciphertext, by a Chernoff bound
(`failure_log2`; h taken as 2N/3 + 6 sqrt(N) for a uniform ternary secret,
above its weight but with probability 2^-103).

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.bootstrapping import TEST_PARAMETERS
    >>> ctx = si.Context.create(**TEST_PARAMETERS, security=None)   # doctest: +SKIP
    >>> ctx.generate_bootstrapping_keys()                             # doctest: +SKIP
    >>> x = ctx.encrypt(np.linspace(-1, 1, 2048)).drop_to_level(0)    # doctest: +SKIP
    >>> y = x.bootstrap(); y.level == ctx.levels_after_bootstrap      # doctest: +SKIP
    True
"""

from __future__ import annotations

import functools
import math
import weakref
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.polynomial import chebyshev as C

from ._core import bootstrap as _boot
from ._core import ckks as _ckks
from ._validation import require_int
from .errors import LevelError, MissingKeyError, ParameterError, SecurityError

__all__ = ["Bootstrapper", "bootstrapper_for", "prepare", "generate_keys", "parameters_for_bootstrap", "TEST_PARAMETERS",
           "special_fft_stages", "modular_range", "failure_log2", "check_encapsulation_security",
           "default_encapsulation", "default_options", "default_plan", "required_galois_elements"]

#: Small insecure parameters (use with ``security=None``) for tests: N = 2^12,
#: q0 of 47 bits (2^7 above the 2^40 scale: the measured optimum between
#: the sine's cubic error and EvalMod's noise), 3 levels of 40 bits left.
TEST_PARAMETERS = dict(
    poly_degree=4096,
    coeff_bits=[47] + [40] * 3 + [45] * 3 + [60] * 12 + [58] * 3 + [60, 60],
    scale_bits=40,
    special_primes=2,
)

def parameters_for_bootstrap(poly_degree: int, levels_after: int, level_budget: Sequence[int] = (3, 3),
                             scale_bits: int = 40, special_primes: int = 3, encapsulation: Optional[int] = None,
                             q0_headroom_bits: Optional[int] = None, stc_bits: Optional[int] = None,
                             eval_mod_bits: Optional[int] = None, arcsine: bool = False,
                             stc_first: Optional[bool] = None) -> dict:
    """A chain for bootstrapping at ``poly_degree`` that leaves ``levels_after``
    levels of ``scale_bits`` after each bootstrap, for ``Context.create(**...)``.

    From the bottom: q0 of scale_bits + headroom bits (default 7 at N = 2^12
    down to 5 at 2^16, with encapsulation 10 at 2^12 down to 6 at 2^16: the
    measured optimum between the sine's cubic error, which grows with the
    headroom's inverse, and EvalMod's noise, which the
    headroom multiplies; coefficients shrink as 1/sqrt(N)), the computing
    levels, SlotsToCoeffs primes of `stc_bits` (default 60 with encapsulation:
    the canonical scales of EvalMod's last levels then stay near 2^57, worth
    1.8 bits at N = 2^14; else scale_bits + 5, which fits the dense chain in 1747 bits),
    EvalMod primes of `eval_mod_bits` (60, or 59 with encapsulation; its noise sets the precision),
    CoeffsToSlots primes of 58 bits, then ``special_primes`` 60-bit primes.
    At N = 2^16 with encapsulation, ``scale_bits=43`` still fits (1741 bits)
    and lifts the rounding of every rescale 3 bits below the 24-bit target.

    ``stc_first`` (default: ``arcsine``; needs ``arcsine=True``): SlotsToCoeffs runs first, on
    the input's last ``level_budget[1]`` levels, which are computing primes
    of ``scale_bits`` at the bottom of the chain (there the ciphertext has 2
    to 4 primes, not 11 to 13); EvalMod's output is the result. The chain
    then holds ``levels_after + level_budget[1]`` computing levels: a
    bootstrap returns at the top of them and takes its input at level
    ``level_budget[1]`` or above, so ``levels_after`` levels are left for
    computation as before, and the 60-bit SlotsToCoeffs primes are gone (at
    N = 2^16: room for a sixth special prime, one key-switching digit less).

    Example:
        >>> p = parameters_for_bootstrap(65536, 9)
        >>> sum(p["coeff_bits"]) <= 1747
        True
    """
    if stc_first is None:
        stc_first = arcsine
    if q0_headroom_bits is None and stc_first:
        # SlotsToCoeffs first bounds |t / q0| by 2^-(headroom + 4) for every
        # input in [-1, 1] (_STC_FIRST_SHRINK_BITS), and the arcsine
        # correction removes the sine's cubic error: 4 bits.
        # (In the usual order a coefficient of the input's encoding is as
        # large as its slots for a constant vector: a vector of 0.9 at q0
        # 2^2 above the scale came back with 2.6 bits at N = 2^14. There the
        # headroom stays the one without arcsine.)
        q0_headroom_bits = 4
    if q0_headroom_bits is None:
        # With encapsulation EvalMod has no double angles to amplify noise, so
        # the optimum moves up (measured at N = 2^13, 2^14: 18.9 bits at 5,
        # 22.4 at 8 to 11 for 2^13; 20.6 at 6, 20.8 at 8 and 10 for 2^14), and
        # falls by a bit per doubling of N (at 2^16, one pass: 19.9 bits at 4,
        # 21.4 at 5 and 6, 20.5 at 7, 19.6 at 8).
        if encapsulation is not None:
            q0_headroom_bits = 22 - int(math.log2(poly_degree))
        else:
            q0_headroom_bits = int(round(7 - (math.log2(poly_degree) - 12) / 2))
    if stc_bits is None:
        stc_bits = 60 if encapsulation is not None else scale_bits + 5
    if eval_mod_bits is None:
        # 59, not 60, with encapsulation: a key-switching digit of seven EvalMod
        # primes then stays 2^7 below the special primes' product P, and the
        # key switches at the top level (the switch back, CoeffsToSlots'
        # rotations) lose their D/P ~ 1 noise: 22.4 -> 23.4 bits at N = 2^13.
        eval_mod_bits = 59 if encapsulation is not None else 60
    k_range = modular_range(poly_degree, encapsulation)
    r = _fewest_levels(k_range, cheapest=encapsulation is not None)
    coeffs, _ = _cosine_series(k_range, r)
    em = _chebyshev_depth(len(coeffs) - 1) + r + (_chebyshev_depth(len(_ARCSINE_SERIES) - 1) if arcsine else 0)
    if stc_first:
        if not arcsine:
            raise ParameterError("stc_first needs arcsine=True (EvalMod's last polynomial then carries "
                                 "the factor SlotsToCoeffs carries in the usual order)")
        bottom = [scale_bits] * (levels_after + level_budget[1])
    else:
        bottom = [scale_bits] * levels_after + [stc_bits] * level_budget[1]
    bits = ([scale_bits + q0_headroom_bits] + bottom + [eval_mod_bits] * em
            + [58] * level_budget[0] + [60] * special_primes)
    return dict(poly_degree=poly_degree, coeff_bits=bits, scale_bits=scale_bits, special_primes=special_primes)


# (CoeffsToSlots, SlotsToCoeffs) levels of a plan nobody prepared.
_DEFAULT_LEVEL_BUDGET = (3, 3)

# Failure probability of the modular reduction (|I| > K somewhere), log2.
_FAILURE_LOG2 = -40

# SlotsToCoeffs first: the slot values enter ModRaise as coefficients scaled
# by 2^-4, so |t / q0| <= 2^-(4 + q0 headroom) = 2^-8 for every input in
# [-1, 1] (parameters_for_bootstrap's headroom 4). A sum of 8 is the best
# trade between the arcsine's residual (3/40) y^5, which grows with |t / q0|,
# and EvalMod's noise, which grows as it shrinks (max error, N = 2^16, 6
# special primes: 21.0 / 23.4 / 22.6 bits at sums 7 / 8 / 9). Within the
# sum, the headroom is better spent on q0 than on the shrink, which shrinks
# the message against the noise below ModRaise: at N = 2^16 (headroom,
# shrink) = (2, 6): 23.4 bits uniform, 23.2 for a vector of 0.9; (4, 4):
# 24.1-24.2 and 24.1; (5, 3): 24.2 and 23.9 (1747 bits, the bound).
_STC_FIRST_SHRINK_BITS = 4

# Encapsulation: the largest log2(q0 p) of a key to a weight-32 ephemeral
# secret that a published 128-bit parameter set covers, by ring degree (the
# sets of Bossuat et al. 2022 / Lattigo, docs/security.md); larger degrees are
# only harder. Weights below 32 and smaller degrees have no published cover.
_EPHEMERAL_MODULUS_BITS = {32768: 152, 65536: 426}
_EPHEMERAL_MIN_WEIGHT = 32


def check_encapsulation_security(core_context, hamming_weight: int) -> None:
    """SecurityError unless the key to a sparse secret of this weight is
    covered by a published estimate (checked only while the context enforces
    128-bit security; ``security=None`` contexts skip it, like every check)."""
    if not core_context.enforce_security:
        return
    n = core_context.poly_degree
    covered = [bits for degree, bits in _EPHEMERAL_MODULUS_BITS.items() if degree <= n]
    bits = int(core_context.q_primes[0]).bit_length() + int(core_context.p_primes[0]).bit_length()
    if not covered or hamming_weight < _EPHEMERAL_MIN_WEIGHT or bits > max(covered):
        raise SecurityError(
            f"sparse-secret encapsulation with weight {hamming_weight} at N = {n} and log2(q0 p) = {bits} is not "
            f"covered by a published 128-bit estimate (needs N >= 32768, weight >= {_EPHEMERAL_MIN_WEIGHT}, "
            f"log2(q0 p) <= 152 at N = 2^15 or 426 at 2^16; docs/security.md)")


# ---------------------------------------------------------------- the DFT
def special_fft_stages(poly_degree: int, slots: int, inverse: bool) -> List[Dict[int, np.ndarray]]:
    """The butterfly stages of the special FFT as diagonals, in the order
    they apply. ``inverse=False``: V = S_(n/2) ... S_1 (bit-reversed input,
    natural slot order out; V[j, k] = zeta^(5^j k), zeta = exp(i pi / N));
    ``inverse=True``: the inverses, the last stage's first.

    Each stage is ``{k: D_k}`` with y = sum_k D_k * roll(x, -k).

    Example:
        >>> stages = special_fft_stages(16, 8, inverse=False)
        >>> len(stages), sorted(stages[0])
        (3, [0, 1, 7])
    """
    n, m = slots, 2 * poly_degree
    rot = np.array([pow(5, j, m) for j in range(n)], dtype=np.int64)
    stages = []
    lenh = 1
    while lenh < n:
        length, lenq = 2 * lenh, 8 * lenh
        j = np.arange(n) % length
        low = j < lenh
        jj = np.where(low, j, j - lenh)
        w = np.exp(1j * np.pi * ((rot[jj] % lenq) * (m // lenq)) / poly_degree)
        stage: Dict[int, np.ndarray] = {}

        def put(k, d):
            k %= n
            stage[k] = stage.get(k, 0) + d

        if not inverse:
            put(0, np.where(low, 1.0, -w))
            put(lenh, np.where(low, w, 0))
            put(-lenh, np.where(low, 0, 1.0))
        else:
            put(0, np.where(low, 0.5, -0.5 / w))
            put(lenh, np.where(low, 0.5, 0))
            put(-lenh, np.where(low, 0, 0.5 / w))
        stages.append(stage)
        lenh *= 2
    return stages[::-1] if inverse else stages


def _compose(first: Dict[int, np.ndarray], then: Dict[int, np.ndarray], n: int) -> Dict[int, np.ndarray]:
    """Diagonals of x -> then(first(x))."""
    out: Dict[int, np.ndarray] = {}
    for a, da in then.items():
        for b, db in first.items():
            k = (a + b) % n
            out[k] = out.get(k, 0) + da * np.roll(db, -a)
    return out


def _group(stages: List[Dict[int, np.ndarray]], budget: int, n: int) -> List[Dict[int, np.ndarray]]:
    budget = max(1, min(budget, len(stages)))
    sizes = [len(stages) // budget + (1 if i < len(stages) % budget else 0) for i in range(budget)]
    groups, at = [], 0
    for size in sizes:
        g = stages[at]
        for s in stages[at + 1 : at + size]:
            g = _compose(g, s, n)
        groups.append({k: v for k, v in g.items() if np.any(np.abs(v) > 1e-300)})
        at += size
    return groups


# ---------------------------------------------------------------- EvalMod
def _weight_bound(poly_degree: int, hamming_weight: Optional[int]) -> float:
    """The Hamming weight the bound assumes: the given one, or for a uniform
    ternary secret 2N/3 + 6 sqrt(N), which its weight (binomial, mean 2N/3)
    exceeds with probability at most exp(-72) < 2^-103 (Hoeffding)."""
    return 2 * poly_degree / 3 + 6 * math.sqrt(poly_degree) if hamming_weight is None else float(hamming_weight)


def failure_log2(poly_degree: int, hamming_weight: Optional[int], k_range: int) -> float:
    """log2 of an upper bound on the probability that one bootstrap's modular
    reduction fails (some |I_k| > K), for a secret of that weight (None:
    uniform ternary).

    ModRaise of (c0, c1) (centred) gives c0 + c1 s = m + q0 I, so I_k is
    within 1/2 + |m_k| / q0 of S_k = (c1 s)_k / q0, a sum of h independent
    terms uniform on [-1/2, 1/2] (c1 is uniform modulo q0); |I_k| > K then
    needs |S_k| >= K + 1/2 - |m_k| / q0 >= K (|m_k| < q0 / 2 always).
    Such a term is strictly sub-Gaussian (its moment generating function,
    sinh(x/2)/(x/2), is at most exp(x^2/24)), so Chernoff's bound gives
    P(|S_k| >= t) <= 2 exp(-6 t^2 / h); a union over the N coefficients at
    t = K gives 2 N exp(-6 K^2 / h). A uniform ternary secret adds 2^-103 (its weight
    above the assumed bound).

    Example:
        >>> failure_log2(65536, 32, 15) < -40
        True
    """
    h = _weight_bound(poly_degree, hamming_weight)
    bound = math.log2(2 * poly_degree) - 6 * k_range ** 2 / h / math.log(2)
    if hamming_weight is None:
        bound = math.log2(2.0 ** bound + 2.0 ** -103)
    return bound


def modular_range(poly_degree: int, hamming_weight: Optional[int] = None,
                  failure_log2_target: float = _FAILURE_LOG2) -> int:
    """K: the least bound on |I| whose failure probability (failure_log2) is
    at most 2^failure_log2_target, for a uniform ternary secret (hamming_weight
    None) or one of that weight.

    Example:
        >>> modular_range(4096) > 100, modular_range(65536, 32)
        (True, 15)
    """
    h = _weight_bound(poly_degree, hamming_weight)
    k = max(1, int(math.sqrt((math.log2(2 * poly_degree) - failure_log2_target) * math.log(2) * h / 6)))
    while failure_log2(poly_degree, hamming_weight, k) > failure_log2_target:
        k += 1
    return k


# y + y^3 / 6 in the Chebyshev basis on [-1, 1] (y^3 = (T3 + 3 T1) / 4).
_ARCSINE_SERIES = (0.0, 1.0 + 1.0 / 8.0, 0.0, 1.0 / 24.0)

_SERIES_TOLERANCE = 2.0 ** -44  # below the evaluation's own noise (scales ~2^56)


def _cosine_series(k_range: int, double_angles: int, tolerance: float = _SERIES_TOLERANCE) -> Tuple[np.ndarray, float]:
    """Chebyshev interpolant of cos(2 pi ((K+1) u - 1/4) / 2^r) on [-1, 1], of
    the least degree 2^d - 1 whose error is below `tolerance` (the last one
    tried, degree 255, otherwise)."""
    fn = lambda u: np.cos(2 * np.pi * ((k_range + 1) * u - 0.25) / 2 ** double_angles)
    grid = np.cos(np.linspace(0, np.pi, 20001))
    for d in range(3, 9):
        degree = 2 ** d - 1
        coeffs = C.chebinterpolate(fn, degree)
        err = float(np.max(np.abs(C.chebval(grid, coeffs) - fn(grid))))
        if err < tolerance:
            break
    return coeffs, err


def _chebyshev_depth(degree: int) -> int:
    """Levels the core's Chebyshev evaluator spends (an upper bound)."""
    lg = max(1, (degree).bit_length())
    m = 1 << max(1, (lg + 1) // 2)
    depth = {1: 0}

    def t(k):
        if k not in depth:
            a, b = (k + 1) // 2, k // 2
            depth[k] = max(t(a), t(b)) + 1
        return depth[k]

    for k in range(2, m + 1):
        t(k)
    g = 2 * m
    while g <= degree:
        t(g)
        g *= 2

    def ev(deg):
        if deg < m:
            return max(depth[k] for k in range(1, deg + 1)) + 1
        giant = m
        while 2 * giant <= deg:
            giant *= 2
        return max(max(ev(deg - giant), depth[giant]) + 1, ev(giant - 1))

    return ev(degree)


@functools.lru_cache(maxsize=None)
def _fewest_levels(k_range: int, cheapest: bool = False) -> int:
    """The number of double angles r whose EvalMod (series + r) is shallowest;
    ties go to the fewer double angles (each doubles the error), or with
    ``cheapest`` to the lower series degree (the series dominates a
    bootstrap's time: with encapsulation, K = 15, r = 2 and degree 63 instead
    of r = 0 and degree 255, the same 9 levels, halve the bootstrap at
    N = 2^14 for 0.3 bits)."""
    best = None
    for r in range(0, 13):
        coeffs, err = _cosine_series(k_range, r)
        if err > _SERIES_TOLERANCE:
            continue
        depth = _chebyshev_depth(len(coeffs) - 1) + r
        key = (depth, len(coeffs)) if cheapest else (depth,)
        if best is None or key < best[0]:
            best = (key, r)
    if best is None:
        raise ParameterError(f"no EvalMod plan for K = {k_range}")
    return best[1]


def _eval_mod_levels(poly_degree: int, encapsulation: Optional[int]) -> int:
    """EvalMod's levels for the default series and double angles."""
    k_range = modular_range(poly_degree, encapsulation)
    r = _fewest_levels(k_range, cheapest=encapsulation is not None)
    return _chebyshev_depth(len(_cosine_series(k_range, r)[0]) - 1) + r


def _computing_levels(core_context) -> int:
    """The levels above q0 at the base scale (the chain's computing levels)."""
    base = core_context.level_scale(0)
    computing = 0
    while computing < core_context.max_level and \
            abs(math.log2(core_context.level_scale(computing + 1) / base)) < 0.01:
        computing += 1
    return computing


def default_options(core_context, level_budget: Sequence[int] = (3, 3),
                    encapsulation: Union[int, None, str] = "auto") -> Tuple[Optional[int], bool]:
    """``(encapsulation, arcsine)`` for a plan of this chain when they are not
    named: the plan whose bootstrap lands exactly on the top of the chain's
    computing levels (the levels above q0 at the base scale), as
    :func:`parameters_for_bootstrap` lays them out. Encapsulation: None (the
    dense secret's own modular reduction, 14 EvalMod levels at N = 2^16) or
    weight 32 (sparse-secret encapsulation, 9; ``preset="bootstrap"``);
    arcsine: two levels more after EvalMod (``preset="bootstrap"``). A chain
    that fits none exactly keeps the dense plan without arcsine. Decided from
    the parameters alone (and a given ``encapsulation``, the installed keys'
    weight on a server), so a client and a server holding them agree.
    (:func:`default_plan` also says whether SlotsToCoeffs runs first.)

    Example:
        >>> import securinfer as si
        >>> default_options(si.Context.for_planning(**si.presets.PRESETS["bootstrap"])._core)
        (32, True)
    """
    return default_plan(core_context, level_budget, encapsulation)[:2]


def default_plan(core_context, level_budget: Sequence[int] = (3, 3),
                 encapsulation: Union[int, None, str] = "auto") -> Tuple[Optional[int], bool, bool]:
    """``(encapsulation, arcsine, stc_first)`` as :func:`default_options`
    decides them, and whether the chain is laid out for SlotsToCoeffs first
    (its SlotsToCoeffs levels are computing levels at the bottom:
    ``parameters_for_bootstrap(..., stc_first=True)``).

    Example:
        >>> import securinfer as si
        >>> p = parameters_for_bootstrap(65536, 9, encapsulation=32, special_primes=6, scale_bits=43,
        ...                              arcsine=True, stc_first=True)
        >>> default_plan(si.Context.for_planning(**p)._core)
        (32, True, True)
    """
    computing = _computing_levels(core_context)
    top = core_context.max_level - int(level_budget[0])
    n = core_context.poly_degree
    arcsine_levels = _chebyshev_depth(len(_ARCSINE_SERIES) - 1)
    weights = [None, _EPHEMERAL_MIN_WEIGHT] if encapsulation == "auto" else [encapsulation]
    for arcsine in (False, True):
        for weight in weights:
            output = top - _eval_mod_levels(n, weight) - (arcsine_levels if arcsine else 0)
            if output - int(level_budget[1]) == computing:
                return weight, arcsine, False
            if arcsine and output == computing:
                return weight, arcsine, True
    return weights[0], False, False


def default_encapsulation(core_context, level_budget: Sequence[int] = (3, 3)) -> Optional[int]:
    """The encapsulation of :func:`default_options`.

    Example:
        >>> import securinfer as si
        >>> default_encapsulation(si.Context.for_planning(**si.presets.PRESETS["bootstrap"])._core)
        32
    """
    return default_options(core_context, level_budget)[0]


# ---------------------------------------------------------------- the plan
class Bootstrapper:
    """The prepared bootstrapping of one context: transforms encoded once,
    the rotation steps known before any key exists.

    ``level_budget``: (CoeffsToSlots, SlotsToCoeffs) levels. ``k_range`` and
    ``double_angles`` default to the 2^-40 failure bound and the fewest
    double-angle steps that keep the cosine's argument within 2 turns.

    Example:
        >>> b = Bootstrapper(ctx._core, level_budget=(2, 2))   # doctest: +SKIP
        >>> b.levels_after, len(b.rotation_steps())            # doctest: +SKIP
        (3, 40)
    """

    def __init__(self, core_context, level_budget: Sequence[int] = (3, 3), k_range: Optional[int] = None,
                 double_angles: Optional[int] = None, slots: Optional[int] = None,
                 encapsulation: Optional[int] = None, keep_plaintexts: bool = True, arcsine: bool = False,
                 passes: int = 1, error_scale_bits: int = 12, stc_first: bool = False):
        self._ctx = core_context
        # Two passes (meta-bootstrapping, Bae et al. 2022): the second
        # bootstraps the first's error, times 2^error_scale_bits (docs/bootstrapping.md).
        # Integers only: passes=True or error_scale_bits=12.7 must not pass as 1 and 12.
        self.passes = require_int(passes, "bootstrapping passes", minimum=1, maximum=2)
        self.error_scale_bits = require_int(error_scale_bits, "error_scale_bits", minimum=1, maximum=29)
        # Hamming weight of the ephemeral sparse secret (None: no encapsulation).
        self.encapsulation = None if encapsulation is None else int(encapsulation)
        if self.encapsulation is not None:
            check_encapsulation_security(core_context, self.encapsulation)
        n_deg, n = core_context.poly_degree, core_context.slots
        sparse = n if slots is None else int(slots)
        if sparse < 16 or sparse > n or sparse & (sparse - 1):
            raise ParameterError(f"bootstrapping slots must be a power of two in [16, {n}]; got {slots}")
        self.slots = sparse
        gap = n // sparse
        if len(level_budget) != 2 or min(level_budget) < 1:
            raise ParameterError("level_budget is (CoeffsToSlots levels, SlotsToCoeffs levels), each >= 1")
        # Two passes are two modular reductions: each at half the failure bound.
        target = _FAILURE_LOG2 - (self.passes - 1)
        self.k_range = modular_range(n_deg, self.encapsulation, target) if k_range is None else int(k_range)
        if double_angles is None:
            double_angles = _fewest_levels(self.k_range, cheapest=self.encapsulation is not None)
        self.double_angles = int(double_angles)
        self.series, self.series_error = _cosine_series(self.k_range, self.double_angles)
        if self.series_error > _SERIES_TOLERANCE:
            raise ParameterError(f"no cosine series of degree <= 255 reaches 2^-44 with {self.double_angles} "
                                 f"double angles for K = {self.k_range}; use more double angles")
        em_depth = _chebyshev_depth(len(self.series) - 1) + self.double_angles
        # The arcsine correction: EvalMod gives y = sin(2 pi e) for e = (t mod
        # q0) / q0; y + y^3 / 6 is 2 pi e up to (3/40) y^5 instead of y^3 / 6:
        # inputs whose coefficients are large against q0 / Delta (constant
        # vectors near 1, say) keep their precision. Two more levels.
        self.arcsine = bool(arcsine)
        if self.arcsine:
            em_depth += _chebyshev_depth(len(_ARCSINE_SERIES) - 1)
        self.eval_mod_depth = em_depth
        if self.passes == 2 and sparse != n:
            raise ParameterError("two-pass bootstrapping is for full slots only (so far)")
        cts_budget, stc_budget = int(level_budget[0]), int(level_budget[1])
        # SlotsToCoeffs first: EvalMod's last polynomial must carry the
        # factor q0 / (2 pi Delta) that the first SlotsToCoeffs group carries
        # otherwise (a double angle, last, cannot).
        self.stc_first = bool(stc_first)
        if self.stc_first and not self.folds_input_scale:
            raise ParameterError("SlotsToCoeffs first needs the arcsine correction (arcsine=True) or an EvalMod "
                                 "without double angles")
        if self.stc_first and self.passes == 2:
            raise ParameterError("two-pass bootstrapping runs SlotsToCoeffs last (stc_first=False)")
        top = core_context.max_level
        # The input's level: SlotsToCoeffs first uses the input's last levels.
        self.input_level = stc_budget if self.stc_first else 0
        self.levels_after = top - cts_budget - em_depth - (0 if self.stc_first else stc_budget)
        if self.levels_after < self.input_level:
            raise LevelError(
                f"bootstrapping needs {cts_budget + em_depth + stc_budget} levels above the base prime; "
                f"these parameters have {top} (use more primes, or parameters_for_bootstrap(...))")
        if self.passes == 2 and self.levels_after < 1:
            raise LevelError("two-pass bootstrapping needs at least one level left after a bootstrap")
        q0 = float(core_context.q_primes[0])
        self._input_scale = core_context.level_scale(0)
        self._input_level_scale = core_context.level_scale(self.input_level)
        self._raise_scale = core_context.level_scale(top)

        # Sparse slots: the special FFT of ring degree 2 * slots, its diagonals
        # repeated over the full slot vector (which is periodic by then).
        cts = _group(special_fft_stages(2 * sparse, sparse, inverse=True), cts_budget, sparse)
        stc = _group(special_fft_stages(2 * sparse, sparse, inverse=False), stc_budget, sparse)
        if len(cts) != cts_budget or len(stc) != stc_budget:
            raise ParameterError(f"{sparse} slots have only {len(cts)} FFT stages for the level budget")
        # Constants folded into the transforms: w/2 so that w + conj(w) is the
        # real part (1/2: the split), t / (q0 (K+1)) for EvalMod's domain, 1/gap
        # for the subring projection's factor; the inverse of EvalMod's
        # 2 pi Delta / q0 into the first SlotsToCoeffs group. The domain
        # factor alpha (2^4..2^8 at N = 2^16) goes into the *first*
        # CoeffsToSlots group: the later groups' rescales and key switches
        # then add their fixed noise to a message alpha times larger (it was
        # in the last group: that CoeffsToSlots error, measured alone, 22.1 ->
        # 24.2 bits, and with the arcsine correction one pass 22.2 -> 25.5).
        alpha = self._raise_scale / (2 * q0 * (self.k_range + 1) * gap)
        cts[0] = {k: v * alpha for k, v in cts[0].items()}
        # (The projection's subring coefficients encode the replicated vector / gap.)
        beta = q0 * gap / (2 * np.pi * self._input_scale)
        if self.stc_first:
            # SlotsToCoeffs makes the slot values the plaintext's
            # coefficients (in the usual order they are the encoding's, for
            # most vectors sqrt(n) times smaller, but as large for constant
            # ones). It scales them by 2^-_STC_FIRST_SHRINK_BITS, so that t /
            # q0 stays as small for every input in [-1, 1]; EvalMod's last
            # polynomial multiplies back, and by beta. (gap: beta's gap
            # stands for the projection's sum of gap equal blocks.)
            shrink = 2.0 ** -_STC_FIRST_SHRINK_BITS
            self._eval_mod_factor = beta / shrink / gap
            stc[0] = {k: v * shrink for k, v in stc[0].items()}
        else:
            self._eval_mod_factor = 1.0
            stc[0] = {k: v * beta for k, v in stc[0].items()}
        tile = lambda g: {k: np.tile(v, gap) for k, v in g.items()}
        # keep_plaintexts False: diagonals encoded at each use (~25x less memory at N = 2^16).
        build = lambda d, level: _boot.ComplexTransform(core_context, d, level, 0, keep_plaintexts)
        make = lambda g, level: build(tile(g), level)
        stc_top = top - cts_budget - em_depth
        # Sparse slots pack the real and imaginary parts into one EvalMod
        # (gap >= 2: the slots hold gap copies of the vector, in blocks of
        # `slots`): the last CoeffsToSlots group writes the even blocks only
        # (an output mask, folded into its diagonals); the imaginary part is
        # rotated into the odd blocks. After EvalMod, y = u + i rot(u, slots)
        # holds the vector z in the even blocks and i conj(z) in the odd ones,
        # so the first SlotsToCoeffs group is E(y) + O(conj y): E reads the
        # even blocks, O the odd ones (input masks folded into diagonals).
        # u is real (EvalMod of a real vector), so conj y = u - i rot(u, slots)
        # and that is one transform of u: diagonals e_k + o_k at k and
        # i (e_k - o_k) at k + slots. No conjugation, no rotation to unpack,
        # one baby-step giant-step transform instead of two.
        # SlotsToCoeffs first: no transform follows EvalMod, so its last
        # polynomial unpacks, as three masked copies A, B, C (the masks ride
        # on its coefficients: no level): z = A + rot(B, slots) + rot(C,
        # -slots), A = (E + i O) u (the even blocks' real parts, the odd
        # ones' imaginary), B = i O u (the imaginary parts, moved to the even
        # blocks), C = E u (the real parts, moved to the odd blocks).
        self.packed = gap >= 2
        self._stc_packed = None
        self._unpack_masks = None
        if self.packed:
            even = ((np.arange(n) // sparse) % 2 == 0).astype(float)
            last = {k: v * even for k, v in tile(cts[-1]).items()}
            self._cts = [make(g, top - i) for i, g in enumerate(cts[:-1])] + [build(last, top - len(cts) + 1)]
        if self.packed and self.stc_first:
            odd = 1.0 - even
            self._unpack_masks = [list(even + 1j * odd), list(1j * odd), list(even + 0j)]
            self._stc = [make(g, stc_budget - i) for i, g in enumerate(stc)]
        elif self.packed:
            packed: Dict[int, np.ndarray] = {}
            for k, v in tile(stc[0]).items():
                e, o = v * np.roll(even, -k), v * np.roll(1.0 - even, -k) * 1j
                for index, diagonal in ((k, e + o), ((k + sparse) % n, 1j * (e - o))):
                    packed[index] = packed.get(index, 0) + diagonal
            self._stc_packed = build(packed, stc_top)
            self._stc = [None] + [make(g, stc_top - i) for i, g in enumerate(stc) if i > 0]
        else:
            self._cts = [make(g, top - i) for i, g in enumerate(cts)]
            first_stc = stc_budget if self.stc_first else stc_top
            self._stc = [make(g, first_stc - i) for i, g in enumerate(stc)]
        # The second pass's first SlotsToCoeffs group also divides by
        # 2^error_scale_bits (free: folded into its diagonals).
        self._stc_fine = None
        if self.passes == 2:
            fine = 2.0 ** -self.error_scale_bits
            self._stc_fine = make({k: v * fine for k, v in stc[0].items()}, stc_top)
        # Subring projection (sparse only): sum of the rotations by multiples of `slots`.
        self._subsum = [sparse << j for j in range(int(math.log2(gap)))]

    def rotation_steps(self) -> List[int]:
        """The rotation steps the transforms use (conjugation comes on top)."""
        steps = set(self._subsum)
        if self._unpack_masks is not None:
            steps.update({self.slots, -self.slots})
        for t in self._transforms():
            steps.update(t.required_rotations())
        return sorted(steps)

    def galois_elements(self) -> List[int]:
        return sorted({self._ctx.galois_element(s) for s in self.rotation_steps()} | {self._ctx.conjugation_element})

    @property
    def plaintext_bytes(self) -> int:
        return sum(t.byte_size for t in self._transforms())

    def _transforms(self):
        extra = [self._stc_fine, self._stc_packed]
        return [t for t in self._cts + self._stc + extra if t is not None]

    # The stages, for tests and profiling.
    def coeffs_to_slots(self, keys, ct, encapsulation_keys=None):
        """ModRaise + CoeffsToSlots: slots <- (t_k + i t_(k+n)) / (2 q0 (K+1)),
        bit-reversed (t the raised coefficients). With encapsulation, ModRaise
        happens under the ephemeral sparse secret."""
        if self.encapsulation is not None:
            if encapsulation_keys is None or encapsulation_keys.hamming_weight != self.encapsulation:
                raise MissingKeyError("this bootstrapping uses sparse-secret encapsulation (weight "
                                      f"{self.encapsulation}) and the context's keys lack its keys; call "
                                      "ctx.generate_bootstrapping_keys() on the client and send its public context")
            ct = _boot.switch_to_sparse(encapsulation_keys, ct)
        x = _boot.mod_raise(ct, self._ctx.max_level, self._raise_scale)
        if self.encapsulation is not None:
            x = _boot.switch_from_sparse(encapsulation_keys, x)
        for step in self._subsum:
            x = _ckks.add(x, _ckks.rotate(keys, x, step))
        for t in self._cts:
            x = t.apply(keys, x)
        return x

    @property
    def folds_input_scale(self) -> bool:
        """Whether EvalMod ends in a polynomial linear in its coefficients
        (no double angle last), so an input scale other than the canonical
        one is corrected there, for free, and the output lands exactly on its
        level's canonical scale."""
        return self.arcsine or self.double_angles == 0

    def eval_mod(self, keys, ct, factor: float = 1.0):
        """EvalMod (and the arcsine correction), times `factor` when
        folds_input_scale (ignored otherwise)."""
        if self.arcsine:
            y = _boot.eval_mod(keys, ct, list(self.series), self.double_angles)
            if self._unpack_masks is not None:
                a, b, c = _boot.evaluate_chebyshev_masked(keys, y, [c * factor for c in _ARCSINE_SERIES],
                                                          self._unpack_masks)
                return _ckks.add(a, _ckks.add(_ckks.rotate(keys, b, self.slots), _ckks.rotate(keys, c, -self.slots)))
            return _boot.evaluate_chebyshev(keys, y, [c * factor for c in _ARCSINE_SERIES])
        if self.double_angles == 0:
            return _boot.eval_mod(keys, ct, [c * factor for c in self.series], 0)
        return _boot.eval_mod(keys, ct, list(self.series), self.double_angles)

    def slots_to_coeffs(self, keys, ct, fine: bool = False):
        """SlotsToCoeffs; ``fine``: the second pass's, which also divides by
        2^error_scale_bits. Packed (sparse) plans in the usual order take
        EvalMod's real output: the real parts in the even blocks, the
        imaginary parts in the odd."""
        first = self._stc_packed if self._stc_packed is not None else self._stc_fine if fine else self._stc[0]
        for t in [first] + self._stc[1:]:
            ct = t.apply(keys, ct)
        return ct

    def bootstrap_core(self, keys, ct, encapsulation_keys=None):
        """A core ciphertext at any level -> the same values at `levels_after`
        (the slot state is the caller's to set: bootstrap() below)."""
        missing = [g for g in self.galois_elements() if not keys.has_galois_key(g)]
        if missing:
            raise MissingKeyError(f"bootstrapping needs {len(missing)} Galois keys this context lacks; "
                                  "call ctx.generate_bootstrapping_keys() on the client first")
        # The transforms act on the whole polynomial: every slot is data here
        # (bootstrap() states the result's layout).
        ct = _ckks.with_layout(ct, self._ctx.slots, "zeros")
        if ct.level < self.input_level:
            raise LevelError(f"this bootstrapping runs SlotsToCoeffs first on the input's last {self.input_level} "
                             f"levels: bootstrap at level {self.input_level} or above (this ciphertext is at level "
                             f"{ct.level})")
        if ct.level > self.input_level:
            # To the input level at its canonical scale (the scale the transforms assume).
            ct = _boot.adjust_to(ct, self.input_level, self._input_level_scale)
        # An input scale other than the canonical one (ratio r) leaves r m in
        # the slots: EvalMod multiplies by 1 / r where it can (then the output
        # scale is canonical, and stays so through later products: a scale
        # off by r becomes r^2 off after a squaring, r^(2^k) after k), else
        # the output's scale is relabelled by r (exact values, scale off by r).
        first = self._one_pass(keys, ct, encapsulation_keys, fine=False)
        if self.passes == 1:
            return first
        # Meta-bootstrapping: at level 0, D = 2^b (first - ct) exactly but for
        # one rescale's rounding (first lands at scale 2^b s, ct is multiplied
        # by the integer 2^b: both exact modulo q0, wrap-arounds included), so
        # D holds 2^b times the first pass's error e. Read at ct's scale, D is
        # a small input for a second pass whose SlotsToCoeffs divides by 2^b:
        # it returns e + e' / 2^b, and first minus it leaves only e' / 2^b
        # and the rounding / 2^b.
        up = 2.0 ** self.error_scale_bits
        ct_up = _boot.with_scale(_ckks.multiply_scalar(ct, up), ct.scale * up)
        first_low = _boot.adjust_to(first, 0, ct.scale * up)
        d = _boot.with_scale(_ckks.sub(first_low, ct_up), ct.scale)
        correction = self._one_pass(keys, d, encapsulation_keys, fine=True)
        return _ckks.sub(first, correction)

    def _one_pass(self, keys, ct, encapsulation_keys, fine: bool):
        """One bootstrap of a ciphertext at the input level."""
        # An input scale other than the canonical one (ratio r) leaves r m in
        # the slots: EvalMod multiplies by 1 / r where it can (then the output
        # scale is canonical), else the output's scale is relabelled by r.
        ratio = ct.scale / self._input_level_scale
        fold = self.folds_input_scale
        if self.stc_first:
            if self.slots != self._ctx.slots:
                # The zero-padded vector, replicated: the subring's slots.
                for step in self._subsum:
                    ct = _ckks.add(ct, _ckks.rotate(keys, ct, step))
            ct = self.slots_to_coeffs(keys, ct)
        w = self.coeffs_to_slots(keys, ct, encapsulation_keys)
        wc = _ckks.conjugate(keys, w)
        re = _ckks.add(w, wc)
        im = _boot.multiply_by_i(_ckks.sub(w, wc), True)
        factor = self._eval_mod_factor / ratio
        if self.packed:
            # One EvalMod: the real parts in the even blocks, the imaginary in the odd.
            y = self.eval_mod(keys, _ckks.add(re, _ckks.rotate(keys, im, self.slots)), factor)
        else:
            re = self.eval_mod(keys, re, factor)
            im = self.eval_mod(keys, im, factor)
            y = _ckks.add(re, _boot.multiply_by_i(im, False))
        if self.stc_first:
            return y
        out = self.slots_to_coeffs(keys, y, fine)
        return out if fold else _boot.with_scale(out, out.scale * ratio)


_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _installed_weight(context) -> Optional[int]:
    """The Hamming weight of the encapsulation keys the context's key set
    holds (made here, or loaded with a public context), None without them."""
    keys = getattr(context, "_keys", None)
    enc = None if keys is None else _boot.encapsulation_keys(keys)
    return None if enc is None else enc.hamming_weight


def bootstrapper_for(context, slots: Optional[int] = None) -> Bootstrapper:
    """The context's Bootstrapper for `slots` (default: all), prepared once
    per Python context (with the level budget of `prepare`, default (3, 3);
    with encapsulation when the context's keys carry encapsulation keys, as a
    server context loaded from a client's public bytes does)."""
    plans = _CACHE.setdefault(context, {})
    key = context.slots if slots is None else int(slots)
    if key not in plans:
        weight, arcsine, stc_first = _defaults(context)
        plans[key] = Bootstrapper(context._core, slots=key, encapsulation=weight, arcsine=arcsine,
                                  stc_first=stc_first)
    return plans[key]


def _defaults(context, level_budget: Sequence[int] = _DEFAULT_LEVEL_BUDGET) -> Tuple[Optional[int], bool, bool]:
    """(encapsulation, arcsine, stc_first) of an unprepared plan: the
    installed keys' weight if any, and what the chain is laid out for."""
    weight = _installed_weight(context)
    return default_plan(context._core, level_budget, "auto" if weight is None else weight)


def _plan_for_keys(context, slots: int) -> Bootstrapper:
    """The context's plan for `slots` if one is prepared, else one that only
    lists keys: its diagonals are not encoded (a client that makes the keys
    need not hold the 2.8 GiB a bootstrapping server keeps at N = 2^16), and
    it is not cached (the first bootstrap prepares the plan it runs)."""
    plans = _CACHE.get(context, {})
    if slots in plans:
        return plans[slots]
    weight, arcsine, stc_first = _defaults(context)
    return Bootstrapper(context._core, slots=slots, encapsulation=weight, arcsine=arcsine, keep_plaintexts=False,
                        stc_first=stc_first)


def prepare(context, slots: Optional[int] = None, level_budget: Sequence[int] = (3, 3),
            encapsulation: Union[int, None, str] = "auto", keep_plaintexts: bool = True,
            double_angles: Optional[int] = None, arcsine: Union[bool, str] = "auto", passes: int = 1,
            error_scale_bits: int = 12, stc_first: Union[bool, str] = "auto") -> Bootstrapper:
    """Prepares (or re-prepares) the context's bootstrapping for `slots` with
    another level budget, before keys are made: more CoeffsToSlots /
    SlotsToCoeffs levels mean fewer diagonals, keys and plaintexts.
    ``encapsulation``: ``"auto"`` (default) as :func:`default_encapsulation`
    decides from the chain (or the weight of the encapsulation keys the
    context already holds), None for none, ``32``: sparse-secret encapsulation with an ephemeral
    secret of that Hamming weight (Bossuat et al. 2022): K ~ 16 instead of
    ~500, fewer EvalMod levels, more precision; its two keys serialize with
    the public context (a server loaded from those bytes bootstraps the same
    way without calling prepare); the key to the ephemeral secret is exposed
    modulo q0 P only (docs/security.md gives the security argument).
    ``keep_plaintexts=False`` encodes the DFT diagonals at each bootstrap
    instead of holding them (3 GiB less at N = 2^16, some seconds more).
    ``arcsine=True``: the arcsine correction after EvalMod (two levels), for
    inputs with large encoded coefficients (near-constant vectors near 1),
    and what SlotsToCoeffs first needs; ``"auto"``
    (default): when the chain is laid out for it (:func:`default_options`).
    ``passes=2``: meta-bootstrapping (Bae et al. 2022): a second bootstrap of
    the first's error times 2^error_scale_bits, subtracted; twice the time,
    the same levels, about 10 bits more precise (full slots only).
    ``stc_first``: SlotsToCoeffs first, on the input's last levels (needs
    the arcsine correction and a chain laid out for it:
    ``parameters_for_bootstrap(..., stc_first=True)``); ``"auto"`` (default):
    when the chain is laid out for it.

    Example:
        >>> plan = prepare(ctx, level_budget=(4, 4)); ctx.generate_bootstrapping_keys()   # doctest: +SKIP
    """
    if isinstance(encapsulation, str) and encapsulation != "auto":
        raise ParameterError(f"encapsulation is 'auto', None or a Hamming weight; got {encapsulation!r}")
    if isinstance(arcsine, str) and arcsine != "auto":
        raise ParameterError(f"arcsine is 'auto', True or False; got {arcsine!r}")
    if isinstance(stc_first, str) and stc_first != "auto":
        raise ParameterError(f"stc_first is 'auto', True or False; got {stc_first!r}")
    if encapsulation == "auto":
        weight = _installed_weight(context)
        encapsulation = weight if weight is not None else "auto"
    chosen_weight, chosen_arcsine, chosen_stc_first = default_plan(context._core, level_budget, encapsulation)
    encapsulation = chosen_weight
    if arcsine == "auto":
        arcsine = chosen_arcsine
    if stc_first == "auto":
        stc_first = chosen_stc_first and bool(arcsine) and passes == 1
    plans = _CACHE.setdefault(context, {})
    key = context.slots if slots is None else int(slots)
    plans[key] = Bootstrapper(context._core, level_budget=level_budget, slots=key, encapsulation=encapsulation,
                              keep_plaintexts=keep_plaintexts, double_angles=double_angles, arcsine=arcsine,
                              passes=passes, error_scale_bits=error_scale_bits, stc_first=stc_first)
    return plans[key]


def required_galois_elements(context, slots: Optional[int] = None) -> List[int]:
    """The Galois elements a bootstrap of `slots` (default: all) needs keys
    for, without encoding any diagonal (a client sizing its keys)."""
    return _plan_for_keys(context, context.slots if slots is None else int(slots)).galois_elements()


def generate_keys(context, slots: Optional[Iterable[int]] = None, full: bool = True) -> None:
    """The Galois keys bootstrapping needs (rotations + conjugation), nothing
    more: for full slots (unless ``full=False``: a context that bootstraps
    only sparse vectors saves the full transforms' keys, 5 GiB at N = 2^16),
    and for each sparse slot count in `slots`; and the
    encapsulation keys when the plan uses encapsulation. All of them live in
    the context's key set: public copies share them and they serialize with
    the public context."""
    if not context.has_secret_key:
        raise MissingKeyError("bootstrapping keys are made with the secret key (on the client)")
    counts = ([context.slots] if full else []) + ([] if slots is None else [int(s) for s in slots])
    if not counts:
        raise ParameterError("no slot count to make bootstrapping keys for (full=False needs slots=[...])")
    needed = set()
    weights = set()
    for count in counts:
        plan = _plan_for_keys(context, count)
        needed.update(plan.galois_elements())
        if plan.encapsulation is not None:
            weights.add(plan.encapsulation)
    if len(weights) > 1:
        raise ParameterError(f"the plans of this context use encapsulation secrets of weights {sorted(weights)}; "
                             "a context holds keys for one")
    for h in weights:
        if _installed_weight(context) != h:
            _boot.install_encapsulation_keys(context._keys,
                                             _boot.make_encapsulation_keys(context._core, context._keys, h))
    context._keys.add_galois_keys(context._core, sorted(g for g in needed if not context._keys.has_galois_key(g)))


def bootstrap(ciphertext, slots: Optional[int] = None):
    """The same values, refreshed to level ``levels_after_bootstrap`` (from
    level ``bootstrap_input_level`` or above).

    ``slots``: a sparse slot count (power of two >= the vector's length, its
    keys made by ``generate_bootstrapping_keys(slots=[...])``): cheaper
    transforms; the slots past it then hold replicas of the vector."""
    ctx = ciphertext._context
    full = slots is None or int(slots) == ctx.slots
    if not full:
        if len(ciphertext) > int(slots):
            raise ParameterError(f"a vector of {len(ciphertext)} values does not fit {slots} bootstrapping slots")
        ciphertext._require_zero_padding("sparse bootstrapping")
    plan = bootstrapper_for(ctx, None if full else int(slots))
    core = plan.bootstrap_core(ctx._keys, ciphertext._core, _boot.encapsulation_keys(ctx._keys))
    out = ciphertext._new(core)
    # Slot by slot the values come back: the padding keeps its state, except
    # that sparse slots come back repeated with their count as the period.
    if full:
        return out._relabel(len(ciphertext), ciphertext.padding, ciphertext.period, ciphertext.is_complex)
    return out._relabel(len(ciphertext), "replicated", int(slots), ciphertext.is_complex)


def levels_after(context) -> int:
    """The level a bootstrap returns at, without preparing a plan (which
    encodes gigabytes of diagonals at N = 2^16) when none is prepared."""
    plans = _CACHE.get(context, {})
    if context.slots in plans:
        return plans[context.slots].levels_after
    core = context._core
    weight, arcsine, stc_first = _defaults(context)
    cts, stc = _DEFAULT_LEVEL_BUDGET
    after = core.max_level - cts - (0 if stc_first else stc) - _eval_mod_levels(core.poly_degree, weight) - \
        (_chebyshev_depth(len(_ARCSINE_SERIES) - 1) if arcsine else 0)
    floor = stc if stc_first else 0
    return after if after >= floor else bootstrapper_for(context).levels_after   # the latter raises LevelError


def input_level(context) -> int:
    """The lowest level a bootstrap takes its input at: 0, or with
    SlotsToCoeffs first the levels it runs on (prepares no plan)."""
    plans = _CACHE.get(context, {})
    if context.slots in plans:
        return plans[context.slots].input_level
    return _DEFAULT_LEVEL_BUDGET[1] if _defaults(context)[2] else 0
