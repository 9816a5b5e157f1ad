"""The planner: packing, CKKS parameters and the cost of a plan.

Parameters are the smallest 128-bit-secure ones that fit: a chain of
``depth`` primes of ``scale_bits = precision_bits + 6`` bits (6 bits of
headroom over the noise of rescaling), a base prime wide enough for the
outputs (``scale_bits`` plus the bits of the largest calibrated output, doubled),
and as many special primes of the widest chain prime as the ring dimension's
security bound still admits (more special primes: fewer key-switching digits,
smaller and faster keys). The ring dimension is the smallest whose bound fits
(and whose slots hold one input, for the slot packing).

Example:
    >>> from securinfer.nn.planner import choose_parameters
    >>> p = choose_parameters(depth=5, precision_bits=20, magnitude=40.0)
    >>> p["poly_degree"], p["scale_bits"], p["coeff_bits"][:2]
    (8192, 26, [34, 26])
"""

from __future__ import annotations

import math
from typing import Optional

from .._core import ckks as _ckks
from ..errors import ParameterError
from .packing import Layout

__all__ = ["choose_parameters", "choose_layout", "estimate_cost", "HEADROOM_BITS"]

HEADROOM_BITS = 6
_DEGREES = (4096, 8192, 16384, 32768, 65536)


def choose_parameters(depth: int, precision_bits: int = 20, magnitude: Optional[float] = None,
                      min_slots: int = 1) -> dict:
    """Keyword arguments for ``si.Context.create`` (see the module doc)."""
    if isinstance(precision_bits, bool) or not isinstance(precision_bits, int) or not 10 <= precision_bits <= 50:
        raise ParameterError("precision_bits must be an int in [10, 50]")
    depth = max(1, int(depth))
    scale = precision_bits + HEADROOM_BITS
    whole = 8 if magnitude is None else max(1, math.ceil(math.log2(max(1.0, 2.0 * float(magnitude))))) + 1
    base = scale + whole
    if base > 60:
        raise ParameterError(f"outputs up to {magnitude:.3g} at precision {precision_bits} bits need a "
                             f"{base}-bit base prime (at most 60): lower precision_bits")
    chain = [base] + [scale] * depth
    special_bits = max(chain)
    for n in _DEGREES:
        if n // 2 < min_slots:
            continue
        bound = _ckks.max_secure_modulus_bits(n)
        for special in range(len(chain), 0, -1):
            if sum(chain) + special * special_bits <= bound:
                return dict(poly_degree=n, coeff_bits=chain + [special_bits] * special, scale_bits=scale,
                            special_primes=special)
    raise ParameterError(f"depth {depth} at {scale}-bit scale does not fit a 128-bit-secure ring "
                         "up to N = 65536: lower precision_bits or use a shallower model")


def choose_layout(graph, slots: int, packing: str = "auto", batch_size: Optional[int] = None) -> Layout:
    """The slot packing for small batches (``batch_size`` inputs fit in one
    ciphertext), else the feature packing."""
    stride = max([graph.input_size] + [n.size for n in graph.nodes])
    if packing == "auto":
        fits = stride <= slots and (batch_size is not None and batch_size <= slots // stride)
        packing = "slots" if fits else "features"
    if packing == "features":
        return Layout("features", graph.input_size, slots)
    if packing == "slots":
        if stride > slots:
            raise ParameterError(f"a layer of {stride} values does not fit {slots} slots; use packing='features'")
        return Layout("slots", graph.input_size, slots, stride)
    raise ParameterError("packing must be 'auto', 'features' or 'slots'")


# Rough per-limb costs at N = 8192 in ms (one thread, AVX2), scaled by N log N.
_COST_MS = {"scalar_product": 0.17, "combine_term": 0.02, "add": 0.02, "ct_product": 1.3,
            "rotation": 1.2, "plain_product": 0.03}


def estimate_cost(graph, layout: Layout, params: dict, prepared=None) -> dict:
    """Operation counts and a rough latency (ms) for one group (features) or
    one ciphertext (slots) of inputs."""
    n = params["poly_degree"]
    top = len(params["coeff_bits"]) - params["special_primes"] - 1
    depths = graph.depths()
    factor = (n / 8192) * (math.log2(n) / 13)
    counts = {"ct_products": 0, "scalar_products": 0, "plain_products": 0, "rotations": 0, "additions": 0}
    ms = 0.0
    for i, node in enumerate(graph.nodes):
        src = node.inputs[0]
        limbs = top - (depths[src] if src >= 0 else 0) + 1
        copies = node.size if layout.packing == "features" else 1
        if node.op == "affine":
            if layout.packing == "features":
                nnz = int((node.weight != 0).sum())
                counts["scalar_products"] += nnz
                counts["additions"] += nnz
                ms += (nnz * _COST_MS["combine_term"] + node.size * _COST_MS["scalar_product"]) * limbs
            else:
                lt = prepared[i][0] if prepared else None
                diags = lt._core.plaintext_count if lt is not None else node.weight.shape[0] + node.size - 1
                rots = len(lt.required_rotations()) if lt is not None else 2 * int(math.sqrt(diags))
                counts["plain_products"] += diags
                counts["rotations"] += rots
                ms += diags * _COST_MS["plain_product"] * limbs + rots * _COST_MS["rotation"] * limbs
        elif node.op == "square":
            counts["ct_products"] += copies
            ms += copies * _COST_MS["ct_product"] * limbs
        elif node.op == "poly":
            degree = len(node.coeffs) - 1
            products = 2 * int(math.ceil(math.sqrt(degree + 1))) + int(math.ceil(math.log2(degree + 1)))
            counts["ct_products"] += copies * products
            counts["scalar_products"] += copies * (degree + 1)
            ms += copies * (products * _COST_MS["ct_product"] + (degree + 1) * _COST_MS["scalar_product"]) * limbs
        else:
            counts["additions"] += copies
            ms += copies * _COST_MS["add"] * limbs
    counts["estimated_ms"] = round(ms * factor, 1)
    return counts
