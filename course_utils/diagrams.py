"""Network diagrams drawn from the model itself, beside its layer-by-layer shape table.

A shape table (:func:`course_utils.shapes.trace`) lists layers in the order they run; it cannot
show a branch. A diagram can: the skip of a residual block, the parallel paths of an Inception
module. :func:`diagram` draws one with torchview (the model runs once on the ``meta`` device: no
memory, no weights) and Graphviz's ``dot`` (a system program), and returns an object that a
notebook shows as the table and the picture side by side. Without ``dot`` it shows the table and
a line saying how to install Graphviz, and the notebook goes on.
"""

from __future__ import annotations

import copy
import html
import shutil
from dataclasses import dataclass

from torch import nn

from . import _checks
from .shapes import LayerRow, Trace, _describe, _shape, trace

INSTALL = ("the diagram needs Graphviz's dot program: sudo apt-get install graphviz (macOS: brew install graphviz; "
           "conda: conda install graphviz), then run this cell again")


@dataclass
class Diagram:
    """A model's shape table and, when Graphviz is installed, its diagram as SVG."""

    table: str  # the shape table (text)
    svg: str | None  # the drawing, or None when it could not be drawn
    note: str = ""  # why there is no drawing

    def _repr_html_(self) -> str:
        right = self.svg if self.svg is not None else f"<p><em>{html.escape(self.note)}</em></p>"
        return ('<table style="border:none"><tr>'
                f'<td style="vertical-align:top;border:none"><pre>{html.escape(self.table)}</pre></td>'
                f'<td style="vertical-align:top;border:none">{right}</td></tr></table>')

    def __str__(self) -> str:
        return self.table + ("" if self.svg is not None else f"\n({self.note})")

    def __repr__(self) -> str:
        return str(self)


def diagram(model: nn.Module, input_shape: tuple[int, ...], depth: int = 2) -> Diagram:
    """The shape table of ``model`` and its torchview diagram, side by side in a notebook.

    Args:
        model: any ``nn.Module`` (not changed; the diagram is drawn from a run on the meta device).
        input_shape: e.g. ``(1, 16, 28, 28)``.
        depth: how many levels of nested modules the diagram and the table open (1: the model's
            children only, each shown as one box and one row).

    Returns:
        A :class:`Diagram`; ``svg`` is None (and ``note`` says how to install Graphviz) when
        Graphviz's ``dot`` is not installed.
    """
    _checks.module("model", model)
    input_shape = _shape("input_shape", input_shape, (2, 3, 4, 5), "(N, C, ...)")
    depth = _checks.integer("depth", depth, 1)
    table = str(_grouped(model, trace(model, input_shape), depth))
    if shutil.which("dot") is None:
        return Diagram(table, None, INSTALL)
    from torchview import draw_graph

    # torchview moves the model it draws to the meta device (its weights are gone): draw a copy
    graph = draw_graph(copy.deepcopy(model), input_size=input_shape, device="meta", depth=depth,
                       graph_name=type(model).__name__)
    svg = graph.visual_graph.pipe(format="svg").decode("utf-8")
    return Diagram(table, svg[svg.find("<svg"):])  # drop the XML prologue: the SVG goes inside HTML


def _grouped(model: nn.Module, rows: Trace, depth: int) -> Trace:
    """The shape table at the diagram's depth: the leaf rows of one module (e.g. a whole block) become one row."""
    grouped = Trace()
    for row in rows:
        prefix = ".".join(row.name.split(".")[:depth])
        if grouped and grouped[-1].name == prefix:  # the group's output is its last layer's
            grouped[-1] = LayerRow(prefix, grouped[-1].layer, row.output_shape, grouped[-1].params)
        else:
            module = model.get_submodule(prefix)
            grouped.append(LayerRow(prefix, _describe(module), row.output_shape, sum(p.numel() for p in module.parameters())))
    return grouped
