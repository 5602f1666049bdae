"""The self-study loop of a learner copy: hints before solutions, questionnaire answers, progress.

In a learner's workspace (``make lab``) every exercise is a stub with a self-check below it, and
the reference material of the instructor notebooks (:mod:`course_utils.solutions`) comes one
piece at a time, on request::

    hint("03-ex2")                    # the first hint (a nudge); hint("03-ex2", 2) the next one
    solution("03-ex2")                # the reference solution, and how many hints were left unused
    compare_answer("03-q4")           # a questionnaire question's reference answer (write yours first)
    compare_answer("03-q3", (16, 1))  # a number/shape answer, checked
    progress()                        # per notebook: exercises passed, attempted, untouched; questions answered

Every self-check run in the workspace (its first line calls :func:`self_check`), every hint,
solution and answer shown is recorded in ``<workspace>/.course/progress.jsonl``: on this machine,
in the workspace only, never in ``notebooks/`` and never online. The record is keyed by exercise
and question ids, so it survives a notebook updated or merged under the learner; two kernels
may write at once (a file lock); a damaged line is set aside with a warning and the rest kept;
a read-only workspace keeps the session's record in memory and says so. ``reset_progress()``
starts afresh (the old record is kept beside it).

In a terminal: ``python -m course_utils.learner progress`` (what ``make progress`` runs), ``reset``,
``hint 03-ex2 [N]``, ``solution 03-ex2``, ``answer 03-q4 [VALUE]``.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import re
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import _checks, solutions

RECORD, DAMAGED, MARKER = "progress.jsonl", "progress.damaged.jsonl", "workspace.json"  # under <workspace>/.course/
KINDS = ("check", "hint", "solution", "answer")
# Cells a learner copy adds under each questionnaire question (tools/workspace.py writes them).
QUESTION_CELL, ANSWER_CELL, CHECK_CELL = "question", "your_answer", "check_answer"
ANSWER_PLACEHOLDER = "*Your answer (double-click this cell, write, then Shift+Enter):*"
_ITEM = re.compile(r"^\d\d-(ex|q)\d+$")
_MISSING = object()


class ProgressWarning(UserWarning):
    """Something about the progress record the learner should know (damaged, not writable, not recorded)."""


def _warn(message: str) -> None:
    warnings.warn(message, ProgressWarning, stacklevel=3)


# --------------------------------------------------------------------------- where the record lives

def find_workspace(start: Path | None = None) -> Path | None:
    """The learner workspace of this session: ``$CONVNETS_WORKSPACE``, else the nearest folder (from
    ``start``, default the current folder, upwards) holding ``.course/workspace.json``, else the course's
    ``workspace/`` if it has been built; None if there is none. Never the instructor ``notebooks/``."""
    start = _checks.folder("start", start) if start is not None else None
    candidates: list[Path] = []
    if os.environ.get("CONVNETS_WORKSPACE"):
        candidates.append(Path(os.environ["CONVNETS_WORKSPACE"]))
    else:
        here = Path(start or Path.cwd()).resolve()
        candidates += [folder for folder in (here, *here.parents) if (folder / ".course" / MARKER).is_file()][:1]
        built = Path(__file__).resolve().parent.parent / "workspace"
        if (built / ".course").is_dir():
            candidates.append(built)
    for folder in candidates:
        folder = folder.resolve()
        if folder == solutions.notebooks_dir().resolve():
            _warn(f"{folder} is the course's instructor notebooks, not a learner workspace: progress is not "
                  "recorded there (make lab builds your workspace)")
            continue
        return folder
    return None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _valid(event: Any) -> bool:
    return (isinstance(event, dict) and event.get("kind") in KINDS and isinstance(event.get("item"), str)
            and bool(_ITEM.match(event["item"])) and isinstance(event.get("time"), str))


class Record:
    """The progress record of one workspace: JSON lines in ``<workspace>/.course/progress.jsonl``.

    Args:
        workspace: the learner's workspace; None keeps events in memory only (nothing is written).
    """

    def __init__(self, workspace: Path | None):
        self.workspace = Path(workspace) if workspace is not None else None
        self.folder = self.workspace / ".course" if self.workspace is not None else None
        self.path = self.folder / RECORD if self.folder is not None else None
        self.memory: list[dict] = []  # events that could not be written (read-only workspace, or none)
        self._warned = False

    def _lock(self):
        from filelock import FileLock

        return FileLock(str(self.folder / "progress.lock"), timeout=30)

    def add(self, kind: str, item: str, **fields: Any) -> dict:
        """Record one event (``kind`` in :data:`KINDS`, ``item`` an exercise or question id); never raises."""
        event = {"time": _now(), "kind": kind, "item": item, **{k: v for k, v in fields.items() if v is not None}}
        if self.path is None:
            self.memory.append(event)
            return event
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._lock(), open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(event, ensure_ascii=False) + "\n")  # one write per event, under the lock
        except OSError as err:
            self.memory.append(event)
            if not self._warned:
                self._warned = True
                _warn(f"your progress cannot be written to {self.path} ({err.__class__.__name__}: {err}); "
                      "this session's progress is kept in memory only, and everything else works as usual")
        return event

    def events(self) -> list[dict]:
        """All recorded events, oldest first; damaged lines are set aside (with a warning), the rest kept."""
        return self._load() + list(self.memory)

    def _load(self) -> list[dict]:
        if self.path is None:
            return []
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as err:
            if not self._warned:
                self._warned = True
                _warn(f"your progress record {self.path} cannot be read ({err}); showing this session's only")
            return []
        good, bad = self._split(text)
        if bad:
            self._heal()
        return good

    @staticmethod
    def _split(text: str) -> tuple[list[dict], list[str]]:
        good, bad = [], []
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                event = None
            (good.append(event) if _valid(event) else bad.append(line))
        return good, bad

    def _heal(self) -> None:
        """Move damaged lines to progress.damaged.jsonl and rewrite the record with the good ones."""
        try:
            with self._lock():
                text = self.path.read_text(encoding="utf-8", errors="replace")  # another kernel may have healed it
                good, bad = self._split(text)
                if not bad:
                    return
                with open(self.folder / DAMAGED, "a", encoding="utf-8") as f:
                    f.write("".join(line + "\n" for line in bad))
                tmp = self.path.with_name(f".{RECORD}.tmp")
                tmp.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in good), encoding="utf-8")
                tmp.replace(self.path)
            _warn(f"{len(bad)} damaged line(s) in your progress record {self.path} were moved to "
                  f"{self.folder / DAMAGED}; the other {len(good)} event(s) are intact")
        except OSError as err:
            _warn(f"your progress record {self.path} has damaged lines, ignored (they could not be set aside: {err})")

    def reset(self) -> Path | None:
        """Start a new record; the old one is kept as ``progress.reset-<time>.jsonl``, whose path is returned."""
        self.memory.clear()
        if self.path is None or not self.path.exists():
            return None
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        with self._lock():
            kept, n = self.folder / f"progress.reset-{stamp}.jsonl", 1
            while kept.exists():  # two resets in one second: the first kept record stays
                n += 1
                kept = self.folder / f"progress.reset-{stamp}-{n}.jsonl"
            self.path.replace(kept)
        return kept


_RECORDS: dict[Path | None, Record] = {}


def _workspace(workspace: Any) -> Path | None:
    """A workspace argument as a resolved folder (None: :func:`find_workspace`'s)."""
    if workspace is None:
        return find_workspace()
    return _checks.folder("workspace", workspace, hint="your learner workspace (make lab builds one)").resolve()


def record(workspace: Path | None = None) -> Record:
    """The :class:`Record` of ``workspace`` (default: :func:`find_workspace`), one per workspace per process."""
    folder = _workspace(workspace)
    if folder is None and None not in _RECORDS:
        _warn("your progress is not recorded: this notebook is not in a learner workspace (make lab builds one)")
    return _RECORDS.setdefault(folder, Record(folder))


# --------------------------------------------------------------------------- what the learner calls

@dataclass(frozen=True)
class Shown:
    """Something shown to the learner: markdown in a notebook (the cell's last value), text with ``print``."""

    markdown: str
    text: str

    def __str__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return self.markdown


def self_check(exercise: str) -> None:
    """Record the outcome of the self-check cell this is called from: passed, failed (with the exception's
    name) or not answered yet (the stub's ``NotImplementedError``). The first line of every self-check
    in a learner copy calls it; outside IPython it does nothing."""
    number, exercise = solutions._exercise(exercise)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    running = getattr(getattr(shell, "displayhook", None), "exec_result", None)  # this cell's ExecutionResult

    def after_cell(result) -> None:
        shell.events.unregister("post_run_cell", after_cell)
        if running is not None and result is not running:
            return  # not the cell that registered (it was interrupted before its end)
        error = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
        outcome = "passed" if error is None else "not answered" if isinstance(error, NotImplementedError) else "failed"
        record().add("check", exercise, outcome=outcome, error=type(error).__name__ if error else None)

    shell.events.register("post_run_cell", after_cell)


def _hints_used(exercise: str, events: list[dict] | None = None) -> int:
    events = record().events() if events is None else events
    return max((int(e.get("n", 0)) for e in events if e["kind"] == "hint" and e["item"] == exercise), default=0)


def hint(exercise: str, n: int = 1) -> Shown:
    """Hint ``n`` (1 = the gentlest) of an exercise, e.g. ``hint("03-ex2")``, then ``hint("03-ex2", 2)``.

    Raises:
        ValueError: not an exercise id, or no hint ``n``.
        solutions.ReferenceUnavailable: this copy of the course has no hints (e.g. a homework bundle).
    """
    found = solutions.hints(exercise)
    total = len(found.hints)
    n = _checks.integer("n", n, 1, hint="the hint's number, 1 for the first")
    if n > total:
        raise ValueError(f"{found.exercise} has {total} hint{'s' if total > 1 else ''}: ask for hint "
                         f"{' or '.join(str(i) for i in range(1, total + 1))}, got {n!r}")
    record().add("hint", found.exercise, n=n)
    after = (f'next: `hint("{found.exercise}", {n + 1})`' if n < total
             else f'that was the last hint; the reference solution: `solution("{found.exercise}")`')
    text = found.hints[n - 1]
    return Shown(f"**Hint {n} of {total}** for exercise `{found.exercise}`: {text}\n\n*Try again first; {after}.*",
                 f"Hint {n} of {total} for {found.exercise}: {text}\n(Try again first; {after.replace('`', '')}.)")


def solution(exercise: str) -> solutions.Solution:
    """The reference solution of an exercise, with how many of its hints you did not use (recorded).

    Raises:
        ValueError: not an exercise id; solutions.ReferenceUnavailable: this copy has no solutions.
    """
    shown = solutions.solution(exercise)
    try:
        total = len(solutions.hints(shown.exercise).hints)
    except solutions.ReferenceUnavailable:
        total = 0
    used = min(_hints_used(shown.exercise), total)
    record().add("solution", shown.exercise, hints_used=used)
    if not total:
        note = ""
    elif used == total:
        note = f"You used all {total} hints first."
    else:
        note = (f"{total - used} of its {total} hints left unused: next time try `hint(\"{shown.exercise}\", "
                f"{used + 1})` first.")
    return replace(shown, note=note)


def compare_answer(question: str, value: Any = _MISSING) -> Shown:
    """A questionnaire question's reference answer; with ``value``, your answer compared first.

    ``compare_answer("03-q4")`` shows the reference (write your own answer in the cell under the question
    first). For a question whose answer is a number, a shape or a name, ``compare_answer("03-q3", value)``
    checks yours and shows the reference only when it is right; ``compare_answer(q, ...)`` (the placeholder
    of the prepared cell) just says what to do. Everything shown is recorded.

    Raises:
        ValueError: not a question id; solutions.ReferenceUnavailable: this copy has no reference answers.
    """
    ref = solutions.reference_answer(question)
    qid, q = ref.question.id, ref.question
    asked = f"**Question {q.number}.** {q.text}"
    form = f" ({ref.check['form']})" if ref.check and ref.check.get("form") else ""
    if value is Ellipsis:
        text = f"Question {q.number}: write your answer{form} in place of ... and run the cell again."
        return Shown(f"{asked}\n\n*Write your answer{form} in place of `...`, then run the cell again.*", text)
    reference = f"{asked}\n\n**Reference answer:** {ref.text}"
    if value is _MISSING:
        record().add("answer", qid, outcome="viewed")
        return Shown(reference, f"Question {q.number}: {q.text}\nReference answer: {ref.text}")
    mine = repr(value) if not isinstance(value, str) else value
    if ref.check is None:
        record().add("answer", qid, outcome="compared", value=mine[:300])
        return Shown(f"{asked}\n\n**Your answer:** {mine}\n\n**Reference answer:** {ref.text}",
                     f"Question {q.number}: {q.text}\nYour answer: {mine}\nReference answer: {ref.text}")
    right, why = solutions.check_answer(value, ref.check)
    record().add("answer", qid, outcome="right" if right else "wrong", value=mine[:300])
    if right:
        return Shown(f"{reference}\n\n*Your answer `{mine}` is right.*",
                     f"Right: {mine}\nQuestion {q.number}: {q.text}\nReference answer: {ref.text}")
    return Shown(f"{asked}\n\n*Not yet: {why}. Think again{form}, or see the reference with `compare_answer(\"{qid}\")`.*",
                 f"Question {q.number}: not yet: {why}. Think again{form}, or see the reference with "
                 f"compare_answer(\"{qid}\").")


def reset_progress(workspace: Path | str | None = None) -> str:
    """Start your progress record afresh; the old record is kept beside it. Returns what was done."""
    kept = record(workspace).reset()
    return (f"progress reset; the previous record is kept as {kept}" if kept
            else "progress reset (there was no record yet)")


# --------------------------------------------------------------------------- the progress report

@dataclass
class ExerciseState:
    """What the record says about one exercise."""

    id: str
    checks: int = 0  # self-check runs with an answer (passed or failed)
    last: str | None = None  # outcome of the last self-check run: passed, failed, not answered
    error: str | None = None  # exception of the last failed run
    passed_before: bool = False
    hints: int = 0  # highest hint number shown
    solution: bool = False
    time: str | None = None  # last event

    @property
    def status(self) -> str:
        if self.last == "passed":
            return "passed"
        return "attempted" if self.checks or self.hints or self.solution else "untouched"


@dataclass
class NotebookState:
    """One notebook of the workspace: its exercises and questionnaire, as the record and the saved file say."""

    name: str
    exercises: list[ExerciseState] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    written: set[str] = field(default_factory=set)  # questions answered (in the saved notebook, or with a value)
    references: set[str] = field(default_factory=set)  # questions whose reference answer was shown
    problem: str = ""

    def count(self, status: str) -> int:
        return sum(e.status == status for e in self.exercises)


def _notebook_items(path: Path) -> tuple[list[str], list[str], set[str], str]:
    """(exercise ids, question ids, questions answered in the saved file, problem) of a workspace notebook."""
    number = path.name[:2]
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        return [], [], set(), f"unreadable ({err.__class__.__name__})"
    questions = [q for c in cells if (q := solutions.course_meta(c).get(QUESTION_CELL))]
    if not questions:  # a copy made before questions had cells of their own
        questions = [q.id for q in solutions.questionnaire(cells, number)]
    written = set()
    for cell in cells:
        q = solutions.course_meta(cell).get(ANSWER_CELL)
        if q and solutions.cell_source(cell).replace(ANSWER_PLACEHOLDER, "").strip():
            written.add(q)
    return solutions.exercise_ids(cells), questions, written, ""


def _local(time: str | None) -> str:
    try:
        return dt.datetime.fromisoformat(time).astimezone().strftime("%Y-%m-%d %H:%M") if time else "-"
    except ValueError:
        return "-"


@dataclass
class Report:
    """The learner's progress over the notebooks of a workspace; ``str()`` is the printed report."""

    workspace: Path | None
    notebooks: list[NotebookState]
    others: list[str]  # recorded items of no notebook in the workspace
    events: int
    last_item: str | None

    def exercise(self, item: str) -> ExerciseState | None:
        return next((e for nb in self.notebooks for e in nb.exercises if e.id == item), None)

    def next_step(self) -> str:
        """The next thing to do: go on where the last activity was, else with the first notebook."""
        if not self.notebooks:
            return "build your workspace with `make lab`, then open 00_start_here.ipynb"
        order = self.notebooks
        start = next((i for i, nb in enumerate(order) if self.last_item and nb.name[:2] == self.last_item[:2]), 0)
        for nb in order[start:] + order[:start]:
            failing = [e for e in nb.exercises if e.status == "attempted"]
            if failing:
                e = failing[0]
                k = int(e.id.split("-ex")[1])
                more = f'stuck? hint("{e.id}", {e.hints + 1})' if e.hints < 3 else f'compare with solution("{e.id}")'
                return f"{nb.name}, exercise {k} ({e.id}): make its self-check pass; {more}"
            todo = [e for e in nb.exercises if e.status == "untouched"]
            if todo:
                return f"{nb.name}, exercise {int(todo[0].id.split('-ex')[1])} ({todo[0].id})"
            left = [q for q in nb.questions if q not in nb.written]
            if left:
                return (f"{nb.name}: answer its questionnaire ({len(left)} of {len(nb.questions)} questions left, "
                        f"first question {left[0].split('-q')[1]})")
        return "everything is done: well done! Go back to any exercise you solved with its solution shown"

    def __str__(self) -> str:
        exercises = [e for nb in self.notebooks for e in nb.exercises]
        questions = sum(len(nb.questions) for nb in self.notebooks)
        written = sum(len(nb.written) for nb in self.notebooks)
        where = (f"workspace {self.workspace}, record .course/{RECORD} ({self.events} events)" if self.workspace
                 else "no learner workspace: nothing is recorded (make lab builds one)")
        lines = [f"Your progress: {sum(e.status == 'passed' for e in exercises)} of {len(exercises)} exercises passed, "
                 f"{sum(e.status == 'attempted' for e in exercises)} attempted; {written} of {questions} "
                 f"questionnaire answers written", f"({where})", "",
                 f"{'notebook':<30} {'passed':>7} {'attempted':>9} {'untouched':>9} {'hints used':>10} "
                 f"{'solutions':>9} {'answers written':>15} {'references':>10}"]
        for nb in self.notebooks:
            passed = f"{nb.count('passed')}/{len(nb.exercises)}"
            ex = (f"{passed:>7} {nb.count('attempted'):>9} {nb.count('untouched'):>9} "
                  f"{sum(e.hints for e in nb.exercises):>10} {sum(e.solution for e in nb.exercises):>9}"
                  if nb.exercises else f"{'-':>7} {'-':>9} {'-':>9} {'-':>10} {'-':>9}")
            qs = f"{len(nb.written)}/{len(nb.questions)}" if nb.questions else "-"
            lines.append(f"{nb.name[:30]:<30} {ex} {qs:>15} {len(nb.references):>10}"
                         + (f"   ({nb.problem})" if nb.problem else ""))
        worked = [e for e in exercises if e.status != "untouched"]
        if worked:
            lines += ["", "Exercises you worked on:"]
            for e in worked:
                last = f" (last: {e.error or e.last})" if e.status != "passed" and e.last else ""
                again = ", passed before" if e.status != "passed" and e.passed_before else ""
                lines.append(f"  {e.id:<7} {e.status:<9} {e.checks} check{'s' if e.checks != 1 else ''}{last}{again}, "
                             f"{e.hints} hint{'s' if e.hints != 1 else ''}, "
                             f"solution {'shown' if e.solution else 'not shown'}, last {_local(e.time)}")
        if self.others:
            lines += ["", f"Recorded but in no notebook of this workspace: {', '.join(sorted(self.others))}"]
        lines += ["", f"Next: {self.next_step()}"]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return f"```text\n{self}\n```"


def report(workspace: Path | str | None = None) -> Report:
    """The progress report of a workspace (default: this session's, :func:`find_workspace`)."""
    folder = _workspace(workspace)
    events = record(folder).events()
    states: dict[str, ExerciseState] = {}
    notebooks: list[NotebookState] = []
    paths = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if not p.name.endswith(".new.ipynb")) \
        if folder is not None and folder.is_dir() else []
    for path in paths:
        ids, questions, written, problem = _notebook_items(path)
        nb = NotebookState(path.stem, [states.setdefault(i, ExerciseState(i)) for i in ids], questions, written,
                           problem=problem)
        notebooks.append(nb)
    by_number = {nb.name[:2]: nb for nb in notebooks}
    others = set()
    for e in events:
        item, nb = e["item"], by_number.get(e["item"][:2])
        if "-ex" in item:
            state = states.get(item)
            if state is None:
                others.add(item)
                continue
            state.time = e["time"]
            if e["kind"] == "check":
                state.last, state.error = e.get("outcome"), e.get("error")
                if state.last in ("passed", "failed"):
                    state.checks += 1
                state.passed_before |= state.last == "passed"
            elif e["kind"] == "hint":
                state.hints = max(state.hints, int(e.get("n", 0)))
            elif e["kind"] == "solution":
                state.solution = True
        elif nb is None or item not in nb.questions:
            others.add(item)
        elif e.get("outcome") == "viewed" or e.get("outcome") == "right":
            nb.references.add(item)
            if e.get("outcome") == "right":
                nb.written.add(item)
        elif e.get("outcome") in ("compared", "wrong"):
            nb.written.add(item)
            if e.get("outcome") == "compared":
                nb.references.add(item)
    return Report(folder, notebooks, sorted(others), len(events), events[-1]["item"] if events else None)


def progress(reset: bool = False) -> Report | Shown:
    """Your progress in this workspace, notebook by notebook, and the next thing to do.

    Args:
        reset: start the record afresh instead (the old one is kept beside it).
    """
    if _checks.flag("reset", reset):
        message = reset_progress()
        return Shown(message, message)
    return report()


# --------------------------------------------------------------------------- command line

def _value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring). Returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m course_utils.learner", description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", type=Path, help="the learner workspace (default: found from here)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("progress", help="your progress, per notebook, and the next thing to do")
    sub.add_parser("reset", help="start the progress record afresh (the old one is kept)")
    p = sub.add_parser("hint", help="a hint for an exercise")
    p.add_argument("exercise")
    p.add_argument("n", nargs="?", type=int, default=1)
    p = sub.add_parser("solution", help="the reference solution of an exercise")
    p.add_argument("exercise")
    p = sub.add_parser("answer", help="the reference answer of a questionnaire question (yours checked if given)")
    p.add_argument("question")
    p.add_argument("value", nargs="?")
    args = parser.parse_args(argv)
    if args.workspace is not None:
        if not (args.workspace / ".course").is_dir():
            print(f"error: {args.workspace} is not a learner workspace (no .course/ folder); make lab builds one",
                  file=sys.stderr)
            return 1
        os.environ["CONVNETS_WORKSPACE"] = str(args.workspace.resolve())
    try:
        if args.command == "progress":
            print(report())
        elif args.command == "reset":
            print(reset_progress())
        elif args.command == "hint":
            print(hint(args.exercise, args.n))
        elif args.command == "solution":
            print(solution(args.exercise))
        else:
            print(compare_answer(args.question) if args.value is None else compare_answer(args.question, _value(args.value)))
    except (ValueError, solutions.ReferenceUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
