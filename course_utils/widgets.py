"""Interactive tools for the notebooks, each with a static matplotlib twin.

* :func:`draw_convolution`: a conv_arithmetic-style picture of one 2D convolution: the
  padded input, the output, and which input cells one chosen output cell reads.
* :func:`draw_convolution_gallery`: several settings side by side (what a rendered page
  or nbval sees instead of the widget).
* :func:`conv_visualizer`: sliders for input size, kernel, stride, padding, dilation and
  the output cell, redrawing :func:`draw_convolution` live. Impossible settings are shown
  as a message (as in CNN Explainer), not raised.
* :func:`static_view_box`: an ipywidgets box whose display also carries a static picture and
  a sentence, so that a page without a live widget frontend shows a figure, never the
  widget's raw repr (the course's interactive tools all use it).

ipywidgets is imported only when :func:`conv_visualizer` or :func:`static_view_box` is called.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.patches import ConnectionPatch, Rectangle

from . import _checks
from .shapes import ShapeError, conv_input_cells, conv_output_size

MAX_CELLS = 32  # cells per side of the drawn (padded) input: beyond that a drawing takes seconds and shows nothing
MAX_PANELS = 16  # panel pairs in one gallery

_INPUT, _PAD, _READ, _UNUSED = "#a6cee3", "#ffffff", "#1f78b4", "#d9d9d9"
_OUTPUT, _CHOSEN = "#b2df8a", "#33a02c"


def _cells_read(out_size: int, kernel_size: int, stride: int, padding: int, dilation: int) -> set[int]:
    """Input positions (1D) read by at least one output position."""
    return {c for i in range(out_size) for c in conv_input_cells(i, kernel_size, stride, padding, dilation)}


def _drawable(name: str, value: Any, low: int) -> int:
    """An int in ``low..MAX_CELLS`` (NumPy ints accepted), else a :class:`ShapeError` naming ``name``."""
    try:
        value = _checks.integer(name, value, low)
    except (TypeError, ValueError) as err:
        raise ShapeError(str(err)) from None
    if value > MAX_CELLS:
        raise ShapeError(f"{name}={value} is more than a drawing can show (at most {MAX_CELLS} cells per side); "
                         "conv_output_size computes any size")
    return value


def draw_convolution(
    size: int = 5,
    kernel_size: int = 3,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    output_cell: tuple[int, int] = (0, 0),
    axes: Sequence[Any] | None = None,
):
    """Draw a square 2D convolution: which input cells feed one output cell.

    Left: the input (light blue), its padding (white, dashed), the cells that output cell
    ``output_cell`` reads (dark blue, labelled with the kernel weight ``w[m, n]`` they are
    multiplied by) and the input cells *no* output reads (grey: a stride larger than the
    kernel's reach skips them). Right: the output (green), the chosen cell darker.
    The title gives the output-size formula with the numbers filled in.

    Args:
        size: input height = width ``H`` >= 1.
        kernel_size: ``K``; stride: ``S``; padding: ``P``; dilation: ``D`` (as in ``nn.Conv2d``).
        output_cell: ``(row, col)`` of the output cell to explain; clipped to the output.
        axes: two matplotlib axes ``(input, output)`` to draw on; default a new figure.

    Returns:
        The matplotlib figure. An impossible setting (the kernel does not fit) draws the
        input and the error message instead of an output.

    Raises:
        ShapeError: an argument is out of range (e.g. ``stride=0``), as ``conv_output_size``.
    """
    if not (isinstance(output_cell, (tuple, list)) and len(output_cell) == 2):
        raise TypeError(f"output_cell must be a (row, col) pair, got {output_cell!r}")
    output_cell = tuple(_checks.integer("output_cell", v, hint="a (row, col) pair of ints") for v in output_cell)
    size, kernel_size, stride, padding, dilation = (
        _drawable(name, value, low) for name, value, low in (("size", size, 1), ("kernel_size", kernel_size, 1),
                                                             ("stride", stride, 1), ("padding", padding, 0),
                                                             ("dilation", dilation, 1)))
    if size + 2 * padding > MAX_CELLS:
        raise ShapeError(f"size + 2*padding = {size + 2 * padding} cells per side is too many to draw (at most "
                         f"{MAX_CELLS}); use a smaller size or padding (conv_output_size computes any size)")
    if axes is not None and (not isinstance(axes, Sequence) and not hasattr(axes, "__len__") or len(axes) != 2
                             or not all(hasattr(ax, "add_patch") for ax in axes)):
        raise TypeError(f"axes must be two matplotlib axes (input, output), got {_checks.describe(axes)}")
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 4.6), gridspec_kw={"width_ratios": [1.25, 1]})
    ax_in, ax_out = axes
    fig = ax_in.figure
    try:
        out = conv_output_size(size, kernel_size, stride, padding, dilation)  # raises ShapeError when impossible
        error = None
    except ShapeError as err:
        if "must be an int" in str(err):
            raise
        out, error = 0, str(err)

    n = size + 2 * padding  # padded input, drawn in coordinates -padding .. size+padding-1
    row, col = (min(max(int(output_cell[0]), 0), max(out - 1, 0)), min(max(int(output_cell[1]), 0), max(out - 1, 0)))
    rows_read = conv_input_cells(row, kernel_size, stride, padding, dilation) if out else []
    cols_read = conv_input_cells(col, kernel_size, stride, padding, dilation) if out else []
    used = _cells_read(out, kernel_size, stride, padding, dilation)
    for r in range(-padding, size + padding):
        for c in range(-padding, size + padding):
            inside = 0 <= r < size and 0 <= c < size
            colour = _INPUT if inside else _PAD
            if inside and out and (r not in used or c not in used):
                colour = _UNUSED
            ax_in.add_patch(Rectangle((c, r), 1, 1, facecolor=colour, edgecolor="0.4",
                                      linestyle="-" if inside else "--", lw=0.8))
    for m, r in enumerate(rows_read):
        for k, c in enumerate(cols_read):
            ax_in.add_patch(Rectangle((c, r), 1, 1, facecolor=_READ, edgecolor="black", lw=1.2, alpha=0.85))
            if kernel_size <= 5 and n <= 10:  # larger grids: cells too small for labels
                ax_in.text(c + 0.5, r + 0.5, f"w{m}{k}", ha="center", va="center", fontsize=7, color="white")
    ax_in.set(xlim=(-padding - 0.2, size + padding + 0.2), ylim=(size + padding + 0.2, -padding - 0.2),
              title=f"input {size}x{size}, padding {padding}" + (" (dashed)" if padding else ""),
              xlabel="input column", ylabel="input row")
    ax_in.set_aspect("equal")

    ax_out.set_aspect("equal")
    if error:
        ax_out.axis("off")
        ax_out.text(0.5, 0.5, "impossible setting:\n" + _wrap(error, 40), ha="center", va="center",
                    color="firebrick", fontsize=9, transform=ax_out.transAxes)
        ax_in.set_title("input (no output: the kernel does not fit)")
    else:
        for r in range(out):
            for c in range(out):
                chosen = (r, c) == (row, col)
                ax_out.add_patch(Rectangle((c, r), 1, 1, facecolor=_CHOSEN if chosen else _OUTPUT,
                                           edgecolor="0.3", lw=1.2 if chosen else 0.8))
        ax_out.set(xlim=(-0.2, out + 0.2), ylim=(out + 0.2, -0.2), title=f"output {out}x{out}, cell ({row}, {col})",
                   xlabel="output column", ylabel="output row")
        edge = (cols_read[-1] + 1, (rows_read[0] + rows_read[-1]) / 2 + 0.5)  # right edge of the window
        fig.add_artist(ConnectionPatch(xyA=(col, row + 0.5), coordsA=ax_out.transData, xyB=edge,
                                       coordsB=ax_in.transData, arrowstyle="->", color=_CHOSEN, lw=1.5))
    for ax, first, last in ((ax_in, -padding, size + padding), (ax_out, 0, out)):
        step = 1 if last - first <= 12 else 2
        ticks = range(first, last, step)
        ax.set_xticks([t + 0.5 for t in ticks], [str(t) for t in ticks])
        ax.set_yticks([t + 0.5 for t in ticks], [str(t) for t in ticks])
        ax.tick_params(labelsize=7, length=0)
    span = dilation * (kernel_size - 1) + 1
    formula = (f"H_out = floor((H + 2P - D(K-1) - 1)/S + 1) = floor(({size} + {2 * padding} - {span - 1} - 1)/{stride} + 1)"
               f" = {out if not error else 'less than 1'}")
    fig.suptitle(f"K={kernel_size}, S={stride}, P={padding}, D={dilation}:  {formula}", fontsize=9)
    return fig


def figure_png(figure) -> bytes:
    """PNG bytes of a matplotlib figure (closed afterwards, so it is not shown a second time)."""
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        hint = "; an Axes? pass its figure, ax.figure" if hasattr(figure, "figure") else ""
        raise TypeError(f"figure must be a matplotlib Figure (e.g. fig of fig, ax = plt.subplots()), "
                        f"got {_checks.describe(figure)}{hint}")
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=72, bbox_inches="tight")
    plt.close(figure)
    return buf.getvalue()


@functools.cache
def _static_view_class(kind: str):
    import ipywidgets as W

    class StaticViewBox(getattr(W, kind)):
        """An ipywidgets box that also offers a static PNG and a description when displayed.

        JupyterLab with a kernel, or with the widget state saved in the notebook, shows the
        live box; a frontend that cannot render widgets (an untrusted notebook, GitHub, a page
        or slideshow rendered without widget state) shows the PNG, a text-only one the
        description, instead of ``VBox(children=(...`` text.
        """

        def __init__(self, children, static: Callable[[], Any], description: str, **kwargs):
            super().__init__(children, **kwargs)
            self._static, self._description = static, description

        def _repr_mimebundle_(self, **kwargs):
            bundle = super()._repr_mimebundle_(**kwargs) or {}
            picture = self._static()
            png = bytes(picture) if isinstance(picture, (bytes, bytearray, memoryview)) else figure_png(picture)
            bundle["image/png"] = png
            bundle["text/plain"] = self._description
            return bundle

    StaticViewBox.__name__ = StaticViewBox.__qualname__ = f"StaticView{kind}"
    return StaticViewBox


def static_view_box(children: Sequence[Any], static: Callable[[], Any], description: str, kind: str = "VBox"):
    """An ipywidgets ``VBox``/``HBox`` whose display also carries a static view of its current state.

    Args:
        children: the widgets in the box.
        static: called at display time; returns a matplotlib figure (closed after use) or PNG
            bytes: the picture a frontend without live widgets shows.
        description: one sentence shown by text-only frontends instead of the widget's repr.
        kind: ``"VBox"`` or ``"HBox"``.

    Returns:
        The box (an ipywidgets box, usable like any other).
    """
    import ipywidgets as W

    kind = _checks.choice("kind", kind, ("VBox", "HBox"))
    if not callable(static):
        raise TypeError(f"static must be a function returning a figure or PNG bytes, got {type(static).__name__}")
    if not isinstance(children, (list, tuple)) or not all(isinstance(c, W.Widget) for c in children):
        raise TypeError(f"children must be a list of ipywidgets widgets, got {_checks.describe(children)}")
    if not isinstance(description, str) or not description.strip():
        raise TypeError(f"description must be a sentence (a non-empty str) for text-only frontends, "
                        f"got {_checks.describe(description)}")
    return _static_view_class(kind)(list(children), static, description)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def draw_convolution_gallery(settings: Sequence[dict[str, Any]], ncols: int = 2, titles: Sequence[str] | None = None):
    """Draw several convolution settings, each as an (input, output) pair of panels.

    Args:
        settings: one dict of :func:`draw_convolution` keyword arguments per panel pair,
            e.g. ``[{"stride": 2}, {"padding": 1}]``.
        ncols: panel pairs per row.
        titles: optional caption for each pair (replaces the formula line).

    Returns:
        The matplotlib figure.
    """
    if isinstance(settings, dict) or not settings or not all(isinstance(s, dict) for s in settings):
        raise TypeError(f"settings must be a non-empty list of dicts of draw_convolution arguments, got {settings!r}")
    if len(settings) > MAX_PANELS:
        raise ValueError(f"settings has {len(settings)} entries, too many for one figure (at most {MAX_PANELS})")
    known = {"size", "kernel_size", "stride", "padding", "dilation", "output_cell"}
    for i, kwargs in enumerate(settings):
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise ValueError(f"settings[{i}] has unknown arguments {unknown}; known: {sorted(known)}")
    ncols = _checks.integer("ncols", ncols, 1)
    if titles is not None and (isinstance(titles, (str, bytes)) or not isinstance(titles, Sequence)):
        raise TypeError(f"titles must be a list of strings, one per setting, got {_checks.describe(titles)}")
    if titles is not None and len(titles) != len(settings):
        raise ValueError(f"got {len(settings)} settings but {len(titles)} titles")
    nrows = -(-len(settings) // ncols)
    fig, axes = plt.subplots(nrows, 2 * ncols, figsize=(5.2 * ncols, 3.0 * nrows), squeeze=False,
                             gridspec_kw={"width_ratios": [1.25, 1] * ncols})
    for i, kwargs in enumerate(settings):
        pair = axes[i // ncols, 2 * (i % ncols): 2 * (i % ncols) + 2]
        try:
            draw_convolution(**kwargs, axes=pair)
        except (TypeError, ValueError) as err:
            plt.close(fig)
            raise type(err)(f"settings[{i}]: {err}") from None
        s = {"size": 5, "kernel_size": 3, "stride": 1, "padding": 0, "dilation": 1, **kwargs}
        caption = titles[i] if titles else ""
        pair[0].set_title(f"{caption}\nH={s['size']} K={s['kernel_size']} S={s['stride']} P={s['padding']} "
                          f"D={s['dilation']}", fontsize=9)
        pair[1].set_title(pair[1].get_title(), fontsize=9)
        for ax in pair:
            ax.set_xlabel("column", fontsize=8)
            ax.set_ylabel("row", fontsize=8)
    for ax in axes.flat[2 * len(settings):]:
        ax.axis("off")
    fig.suptitle("which input cells (dark blue) feed the chosen output cell (dark green); grey: read by no output")
    fig.tight_layout()
    return fig


class ConvVisualizer:
    """Sliders plus a live :func:`draw_convolution` picture; display it in a notebook cell.

    Attributes:
        sliders: dict of the ``ipywidgets.IntSlider`` s by argument name.
        box: the ``ipywidgets.VBox`` that is displayed.
        figure: the last figure drawn; error: the last impossible-setting message or None.
    """

    def __init__(self, size: int = 5, kernel_size: int = 3, stride: int = 1, padding: int = 0, dilation: int = 1):
        import ipywidgets as W

        self._W = W
        style = {"description_width": "110px"}
        spec = {"size": ("input size H", size, 1, 12), "kernel_size": ("kernel K", kernel_size, 1, 7),
                "stride": ("stride S", stride, 1, 4), "padding": ("padding P", padding, 0, 4),
                "dilation": ("dilation D", dilation, 1, 4), "row": ("output row", 0, 0, 0),
                "col": ("output column", 0, 0, 0)}
        for name, (label, value, low, high) in spec.items():
            if name not in ("row", "col"):
                spec[name] = (label, _checks.integer(name, value, low, high, hint="the range of the visualizer's slider"),
                              low, high)
        self.sliders = {name: W.IntSlider(value=value, min=low, max=high, description=label, style=style,
                                          continuous_update=False)
                        for name, (label, value, low, high) in spec.items()}
        self.output = W.Output()
        self.message = W.HTML()
        self.figure = None
        self.error: str | None = None
        self._busy = False  # redraw() changes the output-cell sliders, which would call redraw() again
        controls = W.HBox([W.VBox([self.sliders[k] for k in ("size", "kernel_size", "stride", "padding")]),
                           W.VBox([self.sliders[k] for k in ("dilation", "row", "col")])],
                          layout=W.Layout(flex_flow="row wrap"))  # columns wrap on a narrow screen, never squeeze
        self.box = static_view_box(  # the message has a row of its own: a long one wraps instead of widening a column
            [controls, self.message, self.output], lambda: draw_convolution(**self.settings()),
            "Convolution visualizer (sliders for H, K, S, P, D and the output cell; interactive with a running "
            "kernel). The picture shows its current setting.")
        for s in self.sliders.values():
            s.observe(self._on_change, names="value")
        self.redraw()

    def settings(self) -> dict[str, int]:
        """The current slider values as ``draw_convolution`` arguments."""
        v = {k: s.value for k, s in self.sliders.items()}
        return {"size": v["size"], "kernel_size": v["kernel_size"], "stride": v["stride"], "padding": v["padding"],
                "dilation": v["dilation"], "output_cell": (v["row"], v["col"])}

    def _on_change(self, change) -> None:
        if not self._busy:
            self.redraw()

    def redraw(self) -> None:
        """Recompute the output size, limit the output-cell sliders to it, and redraw."""
        self._busy = True
        try:
            self._redraw()
        finally:
            self._busy = False

    def _redraw(self) -> None:
        s = self.settings()
        try:
            out = conv_output_size(s["size"], s["kernel_size"], s["stride"], s["padding"], s["dilation"])
            self.error = None
            self.message.value = f"output: <b>{out}x{out}</b>"
        except ShapeError as err:
            out, self.error = 1, str(err)
            self.message.value = f"<span style='color:firebrick'>impossible: {err}</span>"
        for key in ("row", "col"):
            slider = self.sliders[key]
            with slider.hold_trait_notifications():
                slider.max = out - 1  # also clips the value
        if plt.fignum_exists(getattr(self.figure, "number", -1)):
            plt.close(self.figure)
        s = self.settings()
        self.figure = draw_convolution(**s)
        self.output.clear_output(wait=True)
        with self.output:
            from IPython.display import display

            display(self.figure)
        plt.close(self.figure)  # shown through the Output widget only, not again below the cell

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)


def conv_visualizer(size: int = 5, kernel_size: int = 3, stride: int = 1, padding: int = 0,
                    dilation: int = 1) -> ConvVisualizer:
    """Interactive convolution visualizer: sliders for ``H, K, S, P, D`` and the output cell.

    Args:
        size: initial input size (1..12); kernel_size: 1..7; stride: 1..4; padding: 0..4;
            dilation: 1..4.

    Returns:
        A :class:`ConvVisualizer`; make it the last line of a cell to display it. Without a
        widget frontend (a rendered page, nbval) nothing interactive shows: draw a static
        :func:`draw_convolution` or :func:`draw_convolution_gallery` next to it.

    Raises:
        ValueError: an initial value outside the sliders' range.
    """
    return ConvVisualizer(size, kernel_size, stride, padding, dilation)
