"""Layers as affine maps on flattened vectors (numpy only, no crypto).

Every linear layer of a network becomes ``y = x @ W + b`` on the flattened
input (channel-major ``(C, H, W)`` order, as ``torch.flatten`` lays it out):
``W`` has shape ``(n_in, n_out)``. A convolution becomes its sparse matrix
(one non-zero per input pixel a kernel tap reads), not an im2col copy of the
input; average pooling and batch normalisation are matrices too, so they can
be folded into the layer before them.

Example:
    >>> import numpy as np
    >>> from securinfer.nn.layers import conv2d_matrix
    >>> k = np.ones((1, 1, 2, 2))                      # one 2x2 box filter
    >>> W, out_shape = conv2d_matrix(k, (1, 3, 3))
    >>> W.shape, out_shape
    ((9, 4), (1, 2, 2))
    >>> (np.arange(9.0) @ W).tolist()
    [8.0, 12.0, 20.0, 24.0]
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np

from ..errors import ParameterError

__all__ = ["conv2d_matrix", "avgpool2d_matrix", "batchnorm_affine", "pair"]


def pair(value, name: str) -> Tuple[int, int]:
    """(v, v) for an int, the pair itself for a 2-sequence."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    try:
        a, b = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    return a, b


# The largest layer matrix the frontend writes out dense: 2^27 float64 entries
# (1 GiB). A ResNet stage on 16 x 32 x 32 values would need 2 GiB per
# convolution, and a whole ResNet-20 more than this machine's memory (the
# process was killed before this check); such layers need a convolution
# packing that never forms the matrix.
MAX_DENSE_ENTRIES = 2**27


def _check_dense_size(rows: int, cols: int, what: str) -> None:
    if rows * cols > MAX_DENSE_ENTRIES:
        raise ParameterError(
            f"{what} on {rows} input values to {cols} output values would be a dense {rows} x {cols} matrix "
            f"({rows * cols * 8 / 2**30:.1f} GiB; the limit is {MAX_DENSE_ENTRIES * 8 / 2**30:.0f} GiB): "
            "securinfer.nn does not compile layers this large; use smaller feature maps or fewer channels")


def _out_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv2d_matrix(weight, input_shape: Sequence[int], stride=1, padding=0, dilation=1,
                  groups: int = 1) -> Tuple[np.ndarray, Tuple[int, int, int]]:
    """The matrix of a 2-D convolution (cross-correlation, as in torch) on a
    flattened ``(C, H, W)`` input: ``(W_mat, (O, Ho, Wo))`` with ``W_mat`` of
    shape ``(C*H*W, O*Ho*Wo)``. ``weight`` has shape ``(O, C/groups, kh, kw)``;
    zero padding."""
    w = np.asarray(weight, dtype=np.float64)
    if w.ndim != 4:
        raise ParameterError(f"conv weight must have shape (out, in/groups, kh, kw), got {w.shape}")
    C, H, Wd = (int(v) for v in input_shape)
    O, Cg, kh, kw = w.shape
    if groups < 1 or C % groups or O % groups or Cg != C // groups:
        raise ParameterError(f"conv weight {w.shape} does not fit {C} input channels in {groups} groups")
    sh, sw = pair(stride, "stride")
    ph, pw = pair(padding, "padding")
    dh, dw = pair(dilation, "dilation")
    Ho, Wo = _out_size(H, kh, sh, ph, dh), _out_size(Wd, kw, sw, pw, dw)
    if Ho < 1 or Wo < 1:
        raise ParameterError(f"a {kh}x{kw} kernel does not fit a {H}x{Wd} input")
    _check_dense_size(C * H * Wd, O * Ho * Wo, f"a {kh}x{kw} convolution {C} -> {O} channels")
    mat = np.zeros((C * H * Wd, O * Ho * Wo))
    oy, ox = np.meshgrid(np.arange(Ho), np.arange(Wo), indexing="ij")
    out_pos = (oy * Wo + ox).ravel()
    per_group = O // groups
    for o in range(O):
        g = o // per_group
        for ci in range(Cg):
            c = g * Cg + ci
            for ky in range(kh):
                for kx in range(kw):
                    v = w[o, ci, ky, kx]
                    if v == 0.0:
                        continue
                    iy = (oy * sh - ph + ky * dh).ravel()
                    ix = (ox * sw - pw + kx * dw).ravel()
                    inside = (iy >= 0) & (iy < H) & (ix >= 0) & (ix < Wd)
                    rows = c * H * Wd + iy[inside] * Wd + ix[inside]
                    cols = o * Ho * Wo + out_pos[inside]
                    mat[rows, cols] += v
    return mat, (O, Ho, Wo)


def avgpool2d_matrix(input_shape: Sequence[int], kernel_size, stride=None, padding=0,
                     count_include_pad: bool = True,
                     divisor_override: Optional[int] = None) -> Tuple[np.ndarray, Tuple[int, int, int]]:
    """The matrix of 2-D average pooling (torch semantics, floor mode) on a
    flattened ``(C, H, W)`` input: ``(W_mat, (C, Ho, Wo))``."""
    C, H, Wd = (int(v) for v in input_shape)
    kh, kw = pair(kernel_size, "kernel_size")
    sh, sw = pair(kernel_size if stride is None else stride, "stride")
    ph, pw = pair(padding, "padding")
    Ho, Wo = _out_size(H, kh, sh, ph), _out_size(Wd, kw, sw, pw)
    if Ho < 1 or Wo < 1:
        raise ParameterError(f"a {kh}x{kw} pooling window does not fit a {H}x{Wd} input")
    _check_dense_size(C * H * Wd, C * Ho * Wo, f"a {kh}x{kw} pooling on {C} channels")
    mat = np.zeros((C * H * Wd, C * Ho * Wo))
    for oy in range(Ho):
        for ox in range(Wo):
            y0, x0 = oy * sh - ph, ox * sw - pw
            ys = [y for y in range(y0, y0 + kh) if 0 <= y < H]
            xs = [x for x in range(x0, x0 + kw) if 0 <= x < Wd]
            if divisor_override:
                div = divisor_override
            elif count_include_pad:
                div = (min(y0 + kh, H + ph) - y0) * (min(x0 + kw, Wd + pw) - x0)
            else:
                div = len(ys) * len(xs)
            for c in range(C):
                col = c * Ho * Wo + oy * Wo + ox
                for y in ys:
                    for x in xs:
                        mat[c * H * Wd + y * Wd + x, col] = 1.0 / div
    return mat, (C, Ho, Wo)


def batchnorm_affine(mean, var, eps: float, gamma=None, beta=None,
                     spatial: int = 1) -> Tuple[np.ndarray, np.ndarray]:
    """Inference-mode batch normalisation as ``(scale, shift)`` vectors over
    the flattened input (each channel's pair repeated ``spatial`` times):
    ``y = x * scale + shift``."""
    mean = np.asarray(mean, dtype=np.float64)
    var = np.asarray(var, dtype=np.float64)
    gamma = np.ones_like(mean) if gamma is None else np.asarray(gamma, dtype=np.float64)
    beta = np.zeros_like(mean) if beta is None else np.asarray(beta, dtype=np.float64)
    scale = gamma / np.sqrt(var + eps)
    shift = beta - mean * scale
    return np.repeat(scale, spatial), np.repeat(shift, spatial)
