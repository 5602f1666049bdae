"""Homework from the course notebooks, with nbgrader: check, release (student version), grade.

The notebooks in ``notebooks/`` are the instructor versions (solutions included, fully
runnable). nbgrader builds the student versions from them and grades submissions; this
module is a thin wrapper over nbgrader's Python API (``NbGraderAPI`` with an explicit
``Config``: no ``nbgrader_config.py`` is read) with one assignment per notebook::

    python tools/homework.py check   [NB ...]   # exercise format of notebooks 01+ (AUTHORING.md)
    python tools/homework.py release [NB ...]   # student versions -> homework/release/<NN_x>/
    python tools/homework.py grade   [FOLDER]   # grade submissions, print a score table, write CSV
    python tools/homework.py lecture [NB ...]   # slide-ready copies for a lecture -> homework/lecture/

The course folder (``--course-dir``, default ``homework``, never committed) has
nbgrader's standard layout::

    source/<NN_x>/<NN_x>.ipynb                 copies of notebooks/ (made by ``release``)
    release/<NN_x>/<NN_x>.ipynb                student versions: solutions and hidden tests
                                               removed, outputs cleared
    submitted/<student>/<NN_x>/<NN_x>.ipynb    what students handed in (``grade`` copies them here)
    autograded/<student>/<NN_x>/<NN_x>.ipynb   executed and graded submissions
    gradebook.db                               nbgrader's database; scores.csv, scores_by_cell.csv

``grade FOLDER`` accepts ``FOLDER/<student>/<NN_x>.ipynb`` (e.g. unpacked from an LMS) or
nbgrader's ``FOLDER/<student>/<NN_x>/<NN_x>.ipynb``. Submissions run in quick mode
(``CONVNETS_QUICK=1``) unless ``--full``: the exercises do not depend on the mode.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import shutil
import sys
import sysconfig
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_COURSE_DIR = ROOT / "homework"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
# what nbgrader itself looks for (ClearSolutions, ClearHiddenTests): these words anywhere in a line
_BEGIN_SOLUTION, _END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
_BEGIN_HIDDEN, _END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
_HEADING = re.compile(r"^#+\s*Exercise\s+(\d+)\s*\((\d+(?:\.\d+)?)\s+points?\)", re.MULTILINE)
_ASSIGNMENT_ID = re.compile(r"^\d\d_[A-Za-z0-9_]+$")


@dataclass
class HomeworkConfig:
    """Where nbgrader works and how it runs submissions (passed explicitly to every command)."""

    # nbgrader's course folder: source/, release/, submitted/, autograded/, gradebook.db
    course_dir: Path = DEFAULT_COURSE_DIR
    # grade in quick mode (CONVNETS_QUICK=1): small data, a few seconds per notebook
    quick: bool = True
    # seconds a single cell may run while grading before nbgrader interrupts it
    cell_timeout: int = 600
    # echo nbgrader's log (otherwise it is captured and shown only on failure)
    verbose: bool = False

    def __post_init__(self) -> None:
        self.course_dir = Path(self.course_dir).resolve()
        if self.cell_timeout <= 0:
            raise ValueError(f"cell_timeout must be a positive number of seconds, got {self.cell_timeout}")


@dataclass(frozen=True)
class CellScore:
    """The score of one autograded cell of one student's notebook."""

    student: str  # student id (the submission folder's name)
    assignment: str  # notebook stem, e.g. "03_conv2d_hyperparameters"
    grade_id: str  # nbgrader grade_id of the test cell, e.g. "03-ex2-test"
    score: float  # points obtained
    max_score: float  # points available


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


# --------------------------------------------------------------------------- notebooks

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


def _read(path: Path | str) -> dict:
    path = Path(path)
    if path.suffix != ".ipynb":
        raise ValueError(f"expected a .ipynb notebook, got {str(path)!r}")
    if not path.is_file():
        raise ValueError(f"notebook {str(path)!r} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path.name} is not valid notebook JSON: {err}") from None


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def has_exercises(path: Path | str) -> bool:
    """Whether a notebook contains nbgrader cells (solution or graded cells).

    Args:
        path: a ``.ipynb`` file.
    """
    return any(cell.get("metadata", {}).get("nbgrader") for cell in _read(path)["cells"])


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
    nb = _read(path)
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
        text = _source(cell)
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


# --------------------------------------------------------------------------- nbgrader

def _api(config: HomeworkConfig):
    """An ``NbGraderAPI`` on ``config.course_dir`` with an explicit Config (no config files)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    c = Config()
    c.CourseDirectory.root = str(config.course_dir)
    c.CourseDirectory.db_url = f"sqlite:///{config.course_dir / 'gradebook.db'}"
    exchange = config.course_dir / "exchange"  # unused here; nbgrader only checks it exists
    exchange.mkdir(parents=True, exist_ok=True)
    c.Exchange.root = str(exchange)
    c.Execute.timeout = config.cell_timeout
    c.ClearSolutions.enforce_metadata = True
    c.NbGraderAPI.log_level = "INFO" if config.verbose else "WARN"
    return NbGraderAPI(config=c)


def _check(result: dict, what: str) -> None:
    if not result.get("success"):
        raise RuntimeError(f"nbgrader failed to {what}: {_reason(result)}")


def _reason(result: dict) -> str:
    """The root cause in nbgrader's captured log and traceback (e.g. 'RuntimeError: no end ...')."""
    lines = f"{result.get('log') or ''}\n{result.get('error') or ''}".splitlines()
    causes = [ln.strip() for ln in lines if re.match(r"\s*[A-Za-z_.]*(Error|Exception): ", ln)
              and "NbGraderException" not in ln]
    return causes[0] if causes else (lines[-1].strip() if lines else "unknown error")


def _assignment_id(path: Path) -> str:
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
        _read(path)  # validates suffix, existence and JSON before nbgrader sees it
    with _environment():
        return _release(paths, config)


def _release(paths: list[Path], config: HomeworkConfig) -> list[Path]:
    api = _api(config)
    released = []
    for path in paths:
        assignment = _assignment_id(path)
        source = config.course_dir / "source" / assignment
        source.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, source / path.name)
        _check(api.generate_assignment(assignment, force=True, create=True), f"release {path.name}")
        out = config.course_dir / "release" / assignment / path.name
        nb = json.loads(out.read_text(encoding="utf-8"))
        nb["metadata"].pop("widgets", None)  # saved widget state is an output too
        out.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        released.append(out)
    return released


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
        _read(path)
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


def _find_submissions(folder: Path) -> Iterator[tuple[str, str, Path]]:
    """(student, assignment, notebook) for ``folder/<student>/<NN_x>[/<NN_x>].ipynb``."""
    for student_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found = sorted(student_dir.glob(NOTEBOOK_GLOB)) + sorted(student_dir.glob(f"*/{NOTEBOOK_GLOB}"))
        for nb in found:
            if ".ipynb_checkpoints" not in nb.parts:
                yield student_dir.name, nb.stem, nb


@contextlib.contextmanager
def _environment(**values: str | None) -> Iterator[None]:
    """Set (or with None, unset) environment variables, which the grading kernels inherit.

    nbgrader runs the ``alembic`` command of its environment, so that environment's scripts
    folder goes first on PATH too (``.venv/bin/python`` may run without an activated venv).
    """
    scripts = sysconfig.get_path("scripts")
    values = {"PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")]), **values}
    old = {k: os.environ.get(k) for k in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def grade(submitted: Path | str | None = None, config: HomeworkConfig | None = None,
          notebooks: Path | str = NOTEBOOKS) -> list[CellScore]:
    """Autograde every submission in a folder with nbgrader and return the cell scores.

    A submission that fails (a broken cell, an error, a timeout) still gets graded: its
    failing test cells score 0; one nbgrader cannot run at all (not a notebook, a dead
    kernel) scores 0 with a warning. Notebooks that are not course notebooks are skipped
    with a warning. An assignment not yet released is released first from ``notebooks``.

    Args:
        submitted: ``<student>/<NN_x>.ipynb`` or ``<student>/<NN_x>/<NN_x>.ipynb`` inside it
            (default: ``<course_dir>/submitted``).
        config: where and how (default :class:`HomeworkConfig`).
        notebooks: the folder of instructor notebooks the assignments come from.

    Returns:
        One :class:`CellScore` per autograded cell per student and notebook, sorted.
    """
    config = config or HomeworkConfig()
    folder = Path(submitted).resolve() if submitted is not None else config.course_dir / "submitted"
    if not folder.is_dir():
        raise ValueError(f"expected a folder of submissions <student>/<NN_x>.ipynb, got {str(folder)!r}")
    submissions = list(_find_submissions(folder))
    if not submissions:
        raise ValueError(f"found no submissions in {str(folder)!r}: expected <student>/<NN_x>.ipynb "
                         "or <student>/<NN_x>/<NN_x>.ipynb")
    sources = {p.stem: p for p in course_notebooks(notebooks)}
    for student, assignment, nb in submissions:
        if assignment not in sources:  # e.g. "01_fc_vs_conv-Copy1.ipynb": not graded, but say so
            print(f"warning: skipped {nb}: not a course notebook ({', '.join(sorted(sources))})", file=sys.stderr)
    submissions = [s for s in submissions if s[1] in sources]
    if not submissions:
        raise ValueError(f"found no submission of a course notebook in {str(folder)!r}; "
                         f"expected one of {sorted(sources)}")

    with _environment(CONVNETS_QUICK="1" if config.quick else None), warnings.catch_warnings():
        # nbgrader 0.9 on SQLAlchemy 2 warns about its own session handling: not the user's business
        warnings.filterwarnings("ignore", message="Object of type <Submitted", category=Warning)
        return _grade(submissions, sources, config)


def _grade(submissions: list[tuple[str, str, Path]], sources: dict[str, Path],
           config: HomeworkConfig) -> list[CellScore]:
    from nbgrader.api import Gradebook, MissingEntry

    config.course_dir.mkdir(parents=True, exist_ok=True)
    with Gradebook(f"sqlite:///{config.course_dir / 'gradebook.db'}") as gb:
        known = {a.name for a in gb.assignments}
    todo = sorted({a for _, a, _ in submissions} - known)
    if todo:
        _release([sources[a] for a in todo], config)

    inbox = config.course_dir / "submitted"
    for student, assignment, nb in submissions:
        target = inbox / student / assignment / f"{assignment}.ipynb"
        if nb.resolve() != target.resolve():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(nb, target)

    api = _api(config)
    failed = set()
    for student, assignment in sorted({(s, a) for s, a, _ in submissions}):
        result = api.autograde(assignment, student, force=True, create=True)
        if not result.get("success"):  # nbgrader could not grade it at all (e.g. not a notebook): 0 points
            failed.add((student, assignment))
            print(f"warning: could not grade {student}/{assignment}, scored 0: {_reason(result)}", file=sys.stderr)

    scores = []
    with Gradebook(f"sqlite:///{config.course_dir / 'gradebook.db'}") as gb:
        for student, assignment in sorted({(s, a) for s, a, _ in submissions}):
            try:
                sub = gb.find_submission_notebook(assignment, assignment, student)
                grades = {} if (student, assignment) in failed else {g.name: g for g in sub.grades}
            except MissingEntry:
                grades = {}
            for cell in gb.find_notebook(assignment, assignment).grade_cells:
                got = grades.get(cell.name)
                score = float(got.score) if got is not None and got.score is not None else 0.0
                scores.append(CellScore(student, assignment, cell.name, score, float(cell.max_score)))
    return sorted(scores, key=lambda s: (s.student, s.assignment, _natural(s.grade_id)))


def _natural(text: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


# --------------------------------------------------------------------------- reports

def score_table(scores: Sequence[CellScore]) -> tuple[list[str], list[list[str]]]:
    """Scores as a table: one row per student, one ``score/max`` column per notebook, a total.

    Args:
        scores: from :func:`grade`.

    Returns:
        ``(header, rows)`` of strings, ready to print or to write as CSV.
    """
    if not all(isinstance(s, CellScore) for s in scores):
        raise TypeError("expected a sequence of CellScore (from grade())")
    assignments = sorted({s.assignment for s in scores})
    students = sorted({s.student for s in scores})
    header = ["student", *assignments, "total", "max", "percent"]
    rows = []
    for student in students:
        row, total, maximum = [student], 0.0, 0.0
        for assignment in assignments:
            mine = [s for s in scores if s.student == student and s.assignment == assignment]
            got, out_of = sum(s.score for s in mine), sum(s.max_score for s in mine)
            row.append(f"{got:g}/{out_of:g}" if mine else "-")
            total, maximum = total + got, maximum + out_of
        row += [f"{total:g}", f"{maximum:g}", f"{100 * total / maximum:.0f}" if maximum else "-"]
        rows.append(row)
    return header, rows


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Fixed-width text of a table (first column left-aligned, the others right-aligned).

    Args:
        header: column names.
        rows: rows of strings, each as long as ``header``.
    """
    if any(len(r) != len(header) for r in rows):
        raise ValueError(f"every row needs {len(header)} fields like the header")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = []
    for row in [list(header), *rows]:
        cells = [str(x).ljust(w) if i == 0 else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells))
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_csv(scores: Sequence[CellScore], path: Path | str) -> tuple[Path, Path]:
    """Write the score table to ``path`` and the per-cell scores next to it (``*_by_cell.csv``).

    Args:
        scores: from :func:`grade`.
        path: the CSV file of the table, e.g. ``homework/scores.csv``.

    Returns:
        The two paths written.
    """
    path = Path(path)
    if path.suffix != ".csv":
        raise ValueError(f"expected a .csv path, got {str(path)!r}")
    header, rows = score_table(scores)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *rows])
    by_cell = path.with_name(path.stem + "_by_cell.csv")
    with by_cell.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "grade_id", "score", "max_score"])
        writer.writerows([[s.student, s.assignment, s.grade_id, f"{s.score:g}", f"{s.max_score:g}"] for s in scores])
    return path, by_cell


# --------------------------------------------------------------------------- command line

def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``check``, ``release``, ``grade`` and ``lecture`` (see the module docstring).

    Args:
        argv: arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0 when everything worked.
    """
    parser = argparse.ArgumentParser(prog="homework.py", description=__doc__.split("\n")[0])
    parser.add_argument("--course-dir", type=Path, default=DEFAULT_COURSE_DIR,
                        help="nbgrader course folder (default homework)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show nbgrader's log")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="check the exercise format of notebooks 01 on")
    p.add_argument("notebooks", nargs="*", type=Path)
    p = sub.add_parser("release", help="build the student versions")
    p.add_argument("notebooks", nargs="*", type=Path)
    p = sub.add_parser("lecture", help="lecture copies with slide metadata (+ reveal.js HTML)")
    p.add_argument("notebooks", nargs="*", type=Path)
    p.add_argument("--no-html", action="store_true", help="only the notebooks, no HTML slides")
    p = sub.add_parser("grade", help="grade a folder of submissions")
    p.add_argument("submitted", nargs="?", type=Path, help="default: <course-dir>/submitted")
    p.add_argument("--csv", type=Path, help="default: <course-dir>/scores.csv")
    p.add_argument("--full", action="store_true", help="run submissions in full mode (slow)")
    p.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    p.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="instructor notebooks (default notebooks/)")
    args = parser.parse_args(argv)

    config = HomeworkConfig(args.course_dir, quick=not getattr(args, "full", False),
                            cell_timeout=getattr(args, "timeout", 600), verbose=args.verbose)
    try:
        if args.command == "check":
            bad = 0
            for nb in args.notebooks or course_notebooks():
                fmt = check_format(nb, min_exercises=3 if nb.name[:2] != "00" else 0)
                bad += bool(fmt.problems)
                status = "ok" if not fmt.problems else "PROBLEMS"
                print(f"{nb.name:<36} {len(fmt.points):2d} exercises {fmt.total_points:5g} points  {status}")
                for problem in fmt.problems:
                    print(f"    - {problem}")
            return 1 if bad else 0
        if args.command == "release":
            for out in release(args.notebooks or None, config):
                print(os.path.relpath(out))
            print(f"student versions in {config.course_dir / 'release'}")
            return 0
        if args.command == "lecture":
            for out in lecture(args.notebooks or None, config, html=not args.no_html):
                print(out)
            return 0
        scores = grade(args.submitted, config, notebooks=args.notebooks)
        print(format_table(*score_table(scores)))
        table, by_cell = write_csv(scores, args.csv or config.course_dir / "scores.csv")
        print(f"\nwrote {table} and {by_cell.name}")
        return 0
    except (ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
