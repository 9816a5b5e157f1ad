"""The planner: packing, CKKS parameters and the cost of a plan.

Parameters are the smallest 128-bit-secure ones that fit: a chain of
``depth`` primes of ``scale_bits = precision_bits + 10`` bits (the noise
of a fresh secret-key encryption and of rescaling sits about 2^-16 below the
scale; encryption with the public key adds about 10 bits more noise), a
base prime wide enough for every calibrated value at its level (the chain
primes are not exactly 2^scale, so the scales of low levels drift up; the
exact level scales are computed), and as many special primes of the base prime's size as the ring dimension's
security bound still admits (more special primes: fewer key-switching digits,
smaller and faster keys). The ring dimension is the smallest whose bound fits
(and whose slots hold one input, for the slot packing).

Example:
    >>> from securinfer.nn.planner import choose_parameters
    >>> p = choose_parameters(depth=5, precision_bits=16, magnitudes=[(5, 40.0)])
    >>> p["poly_degree"], p["scale_bits"], p["coeff_bits"][1:3]
    (8192, 26, [26, 26])
"""

from __future__ import annotations

import math

import numpy as np
from typing import Optional, Sequence, Tuple

from ..context import Context
from ..parameters import max_secure_modulus_bits
from ..errors import ParameterError
from .fold_sum import fold_steps
from .packing import Layout
from .._validation import is_int

__all__ = ["choose_parameters", "choose_layout", "estimate_cost", "node_costs", "min_scale_bits", "HEADROOM_BITS",
           "transform_cost", "bsgs_rotations", "slot_plan_cost", "best_fold", "plan_folds"]

HEADROOM_BITS = 10
_DEGREES = (4096, 8192, 16384, 32768, 65536)


def _level_scales(n: int, scale: int, depth: int):
    """log2 of each level's scale and of each chain prime (index = level) for
    a chain of ``depth`` primes of ``scale`` bits: the primes are not exactly
    2^scale, so the scale of lower levels drifts (s_(l-1) = s_l^2 / q_l)."""
    plan = Context.for_planning(n, [60] + [scale] * depth + [60], scale, 1, security=None)
    return ([math.log2(plan.level_scale(l)) for l in range(depth + 1)],
            [math.log2(q) for q in plan.parameters.q_primes])


def choose_parameters(depth: int, precision_bits: int = 16, magnitudes: Optional[Sequence[Tuple[int, float]]] = None,
                      min_slots: int = 1, min_scale_bits: int = 0) -> dict:
    """Keyword arguments for ``si.Context.create`` (see the module doc).
    ``magnitudes``: ``(levels used, largest |value|)`` of the plan's values
    (None: values below 128); the base prime keeps each of them below the
    modulus at its level. ``min_scale_bits``: a floor for the scale (deep
    polynomials need 30 bits: with smaller primes their scales drift apart
    and cost an extra level)."""
    if not is_int(precision_bits) or not 10 <= precision_bits <= 50:
        raise ParameterError("precision_bits must be an int in [10, 50]")
    depth = max(1, int(depth))
    scale = max(precision_bits + HEADROOM_BITS, int(min_scale_bits))
    if magnitudes is None:
        magnitudes = [(used, 127.0) for used in range(depth + 1)]
    for n in _DEGREES:
        if n // 2 < min_slots or scale * depth + 2 * (scale + 2) > max_secure_modulus_bits(n):
            continue       # too few slots, or even the smallest chain of this depth is not 128-bit here
        log_scales, log_primes = _level_scales(n, scale, depth)
        base = scale + 2
        for used, mag in magnitudes:
            level = depth - min(int(used), depth)
            need = log_scales[level] + math.log2(max(1.0, 2.0 * float(mag))) + 1 - sum(log_primes[1:level + 1])
            base = max(base, math.ceil(need))
        if base > 60:
            raise ParameterError(f"values up to {max(m for _, m in magnitudes):.3g} at precision {precision_bits} "
                                 f"bits need a {base}-bit base prime (at most 60): lower precision_bits")
        chain = [base] + [scale] * depth
        bound = max_secure_modulus_bits(n)
        for special in range(len(chain), 0, -1):
            if sum(chain) + special * base <= bound:
                return dict(poly_degree=n, coeff_bits=chain + [base] * special, scale_bits=scale,
                            special_primes=special)
    raise ParameterError(f"depth {depth} at {scale}-bit scale does not fit a 128-bit-secure ring "
                         "up to N = 65536: lower precision_bits or use a shallower model")


def min_scale_bits(graph) -> int:
    """30 when the plan evaluates polynomials of degree 31 or more, else 0."""
    deep = any(n.op == "poly" and len(n.coeffs) > 31 for n in graph.nodes)
    return 30 if deep else 0


def choose_layout(graph, slots: int, packing: str = "auto", batch_size: Optional[int] = None) -> Layout:
    """The slot packing for small batches (``batch_size`` inputs fit in one
    ciphertext), else the feature packing."""
    stride = max([graph.input_width] + [n.size for n in graph.nodes])
    if packing == "auto":
        fits = stride <= slots and (batch_size is not None and batch_size <= slots // stride)
        packing = "slots" if fits else "features"
    if packing == "features":
        return Layout("features", graph.input_size, slots)
    if packing == "slots":
        if stride > slots:
            raise ParameterError(f"a layer of {stride} values does not fit {slots} slots; use packing='features'")
        gather = () if graph.input_gather is None else tuple(int(j) for j in graph.input_gather)
        return Layout("slots", graph.input_size, slots, stride, gather)
    raise ParameterError("packing must be 'auto', 'features' or 'slots'")


def bsgs_rotations(diagonals, slots: int) -> int:
    """Rotations of a baby-step giant-step product over these diagonal
    offsets (``r - c`` of the non-zero weights): the split ``k = g + i``,
    ``i < n1``, with the n1 (a power of two) that minimises hoisted baby
    steps (half the price of a full rotation) plus giant steps, as the core's
    transform chooses it (``csrc/linalg/bsgs.h``)."""
    d = np.unique(np.mod(np.asarray(diagonals, dtype=np.int64), slots))
    best, rotations = None, 0
    n1 = 1
    while n1 <= slots:
        babies = np.unique(d % n1)
        giants = np.unique(d - d % n1)
        nb, ng = babies.size - int(babies[0] == 0), giants.size - int(giants[0] == 0)
        price = 0.5 * nb + ng
        if best is None or price < best:
            best, rotations = price, nb + ng
        n1 *= 2
    return int(rotations)


def transform_cost(W: np.ndarray, slots: int) -> Tuple[int, int]:
    """``(plaintext products, rotations)`` of the batched transform of ``W``
    (slot packing): one product per non-zero diagonal ``r - c``."""
    r, c = np.nonzero(W)
    if r.size == 0:
        return 0, 0
    diagonals = np.unique(r - c)
    return int(diagonals.size), bsgs_rotations(diagonals, slots)


def slot_plan_cost(graph, slots: int, top_level: int) -> float:
    """Estimated milliseconds of the affine layers of a slot-packed plan
    (per ciphertext): what the planner compares to choose a convolution packing."""
    depths = graph.depths()
    ms = 0.0
    for node in graph.nodes:
        if node.op != "affine":
            continue
        src = node.inputs[0]
        limbs = top_level - (depths[src] if src >= 0 else 0) + 1
        products, rotations = transform_cost(node.weight, slots)
        ms += limbs * (products * _COST_MS["plain_product"] + rotations * _COST_MS["rotation"])
    return ms


# Rough per-limb costs at N = 8192 in ms (one thread, AVX2), scaled by N log N.
_COST_MS = {"scalar_product": 0.17, "combine_term": 0.02, "add": 0.02, "ct_product": 1.3,
            "rotation": 1.2, "plain_product": 0.03}
# One whole bootstrap at N = 8192 (not per limb; docs/bootstrapping.md measured 3.4-3.8 s).
_BOOTSTRAP_MS = 3500.0


def node_costs(graph, layout: Layout, params: dict, transforms=None) -> list:
    """For each node of the plan, ``(operation counts, estimated ms)`` for one
    group (features) or one ciphertext (slots) of inputs: the operations it
    runs, priced per limb of the level it runs at (a bootstrap: a whole
    refresh), scaled from N = 8192 by N log N. ``transforms``: ``{node:
    (diagonals, rotations)}`` of the slot packing's transforms as built
    (:func:`securinfer.nn.packing.plan_transforms`); without it a dense
    count is guessed.

    Example (a 2-diagonal layer, then a square, at N = 8192 with 3 levels):
        >>> import numpy as np
        >>> from securinfer.nn.graph import Graph
        >>> from securinfer.nn.packing import Layout
        >>> g = Graph(4); g.square(g.affine(-1, np.roll(np.eye(4), 1, axis=1)))
        1
        >>> params = dict(poly_degree=8192, coeff_bits=[60, 40, 40, 60], scale_bits=40, special_primes=1)
        >>> [(c["rotations"], round(ms, 2)) for c, ms in node_costs(g, Layout("slots", 4, 4096, 4), params,
        ...                                                          {0: (2, 2)})]
        [(2, 7.38), (0, 2.6)]
    """
    n = params["poly_degree"]
    top = len(params["coeff_bits"]) - params["special_primes"] - 1
    depths = graph.depths()
    factor = (n / 8192) * (math.log2(n) / 13)
    out = []
    for i, node in enumerate(graph.nodes):
        counts = dict.fromkeys(("ct_products", "scalar_products", "plain_products", "rotations", "additions",
                                "bootstraps"), 0)
        src = node.inputs[0]
        limbs = top - (depths[src] if src >= 0 else 0) + 1
        copies = node.size if layout.packing == "features" else 1
        if node.op == "affine":
            if layout.packing == "features":
                nnz = int((node.weight != 0).sum())
                counts["scalar_products"] += nnz
                counts["additions"] += nnz
                ms = (nnz * _COST_MS["combine_term"] + node.size * _COST_MS["scalar_product"]) * limbs
            else:
                if transforms:
                    diags, rots = transforms[i]
                else:
                    diags = node.weight.shape[0] + node.size - 1
                    rots = 2 * int(math.sqrt(diags))
                counts["plain_products"] += diags
                counts["rotations"] += rots
                ms = diags * _COST_MS["plain_product"] * limbs + rots * _COST_MS["rotation"] * limbs
        elif node.op in ("square", "mul"):
            counts["ct_products"] += copies
            ms = copies * _COST_MS["ct_product"] * limbs
        elif node.op == "poly":
            degree = len(node.coeffs) - 1
            products = 2 * int(math.ceil(math.sqrt(degree + 1))) + int(math.ceil(math.log2(degree + 1)))
            counts["ct_products"] += copies * products
            counts["scalar_products"] += copies * (degree + 1)
            ms = copies * (products * _COST_MS["ct_product"] + (degree + 1) * _COST_MS["scalar_product"]) * limbs
        elif node.op == "bootstrap":
            counts["bootstraps"] += copies
            ms = copies * _BOOTSTRAP_MS
        else:
            counts["additions"] += copies
            ms = copies * _COST_MS["add"] * limbs
        out.append((counts, ms * factor))
    return out


def estimate_cost(graph, layout: Layout, params: dict, transforms=None) -> dict:
    """Operation counts and a rough latency (ms) for one group (features) or
    one ciphertext (slots) of inputs: the sums of :func:`node_costs`."""
    total = dict.fromkeys(("ct_products", "scalar_products", "plain_products", "rotations", "additions",
                           "bootstraps"), 0)
    ms = 0.0
    for counts, node_ms in node_costs(graph, layout, params, transforms):
        for k, v in counts.items():
            total[k] += v
        ms += node_ms
    total["estimated_ms"] = round(ms, 1)
    return total


def best_fold(W: np.ndarray, slots: int) -> Optional[Tuple[int, int]]:
    """``(step, copies)`` whose products plus rotations (the fold's included)
    cost less than the plain transform's, at the planner's prices, or None.
    The diagonals counted are those of the actual partial matrix: a sparse
    layer (a convolution on im2col windows) may keep only a handful."""
    R, C = W.shape
    r, c = np.nonzero(W)

    def price(products, rotations):
        return _COST_MS["plain_product"] * products + _COST_MS["rotation"] * rotations

    best, choice = price(*transform_cost(W, slots)), None
    step = C
    while step <= slots:
        copies = 1
        while copies * step < R + step - 1:          # m = ceil((r - c) / step) <= (R - 1) / step
            copies *= 2
        if copies > 1 and copies * step <= slots:
            m = np.maximum(0, -(-(r - c) // step))
            diagonals = np.unique(r - c - m * step)
            cost = price(diagonals.size, bsgs_rotations(diagonals, slots) + len(fold_steps(step, copies)))
            if cost < best:
                best, choice = cost, (step, copies)
        step = step * 2 if step & (step - 1) == 0 else 1 << step.bit_length()
    return choice


def plan_folds(graph, slots: int):
    """Marks (``extra["fold"] = [step, copies]``) each affine layer that a
    fold makes cheaper and whose outputs reach exactly one affine layer
    through squares and polynomials; the caller guarantees one input per
    ciphertext spanning every slot."""
    readers = graph.consumers()
    users = {i: [j for j, n in enumerate(graph.nodes) if i in n.inputs] for i in range(len(graph.nodes))}
    for i, node in enumerate(graph.nodes):
        if node.op != "affine" or readers[i] != 1:
            continue
        j = i
        while len(users[j]) == 1 and readers[j] == 1 and graph.nodes[users[j][0]].op in ("square", "poly"):
            j = users[j][0]
        if len(users[j]) != 1 or readers[j] != 1 or graph.nodes[users[j][0]].op != "affine":
            continue
        choice = best_fold(node.weight, slots)
        if choice is not None:
            node.extra["fold"] = list(choice)
    return graph
