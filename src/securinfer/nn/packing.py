"""The two ways of laying a batch of inputs out in ciphertexts, and how each
runs a plan on the server.

* ``"features"`` (throughput): one ciphertext per feature, input b in slot b
  of every ciphertext, up to ``slots`` inputs per group. An affine layer is
  :func:`securinfer.linalg.combine` (scalar weights, no rotation at
  all), an activation runs on each ciphertext. Cost grows with the number of
  non-zero weights, not with the batch: 4,096 inputs cost what one costs.
* ``"slots"`` (latency): each input's flattened vector in ``stride`` slots,
  ``slots // stride`` inputs per ciphertext. An affine layer is a batched
  :class:`securinfer.linalg.LinearTransform` (a convolution is its sparse
  matrix: only its non-zero diagonals are stored and multiplied),
  activations are slot-wise. Needs the transforms' rotation keys.

A :class:`Layout` is what a client needs to encrypt and decrypt (it goes in
``describe()``); ``run_features``/``run_slots`` are the server's side.

Example:
    >>> from securinfer.nn.packing import Layout
    >>> Layout("slots", features=784, slots=4096, stride=784).per_ciphertext
    5
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Dict, List, Tuple

import numpy as np

from ..errors import ParameterError
from ..linalg import LinearTransform, combine
from ..linalg.polynomial import polyval
from .fold_sum import fold_steps, partial_matrix

__all__ = ["Layout", "prepare_slots", "plan_transforms", "run_features", "run_slots", "PACKINGS", "checked_fold"]

PACKINGS = ("features", "slots")


@dataclass(frozen=True)
class Layout:
    """How ``features`` values per input sit in ciphertexts of ``slots`` slots."""

    packing: str
    features: int
    slots: int
    stride: int = 0   # "slots" packing: slots per input
    # "slots" packing: the client writes feature gather[j] in slot j of each input's
    # block (-1: zero), e.g. im2col windows of a first convolution; () writes the features as they are.
    gather: Tuple[int, ...] = ()

    @property
    def width(self) -> int:
        """Slots one input's vector occupies before the first layer."""
        return len(self.gather) if self.gather else self.features

    @property
    def per_ciphertext(self) -> int:
        """Inputs per ciphertext (``features``) or per group of ciphertexts."""
        return self.slots if self.packing == "features" else self.slots // self.stride

    def to_dict(self) -> dict:
        d = asdict(self)
        d["gather"] = list(self.gather)
        if not self.gather:
            del d["gather"]
        d["per_ciphertext"] = self.per_ciphertext
        d["ciphertexts_per_group"] = self.features if self.packing == "features" else 1
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Layout":
        try:
            gather = tuple(int(j) for j in (d.get("gather") or ()))
            layout = cls(str(d["packing"]), int(d["features"]), int(d["slots"]), int(d.get("stride", 0)), gather)
        except (KeyError, TypeError, ValueError) as e:
            raise ParameterError(f"bad layout description: {e}") from None
        if layout.packing not in PACKINGS or layout.features < 1 or layout.slots < 1:
            raise ParameterError(f"bad layout description: {d}")
        if layout.packing == "slots" and not layout.width <= layout.stride <= layout.slots:
            raise ParameterError(f"bad layout description: stride {layout.stride}")
        if gather and (layout.packing != "slots" or min(gather) < -1 or max(gather) >= layout.features):
            raise ParameterError("bad layout description: gather indices must lie in [-1, features) (slot packing)")
        return layout

    # ------------------------------------------------------------------ client side
    def encrypt(self, ctx, X) -> list:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.ndim > 2:
            X = X.reshape(X.shape[0], -1)
        if X.ndim != 2 or X.shape[1] != self.features or X.shape[0] < 1:
            raise ParameterError(f"expected a batch of inputs with {self.features} values each, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ParameterError("inputs must be finite")
        if ctx.slots != self.slots:
            raise ParameterError(f"this context has {ctx.slots} slots; the model was planned for {self.slots}")
        per = self.per_ciphertext
        out = []
        for start in range(0, X.shape[0], per):
            chunk = X[start:start + per]
            if self.packing == "features":
                out.extend(ctx.encrypt(np.ascontiguousarray(chunk[:, i])) for i in range(self.features))
            else:
                if self.gather:   # the client's own rearrangement: no weight is involved
                    index = np.array(self.gather)
                    chunk = np.concatenate([chunk, np.zeros((chunk.shape[0], 1))], axis=1)
                    chunk = chunk[:, np.where(index < 0, self.features, index)]
                vec = np.zeros(chunk.shape[0] * self.stride)
                for b, row in enumerate(chunk):
                    vec[b * self.stride: b * self.stride + row.size] = row
                out.append(ctx.encrypt(vec))
        return out

    def decrypt(self, ctx, cts) -> np.ndarray:
        cts = list(cts)
        rows = []
        if self.packing == "features":
            if not cts or len(cts) % self.features:
                raise ParameterError(f"expected groups of {self.features} ciphertexts, got {len(cts)}")
            for start in range(0, len(cts), self.features):
                rows.append(np.stack([ctx.decrypt(c) for c in cts[start:start + self.features]], axis=1))
        else:
            if not cts:
                raise ParameterError("no ciphertexts to decrypt")
            for c in cts:
                values = ctx.decrypt(c)
                count = -(-c.size // self.stride)
                values = np.pad(values, (0, max(0, count * self.stride - values.size)))
                rows.append(values[: count * self.stride].reshape(count, self.stride)[:, : self.features])
        return np.concatenate(rows, axis=0)


# --------------------------------------------------------------------------- server side
def _check_group(cts, n):
    from ..ciphertext import Ciphertext

    if not all(isinstance(c, Ciphertext) for c in cts):
        raise ParameterError("expected a list of securinfer.Ciphertext")
    if not cts or len(cts) % n:
        raise ParameterError(f"expected groups of {n} ciphertexts (one per input feature), got {len(cts)}")


def _run(graph, inputs, affine, elementwise):
    values: List[list] = []

    def get(ref):
        return inputs if ref == -1 else values[ref]

    for i, node in enumerate(graph.nodes):
        x = get(node.inputs[0])
        if node.op == "affine":
            values.append(affine(i, node, x))
        elif node.op == "add":
            values.append([a + b for a, b in zip(x, get(node.inputs[1]))])
        elif node.op == "mul":
            values.append([a * b for a, b in zip(x, get(node.inputs[1]))])
        else:
            values.append([elementwise(node, c) for c in x])
    return values[-1]


def _elementwise(node, c):
    if node.op == "square":
        return c.square()
    if node.op == "bootstrap":   # values in [-1/2, 1/2] while refreshed (securinfer.nn.placement)
        scale = int(node.extra["scale"])
        if node.extra["prescale"] == "multiply" and scale > 1:
            c = c * (1.0 / scale)
        c = c.bootstrap()
        return c * scale if scale > 1 else c   # an integer product: no level
    return polyval(c, node.coeffs, "chebyshev", node.domain, plan=node.extra.get("plan", "auto"))


def run_features(graph, cts) -> list:
    """The plan on feature-packed ciphertexts (groups of ``input_size``)."""
    n = graph.input_size
    _check_group(cts, n)
    out = []
    for start in range(0, len(cts), n):
        group = list(cts[start:start + n])

        def affine(_, node, x):
            ys = combine(x, node.weight.T)
            return [y + float(b) if b != 0 else y for y, b in zip(ys, node.bias)]

        out.extend(_run(graph, group, affine, _elementwise))
    return out


def checked_fold(node, layout: Layout):
    """``(step, copies)`` of a folded affine node, checked (a model file may be tampered with)."""
    if layout.packing != "slots" or layout.per_ciphertext != 1 or layout.stride != layout.slots:
        raise ParameterError(f"{node.name}: a folded layer needs one input per ciphertext spanning every slot")
    try:
        step, copies = (int(v) for v in node.extra["fold"])
        rows = node.weight.shape[0]
        if step < node.size or copies < 2 or copies & (copies - 1) or step * copies > layout.slots or \
                copies * step < rows + step - 1:
            raise ValueError(f"step {step}, copies {copies}")
    except (TypeError, ValueError) as e:
        raise ParameterError(f"{node.name}: bad fold {node.extra['fold']!r}: {e}") from None
    return step, copies


def prepare_slots(graph, ctx, layout: Layout) -> dict:
    """Each affine node's batched LinearTransform (encoded at the level its
    input arrives at) and its bias tiled over the inputs of a ciphertext."""
    depths = graph.depths()
    prepared = {}
    per = layout.per_ciphertext
    for i, node in enumerate(graph.nodes):
        if node.op != "affine":
            continue
        src = node.inputs[0]
        level = ctx.max_level - (depths[src] if src >= 0 else 0)
        steps: List[int] = []
        weight = node.weight
        if "fold" in node.extra:        # partial sums s slots apart, added by rotations (securinfer.nn.fold_sum)
            step, copies = checked_fold(node, layout)
            weight, steps = partial_matrix(weight, step, copies), fold_steps(step, copies)
        lt = LinearTransform(ctx, weight, level, batch=per, stride=layout.stride)
        bias = np.zeros(per * layout.stride)
        if np.any(node.bias):
            for b in range(per):
                bias[b * layout.stride: b * layout.stride + node.size] = node.bias
        prepared[i] = (lt, bias if np.any(node.bias) else None, steps)
    return prepared


def plan_transforms(graph, ctx, layout: Layout) -> Tuple[List[int], Dict[int, Tuple[int, int]]]:
    """The rotation steps the slot-packed plan uses, and for each affine
    node ``(diagonals, rotations)`` (its fold's rotations included), found
    without keeping any encoding: each transform is built alone at level 1
    (two limbs; its baby-step giant-step split does not depend on the
    level), so planning a model for N = 2^16 takes the memory of one layer's
    diagonals at two limbs, not that of all its weights at full levels.

    Example (a cyclic shift of 4 values, one input per 4 slots):
        >>> import numpy as np, securinfer as si
        >>> from securinfer.nn.graph import Graph
        >>> g = Graph(4); _ = g.affine(-1, np.roll(np.eye(4), 1, axis=1))
        >>> ctx = si.Context.for_planning(8192, [60, 40, 40, 60], 40)
        >>> plan_transforms(g, ctx, Layout("slots", 4, 4096, 4))   # steps; node 0: 2 diagonals, 2 rotations
        ([-1, 3], {0: (2, 2)})
    """
    steps, transforms = set(), {}
    for i, node in enumerate(graph.nodes):
        if node.op != "affine":
            continue
        weight, folds = node.weight, []
        if "fold" in node.extra:
            step, copies = checked_fold(node, layout)
            weight, folds = partial_matrix(weight, step, copies), fold_steps(step, copies)
        lt = LinearTransform(ctx, weight, 1, batch=layout.per_ciphertext, stride=layout.stride)
        rotations = lt.required_rotations()
        steps.update(rotations)
        steps.update(folds)
        transforms[i] = (lt.plaintext_count, len(rotations) + len(folds))
    return sorted(steps), transforms


def run_slots(graph, prepared, layout: Layout, cts) -> list:
    """The plan on slot-packed ciphertexts (each holds up to ``per_ciphertext`` inputs)."""
    _check_group(cts, 1)
    for c in cts:
        if c.size > layout.per_ciphertext * layout.stride:
            raise ParameterError(f"a ciphertext holds {c.size} values; this model takes at most "
                                 f"{layout.per_ciphertext * layout.stride}")
    sizes = [c.size for c in cts]

    def affine(i, node, x):
        lt, bias, steps = prepared[i]
        out = []
        for c, size in zip(x, sizes):
            y = lt.apply(c)                    # a batched transform keeps the input count (blocks)
            for step in steps:                 # every slot is this input's: the partial sums stay inside it
                y = y + y.rotate(step)
            if y.size != size:
                raise ParameterError(f"a batched layer returned {y.size} slots for an input of {size}")
            out.append(y + bias[:size] if bias is not None else y)
        return out

    return _run(graph, list(cts), affine, _elementwise)
