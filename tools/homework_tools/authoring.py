"""Course notebooks as homework: read them, check their exercise format, release them.

The notebooks in ``notebooks/`` are the instructor versions (solutions included, fully
runnable). :func:`check_format` checks their exercises against notebooks/AUTHORING.md and
nbgrader's rules; :func:`release` builds the student versions with nbgrader's
``generate_assignment`` (solutions replaced by stubs, hidden tests removed, outputs cleared)
in the course folder's ``release/<NN_x>/<NN_x>.ipynb``, one assignment per notebook.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .compare import rule_problems
from .config import NOTEBOOKS, ROOT, HomeworkConfig, check_result, environment, nbgrader_api
from .selfstudy import bundle_notebooks, self_study_problems

# A graded cell whose hidden section is not a grading probe (probe(seed) + a literal COMPARE,
# AUTHORING.md) is an error (`check` fails, and so `make release`). Every course notebook is
# converted; set this to False only while converting an old notebook from hidden asserts (it
# becomes a warning). Either way such a notebook cannot be graded (grade names the cells).
PROBE_PROBLEMS_ARE_ERRORS = True

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
    # probe-shape problems while PROBE_PROBLEMS_ARE_ERRORS is False (they go to problems otherwise)
    warnings: list[str] = field(default_factory=list)

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
    points its graded cells give; the hidden section of every graded cell is a grading
    probe (:func:`probe_problems`; warnings unless ``PROBE_PROBLEMS_ARE_ERRORS``).

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
            probe = [f"{where}: {p}" for p in probe_problems(hidden_section(text))]
            (problems if PROBE_PROBLEMS_ARE_ERRORS else result.warnings).extend(probe)
            if heading:
                heading = (heading[0], heading[1], heading[2] + float(points))
            open_solution = None
    close_heading()
    if open_solution:
        problems.append(f"solution cell {open_solution!r} has no graded test cell after it")
    if len(result.points) < min_exercises:
        problems.append(f"expected at least {min_exercises} graded exercises, found {len(result.points)}")
    problems.extend(self_study_problems(nb, path.name[:2]))  # hints and questionnaire answers (selfstudy.py)
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


STUDENT_README = """# convnets-course (student version)

Convolutional neural networks in PyTorch, as Jupyter notebooks. The exercises are yours to
solve: each `raise NotImplementedError()` marks an answer to write, and the cell below it
checks your answer on an example (a self-check; your grade comes from separate checks).

Set up once (Python 3.10+), then open the course:

    python -m venv .venv && . .venv/bin/activate     # Windows: .venv\\Scripts\\activate
    pip install -e .
    jupyter lab notebooks/

`CONVNETS_QUICK=1 jupyter lab` runs every notebook with small data, in about a minute each.
Hand in the notebooks you were asked for, under their own names (e.g. `02_image_kernels.ipynb`).
"""


def student_bundle(notebooks: Iterable[Path | str] | None = None, config: HomeworkConfig | None = None,
                   out: Path | str | None = None, hints: bool = False) -> Path:
    """A zip for students: ``course_utils``, ``data/``, the released notebooks; no solutions.

    The notebooks are released first (:func:`release`); the bundle is checked to hold no
    solution or hidden-test marker before it is written.

    Args:
        notebooks: instructor notebooks (default: every ``notebooks/NN_*.ipynb``).
        config: the course folder (default :class:`HomeworkConfig`).
        out: the zip file (default ``<course_dir>/bundle/convnets-course-student.zip``).
        hints: keep the exercises' hints (folded; ``hint("NN-exK")`` shows them); the questionnaires'
            reference answers are always left out.

    Returns:
        The path of the zip, whose top folder is ``convnets-course/``.
    """
    config = config or HomeworkConfig()
    released = release(notebooks, config)
    released = bundle_notebooks(released, config.course_dir / "bundle" / "notebooks", hints=hints)
    out = Path(out) if out is not None else config.course_dir / "bundle" / "convnets-course-student.zip"
    if out.suffix != ".zip":
        raise ValueError(f"expected a .zip path for the bundle, got {str(out)!r}")
    files: list[tuple[str, Path | str]] = [("README.md", STUDENT_README)]
    for name in ("pyproject.toml", "environment.yml", "LICENSE"):
        if (ROOT / name).is_file():
            files.append((name, ROOT / name))
    for folder in ("course_utils", "data"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith("."):
                files.append((str(path.relative_to(ROOT)), path))
    files += [(f"notebooks/{path.name}", path) for path in released]
    for name, content in files:
        if name.endswith(".ipynb"):
            text = Path(content).read_text(encoding="utf-8")
            if any(marker in text for marker in (_BEGIN_SOLUTION, _END_SOLUTION, _BEGIN_HIDDEN, _END_HIDDEN)):
                raise RuntimeError(f"{name} still contains a solution or hidden-test marker; not bundled")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".zip")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in files:
                target = f"convnets-course/{name}"
                if isinstance(content, Path):
                    archive.write(content, target)
                else:
                    archive.writestr(target, content)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    return out


# --------------------------------------------------------------------------- grading probes

@dataclass(frozen=True)
class Exercise:
    """One graded test cell, as the grader sees it: its probe and how its answers are compared."""

    grade_id: str  # e.g. "03-ex2-test"
    points: float  # the cell's points, split equally over the scored keys of compare
    code: str  # the hidden section: defines probe(seed) and COMPARE (never shown to students)
    compare: dict[str, Any]  # the literal COMPARE dict


def hidden_section(text: str) -> str | None:
    """The code between the hidden-test markers of a test cell (all regions joined), or None."""
    lines, inside, found = [], False, False
    for line in text.splitlines():
        if _BEGIN_HIDDEN in line:
            inside = found = True
        elif _END_HIDDEN in line:
            inside = False
        elif inside:
            lines.append(line)
    return "\n".join(lines) + "\n" if found else None


def _compare_literal(tree: ast.Module) -> tuple[Any, list[str]]:
    """(COMPARE's value, problems) from the parsed hidden section."""
    nodes = [n for n in tree.body if isinstance(n, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "COMPARE" for t in n.targets)]
    if len(nodes) != 1:
        return None, [f"expected one COMPARE = {{...}} assignment, found {len(nodes)}"]
    try:
        return ast.literal_eval(nodes[0].value), []
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None, [f"COMPARE (line {nodes[0].lineno}) must be a literal dict: it is read with "
                      "ast.literal_eval, never executed (no names, calls or expressions)"]


def probe_problems(hidden: str | None) -> list[str]:
    """What keeps a test cell's hidden section from being a grading probe (AUTHORING.md).

    The hidden section must define ``probe(seed)`` (one parameter) and a literal ``COMPARE``
    dict of valid rules (:func:`homework_tools.compare.rule_problems`); besides them only
    imports and helper functions belong there (no asserts: they ran in the student's kernel).

    Args:
        hidden: the hidden section's code (:func:`hidden_section`), None if the cell has none.

    Returns:
        Problems, each saying what to change; empty when the probe is well formed.
    """
    howto = "define probe(seed) and a literal COMPARE dict there (notebooks/AUTHORING.md)"
    if hidden is None:
        return [f"no grading probe: the test cell has no hidden section; {howto}"]
    try:
        tree = ast.parse(hidden)
    except SyntaxError as err:
        return [f"the hidden section is not valid Python (line {err.lineno}: {err.msg})"]
    problems = []
    asserts = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assert)]
    probes = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "probe"]
    if asserts and not probes:
        return [f"legacy hidden asserts (line {asserts[0]}): convert them to a grading probe, {howto}"]
    if len(probes) != 1:
        problems.append(f"expected one top-level def probe(seed), found {len(probes)}; {howto}")
    else:
        args = probes[0].args
        if len(args.posonlyargs) + len(args.args) != 1 or args.vararg or args.kwonlyargs or args.kwarg:
            problems.append("probe must take exactly one parameter: def probe(seed)")
    compare, found = _compare_literal(tree)
    problems += found
    if compare is not None:
        problems += [f"COMPARE: {p}" for p in rule_problems(compare)]
    allowed = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.Assign, ast.Expr)
    for node in tree.body:
        if isinstance(node, ast.Assign) and not any(isinstance(t, ast.Name) and t.id == "COMPARE" for t in node.targets):
            problems.append(f"line {node.lineno}: only probe(seed), COMPARE, imports and helper functions "
                            "belong in the hidden section")
        elif isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):  # a docstring is fine
            problems.append(f"line {node.lineno}: a statement that runs something; the hidden section only "
                            "defines probe(seed) and COMPARE")
        elif not isinstance(node, allowed):
            problems.append(f"line {node.lineno}: {type(node).__name__.lower()} statement; the hidden section "
                            "only defines probe(seed), COMPARE, imports and helper functions")
    return problems


def exercises(path: Path | str) -> list[Exercise]:
    """The graded exercises of an instructor notebook, each with its probe and COMPARE rules.

    Args:
        path: a ``.ipynb`` file following notebooks/AUTHORING.md.

    Returns:
        One :class:`Exercise` per graded test cell, in notebook order.

    Raises:
        ValueError: a graded cell has no valid grading probe (e.g. legacy hidden asserts);
            the message names every such cell and what is wrong.
    """
    path = Path(path)
    found, problems = [], []
    for index, cell in enumerate(read_notebook(path)["cells"]):
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        if not meta.get("grade") or cell.get("cell_type") != "code":
            continue
        grade_id = str(meta.get("grade_id", f"cell {index}"))
        text = cell_source(cell)
        hidden = hidden_section(text)
        bad = probe_problems(hidden)
        if bad:
            problems += [f"{grade_id}: {p}" for p in bad]
            continue
        compare, _ = _compare_literal(ast.parse(hidden))
        found.append(Exercise(grade_id, float(meta.get("points") or 0), hidden, compare))
    if problems:
        raise ValueError(f"{path.name} cannot be graded until every exercise has a grading probe:\n  "
                         + "\n  ".join(problems))
    return found
