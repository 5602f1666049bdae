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

from .compare import rule_problems, scored_keys
from .config import NOTEBOOKS, ROOT, HomeworkConfig, check_result, environment, nbgrader_api
from .selfstudy import for_students, self_study_problems

# A graded cell whose hidden section is not a grading probe (probe(seed) + a literal COMPARE,
# AUTHORING.md) is an error (`check` fails, and so `make release`). Every course notebook is
# converted; set this to False only while converting an old notebook from hidden asserts (it
# becomes a warning). Either way such a notebook cannot be graded (grade names the cells).
PROBE_PROBLEMS_ARE_ERRORS = True
# A probe(seed) without cases (the first format: the seed and its truths enter the learner's
# kernel) and a missing or short wrong-answer catalogue are errors. Every course notebook is in
# the second format with its catalogue; set this to False only while converting an old notebook
# (they become warnings, and a first-format probe grades through an adapter).
STRICT_PROBES = True
MIN_WRONG, MIN_RIGHT = 4, 2  # catalogue entries each exercise needs (AUTHORING.md)

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
            hidden = hidden_section(text)
            probe = [f"{where}: {p}" for p in probe_problems(hidden)]
            (problems if PROBE_PROBLEMS_ARE_ERRORS else result.warnings).extend(probe)
            if not probe:
                (problems if STRICT_PROBES else result.warnings).extend(
                    f"{where}: {p}" for p in conversion_problems(hidden))
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


def release(notebooks: Iterable[Path | str] | None = None, config: HomeworkConfig | None = None,
            hints: bool = False) -> list[Path]:
    """Build the student version of notebooks with nbgrader's ``generate_assignment``.

    Each notebook becomes one assignment (its file stem). Solutions become
    ``raise NotImplementedError()`` stubs, hidden tests are removed, outputs and widget
    state are cleared, the questionnaires' reference answers are left out (the hints too,
    unless ``hints``), and the assignment is recorded in the gradebook (needed to grade).

    Args:
        notebooks: ``.ipynb`` paths (default: every ``notebooks/NN_*.ipynb``).
        config: where and how (default :class:`HomeworkConfig`).
        hints: keep the exercises' hints (folded; ``hint("NN-exK")`` shows them).

    Returns:
        Paths of the released notebooks, ``<course_dir>/release/<NN_x>/<NN_x>.ipynb``.
    """
    config = config or HomeworkConfig()
    paths = [Path(p) for p in (course_notebooks() if notebooks is None else notebooks)]
    for path in paths:
        read_notebook(path)  # validates suffix, existence and JSON before nbgrader sees it
    with environment():
        return _release(paths, config, hints)


def _release(paths: list[Path], config: HomeworkConfig, hints: bool) -> list[Path]:
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
        for_students(nb, hints)
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
    released = release(notebooks, config, hints)
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
    """One graded test cell, as the grader sees it: its probe, how answers are compared, its catalogue.

    The hidden section is split by :func:`split_hidden` into what runs where: ``cases_code``
    (``cases(seed)`` and the helpers it uses) in the instructor's reference run only,
    ``probe_code`` (``probe(inputs)`` and its helpers) in every learner's kernel,
    ``derive_code`` (``derive(answer, inputs)``) in the instructor's reference run on each
    learner's answer. ``COMPARE``, ``WRONG`` and ``RIGHT`` are literals read here and never run.
    """

    grade_id: str  # e.g. "03-ex2-test"
    points: float  # the cell's points, split equally over the scored keys of compare
    code: str  # the whole hidden section (never shown to students)
    compare: dict[str, Any]  # the literal COMPARE dict
    probe_code: str = ""
    cases_code: str = ""
    derive_code: str | None = None
    # the wrong-answer catalogue: name -> (code, [scored keys it must fail], note); note "" = fails the self-check
    wrong: dict[str, tuple[str, list[str], str]] = field(default_factory=dict)
    right: dict[str, str] = field(default_factory=dict)  # correct variants: name -> code (full marks)
    legacy: bool = False  # a probe(seed) written before cases/probe(inputs): seed and truths reach the kernel

    @property
    def exercise_id(self) -> str:
        """The exercise's id without the cell suffix, e.g. ``"03-ex2"``."""
        return self.grade_id.removesuffix("-test")


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


def visible_part(text: str) -> str:
    """A test cell's source without its hidden sections: the self-check a learner sees."""
    lines, inside = [], False
    for line in text.splitlines():
        if _BEGIN_HIDDEN in line:
            inside = True
        elif _END_HIDDEN in line:
            inside = False
        elif not inside:
            lines.append(line)
    return "\n".join(lines).rstrip() + "\n"


_LITERALS = ("COMPARE", "WRONG", "RIGHT")
_ENTRY_POINTS = {"cases": 1, "probe": 1, "derive": 2}  # function -> number of parameters


def _literal(tree: ast.Module, name: str, required: bool) -> tuple[Any, list[str]]:
    """(value of the top-level ``name = <literal>``, problems) from the parsed hidden section."""
    nodes = [n for n in tree.body if isinstance(n, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == name for t in n.targets)]
    if not nodes:
        return None, [f"expected one {name} = {{...}} assignment, found none"] if required else []
    if len(nodes) > 1:
        return None, [f"expected one {name} = {{...}} assignment, found {len(nodes)}"]
    try:
        return ast.literal_eval(nodes[0].value), []
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None, [f"{name} (line {nodes[0].lineno}) must be a literal: it is read with "
                      "ast.literal_eval, never executed (no names, calls or expressions)"]


def _compare_literal(tree: ast.Module) -> tuple[Any, list[str]]:
    return _literal(tree, "COMPARE", True)


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def split_hidden(hidden: str) -> tuple[str, str, str | None]:
    """(cases code, probe code, derive code or None) of a well-formed hidden section.

    Each part holds the module's imports, its entry function and the helper functions it
    uses (directly or through other helpers), in the order they are written; nothing else
    (no literal, no other entry point) goes to where a part runs.
    """
    tree = ast.parse(hidden)
    functions = _functions(tree)
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]

    def part(entry: str) -> str:
        wanted, todo = {entry}, [functions[entry]]
        while todo:
            for node in ast.walk(todo.pop()):
                if isinstance(node, ast.Name) and node.id in functions and node.id not in wanted \
                        and node.id not in _ENTRY_POINTS:
                    wanted.add(node.id)
                    todo.append(functions[node.id])
        keep = imports + [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in wanted]
        keep.sort(key=lambda n: n.lineno)
        return "\n\n".join(ast.get_source_segment(hidden, n, padded=False) for n in keep) + "\n"

    if "cases" not in functions:  # a probe(seed) of the first format: adapted, see _LEGACY
        probe = part("probe")
        return _LEGACY_CASES, probe + _LEGACY_PROBE, None
    return part("cases"), part("probe"), part("derive") if "derive" in functions else None


# A hidden section with only probe(seed) (the first format, before cases/probe(inputs)) still
# grades, through this adapter: its seed enters the learner's kernel, so truths and bad-case
# lists in its locals can be read there. `check` warns; convert it (notebooks/AUTHORING.md).
_LEGACY_CASES = "def cases(seed):\n    return {'seed': int(seed)}, {}\n"
_LEGACY_PROBE = ("\n_legacy_probe = probe\n\n\ndef probe(inputs):\n"
                 "    return _legacy_probe(int(inputs['seed']))\n")


def probe_problems(hidden: str | None, legacy_ok: bool = True) -> list[str]:
    """What keeps a test cell's hidden section from being a grading probe (AUTHORING.md).

    The hidden section defines ``cases(seed)`` (inputs drawn outside the learner's kernel,
    returning ``(inputs, truth)``), ``probe(inputs)`` (one parameter: run in the learner's
    kernel), optionally ``derive(answer, inputs)``, a literal ``COMPARE`` dict of valid rules
    (:func:`homework_tools.compare.rule_problems`) and the literal wrong-answer catalogue
    ``WRONG`` / ``RIGHT`` (:func:`catalogue_problems`); besides them only imports and helper
    functions (no asserts: they would run in the student's kernel).

    Args:
        hidden: the hidden section's code (:func:`hidden_section`), None if the cell has none.
        legacy_ok: accept a ``probe(seed)`` without ``cases`` (the first format).

    Returns:
        Problems, each saying what to change; empty when the probe is well formed.
    """
    howto = "define cases(seed), probe(inputs) and a literal COMPARE dict there (notebooks/AUTHORING.md)"
    if hidden is None:
        return [f"no grading probe: the test cell has no hidden section; {howto}"]
    try:
        tree = ast.parse(hidden)
    except SyntaxError as err:
        return [f"the hidden section is not valid Python (line {err.lineno}: {err.msg})"]
    problems = []
    asserts = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assert)]
    functions = _functions(tree)
    if asserts and "probe" not in functions:
        return [f"legacy hidden asserts (line {asserts[0]}): convert them to a grading probe, {howto}"]
    entries = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in _ENTRY_POINTS]
    for name in _ENTRY_POINTS:
        count = sum(n.name == name for n in entries)
        if count > 1:
            problems.append(f"expected one top-level def {name}, found {count}")
    if "probe" not in functions:
        problems.append(f"expected a top-level def probe(inputs); {howto}")
    if "cases" not in functions and not legacy_ok:
        problems.append(f"expected a top-level def cases(seed): the probe's inputs are drawn outside the "
                        f"learner's kernel; {howto}")
    for name, wanted in _ENTRY_POINTS.items():
        if name in functions:
            args = functions[name].args
            if len(args.posonlyargs) + len(args.args) != wanted or args.vararg or args.kwonlyargs or args.kwarg:
                signature = {"cases": "cases(seed)", "probe": "probe(inputs)", "derive": "derive(answer, inputs)"}[name]
                problems.append(f"{name} must take exactly {wanted} parameter{'s' if wanted > 1 else ''}: def {signature}")
    compare, found = _compare_literal(tree)
    problems += found
    if compare is not None:
        problems += [f"COMPARE: {p}" for p in rule_problems(compare)]
        wrong, found_w = _literal(tree, "WRONG", False)
        right, found_r = _literal(tree, "RIGHT", False)
        problems += found_w + found_r
        if not found_w and not found_r:
            problems += catalogue_problems(wrong, right, compare)
    allowed = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.Assign, ast.Expr)
    for node in tree.body:
        if isinstance(node, ast.Assign) and not any(isinstance(t, ast.Name) and t.id in _LITERALS for t in node.targets):
            problems.append(f"line {node.lineno}: only cases, probe, derive, COMPARE, WRONG, RIGHT, imports and "
                            "helper functions belong in the hidden section")
        elif isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):  # a docstring is fine
            problems.append(f"line {node.lineno}: a statement that runs something; the hidden section only "
                            "defines functions and literals")
        elif not isinstance(node, allowed):
            problems.append(f"line {node.lineno}: {type(node).__name__.lower()} statement; the hidden section "
                            "only defines cases, probe, derive, COMPARE, WRONG, RIGHT, imports and helper functions")
    return problems


def conversion_problems(hidden: str) -> list[str]:
    """What a well-formed probe still lacks: ``cases`` (the second format) and a full catalogue."""
    tree = ast.parse(hidden)
    problems = []
    if "cases" not in _functions(tree):
        problems.append("probe(seed) of the first format: the seed (and every truth the probe computes) enters "
                        "the learner's kernel; write cases(seed) and probe(inputs) (notebooks/AUTHORING.md)")
    wrong = _literal(tree, "WRONG", False)[0] or {}
    right = _literal(tree, "RIGHT", False)[0] or {}
    if len(wrong) < MIN_WRONG or len(right) < MIN_RIGHT:
        problems.append(f"the wrong-answer catalogue has {len(wrong)} wrong answers and {len(right)} correct "
                        f"variants; at least {MIN_WRONG} and {MIN_RIGHT} (notebooks/AUTHORING.md)")
    return problems


def catalogue_problems(wrong: Any, right: Any, compare: dict) -> list[str]:
    """Problems of an exercise's wrong-answer catalogue (``WRONG``, ``RIGHT``; both optional here).

    ``WRONG = {name: (code, [keys it fails])}`` or ``(code, [keys], note)`` where the note says
    why this wrong answer passes the visible self-check (by design; otherwise it must fail it);
    every listed key is a scored key of ``COMPARE``. ``RIGHT = {name: code}``.
    """
    problems: list[str] = []
    scored = set(scored_keys(compare))
    if wrong is not None:
        if not isinstance(wrong, dict):
            return ["WRONG must be a dict {name: (code, [keys it fails])}"]
        for name, entry in wrong.items():
            ok = (isinstance(entry, tuple) and len(entry) in (2, 3) and isinstance(entry[0], str)
                  and isinstance(entry[1], list) and entry[1] and all(isinstance(k, str) for k in entry[1])
                  and (len(entry) == 2 or isinstance(entry[2], str) and entry[2].strip()))
            if not isinstance(name, str) or not ok:
                problems.append(f"WRONG[{name!r}] must be (code, [scored keys it fails]) or (code, [keys], "
                                "'why it passes the self-check')")
                continue
            unknown = [k for k in entry[1] if k not in scored]
            if unknown:
                problems.append(f"WRONG[{name!r}] lists keys that are not scored keys of COMPARE: {unknown}")
            problems += [f"WRONG[{name!r}]: {p}" for p in _code_problems(entry[0])]
    if right is not None:
        if not isinstance(right, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in right.items()):
            return problems + ["RIGHT must be a dict {name: code}"]
        for name, code in right.items():
            problems += [f"RIGHT[{name!r}]: {p}" for p in _code_problems(code)]
    return problems


def _code_problems(code: str) -> list[str]:
    try:
        ast.parse(code)
    except SyntaxError as err:
        return [f"not valid Python (line {err.lineno}: {err.msg})"]
    return []


def exercises(path: Path | str) -> list[Exercise]:
    """The graded exercises of an instructor notebook, each with its probe, rules and catalogue.

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
        tree = ast.parse(hidden)
        compare, _ = _compare_literal(tree)
        wrong = _literal(tree, "WRONG", False)[0] or {}
        right = _literal(tree, "RIGHT", False)[0] or {}
        cases_code, probe_code, derive_code = split_hidden(hidden)
        found.append(Exercise(grade_id, float(meta.get("points") or 0), hidden, compare, probe_code, cases_code,
                              derive_code, {k: (v[0], list(v[1]), v[2] if len(v) > 2 else "") for k, v in wrong.items()},
                              dict(right), legacy="cases" not in _functions(tree)))
    if problems:
        raise ValueError(f"{path.name} cannot be graded until every exercise has a grading probe:\n  "
                         + "\n  ".join(problems))
    return found
