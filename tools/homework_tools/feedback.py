"""Feedback a student can act on, built from a grading record alone.

For every exercise: the points, which checks failed said in words (from the record's
reasons), the answer cell to look at (found by its ``NN-exK-code`` grade_id in the
notebook as it ran, with the exercise's heading), and whether the answer still raises
``NotImplementedError`` (not solved yet). Never in it: the probes, their inputs, the
reference answers, or names the student's code chose. An exception is named only when it
is one of Python's built-in exceptions: a class of the student's own could be named after
anything (the seed, a hidden line), so it reads "an exception of your own class or a
library's".

The same words serve the feedback files (:func:`feedback`), Gradescope and PrairieLearn
(:func:`exercise_notes`).
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field

from .safe import cell_grade_id, cell_text, notebook_cells, safe_text

# the reasons of homework_tools.compare, in words (never a value)
REASONS = {
    "missing": "no answer came back for this check (your code raised an error or did not define "
               "what the task asks for)",
    "differs": "your answer is not the expected one",
    "out of bounds": "your value is outside the range a right answer falls in",
    "not close enough": "your numbers are not close enough to the expected ones (beyond the tolerance)",
    "too few matches": "too few of your answers match the expected ones",
    "wrong kind of value": "your answer has the wrong type or shape (e.g. a list where a number or "
                           "tensor is expected)",
}
STATUSES = {
    "not run": "the check did not run (time was up, or your notebook stopped before it)",
    "timeout": "your code took too long",
    "killed": "your code took too long or crashed the kernel",
    "died": "the kernel died while your code ran",
    "too large": "your answer was too large to be read",
    "unreadable": "your answer could not be read",
}
UNSOLVED = "NotImplementedError"
_HEADING = re.compile(r"^#+\s*(Exercise\s+\d+.*)$", re.MULTILINE)


def exception_name(ename: str) -> str:
    """An exception's name as the student may see it: built-in ones by name, others not at all."""
    value = getattr(builtins, ename, None) if ename.isidentifier() else None
    if isinstance(value, type) and issubclass(value, BaseException):
        return ename
    return "an exception of your own class or a library's"


@dataclass
class ExerciseNote:
    """What one exercise got, in words for the student."""

    grade_id: str  # the graded test cell, e.g. "03-ex2-test"
    title: str  # e.g. "Exercise 2 (3 points): padding" (from the notebook), else the grade_id
    points: float
    max_points: float
    passed: int
    checks: int
    unsolved: bool  # the answer still raises NotImplementedError
    lines: list[str] = field(default_factory=list)  # what went wrong and where to look

    def text(self) -> str:
        """What to tell the student about this exercise (one line when all went well)."""
        if self.lines:
            return "\n".join(self.lines)
        return "The check passed." if self.checks == 1 else f"All {self.checks} checks passed."


def answer_cells(cells: list[dict]) -> dict[str, tuple[int, str]]:
    """``{exercise: (cell index, heading)}`` of each answer cell (grade_id ``NN-exK-code``)."""
    found, heading = {}, ""
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "markdown":
            match = _HEADING.search(cell_text(cell))
            heading = match.group(1).strip() if match else heading
        elif cell_grade_id(cell).endswith("-code"):
            found.setdefault(cell_grade_id(cell)[: -len("-code")], (index, heading))
    return found


def _cell_words(cell: dict) -> str:
    """What happened to a cell, in words: ``"it raised ValueError"``, ``"it took too long"``..."""
    if cell.get("status") == "error":
        return f"it raised {exception_name(cell['ename'])}" if cell.get("ename") else "it raised an error"
    words = {"timeout": "it took too long", "killed": "it took too long or crashed the kernel",
             "died": "the kernel died while it ran", "not run": "it did not run (time was up, or the notebook "
             "stopped before)"}
    return words.get(cell.get("status", ""), f"it ended with {cell.get('status')}")


def _raised_unsolved(cell: dict) -> bool:
    return cell.get("status") == "error" and cell.get("ename") == UNSOLVED


def exercise_notes(record: dict) -> list[ExerciseNote]:
    """One :class:`ExerciseNote` per exercise of a grading record (scores clamped to ``[0, max]``).

    An exercise is "not solved yet" when its probe, its answer cell or its own test cell
    raised NotImplementedError, or it scored 0 with ``raise NotImplementedError`` still in
    its answer cell (a function stub raises only when called).
    """
    cells = notebook_cells(record.get("notebook"))
    answers = answer_cells(cells)
    tests = {cell_grade_id(c): i for i, c in enumerate(cells) if cell_grade_id(c).endswith("-test")}
    statuses = {c["index"]: c for c in record.get("cells", [])}
    notes = []
    for e in record["exercises"]:
        exercise = e["grade_id"].removesuffix("-test")
        index, heading = answers.get(exercise, (None, ""))
        title = safe_text(heading)[:100] or exercise
        where = (f"your answer cell (cell {index + 1}, under \u201c{title}\u201d)" if index is not None
                 else f"your answer to {exercise}")
        cell = statuses.get(index, {}) if index is not None else {}
        status = e["status"]
        points = min(max(float(e["points"]), 0.0), float(e["max_points"]))
        stub = index is not None and f"raise {UNSOLVED}" in cell_text(cells[index])
        unsolved = (status == f"error {UNSOLVED}" or _raised_unsolved(cell) or (points == 0 and stub) or
                    (points == 0 and _raised_unsolved(statuses.get(tests.get(e["grade_id"], -1), {}))))
        checks = e["checks"]
        none = ", so its check could not pass" if checks == 1 else f", so none of its {checks} checks could pass"
        lines = []
        if unsolved:
            lines.append(f"Not solved yet: {where} still raises NotImplementedError. Replace "
                         "`raise NotImplementedError()` with your answer.")
        elif status.startswith("error"):
            lines.append(f"Checking {where} raised {exception_name(status[6:]) if status[6:] else 'an error'}{none}.")
        elif status != "ok":
            words = STATUSES.get(status, "the check did not finish")
            lines.append(f"{words[:1].upper()}{words[1:]} ({where}){none}.")
        elif e["passed"] < checks:
            failed = [REASONS.get(r, "a check failed") for r in e.get("reasons", [])] or ["a check failed"]
            count = "The check failed" if checks == 1 else f"{checks - e['passed']} of {checks} checks failed"
            lines.append(f"{count}: " + "; ".join(failed) + f". Look again at {where}.")
        if cell.get("status") not in (None, "ok") and not unsolved:  # the cause comes first
            lines.insert(0, f"{where[:1].upper()}{where[1:]} did not finish: {_cell_words(cell)}.")
        notes.append(ExerciseNote(e["grade_id"], title, points, float(e["max_points"]), e["passed"], e["checks"],
                                  unsolved, lines))
    return notes


def feedback(record: dict) -> str:
    """The feedback for one graded notebook (markdown): points per exercise and what to do.

    Built only from the record: statuses, counts, reasons and the notebook as handed in;
    no hidden test, probe input or reference answer is in it.
    """
    notes = exercise_notes(record)
    got, out_of = sum(n.points for n in notes), sum(n.max_points for n in notes)
    lines = [f"# {record['assignment']}: {got:g}/{out_of:g} points", "",
             f"Graded file: `{safe_text(record['file'])}`" +
             (f" (recognised {record['matched']})" if record["matched"] != "exact" else ""), ""]
    if record["problem"]:
        lines += [f"**Your notebook could not be graded completely:** {safe_text(record['problem'])}.", ""]
    for n in notes:
        lines.append(f"## {n.title}: {n.points:g}/{n.max_points:g} points")
        lines += ["", n.text(), ""]
    trouble = [c for c in record["cells"] if c["status"] != "ok"]
    if trouble:
        lines += ["Cells of your notebook that did not finish normally (counting from 1, text cells included):"]
        lines += [f"- cell {c['index'] + 1}: {_cell_words(c)}" for c in trouble]
        lines.append("")
    lines += ["Your notebook's own test cells are checks for you; the grade comes from separate checks "
              "of your functions with new inputs."]
    return "\n".join(lines) + "\n"
