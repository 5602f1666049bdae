"""Rules an exercise can enforce while its checks run: "do not call X" as code, not as a sentence.

An exercise that says "write it without ``F.conv2d``" checks exactly that::

    from course_utils.exercises import forbidden

    with forbidden("aten.convolution", why="write the convolution with unfold and a matrix multiply"):
        out = conv2d_im2col(x, w, b)       # any convolution inside raises ForbiddenCall

``"aten.<op>"`` forbids an ATen operator however it is reached (``F.conv2d``,
``nn.Conv2d``, ``torch.conv2d`` all run ``aten.convolution``); ``"module.name"`` forbids a
Python function by name (``"__main__.iou_per_class"``: a function a notebook defined). The
visible self-checks use it, and the grader's probes load a fresh copy of this file, so what a
learner sees enforced is what grading enforces.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["ForbiddenCall", "forbidden"]

_ATEN = re.compile(r"^aten\.[a-z_][a-z0-9_]*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*\.[A-Za-z_][A-Za-z0-9_]*$")


class ForbiddenCall(RuntimeError):
    """An exercise's answer called something the exercise asks it not to use."""


@contextlib.contextmanager
def forbidden(*targets: str, why: str = "") -> Iterator[None]:
    """Make every call to ``targets`` raise :class:`ForbiddenCall` while the block runs.

    Args:
        targets: ``"aten.<operator>"`` (e.g. ``"aten.convolution"``: any call that reaches that
            ATen operator) or ``"module.function"`` (e.g. ``"__main__.iou_per_class"``,
            ``"torch.nn.functional.conv2d"``: that name, replaced for the block).
        why: what the exercise asks instead, added to the error message.

    Raises:
        ValueError: a target that is neither form, a ``module.function`` that does not exist, or an
            ATen operator that does not exist or that PyTorch breaks up before it runs (``aten.conv2d``:
            forbid ``aten.convolution``).
    """
    if not targets:
        raise ValueError("forbidden() needs at least one target, e.g. 'aten.convolution'")
    ops, names = [], []
    for target in targets:
        if not isinstance(target, str):
            raise TypeError(f"forbidden() targets are strings, got {type(target).__name__}")
        if _ATEN.match(target):
            ops.append(_aten_operator(target))
        elif _NAME.match(target):
            names.append(target)
        else:
            raise ValueError(f"target {target!r}: expected 'aten.<operator>' or 'module.function' "
                             "(e.g. 'aten.convolution', 'torch.nn.functional.conv2d')")
    if not isinstance(why, str):
        raise TypeError(f"why must be a sentence (str), got {type(why).__name__}")
    with contextlib.ExitStack() as stack:
        for name in names:
            stack.enter_context(_replaced(name, why))
        if ops:
            stack.enter_context(_operators(set(ops), why))
        yield


def _aten_operator(target: str) -> str:
    """The operator name of ``"aten.<op>"``, if a call can reach it: one PyTorch breaks up first never would."""
    import torch

    name = target.split(".", 1)[1]
    if not hasattr(torch.ops.aten, name):
        raise ValueError(f"target {target!r}: PyTorch has no ATen operator {name!r}; check the spelling "
                         "(e.g. 'aten.convolution', 'aten.mm')")
    if torch._C._dispatch_has_kernel_for_dispatch_key(f"aten::{name}", "CompositeImplicitAutograd"):
        raise ValueError(f"target {target!r} would never be refused: PyTorch breaks aten.{name} into other operators "
                         "before the check sees it; forbid the operator it runs (for aten.conv2d: aten.convolution) or "
                         "the Python function by name (e.g. 'torch.nn.functional.conv2d')")
    return name


def _message(what: str, why: str) -> str:
    return f"this exercise's answer must not use {what}" + (f": {why}" if why else "")


@contextlib.contextmanager
def _replaced(path: str, why: str) -> Iterator[None]:
    module_name, attribute = path.rsplit(".", 1)
    module = sys.modules.get(module_name)
    if module is None:
        try:
            module = __import__(module_name, fromlist=[attribute])
        except ImportError:
            raise ValueError(f"cannot forbid target {path!r}: no module {module_name!r}") from None
    if not hasattr(module, attribute):
        raise ValueError(f"cannot forbid target {path!r}: {module_name} has no {attribute!r}")
    original = getattr(module, attribute)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ForbiddenCall(_message(attribute, why))

    setattr(module, attribute, refuse)
    try:
        yield
    finally:
        setattr(module, attribute, original)


@contextlib.contextmanager
def _operators(ops: set[str], why: str) -> Iterator[None]:
    from torch.utils._python_dispatch import TorchDispatchMode

    class Refuse(TorchDispatchMode):
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            if func.overloadpacket.__name__ in ops:
                raise ForbiddenCall(_message(f"aten.{func.overloadpacket.__name__} (any PyTorch call that runs it)",
                                             why))
            return func(*args, **(kwargs or {}))

    with Refuse():
        yield
