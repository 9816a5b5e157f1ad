"""EncryptedModel: a compiled plan, served on ciphertexts.

It implements the servable contract: ``model(cts) -> cts`` on the server
(only the ciphertexts' public context is needed), ``describe()`` for remote
clients, ``required_rotations()``, ``save(path)`` / ``EncryptedModel.load(path)``
(one ``.npz`` of weights plus a JSON plan and the calibrated input ranges
the client checks records against; no pickle, no key). The plaintext
weights are prepared for a context once (slot packing: encoded diagonals)
and cached by the context's parameters (compared in full), never per query.

Example:
    >>> import numpy as np, securinfer.nn as snn
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.random.default_rng(0).normal(size=(30, 3)); y = X @ [1.0, -2.0, 0.5] + 1
    >>> enc = snn.compile(LinearRegression().fit(X, y))
    >>> ctx = enc.create_context()
    >>> out = enc(enc.encrypt(ctx, X[:4]))            # the server needs only ctx.public()
    >>> bool(np.allclose(enc.decrypt(ctx, out).ravel(), y[:4], atol=1e-3))
    True
"""

from __future__ import annotations

import io
import json
import threading
import warnings
from typing import List, Optional

import numpy as np

from .._archive import ARCHIVE_ERRORS, read_npz
from .._lru import LRU
from ..context import Context
from ..parameters import max_secure_modulus_bits
from ..presets import PRESETS
from ..errors import ContextMismatchError, ParameterError, SerializationError
from ..servable import register, store
from .client import Client
from .graph import Graph
from .packing import Layout, checked_fold, plan_transforms, prepare_slots, run_features, run_slots
from .planner import estimate_cost, node_costs
from .ranges import InputRanges

__all__ = ["EncryptedModel"]

#: Largest uncompressed array a model file may hold.
MAX_MEMBER_BYTES = 1 << 30
# The layout of files saved before the one servable store (still read).
_LEGACY_FORMAT = "securinfer.nn/1"
_CACHE_SIZE = 2
# The key budget of a model compiled in this process: its own plan, no server to distrust.
_OWN_MODEL_KEY_BYTES = 1 << 62


@register
class EncryptedModel:
    """A model compiled for CKKS: its plan, layout and parameters. Made by
    :func:`securinfer.nn.compile` or :meth:`load`."""

    kind = "model"
    client = Client

    def __init__(self, graph: Graph, layout: Layout, parameters: dict, *, name: str = "model",
                 input_shape=None, info: Optional[dict] = None, rotations: Optional[List[int]] = None,
                 input_ranges: Optional[InputRanges] = None, ranges_recorded: bool = True,
                 compiled_here: bool = False):
        self.graph = graph
        # Compiled in this process (not loaded from a file someone handed over): its key needs are its own.
        self.compiled_here = bool(compiled_here)
        self.layout = layout
        self.parameters = dict(parameters)
        self.name = name
        self.input_shape = tuple(input_shape) if input_shape is not None else (graph.input_size,)
        self.info = dict(info or {})
        # The per-feature box the client checks records against (None: compiled without calibration rows).
        # ranges_recorded=False: a file saved before ranges were recorded (the client warns it cannot check).
        self.input_ranges = input_ranges
        self.ranges_recorded = bool(ranges_recorded)
        if input_ranges is not None and input_ranges.features != graph.input_size:
            raise ParameterError(f"input ranges for {input_ranges.features} features; the model takes "
                                 f"{graph.input_size}")
        for node in graph.nodes:
            if "fold" in node.extra:
                checked_fold(node, layout)
        self._cache = LRU(_CACHE_SIZE)       # prepared weights by context parameters
        self._lock = threading.Lock()
        self._rotations = rotations
        self._transforms = None       # {affine node: (diagonals, rotations)}, when planned here
        if self._rotations is None:
            self._rotations, self._transforms = self._plan_transforms()

    # ------------------------------------------------------------------ facts
    @property
    def packing(self) -> str:
        return self.layout.packing

    @property
    def depth(self) -> int:
        return self.graph.depth

    @property
    def output_layout(self) -> Layout:
        return Layout(self.layout.packing, self.graph.output_size, self.layout.slots, self.layout.stride)

    @property
    def bootstraps(self) -> int:
        """Bootstraps the plan runs per ciphertext (placed by the compiler)."""
        return sum(node.op == "bootstrap" for node in self.graph.nodes)

    def required_rotations(self) -> List[int]:
        """The rotation steps the server uses (none for the feature packing)."""
        return list(self._rotations)

    def describe(self) -> dict:
        """Everything a remote client needs (JSON-serialisable)."""
        outputs = self.output_layout.to_dict()
        outputs["classes"] = self.info.get("classes")
        outputs["rule"] = self.info.get("rule")
        inputs = self.layout.to_dict()
        inputs["shape"] = list(self.input_shape)
        if self.ranges_recorded:
            inputs["ranges"] = self.input_ranges.to_dict() if self.input_ranges is not None else None
        # The bootstrap preset by name: a client accepts N = 2^16 only as that chain.
        context = {"preset": "bootstrap"} if dict(self.parameters) == PRESETS["bootstrap"] else dict(self.parameters)
        out = {"kind": "model", "name": self.name, "context": context,
               "rotations": self.required_rotations(), "inputs": inputs, "outputs": outputs,
               "depth": self.depth}
        if self.bootstraps:
            out["bootstraps"] = self.bootstraps     # the client makes the bootstrapping keys too
        return out

    # ------------------------------------------------------------------ client side (from describe())
    def _client(self) -> Client:
        return Client(self.describe())

    def create_context(self, max_key_bytes: Optional[int] = None) -> Context:
        """A secret-key context with exactly the evaluation keys this model
        needs. A model compiled in this process is its own (no server
        described it): no key budget applies unless ``max_key_bytes`` sets
        one. A loaded model is held to :meth:`Client.create_context`'s
        budget (4 GiB by default), like a server's description."""
        if max_key_bytes is None and self.compiled_here:
            max_key_bytes = _OWN_MODEL_KEY_BYTES
        return self._client().create_context(max_key_bytes)

    def encrypt(self, ctx: Context, X, out_of_range: str = "raise") -> list:
        """Ciphertexts of a batch (rows of inputs, any shape ``(batch, *input_shape)``),
        each record first checked against the calibrated input ranges
        (``out_of_range``: ``"raise"``, ``"clip"`` or ``"ignore"``; see :class:`Client`)."""
        return self._client().encrypt(ctx, X, out_of_range=out_of_range)

    def check(self, X, out_of_range: str = "raise") -> np.ndarray:
        """The rows of ``X`` as :meth:`encrypt` would encrypt them (see :meth:`Client.check`)."""
        return self._client().check(X, out_of_range)

    def decrypt(self, ctx: Context, cts) -> np.ndarray:
        """Decrypted outputs, batch x outputs."""
        return self._client().decrypt(ctx, cts)

    def predict(self, ctx: Context, cts) -> np.ndarray:
        """Class labels (classifiers compiled from scikit-learn) or argmax indices."""
        return self._client().predict(ctx, cts)

    # ------------------------------------------------------------------ server side
    def _check_context(self, ctx: Context) -> None:
        p = self.parameters
        if ctx.poly_degree != p["poly_degree"] or ctx.coeff_bits != list(p["coeff_bits"]) or \
                round(np.log2(ctx.parameters.scale)) != p["scale_bits"]:   # the nominal scale (a bootstrap
            # chain's top level has its own)
            raise ContextMismatchError(f"the ciphertexts' parameters ({ctx!r}) are not the model's {p}")

    def prepared(self, ctx: Context):
        """The weights prepared for ``ctx`` (cached by the parameters, compared in full)."""
        if self.packing == "features":
            return None
        return self._cache.get_or_make(ctx.parameters, lambda: prepare_slots(self.graph, ctx, self.layout))

    def __call__(self, cts) -> list:
        """The model on encrypted inputs (those of :meth:`encrypt`); needs
        only the public context the ciphertexts carry."""
        from ..ciphertext import Ciphertext

        cts = list(cts)
        if not cts or not all(isinstance(c, Ciphertext) for c in cts):
            raise ParameterError("expected a non-empty list of securinfer.Ciphertext")
        ctx = cts[0].context
        self._check_context(ctx)
        for c in cts:
            if c.level < self.depth:
                raise ParameterError(f"ciphertexts must be fresh (level {self.depth}); one is at level {c.level}")
        if self.packing == "features":
            return run_features(self.graph, cts)
        return run_slots(self.graph, self.prepared(ctx), self.layout, cts)

    def _plan_transforms(self):
        if self.packing == "features":
            return [], None
        p = self.parameters
        secure = sum(p["coeff_bits"]) <= max_secure_modulus_bits(p["poly_degree"])
        with warnings.catch_warnings():   # test parameters (compiled with security=None): planning only, no key;
            warnings.simplefilter("ignore")   # a client still refuses them (its own 128-bit check)
            ctx = Context.for_planning(**p, security="128" if secure else None)
        return plan_transforms(self.graph, ctx, self.layout)

    # ------------------------------------------------------------------ plaintext tools
    def simulate(self, X) -> np.ndarray:
        """The same plan (same approximations) on plaintext numpy rows: what
        the encrypted run returns, up to CKKS noise. Warns when a value
        entering a bootstrap leaves [-1, 1] (where bootstrapping fails)."""
        X = np.asarray(X, dtype=np.float64)
        trace: list = []
        out = self.graph.run(X.reshape(X.shape[0], -1) if X.ndim > 1 else X.reshape(1, -1), trace=trace)
        for i, node in enumerate(self.graph.nodes):   # a bootstrap fails silently outside [-1, 1]
            if node.op != "bootstrap":
                continue
            entering = trace[node.inputs[0]] if node.inputs[0] >= 0 else X
            if node.extra["prescale"] == "multiply":
                entering = entering / node.extra["scale"]
            peak = float(np.max(np.abs(entering)))
            if not peak <= 1.0:                            # NaN too (values overflowed)
                warnings.warn(f"node {i} ({node.name}): a value of {peak:.3g} enters the bootstrap (it needs [-1, 1]); "
                              "the encrypted run would be wrong for these rows: calibrate on rows like them",
                              UserWarning, stacklevel=2)
        return out

    def cost(self) -> dict:
        """Operation counts and a rough server latency per batch unit."""
        return estimate_cost(self.graph, self.layout, self.parameters, self._known_transforms())

    def _known_transforms(self):
        """``{affine node: (diagonals, rotations)}`` as planned, or for a loaded
        model from its prepared weights once it has run; else None (guessed)."""
        if self.packing != "slots" or self._transforms is not None:
            return self._transforms
        with self._lock:
            prepared = next(iter(self._cache.values()), None)
        if not prepared:
            return None
        return {i: (lt.plaintext_count, len(lt.required_rotations()) + len(steps))
                for i, (lt, _, steps) in prepared.items()}

    def plan(self) -> List[dict]:
        """The compiled plan as data (what ``summary()`` prints, for tables
        and pictures), one dict per node in order: ``op``, ``name``,
        ``size`` (values per input), ``inputs`` (node indices; -1 is the
        input), ``level`` (levels left after the node), ``levels_used``
        (negative for a bootstrap: the levels it gives back) and
        ``estimated_ms`` (rough, one thread, per group or ciphertext).

        Example:
            >>> import numpy as np, securinfer.nn as snn
            >>> from sklearn.neural_network import MLPClassifier
            >>> X = np.random.default_rng(1).normal(size=(40, 4)); y = (X[:, 0] > 0).astype(int)
            >>> mlp = MLPClassifier((3,), activation="tanh", max_iter=2000, random_state=0).fit(X, y)
            >>> [(n["op"], n["level"], n["levels_used"]) for n in snn.compile(mlp, calibration=X).plan()]
            [('affine', 7, 1), ('poly', 1, 6), ('affine', 0, 1)]
        """
        p = self.parameters
        top = len(p["coeff_bits"]) - p["special_primes"] - 1
        depths = self.graph.depths()
        costs = node_costs(self.graph, self.layout, p, self._known_transforms())
        rows = []
        for i, (node, (_, ms)) in enumerate(zip(self.graph.nodes, costs)):
            before = top - max(depths[j] if j >= 0 else 0 for j in node.inputs)
            rows.append({"op": node.op, "name": node.name, "size": int(node.size), "inputs": list(node.inputs),
                         "level": top - depths[i], "levels_used": before - (top - depths[i]),
                         "estimated_ms": round(ms, 1)})
        return rows

    def key_bytes(self) -> dict:
        """Sizes of the evaluation keys the client sends (computed from the parameters)."""
        p = self.parameters
        n, special = p["poly_degree"], p["special_primes"]
        chain = len(p["coeff_bits"]) - special
        digits = -(-chain // special)
        one_key = digits * 2 * (chain + special) * n * 8
        return {"public": 2 * chain * n * 8, "relin": one_key, "galois": one_key * len(self._rotations),
                "rotation_keys": len(self._rotations)}

    def summary(self) -> str:
        """A readable account of the plan: layers, levels, parameters, keys, cost."""
        p = self.parameters
        depths = self.graph.depths()
        top = len(p["coeff_bits"]) - p["special_primes"] - 1
        lines = [f"EncryptedModel {self.name!r}: packing={self.packing} "
                 f"({self.layout.per_ciphertext} inputs per {'group' if self.packing == 'features' else 'ciphertext'})",
                 f"  {'#':>3} {'op':<7} {'size':>6} {'level':>5}  name"]
        for i, node in enumerate(self.graph.nodes):
            extra = ""
            if node.op == "poly":
                extra = f"  degree {len(node.coeffs) - 1}"
                if node.function:
                    dom = node.extra.get("accurate_on", node.extra.get("calibrated_domain", node.domain))
                    extra += f" {node.function} on [{dom[0]:.3g}, {dom[1]:.3g}], max error {node.error:.2g}"
                    if "bounded_on" in node.extra:
                        f = node.extra["bounded_on"]
                        extra += (f"; |p| <= {node.extra['bound']:.3g} on [{f[0]:.3g}, {f[1]:.3g}] "
                                  f"(|f| <= {node.extra['function_max']:.3g})")
                    if node.extra.get("box_inside") is not None:
                        extra += "; input box: " + ("inside" if node.extra["box_inside"] else
                                                    "not inside (bound [{:.3g}, {:.3g}])".format(*node.extra["box_range"]))
            if node.op == "mul" and "band" in node.extra:
                extra += ("  relu composite on [-{0:.3g}, {0:.3g}]: max error {1:.2g} for |x| >= {2:.3g}, "
                          "{3:.2g} inside").format(node.extra["bound"], node.extra["error_outside"],
                                                   node.extra["band"], node.extra["error_inside"])
            if node.op == "affine" and node.extra.get("packing") == "im2col":
                extra += "  im2col windows (client-side layout)"
            if node.op == "affine" and node.extra.get("packing") == "rows":
                extra += "  kernel-row copies (client-side layout)"
            if node.op == "affine" and "fold" in node.extra:
                extra += "  partial sums {1} x {0} slots, folded by {2} rotations".format(
                    *node.extra["fold"], int(node.extra["fold"][1]).bit_length() - 1)
            if node.op == "bootstrap":
                extra = (f"  values / {node.extra['scale']} ({node.extra['prescale']}) while refreshed, "
                         f"back to level {top - depths[i]}")
            lines.append(f"  {i:>3} {node.op:<7} {node.size:>6} {top - depths[i]:>5}  {node.name}{extra}")
        keys = self.key_bytes()
        cost = self.cost()
        if self.bootstraps:
            lines.append(f"  bootstraps: {self.bootstraps} per ciphertext, placed by the compiler "
                         f"({self.info.get('placement', 'given')}); each brings a value back to level "
                         f"{top - max(d for d, n in zip(depths, self.graph.nodes) if n.op == 'bootstrap')}")
        lines += [f"  depth {self.depth}; parameters N={p['poly_degree']} coeff_bits={p['coeff_bits']} "
                  f"scale=2^{p['scale_bits']} special_primes={p['special_primes']} "
                  f"({'128-bit secure' if sum(p['coeff_bits']) <= max_secure_modulus_bits(p['poly_degree']) else 'NOT secure: test parameters'})",
                  f"  rotations: {len(self._rotations)} keys; ciphertext products {cost['ct_products']}, "
                  f"scalar products {cost['scalar_products']}, plaintext products {cost['plain_products']}, "
                  f"rotations {cost['rotations']}",
                  f"  keys: relin {keys['relin'] / 2**20:.1f} MiB, galois {keys['galois'] / 2**20:.1f} MiB",
                  f"  estimated server time per {'group' if self.packing == 'features' else 'ciphertext'}: "
                  f"~{cost['estimated_ms']:.0f} ms (rough, one thread)"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<securinfer.nn.EncryptedModel {self.name!r} {self.graph.input_size}->{self.graph.output_size} "
                f"packing={self.packing} depth={self.depth} N={self.parameters['poly_degree']}>")

    # ------------------------------------------------------------------ files
    def save(self, target) -> None:
        """Plan and weights to one file of the servable store (no pickle, no keys)."""
        arrays = {}
        nodes = []
        for i, node in enumerate(self.graph.nodes):
            entry = {"op": node.op, "inputs": node.inputs, "size": node.size, "name": node.name,
                     "function": node.function, "domain": list(node.domain), "error": node.error,
                     "extra": node.extra}
            for field in ("weight", "bias", "coeffs"):
                value = getattr(node, field)
                if value is not None:
                    arrays[f"node{i}_{field}"] = value
            nodes.append(entry)
        plan = {"name": self.name, "input_size": self.graph.input_size,
                "input_shape": list(self.input_shape), "layout": self.layout.to_dict(),
                "parameters": self.parameters, "rotations": self._rotations, "info": self.info, "nodes": nodes}
        if self.ranges_recorded:
            plan["input_ranges"] = self.input_ranges.to_dict() if self.input_ranges is not None else None
        store.write(target, self.kind, plan, **arrays)

    @classmethod
    def load(cls, source) -> "EncryptedModel":
        """A model saved by :meth:`save` (a path or a binary file); validated,
        safe on untrusted files (``SerializationError`` on anything
        malformed). Files of the older layout (a ``plan`` member) still load."""
        path = source
        try:
            if not hasattr(source, "read"):
                with open(source, "rb") as f:
                    source = io.BytesIO(f.read())
            arrays = read_npz(source, what="securinfer.nn model", max_member_bytes=MAX_MEMBER_BYTES)
            if "plan" in arrays:
                plan = json.loads(arrays.pop("plan").tobytes().decode())
                if plan.get("format") != _LEGACY_FORMAT:
                    raise SerializationError(f"not a securinfer.nn model file (format {plan.get('format')!r})")
            else:
                plan, arrays = store.split_header(arrays)
                if plan.get("kind") != cls.kind:
                    raise SerializationError(f"this file holds a {plan.get('kind')!r}, not a {cls.kind!r}")
            graph = Graph(int(plan["input_size"]))
            layout = Layout.from_dict(plan["layout"])
            if layout.gather:
                graph.input_gather = np.array(layout.gather, dtype=np.int64)
            for i, entry in enumerate(plan["nodes"]):
                op, inputs, name = entry["op"], [int(r) for r in entry["inputs"]], str(entry["name"])
                if op == "affine":
                    graph.affine(inputs[0], arrays[f"node{i}_weight"], arrays[f"node{i}_bias"], name=name)
                elif op == "square":
                    graph.square(inputs[0], name=name)
                elif op == "poly":
                    graph.poly(inputs[0], arrays[f"node{i}_coeffs"], tuple(entry["domain"]), "chebyshev", name=name,
                               function=str(entry["function"]), error=float(entry["error"]))
                elif op == "add":
                    graph.add(inputs[0], inputs[1], name=name)
                elif op == "mul":
                    graph.mul(inputs[0], inputs[1], name=name)
                elif op == "bootstrap":
                    extra = entry.get("extra") or {}
                    try:
                        graph.bootstrap(inputs[0], extra["scale"], extra["prescale"], extra["used_after"], name=name)
                    except (KeyError, ParameterError) as e:
                        raise SerializationError(f"node {i}: bad bootstrap: {e}") from None
                else:
                    raise SerializationError(f"unknown operation {op!r} in the plan")
                graph.nodes[-1].extra = dict(entry.get("extra") or {})
                if graph.nodes[-1].size != int(entry["size"]):
                    raise SerializationError(f"node {i}: size does not match its weights")
            if not graph.nodes:      # the run returns the last node's value: an empty plan failed with IndexError
                raise SerializationError("the plan has no operation")
            if layout.features != graph.input_size:
                raise SerializationError("the layout does not match the plan")
            params = plan["parameters"]
            keys = {"poly_degree", "coeff_bits", "scale_bits", "special_primes"}
            if set(params) != keys:
                raise SerializationError(f"parameters must be exactly {sorted(keys)}")
            rotations = [int(s) for s in plan["rotations"]]
            recorded = "input_ranges" in plan
            ranges = None
            if recorded and plan["input_ranges"] is not None:
                try:
                    ranges = InputRanges.from_dict(plan["input_ranges"])
                except ParameterError as e:
                    raise SerializationError(str(e)) from None
            if not recorded:
                warnings.warn(f"{path!r} was saved without input ranges (an older securinfer): clients cannot "
                              "check records against the calibrated ranges; recompile and save to restore the check",
                              UserWarning, stacklevel=2)
            return cls(graph, layout, params, name=str(plan["name"]), input_shape=plan["input_shape"],
                       info=plan.get("info"), rotations=rotations, input_ranges=ranges, ranges_recorded=recorded)
        except SerializationError:
            raise
        except ARCHIVE_ERRORS as e:
            raise SerializationError(f"cannot load an encrypted model from {path!r}: {type(e).__name__}: {e}") from None
