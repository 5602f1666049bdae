"""Shape arithmetic: the conv output-size formula and a layer-by-layer shape tracer.

``conv_output_size`` is the formula from the PyTorch docs,
``H_out = floor((H + 2P - D(K-1) - 1) / S + 1)``, with a clear error for settings that
cannot work. ``trace`` runs a model on a dummy input and reports every layer's output
shape and parameter count; when a layer fails it names that layer and the shape it got,
instead of a bare matmul error.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


class ShapeError(ValueError):
    """A layer cannot accept the shape it is given (or a conv setting is impossible)."""


def _pair(v: int | tuple[int, int], name: str) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, int) else tuple(v)
    if len(pair) != 2 or not all(isinstance(a, int) for a in pair):
        raise TypeError(f"{name} must be an int or a pair of ints, got {v!r}")
    return pair  # type: ignore[return-value]


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
    for name, value, low in (("size", size, 1), ("kernel_size", kernel_size, 1), ("stride", stride, 1),
                             ("padding", padding, 0), ("dilation", dilation, 1)):
        if not isinstance(value, int) or value < low:
            raise ShapeError(f"{name} must be an int >= {low}, got {value!r}")
    span = dilation * (kernel_size - 1) + 1  # how many input cells one kernel covers
    out = (size + 2 * padding - span) // stride + 1
    if out < 1:
        raise ShapeError(
            f"kernel spans {span} cells (kernel_size={kernel_size}, dilation={dilation}) but the padded input "
            f"has only {size + 2 * padding} (size={size}, padding={padding}); use a smaller kernel or "
            "dilation, more padding, or a larger input"
        )
    return out


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
    if len(input_shape) not in (3, 4):
        raise ShapeError(f"expected an input shape (C, H, W) or (N, C, H, W), got {tuple(input_shape)}")
    *batch, c_in, h, w = input_shape
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(stride, "stride")
    dh, dw = _pair(dilation, "dilation")
    if groups < 1 or c_in % groups or out_channels % groups:
        raise ShapeError(f"groups={groups} must divide in_channels={c_in} and out_channels={out_channels}")
    if padding == "same":
        if (sh, sw) != (1, 1):
            raise ShapeError("padding='same' only works with stride=1 (PyTorch rule)")
        return (*batch, out_channels, h, w)
    ph, pw = (0, 0) if padding == "valid" else _pair(padding, "padding")  # type: ignore[arg-type]
    return (*batch, out_channels, conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw))


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
    if isinstance(m, nn.Conv2d):
        return (f"Conv2d({m.in_channels}, {m.out_channels}, k={m.kernel_size[0]}, s={m.stride[0]}, "
                f"p={m.padding if isinstance(m.padding, str) else m.padding[0]})")
    if isinstance(m, nn.Linear):
        return f"Linear({m.in_features}, {m.out_features})"
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        return f"{type(m).__name__}(k={m.kernel_size}, s={m.stride})"
    return type(m).__name__


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
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
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
        elif isinstance(layer, nn.Conv2d):
            expected = f"; it expects {layer.in_channels} input channels"
        raise ShapeError(
            f"layer {failing!r} ({_describe(layer)}) failed on an input of shape {got}{expected}.\n"
            f"Shapes so far:\n{rows}\nPyTorch said: {err}"
        ) from err
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return rows
