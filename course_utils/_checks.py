"""Argument checks shared by the course_utils modules: one wording for every bad-input error.

Every message names the argument, says what was expected and what came, and, where there
is one, what to do: ``size must be an int >= 1, got 2.5 (float)``. The obvious forms of an
image are converted rather than refused (uint8 0-255 -> float [0, 1], channels-last -> CHW,
a NumPy array -> a tensor); anything else is refused with such a message.

One check per kind of argument, used by every module:

* :func:`integer` (NumPy integers and 0-d integer tensors accepted, bools and floats refused),
  :func:`integers` for shapes and widths, :func:`number`, :func:`flag` (``True``/``False``:
  a truthy string such as ``'no'`` is refused), :func:`choice`, :func:`function` (a callable,
  not a class: ``nn.CrossEntropyLoss()``, not ``nn.CrossEntropyLoss``), :func:`folder` (a folder path);
* :func:`tensor`: what can be wrong with a tensor (type, rank, every dimension's size,
  emptiness, dtype, NaN/inf, a channels-last layout); the cache validates stored payloads
  with it too; :func:`images` for pictures, :func:`labels` for class labels;
* :func:`model_input`: the checked forward of the course's own models; :func:`model_batch`
  and :func:`call_model` for a model you give a helper (its failure explained, not a raw
  matmul error).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
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
        raise TypeError(f"{name} must be an int{_int_bounds(low, high)}, got {describe(value)}{_hint(hint)}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be an int{_int_bounds(low, high)}, got {value}{_hint(hint)}")
    return value


def _int_bounds(low: int | None, high: int | None) -> str:
    """`` in 1..7``, `` >= 0`` (a bound of 2**31 or more is no bound a learner needs to read)."""
    high = None if high is not None and high >= 2**31 else high
    return f" in {low}..{high}" if low is not None and high is not None else _bounds(low, high)


def integers(name: str, value: Any, length: int | Sequence[int] | None = None, low: int | None = None,
             example: str = "") -> tuple[int, ...]:
    """A tuple of ints (a tuple, list or ``torch.Size``; items as :func:`integer` takes them), each ``>= low``."""
    lengths = (length,) if isinstance(length, int) else length
    what = {None: "ints", 1: "positive ints"}.get(low, f"ints >= {low}")
    e = f", e.g. {example}" if example else ""
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list, torch.Size)) or (
            lengths is not None and len(value) not in lengths):
        size = "" if lengths is None else f"{' or '.join(map(str, lengths))} "
        raise TypeError(f"{name} must be a tuple of {size}{what}{e}, got {describe(value)}")
    out = []
    for i, v in enumerate(value):
        try:
            out.append(integer(f"{name}[{i}]", v, low))
        except (TypeError, ValueError) as err:
            raise type(err)(f"{name} must be a tuple of {what}{e}, got {describe(value)}: {name}[{i}] is "
                            f"{describe(v)}") from None
    return tuple(out)


def flag(name: str, value: Any) -> bool:
    """``True`` or ``False``: a bool, a NumPy bool, a 0-d bool tensor or the ints 0 and 1.

    Anything else is refused, above all the strings that Python would take as true (``'no'``,
    ``'False'``): ``hflip='no'`` would flip.
    """
    if isinstance(value, torch.Tensor) and value.ndim == 0 and (value.dtype == torch.bool or not (
            value.is_floating_point() or value.is_complex())):
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    hint = "; a string is always true in Python (even 'no' and 'False')" if isinstance(value, str) else ""
    raise TypeError(f"{name} must be True or False, got {describe(value)}{hint}")


def function(name: str, value: Any, example: str = "") -> Any:
    """``value`` if it can be called, and is not a class where an instance is meant.

    ``fit(loss_fn=nn.CrossEntropyLoss)`` passes the class: calling it with ``(logits, y)``
    would build a new loss module, not compute a loss.
    """
    e = f", e.g. {example}" if example else ""
    if isinstance(value, type):
        raise TypeError(f"{name} is the class {value.__name__}, not an instance of it; create one first: "
                        f"{name}={value.__name__}(...){e}")
    if not callable(value):
        raise TypeError(f"{name} must be a function (callable){e}, got {describe(value)}")
    return value


def folder(name: str, value: Any, *, exists: bool = True, hint: str = "") -> Path:
    """``value`` as the ``Path`` of a folder (a str or Path; bytes, ``""`` and files refused); with ``exists``, one that is there."""
    if not isinstance(value, (str, os.PathLike)) or not isinstance(os.fspath(value), str):
        raise TypeError(f"{name} must be a folder path (str or Path), got {describe(value)}{_hint(hint)}")
    if not str(value).strip():
        raise ValueError(f"{name} must be a folder path, got an empty string{_hint(hint)}")
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{name}={str(path)!r} is a file, not a folder{_hint(hint)}")
    if exists and not path.is_dir():
        raise FileNotFoundError(f"{name}={str(path)!r}: no such folder (check the spelling){_hint(hint)}")
    return path


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
    """``value`` (as a plain ``str``) if it is one of ``allowed`` (strings), else a message listing them."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {list(allowed)}, got {describe(value)}")
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not a known {what or name}; choose one of {list(allowed)}")
    return str(value)


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


_DTYPES = {"float": "floats", "int": "integers", "bool": "booleans", "real": "real numbers (not complex)"}


def _dtype_ok(t: torch.Tensor, kind: str | torch.dtype) -> bool:
    if isinstance(kind, torch.dtype):
        return t.dtype == kind
    return {"float": t.is_floating_point(), "bool": t.dtype == torch.bool, "real": not t.is_complex(),
            "int": not (t.is_floating_point() or t.is_complex() or t.dtype == torch.bool)}[kind]


def tensor(name: str, value: Any, ndim: int | Sequence[int] | None = None, layout: str = "", *,
           shape: Sequence[int | None] | None = None, dtype: str | torch.dtype | Sequence[str | torch.dtype] | None = None,
           finite: bool = False, empty: bool = False, channels_first: bool = False, hint: str = "") -> torch.Tensor:
    """What is wrong with this tensor, if anything: the one check of a tensor's type, shape, dtype and values.

    Checked in this order, and the message names the first problem: the type (a NumPy
    array is converted), the rank (``ndim``), every dimension of ``shape`` (``None``: any
    size), emptiness (refused unless ``empty``), the layout (``channels_first``: a
    ``(..., H, W, C)`` tensor with C = 1 or 3 where ``(..., C, H, W)`` is meant), the dtype
    (``"float"``, ``"int"``, ``"bool"``, ``"real"`` (not complex), a ``torch.dtype``, or a
    sequence of them), NaN and infinity (``finite``).

    Returns:
        The tensor (not copied, not converted apart from NumPy).
    """
    where = f" {layout}" if layout else ""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise TypeError(f"{name} must be a tensor{where} of numbers, got {describe(value)}")
        value = torch.from_numpy(np.ascontiguousarray(value))
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor{where}, got {describe(value)}{_hint(hint)}")
    ranks = (ndim,) if isinstance(ndim, int) else ndim
    if shape is not None:
        ranks = (len(shape),)
    if ranks is not None and value.ndim not in ranks:
        dims = [f"{r}D" for r in ranks]
        dims = ", ".join(dims[:-1]) + " or " + dims[-1] if len(dims) > 1 else dims[0]
        noun = "batch" if layout.startswith("(N, C, H, W)") else "tensor"
        raise ValueError(f"{name} must be a {dims} {noun}{where}, got shape {tuple(value.shape)}{_hint(hint)}")
    if shape is not None:
        for axis, (want, got) in enumerate(zip(shape, value.shape)):
            if want is not None and want != got:
                expected = "(" + ", ".join("any" if w is None else str(w) for w in shape) + ")"
                raise ValueError(f"{name} must have shape {expected}, got {tuple(value.shape)}: dimension {axis} is "
                                 f"{got}, not {want}{_hint(hint)}")
    if value.numel() == 0 and not empty:
        raise ValueError(f"{name} is empty (shape {tuple(value.shape)}); give it at least one element")
    if channels_first and value.ndim >= 3 and looks_channels_last(value):
        perm = ", ".join(map(str, [*range(value.ndim - 3), value.ndim - 1, value.ndim - 3, value.ndim - 2]))
        raise ValueError(f"{name} looks channels-last (..., H, W, C) with shape {tuple(value.shape)}; the course "
                         f"uses (..., C, H, W): pass {name}.permute({perm})")
    if dtype is not None:
        kinds = [dtype] if isinstance(dtype, (str, torch.dtype)) else list(dtype)
        if not any(_dtype_ok(value, k) for k in kinds):
            want = " or ".join(_DTYPES.get(k, str(k)) if isinstance(k, str) else str(k).replace("torch.", "") for k in kinds)
            raise TypeError(f"{name} must hold {want}, got dtype {str(value.dtype).replace('torch.', '')}{_hint(hint)}")
    if finite:
        _finite(name, value, hint)
    return value


def looks_channels_last(t: torch.Tensor) -> bool:
    """``(..., H, W, C)`` with C = 1 or 3 where ``(..., C, H, W)`` is meant: the last axis is 1 or 3 wide and
    the channel axis is not (e.g. a photo (H, W, 3) from PIL, a batch (N, 28, 28, 1) from Keras)."""
    return t.ndim >= 3 and t.shape[-1] in (1, 3) and t.shape[-3] not in (1, 3)


def finite(name: str, value: torch.Tensor, hint: str = "") -> torch.Tensor:
    """``value`` if it holds no NaN or infinity."""
    if (value.is_floating_point() or value.is_complex()) and not torch.isfinite(value).all():
        raise ValueError(f"{name} contains NaN or infinite values{_hint(hint)}")
    return value


_finite = finite  # for tensor(), whose argument of the same name hides this function


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


def _param_dtype(model: nn.Module) -> torch.dtype:
    """The floating dtype of the model's first floating parameter or buffer (float32 for a model without any)."""
    for t in (*model.parameters(), *model.buffers()):
        if t.is_floating_point():
            return t.dtype
    return torch.float32


def model_input(name: str, x: Any, *, channels: int, size: tuple[int, int] | None = None, who: str = "the model",
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The checked forward of the course's models: ``x`` must be a float batch ``(N, channels, H, W)``.

    What a PyTorch layer would report as a matmul or conv error deep inside is said here, before
    any layer runs: a single image without its batch axis, a channels-last batch, the wrong
    channel count or image size (``size``, where the model's flatten layer fixes it), uint8
    pixels, a dtype other than the weights'. Values are not looked at (a forward pass must stay cheap).
    """
    if not isinstance(x, torch.Tensor):
        hint = "; a NumPy array? convert it: torch.from_numpy(x).float()" if isinstance(x, np.ndarray) else ""
        raise TypeError(f"{name} must be a torch.Tensor batch (N, {channels}, H, W) for {who}, got {describe(x)}{hint}")
    if x.ndim == 3 and x.shape[0] == channels:
        raise ValueError(f"{name} is a single image {tuple(x.shape)}; {who} takes a batch (N, {channels}, H, W): "
                         f"add a batch dimension with {name}[None]")
    if x.ndim != 4:
        raise ValueError(f"{name} must be a batch (N, {channels}, H, W) for {who}, got shape {tuple(x.shape)}")
    if x.shape[1] != channels:
        hint = f"; it looks channels-last (N, H, W, C): pass {name}.permute(0, 3, 1, 2)" if x.shape[-1] == channels else ""
        raise ValueError(f"{name} has {x.shape[1]} channels (shape {tuple(x.shape)}) but {who} takes a batch "
                         f"(N, {channels}, H, W){hint}")
    if 0 in x.shape[2:]:
        raise ValueError(f"{name} has an empty image size {tuple(x.shape[2:])}")
    if size is not None and tuple(x.shape[2:]) != tuple(size):
        raise ValueError(f"{name} holds {x.shape[2]}x{x.shape[3]} images but {who} was built for "
                         f"{size[0]}x{size[1]} (image_size={size[0]}: its flatten layer needs that size); "
                         f"resize the images or build the model with image_size={x.shape[2]}")
    if x.dtype == torch.uint8:
        raise TypeError(f"{name} holds uint8 pixels (0-255); {who} takes floats: pass {name}.float() / 255")
    if x.dtype != dtype:
        kind = "floats" if x.is_floating_point() else "numbers"
        raise TypeError(f"{name} holds {kind} of dtype {str(x.dtype).replace('torch.', '')} but the weights of {who} "
                        f"are {str(dtype).replace('torch.', '')}: pass {name}.to({dtype})")
    return x


def model_batch(name: str, x: Any, model: nn.Module, *, ranks: Sequence[int] | None = (4,), hint: str = "") -> torch.Tensor:
    """A batch for a model someone else wrote, before a helper runs it (``predict``, ``predict_tta``, ``top_k``...).

    A NumPy array is converted and floats are cast to the model's dtype (float64 NumPy
    data just works); refused: integer, uint8 (0-255 pixels: the scaling is yours to choose),
    bool and complex dtypes, a channels-last layout (images only: ``ranks`` without 3 or 4
    means any input ``(N, ...)``), empty images, NaN and infinity.
    """
    images = ranks is not None and (3 in ranks or 4 in ranks)
    x = tensor(name, x, ranks, "(N, C, H, W)" if images else "(N, ...)", empty=True, channels_first=images, hint=hint)
    if x.ndim == 0:
        raise ValueError(f"{name} must have a batch dimension (N, ...), got a single number {describe(x)}")
    if x.dtype == torch.uint8:
        raise TypeError(f"{name} holds uint8 pixels (0-255); a model takes floats: pass {name}.float() / 255 "
                        "(and the normalisation the model was trained with)")
    tensor(name, x, dtype="float", hint=hint, empty=True)
    if x.ndim >= 3 and 0 in x.shape[1:]:
        raise ValueError(f"{name} has an empty image (shape {tuple(x.shape)})")
    finite(name, x, hint)
    dtype = _param_dtype(model)
    return x if x.dtype == dtype else x.to(dtype)


def call_model(model: Any, x: torch.Tensor, name: str = "x", error: type[Exception] = ValueError,
               where: str = "", owner: nn.Module | None = None) -> Any:
    """``model(x)``, with a failure inside the model explained (which argument, what shape, what to check).

    ``error``: the exception class raised (``train.TrainingError`` for ``fit``); ``owner``: the
    module whose first layer the hint describes, when ``model`` is a function around it.
    """
    try:
        return model(x)
    except (RuntimeError, ValueError, TypeError, IndexError) as err:
        if isinstance(err, torch.OutOfMemoryError):
            raise
        owner = owner if owner is not None else model if isinstance(model, nn.Module) else None
        layers = owner.modules() if owner is not None else ()
        first = next((m for m in layers if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))), None)
        if x.ndim == 3:
            hint = f"a single image (C, H, W)? add a batch dimension with {name}[None]"
        elif isinstance(first, (nn.Conv1d, nn.Conv2d)) and x.ndim >= 2 and x.shape[1] != first.in_channels:
            hint = (f"its first layer {type(first).__name__}({first.in_channels}, ...) takes {first.in_channels} "
                    f"channels, but {name} {'have' if name.endswith('s') else 'has'} {x.shape[1]}")
        else:
            hint = (f"check the model's first layer against {name} (channels, size), e.g. with "
                    f"shapes.trace(model, {(1, *x.shape[1:])})")
        raise error(f"the model failed on {name} of shape {tuple(x.shape)}{where}: {str(err).splitlines()[0]}; "
                    f"{hint}") from err


def _layout(batch: bool | None) -> str:
    return {True: "(N, C, H, W)", False: "(C, H, W)", None: "(C, H, W) or (N, C, H, W)"}[batch]
