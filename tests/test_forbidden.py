"""course_utils.exercises.forbidden: "do not call X" enforced while an exercise's checks run."""

from __future__ import annotations

import sys
import types

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.functional import conv2d as bound_early

from course_utils.exercises import ForbiddenCall, forbidden

X, W = torch.randn(1, 2, 6, 6), torch.randn(3, 2, 3, 3)


@pytest.mark.parametrize("call", [
    lambda: F.conv2d(X, W),
    lambda: bound_early(X, W),  # a name bound before the block: still refused (the ATen operator is)
    lambda: torch.conv2d(X, W),
    lambda: nn.Conv2d(2, 3, 3)(X),
    lambda: F.conv_transpose2d(X, W.transpose(0, 1)),
], ids=["F.conv2d", "bound early", "torch.conv2d", "nn.Conv2d", "conv_transpose2d"])
def test_every_way_to_a_convolution_is_refused(call):
    with forbidden("aten.convolution", why="use unfold and a matrix multiply"):
        with pytest.raises(ForbiddenCall, match="must not use aten.convolution.*use unfold"):
            call()
    assert call().shape[1] == 3  # allowed again after the block


def test_what_is_not_forbidden_runs():
    with forbidden("aten.convolution"):
        cols = F.unfold(X, 3)  # im2col: no convolution
        out = (W.reshape(3, -1) @ cols).reshape(1, 3, 4, 4)
    assert torch.allclose(out, F.conv2d(X, W), atol=1e-5)


def test_a_function_by_name_is_replaced_for_the_block_only():
    module = types.ModuleType("fake_notebook")
    module.iou_per_class = lambda: "the notebook's answer"
    sys.modules["fake_notebook"] = module
    try:
        def learner():
            return module.iou_per_class()
        with forbidden("fake_notebook.iou_per_class", why="write it yourself"):
            with pytest.raises(ForbiddenCall, match="must not use iou_per_class: write it yourself"):
                learner()
        assert learner() == "the notebook's answer"
        with pytest.raises(ForbiddenCall), forbidden("fake_notebook.iou_per_class"):  # restored after an error too
            learner()
        assert learner() == "the notebook's answer"
    finally:
        del sys.modules["fake_notebook"]


@pytest.mark.parametrize("targets, error, match", [
    ((), ValueError, "at least one target"),
    (("convolution",), ValueError, "expected 'aten.<operator>' or 'module.function'"),
    ((3,), TypeError, "targets are strings"),
    (("no_such_module_xyz.f",), ValueError, "no module 'no_such_module_xyz'"),
    (("torch.no_such_function",), ValueError, "torch has no 'no_such_function'"),
])
def test_bad_targets_are_refused_clearly(targets, error, match):
    with pytest.raises(error, match=match):
        with forbidden(*targets):
            pass
