"""Lecture slides from the course notebooks: reveal.js HTML that works offline, and slide-ready copies.

``python tools/homework.py lecture [NB ...]`` (``make slides``) writes, for each notebook, into
``<course_dir>/lecture/`` (default ``homework/lecture/``):

* ``NN_topic.slides.html``: a reveal.js slideshow made from local files only (reveal.js, the
  Jupyter widget manager and MathJax are copied from ``vendor/`` into ``lecture/vendor/``
  after their sha256 is checked against ``vendor/manifest.json``). Open it in a browser: the
  arrow keys (or space) step through every slide, ``s`` opens the speaker view, ``Esc`` the
  overview. Every slide fits a 1280x720 screen with no text under 18 px (:mod:`.slidefit`
  cuts it where needed). Widget cells show their static figure and a note; widgets without one
  render from the widget state saved in the notebook. Code wraps at spaces; text outputs keep
  their lines and scroll sideways.
* ``NN_topic.ipynb``: the notebook with its slide metadata, to present live in JupyterLab.

A markdown cell is cut before each heading: ``#``/``##`` opens a slide, ``###`` and deeper a
sub-slide (so an exercise announced in the middle of a cell starts its own); every other cell
continues the current one. An exercise's solution cell is a *fragment*: the audience sees the
task first, the next key press shows the reference answer. What the audience must not see is
left out (:mod:`.present`: grading probes, solution markers, the Colab setup cell). Slide
types already in a cell are kept.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from .authoring import course_notebooks, read_notebook
from .config import ROOT, HomeworkConfig
from .present import fold_kind, public_notebook
from .slidefit import HIDE_INPUT, LAYOUT, fit, split_at_headings

VENDOR = ROOT / "vendor"
TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "course_reveal"
SLIDE_VENDOR = ("reveal.js", "@jupyter-widgets/html-manager", "mathjax")  # the vendor/ packages slides load


class VendorFileError(RuntimeError):
    """A file of ``vendor/`` is missing or differs from ``vendor/manifest.json``."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def vendor_files(vendor: Path = VENDOR) -> dict[str, dict]:
    """The vendored files the slides need, each checked against ``vendor/manifest.json``.

    Returns:
        ``{relative path: manifest record}``.

    Raises:
        VendorFileError: the manifest or a file is missing, or a checksum differs.
    """
    restore = "restore it with `git checkout -- vendor/` or rebuild with `python vendor/build_vendor.py`"
    manifest_path = vendor / "manifest.json"
    if not manifest_path.is_file():
        raise VendorFileError(f"{manifest_path} is missing; {restore}")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for rel, record in manifest.items():
        path = vendor / rel
        if not path.is_file():
            raise VendorFileError(f"vendored file {path} is missing; {restore}")
        if _sha256(path) != record["sha256"]:
            raise VendorFileError(f"vendored file {path} differs from the manifest (sha256); {restore}")
    return manifest


def copy_vendor(out_dir: Path, vendor: Path = VENDOR, packages: Iterable[str] | None = None) -> Path:
    """Copy the checked vendor files to ``out_dir/vendor/`` (files already there and equal are kept).

    Args:
        out_dir: the folder that gets ``vendor/``.
        vendor: the checksummed source folder (default the repository's ``vendor/``).
        packages: copy only the files of these npm packages (default: every package).
    """
    target = out_dir / "vendor"
    for rel, record in vendor_files(vendor).items():
        if packages is not None and record["package"] not in packages:
            continue
        dest = target / rel
        if dest.is_file() and _sha256(dest) == record["sha256"]:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(vendor / rel, dest)
    return target


def slide_notebook(nb):
    """A copy of ``nb`` with slide metadata, as an audience sees it (``nbformat`` v4 node).

    What :func:`.present.public_notebook` leaves (no grading probes, no solution markers, widget
    pictures with their note), with markdown cells cut before each heading: a ``#``/``##``
    heading opens a slide, ``###`` and deeper a sub-slide (so an exercise announced in the middle
    of a cell gets its own); solution cells are fragments (shown on the next key press); cells
    that already have a slide type keep it.
    """
    import nbformat

    nb = public_notebook(nb)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            cells.append(cell)
            continue
        for n, piece in enumerate(split_at_headings(cell.source)):
            part = cell if n == 0 else nbformat.v4.new_markdown_cell(metadata=copy.deepcopy(cell.metadata))
            part.source = piece
            if n:
                part.metadata.pop("slideshow", None)
            cells.append(part)
    for cell in cells:
        first = cell.source.lstrip().split("\n", 1)[0] if cell.cell_type == "markdown" else ""
        kind = ("slide" if re.match(r"#{1,2}\s", first) else "subslide" if re.match(r"#{3,6}\s", first)
                else "fragment" if fold_kind(cell) == "solution" else "-")
        cell.metadata.setdefault("slideshow", {}).setdefault("slide_type", kind)
    nb.cells = cells
    return nb


def slides_html(nb, vendor_url: str = "vendor") -> str:
    """reveal.js HTML of a slide notebook (:func:`slide_notebook`) that loads only ``vendor_url``.

    Its slides are cut to fit a 1280x720 screen (:func:`.slidefit.fit`); no input or output prompts.
    """
    from nbconvert import SlidesExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = SlidesExporter(template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)],
                              reveal_url_prefix=f"{vendor_url}/reveal.js", reveal_theme="white",
                              reveal_transition="none", reveal_number="c/t", exclude_input_prompt=True,
                              exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={HIDE_INPUT}), enabled=True)
    resources = {"vendor_url": vendor_url, "layout": LAYOUT}
    body, _ = exporter.from_notebook_node(fit(nb), resources=resources)
    return body


def lecture(notebooks: Iterable[Path | str] | None = None, config: HomeworkConfig | None = None,
            html: bool = True) -> list[Path]:
    """Write lecture copies of notebooks and their offline reveal.js slides (see the module docstring).

    Args:
        notebooks: ``.ipynb`` paths (default: every ``notebooks/NN_*.ipynb``).
        config: where (``<course_dir>/lecture/``; default :class:`HomeworkConfig`).
        html: also write ``<NN_x>.slides.html`` and ``vendor/`` next to it.

    Returns:
        Paths of the lecture notebooks (the HTML files are beside them).

    Raises:
        ValueError: a path is not a readable notebook.
        VendorFileError: ``vendor/`` is incomplete or changed (nothing is written then).
    """
    import nbformat

    config = config or HomeworkConfig()
    paths = [Path(p) for p in (course_notebooks() if notebooks is None else notebooks)]
    for path in paths:
        read_notebook(path)
    out_dir = config.course_dir / "lecture"
    if html:
        vendor_files()  # fail before writing anything
    out_dir.mkdir(parents=True, exist_ok=True)
    if html:
        copy_vendor(out_dir, packages=SLIDE_VENDOR)
    written = []
    for path in paths:
        nb = slide_notebook(nbformat.read(path, as_version=4))
        out = out_dir / path.name
        nbformat.write(nb, out)
        if html:
            out.with_name(path.stem + ".slides.html").write_text(slides_html(nb), encoding="utf-8")
        written.append(out)
    return written
