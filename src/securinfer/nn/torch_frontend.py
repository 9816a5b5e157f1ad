"""PyTorch models to plans, through torch.fx (torch is imported only here).

The module is traced symbolically (``torch.fx.symbolic_trace``: nn.Sequential
and simple graphs with residual ``+``), the shape of every value is recorded
by running the traced module once on zeros, and each node is lowered:

* ``nn.Linear``, ``nn.Conv2d`` (channels, stride, padding, dilation, groups),
  ``nn.AvgPool2d``, ``nn.AdaptiveAvgPool2d`` (exact divisions),
  ``nn.BatchNorm1d/2d`` (running statistics) -> affine maps, folded later;
* ``nn.Flatten``, ``view``/``reshape``/``flatten``, ``nn.Dropout``, ``nn.Identity`` -> nothing;
* ``x * x``, ``x ** 2``, ``torch.square`` (so any ``Square`` module) -> a square;
* ``nn.ReLU``/``SiLU``/``GELU``/``Sigmoid``/``Tanh`` (and their functional
  forms) -> activations, approximated after calibration;
* ``a + b`` of two values -> an addition; ``x + c``, ``x * c`` (constants) -> affine.

Anything else raises :class:`~securinfer.nn.UnsupportedModelError` naming
the layer and what to use instead.

Example (plain code, needs torch)::

    import torch, securinfer.nn as snn
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    graph, shape = snn.torch_frontend.lower(net, (4,))
"""

from __future__ import annotations

import operator
from typing import Dict, Sequence, Tuple

import numpy as np

from ..errors import ParameterError
from .errors import UnsupportedModelError
from .graph import Graph
from .layers import avgpool2d_matrix, batchnorm_affine, conv2d_matrix, pair

__all__ = ["lower", "is_torch_module"]

_ACTIVATION_MODULES = {"ReLU": "relu", "SiLU": "silu", "GELU": "gelu", "Sigmoid": "sigmoid", "Tanh": "tanh"}
_ADVICE = {
    "MaxPool2d": "use nn.AvgPool2d (or securinfer.nn.he_friendly to convert the model and fine-tune it)",
    "MaxPool1d": "average instead (nn.AvgPool1d written as a Linear layer), or securinfer.nn.he_friendly",
    "AdaptiveMaxPool2d": "use nn.AdaptiveAvgPool2d or nn.AvgPool2d",
    "Softmax": "remove it: the largest logit gives the same class (decrypt, then softmax in the clear)",
    "LogSoftmax": "remove it: the largest logit gives the same class",
    "LeakyReLU": "use nn.ReLU (approximated) or a polynomial activation",
    "ELU": "use nn.SiLU or nn.GELU (approximated) or a polynomial activation",
    "LSTM": "recurrent layers are not supported; use Linear layers over a fixed window",
}


def is_torch_module(model) -> bool:
    """True for a ``torch.nn.Module`` (checked without importing torch)."""
    for cls in type(model).__mro__:
        if cls.__module__.startswith("torch.nn") and cls.__name__ == "Module":
            return True
    return False


def _numpy(t) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def _flat(shape) -> int:
    return int(np.prod(shape)) if len(shape) else 1


def _is_polynomial(module) -> bool:
    return callable(getattr(module, "coefficients", None))


def lower(model, input_shape: Sequence[int]) -> Tuple[Graph, Tuple[int, ...]]:
    """``(graph, output_shape)`` of a torch module for one input of ``input_shape``
    (without the batch dimension)."""
    import torch
    import torch.fx as fx
    from torch.fx.passes.shape_prop import ShapeProp

    class Tracer(fx.Tracer):
        # A module that states its polynomial (``coefficients()``, power basis,
        # as he_friendly's PolyActivation) is one node, not traced through.
        def is_leaf_module(self, module, qualified_name):
            return _is_polynomial(module) or super().is_leaf_module(module, qualified_name)

    input_shape = tuple(int(v) for v in input_shape)
    try:
        traced = fx.GraphModule(model, Tracer().trace(model))
    except Exception as e:  # fx raises many types for dynamic control flow
        raise UnsupportedModelError(f"the model cannot be traced by torch.fx ({type(e).__name__}: {e}); "
                                    "write it as nn.Sequential or without data-dependent control flow") from None
    was_training = model.training
    model.eval()
    traced.eval()
    try:
        with torch.no_grad():
            dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
            ShapeProp(traced).propagate(torch.zeros((1,) + input_shape, dtype=dtype))
    except Exception as e:
        raise ParameterError(f"the model does not run on inputs of shape {input_shape}: {e}") from None
    finally:
        model.train(was_training)
    return _Lowering(traced, input_shape).run()


class _Lowering:
    def __init__(self, traced, input_shape):
        self.traced = traced
        self.input_shape = tuple(input_shape)
        self.modules = dict(traced.named_modules())
        self.graph = Graph(_flat(input_shape))
        self.ref: Dict[str, int] = {}       # fx node name -> graph node (-1: input)
        self.shape: Dict[str, tuple] = {}   # fx node name -> shape without batch

    def run(self):
        import torch.fx as fx

        out = None
        for node in self.traced.graph.nodes:
            if node.op == "placeholder":
                if self.ref:
                    raise UnsupportedModelError(f"models with several inputs are not supported ({node.name})")
                self._set(node, -1, self.input_shape)
            elif node.op == "output":
                arg = node.args[0]
                if not isinstance(arg, fx.Node):
                    raise UnsupportedModelError("the model must return one tensor")
                out = arg.name
            else:
                meta = node.meta.get("tensor_meta")
                shape = tuple(meta.shape[1:]) if meta is not None and hasattr(meta, "shape") else None
                if node.op == "call_module":
                    self._module(node, self.modules[node.target], shape)
                elif node.op in ("call_function", "call_method"):
                    self._function(node, shape)
                else:
                    raise UnsupportedModelError(f"operation {node.op} {node.target} ({node.name}) is not supported")
        if out is None or out not in self.ref:
            raise UnsupportedModelError("the model's output does not come from its input")
        last = self.ref[out]
        if last == -1 or last != len(self.graph.nodes) - 1:
            # The output is not the last node (or is the input): append an identity.
            n = self.graph.size_of(last)
            last = self.graph.affine(last, np.eye(n), name="output")
        return self.graph, self.shape[out]

    # ------------------------------------------------------------------ helpers
    def _polynomial(self, src: int, coeffs: np.ndarray, name: str) -> int:
        """A stated polynomial activation. Degree 2 becomes affine, square,
        affine (a x^2 + b x + c = a (x + b/2a)^2 + c - b^2/4a): the affine
        parts fold into the layers around it, so it costs one level like a
        square; higher degrees are a polynomial node."""
        g = self.graph
        n = g.size_of(src)
        if coeffs.size == 3:
            c, b, a = coeffs
            shifted = g.affine(src, np.eye(n), np.full(n, b / (2 * a)), name=f"{name}: shift")
            squared = g.square(shifted, name=name)
            return g.affine(squared, a * np.eye(n), np.full(n, c - b * b / (4 * a)), name=f"{name}: scale")
        if coeffs.size <= 2:
            c, b = (list(coeffs) + [0.0, 0.0])[:2]
            return g.affine(src, b * np.eye(n), np.full(n, c), name=name)
        return g.poly(src, coeffs, basis="power", name=name, function="polynomial")

    def _src(self, node, i=0):
        arg = node.args[i]
        name = getattr(arg, "name", None)
        if name not in self.ref:
            raise UnsupportedModelError(f"{node.name}: input {arg!r} is not a tensor computed from the model input")
        return self.ref[name], self.shape.get(name, ())

    def _set(self, node, ref, shape):
        self.ref[node.name] = ref
        self.shape[node.name] = tuple(shape)

    # ------------------------------------------------------------------ modules
    def _module(self, node, mod, shape):
        kind = type(mod).__name__
        src, in_shape = self._src(node)
        g = self.graph
        name = f"{node.target} ({kind})"
        if _is_polynomial(mod):
            coeffs = np.trim_zeros(np.asarray(mod.coefficients(), dtype=np.float64).reshape(-1), "b")
            self._set(node, self._polynomial(src, coeffs, name), shape)
        elif kind == "Linear":
            if len(in_shape) != 1:
                raise UnsupportedModelError(f"{name}: Linear on a {len(in_shape)}-D value; flatten first")
            bias = _numpy(mod.bias) if mod.bias is not None else None
            self._set(node, g.affine(src, _numpy(mod.weight).T, bias, name=name), shape)
        elif kind == "Conv2d":
            if len(in_shape) != 3:
                raise UnsupportedModelError(f"{name}: Conv2d needs (C, H, W) inputs, got {in_shape}")
            if mod.padding_mode != "zeros" or isinstance(mod.padding, str) and mod.padding not in ("valid", "same"):
                raise UnsupportedModelError(f"{name}: only zero padding is supported")
            padding = mod.padding
            if padding == "valid":
                padding = 0
            elif padding == "same":
                kh, kw = mod.kernel_size
                dh, dw = mod.dilation
                if (dh * (kh - 1)) % 2 or (dw * (kw - 1)) % 2:
                    raise UnsupportedModelError(f"{name}: padding='same' with an even kernel; give explicit padding")
                padding = (dh * (kh - 1) // 2, dw * (kw - 1) // 2)
            W, out_shape = conv2d_matrix(_numpy(mod.weight), in_shape, mod.stride, padding, mod.dilation, mod.groups)
            bias = None if mod.bias is None else np.repeat(_numpy(mod.bias), out_shape[1] * out_shape[2])
            ref = g.affine(src, W, bias, name=name)
            g.nodes[ref].extra["channels"] = out_shape[0]   # for the slot layout (securinfer.nn.scatter)
            self._set(node, ref, out_shape)
        elif kind in ("AvgPool2d", "AdaptiveAvgPool2d"):
            if len(in_shape) != 3:
                raise UnsupportedModelError(f"{name}: pooling needs (C, H, W) inputs, got {in_shape}")
            if kind == "AvgPool2d":
                if mod.ceil_mode:
                    raise UnsupportedModelError(f"{name}: ceil_mode=True is not supported")
                W, out_shape = avgpool2d_matrix(in_shape, mod.kernel_size, mod.stride, mod.padding,
                                                mod.count_include_pad, mod.divisor_override)
            else:
                oh, ow = pair(tuple(in_shape[1 + i] if v is None else v for i, v in enumerate(_pair_none(mod.output_size))),
                              "output_size")
                if in_shape[1] % oh or in_shape[2] % ow:
                    raise UnsupportedModelError(f"{name}: output size {(oh, ow)} must divide the input {in_shape[1:]}")
                k = (in_shape[1] // oh, in_shape[2] // ow)
                W, out_shape = avgpool2d_matrix(in_shape, k, k)
            self._set(node, g.affine(src, W, name=name), out_shape)
        elif kind in ("BatchNorm1d", "BatchNorm2d"):
            if mod.running_mean is None:
                raise UnsupportedModelError(f"{name}: batch norm without running statistics "
                                            "(track_running_stats=False) cannot be folded")
            spatial = _flat(in_shape[1:]) if len(in_shape) > 1 else 1
            gamma = _numpy(mod.weight) if mod.weight is not None else None
            beta = _numpy(mod.bias) if mod.bias is not None else None
            scale, shift = batchnorm_affine(_numpy(mod.running_mean), _numpy(mod.running_var), mod.eps,
                                            gamma, beta, spatial)
            self._set(node, g.affine(src, np.diag(scale), shift, name=name), in_shape)
        elif kind in _ACTIVATION_MODULES:
            self._set(node, g.act(src, _ACTIVATION_MODULES[kind], name=name), in_shape)
        elif kind in ("Flatten", "Identity", "Dropout", "Dropout1d", "Dropout2d", "AlphaDropout", "Unflatten"):
            self._set(node, src, shape)
        else:
            advice = _ADVICE.get(kind) or ("use Linear, Conv2d, AvgPool2d, BatchNorm, Flatten, the activations "
                                           "ReLU/SiLU/GELU/Sigmoid/Tanh, x * x, or + between branches")
            raise UnsupportedModelError(f"layer {name} has no encrypted counterpart: {advice}")

    # ------------------------------------------------------------------ functions and methods
    def _function(self, node, shape):
        import torch
        import torch.nn.functional as F

        t = node.target
        g = self.graph
        name = f"{node.name} ({getattr(t, '__name__', t)})"
        reshapes = {"view", "reshape", "flatten", "contiguous", "squeeze", "unsqueeze"}
        if t in (torch.flatten, torch.reshape) or t in reshapes:
            src, _ = self._src(node)
            self._set(node, src, shape)
            return
        if t == "size" or t == getattr:
            raise UnsupportedModelError(f"{name}: shape-dependent code; use x.flatten(1) or nn.Flatten")
        functional = {F.relu: "relu", torch.relu: "relu", F.silu: "silu", F.gelu: "gelu",
                      torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid", torch.tanh: "tanh", F.tanh: "tanh",
                      "relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh"}
        if t in functional:
            src, in_shape = self._src(node)
            self._set(node, g.act(src, functional[t], name=name), in_shape)
            return
        if t in (operator.mul, torch.mul, "mul", operator.pow, torch.pow, "pow", torch.square, "square"):
            self._product(node, shape, name)
            return
        if t in (operator.add, torch.add, "add", operator.sub, torch.sub, "sub"):
            self._sum(node, shape, name, negate=t in (operator.sub, torch.sub, "sub"))
            return
        if t in (operator.truediv, torch.div, "div") and not self._is_tensor(node.args[1]):
            src, in_shape = self._src(node)
            n = g.size_of(src)
            self._set(node, g.affine(src, np.eye(n) / float(node.args[1]), name=name), in_shape)
            return
        if t in (F.max_pool2d, torch.max_pool2d):
            raise UnsupportedModelError(f"{name}: {_ADVICE['MaxPool2d']}")
        raise UnsupportedModelError(f"operation {name} has no encrypted counterpart: use Linear, Conv2d, "
                                    "AvgPool2d, BatchNorm, activations, x * x, or + between branches")

    def _is_tensor(self, arg) -> bool:
        return getattr(arg, "name", None) in self.ref

    def _product(self, node, shape, name):
        import torch

        g = self.graph
        t = node.target
        if t in (torch.square, "square"):
            src, in_shape = self._src(node)
            self._set(node, g.square(src, name=name), in_shape)
            return
        a, b = node.args[0], node.args[1]
        if t in (operator.pow, torch.pow, "pow"):
            if self._is_tensor(a) and not self._is_tensor(b) and float(b) == 2.0:
                src, in_shape = self._src(node)
                self._set(node, g.square(src, name=name), in_shape)
                return
            raise UnsupportedModelError(f"{name}: only x ** 2 is supported among powers")
        if self._is_tensor(a) and self._is_tensor(b):
            if a.name == b.name:
                src, in_shape = self._src(node)
                self._set(node, g.square(src, name=name), in_shape)
                return
            raise UnsupportedModelError(f"{name}: products of two different tensors are not supported "
                                        "(only x * x)")
        tensor, const = (a, b) if self._is_tensor(a) else (b, a)
        if not isinstance(const, (int, float)):
            raise UnsupportedModelError(f"{name}: multiplication by {const!r}; only numbers and x * x")
        src, in_shape = self.ref[tensor.name], self.shape[tensor.name]
        n = g.size_of(src)
        self._set(node, g.affine(src, np.eye(n) * float(const), name=name), in_shape)

    def _sum(self, node, shape, name, negate):
        g = self.graph
        a, b = node.args[0], node.args[1]
        if self._is_tensor(a) and self._is_tensor(b):
            ra, sa = self.ref[a.name], self.shape[a.name]
            rb, sb = self.ref[b.name], self.shape[b.name]
            if tuple(sa) != tuple(sb):
                raise UnsupportedModelError(f"{name}: adding shapes {sa} and {sb} (broadcasting is not supported)")
            if negate:
                rb = g.affine(rb, -np.eye(g.size_of(rb)), name=f"{name} negate")
            self._set(node, g.add(ra, rb, name=name), sa)
            return
        tensor, const = (a, b) if self._is_tensor(a) else (b, a)
        if not isinstance(const, (int, float)):
            raise UnsupportedModelError(f"{name}: adding {const!r}; only numbers or tensors of the same shape")
        src, in_shape = self.ref[tensor.name], self.shape[tensor.name]
        n = g.size_of(src)
        if negate and tensor is b:  # c - x
            W, c = -np.eye(n), float(const)
        else:
            W, c = np.eye(n), -float(const) if negate else float(const)
        self._set(node, g.affine(src, W, np.full(n, c), name=name), in_shape)



def _pair_none(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)
