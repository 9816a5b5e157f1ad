"""A 2-D convolution on one ciphertext, from its kernel: no dense matrix.

The input image (C, H, W) lies channel-major in the slots (slot
``c H W + i W + j`` holds ``x[c, i, j]``, as ``x.ravel()``), and so does the
output (C', H', W'). The convolution is the slot-wise map

    y[t] = sum_k D_k[t] x[t + k]        (k a left rotation, mod slots)

whose generalised diagonals D_k are built here straight from the kernel:
each weight ``w[o, c, u, v]`` and each output pixel it serves add one entry,
at ``k = input slot - output slot``. A convolution written as a matrix has
``C H W x C' H' W'`` entries (2 GiB for one 16-channel 32 x 32 layer); its
diagonals are ``(C + C' - 1) u v`` vectors of slots at stride 1 (279 for
that layer: the rotation by the kernel offset, times the shift between
input and output channel blocks). The existing ``LinearTransform`` machinery
then applies them: baby-step giant-step with hoisted baby rotations, about
``2 sqrt(diagonals)`` key switches, one rescale. An image whose size divides
the slots is first replicated to fill them (``log2(copies)`` rotations), so
the diagonals read it modulo its size and the channel shifts wrap:
``C u v`` diagonals instead of ``(C + C' - 1) u v`` (C' <= C). Zero padding, strides and
dilation are only other entries (strided layers have many more diagonals:
their outputs are not a shift of their inputs; the multiplexed layout of
Lee et al. that keeps them few is not built).

Example:
    >>> import numpy as np, securinfer as si
    >>> ctx = si.Context.create(preset="fast")
    >>> weight = np.ones((1, 1, 3, 3))                      # a 3 x 3 box filter
    >>> conv = si.linalg.Conv2d(ctx, weight, (1, 4, 4), padding=1)
    >>> ctx.generate_rotation_keys(steps=conv.required_rotations())
    >>> image = np.arange(16.0).reshape(1, 4, 4)
    >>> y = conv.apply(ctx.encrypt(image.ravel()))
    >>> np.round(ctx.decrypt(y)[:4], 3).tolist()               # first row of the 4 x 4 output
    [10.0, 18.0, 24.0, 18.0]
    >>> conv.output_shape, conv.diagonal_count
    ((1, 4, 4), 9)
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np

from .._core import linalg as _linalg
from ..ciphertext import Ciphertext
from ..context import Context
from ..errors import LevelError, ParameterError, ShapeError
from .._validation import as_array, is_int

__all__ = ["Conv2d", "conv2d_diagonals", "dense_layout", "multiplexed_layout"]

#: The diagonals are held as float64 slot vectors before encoding: at most
#: this many entries (1 GiB), else ParameterError (a strided layer over a
#: large image; use fewer channels or a smaller image).
MAX_DIAGONAL_ENTRIES = 2**27


def _pair(value, name: str) -> Tuple[int, int]:
    if is_int(value):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        return int(value[0]), int(value[1])
    raise ParameterError(f"{name} must be an int or a pair of ints, got {value!r}")


def dense_layout(shape: Sequence[int]) -> np.ndarray:
    """The channel-major layout: slot ``c H W + i W + j`` for value (c, i, j)."""
    return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(tuple(int(v) for v in shape))


def multiplexed_layout(input_slots, out_channels: int, stride: int) -> np.ndarray:
    """Where a stride-``s`` convolution's outputs go so that they stay a shift
    of its inputs (the multiplexed packing of Lee et al., ICML 2022): output
    channel o takes the pixels of input channel ``o // s^2`` at offset
    ``divmod(o % s^2, s)`` of each s x s cell, i.e. output (o, i, j) sits in
    the slot of input (o // s^2, s i + dy, s j + dx). The output keeps the
    input's footprint (no repacking), with s^2 channels sharing each input
    channel's grid.

    Example:
        >>> from securinfer.linalg.conv import dense_layout, multiplexed_layout
        >>> out = multiplexed_layout(dense_layout((1, 4, 4)), 4, 2)   # 1 x 4 x 4 -> 4 x 2 x 2
        >>> out[:, 0, 0].tolist(), out[0].ravel().tolist()
        ([0, 1, 4, 5], [0, 2, 8, 10])
    """
    slots_in = np.asarray(input_slots)
    c_in, h, w = slots_in.shape
    cells = stride * stride
    if stride < 1 or out_channels > c_in * cells:
        raise ShapeError(f"{out_channels} output channels do not fit the {c_in} input channels' "
                         f"{stride} x {stride} cells")
    ho, wo = h // stride, w // stride
    o = np.arange(out_channels)
    dy, dx = (o % cells) // stride, (o % cells) % stride
    i, j = np.arange(ho), np.arange(wo)
    rows = stride * i[None, :, None] + dy[:, None, None]
    cols = stride * j[None, None, :] + dx[:, None, None]
    return slots_in[(o // cells)[:, None, None], rows, cols]


def replication_period(input_slots: np.ndarray, slots: int) -> int:
    """The period the input is replicated with: the smallest power of two
    holding its slots (copies then fill the slots, so diagonals read the input
    modulo the period and channel shifts wrap: half the diagonals for an image
    in half the slots), the slots when that is all of them."""
    period = 1
    while period <= int(np.max(input_slots)):
        period *= 2
    return min(period, slots)


def _real(values, what: str) -> np.ndarray:
    """Real numbers as float64 (ParameterError for complex or non-numeric
    data: numpy would drop an imaginary part with a warning only)."""
    arr = as_array(values, what)
    if arr.dtype == object or arr.dtype.kind not in "fiub":
        raise ParameterError(f"{what} must be real numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64)


def _layout(layout, shape, slots: int, what: str) -> np.ndarray:
    if layout is None:
        layout = dense_layout(shape)
    arr = as_array(layout, f"the {what} layout")
    if arr.shape != tuple(shape) or arr.dtype.kind not in "iu":
        raise ShapeError(f"the {what} layout must be integer slots of shape {tuple(shape)}, got "
                         f"{arr.dtype} {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= slots or np.unique(arr).size != arr.size):
        raise ShapeError(f"the {what} layout must name distinct slots in [0, {slots})")
    return arr.astype(np.int64)


def conv2d_diagonals(weight, input_shape: Sequence[int], slots: int, *, stride=1, padding=0, dilation=1,
                     input_slots=None, output_slots=None):
    """``(steps, values, output_shape, period)``: the generalised diagonals
    of the convolution (torch's ``conv2d``: cross-correlation, no groups) for
    ``slots`` slots: the input value (c, i, j) in slot ``input_slots[c, i, j]``
    (default: :func:`dense_layout`), the output (o, i, j) written to
    ``output_slots[o, i, j]`` (default dense; :func:`multiplexed_layout` for a
    strided layer), the input replicated with ``period``
    (:func:`replication_period`); ``values[i]`` is the diagonal of left
    rotation ``steps[i]``."""
    w = _real(weight, "weight")
    if w.ndim != 4 or 0 in w.shape:
        raise ShapeError(f"weight must be (out_channels, in_channels, kh, kw), got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ParameterError("weight must be finite")
    if len(input_shape) != 3 or not all(is_int(v) and v > 0 for v in input_shape):
        raise ShapeError(f"input_shape must be (channels, height, width), got {input_shape!r}")
    c_in, h, wd = (int(v) for v in input_shape)
    c_out, c_w, kh, kw = w.shape
    if c_w != c_in:
        raise ShapeError(f"the weight takes {c_w} input channels, the input has {c_in}")
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride, "stride"), _pair(padding, "padding"), _pair(dilation, "dilation")
    if min(sh, sw, dh, dw) < 1 or min(ph, pw) < 0:
        raise ParameterError("stride and dilation must be >= 1, padding >= 0")
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if ho < 1 or wo < 1:
        raise ShapeError(f"the kernel does not fit the padded {h} x {wd} input")
    if c_in * h * wd > slots or c_out * ho * wo > slots:
        raise ShapeError(f"input ({c_in * h * wd} values) and output ({c_out * ho * wo}) must each fit the "
                         f"{slots} slots of one ciphertext")
    in_layout = _layout(input_slots, (c_in, h, wd), slots, "input")
    out_layout = _layout(output_slots, (c_out, ho, wo), slots, "output")
    period = replication_period(in_layout, slots)
    i, j = np.meshgrid(np.arange(ho), np.arange(wo), indexing="ij")
    steps, targets, weights = [], [], []
    for u in range(kh):
        for v in range(kw):
            ii, jj = (i * sh + u * dh - ph).ravel(), (j * sw + v * dw - pw).ravel()
            valid = (ii >= 0) & (ii < h) & (jj >= 0) & (jj < wd)          # zero padding: no entry
            ii, jj = ii[valid], jj[valid]
            oi, oj = i.ravel()[valid], j.ravel()[valid]
            sources = in_layout[:, ii, jj]                                  # (c_in, pixels)
            for o in range(c_out):
                target = out_layout[o, oi, oj]
                nonzero = np.flatnonzero(w[o, :, u, v])                      # zero weights make no entry
                steps.append(((sources[nonzero] - target) % period).ravel())
                targets.append(np.broadcast_to(target, (nonzero.size, target.size)).ravel())
                weights.append(np.repeat(w[o, nonzero, u, v], target.size))
    steps, targets, weights = np.concatenate(steps), np.concatenate(targets), np.concatenate(weights)
    if not steps.size:
        return [], np.zeros((0, slots)), (c_out, ho, wo), period
    distinct, index = np.unique(steps, return_inverse=True)
    if distinct.size * slots > MAX_DIAGONAL_ENTRIES:
        raise ParameterError(f"this convolution has {distinct.size} diagonals of {slots} slots "
                             f"(more than {MAX_DIAGONAL_ENTRIES} values): its outputs are far from a shift of "
                             "its inputs (a strided layer: write them with multiplexed_layout)")
    values = np.zeros((distinct.size, slots))
    np.add.at(values, (index, targets), weights)
    return [int(k) for k in distinct], values, (c_out, ho, wo), period


class Conv2d:
    """A convolution prepared for one context and level (default: the top)
    on ciphertexts holding an image channel-major (see the module docstring);
    ``bias`` (out_channels,) is added after the product.

    ``apply(x)`` returns the output image channel-major, one level down.
    ``required_rotations()`` lists the rotation keys it needs."""

    def __init__(self, context, weight, input_shape: Sequence[int], *, bias=None, stride=1, padding=0,
                 dilation=1, level: Optional[int] = None, input_slots=None, output_slots=None):
        if not isinstance(context, Context):
            raise ParameterError(f"expected a securinfer.Context, got {type(context).__name__}")
        level = context.max_level if level is None else level
        if not is_int(level) or not 1 <= level <= context.max_level:
            raise LevelError(f"level must be 1..{context.max_level} (a product needs a level below it)")
        steps, values, self.output_shape, period = conv2d_diagonals(
            weight, input_shape, context.slots, stride=stride, padding=padding, dilation=dilation,
            input_slots=input_slots, output_slots=output_slots)
        self.input_shape = tuple(int(v) for v in input_shape)
        self.input_slots = _layout(input_slots, self.input_shape, context.slots, "input")
        self.output_slots = _layout(output_slots, self.output_shape, context.slots, "output")
        rows, cols = int(self.input_slots.max()) + 1, int(self.output_slots.max()) + 1
        self._bias = None
        if bias is not None:
            b = _real(bias, "bias")
            if b.shape != (self.output_shape[0],) or not np.all(np.isfinite(b)):
                raise ShapeError(f"bias must be {self.output_shape[0]} finite values, got shape {b.shape}")
            self._bias = np.zeros(cols)
            self._bias[self.output_slots] = b[:, None, None]
        self.diagonal_count = len(steps)
        if not steps:                      # an all-zero kernel: one zero diagonal keeps the types uniform
            steps, values = [0], np.zeros((1, context.slots))
        self._core = _linalg.LinearTransform.from_diagonals(context._core, steps, values, rows, cols, int(level),
                                                            period=period)

    @property
    def level(self) -> int:
        return self._core.level

    @property
    def nbytes(self) -> int:
        """Memory of the encoded diagonals."""
        return self._core.byte_size

    def required_rotations(self) -> List[int]:
        return list(self._core.required_rotations())

    def encode(self, image) -> np.ndarray:
        """The slot vector of ``image`` (C, H, W) in this convolution's input
        layout (zeros in its gaps), for ``context.encrypt``."""
        arr = _real(image, "image")
        if arr.shape != self.input_shape:
            raise ShapeError(f"expected an image of shape {self.input_shape}, got {arr.shape}")
        out = np.zeros(int(self.input_slots.max()) + 1)
        out[self.input_slots] = arr
        return out

    def decode(self, values) -> np.ndarray:
        """The output image (C', H', W') from the decrypted slot values."""
        return np.asarray(values)[self.output_slots]

    def apply(self, x):
        """The convolution of the image ``x`` encrypts (in the input layout:
        :meth:`encode`); the output in the output layout (:meth:`decode`),
        one level down.

        A ciphertext does not record its layout: only its size is checked.
        A multiplexed layout often spans exactly as many slots as it holds
        values (ResNet-20's, ``multiplexed_layout(dense_layout((16, 32, 32)),
        32, 2)``: 8,192 of each), so an image flattened densely instead passes
        and gives a wrong image. Encrypt through :meth:`encode`, or feed the
        output of the convolution whose ``output_slots`` this one reads."""
        if not isinstance(x, Ciphertext):
            raise ParameterError(f"expected a securinfer.Ciphertext, got {type(x).__name__}")
        if x.size != int(self.input_slots.max()) + 1:
            raise ShapeError(f"the ciphertext holds {x.size} values; the convolution takes an image of "
                             f"{self.input_shape} in {int(self.input_slots.max()) + 1} slots")
        x._require_zero_padding("a convolution")
        y = x._new(self._core.apply(x._context._keys, x._core))
        return y if self._bias is None else y + self._bias

    __call__ = apply

    def __repr__(self) -> str:
        return (f"<securinfer.linalg.Conv2d {self.input_shape} -> {self.output_shape} "
                f"diagonals={self.diagonal_count} level={self.level}>")
