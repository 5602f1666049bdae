"""Shape arithmetic: the conv output-size formulas, a shape tracer, receptive fields.

``conv_output_size`` is the formula from the PyTorch docs,
``H_out = floor((H + 2P - D(K-1) - 1) / S + 1)``, with a clear error for settings that
cannot work; ``conv_transpose_output_size`` is its transposed-convolution counterpart,
``H_out = (H - 1)S - 2P + D(K-1) + OP + 1``. The formula is the output length of ``nn.Conv1d``
and, per axis, the height and width of ``nn.Conv2d`` (:func:`conv1d_output_shape`,
:func:`conv2d_output_shape`). ``trace`` runs a model on a dummy input and reports every layer's output
shape and parameter count; when a layer fails it names that layer and the shape it got,
instead of a bare matmul error.

Receptive fields, three ways:

* :func:`receptive_field`: analytic, layer by layer, for a sequential conv/pool stack,
  2D or 1D (size ``r``, jump ``j`` = distance in input pixels between neighbouring units, start
  = first input pixel seen by unit 0; Araujo et al., *Computing receptive fields of
  convolutional neural networks*, Distill 2019).
* :func:`measure_receptive_field`: the same, measured with gradients: backprop from one
  output unit and keep the input pixels whose gradient is not zero.
* :func:`effective_receptive_field`: how much each input pixel actually matters to a
  (trained) net, the mean gradient magnitude (Luo et al., NeurIPS 2016).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from . import _checks


class ShapeError(ValueError):
    """A layer cannot accept the shape it is given (or a conv setting is impossible)."""


def _is_int(v) -> bool:
    """An int as :func:`course_utils._checks.integer` takes it (NumPy and 0-d integer tensors too, not bools)."""
    try:
        _checks.integer("", v)
    except (TypeError, ValueError):
        return False
    return True


def _pair(v: int | tuple[int, int], name: str) -> tuple[int, int]:
    pair = (v, v) if _is_int(v) else tuple(v) if isinstance(v, (tuple, list, torch.Size)) else None
    if pair is None or len(pair) != 2 or not all(_is_int(a) for a in pair):
        raise TypeError(f"{name} must be an int or a pair of ints, got {_checks.describe(v)}")
    return int(pair[0]), int(pair[1])


def _int(name: str, value, low: int) -> int:
    """``value`` as an int >= ``low`` (NumPy ints and 0-d integer tensors accepted, bools and floats refused),
    else a ShapeError."""
    try:
        return _checks.integer(name, value, low)
    except (TypeError, ValueError) as err:
        raise ShapeError(str(err)) from None


def _shape(name: str, value, ranks: tuple[int, ...], layout: str, lead: str = "") -> tuple[int, ...]:
    """An input shape: a tuple, list or torch.Size of positive ints with one of the ``ranks``."""
    if isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a shape such as {layout}, got a tensor; pass its shape: tuple(x.shape)")
    if not isinstance(value, (tuple, list, torch.Size)) or not all(_is_int(v) and v >= 1 for v in value) \
            or len(value) not in ranks:
        raise ShapeError(f"{lead or f'{name} must be {layout}, a shape of positive ints'}, got {_checks.describe(value)}")
    return tuple(int(v) for v in value)


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution or pooling along one dimension.

    ``floor((size + 2*padding - dilation*(kernel_size-1) - 1) / stride + 1)``

    Args:
        size: input length ``H`` (or ``W``).
        kernel_size: ``K``; stride: ``S`` >= 1; padding: ``P`` >= 0; dilation: ``D`` >= 1.

    Raises:
        ShapeError: the output would be smaller than 1 (the kernel does not fit), or an
            argument is out of range.
    """
    size, kernel_size, stride, padding, dilation = (
        _int(name, value, low) for name, value, low in (("size", size, 1), ("kernel_size", kernel_size, 1),
                                                        ("stride", stride, 1), ("padding", padding, 0),
                                                        ("dilation", dilation, 1)))
    span = dilation * (kernel_size - 1) + 1  # how many input cells one kernel covers
    out = (size + 2 * padding - span) // stride + 1
    if out < 1:
        raise ShapeError(
            f"kernel spans {span} cells (kernel_size={kernel_size}, dilation={dilation}) but the padded input "
            f"has only {size + 2 * padding} (size={size}, padding={padding}); use a smaller kernel or "
            "dilation, more padding, or a larger input"
        )
    return out



def conv_transpose_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    """Output length of a transposed convolution (``nn.ConvTranspose2d``) along one dimension.

    ``(size - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1``

    It inverts :func:`conv_output_size` as far as shapes go: a convolution with the same
    ``K, S, P, D`` maps the output length back to ``size``. Because that convolution
    floors, several input lengths map to the same output when ``stride > 1``;
    ``output_padding`` (``< max(stride, dilation)``, PyTorch's rule) picks which one.

    Args:
        size: input length ``H`` (or ``W``) >= 1.
        kernel_size: ``K`` >= 1; stride: ``S`` >= 1; padding: ``P`` >= 0 (removed from
            both ends of the output); output_padding: ``OP`` >= 0 (added at one end);
            dilation: ``D`` >= 1.

    Raises:
        ShapeError: an argument is out of range, ``output_padding`` is not smaller than
            ``stride`` or ``dilation``, or the output would be smaller than 1.
    """
    size, kernel_size, stride, padding, output_padding, dilation = (
        _int(name, value, low) for name, value, low in (("size", size, 1), ("kernel_size", kernel_size, 1),
                                                        ("stride", stride, 1), ("padding", padding, 0),
                                                        ("output_padding", output_padding, 0), ("dilation", dilation, 1)))
    if output_padding >= max(stride, dilation):
        raise ShapeError(f"output_padding={output_padding} must be smaller than stride={stride} or "
                         f"dilation={dilation} (PyTorch rule); it only chooses among the sizes a strided "
                         "convolution maps to the same output")
    out = (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if out < 1:
        raise ShapeError(f"padding={padding} removes more than the {out + 2 * padding} output cells "
                         f"(size={size}, kernel_size={kernel_size}, stride={stride}, dilation={dilation}); "
                         "use less padding")
    return out


def _conv_output_shape(input_shape: tuple[int, ...], spatial: int, out_channels: int, kernel_size, stride,
                       padding, dilation, groups: int) -> tuple[int, ...]:
    """Shared body of :func:`conv1d_output_shape` (``spatial=1``) and :func:`conv2d_output_shape` (``spatial=2``)."""
    axes = "(C, L) or (N, C, L)" if spatial == 1 else "(C, H, W) or (N, C, H, W)"
    input_shape = _shape("input_shape", input_shape, (spatial + 1, spatial + 2), axes,
                         lead=f"expected an input shape {axes} of positive ints as input_shape")
    *batch, c_in = input_shape[:-spatial]
    sizes = input_shape[-spatial:]
    out_channels = _int("out_channels", out_channels, 1)
    tuples = [_ntuple(v, name, spatial) for v, name in ((kernel_size, "kernel_size"), (stride, "stride"),
                                                         (dilation, "dilation"))]
    ks, ss, ds = tuples
    if not _is_int(groups) or int(groups) < 1 or c_in % int(groups) or out_channels % int(groups):
        raise ShapeError(f"groups={groups!r} must divide in_channels={c_in} and out_channels={out_channels}")
    if isinstance(padding, str) and padding not in ("same", "valid"):
        raise ShapeError(f"padding must be an int, {'an int tuple' if spatial == 1 else 'a pair of ints'}, "
                         f"'same' or 'valid', got {padding!r}")
    if padding == "same":
        if any(v != 1 for v in ss):
            raise ShapeError(f"padding='same' only works with stride=1 (PyTorch rule), got stride={stride!r}")
        if min(*ks, *ds) < 1:
            raise ShapeError(f"kernel_size and dilation must be >= 1, got {kernel_size!r} and {dilation!r}")
        return (*batch, out_channels, *sizes)
    ps = (0,) * spatial if padding == "valid" else _ntuple(padding, "padding", spatial)
    out = (conv_output_size(n, k, st, pd, d) for n, k, st, pd, d in zip(sizes, ks, ss, ps, ds))  # one axis at a time
    return (*batch, out_channels, *out)


def _ntuple(v, name: str, n: int) -> tuple[int, ...]:
    return _pair(v, name) if n == 2 else _single(v, name)


def _single(v: int | tuple[int], name: str) -> tuple[int]:
    single = (v,) if _is_int(v) else tuple(v) if isinstance(v, (tuple, list, torch.Size)) else None
    if single is None or len(single) != 1 or not all(_is_int(a) for a in single):
        raise TypeError(f"{name} must be an int (or a 1-tuple, as nn.Conv1d stores it), got {_checks.describe(v)}")
    return (int(single[0]),)


def conv1d_output_shape(
    input_shape: tuple[int, int] | tuple[int, int, int],
    out_channels: int,
    kernel_size: int | tuple[int],
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> tuple[int, ...]:
    """Output shape of ``nn.Conv1d`` for an input ``(C, L)`` or ``(N, C, L)``.

    The length follows :func:`conv_output_size`, the same formula as each axis of a
    ``Conv2d``: ``L_out = floor((L + 2P - D(K-1) - 1) / S + 1)``.

    Args:
        input_shape: ``(C, L)`` or ``(N, C, L)`` (channels, then length).
        out_channels: ``C_out``; kernel_size: ``K``; stride: ``S``; padding: ``P`` (or
            ``"same"`` / ``"valid"``); dilation: ``D``; groups: as in ``nn.Conv1d``.

    Returns:
        ``(C_out, L_out)`` or ``(N, C_out, L_out)``.

    Raises:
        ShapeError: impossible settings, with what to change (as :func:`conv2d_output_shape`).
    """
    return _conv_output_shape(input_shape, 1, out_channels, kernel_size, stride, padding, dilation, groups)


def conv2d_output_shape(
    input_shape: tuple[int, int, int] | tuple[int, int, int, int],
    out_channels: int,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> tuple[int, ...]:
    """Output shape of ``nn.Conv2d`` for an input ``(C, H, W)`` or ``(N, C, H, W)``.

    ``padding`` may be ``"valid"`` (0) or ``"same"`` (output size = input size; stride 1 only).

    Raises:
        ShapeError: impossible settings, with what to change (groups must divide both
            channel counts, the kernel must fit, ``"same"`` needs stride 1).
    """
    return _conv_output_shape(input_shape, 2, out_channels, kernel_size, stride, padding, dilation, groups)


@dataclass
class LayerRow:
    """One row of a :func:`trace` table."""

    name: str  # dotted module path, e.g. "features.0"
    layer: str  # short repr, e.g. "Conv2d(1, 8, k=3, s=1, p=1)"
    output_shape: tuple[int, ...]
    params: int  # parameters owned by this layer (not its children)


class Trace(list):
    """A list of :class:`LayerRow` that prints as a table (and renders in Jupyter)."""

    def total_params(self) -> int:
        return sum(r.params for r in self)

    def __str__(self) -> str:
        width = max([len(r.name) for r in self] + [5])
        lines = [f"{'layer':<{width}}  {'type':<34} {'output shape':<20} {'params':>9}"]
        for r in self:
            lines.append(f"{r.name:<{width}}  {r.layer:<34} {str(r.output_shape):<20} {r.params:>9,}")
        lines.append(f"{'total':<{width}}  {'':<34} {'':<20} {self.total_params():>9,}")
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython display
        p.text(str(self))


def _describe(m: nn.Module) -> str:
    if isinstance(m, (nn.Conv1d, nn.Conv2d)):
        extra = (f", d={m.dilation[0]}" if m.dilation[0] != 1 else "") + (f", g={m.groups}" if m.groups != 1 else "")
        return (f"{type(m).__name__}({m.in_channels}, {m.out_channels}, k={m.kernel_size[0]}, s={m.stride[0]}, "
                f"p={m.padding if isinstance(m.padding, str) else m.padding[0]}{extra})")
    if isinstance(m, nn.Linear):
        return f"Linear({m.in_features}, {m.out_features})"
    if isinstance(m, (nn.MaxPool1d, nn.AvgPool1d, nn.MaxPool2d, nn.AvgPool2d)):
        return f"{type(m).__name__}(k={_one(m.kernel_size)}, s={_one(m.stride)})"
    if isinstance(m, _PADS):
        return f"{type(m).__name__}({m.padding})"
    return type(m).__name__


def _one(v):
    """``3`` for ``3``, ``(3,)`` or ``(3, 3)``; the tuple itself when its entries differ."""
    return v[0] if isinstance(v, tuple) and len(set(v)) == 1 else v


@torch.no_grad()
def trace(model: nn.Module, input_shape: tuple[int, ...]) -> Trace:
    """Run ``model`` on zeros of ``input_shape`` and list each leaf layer's output shape.

    Args:
        model: any ``nn.Module``; left in the mode it had.
        input_shape: ``(N, C, H, W)`` (or whatever the model takes), e.g. ``(1, 1, 28, 28)``.

    Returns:
        A :class:`Trace` (list of :class:`LayerRow`), printable as a table.

    Raises:
        ShapeError: a layer rejected its input; the message names the layer, the shape it
            received, the rows traced so far and what the layer expected.
    """
    _checks.module("model", model)
    input_shape = _shape("input_shape", input_shape, tuple(range(1, 9)), "(N, C, H, W)")
    rows = Trace()
    current: list[str] = []
    names = {m: n for n, m in model.named_modules()}

    def pre_hook(module, inputs):
        current.append(names[module])

    def hook(module, inputs, output):
        current.pop()
        if len(list(module.children())) == 0 and isinstance(output, torch.Tensor):
            own = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append(LayerRow(names[module], _describe(module), tuple(output.shape), own))

    handles = []
    for m in model.modules():
        handles += [m.register_forward_pre_hook(pre_hook), m.register_forward_hook(hook)]
    was_training = model.training
    model.eval()
    try:
        param = next(model.parameters(), None)
        x = torch.zeros(input_shape, device=param.device if param is not None else "cpu")
        model(x)
    except (RuntimeError, ValueError) as err:
        failing = current[-1] if current else "?"
        layer = model.get_submodule(failing) if failing not in ("?", "") else model
        got = rows[-1].output_shape if rows else tuple(input_shape)
        expected = ""
        if isinstance(layer, nn.Linear):
            expected = f"; it expects {layer.in_features} input features (last dimension)"
        elif isinstance(layer, (nn.Conv1d, nn.Conv2d)):
            expected = f"; it expects {layer.in_channels} input channels"
        raise ShapeError(
            f"layer {failing!r} ({_describe(layer)}) failed on an input of shape {got}{expected} "
            f"(input_shape {input_shape}).\n"
            f"Shapes so far:\n{rows}\nPyTorch said: {err}"
        ) from err
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return rows


# ----------------------------------------------------------------------------------------
# Which input cells does one output cell read?

def conv_input_cells(out_index: int, kernel_size: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1) -> list[int]:
    """Input positions (along one axis) that output position ``out_index`` of a conv reads.

    Output cell ``i`` reads input cells ``i*S - P + m*D`` for ``m = 0 .. K-1``; a position
    below 0 or at least the input length lies in the padding.

    Args:
        out_index: output position ``i`` >= 0.
        kernel_size: ``K`` >= 1; stride: ``S`` >= 1; padding: ``P`` >= 0; dilation: ``D`` >= 1.

    Returns:
        ``K`` input positions in increasing order (may be negative: padding).

    Example:
        >>> conv_input_cells(1, kernel_size=3, stride=2, padding=1)
        [1, 2, 3]
    """
    out_index, kernel_size, stride, padding, dilation = (
        _int(name, value, low) for name, value, low in (("out_index", out_index, 0), ("kernel_size", kernel_size, 1),
                                                        ("stride", stride, 1), ("padding", padding, 0),
                                                        ("dilation", dilation, 1)))
    return [out_index * stride - padding + m * dilation for m in range(kernel_size)]


# ----------------------------------------------------------------------------------------
# Receptive fields: analytic, measured with gradients, effective

_GEOMETRY_FREE = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh,
                  nn.Hardswish, nn.Hardsigmoid, nn.Mish, nn.Softplus, nn.Identity, nn.Dropout, nn.Dropout1d,
                  nn.Dropout2d, nn.BatchNorm1d, nn.BatchNorm2d, nn.InstanceNorm1d, nn.InstanceNorm2d)
_PADS = (nn.ConstantPad1d, nn.ZeroPad1d, nn.ConstantPad2d, nn.ZeroPad2d)  # fixed padding, e.g. causal (left only)
_CONVS = {1: nn.Conv1d, 2: nn.Conv2d}
_POOLS = {1: (nn.MaxPool1d, nn.AvgPool1d), 2: (nn.MaxPool2d, nn.AvgPool2d)}


@dataclass
class RFRow:
    """One row of a :func:`receptive_field` table; pairs are ``(rows, columns)``, 1-tuples for a 1D stack."""

    name: str  # dotted module path ("" for the input row)
    layer: str  # short description
    size: tuple[int, ...]  # r: input pixels one unit of this layer sees (height, width), or (length,)
    jump: tuple[int, ...]  # j: input pixels between two neighbouring units
    start: tuple[int, ...]  # first input pixel seen by unit (0, 0); negative = in the padding
    output_size: tuple[int, ...] | None = None  # (H, W) (or (L,)) of this layer's output, if an input size was given

    @property
    def center(self) -> tuple[float, float]:
        """Input coordinates of the centre of unit (0, 0)'s receptive field."""
        return tuple(s + (r - 1) / 2 for s, r in zip(self.start, self.size))  # type: ignore[return-value]


class RFTable(list):
    """A list of :class:`RFRow` (the input first, then one per layer) that prints as a table."""

    @property
    def size(self) -> tuple[int, int]:
        """Receptive-field size (height, width) of the last layer."""
        return self[-1].size

    @property
    def jump(self) -> tuple[int, int]:
        """Jump (total stride) of the last layer."""
        return self[-1].jump

    @property
    def start(self) -> tuple[int, int]:
        """First input pixel (row, column) seen by the last layer's unit (0, 0)."""
        return self[-1].start

    def window(self, *index: int) -> tuple[tuple[int, int], ...]:
        """Input rows and columns (first, last; inclusive, not clipped) seen by last-layer unit (row, col).

        For a 1D stack pass one index ``i``: the result is ``((first, last),)``.
        """
        if len(index) != len(self.size):
            raise ShapeError(f"window needs {len(self.size)} index(es) for this {len(self.size)}D stack, got {index}")
        return tuple((s + i * j, s + i * j + r - 1) for i, s, j, r in zip(index, self.start, self.jump, self.size))

    def __str__(self) -> str:
        def fmt(p):
            return "-" if p is None else (str(p[0]) if len(set(p)) == 1 else "x".join(map(str, p)))

        width = max([len(r.name) for r in self] + [5])
        tw = max([len(r.layer) for r in self] + [34])  # type column: 34 unless a description is longer
        lines = [f"{'layer':<{width}}  {'type':<{tw}} {'out size':>8} {'RF size':>7} {'jump':>5} {'start':>6}"]
        for r in self:
            lines.append(f"{r.name or 'input':<{width}}  {r.layer:<{tw}} {fmt(r.output_size):>8} {fmt(r.size):>7} "
                         f"{fmt(r.jump):>5} {fmt(r.start):>6}")
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython display
        p.text(str(self))


_MEASURE_INSTEAD = "use measure_receptive_field(model, input_shape), which follows any wiring"


def _elementwise(m: nn.Module) -> bool:
    """An element-wise layer, also one built of element-wise parts (e.g. timm's BatchNormAct2d: BN + activation)."""
    return isinstance(m, _GEOMETRY_FREE) and all(isinstance(c, _GEOMETRY_FREE) for c in m.modules())


def _leaf_layers(model: nn.Module | Sequence[nn.Module], prefix: str = "") -> list[tuple[str, nn.Module]]:
    """Leaf layers of a sequential stack in the order they run, with full dotted names; refuses other containers."""
    if isinstance(model, nn.Module) and not isinstance(model, nn.Sequential):
        if list(model.children()) and not _elementwise(model):
            parts = [n for n, _ in model.named_children()]
            hint = ("pass its sequential part, e.g. model.features" if isinstance(getattr(model, "features", None),
                                                                                    nn.Sequential)
                    else f"pass a sequential part of it (its parts: {parts[:6]}), or {_MEASURE_INSTEAD}")
            raise TypeError(f"model must be an nn.Sequential (or a list of layers) whose layers run one after another, "
                            f"got {type(model).__name__}; {hint}")
        return [(prefix or "0", model)]
    if not isinstance(model, nn.Module):
        if isinstance(model, (str, bytes)) or not isinstance(model, Sequence):
            raise TypeError(f"model must be an nn.Sequential or a list of nn.Module layers, got {_checks.describe(model)}")
        bad = [i for i, m in enumerate(model) if not isinstance(m, nn.Module)]
        if bad:
            raise TypeError(f"model must be an nn.Sequential or a list of nn.Module layers, but item {bad[0]} is "
                            f"{_checks.describe(model[bad[0]])}")
        model = nn.Sequential(*model)
    out = []
    for name, m in model.named_children():
        full = f"{prefix}.{name}" if prefix else name
        if isinstance(m, nn.Sequential):
            out += _leaf_layers(m, full)
        elif list(m.children()) and not _elementwise(m):
            raise TypeError(f"layer {full!r} of model is a {type(m).__name__} with sub-layers; receptive_field only "
                            "follows nn.Sequential stacks, and a branching block (residual, inception) has no single "
                            f"chain to follow: {_MEASURE_INSTEAD}")
        else:
            out.append((full, m))
    return out


def _check_layer(name: str, m: nn.Module, n: int, sizes: list[int] | None) -> None:
    """Settings PyTorch refuses at run time: pool padding above half the kernel, reflect/circular padding too large."""
    if isinstance(m, (*_POOLS[1], *_POOLS[2])):
        k = _ntuple(m.kernel_size, "kernel_size", n)
        p = _ntuple(m.padding, "padding", n)
        d = _ntuple(m.dilation, "dilation", n) if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d)) else (1,) * n
        for ki, pi, di in zip(k, p, d):
            if 2 * pi > di * (ki - 1) + 1:
                raise ShapeError(f"layer {name!r} ({_describe(m)}): padding={pi} is more than half of the "
                                 f"{di * (ki - 1) + 1}-cell window; PyTorch refuses it, use padding <= "
                                 f"{(di * (ki - 1) + 1) // 2}")
    mode = getattr(m, "padding_mode", "zeros")
    if sizes is not None and isinstance(m, (nn.Conv1d, nn.Conv2d)) and mode in ("reflect", "circular") \
            and not isinstance(m.padding, str):
        for size, pi in zip(sizes, m.padding):
            if (mode == "reflect" and pi >= size) or (mode == "circular" and pi > size):
                limit = f"less than the input size {size}" if mode == "reflect" else f"at most the input size {size}"
                raise ShapeError(f"layer {name!r} ({_describe(m)}): padding={pi} with padding_mode={mode!r} must be "
                                 f"{limit}; PyTorch refuses it, use less padding or padding_mode='zeros'")


def _spatial_dims(m: nn.Module) -> int | None:
    """1 or 2 for a 1D or 2D conv, pool or pad layer; None for an element-wise layer."""
    for n in (1, 2):
        if isinstance(m, (_CONVS[n], *_POOLS[n])):
            return n
    if isinstance(m, _PADS):
        return 1 if isinstance(m, (nn.ConstantPad1d, nn.ZeroPad1d)) else 2
    return None


def _geometry(m: nn.Module, n: int = 2) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...],
                                               bool, tuple[int, ...]] | None:
    """(kernel, stride, left padding, dilation, ceil_mode, right padding) of a layer with ``n`` spatial axes.

    None for a layer that keeps the geometry. The right padding differs from the left one only
    for an explicit pad layer (e.g. ``nn.ConstantPad1d((2, 0), 0)``: causal, left only).
    """
    if isinstance(m, _PADS):
        left, right = m.padding[0::2][::-1], m.padding[1::2][::-1]  # torch lists the last axis first
        return (1,) * n, (1,) * n, tuple(left), (1,) * n, False, tuple(right)
    if n == 1 and isinstance(m, nn.Conv1d):
        k, d = m.kernel_size, m.dilation
        pad = ((d[0] * (k[0] - 1) // 2,) if m.padding == "same" else (0,) if m.padding == "valid" else m.padding)
        return k, m.stride, pad, d, False, pad  # type: ignore[return-value]
    if n == 1 and isinstance(m, _POOLS[1]):
        k = _single(m.kernel_size, "kernel_size")
        s = _single(m.stride if m.stride is not None else m.kernel_size, "stride")
        d = _single(m.dilation, "dilation") if isinstance(m, nn.MaxPool1d) else (1,)
        p = _single(m.padding, "padding")
        return k, s, p, d, bool(m.ceil_mode), p
    if isinstance(m, nn.Conv2d):
        k, d = m.kernel_size, m.dilation
        if m.padding == "same":
            pad = tuple(di * (ki - 1) // 2 for ki, di in zip(k, d))  # PyTorch puts the odd extra cell on the right
        elif m.padding == "valid":
            pad = (0, 0)
        else:
            pad = m.padding
        return k, m.stride, pad, d, False, pad  # type: ignore[return-value]
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        k = _pair(m.kernel_size, "kernel_size")
        s = _pair(m.stride if m.stride is not None else m.kernel_size, "stride")
        d = _pair(m.dilation, "dilation") if isinstance(m, nn.MaxPool2d) else (1, 1)
        p = _pair(m.padding, "padding")
        return k, s, p, d, bool(m.ceil_mode), p
    if isinstance(m, _GEOMETRY_FREE):
        return None
    raise TypeError(f"receptive_field knows Conv1d/2d, MaxPool1d/2d, AvgPool1d/2d, ConstantPad1d/2d and "
                    f"element-wise layers, got {type(m).__name__}; cut the model before it (e.g. model[:k]) if it "
                    "flattens or pools globally")


def _layer_output_size(name: str, m: nn.Module, n: int, k: int, s: int, p: int, d: int, ceil: bool,
                       p_right: int | None = None) -> int:
    """Output length of layer ``m`` along one axis, with PyTorch's rules for 'same', ceil_mode and pad layers."""
    if isinstance(m, (nn.Conv1d, nn.Conv2d)) and m.padding == "same":
        return n
    if isinstance(m, _PADS):
        return n + p + (p if p_right is None else p_right)
    if ceil:  # PyTorch's pooling_output_shape: round up, but the last window must start inside the input
        out = (n + 2 * p - d * (k - 1) - 1 + s - 1) // s + 1
        out -= (out - 1) * s >= n + p
        if out >= 1:
            return out
    try:
        return conv_output_size(n, k, s, p, d)
    except ShapeError as err:
        raise ShapeError(f"layer {name!r} ({_describe(m)}): {err}") from err


def receptive_field(model: nn.Module | Sequence[nn.Module],
                    input_size: int | tuple[int, int] | None = None) -> RFTable:
    """Receptive field of every layer of a sequential conv/pool stack (2D or 1D), computed analytically.

    For a layer with kernel ``K``, stride ``S``, padding ``P``, dilation ``D`` on top of a
    layer with receptive-field size ``r``, jump ``j`` and start ``s``:
    ``r' = r + D(K-1) j``, ``j' = S j``, ``s' = s - P j``. Unit ``i`` of a layer sees input
    pixels ``s + i j .. s + i j + r - 1`` (a bounding box: with dilation or ``S > K``
    some pixels inside it are skipped).

    Args:
        model: an ``nn.Sequential`` (nested ``Sequential`` allowed) or a list of layers:
            ``Conv2d``, ``MaxPool2d``, ``AvgPool2d``, or their 1D versions ``Conv1d``,
            ``MaxPool1d``, ``AvgPool1d`` (one kind per stack), explicit pads such as
            ``ConstantPad1d((2, 0), 0)`` (a causal convolution's left padding), and
            element-wise layers (activations, ``BatchNorm``, ``Dropout``).
        input_size: optional input ``H`` or ``(H, W)`` (``L`` for a 1D stack); then every row
            also gets its output size and impossible settings raise :class:`ShapeError`.

    Returns:
        An :class:`RFTable`: row 0 is the input (size 1, jump 1, start 0), then one row per
        layer. ``table.size``, ``table.jump``, ``table.start`` describe the last layer; they
        are pairs ``(rows, columns)`` for a 2D stack and 1-tuples ``(length,)`` for a 1D one.

    Raises:
        TypeError: a layer that is not a conv, pool, pad or element-wise layer (e.g.
            ``Flatten``), or 1D and 2D layers mixed in one stack.
    """
    layers = _leaf_layers(model)
    if not layers:
        raise ValueError("model has no layers; give a stack of Conv/Pool layers, e.g. nn.Sequential(nn.Conv2d(1, 8, 3))")
    dims = {name: _spatial_dims(m) for name, m in layers}
    kinds = set(dims.values()) - {None}
    if len(kinds) > 1:
        raise TypeError(f"receptive_field follows one kind of stack, 1D or 2D, but model mixes them: "
                        f"{ {name: f'{n}D' for name, n in dims.items() if n} }")
    n = kinds.pop() if kinds else 2
    size, jump, start = [1] * n, [1] * n, [0] * n
    out = None
    if input_size is not None:
        out = list(_ntuple(input_size, "input_size", n))
        if min(out) < 1:
            raise ShapeError(f"input_size must be >= 1, got {input_size!r}")
        # a bad setting shows up as an error naming the layer, as in PyTorch, not as a size
    table = RFTable([RFRow("", "input", (1,) * n, (1,) * n, (0,) * n, tuple(out) if out else None)])
    for name, m in layers:
        _check_layer(name, m, n, out)
        try:
            geom = _geometry(m, n)
        except TypeError as err:
            raise TypeError(f"layer {name!r} of model: {err}") from None
        if geom is not None:
            k, s, p, d, ceil, p_right = geom
            for a in range(n):
                size[a] += d[a] * (k[a] - 1) * jump[a]
                start[a] -= p[a] * jump[a]
                jump[a] *= s[a]
                if out is not None:
                    try:
                        out[a] = _layer_output_size(name, m, out[a], k[a], s[a], p[a], d[a], ceil, p_right[a])
                    except ShapeError as err:
                        raise ShapeError(f"{err} (with input_size={input_size!r})") from None
        table.append(RFRow(name, _describe(m), tuple(size), tuple(jump), tuple(start),  # type: ignore[arg-type]
                           tuple(out) if out else None))  # type: ignore[arg-type]
    return table


class _DepthwiseAverage(nn.Module):
    """A max pool's window as a fixed averaging conv (same kernel, stride, padding, dilation)."""

    def __init__(self, pool: nn.MaxPool2d | nn.AvgPool2d):
        super().__init__()
        self.k = _pair(pool.kernel_size, "kernel_size")
        self.s = _pair(pool.stride if pool.stride is not None else pool.kernel_size, "stride")
        self.p = _pair(pool.padding, "padding")
        self.d = _pair(pool.dilation, "dilation") if isinstance(pool, nn.MaxPool2d) else (1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        w = x.new_full((c, 1, *self.k), 1.0 / (self.k[0] * self.k[1]))
        return nn.functional.conv2d(x, w, None, self.s, self.p, self.d, groups=c)


def _average_pool(n: int, input: torch.Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                  return_indices=False) -> torch.Tensor:
    """A max pool's window averaged instead (every cell gets gradient), same output size."""
    if return_indices:
        raise ShapeError("measure_receptive_field cannot follow a max pool with return_indices=True; "
                         "measure the layers before it")
    k, p, d = _ntuple(kernel_size, "kernel_size", n), _ntuple(padding, "padding", n), _ntuple(dilation, "dilation", n)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else _ntuple(stride, "stride", n)
    if d == (1,) * n:
        pool = nn.functional.avg_pool2d if n == 2 else nn.functional.avg_pool1d
        return pool(input, k, s, p, ceil_mode)
    c = input.shape[-n - 1]
    w = input.new_full((c, 1, *k), 1.0 / math.prod(k))
    conv = nn.functional.conv2d if n == 2 else nn.functional.conv1d
    return conv(input, w, None, s, p, d, groups=c)


_MAX_TO_AVERAGE = {
    nn.functional.max_pool2d: lambda *a, **kw: _average_pool(2, *a, **kw),
    torch.max_pool2d: lambda *a, **kw: _average_pool(2, *a, **kw),
    nn.functional.max_pool1d: lambda *a, **kw: _average_pool(1, *a, **kw),
    torch.max_pool1d: lambda *a, **kw: _average_pool(1, *a, **kw),
    nn.functional.adaptive_max_pool2d: lambda x, size, return_indices=False: nn.functional.adaptive_avg_pool2d(x, size),
    nn.functional.adaptive_max_pool1d: lambda x, size, return_indices=False: nn.functional.adaptive_avg_pool1d(x, size),
}


class _AveragePools(torch.overrides.TorchFunctionMode):
    """While active, functional max pools (``F.max_pool2d`` inside a ``forward``) average their window."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        replacement = _MAX_TO_AVERAGE.get(func)
        return (replacement or func)(*args, **(kwargs or {}))


def _structural_copy(model: nn.Module) -> nn.Module:
    """A float64 copy whose every path carries gradient: positive weights, no bias, pools averaged."""
    net = copy.deepcopy(model).double().eval()
    for name, m in list(net.named_modules()):
        if isinstance(m, nn.Conv2d):
            with torch.no_grad():
                m.weight.fill_(1.0 / m.weight[0].numel())
                if m.bias is not None:
                    m.bias.zero_()
        elif isinstance(m, nn.BatchNorm2d):
            m.reset_parameters()  # weight 1, bias 0, mean 0, var 1: nearly the identity
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            parent, _, child = name.rpartition(".")
            setattr(net.get_submodule(parent) if parent else net, child, _DepthwiseAverage(m))
    return net


@dataclass
class MeasuredRF:
    """What :func:`measure_receptive_field` found."""

    mask: torch.Tensor  # (H, W) bool: input pixels whose gradient is not zero
    position: tuple[int, int]  # the output unit (row, col) the gradient came from
    rows: tuple[int, int]  # first and last row of the mask's bounding box (inclusive)
    cols: tuple[int, int]  # first and last column

    @property
    def size(self) -> tuple[int, int]:
        """Height and width of the bounding box."""
        return self.rows[1] - self.rows[0] + 1, self.cols[1] - self.cols[0] + 1


def _output_unit_gradient(model: nn.Module, x: torch.Tensor, position: tuple[int, int] | None,
                          channel: int | None, what: str) -> tuple[torch.Tensor, tuple[int, int]]:
    """Gradient of output unit ``position`` (summed over channels, or one channel) w.r.t. ``x``."""
    if position is not None and (not isinstance(position, (tuple, list)) or len(position) != 2
                                 or not all(_is_int(p) for p in position)):
        raise ShapeError(f"position must be a (row, col) pair of ints, got {_checks.describe(position)}")
    if channel is not None and not _is_int(channel):
        raise ShapeError(f"channel must be an int or None, got {_checks.describe(channel)}")
    position = None if position is None else (int(position[0]), int(position[1]))
    channel = None if channel is None else int(channel)
    x = x.detach().requires_grad_(True)
    try:
        y = model(x)
    except (RuntimeError, ValueError) as err:
        raise ShapeError(f"the model failed on {what} of shape {tuple(x.shape)}: {str(err).splitlines()[0]}; check "
                         f"the channels and size against the first layer, e.g. with trace(model, {tuple(x.shape)})") from err
    if not isinstance(y, torch.Tensor) or y.ndim != 4:
        raise ShapeError(f"the model must return feature maps (N, C, H, W), got "
                         f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}; "
                         "pass the convolutional part only (e.g. model[:k])")
    h, w = y.shape[-2:]
    position = ((h - 1) // 2, (w - 1) // 2) if position is None else tuple(position)  # type: ignore[assignment]
    if len(position) != 2 or not (0 <= position[0] < h and 0 <= position[1] < w):
        raise ShapeError(f"position must be (row, col) inside the output of size {(h, w)}, got {position!r}")
    if channel is not None and not 0 <= channel < y.shape[1]:
        raise ShapeError(f"channel must lie in 0..{y.shape[1] - 1}, got {channel!r}")
    unit = y[:, :, position[0], position[1]] if channel is None else y[:, channel, position[0], position[1]]
    (grad,) = torch.autograd.grad(unit.sum(), x)
    return grad, position  # type: ignore[return-value]


def measure_receptive_field(model: nn.Module, input_shape: tuple[int, int, int, int],
                            position: tuple[int, int] | None = None) -> MeasuredRF:
    """Measure the receptive field of one output unit with gradients.

    Backpropagates from output unit ``position`` (all channels) to the input and keeps the
    pixels whose gradient is not zero. So that no path is blocked by chance (a ReLU that is
    off, a max pool that picks another pixel, a weight that happens to be 0), the
    measurement runs on a float64 copy of the model with every conv weight set to the same
    positive value, no bias, pools replaced by averages over the same window, BatchNorm
    reset, in eval mode, on a positive input: it measures the *wiring*, as
    :func:`receptive_field` computes it.

    Args:
        model: a module returning feature maps ``(N, C, H', W')`` (not changed).
        input_shape: ``(N, C, H, W)``, e.g. ``(1, 1, 28, 28)``.
        position: output unit ``(row, col)``; default the centre one.

    Returns:
        A :class:`MeasuredRF` with the mask ``(H, W)`` and its bounding box (clipped to the
        image, so compare with :meth:`RFTable.window` clipped the same way).
    """
    _checks.module("model", model)
    input_shape = _shape("input_shape", input_shape, (4,), "(N, C, H, W)")
    net = _structural_copy(model)
    x = torch.ones(input_shape, dtype=torch.float64, device=_checks.module_device(net))
    with _AveragePools():  # max pools called in forward() (F.max_pool2d) average their window too
        grad, position = _output_unit_gradient(net, x, position, None, "input_shape")
    mask = grad.abs().sum(dim=(0, 1)).cpu() > 0  # (N, C, H, W) -> (H, W)
    rows, cols = mask.any(1).nonzero()[:, 0], mask.any(0).nonzero()[:, 0]
    return MeasuredRF(mask, position, (int(rows[0]), int(rows[-1])), (int(cols[0]), int(cols[-1])))


def effective_receptive_field(model: nn.Module, images: torch.Tensor, position: tuple[int, int] | None = None,
                              channel: int | None = None) -> torch.Tensor:
    """Effective receptive field: mean ``|d unit / d pixel|`` over a batch of real images.

    Inside the (theoretical) receptive field pixels do not matter equally: the centre
    ones reach the unit through many more paths. The map shows how much (Luo et al. 2016).

    Args:
        model: the real (e.g. trained) module, returning feature maps ``(N, C, H', W')``;
            evaluated in eval mode, left in the mode it had.
        images: ``(N, C, H, W)`` input batch (real images: the map depends on them).
        position: output unit ``(row, col)``; default the centre one.
        channel: one output channel, or ``None`` for the sum over channels.

    Returns:
        ``(H, W)`` float tensor on the CPU, scaled so its maximum is 1 (all zeros if every
        gradient is 0, e.g. a dead unit).
    """
    _checks.module("model", model)
    images = _checks.model_batch("images", images, model)  # NumPy and float64 converted; uint8, NaN refused
    if not len(images):
        raise ValueError(f"images is empty (shape {tuple(images.shape)}); give at least one image")
    was_training = model.training
    model.eval()
    try:
        param = next(model.parameters(), None)
        x = images.to(param.device if param is not None else images.device)
        grad, _ = _output_unit_gradient(model, x, position, channel, "images")
    finally:
        model.train(was_training)
    erf = grad.abs().mean(dim=(0, 1)).cpu()  # (N, C, H, W) -> (H, W)
    return erf / erf.max() if erf.max() > 0 else erf
