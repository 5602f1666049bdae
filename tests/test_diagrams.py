"""course_utils.diagrams: the shape table beside a torchview drawing; a clear line without Graphviz."""

import shutil

import pytest
import torch
from torch import nn

from course_utils import diagrams, models


def test_a_residual_block_is_drawn_with_its_skip_and_stays_usable():
    pytest.importorskip("torchview")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    block = models.ResidualBlock(4, 8, stride=2)
    before = [p.clone() for p in block.parameters()]
    shown = diagrams.diagram(block, (1, 4, 12, 12))
    assert shown.svg.startswith("<svg") and shown.svg.count("Conv2d") == 3  # two on the body, one on the skip
    assert "add" in shown.svg and "(1, 8, 6, 6)" in shown.table
    html = shown._repr_html_()
    assert "<pre>" in html and "<svg" in html
    assert all(p.device.type == "cpu" and torch.equal(p, q) for p, q in zip(block.parameters(), before))


def test_without_graphviz_the_table_and_how_to_install(monkeypatch):
    monkeypatch.setattr(diagrams.shutil, "which", lambda name: None)
    shown = diagrams.diagram(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), (1, 1, 8, 8))
    assert shown.svg is None and "apt-get install graphviz" in shown.note
    assert "apt-get install graphviz" in shown._repr_html_() and "(1, 2, 6, 6)" in str(shown)


@pytest.mark.parametrize("args, error, match", [
    (("not a model", (1, 1, 8, 8)), TypeError, "model must be an nn.Module"),
    ((nn.Conv2d(1, 2, 3), "1, 1, 8, 8"), (TypeError, ValueError), "input_shape"),
    ((nn.Conv2d(1, 2, 3), (1, 1, 8, 8), 0), ValueError, "depth must be an int >= 1"),
])
def test_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        diagrams.diagram(*args)


def test_the_table_follows_the_diagrams_depth():
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), models.ResidualBlock(4, 8, stride=2), nn.Flatten())
    one = diagrams.diagram(net, (1, 1, 8, 8), depth=1).table.splitlines()
    assert [line.split()[0] for line in one[1:-1]] == ["0", "1", "2"]  # one row per child
    assert "ResidualBlock" in one[2] and "(1, 8, 4, 4)" in one[2]
    assert one[-1].split()[-1] == f"{models.count_params(net):,}"
    deep = diagrams.diagram(net, (1, 1, 8, 8), depth=3).table
    assert "1.body.0" in deep and "1.shortcut.0" in deep
