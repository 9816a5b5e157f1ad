"""``securinfer.nn.compile``: a trained model to an :class:`EncryptedModel`.

Steps: the front end lowers the model to a plan (torch.fx for PyTorch, the
fitted attributes for scikit-learn); consecutive affine maps are folded into
one (batch norm and pooling into the layer before them); activations are
approximated on the ranges the calibration rows give; their changes of
variable are folded into the affine layers feeding them; then the planner
picks the packing and the smallest secure parameters for the plan's depth;
for the slot packing, convolution outputs get a layout with few diagonals
(:mod:`securinfer.nn.scatter`).

Example:
    >>> import numpy as np, securinfer.nn as snn
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.default_rng(1).normal(size=(40, 4)); y = (X[:, 0] > 0).astype(int)
    >>> enc = snn.compile(LogisticRegression().fit(X, y))
    >>> enc.packing, enc.depth, enc.required_rotations()
    ('features', 1, [])
"""

from __future__ import annotations

import warnings
from typing import Dict, Optional, Sequence

import numpy as np

from ..bootstrapping import prepare as prepare_bootstrap
from ..context import Context
from ..errors import ParameterError, SecurityError
from ..parameters import max_secure_modulus_bits
from ..presets import PRESETS
from .activations import DEFAULT_MARGIN, DEFAULT_SAFETY, DEFAULT_TOLERANCE, calibrate
from .errors import UnsupportedModelError
from .composite import expand_composites
from .fold import fold_affine, fold_domains
from .intervals import bounds
from .model import EncryptedModel
from .im2col import apply_im2col, apply_row_copies
from .packing import Layout
from .placement import insert_bootstraps, place_bootstraps
from .planner import choose_layout, choose_parameters, min_scale_bits, plan_folds, slot_plan_cost
from .ranges import DEFAULT_INPUT_MARGIN, InputRanges
from .scatter import scatter_outputs
from .sklearn_frontend import is_sklearn_estimator
from .sklearn_frontend import lower as lower_sklearn
from .torch_frontend import is_torch_module
from .torch_frontend import lower as lower_torch
from .._validation import is_int

__all__ = ["compile", "MAGNITUDE_HEADROOM"]

#: The modulus holds every value up to this many times its calibrated size, or
#: its interval bound over the input box if that is smaller (see ``_magnitudes``).
MAGNITUDE_HEADROOM = 16.0


def _rows(X, n):
    if X is None:
        return None
    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    X = np.asarray(X, dtype=np.float64)
    if X.size % n:
        raise ParameterError(f"calibration rows must hold {n} values each, got shape {X.shape}")
    return X.reshape(-1, n)


def compile(model, input_shape: Optional[Sequence[int]] = None, calibration=None, batch_size: Optional[int] = None,
            precision_bits: int = 16, *, packing: str = "auto", degrees: Optional[Dict[str, int]] = None,
            margin: float = DEFAULT_MARGIN, tolerance: float = DEFAULT_TOLERANCE, output: str = "decision",
            name: Optional[str] = None, input_margin: float = DEFAULT_INPUT_MARGIN, safety: float = DEFAULT_SAFETY,
            cover_input_box: bool = False, conv_packing: str = "auto", bootstrap: str = "auto",
            bootstrap_parameters: Optional[dict] = None, security: Optional[str] = "128",
            fold: bool = True, relu: str = "chebyshev", relu_band_bits: int = 7) -> EncryptedModel:
    """Compile a trained ``torch.nn.Module`` or scikit-learn estimator.

    * ``input_shape``: one input's shape without the batch dimension (torch;
      e.g. ``(1, 28, 28)``); scikit-learn models know their feature count.
    * ``calibration``: typical inputs (batch first); needed when the model
      has non-polynomial activations, and used to size the outputs.
    * ``batch_size``: inputs per query; when a whole batch fits in one
      ciphertext's slots the slot packing is chosen (latency), otherwise the
      feature packing (throughput; ``slots`` inputs per group). ``packing=``
      ``"features"`` or ``"slots"`` forces one.
    * ``precision_bits``: bits of absolute precision of the encrypted inputs
      (the scale is ``2^(precision_bits + 10)``); errors grow with the
      weights and the activations' slopes (see ``simulate`` and the docs).
    * ``degrees``: Chebyshev degree per activation (``{"relu": 31}``); by
      default the smallest of 7, 15, 31, 63, 127 whose error is within
      ``tolerance`` (relative) on the calibrated range widened by ``margin``
      (a fraction of its width on each side); the polynomial is fitted on
      that range widened again by ``safety`` (default 25% of it), where its
      values stay bounded (see :mod:`securinfer.nn.activations`).
    * ``input_margin``: the client checks each record against the calibration
      rows' per-feature ranges widened by this many widths
      (:mod:`securinfer.nn.ranges`); ``cover_input_box=True`` fits every
      activation on its interval bound over that whole box (provably bounded
      for every record the client accepts; larger domains, so higher degrees).
    * ``conv_packing`` (slot packing): ``"im2col"`` lays the first
      convolution's windows out on the client (one diagonal per kernel offset
      and channel, :mod:`securinfer.nn.im2col`), ``"matrix"`` treats it as a
      matrix with scattered outputs (:mod:`securinfer.nn.scatter`), ``"rows"``
      has the client write one copy of its image per kernel row (a partial
      im2col for windows that do not fit, outputs scattered); ``"auto"``
      takes the one the planner's cost model finds cheapest.
    * ``fold`` (``batch_size=1``, slot packing): dense layers followed by
      another layer compute partial sums on few diagonals and add them with
      rotations where the cost model finds it cheaper
      (:mod:`securinfer.nn.fold_sum`); ``False`` keeps plain transforms.
    * ``bootstrap``: ``"auto"`` bootstraps only a plan deeper than any
      128-bit chain (``"never"``: raise instead; ``"always"``: bootstrap
      parameters whatever the depth). The compiler then takes the
      ``preset="bootstrap"`` parameters (N = 2^16, 9 levels after each
      bootstrap), places the bootstraps (fewest, then fastest:
      :mod:`securinfer.nn.placement`) and lists them in ``summary()``; the
      client makes the bootstrapping keys itself. ``bootstrap_parameters``
      (kwargs of ``si.Context.create``) replaces the preset; parameters below
      128 bits need ``security=None`` (tests only; warns).
    * ``relu``: ``"chebyshev"`` (default) fits each ReLU by one Chebyshev
      polynomial as any activation; ``"composite"`` computes
      ``x (1 + s(x)) / 2`` with ``s`` a composition of degree-7 odd
      polynomials approximating the sign on the bounded range ``[-B, B]``
      (:mod:`securinfer.nn.composite`), accurate outside the band
      ``|x| < 2^-relu_band_bits B`` (default 7: error below ``1e-5 B``
      there, below the band's width inside; 17 levels; 5: ``1e-4 B``, 14
      levels): deep, for bootstrapped plans or large rings; ``summary()``
      prints both errors per layer.
    * ``output``: scikit-learn classifiers: ``"decision"`` (the decision
      function) or ``"proba"`` (binary logistic models: the approximated sigmoid).
    """
    if is_torch_module(model):
        if input_shape is None:
            raise ParameterError("input_shape=... (one input, without the batch dimension) is needed for torch models")
        graph, _ = lower_torch(model, input_shape)
        info = {"classes": None, "rule": None, "estimator": type(model).__name__}
    elif is_sklearn_estimator(model):
        graph, info = lower_sklearn(model, output)
        input_shape = (graph.input_size,)
    else:
        raise UnsupportedModelError(f"{type(model).__name__} is neither a torch.nn.Module nor a scikit-learn "
                                    "estimator")
    if not isinstance(fold, bool):
        raise ParameterError("fold must be True or False")
    if conv_packing not in ("auto", "im2col", "rows", "matrix"):
        raise ParameterError("conv_packing must be 'auto', 'im2col', 'rows' or 'matrix'")
    if batch_size is not None and (not is_int(batch_size) or batch_size < 1):
        raise ParameterError("batch_size must be a positive int")
    X = _rows(calibration, graph.input_size)
    graph = fold_affine(graph)
    ranges = InputRanges.from_calibration(X, input_margin) if X is not None else None
    box = (ranges.low, ranges.high) if ranges is not None else None
    calibrate(graph, X, margin=margin, degrees=degrees, tolerance=tolerance, safety=safety, box=box,
              cover_input_box=cover_input_box, relu=relu, relu_band_bits=relu_band_bits)
    graph = fold_domains(expand_composites(graph))
    if not graph.nodes:
        raise UnsupportedModelError("the model computes nothing (identity)")
    if bootstrap not in ("auto", "never", "always"):
        raise ParameterError("bootstrap must be 'auto', 'never' or 'always'")
    magnitudes = _magnitudes(graph, X, ranges) if X is not None else None
    floor = min_scale_bits(graph)
    if bootstrap == "always" or bootstrap_parameters is not None:
        params = None
    else:
        try:
            params = choose_parameters(graph.depth, precision_bits, magnitudes, min_scale_bits=floor)
        except ParameterError:
            if bootstrap == "never":
                raise
            params = None      # deeper than any 128-bit chain: bootstrap
    if params is None:
        graph, params, placement = _bootstrapped(graph, X, bootstrap_parameters, security)
        info = {**info, "placement": f"{placement.method}, {placement.count} bootstraps"}
        if packing == "auto":   # one bootstrap per ciphertext: pack a batch in one
            packing = "slots" if max([graph.input_width] + [n.size for n in graph.nodes]) * (batch_size or 1) \
                <= params["poly_degree"] // 2 else "features"
    layout = choose_layout(graph, params["poly_degree"] // 2, packing, batch_size)
    if layout.packing == "slots" and batch_size:
        need = layout.stride * batch_size
        if need > layout.slots and packing == "slots":
            params = choose_parameters(graph.depth, precision_bits, magnitudes, min_slots=min(need, 32768),
                                       min_scale_bits=floor)
            layout = choose_layout(graph, params["poly_degree"] // 2, "slots", batch_size)
    elif packing == "slots" and layout.stride > layout.slots:
        params = choose_parameters(graph.depth, precision_bits, magnitudes, min_slots=layout.stride,
                                   min_scale_bits=floor)
        layout = choose_layout(graph, params["poly_degree"] // 2, "slots", batch_size)
    if layout.packing == "slots":
        image = (int(input_shape[-1]), int(input_shape[-1]) * int(input_shape[-2])) if len(input_shape) == 3 else None
        graph = _convolution_packing(graph, layout, params, batch_size, conv_packing, image)
        layout = choose_layout(graph, params["poly_degree"] // 2, "slots", batch_size)
        if batch_size == 1 and fold:   # one input owns every slot: dense layers may fold partial sums
            layout = Layout("slots", layout.features, layout.slots, layout.slots, layout.gather)
            graph = plan_folds(graph, layout.slots)
    return EncryptedModel(graph, layout, params, name=name or type(model).__name__, input_shape=input_shape,
                          info=info, input_ranges=ranges, compiled_here=True)


def _bootstrapped(graph, X, parameters, security):
    """The plan with bootstraps placed for bootstrapping parameters (the
    preset's, or the given ones, checked against the 128-bit bound unless
    ``security=None``)."""
    params = dict(parameters) if parameters is not None else dict(PRESETS["bootstrap"])
    try:
        params = {k: params[k] for k in ("poly_degree", "coeff_bits", "scale_bits", "special_primes")}
    except KeyError as e:
        raise ParameterError(f"bootstrap_parameters needs poly_degree, coeff_bits, scale_bits and special_primes: "
                             f"missing {e}") from None
    params["coeff_bits"] = [int(b) for b in params["coeff_bits"]]
    secure = sum(params["coeff_bits"]) <= max_secure_modulus_bits(int(params["poly_degree"]))
    if not secure and security is not None:
        raise SecurityError(f"bootstrap_parameters {params} are below 128-bit security; only security=None "
                            "(tests) accepts them")
    if security is not None and security != "128":
        raise ParameterError("security must be '128' or None")
    if not secure:
        warnings.warn("compiling for parameters below 128-bit security (security=None): for tests only",
                      UserWarning, stacklevel=3)
    if X is None:
        raise ParameterError("a plan that bootstraps needs calibration rows (the values are scaled into [-1/2, "
                             "1/2] before each bootstrap)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # the warning above said it once
        plan_ctx = Context.for_planning(**params, security=None if not secure else "128")
    prepare_bootstrap(plan_ctx, keep_plaintexts=False)   # its levels only: no DFT diagonals held (3 GiB at N = 2^16)
    # Levels counted from the lowest a bootstrap takes (above 0 when the
    # chain runs SlotsToCoeffs first, on the input's last levels).
    floor = plan_ctx.bootstrap_input_level
    top, refresh = plan_ctx.max_level - floor, plan_ctx.levels_after_bootstrap - floor
    trace: list = []
    graph.run(X, trace=trace)
    sizes = [float(np.max(np.abs(v))) for v in trace]
    placement = place_bootstraps(graph, top, refresh)
    return insert_bootstraps(graph, placement, sizes, top, refresh), params, placement


def _convolution_packing(graph, layout, params, batch_size, choice, image):
    """The slot-packed plan with the cheapest convolution packing (or the
    one asked for): scattered matrix outputs, client-side im2col windows, or
    client-side kernel-row copies with scattered outputs."""
    slots = params["poly_degree"] // 2
    top = len(params["coeff_bits"]) - params["special_primes"] - 1
    windows = apply_im2col(graph, slots, batch_size) if choice in ("auto", "im2col") else None
    rows = apply_row_copies(graph, *image, slots, batch_size) if choice in ("auto", "rows") and image else None
    for name, found in (("im2col", windows), ("rows", rows)):
        if choice == name and found is None:
            raise ParameterError(f"conv_packing='{name}' needs a first layer that is a convolution read by nothing "
                                 f"else, whose client-side layout fits {slots} slots for the batch")

    def scattered(g):   # a batch of known size may spread a convolution's channels over all the slots it leaves free
        width = max([g.input_width] + [n.size for n in g.nodes])
        return scatter_outputs(g, max(width, slots // batch_size) if batch_size else width)

    candidates = {"matrix": scattered(graph) if choice in ("auto", "matrix") else None,
                  "im2col": scatter_outputs(windows, max([windows.input_width] + [n.size for n in windows.nodes]))
                  if windows is not None else None,
                  "rows": scattered(rows) if rows is not None else None}
    if choice != "auto":
        return candidates[choice]
    found = {k: g for k, g in candidates.items() if g is not None}
    return min(found.values(), key=lambda g: slot_plan_cost(g, slots, top))


def _magnitudes(graph, X, ranges):
    """``(levels used, largest |value|)`` per value of the plan, for the base
    prime: the calibrated size, raised to the interval bound over the input
    box (every record the client accepts, every polynomial inside its bounded
    range) but at most ``MAGNITUDE_HEADROOM`` times the calibrated size."""
    trace: list = []
    graph.run(X, trace=trace)
    lows, highs, _ = bounds(graph, ranges.low, ranges.high)
    used = graph.depths()

    def size(calibrated, low, high):
        reach = float(max(np.max(np.abs(low)), np.max(np.abs(high))))
        return max(calibrated, min(reach, MAGNITUDE_HEADROOM * calibrated))

    out = [(0, size(float(np.max(np.abs(X))), ranges.low, ranges.high))]
    for u, v, lo, hi in zip(used, trace, lows, highs):
        out.append((u, size(float(np.max(np.abs(v))), lo, hi)))
    return out
