"""Check each exercise against its wrong-answer catalogue: wrong answers fail, correct variants pass.

Every exercise of an instructor notebook carries a catalogue in its hidden section
(notebooks/AUTHORING.md): ``WRONG = {name: (code, [keys it fails])}``, answers a student
would plausibly write (off-by-one, swapped axes, a rule right only on the listed cases, the
forbidden shortcut, the neighbouring concept), and ``RIGHT = {name: code}``, correct answers
in other styles. :func:`check_notebook` runs the instructor notebook once in a kernel (quick
mode, trusted code, no sandbox), then for each exercise and each entry: runs the entry's code
in place of the solution, runs the visible self-check, and runs ``cases``/``probe``/``derive``
over several seeds exactly as grading does (the inputs cross as plain data, the comparison
happens here). It reports, in words, every way the exercise fails its catalogue:

* a wrong answer that passes the visible self-check (unless its entry says why it must);
* a wrong answer whose failing keys differ from the ones it lists, at any seed (a listed
  key it passes means the probe does not separate it; an unlisted key it fails means the
  entry or the probe is wrong);
* a correct variant that fails the self-check or misses full marks at any seed;
* the untouched release's stub (``raise NotImplementedError()``) earning any key.

``make test`` runs it on every notebook (tests/test_exercises.py);
``python tools/homework.py catalogue NB`` runs it for one.
"""

from __future__ import annotations

import ast
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from . import runner as runner_module
from .authoring import SOLUTION_BEGIN, SOLUTION_END, Exercise, cell_source, exercises, read_notebook, visible_part
from .compare import AnswerError, compare_answers, decode_answer, encode
from .sandbox import SKIP_TAG

DEFAULT_SEEDS = (0, 1, 2)
ANSWER_LIMIT = 256 * 2**20


@dataclass
class Report:
    """What :func:`check_notebook` found for one notebook."""

    notebook: Path
    checked: dict[str, int] = field(default_factory=dict)  # exercise -> catalogue entries checked
    problems: list[str] = field(default_factory=list)  # every way an exercise fails its catalogue


def stub(solution: str) -> str:
    """A solution cell as the release has it: each solution region becomes ``raise NotImplementedError()``."""
    lines, inside = [], False
    for line in solution.splitlines():
        if SOLUTION_BEGIN in line:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(f"{indent}raise NotImplementedError()")
        elif SOLUTION_END in line:
            inside = False
        elif not inside:
            lines.append(line)
    return "\n".join(lines) + "\n"


def defined_names(code: str) -> list[str]:
    """The names a cell defines at its top level (functions, classes, assignments, imports)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return sorted(set(names))


def _solutions(nb: dict) -> dict[str, str]:
    """grade_id of each test cell -> the source of the solution cells since the previous test cell."""
    found, pending = {}, []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        if cell.get("cell_type") != "code" or not meta:
            continue
        if meta.get("solution"):
            pending.append(cell_source(cell))
        elif meta.get("grade"):
            found[str(meta.get("grade_id"))] = "\n\n".join(pending)
            pending = []
    return found


def _tests(nb: dict) -> dict[str, str]:
    return {str(c["metadata"]["nbgrader"]["grade_id"]): cell_source(c) for c in nb["cells"]
            if c.get("cell_type") == "code" and (c.get("metadata", {}).get("nbgrader") or {}).get("grade")}


class _Kernel:
    """The instructor notebook running in one kernel, with the grader's templates to call into it."""

    def __init__(self, path: Path, timeout: float, folder: str) -> None:
        self.nb = nbformat.read(path, as_version=4)
        job = {"cell_timeout": timeout, "output_limit": 2**20, "skip_tag": SKIP_TAG}
        self.runner = runner_module.Runner(self.nb, job, folder, runner_module.Reaper())
        self.folder = folder
        self.timeout = timeout

    def run_notebook(self) -> list[dict]:
        return self.runner.run_notebook(self.timeout * max(1, len(self.nb.cells)))

    def run(self, code: str) -> tuple[str, str]:
        """Run code in the notebook's namespace: (status, exception name)."""
        return self.runner._scratch(code, self.timeout)

    def call(self, template: str, **values: Any) -> tuple[str, Any]:
        """Run one of runner's templates (PROBE, CASES, DERIVE); (status, the decoded answer or None)."""
        out = self.runner._path("answer")
        code = template.format(out=out, **values)
        answers, blobs = self.runner.run_code([("x", code, out)], self.timeout, ANSWER_LIMIT)
        status = answers["x"]
        if not blobs:
            return f"{status['status']} {status['ename']}".strip(), None
        try:
            return "ok", decode_answer(blobs[0][1], ANSWER_LIMIT)
        except AnswerError as err:
            return f"unreadable ({err})", None

    def write(self, blob: bytes) -> str:
        fd, path = tempfile.mkstemp(suffix=".npz", dir=self.folder)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        return path

    def stop(self) -> None:
        self.runner.stop()


def _final(answer: Any, derived: dict | None, derived_keys: set[str]) -> Any:
    """A learner's answer as grading compares it (see ``grading.Reference.final``)."""
    if not isinstance(answer, dict) or derived is None:
        return answer
    return {**{k: v for k, v in answer.items() if k not in derived_keys}, **derived}


def check_notebook(path: Path | str, seeds: tuple[int, ...] = DEFAULT_SEEDS, timeout: float = 300.0,
                   only: str | None = None) -> Report:
    """Run an instructor notebook and check every exercise against its catalogue (see the module docstring).

    Args:
        path: the instructor notebook (quick mode is the caller's environment: ``CONVNETS_QUICK=1``).
        seeds: the seeds every entry is probed with.
        timeout: seconds per cell, probe or self-check.
        only: check only this exercise (e.g. ``"03-ex2"``).

    Returns:
        A :class:`Report`; ``problems`` empty means every exercise separates its catalogue.
    """
    path = Path(path).resolve()
    nb = read_notebook(path)
    tasks = [t for t in exercises(path) if only is None or t.exercise_id == only]
    solutions, tests = _solutions(nb), _tests(nb)
    report = Report(path)
    with tempfile.TemporaryDirectory(prefix="catalogue-") as folder:
        os.chmod(folder, 0o700)
        here = os.getcwd()
        os.chdir(path.parent)
        kernel = _Kernel(path, timeout, folder)
        try:
            kernel.run_notebook()
            for task in tasks:
                report.checked[task.exercise_id] = len(task.wrong) + len(task.right)
                report.problems += _check_exercise(kernel, task, solutions.get(task.grade_id, ""),
                                                   visible_part(tests[task.grade_id]), seeds)
        finally:
            kernel.stop()
            os.chdir(here)
    return report


def _check_exercise(kernel: _Kernel, task: Exercise, solution: str, self_check: str,
                    seeds: tuple[int, ...]) -> list[str]:
    name = task.exercise_id
    problems: list[str] = []
    prelude = runner_module.PRELUDE.format(path=str(runner_module.KERNEL_TOOLS))
    kernel.run(prelude)
    probes: dict[int, tuple[str, dict, set[str]]] = {}  # seed -> (inputs file, reference answer, derived keys)
    for seed in seeds:
        status, drawn = kernel.call(runner_module.CASES, code=task.cases_code, seed=int(seed))
        if status != "ok" or not isinstance(drawn, dict) or not isinstance(drawn.get("truth"), dict):
            return [f"{name}: cases({seed}) {status}"]
        inputs = kernel.write(encode({"inputs": drawn["inputs"]}))
        answer, derived_keys, problem = _answer(kernel, task, inputs, None)
        if problem:
            return [f"{name}: the reference answer at seed {seed}: {problem}"]
        reference = {**answer, **drawn["truth"]}
        failed = [r.key for r in compare_answers(reference, reference, task.compare) if not r.passed]
        if failed:
            return [f"{name}: at seed {seed} the instructor's own answer fails its rules for {failed}"]
        probes[seed] = (inputs, reference, derived_keys)
    entries: list[tuple[str, str, set[str] | None, str]] = [
        (f"WRONG[{label!r}]", code, set(keys), note) for label, (code, keys, note) in task.wrong.items()]
    entries += [(f"RIGHT[{label!r}]", code, None, "") for label, code in task.right.items()]
    entries.append(("the untouched release", stub(solution), set(_scored(task)), ""))
    forget = f"for _homework_name in {defined_names(solution)!r}:\n    globals().pop(_homework_name, None)\n"
    for label, code, fails, note in entries:
        kernel.run(forget)  # an entry replaces the whole solution cell: nothing of the instructor's stays
        status, ename = kernel.run(code)
        if status != "ok" and label != "the untouched release":
            problems.append(f"{name}: {label} does not run ({status} {ename})")
            kernel.run(solution)
            continue
        checked, why = kernel.run(self_check)
        passes_check = checked == "ok"
        if fails is None and not passes_check:
            problems.append(f"{name}: {label} (a correct answer) fails the visible self-check ({why})")
        if fails is not None and passes_check and not note and label != "the untouched release":
            problems.append(f"{name}: {label} passes the visible self-check")
        for seed, (inputs, reference, derived_keys) in probes.items():
            answer, _, problem = _answer(kernel, task, inputs, derived_keys)
            results = compare_answers(answer if not problem else None, reference, task.compare)
            failing = {r.key for r in results if not r.passed}
            if fails is None and failing:
                problems.append(f"{name}: {label} (a correct answer) fails {sorted(failing)} at seed {seed}"
                                + (f" ({problem})" if problem else ""))
            elif label == "the untouched release" and failing != fails:
                problems.append(f"{name}: the untouched release (its answers raise NotImplementedError) earns "
                                f"{sorted(fails - failing)} at seed {seed}: a scored key must fail when the "
                                "learner's code does not run")
            elif fails is not None and failing != fails:
                passed = sorted(fails - failing)
                extra = sorted(failing - fails)
                said = []
                if passed:
                    said.append(f"passes {passed}, which it lists as failing (the probe does not separate it)")
                if extra:
                    said.append(f"also fails {extra}, not listed")
                problems.append(f"{name}: {label} at seed {seed} " + "; ".join(said))
        kernel.run(solution)
    return problems


def _scored(task: Exercise) -> list[str]:
    from .compare import scored_keys

    return scored_keys(task.compare)


def _answer(kernel: _Kernel, task: Exercise, inputs: str, derived_keys: set[str] | None) -> tuple[Any, set[str], str]:
    """(the answer as compared, the keys derive made, a problem or "") of the probe in the kernel's current state."""
    status, answer = kernel.call(runner_module.PROBE, code=task.probe_code, inputs=inputs)
    if status != "ok" or not isinstance(answer, dict):
        return None, set(), f"probe {status}"
    if task.derive_code is None:
        return answer, set(), ""
    answer_file = kernel.write(encode(answer))
    status, derived = kernel.call(runner_module.DERIVE, code=task.derive_code, answer=answer_file, inputs=inputs)
    if status != "ok" or not isinstance(derived, dict):
        if derived_keys is None:
            return None, set(), f"derive {status}"
        derived = {}
    keys = set(derived) if derived_keys is None else derived_keys
    return _final(answer, derived, keys), keys, ""


_SEEDS = re.compile(r"^\d+(,\d+)*$")


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` -> ``(0, 1, 2)``; ``ValueError`` naming the text otherwise."""
    if not _SEEDS.match(text.strip()):
        raise ValueError(f"expected seeds like 0,1,2, got {text!r}")
    return tuple(int(s) for s in text.strip().split(","))
