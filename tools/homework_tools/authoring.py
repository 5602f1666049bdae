"""Course notebooks as homework: read them, check their exercise format, release them.

The notebooks in ``notebooks/`` are the instructor versions (solutions included, fully
runnable). :func:`check_format` checks their exercises against notebooks/AUTHORING.md and
nbgrader's rules; :func:`release` builds the student versions with nbgrader's
``generate_assignment`` (solutions replaced by stubs, hidden tests removed, outputs cleared)
in the course folder's ``release/<NN_x>/<NN_x>.ipynb``, one assignment per notebook.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .config import NOTEBOOKS, HomeworkConfig, check_result, environment, nbgrader_api

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
# what nbgrader itself looks for (ClearSolutions, ClearHiddenTests): these words anywhere in a line
_BEGIN_SOLUTION, _END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
_BEGIN_HIDDEN, _END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
_HEADING = re.compile(r"^#+\s*Exercise\s+(\d+)\s*\((\d+(?:\.\d+)?)\s+points?\)", re.MULTILINE)
_ASSIGNMENT_ID = re.compile(r"^\d\d_[A-Za-z0-9_]+$")


@dataclass
class NotebookFormat:
    """What ``check_format`` found in one notebook: its exercises and every problem."""

    path: Path
    points: dict[str, float] = field(default_factory=dict)  # graded grade_id -> points, in order
    problems: list[str] = field(default_factory=list)

    @property
    def total_points(self) -> float:
        """Sum of the points of all graded cells."""
        return sum(self.points.values())


def course_notebooks(folder: Path | str = NOTEBOOKS) -> list[Path]:
    """The course notebooks ``NN_topic.ipynb`` in ``folder``, sorted by number.

    Args:
        folder: a folder (default ``notebooks/``).

    Returns:
        Paths, possibly an empty list.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"expected a folder of notebooks, got {str(folder)!r} (not a folder)")
    return sorted(folder.glob(NOTEBOOK_GLOB))


def read_notebook(path: Path | str) -> dict:
    """The JSON of a ``.ipynb`` file; ``ValueError`` naming the file if it is missing or not JSON."""
    path = Path(path)
    if path.suffix != ".ipynb":
        raise ValueError(f"expected a .ipynb notebook, got {str(path)!r}")
    if not path.is_file():
        raise ValueError(f"notebook {str(path)!r} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path.name} is not valid notebook JSON: {err}") from None


def cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def has_exercises(path: Path | str) -> bool:
    """Whether a notebook contains nbgrader cells (solution or graded cells).

    Args:
        path: a ``.ipynb`` file.
    """
    return any(cell.get("metadata", {}).get("nbgrader") for cell in read_notebook(path)["cells"])


def _paired(text: str, begin: str, end: str) -> bool:
    """Whether ``text`` has at least one ``begin ... end`` region and the markers alternate."""
    markers = [begin if begin in line else end for line in text.splitlines() if begin in line or end in line]
    return bool(markers) and len(markers) % 2 == 0 and markers == [begin, end] * (len(markers) // 2)


def check_format(path: Path | str, min_exercises: int = 3) -> NotebookFormat:
    """Check a notebook's exercises against notebooks/AUTHORING.md (and nbgrader's rules).

    Checks: at least ``min_exercises`` graded cells; grade_ids unique and prefixed ``NN-``;
    every graded cell locked with points > 0; every solution cell has one or more
    ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` regions; no other cell, markdown
    included, mentions the marker words (nbgrader would treat them as markers); hidden-test
    markers paired and only in graded cells; each solution cell followed by a graded cell
    before the next solution cell; an ``Exercise N (k points)`` heading announces the
    points its graded cells give.

    Args:
        path: a ``.ipynb`` file named ``NN_topic.ipynb``.
        min_exercises: the least number of graded cells required (0 to allow none).

    Returns:
        A :class:`NotebookFormat`; an empty ``problems`` list means the notebook is fine.
    """
    if not isinstance(min_exercises, int) or min_exercises < 0:
        raise ValueError(f"min_exercises must be an int >= 0, got {min_exercises!r}")
    path = Path(path)
    nb = read_notebook(path)
    result = NotebookFormat(path)
    problems = result.problems
    prefix = path.name[:2] + "-"
    seen: set[str] = set()
    open_solution: str | None = None  # grade_id of a solution cell still waiting for its test cell
    heading: tuple[str, float, float] | None = None  # (text, announced points, points seen so far)

    def close_heading() -> None:
        if heading and heading[1] != heading[2]:
            problems.append(f"{heading[0]!r} announces {heading[1]:g} points but its graded cells give {heading[2]:g}")

    for index, cell in enumerate(nb["cells"]):
        text = cell_source(cell)
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        grade_id = meta.get("grade_id", "")
        where = f"cell {index} ({grade_id})" if grade_id else f"cell {index} ({cell.get('cell_type')})"
        # nbgrader sees a marker in ANY line containing these words, prose included
        solution_marks = _BEGIN_SOLUTION in text or _END_SOLUTION in text
        hidden_marks = _BEGIN_HIDDEN in text or _END_HIDDEN in text
        if solution_marks and not meta.get("solution"):
            problems.append(f"{where} contains {_BEGIN_SOLUTION!r}/{_END_SOLUTION!r} but is not a solution cell: "
                            "nbgrader reads every line with these words as a marker and the release fails "
                            "(in prose write e.g. 'between the solution markers')")
        if hidden_marks and not meta.get("grade"):
            problems.append(f"{where} contains {_BEGIN_HIDDEN!r}/{_END_HIDDEN!r} but is not a graded cell: "
                            "nbgrader reads every line with these words as a marker and the release fails")
        if cell.get("cell_type") == "markdown":
            match = _HEADING.search(text)
            if match:
                close_heading()
                heading = (match.group(0).lstrip("# "), float(match.group(2)), 0.0)
        if not meta or cell.get("cell_type") != "code":
            continue  # markdown answer cells (graded by hand) need nothing more
        if not grade_id:
            problems.append(f"{where}: missing grade_id")
        elif grade_id in seen:
            problems.append(f"{where}: duplicate grade_id {grade_id!r}")
        elif not grade_id.startswith(prefix):
            problems.append(f"{where}: grade_id should start with {prefix!r}")
        seen.add(grade_id)
        if meta.get("schema_version") != 3:
            problems.append(f"{where}: expected schema_version 3, got {meta.get('schema_version')!r}")
        if meta.get("solution"):
            if not _paired(text, _BEGIN_SOLUTION, _END_SOLUTION):
                problems.append(f"{where}: a solution cell needs {SOLUTION_BEGIN!r} ... {SOLUTION_END!r} "
                                "(one or more regions, each closed before the next opens)")
            if meta.get("grade"):
                problems.append(f"{where}: solution cells are not graded themselves (grade: false), "
                                "put the asserts in a locked test cell below")
            if open_solution:
                problems.append(f"solution cell {open_solution!r} has no graded test cell before {where}")
            open_solution = grade_id
        if meta.get("grade"):
            points = meta.get("points")
            if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
                problems.append(f"{where}: a graded cell needs points > 0, got {points!r}")
                points = 0
            if not meta.get("locked"):
                problems.append(f"{where}: a graded test cell must be locked")
            if hidden_marks and not _paired(text, _BEGIN_HIDDEN, _END_HIDDEN):
                problems.append(f"{where}: unbalanced hidden-test markers")
            result.points[grade_id] = float(points)
            if heading:
                heading = (heading[0], heading[1], heading[2] + float(points))
            open_solution = None
    close_heading()
    if open_solution:
        problems.append(f"solution cell {open_solution!r} has no graded test cell after it")
    if len(result.points) < min_exercises:
        problems.append(f"expected at least {min_exercises} graded exercises, found {len(result.points)}")
    return result


def assignment_id(path: Path) -> str:
    """The assignment name of a notebook: its stem, which must look like ``NN_topic``."""
    if not _ASSIGNMENT_ID.match(path.stem):
        raise ValueError(f"expected a notebook named NN_topic.ipynb (letters, digits, _), got {path.name!r}")
    return path.stem


def release(notebooks: Iterable[Path | str] | None = None, config: HomeworkConfig | None = None) -> list[Path]:
    """Build the student version of notebooks with nbgrader's ``generate_assignment``.

    Each notebook becomes one assignment (its file stem). Solutions become
    ``raise NotImplementedError()`` stubs, hidden tests are removed, outputs and widget
    state are cleared, and the assignment is recorded in the gradebook (needed to grade).

    Args:
        notebooks: ``.ipynb`` paths (default: every ``notebooks/NN_*.ipynb``).
        config: where and how (default :class:`HomeworkConfig`).

    Returns:
        Paths of the released notebooks, ``<course_dir>/release/<NN_x>/<NN_x>.ipynb``.
    """
    config = config or HomeworkConfig()
    paths = [Path(p) for p in (course_notebooks() if notebooks is None else notebooks)]
    for path in paths:
        read_notebook(path)  # validates suffix, existence and JSON before nbgrader sees it
    with environment():
        return _release(paths, config)


def _release(paths: list[Path], config: HomeworkConfig) -> list[Path]:
    api = nbgrader_api(config)
    released = []
    for path in paths:
        assignment = assignment_id(path)
        source = config.course_dir / "source" / assignment
        source.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, source / path.name)
        check_result(api.generate_assignment(assignment, force=True, create=True), f"release {path.name}")
        out = config.course_dir / "release" / assignment / path.name
        nb = json.loads(out.read_text(encoding="utf-8"))
        nb["metadata"].pop("widgets", None)  # saved widget state is an output too
        out.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        released.append(out)
    return released
