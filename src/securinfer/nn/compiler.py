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

from typing import Dict, Optional, Sequence

import numpy as np

from ..errors import ParameterError
from .activations import DEFAULT_MARGIN, DEFAULT_TOLERANCE, calibrate
from .errors import UnsupportedModelError
from .fold import fold_affine, fold_domains
from .model import EncryptedModel
from .planner import choose_layout, choose_parameters, min_scale_bits
from .scatter import scatter_outputs
from .sklearn_frontend import is_sklearn_estimator
from .sklearn_frontend import lower as lower_sklearn
from .torch_frontend import is_torch_module
from .torch_frontend import lower as lower_torch

__all__ = ["compile"]


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
            name: Optional[str] = None) -> EncryptedModel:
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
      ``tolerance`` (relative); ``margin``: widening of calibrated ranges.
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
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ParameterError("batch_size must be a positive int")
    X = _rows(calibration, graph.input_size)
    graph = fold_affine(graph)
    calibrate(graph, X, margin=margin, degrees=degrees, tolerance=tolerance)
    graph = fold_domains(graph)
    if not graph.nodes:
        raise UnsupportedModelError("the model computes nothing (identity)")
    magnitudes = None
    if X is not None:
        trace: list = []
        graph.run(X, trace=trace)
        used = graph.depths()
        magnitudes = [(0, float(np.max(np.abs(X))))] + [(u, float(np.max(np.abs(v)))) for u, v in zip(used, trace)]
    floor = min_scale_bits(graph)
    params = choose_parameters(graph.depth, precision_bits, magnitudes, min_scale_bits=floor)
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
        graph = scatter_outputs(graph, layout.stride)
        layout = choose_layout(graph, params["poly_degree"] // 2, "slots", batch_size)
    return EncryptedModel(graph, layout, params, name=name or type(model).__name__, input_shape=input_shape,
                          info=info)
