import itertools

import pytest
import torch
from torch import nn

from course_utils.shapes import ShapeError, conv2d_output_shape, conv_output_size, trace


def test_formula_matches_torch_over_a_grid():
    checked = 0
    for h, k, s, p, d in itertools.product([5, 8, 13], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2]):
        try:
            expected = conv_output_size(h, k, s, p, d)
        except ShapeError:
            with pytest.raises(RuntimeError):
                nn.Conv2d(1, 1, k, s, p, d)(torch.zeros(1, 1, h, h))
            continue
        out = nn.Conv2d(1, 1, k, s, p, d)(torch.zeros(1, 1, h, h))
        assert out.shape[-1] == expected, (h, k, s, p, d)
        checked += 1
    assert checked > 150


def test_conv2d_output_shape_and_errors():
    assert conv2d_output_shape((8, 3, 32, 32), 16, 3, padding=1) == (8, 16, 32, 32)
    assert conv2d_output_shape((3, 32, 32), 16, 3, padding="same") == (16, 32, 32)
    assert conv2d_output_shape((3, 32, 30), 6, (5, 3), stride=(1, 2)) == (6, 28, 14)
    with pytest.raises(ShapeError, match="groups=4 must divide in_channels=6"):
        conv2d_output_shape((6, 8, 8), 8, 3, groups=4)
    with pytest.raises(ShapeError, match="kernel spans 5 cells"):
        conv2d_output_shape((1, 4, 4), 1, 5)
    with pytest.raises(ShapeError, match="stride=1"):
        conv2d_output_shape((1, 4, 4), 1, 3, stride=2, padding="same")
    with pytest.raises(ShapeError, match="stride must be an int >= 1"):
        conv_output_size(8, 3, stride=0)


def test_trace_lists_layers_and_params():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 13 * 13, 10))
    rows = trace(model, (2, 1, 28, 28))
    assert [r.output_shape for r in rows] == [(2, 4, 26, 26), (2, 4, 26, 26), (2, 4, 13, 13), (2, 676), (2, 10)]
    assert rows.total_params() == sum(p.numel() for p in model.parameters())
    assert "Linear(676, 10)" in str(rows)


def test_trace_names_the_failing_layer():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(64, 10))
    with pytest.raises(ShapeError, match=r"layer '2' \(Linear\(64, 10\)\) failed on an input of shape \(1, 2704\)"):
        trace(model, (1, 1, 28, 28))
