"""The plan: a small graph of encrypted-friendly operations on feature vectors.

Front ends (torch, scikit-learn) lower a model to a :class:`Graph` of four
operations on flattened feature vectors, each node reading earlier nodes
(``-1`` is the model input):

* ``affine``: ``x @ weight + bias`` (Linear, Conv2d, AvgPool2d, BatchNorm, ...);
* ``square``: ``x * x``;
* ``poly``: a polynomial in the Chebyshev basis on ``domain`` (a given
  polynomial, or an activation approximated on its calibrated range);
* ``act``: an exact activation (``relu``, ``sigmoid``, ...) before calibration
  replaces it by a ``poly`` (see :mod:`securinfer.nn.activations`);
* ``add``: the sum of two nodes (residual connections);
* ``mul``: the slot-wise product of two nodes (one ciphertext product: the
  composite ReLU's ``x (1 + s(x)) / 2``, :mod:`securinfer.nn.composite`);
* ``bootstrap``: the same value refreshed to the levels a bootstrap gives
  back, placed by the compiler (:mod:`securinfer.nn.placement`).

:meth:`Graph.run` evaluates the plan on plaintext numpy rows: it is the
reference the encrypted run is compared with (``EncryptedModel.simulate``).

Example:
    >>> import numpy as np
    >>> from securinfer.nn.graph import Graph
    >>> g = Graph(input_size=2)
    >>> h = g.affine(-1, np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros(2), name="fc")
    >>> out = g.square(h, name="square")
    >>> g.run(np.array([[1.0, 1.0]])).tolist()
    [[16.0, 36.0]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np
from numpy.polynomial import chebyshev as C

from ..errors import ParameterError
from ..linalg.polynomial import FUNCTIONS
from .._validation import is_int

__all__ = ["Node", "Graph", "OPS"]

OPS = ("affine", "square", "poly", "act", "add", "mul", "bootstrap")


@dataclass
class Node:
    """One operation of the plan; ``size`` is the length of its output vector."""

    op: str
    inputs: List[int]
    size: int
    name: str = ""
    weight: Optional[np.ndarray] = None      # affine: (n_in, n_out)
    bias: Optional[np.ndarray] = None        # affine: (n_out,)
    coeffs: Optional[np.ndarray] = None      # poly: Chebyshev coefficients
    domain: Tuple[float, float] = (-1.0, 1.0)  # poly: the interval mapped onto [-1, 1]
    function: str = ""                       # act (and the poly that replaced it): the exact function
    error: float = 0.0                       # poly: max approximation error on its domain
    extra: Dict = field(default_factory=dict)


class Graph:
    """Nodes in topological order; the last node is the output."""

    def __init__(self, input_size: int):
        if not is_int(input_size) or input_size < 1:
            raise ParameterError(f"input_size must be a positive int, got {input_size!r}")
        self.input_size = int(input_size)
        self.nodes: List[Node] = []
        # Slot packing only: the vector the plan reads is the input gathered by the
        # client (slot j holds feature input_gather[j], -1: zero; see securinfer.nn.im2col).
        self.input_gather: Optional[np.ndarray] = None

    @property
    def input_width(self) -> int:
        """Length of the vector the first layers read (the gathered input, if any)."""
        return self.input_size if self.input_gather is None else int(self.input_gather.size)

    def gather_input(self, X: np.ndarray) -> np.ndarray:
        """``X`` (batch x input_size) as the plan reads it."""
        if self.input_gather is None:
            return X
        padded = np.concatenate([X, np.zeros((X.shape[0], 1))], axis=1)
        return padded[:, np.where(self.input_gather < 0, self.input_size, self.input_gather)]

    # ------------------------------------------------------------------ building
    def size_of(self, ref: int) -> int:
        return self.input_width if ref == -1 else self.nodes[ref].size

    def _add(self, node: Node) -> int:
        for ref in node.inputs:
            if not -1 <= ref < len(self.nodes):
                raise ParameterError(f"node {node.name!r} reads node {ref}, which does not exist yet")
        self.nodes.append(node)
        return len(self.nodes) - 1

    def affine(self, src: int, weight, bias=None, name: str = "") -> int:
        W = np.asarray(weight, dtype=np.float64)
        n_in = self.size_of(src)
        if W.ndim != 2 or W.shape[0] != n_in:
            raise ParameterError(f"{name or 'affine'}: weight of shape {W.shape} does not take {n_in} inputs")
        b = np.zeros(W.shape[1]) if bias is None else np.asarray(bias, dtype=np.float64).reshape(-1)
        if b.shape != (W.shape[1],):
            raise ParameterError(f"{name or 'affine'}: bias of shape {b.shape} for {W.shape[1]} outputs")
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise ParameterError(f"{name or 'affine'}: weights must be finite")
        return self._add(Node("affine", [src], W.shape[1], name, weight=W, bias=b))

    def square(self, src: int, name: str = "") -> int:
        return self._add(Node("square", [src], self.size_of(src), name))

    def poly(self, src: int, coeffs, domain=(-1.0, 1.0), basis: str = "power", name: str = "",
             function: str = "", error: float = 0.0) -> int:
        c = np.asarray(coeffs, dtype=np.float64).reshape(-1)
        if c.size == 0 or not np.all(np.isfinite(c)):
            raise ParameterError(f"{name or 'poly'}: coefficients must be finite and non-empty")
        a, b = float(domain[0]), float(domain[1])
        if basis == "power":
            if (a, b) != (-1.0, 1.0):
                raise ParameterError("a power-basis polynomial takes no domain")
            c = C.poly2cheb(c)
        elif basis != "chebyshev":
            raise ParameterError("basis must be 'power' or 'chebyshev'")
        return self._add(Node("poly", [src], self.size_of(src), name, coeffs=c, domain=(a, b),
                              function=function, error=float(error)))

    def act(self, src: int, function: str, name: str = "") -> int:
        if function not in FUNCTIONS:
            raise ParameterError(f"unknown activation {function!r}")
        return self._add(Node("act", [src], self.size_of(src), name, function=function))

    def bootstrap(self, src: int, scale: int, prescale: str, used_after: int, name: str = "") -> int:
        """A bootstrap of node ``src``: divided by ``scale`` before (``prescale``
        ``"folded"``: the producer already did; ``"multiply"``: a scalar
        product here), multiplied by the integer ``scale`` after; the value
        then has ``used_after`` levels used (the chain's top minus the refresh)."""
        if not is_int(scale) or scale < 1:
            raise ParameterError(f"bootstrap scale must be a positive int, got {scale!r}")
        if prescale not in ("folded", "multiply"):
            raise ParameterError(f"prescale must be 'folded' or 'multiply', got {prescale!r}")
        if not is_int(used_after) or used_after < 0:
            raise ParameterError(f"used_after must be a non-negative int, got {used_after!r}")
        return self._add(Node("bootstrap", [src], self.size_of(src), name,
                              extra={"scale": int(scale), "prescale": prescale, "used_after": int(used_after)}))

    def add(self, a: int, b: int, name: str = "") -> int:
        if self.size_of(a) != self.size_of(b):
            raise ParameterError(f"{name or 'add'}: cannot add vectors of {self.size_of(a)} and {self.size_of(b)}")
        return self._add(Node("add", [a, b], self.size_of(a), name))

    def mul(self, a: int, b: int, name: str = "") -> int:
        if self.size_of(a) != self.size_of(b):
            raise ParameterError(f"{name or 'mul'}: cannot multiply vectors of {self.size_of(a)} and {self.size_of(b)}")
        return self._add(Node("mul", [a, b], self.size_of(a), name))

    # ------------------------------------------------------------------ facts
    @property
    def output_size(self) -> int:
        return self.size_of(len(self.nodes) - 1)

    def consumers(self) -> List[int]:
        """How many nodes (and the output) read each node."""
        count = [0] * len(self.nodes)
        for node in self.nodes:
            for ref in node.inputs:
                if ref >= 0:
                    count[ref] += 1
        if self.nodes:
            count[-1] += 1
        return count

    def depths(self) -> List[int]:
        """Levels consumed from the input to each node's output."""
        from ..linalg.polynomial import depth_of

        used: List[int] = []
        for node in self.nodes:
            before = max((used[r] if r >= 0 else 0) for r in node.inputs)
            if node.op == "affine":
                used.append(before + 1)
            elif node.op in ("square", "mul"):
                used.append(before + 1)
            elif node.op == "poly":
                used.append(before + depth_of(node.coeffs, "chebyshev", node.domain, plan=node.extra.get("plan", "bsgs")))
            elif node.op == "add":
                used.append(before)
            elif node.op == "bootstrap":
                used.append(int(node.extra["used_after"]))
            else:
                raise ParameterError(f"node {node.name!r} ({node.function}) is not approximated yet: calibrate first")
        return used

    @property
    def depth(self) -> int:
        """Multiplicative depth of the whole plan."""
        return max(self.depths(), default=0)

    # ------------------------------------------------------------------ plaintext run
    def run(self, X, *, trace: Optional[List[np.ndarray]] = None) -> np.ndarray:
        """The plan on plaintext rows ``X`` (batch x input_size); ``act`` nodes
        use their exact function, ``poly`` nodes their polynomial. ``trace``
        (a list) receives every node's output."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.ndim != 2 or X.shape[1] != self.input_size:
            raise ParameterError(f"expected rows of {self.input_size} values, got shape {X.shape}")
        values: List[np.ndarray] = []
        Xg = self.gather_input(X)

        def get(ref):
            return Xg if ref == -1 else values[ref]

        for node in self.nodes:
            x = get(node.inputs[0])
            if node.op == "affine":
                y = x @ node.weight + node.bias
            elif node.op == "square":
                y = x * x
            elif node.op == "poly":
                a, b = node.domain
                y = C.chebval((2 * x - a - b) / (b - a), node.coeffs)
            elif node.op == "act":
                y = np.asarray(FUNCTIONS[node.function](x.ravel()), dtype=np.float64).reshape(x.shape)
            elif node.op == "bootstrap":   # the value itself (the producer divided it when folded)
                y = x * node.extra["scale"] if node.extra["prescale"] == "folded" else x.copy()
            elif node.op == "mul":
                y = x * get(node.inputs[1])
            else:
                y = x + get(node.inputs[1])
            values.append(y)
        if trace is not None:
            trace.extend(values)
        return values[-1] if values else Xg.copy()
