"""Slide-ready lecture copies of the course notebooks (a live RISE slideshow or reveal.js HTML)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from .authoring import course_notebooks, read_notebook
from .config import HomeworkConfig


def lecture(notebooks: Iterable[Path | str] | None = None, config: HomeworkConfig | None = None,
            html: bool = True) -> list[Path]:
    """Lecture copies of notebooks, with slide metadata, for a live slideshow or HTML slides.

    A markdown cell starting with a ``#``/``##`` heading opens a slide, one with ``###`` a
    sub-slide (below it); every other cell continues the current one. Slide types already in
    a cell are kept. The copies keep the stored outputs; present them live with the
    ``jupyterlab-rise`` extension or as the reveal.js HTML written next to them.

    Args:
        notebooks: ``.ipynb`` paths (default: every ``notebooks/NN_*.ipynb``).
        config: where (``<course_dir>/lecture/``; default :class:`HomeworkConfig`).
        html: also write ``<NN_x>.slides.html`` (reveal.js is loaded from a CDN when shown).

    Returns:
        Paths of the lecture notebooks.
    """
    import nbformat

    config = config or HomeworkConfig()
    paths = [Path(p) for p in (course_notebooks() if notebooks is None else notebooks)]
    for path in paths:
        read_notebook(path)
    out_dir = config.course_dir / "lecture"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            first = cell.source.lstrip().split("\n", 1)[0] if cell.cell_type == "markdown" else ""
            kind = "slide" if re.match(r"#{1,2}\s", first) else "subslide" if re.match(r"###\s", first) else "-"
            cell.metadata.setdefault("slideshow", {}).setdefault("slide_type", kind)
        out = out_dir / path.name
        nbformat.write(nb, out)
        if html:
            from nbconvert import SlidesExporter

            body, _ = SlidesExporter(reveal_scroll=True).from_notebook_node(nb)
            out.with_name(path.stem + ".slides.html").write_text(body, encoding="utf-8")
        written.append(out)
    return written
