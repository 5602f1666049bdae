"""What an audience sees of an instructor notebook: the common part of the slides and the website.

:func:`public_notebook` returns a copy of a course notebook without anything that must not be
shown or that makes no sense outside a running kernel:

* the grading probes (nbgrader's hidden-test sections) are removed, and it fails loudly if a
  marker is left anywhere;
* the solution markers (``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines) are removed, so
  a reference answer reads as plain code;
* nbval's marker comments (``# NBVAL_CHECK_OUTPUT``) are removed;
* the Colab setup cell (``tools/colab.py``) is dropped: it does nothing outside Colab;
* an output that offers both a live widget and its static picture keeps the picture, followed
  by a note saying that the controls the text mentions appear when the notebook runs.

:func:`fold_kind` says which cells a reader should open on purpose: reference solutions,
hints and questionnaire answers (cell metadata ``{"course": {"hints": ...}}`` or
``{"course": {"answers": ...}}``).
"""

from __future__ import annotations

import copy
import re

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# nbgrader's markers (notebooks/AUTHORING.md): nbgrader matches these words anywhere in a line
_SOLUTION_MARKERS = ("BEGIN SOLUTION", "END SOLUTION")
_HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
COLAB_SETUP = "colab-setup"  # cell metadata {"course": {"setup": "colab-setup"}} marks the Colab cell
# under a widget's picture (one line on a slide): the sliders the text mentions are not on the page
WIDGET_NOTE = "*Picture of the tool at its saved setting: the sliders and menus appear when the notebook runs.*"
_NBVAL_MARKER = re.compile(r"^[ \t]*# NBVAL_[A-Z_]+[ \t]*\n?", re.MULTILINE)  # nbval's cell markers: test plumbing


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def course_meta(cell) -> dict:
    """The cell's ``metadata["course"]`` dict (empty when absent or not a dict)."""
    meta = cell.get("metadata", {}).get("course")
    return meta if isinstance(meta, dict) else {}


def is_colab_setup(cell) -> bool:
    """Whether ``cell`` is the Colab setup cell written by ``tools/colab.py``."""
    return course_meta(cell).get("setup") == COLAB_SETUP


def fold_kind(cell) -> str | None:
    """``"solution"``, ``"hints"`` or ``"answers"`` for a cell to show only on request, else None.

    A solution is an nbgrader solution *code* cell (the reference answer of an exercise); hints
    and answers are cells whose metadata has ``{"course": {"hints": ...}}`` or
    ``{"course": {"answers": ...}}``.
    """
    meta = course_meta(cell)
    for kind in ("hints", "answers"):
        if meta.get(kind):
            return kind
    nbgrader = cell.get("metadata", {}).get("nbgrader") or {}
    if cell.get("cell_type") == "code" and nbgrader.get("solution"):
        return "solution"
    return None


def _static_figures_first(cell) -> None:
    """Keep the static picture of an output that also has a widget view; a note follows it."""
    import nbformat

    outputs = []
    for output in cell.get("outputs", []):
        outputs.append(output)
        data = output.get("data", {})
        if WIDGET_VIEW in data and any(k.startswith("image/") for k in data):
            del data[WIDGET_VIEW]
            outputs.append(nbformat.v4.new_output("display_data", data={"text/markdown": WIDGET_NOTE,
                                                                        "text/plain": WIDGET_NOTE.strip("*")}))
    if "outputs" in cell:
        cell["outputs"] = outputs


def public_notebook(nb):
    """A copy of an instructor notebook as an audience sees it (see the module docstring).

    Args:
        nb: an ``nbformat`` v4 notebook node (left unchanged).

    Returns:
        A new notebook node.

    Raises:
        RuntimeError: a hidden-test marker is malformed or survives (nbgrader's message, or ours).
    """
    from nbgrader.preprocessors import ClearHiddenTests

    nb = copy.deepcopy(nb)
    nb, _ = ClearHiddenTests(enforce_metadata=True).preprocess(nb, {})
    cells = []
    for index, cell in enumerate(nb.cells):
        if is_colab_setup(cell):
            continue
        text = _source(cell)
        if any(marker in text for marker in _HIDDEN_MARKERS):
            raise RuntimeError(f"cell {index} still contains a hidden-test marker after nbgrader removed the "
                               "hidden tests: only graded cells may have them (python tools/homework.py check)")
        if cell.get("cell_type") == "code" and "NBVAL_" in text:
            cell.source = text = _NBVAL_MARKER.sub("", text)
        if fold_kind(cell) == "solution":
            cell.source = "\n".join(line for line in text.split("\n")
                                    if not any(marker in line for marker in _SOLUTION_MARKERS)).strip("\n")
        _static_figures_first(cell)
        cells.append(cell)
    nb.cells = cells
    return nb
