"""Making a PyTorch model friendly to homomorphic encryption.

CKKS evaluates additions and multiplications only, so a network can run on
encrypted inputs once every activation is a polynomial and every pooling is
linear. ``he_friendly`` rewrites a trained model that way and repairs the
accuracy the rewrite costs:

1. ReLU, GELU and SiLU modules become :class:`PolyActivation` (``x**2``, or a
   polynomial of degree 2 to 4 with trainable coefficients), MaxPool becomes
   AvgPool with the same window;
2. the input range of each replaced activation is measured on ``data``
   (the *calibration*): the trainable polynomials start as the least-squares
   fit of the replaced function on that range, and the ranges are reported
   (an encrypted evaluation must keep its inputs within them);
3. the new model is fine-tuned for a few epochs on ``data``.

The report gives the accuracy on ``data`` (or ``eval_data``) before the rewrite,
right after it and after fine-tuning, and the ranges. PyTorch is imported only
when one of these functions runs, so ``import securinfer.nn`` does not need it.

Example (trains for a few seconds, so not run as a doctest)::

    from securinfer.nn.he_friendly import he_friendly
    friendly, report = he_friendly(model, (X_train, y_train), epochs=3, activation="poly2")
    print(report.accuracy_before, report.accuracy_after, report.ranges)

``PolyActivation.coefficients()`` gives each activation as power-basis
coefficients in its input (lowest degree first), what a compiler evaluates:

    >>> from securinfer.nn.he_friendly import PolyActivation
    >>> PolyActivation.square().coefficients().tolist()
    [0.0, 0.0, 1.0]
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import numpy as np

from ..errors import ParameterError
from .._validation import is_int

__all__ = ["he_friendly", "HEFriendlyReport", "PolyActivation", "ACTIVATIONS"]

#: Activation names ``he_friendly`` accepts, with the degree of the polynomial.
#: "square" is the fixed x**2 (no parameters); "polyK" has K + 1 trainable
#: coefficients initialised from a least-squares fit of the replaced function.
ACTIVATIONS = {"square": 2, "poly2": 2, "poly3": 3, "poly4": 4}

# Points of [-1, 1] for the least-squares fits (dense, uniform: calibrated
# inputs spread over the whole range, not only near its ends).
_FIT_POINTS = np.linspace(-1.0, 1.0, 2001)


@functools.lru_cache(maxsize=None)
def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("securinfer.nn.he_friendly needs PyTorch: pip install 'securinfer[torch]'") from e
    return torch


@functools.lru_cache(maxsize=None)
def _poly_activation_class():
    """Defines PolyActivation on first use (it subclasses torch.nn.Module)."""
    torch = _torch()

    class PolyActivation(torch.nn.Module):
        """y = sum_k c_k t**k with t = x * scale: a polynomial activation.

        The coefficients act on the scaled input t (kept in about [-1, 1] by the
        calibration), which keeps the training well conditioned; the scale is a
        fixed buffer. ``coefficients()`` converts to the power basis in x.

        Build one with ``PolyActivation.square()`` or
        ``PolyActivation.fit(function, degree, bound)``.
        """

        def __init__(self, coefficients, scale: float = 1.0, trainable: bool = True):
            super().__init__()
            c = torch.as_tensor(np.asarray(coefficients, dtype=np.float64), dtype=torch.float32)
            if c.ndim != 1 or c.numel() < 2:
                raise ParameterError("a polynomial activation needs at least two coefficients")
            if not np.isfinite(scale) or scale <= 0:
                raise ParameterError(f"scale must be a positive finite number, got {scale}")
            # A fixed polynomial (x**2) keeps nothing in the state_dict, so a
            # network's saved weights are those of its linear layers only.
            if trainable:
                self.weight = torch.nn.Parameter(c)
            else:
                self.register_buffer("weight", c, persistent=False)
            self.register_buffer("scale", torch.tensor(float(scale)), persistent=trainable)
            self._degree = int(c.numel()) - 1  # a plain int keeps forward traceable by torch.fx
            self._square = not trainable and scale == 1.0 and c.tolist() == [0.0, 0.0, 1.0]

        @classmethod
        def square(cls):
            """The fixed activation x**2 (TenSEAL's tutorial networks use it)."""
            return cls([0.0, 0.0, 1.0], 1.0, trainable=False)

        @classmethod
        def fit(cls, function, degree: int, bound: float, samples=None):
            """Trainable polynomial of ``degree``: the least-squares fit of the
            numpy ``function`` on [-bound, bound], uniformly, or (given
            ``samples`` of the inputs it will see) mostly where those inputs
            lie, with 1% of the weight spread uniformly over the range."""
            if not np.isfinite(bound) or bound <= 0:
                raise ParameterError(f"bound must be a positive finite number, got {bound}")
            t = _FIT_POINTS
            w = np.ones_like(t)
            if samples is not None and len(samples):
                t_s = np.clip(np.asarray(samples, dtype=np.float64) / bound, -1, 1)
                # polyfit weights multiply the residuals: sqrt of the share of the squared error
                w = np.concatenate([np.full(t_s.size, 1.0), np.full(t.size, np.sqrt(0.01 * t_s.size / t.size))])
                t = np.concatenate([t_s, t])
            c = np.polynomial.polynomial.polyfit(t, function(t * bound), degree, w=w)
            return cls(c, 1.0 / bound, trainable=True)

        @property
        def degree(self) -> int:
            return self._degree

        def forward(self, x):
            if self._square:  # written as x * x: what compilers (and torch.fx) recognise as a square
                return x * x
            t = x * self.scale
            y = self.weight[self._degree]
            for k in range(self._degree - 1, -1, -1):  # Horner's rule
                y = y * t + self.weight[k]
            return y

        def coefficients(self) -> np.ndarray:
            """Power-basis coefficients of the activation in its input x,
            lowest degree first (float64)."""
            c = self.weight.detach().double().cpu().numpy()
            return c * float(self.scale) ** np.arange(c.size)

        def extra_repr(self) -> str:
            return f"degree={self.degree}, scale={float(self.scale):.4g}"

    PolyActivation.__module__ = __name__
    PolyActivation.__qualname__ = "PolyActivation"
    return PolyActivation


def __getattr__(name):  # PEP 562: PolyActivation exists once torch is imported
    if name == "PolyActivation":
        return _poly_activation_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class HEFriendlyReport:
    """What ``he_friendly`` did, and the accuracies (fractions in [0, 1])."""

    accuracy_before: float            #: original model
    accuracy_replaced: float          #: after the rewrite, before fine-tuning
    accuracy_after: float             #: after fine-tuning
    replaced: Dict[str, str]          #: module name -> "ReLU -> poly2" (or "MaxPool2d -> AvgPool2d")
    ranges: Dict[str, Tuple[float, float]]        #: input (min, max) of each activation, original model
    ranges_after: Dict[str, Tuple[float, float]]  #: the same, measured on the returned model
    losses: List[float] = field(default_factory=list)  #: mean training loss of each epoch


def _numpy_functions():
    from math import erf, sqrt

    erf_v = np.vectorize(erf)
    return {
        "ReLU": lambda x: np.maximum(x, 0.0),
        "GELU": lambda x: 0.5 * x * (1 + erf_v(x / sqrt(2))),
        "SiLU": lambda x: x / (1 + np.exp(-x)),
    }


def _replaced_types():
    nn = _torch().nn
    return {"activations": (nn.ReLU, nn.GELU, nn.SiLU),
            "pools": (nn.MaxPool1d, nn.MaxPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d)}


def _avg_pool_for(pool):
    nn = _torch().nn
    if isinstance(pool, nn.AdaptiveMaxPool2d):
        return nn.AdaptiveAvgPool2d(pool.output_size)
    if isinstance(pool, nn.AdaptiveMaxPool1d):
        return nn.AdaptiveAvgPool1d(pool.output_size)
    dilation = pool.dilation if isinstance(pool.dilation, tuple) else (pool.dilation,)
    if any(d != 1 for d in dilation):
        raise ParameterError(f"{type(pool).__name__} with dilation {pool.dilation} has no average-pool equivalent")
    avg = nn.AvgPool2d if isinstance(pool, nn.MaxPool2d) else nn.AvgPool1d
    return avg(pool.kernel_size, pool.stride, pool.padding, ceil_mode=pool.ceil_mode)


def _set_submodule(model, name: str, module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def _as_batches(data, batch_size: int, shuffle: bool, generator=None):
    """(inputs, labels) batches from an (X, y) pair or any iterable of pairs (a DataLoader)."""
    torch = _torch()
    if isinstance(data, (tuple, list)) and len(data) == 2 and not isinstance(data[0], (tuple, list)):
        X = torch.as_tensor(np.asarray(data[0]) if not torch.is_tensor(data[0]) else data[0]).float()
        y = torch.as_tensor(np.asarray(data[1]) if not torch.is_tensor(data[1]) else data[1]).long()
        if X.shape[0] != y.shape[0] or X.shape[0] == 0 or y.ndim != 1:
            raise ParameterError(f"data must be (X, y) with len(X) == len(y) > 0 and y 1-D; got {tuple(X.shape)} and {tuple(y.shape)}")
        order = torch.randperm(X.shape[0], generator=generator) if shuffle else torch.arange(X.shape[0])
        for start in range(0, X.shape[0], batch_size):
            idx = order[start:start + batch_size]
            yield X[idx], y[idx]
        return
    try:
        iterator = iter(data)
    except TypeError:
        raise ParameterError("data must be an (X, y) pair or an iterable of (inputs, labels) batches, such as a DataLoader") from None
    for batch in iterator:
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise ParameterError("each batch of data must be an (inputs, labels) pair")
        yield torch.as_tensor(batch[0]).float(), torch.as_tensor(batch[1]).long()


def _accuracy(model, data, batch_size: int) -> float:
    torch = _torch()
    model.eval()
    right = total = 0
    with torch.no_grad():
        for xb, yb in _as_batches(data, batch_size, shuffle=False):
            right += int((model(xb).argmax(dim=1) == yb).sum())
            total += int(yb.numel())
    if total == 0:
        raise ParameterError("data holds no examples")
    return right / total


def _input_ranges(model, names, data, batch_size: int, samples_per_batch: int = 0, generator=None):
    """(min, max) of the input of each named module over ``data``, and (when
    ``samples_per_batch`` > 0) a random sample of those inputs."""
    torch = _torch()
    ranges = {name: [np.inf, -np.inf] for name in names}
    samples = {name: [] for name in names}

    def hook_for(name):
        def hook(_module, inputs, _output):
            x = inputs[0].detach().reshape(-1)
            ranges[name][0] = min(ranges[name][0], float(x.min()))
            ranges[name][1] = max(ranges[name][1], float(x.max()))
            if samples_per_batch:
                samples[name].append(x[torch.randint(x.numel(), (samples_per_batch,), generator=generator)].double().numpy())
        return hook

    handles = [model.get_submodule(name).register_forward_hook(hook_for(name)) for name in names]
    try:
        model.eval()
        with torch.no_grad():
            for xb, _ in _as_batches(data, batch_size, shuffle=False):
                model(xb)
    finally:
        for h in handles:
            h.remove()
    ranges = {name: (lo, hi) for name, (lo, hi) in ranges.items()}
    return ranges, {name: np.concatenate(v) if v else np.zeros(0) for name, v in samples.items()}


def _check_no_functional_nonlinearity(model) -> None:
    """Refuses models whose forward calls relu/max_pool as functions: those
    cannot be swapped like modules and would stay in the 'friendly' model."""
    torch = _torch()
    F = torch.nn.functional
    banned = {F.relu, torch.relu, F.gelu, F.silu, F.max_pool1d, F.max_pool2d, torch.max_pool2d,
              F.adaptive_max_pool2d, F.relu_, torch.relu_}
    banned_methods = {"relu", "relu_"}
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception:  # forward with data-dependent control flow: cannot be checked, modules were swapped
        return
    for node in graph.nodes:
        if (node.op == "call_function" and node.target in banned) or (node.op == "call_method" and node.target in banned_methods):
            raise ParameterError(f"the model's forward calls {getattr(node.target, '__name__', node.target)} as a function "
                                 f"(node {node.name!r}); use a torch.nn module (nn.ReLU, nn.MaxPool2d) so it can be replaced")


def _rewrite(original, activation, ranges, samples, range_margin):
    """A copy of ``original`` with its activations and max pools replaced;
    also returns {module name: "Old -> new"}."""
    PolyActivation = _poly_activation_class()
    kinds = _replaced_types()
    friendly = copy.deepcopy(original)
    functions = _numpy_functions()
    replaced = {}
    for name, old in list(original.named_modules()):
        if isinstance(old, kinds["activations"]):
            if activation == "square":
                new = PolyActivation.square()
            else:
                lo, hi = ranges[name]
                bound = max(abs(lo), abs(hi), 1e-3) * (1 + range_margin)
                new = PolyActivation.fit(functions[type(old).__name__], ACTIVATIONS[activation], bound, samples[name])
            label = activation
        elif isinstance(old, kinds["pools"]):
            new = _avg_pool_for(old)
            label = type(new).__name__
        else:
            continue
        _set_submodule(friendly, name, new)
        replaced[name] = f"{type(old).__name__} -> {label}"
    _check_no_functional_nonlinearity(friendly)
    return friendly, replaced


def _fine_tune(model, data, epochs, lr, batch_size, max_grad_norm, generator):
    """Adam on the cross-entropy with gradient clipping; the mean loss of each epoch."""
    torch = _torch()
    losses = []
    if not epochs:
        return losses
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        total, count = 0.0, 0
        for xb, yb in _as_batches(data, batch_size, shuffle=True, generator=generator):
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            optimizer.step()
            total += float(loss.detach()) * int(yb.numel())
            count += int(yb.numel())
        losses.append(total / count)
    return losses


def he_friendly(model, data, epochs: int = 3, activation: str = "square", *, lr: float = 1e-3,
                batch_size: int = 64, eval_data=None, seed: int = 0, range_margin: float = 0.1,
                max_grad_norm: float = 1.0):
    """A copy of ``model`` with polynomial activations and average pooling, fine-tuned.

    Args:
        model: a trained ``torch.nn.Module`` classifier (outputs logits); it is not modified.
        data: ``(X, y)`` (numpy arrays or tensors; y class indices) or an iterable
            of ``(inputs, labels)`` batches such as a DataLoader: used to
            calibrate the ranges and to fine-tune.
        epochs: fine-tuning epochs (0: rewrite and calibrate only).
        activation: one of ``ACTIVATIONS``: "square" (x**2) or "poly2".."poly4".
        lr: Adam learning rate of the fine-tuning.
        batch_size: batch size when ``data`` is an (X, y) pair.
        eval_data: data for the accuracies of the report (default ``data``).
        seed: seeds the shuffling and anything random in the fine-tuning
            (the global torch generator is left as it was).
        range_margin: each polynomial is fitted on the measured range widened by this fraction.
        max_grad_norm: gradient clipping (polynomial networks can blow up early on).

    Returns:
        ``(new_model, HEFriendlyReport)``; the model is in eval mode.

    Raises:
        ParameterError: unknown activation, bad data, a pooling without an
            average equivalent, or a forward that calls relu/max_pool as functions.
    """
    torch = _torch()
    if not isinstance(model, torch.nn.Module):
        raise ParameterError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if activation not in ACTIVATIONS:
        raise ParameterError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
    if not is_int(epochs) or epochs < 0:
        raise ParameterError("epochs must be an int >= 0")
    if not is_int(batch_size) or batch_size < 1:
        raise ParameterError("batch_size must be an int >= 1")
    if not lr > 0 or not range_margin >= 0:
        raise ParameterError("lr must be > 0 and range_margin >= 0")
    eval_data = data if eval_data is None else eval_data

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)

        original = copy.deepcopy(model).float()
        accuracy_before = _accuracy(original, eval_data, batch_size)
        act_names = [n for n, m in original.named_modules() if isinstance(m, _replaced_types()["activations"])]
        ranges, samples = _input_ranges(original, act_names, data, batch_size, samples_per_batch=256, generator=generator)

        friendly, replaced = _rewrite(original, activation, ranges, samples, range_margin)
        accuracy_replaced = _accuracy(friendly, eval_data, batch_size)
        losses = _fine_tune(friendly, data, epochs, lr, batch_size, max_grad_norm, generator)
        accuracy_after = _accuracy(friendly, eval_data, batch_size)
        ranges_after, _ = _input_ranges(friendly, act_names, data, batch_size)

    friendly.eval()
    report = HEFriendlyReport(accuracy_before, accuracy_replaced, accuracy_after, replaced,
                              ranges, ranges_after, losses)
    return friendly, report
