"""How a block is wired: the numbers it stores, the window it sees, whether it mixes channels.

Notebook 05 asks for a block under a budget that sees at least a 5x5 window and lets every
output channel depend on every input channel. "Sees" and "depends" are measured here on what
the block computes, not on what its modules say about themselves:

* :func:`export_block` turns the block into its ``torch.export`` graph (ATen operators) and
  counts every number the graph holds: parameters, buffers (BatchNorm's running statistics)
  and constants (a tensor kept in a plain attribute or made in ``forward``) alike.
* :func:`measure_wiring` backpropagates from the centre output pixel, one output channel at a
  time, and keeps the input pixels and channels that reach it. So that no connection hides by
  chance, it runs in float64 with every stored tensor replaced by its magnitude (no two paths
  cancel; a weight the block sets to zero stays zero), activations passed through unchanged
  (a ReLU that is off at initialisation blocks nothing), max pools averaged over their
  window and normalisations kept to their per-channel scale and shift. It counts what the
  block's *local* operations connect: a global average (SE's squeeze, global pooling) gives
  every output pixel the same small dependence on every input pixel away from the border, so
  that common part is subtracted, measured far from the centre.
* :func:`measure_block` does both for an ``nn.Module``; the grader of notebook 05 rebuilds a
  learner's exported graph outside the learner's kernel and calls :func:`measure_wiring` on it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
import torch.utils._pytree as pytree
from torch import nn
from torch.overrides import TorchFunctionMode

from . import _checks

__all__ = ["Wiring", "export_block", "measure_wiring", "measure_block"]

# Elementwise activations: passed through unchanged (their own input is their output).
_PASS_THROUGH = frozenset(
    f"{name}{suffix}" for suffix in ("", "_") for name in (
        "relu", "relu6", "hardtanh", "clamp", "clamp_min", "clamp_max", "gelu", "silu", "sigmoid", "hardsigmoid",
        "hardswish", "leaky_relu", "elu", "selu", "celu", "tanh", "mish", "softplus", "threshold", "rrelu",
        "log_sigmoid", "prelu", "dropout", "feature_dropout", "alpha_dropout", "softmax", "_softmax", "log_softmax",
        "_log_softmax"))
_MAX_POOLS = frozenset({"max_pool2d", "max_pool2d_with_indices", "adaptive_max_pool2d"})
_GLOBAL_MAX = frozenset({"amax", "amin", "max", "min"})
_NORMS = frozenset({"layer_norm", "native_layer_norm", "group_norm", "native_group_norm", "instance_norm", "rms_norm"})
RELATIVE_TOLERANCE = 1e-9  # a dependence smaller than this fraction of the largest is rounding (float64)


@dataclass
class Wiring:
    """What :func:`measure_block` (or :func:`measure_wiring`) found."""

    out_shape: tuple[int, ...]  # shape of the block's output for the measured input
    receptive_field: tuple[int, int]  # rows x columns of the input window the centre output pixel combines
    mixes_channels: bool  # every output channel depends (locally) on every input channel
    stored_numbers: int | None = None  # parameters + buffers + constants (None: not counted)
    window: int = 11  # receptive fields are measured up to window x window


def export_block(block: nn.Module, input_shape: tuple[int, int, int, int]) -> tuple[nn.Module, int]:
    """The block's ``torch.export`` graph, in eval mode, and the numbers it stores.

    Args:
        block: an ``nn.Module`` taking one ``(N, C, H, W)`` tensor (a copy is exported in eval
            mode; ``block`` itself is not changed).
        input_shape: ``(N, C, H, W)`` of the example input (the graph is specialised to it).

    Returns:
        ``(graph_module, stored_numbers)``: a module running the exported ATen graph (only on
        inputs of ``input_shape``) and the number of entries of every tensor the graph holds
        (parameters, buffers such as BatchNorm's running mean and variance, and constants).

    Raises:
        ValueError: the block cannot be exported for this input (the error says why).
    """
    _checks.module("block", block)
    input_shape = _input_shape(input_shape)
    frozen = copy.deepcopy(block).eval()
    try:
        program = torch.export.export(frozen, (torch.rand(input_shape),))
    except Exception as err:  # export raises many kinds; the user needs one message
        raise ValueError(f"cannot export the block for an input of shape {input_shape}: "
                         f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}; a block must be an "
                         "nn.Module whose forward takes one (N, C, H, W) tensor and returns one") from err
    stored = 0
    for spec in program.graph_signature.input_specs:
        target = getattr(spec, "target", None)
        if spec.kind.name == "USER_INPUT" or target is None:
            continue
        value = program.state_dict.get(target, program.constants.get(target))
        if isinstance(value, torch.Tensor):
            stored += value.numel()
    return program.module(), stored


def measure_wiring(module: nn.Module, input_shape: tuple[int, int, int, int], radius: int = 5,
                   margin: int = 8) -> Wiring:
    """Measure the receptive field and channel mixing of a block (see the module docstring).

    Args:
        module: the block's ATen graph (a ``torch.fx.GraphModule``): the first result of
            :func:`export_block` or a graph rebuilt by the grader; for a plain ``nn.Module``
            call :func:`measure_block`.
        input_shape: ``(1, C, H, W)``, both sides at least ``2 * (radius + margin) + 1`` and one
            more than that (so that some pixels lie outside the window: the far reference).
        radius: receptive fields are measured in the ``2 * radius + 1`` square window around
            the centre (so up to 11 x 11 by default).
        margin: pixels this close to the border are not used as the far reference (zero padding
            changes the gradient there).

    Returns:
        A :class:`Wiring` (``stored_numbers`` None).

    Raises:
        TypeError: ``module`` is not a ``torch.fx.GraphModule``.
        ValueError: a bad ``input_shape`` (for an exported graph: not the shape it was exported
            for), or a block that does not return one ``(N, C, H, W)`` tensor.
    """
    _checks.module("module", module)
    if not isinstance(module, torch.fx.GraphModule):
        raise TypeError(f"module must be a block's ATen graph (torch.fx.GraphModule), got {_checks.describe(module)}: "
                        "measure an nn.Module with measure_block(block, input_shape), or pass "
                        "export_block(block, input_shape)[0]")
    input_shape = _input_shape(input_shape)
    radius = _checks.integer("radius", radius, 1)
    margin = _checks.integer("margin", margin, 1)
    n, c_in, h, w = input_shape
    least = 2 * (radius + margin) + 1
    if n != 1 or min(h, w) < least or max(h, w) < least + 1:
        raise ValueError(f"input_shape must be (1, C, H, W) with H, W >= {least} (window radius {radius} plus margin "
                         f"{margin} on each side) and one of them >= {least + 1} (pixels outside the window), "
                         f"got {input_shape}")
    x = (1 + torch.rand(input_shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))).requires_grad_()
    try:
        with _Structural(x):
            out = module(x)
    except Exception as err:  # a graph runs only on the shape it was exported for; its errors come in many kinds
        raise ValueError(f"the module failed on an input of shape {input_shape}: {type(err).__name__}: "
                         f"{str(err).splitlines()[0] if str(err) else ''}; an exported graph runs only on the "
                         "input_shape it was exported for (export_block(block, input_shape))") from err
    if not isinstance(out, torch.Tensor) or out.ndim != 4:
        raise ValueError(f"the block must return one (N, C, H, W) tensor, got {_checks.describe(out)}")
    window = 2 * radius + 1
    if not out.requires_grad or out.shape[-2] < 1 or out.shape[-1] < 1:  # the output ignores the input
        return Wiring(tuple(out.shape), (0, 0), False, None, window)
    ph, pw = (out.shape[-2] - 1) // 2, (out.shape[-1] - 1) // 2  # centre output pixel
    ch, cw = (h - 1) // 2, (w - 1) // 2  # centre input pixel: the window is around it
    local = torch.zeros(out.shape[1], c_in, window, window, dtype=torch.float64)
    for j in range(out.shape[1]):
        (grad,) = torch.autograd.grad(out[0, j, ph, pw], x, retain_graph=True, allow_unused=True)
        if grad is None:
            continue
        grad = grad[0]  # (C_in, H, W): how much each input number moves output channel j at the centre
        far = grad[:, margin:h - margin, margin:w - margin].amin(dim=(1, 2))  # the part every pixel shares
        local[j] = grad[:, ch - radius:ch + radius + 1, cw - radius:cw + radius + 1] - far[:, None, None]
    scale = float(local.abs().max())
    seen = local > RELATIVE_TOLERANCE * scale if scale > 0 else torch.zeros_like(local, dtype=torch.bool)
    pixels = seen.any(dim=0).any(dim=0)  # (window, window)
    rows, cols = pixels.any(dim=1).nonzero(), pixels.any(dim=0).nonzero()
    field = (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)) if len(rows) else (0, 0)
    mixes = bool(seen.flatten(2).any(dim=2).all())
    return Wiring(tuple(out.shape), field, mixes, None, window)


def measure_block(block: nn.Module, input_shape: tuple[int, int, int, int] = (1, 64, 33, 35)) -> Wiring:
    """Export ``block`` and measure it: stored numbers, output shape, receptive field, channel mixing.

    Args:
        block: an ``nn.Module`` mapping ``(N, C, H, W)`` to feature maps (not changed).
        input_shape: the example input, default ``(1, 64, 33, 35)``.

    Returns:
        A :class:`Wiring` with ``stored_numbers`` filled in.
    """
    graph, stored = export_block(block, input_shape)
    wiring = measure_wiring(graph, input_shape)
    wiring.stored_numbers = stored
    return wiring


def _input_shape(value) -> tuple[int, int, int, int]:
    if isinstance(value, torch.Size):
        value = tuple(value)
    if not isinstance(value, (tuple, list)) or len(value) != 4:
        raise ValueError(f"input_shape must be (N, C, H, W), 4 ints, got {_checks.describe(value)}")
    return tuple(_checks.integer(f"input_shape[{i}]", v, 1) for i, v in enumerate(value))  # type: ignore[return-value]


class _Structural(TorchFunctionMode):
    """While active, every ATen call runs on its structural stand-in (see :func:`measure_wiring`)."""

    def __init__(self, x: torch.Tensor) -> None:
        super().__init__()
        self.x = x

    def _prepare(self, value):
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            if value is not self.x and value.grad_fn is None:  # a weight or constant: its magnitude
                value = value.detach().abs()
            return value if value.dtype == torch.float64 else value.double()
        if isinstance(value, torch.dtype) and value.is_floating_point:
            return torch.float64
        return value

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        packet = getattr(func, "overloadpacket", None)
        name = getattr(packet, "__name__", None)
        if name is None:  # not an ATen operator (a torch function of an unexported module)
            return func(*args, **kwargs)
        args, kwargs = pytree.tree_map(self._prepare, (tuple(args), kwargs))
        if name in _PASS_THROUGH:
            return args[0]
        if name in _MAX_POOLS:
            return _averaged_pool(name, *args, **kwargs)
        if name in _GLOBAL_MAX and not any(isinstance(a, torch.Tensor) for a in args[1:]):  # not max(a, b)
            return _averaged_max(name, *args, **kwargs)
        if name in _NORMS:
            return _scale_and_shift(name, *args, **kwargs)
        return func(*args, **kwargs)


def _averaged_pool(name: str, x: torch.Tensor, *args, **kwargs):
    """A max pool's window averaged (every pixel of the window gets gradient); indices as zeros."""
    if name == "adaptive_max_pool2d":
        out = F.adaptive_avg_pool2d(x, args[0] if args else kwargs["output_size"])
        return out, torch.zeros(out.shape, dtype=torch.long)
    names = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")
    given = {**dict(zip(names, args)), **kwargs}
    k = list(given["kernel_size"]) * (2 if len(given["kernel_size"]) == 1 else 1)
    s = list(given.get("stride") or k) * (2 if len(given.get("stride") or k) == 1 else 1)
    p, d = given.get("padding", 0), given.get("dilation", 1)
    weight = x.new_full((x.shape[1], 1, *k), 1.0 / (k[0] * k[1]))
    out = F.conv2d(F.pad(x, _pad(p), value=0.0), weight, None, s, 0, d, groups=x.shape[1])
    return (out, torch.zeros(out.shape, dtype=torch.long)) if name == "max_pool2d_with_indices" else out


def _pad(p) -> list[int]:
    p = [p] if isinstance(p, int) else list(p)
    p = p * (2 if len(p) == 1 else 1)
    return [p[1], p[1], p[0], p[0]]


def _averaged_max(name: str, x: torch.Tensor, *args, **kwargs):
    """A max (or min) over dimensions, averaged instead; ``max.dim`` keeps its (values, indices) form."""
    if name in ("max", "min") and not args and not kwargs:  # the maximum of everything
        return x.mean()
    dim = args[0] if args else kwargs.get("dim", [])
    keepdim = args[1] if len(args) > 1 else kwargs.get("keepdim", False)
    dims = list(range(x.ndim)) if dim in ([], ()) else dim
    out = x.mean(dim=dims, keepdim=keepdim)
    return (out, torch.zeros(out.shape, dtype=torch.long)) if name in ("max", "min") else out


def _scale_and_shift(name: str, x: torch.Tensor, *args, **kwargs):
    """A normalisation without its statistics: each channel times its weight plus its bias."""
    if name in ("layer_norm", "native_layer_norm", "rms_norm"):
        names = ("normalized_shape", "weight", "bias") if name != "rms_norm" else ("normalized_shape", "weight")
    elif name in ("group_norm", "native_group_norm"):
        names = ("num_groups", "weight", "bias") if name == "group_norm" else ("weight", "bias")
    else:  # instance_norm
        names = ("weight", "bias")
    given = {**dict(zip(names, args)), **kwargs}
    weight, bias = given.get("weight"), given.get("bias")
    per_channel = name not in ("layer_norm", "native_layer_norm", "rms_norm")
    out = x
    if isinstance(weight, torch.Tensor):
        out = out * (weight.view(1, -1, *[1] * (x.ndim - 2)) if per_channel else weight)
    if isinstance(bias, torch.Tensor):
        out = out + (bias.view(1, -1, *[1] * (x.ndim - 2)) if per_channel else bias)
    return (out, None, None) if name.startswith("native_") else out
