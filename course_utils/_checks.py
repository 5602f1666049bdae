"""Argument checks shared by the course_utils modules: one wording for every bad-input error.

Every message names the argument, says what was expected and what came, and, where there
is one, what to do: ``size must be an int >= 1, got 2.5 (float)``. The obvious forms of an
image are converted rather than refused (uint8 0-255 -> float [0, 1], channels-last -> CHW,
a NumPy array -> a tensor); anything else is refused with such a message.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

# Values a little outside [0, 1] (interpolation overshoot) are clipped; beyond this they are an error.
RANGE_TOLERANCE = 0.05


def describe(value: Any) -> str:
    """A short description of what came: ``a float32 tensor of shape (3, 8, 8)``, ``'abc' (str)``."""
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).replace('torch.', '')} tensor of shape {tuple(value.shape)}"
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} NumPy array of shape {value.shape}"
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def integer(name: str, value: Any, low: int | None = None, high: int | None = None, hint: str = "") -> int:
    """``value`` as an int (NumPy and 0-d integer tensors accepted, bool refused) within ``[low, high]``."""
    if isinstance(value, torch.Tensor) and value.ndim == 0 and not value.is_floating_point() and value.dtype != torch.bool:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int{_bounds(low, high)}, got {describe(value)}{_hint(hint)}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be an int{_bounds(low, high)}, got {value}{_hint(hint)}")
    return value


def number(name: str, value: Any, low: float | None = None, high: float | None = None, *,
           low_open: bool = False, high_open: bool = False, hint: str = "") -> float:
    """``value`` as a finite float within ``[low, high]`` (``(low, ...`` with ``low_open``)."""
    if isinstance(value, torch.Tensor) and value.ndim == 0 and value.dtype != torch.bool:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number{_bounds(low, high, low_open, high_open)}, got {describe(value)}"
                        f"{_hint(hint)}")
    value = float(value)
    bad = (not math.isfinite(value)
           or (low is not None and (value <= low if low_open else value < low))
           or (high is not None and (value >= high if high_open else value > high)))
    if bad:
        raise ValueError(f"{name} must be a finite number{_bounds(low, high, low_open, high_open)}, got {value}"
                         f"{_hint(hint)}")
    return value


def _bounds(low, high, low_open: bool = False, high_open: bool = False) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high}"
    return ""


def _hint(hint: str) -> str:
    return f"; {hint}" if hint else ""


def choice(name: str, value: Any, allowed: Sequence[str], what: str = "") -> str:
    """``value`` if it is one of ``allowed`` (strings), else a message listing them."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {list(allowed)}, got {describe(value)}")
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not a known {what or name}; choose one of {list(allowed)}")
    return value


def module(name: str, value: Any) -> nn.Module:
    """``value`` if it is an ``nn.Module`` (a model or a layer)."""
    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be an nn.Module (a model or a layer), got {describe(value)}")
    return value


def module_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer; the CPU for a model without any."""
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("cpu")


def device(name: str, value: Any) -> torch.device:
    """``value`` (``"cpu"``, ``"cuda"``, ``"cuda:0"``, ``"mps"`` or a ``torch.device``) after checking it exists here."""
    if not isinstance(value, (str, torch.device)):
        raise TypeError(f"{name} must be a device name such as 'cpu' or 'cuda', got {describe(value)}")
    try:
        dev = torch.device(value)
    except RuntimeError as err:
        raise ValueError(f"{name}={value!r} is not a device; use 'cpu', 'cuda', 'cuda:0' or 'mps'") from err
    if dev.type == "cpu" and dev.index not in (None, 0):
        raise ValueError(f"{name}={value!r}: the CPU has no numbered devices; use 'cpu'")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name}={value!r} requested but CUDA is not available; use 'cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"{name}={value!r} but this machine has {torch.cuda.device_count()} CUDA device(s); "
                             f"use 'cuda' or 'cuda:0'..'cuda:{torch.cuda.device_count() - 1}'")
    elif dev.type == "mps":
        if not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
            raise ValueError(f"{name}={value!r} requested but Apple MPS is not available; use 'cpu'")
    elif dev.type != "cpu":
        raise ValueError(f"{name}={value!r}: the course runs on 'cpu', 'cuda' or 'mps'")
    return dev


def tensor(name: str, value: Any, ndim: int | Sequence[int] | None = None, layout: str = "") -> torch.Tensor:
    """``value`` if it is a tensor (a NumPy array is converted) with one of the ranks ``ndim``, not empty."""
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor{' ' + layout if layout else ''}, got {describe(value)}")
    ranks = (ndim,) if isinstance(ndim, int) else ndim
    if ranks is not None and value.ndim not in ranks:
        raise ValueError(f"{name} must be a {' or '.join(f'{r}D' for r in ranks)} tensor{' ' + layout if layout else ''}"
                         f", got shape {tuple(value.shape)}")
    if value.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(value.shape)}); give it at least one element")
    return value


def finite(name: str, value: torch.Tensor, hint: str = "") -> torch.Tensor:
    """``value`` if it holds no NaN or infinity."""
    if value.is_floating_point() and not torch.isfinite(value).all():
        raise ValueError(f"{name} contains NaN or infinite values{_hint(hint)}")
    return value


def labels(name: str, value: Any, n: int | None = None, against: str = "") -> torch.Tensor:
    """Integer class labels ``(N,)`` as int64 on their device; lists and NumPy arrays are converted."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                                for v in value):
        value = torch.tensor([int(v) for v in value], dtype=torch.int64)
    elif isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a tensor of integer class labels (N,), got {describe(value)}")
    if value.ndim != 1:
        raise ValueError(f"{name} must be integer class labels of shape (N,), got shape {tuple(value.shape)}"
                         + ("; one-hot labels? use .argmax(1)" if value.ndim == 2 else ""))
    if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class labels (int64), got dtype {value.dtype}; "
                        "if they are whole numbers, convert them with .long()")
    if n is not None and len(value) != n:
        raise ValueError(f"{name} has {len(value)} labels but {against or 'the other argument'} has {n} rows; "
                         "give one label per row")
    return value.long()


def images(name: str, value: Any, *, batch: bool | None = None, channels: Sequence[int] = (1, 3),
           check_range: bool = True, hint: str = "") -> torch.Tensor:
    """An image ``(C, H, W)`` or a batch ``(N, C, H, W)`` as float32 in ``[0, 1]``.

    Converts the obvious forms: a NumPy array, uint8 0-255 (divided by 255), bool,
    channels-last ``(H, W, C)`` / ``(N, H, W, C)`` when the channel axis is unambiguous,
    float16/float64. Refuses other ranks and channel counts, integer dtypes other than uint8,
    NaN, empty images and floats outside ``[0, 1]`` (beyond :data:`RANGE_TOLERANCE`, which
    is clipped) when ``check_range``.

    Args:
        name: the argument's name, for messages.
        batch: ``True`` wants ``(N, C, H, W)``; ``False`` wants ``(C, H, W)``; ``None`` accepts
            both (and returns the same rank as given).
        channels: allowed channel counts.
    """
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(np.ascontiguousarray(value))
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor image {_layout(batch)}, got {describe(value)}")
    ranks = {True: (4,), False: (3,), None: (3, 4)}[batch]
    if value.ndim not in ranks:
        extra = "; a single image? add a batch dimension with image[None]" if batch and value.ndim == 3 else ""
        extra += "; a gray image (H, W)? add a channel with image[None]" if value.ndim == 2 else ""
        raise ValueError(f"{name} must be {_layout(batch)}, got shape {tuple(value.shape)}{extra}")
    c_axis = value.ndim - 3
    if value.shape[c_axis] not in channels and value.shape[-1] in channels:  # channels-last: move C forward
        value = value.movedim(-1, c_axis)
    if value.shape[c_axis] not in channels:
        raise ValueError(f"{name} must have {' or '.join(map(str, channels))} channels in {_layout(batch)}, "
                         f"got shape {tuple(value.shape)}")
    if value.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(value.shape)})")
    if value.dtype == torch.uint8:
        return value.float().div_(255)
    if value.dtype == torch.bool:
        return value.float()
    if not value.is_floating_point():
        raise TypeError(f"{name} must be floats in [0, 1] or uint8 in 0-255, got dtype {value.dtype}; "
                        "convert with .float() / 255 if they are 0-255 values")
    value = value.float()
    finite(name, value)
    if check_range:
        lo, hi = float(value.min()), float(value.max())
        if lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
            what = hint or ("0-255 values? divide by 255" if lo >= 0 and hi > 1.5 else
                            "normalised images? undo the normalisation (x * std + mean) first")
            raise ValueError(f"{name} must be floats in [0, 1] (or uint8 0-255), got values in "
                             f"[{lo:.3g}, {hi:.3g}]; {what}")
        if lo < 0 or hi > 1:
            value = value.clamp(0, 1)
    return value


def _layout(batch: bool | None) -> str:
    return {True: "(N, C, H, W)", False: "(C, H, W)", None: "(C, H, W) or (N, C, H, W)"}[batch]
