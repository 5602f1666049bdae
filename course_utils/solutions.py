"""The course's reference material, read on request from the instructor notebooks.

Three kinds, each kept in ``notebooks/NN_topic.ipynb`` (the instructor source) next to what it
belongs to:

* an exercise's **reference solution**: the code between the solution markers of its solution
  cell (:func:`solution`);
* its **hints**: one markdown cell directly after its graded test cell, with cell metadata
  ``{"course": {"hints": "NN-exK"}}``, a heading ``#### Hints for exercise K`` and a numbered
  list of one to three hints (:func:`hints`);
* the **reference answers** of a questionnaire: one markdown cell after the questionnaire, with
  cell metadata ``{"course": {"answers": "NN", "checked": {...}}}`` and a numbered list, one
  item per question; ``checked`` holds, for the questions whose answer is a number, a shape or a
  name, the value the learner's answer is compared with (:func:`reference_answer`,
  :func:`check_answer`).

A learner never reads these directly: their copy of the course (``make lab``) has stubs, no
hints and no answers, and :mod:`course_utils.learner` shows one piece at a time. In a terminal:
``python -m course_utils.solutions 03-ex2``. The notebooks are those of the course this package
belongs to, or ``$CONVNETS_NOTEBOOKS``; a copy of the course without them (a homework bundle of
released notebooks) says so instead of showing anything.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _checks

_BEGIN, _END = "BEGIN SOLUTION", "END SOLUTION"  # nbgrader's markers (see notebooks/AUTHORING.md)
_EXERCISE = re.compile(r"^(\d\d)-ex(\d+)(?:-code|-test)?$")
_QUESTION = re.compile(r"^(\d\d)-q(\d+)$")
_HEADING = re.compile(r"^#+\s*(Exercise\s+\d+.*)$", re.MULTILINE)
_QUESTIONNAIRE = re.compile(r"^#{2,4}[ \t]+Questionnaire[ \t]*$", re.MULTILINE)
_ANY_HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)
_ITEM = re.compile(r"^(\d+)\.\s+")
COURSE = "course"  # the cell-metadata key of everything below
HINTS, ANSWERS, CHECKED = "hints", "answers", "checked"
HINTS_HEADING = "#### Hints for exercise {k}"
MAX_HINTS = 3


class ReferenceUnavailable(LookupError):
    """This copy of the course has no reference material (solution, hints or answers) for what was asked."""


SolutionUnavailable = ReferenceUnavailable  # the name the first version of this module used


@dataclass(frozen=True)
class Solution:
    """The reference solution of one exercise.

    Attributes:
        exercise: its id, e.g. ``"03-ex2"``.
        title: its heading, e.g. ``"Exercise 2 (2 points): same padding"`` (or the id).
        code: the solution cell with the solution markers removed.
        notebook: the instructor notebook it was read from.
        note: a line shown under it (e.g. how many hints were left unused), or "".
    """

    exercise: str
    title: str
    code: str
    notebook: Path
    note: str = ""

    def __str__(self) -> str:
        note = f"\n{self.note}\n" if self.note else ""
        return f"Reference solution of {self.title} (from {self.notebook.name}):\n\n{self.code}\n{note}"

    def _repr_markdown_(self) -> str:
        note = f"\n\n*{self.note}*" if self.note else ""
        return (f"**Reference solution** of {self.title} (from `{self.notebook.name}`); compare it with "
                f"yours, then close the gap in your own words:\n\n```python\n{self.code}\n```{note}")


@dataclass(frozen=True)
class Hints:
    """The hints of one exercise, first the gentlest.

    Attributes:
        exercise: its id, e.g. ``"03-ex2"``; hints: the hints' texts (1 to 3); notebook: where they were read.
    """

    exercise: str
    hints: tuple[str, ...]
    notebook: Path


@dataclass(frozen=True)
class Question:
    """One questionnaire question: ``id`` like ``"03-q4"``, its ``number`` (4) and its markdown ``text``."""

    id: str
    number: int
    text: str


@dataclass(frozen=True)
class ReferenceAnswer:
    """The reference answer of one questionnaire question.

    Attributes:
        question: the :class:`Question`; text: the reference answer (markdown);
        check: for a number, shape or name, ``{"value": ..., "form": ..., "atol"/"rtol"/"accept": ...}``, else None;
        notebook: where it was read.
    """

    question: Question
    text: str
    check: dict[str, Any] | None
    notebook: Path = field(default=Path("."))


def notebooks_dir() -> Path:
    """Where the instructor notebooks are: ``$CONVNETS_NOTEBOOKS`` or the course's ``notebooks/``."""
    return Path(os.environ.get("CONVNETS_NOTEBOOKS") or Path(__file__).resolve().parent.parent / "notebooks")


def _cell(cell: Any, name: str = "cell") -> dict:
    """``cell`` if it is a notebook cell: a dict whose source is a string or a list of strings, metadata a dict."""
    if not isinstance(cell, dict):
        raise TypeError(f"{name} must be a notebook cell (a dict, e.g. nb['cells'][0]), got {_checks.describe(cell)}")
    src = cell.get("source", "")
    if not isinstance(src, str) and not (isinstance(src, list) and all(isinstance(line, str) for line in src)):
        raise TypeError(f"{name}['source'] must be a string or a list of strings, got {_checks.describe(src)}")
    if not isinstance(cell.get("metadata") or {}, dict):
        raise TypeError(f"{name}['metadata'] must be a dict, got {_checks.describe(cell.get('metadata'))}")
    return cell


def _cells(cells: Any) -> list[dict]:
    """``cells`` if it is a notebook's list of cells (each checked)."""
    if isinstance(cells, dict):
        raise TypeError("cells must be a notebook's list of cells (nb['cells']), got the notebook itself (a dict)")
    if not isinstance(cells, (list, tuple)):
        raise TypeError(f"cells must be a notebook's list of cells (nb['cells']), got {_checks.describe(cells)}")
    return [_cell(c, f"cells[{i}]") for i, c in enumerate(cells)]


def _markdown(markdown: Any) -> str:
    if not isinstance(markdown, str):
        raise TypeError(f"markdown must be a cell's text (str), got {_checks.describe(markdown)}")
    return markdown


def cell_source(cell: dict) -> str:
    """A cell's source as one string (notebook files store a list of lines or a string)."""
    src = _cell(cell).get("source", "")
    return "".join(src) if isinstance(src, list) else src


def course_meta(cell: dict) -> dict:
    """The ``course`` part of a cell's metadata ({} if none)."""
    meta = (_cell(cell).get("metadata") or {}).get(COURSE)
    return meta if isinstance(meta, dict) else {}


def numbered_items(markdown: str) -> dict[int, str]:
    """The items of the numbered lists in ``markdown``: ``{number: text}`` (continuation lines joined).

    An item starts at the beginning of a line with ``N.`` and a space; indented or wrapped lines
    below it belong to it; a blank line followed by an unindented paragraph, or a heading, ends it.
    """
    markdown = _markdown(markdown)
    items: dict[int, list[str]] = {}
    current: int | None = None
    blank = False
    for line in markdown.split("\n"):
        match = _ITEM.match(line)
        if match:
            current, blank = int(match.group(1)), False
            items[current] = [line[match.end():].strip()]
        elif current is not None and line.strip() and not _ANY_HEADING.match(line) and (not blank or line[:1] == " "):
            items[current].append(line.strip())
            blank = False
        elif not line.strip():
            blank = True
        else:
            current = None
    return {n: " ".join(part for part in lines if part) for n, lines in items.items()}


def split_questionnaire(markdown: str) -> tuple[str, list[tuple[int, str]], str] | None:
    """Split a cell holding a questionnaire: ``(text up to and including its heading, [(number, question
    text with its original line breaks)], text from the next heading on)``, or None without one."""
    match = _QUESTIONNAIRE.search(_markdown(markdown))
    if not match:
        return None
    head, rest = markdown[:match.end()], markdown[match.end():]
    nxt = _ANY_HEADING.search(rest)
    body, tail = (rest[:nxt.start()], rest[nxt.start():]) if nxt else (rest, "")
    questions: list[tuple[int, list[str]]] = []
    for line in body.split("\n"):
        item = _ITEM.match(line)
        if item:
            questions.append((int(item.group(1)), [line[item.end():]]))
        elif questions and line.strip():
            questions[-1][1].append(line.strip())
    return head, [(n, "\n".join(lines).strip()) for n, lines in questions], tail


def questionnaire(cells: list[dict], number: str) -> list[Question]:
    """The questions of notebook ``number``'s questionnaire (the first cell that has one), in order."""
    if not isinstance(number, str) or not re.fullmatch(r"\d\d", number, re.ASCII):
        raise ValueError(f"number must be the notebook's two digits, e.g. '03', got {_checks.describe(number)}")
    for cell in _cells(cells):
        if cell.get("cell_type") == "markdown":
            parts = split_questionnaire(cell_source(cell))
            if parts:
                return [Question(f"{number}-q{n}", n, " ".join(text.split())) for n, text in parts[1]]
    return []


_CACHE: dict[Path, tuple[tuple[int, int], list[dict]]] = {}


def read_cells(path: str | os.PathLike) -> list[dict]:
    """The cells of a notebook file, re-read only when the file changed.

    Raises:
        FileNotFoundError, IsADirectoryError: no notebook file at ``path``.
        ReferenceUnavailable: the file is not a notebook (damaged: restore it).
    """
    if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str) or not str(path).strip():
        raise TypeError(f"path must be a notebook file's path (str or Path), got {_checks.describe(path)}")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"path {str(path)!r} is a folder; give the path of a notebook (.ipynb) inside it")
    if not path.is_file():
        raise FileNotFoundError(f"path {str(path)!r}: no notebook file there (check the spelling and the folder)")
    stat = path.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    if _CACHE.get(path, ((-1, -1), []))[0] != key:
        try:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
                raise TypeError("its cells are not a list of cells")
        except (ValueError, KeyError, TypeError) as err:
            raise ReferenceUnavailable(f"path {path.name} is not a readable notebook ({err}); restore it from the "
                                       "course repository") from None
        _CACHE[path] = (key, cells)
    return _CACHE[path][1]


def _notebook(number: str, what: str, example: str = "the exercise id under the exercise's self-check, e.g. '03-ex2'") -> Path:
    folder = notebooks_dir()
    found = sorted(p for p in folder.glob(f"{number}_*.ipynb") if not p.name.endswith(".new.ipynb")) \
        if folder.is_dir() else []
    others = sorted(p.name[:2] for p in folder.glob("[0-9][0-9]_*.ipynb")) if folder.is_dir() and not found else []
    if others:  # the course is here, the notebook number is not
        raise ValueError(f"notebook {number} is not in this course, which has notebooks {others[0]} to {others[-1]}; "
                         f"check {example}")
    if not found:
        raise ReferenceUnavailable(f"{what} are not available in this copy of the course: there is no instructor "
                                   f"notebook {number}_*.ipynb in {folder}")
    return found[0]


def _exercise(exercise: Any) -> tuple[str, str]:
    if not isinstance(exercise, str) or not _EXERCISE.match(exercise.strip()):
        raise ValueError(f"expected an exercise id like '03-ex2' (notebook 03, exercise 2), got {exercise!r}")
    number, k = _EXERCISE.match(exercise.strip()).groups()
    return number, f"{number}-ex{k}"


def exercise_ids(cells: list[dict]) -> list[str]:
    """The ids ``NN-exK`` of a notebook's exercises (its solution cells), in order."""
    return [m["grade_id"][: -len("-code")] for c in _cells(cells) if c.get("cell_type") == "code"
            and (m := (c.get("metadata") or {}).get("nbgrader") or {}).get("solution")
            and str(m.get("grade_id", "")).endswith("-code")]


def _student_version(path: Path, what: str) -> ReferenceUnavailable:
    return ReferenceUnavailable(f"{what} are not available in this copy of the course: {path.name} is a student "
                                "version. Ask your instructor, or use the public course repository for self-study.")


def solution(exercise: str) -> Solution:
    """The reference solution of one exercise, to read after trying it yourself.

    Args:
        exercise: the exercise id ``"NN-exK"`` (notebook NN, exercise K), as written in the
            note under its self-check; ``"NN-exK-code"`` and ``"NN-exK-test"`` work too.

    Returns:
        A :class:`Solution`: displayed as highlighted code when it is a cell's last value,
        plain text with ``print``.

    Raises:
        ValueError: ``exercise`` is not an exercise id, or the notebook has no such exercise.
        ReferenceUnavailable: this copy of the course has no instructor notebooks, or only
            student versions (solutions removed), e.g. a homework bundle.
    """
    number, exercise = _exercise(exercise)
    path = _notebook(number, "solutions")
    cells = read_cells(path)
    for index, cell in enumerate(cells):
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if meta.get("grade_id") != f"{exercise}-code" or not meta.get("solution"):
            continue
        code = cell_source(cell)
        if _BEGIN not in code:
            raise _student_version(path, "solutions")
        title = exercise
        for previous in reversed(cells[:index]):
            match = _HEADING.search(cell_source(previous)) if previous.get("cell_type") == "markdown" else None
            if match:
                title = match.group(1).strip()
                break
        lines = [line for line in code.split("\n") if _BEGIN not in line and _END not in line]
        return Solution(exercise, title, "\n".join(lines).strip("\n"), path)
    known = exercise_ids(cells)
    raise ValueError(f"{path.name} has no exercise {exercise!r}; its exercises are {', '.join(known) or 'none'}")


def hints(exercise: str) -> Hints:
    """The hints of one exercise (read from the cell after its self-check in the instructor notebook).

    Raises:
        ValueError: ``exercise`` is not an exercise id, or the notebook has no such exercise.
        ReferenceUnavailable: this copy of the course has no hints for it (e.g. a homework bundle
            released without hints).
    """
    number, exercise = _exercise(exercise)
    path = _notebook(number, "hints")
    cells = read_cells(path)
    for cell in cells:
        if course_meta(cell).get(HINTS) == exercise:
            texts = numbered_items(cell_source(cell))
            if not texts:
                raise ReferenceUnavailable(f"the hints cell of {exercise} in {path.name} has no numbered hints")
            return Hints(exercise, tuple(texts[n] for n in sorted(texts)), path)
    if exercise not in exercise_ids(cells):
        known = exercise_ids(cells)
        raise ValueError(f"{path.name} has no exercise {exercise!r}; its exercises are {', '.join(known) or 'none'}")
    raise ReferenceUnavailable(f"hints are not available in this copy of the course: {path.name} has none for "
                               f"{exercise}. Ask your instructor, or use the public course repository.")


def reference_answer(question: str) -> ReferenceAnswer:
    """The reference answer of one questionnaire question, e.g. ``"03-q4"`` (notebook 03, question 4).

    Raises:
        ValueError: ``question`` is not a question id, or the questionnaire has no such question.
        ReferenceUnavailable: this copy of the course has no reference answers for that notebook.
    """
    if not isinstance(question, str) or not _QUESTION.match(question.strip()):
        raise ValueError(f"expected a question id like '03-q4' (notebook 03, question 4), got {question!r}")
    number, k = _QUESTION.match(question.strip()).groups()
    path = _notebook(number, "reference answers", "the question id, e.g. '03-q4' (notebook 03, question 4)")
    cells = read_cells(path)
    questions = {q.number: q for q in questionnaire(cells, number)}
    if int(k) not in questions:
        raise ValueError(f"the questionnaire of {path.name} has questions 1 to {len(questions)}, not {question!r}"
                         if questions else f"{path.name} has no questionnaire")
    for cell in cells:
        meta = course_meta(cell)
        if meta.get(ANSWERS) == number:
            text = numbered_items(cell_source(cell)).get(int(k))
            if text is None:
                break
            check = (meta.get(CHECKED) or {}).get(str(int(k)))
            return ReferenceAnswer(questions[int(k)], text, check if isinstance(check, dict) else None, path)
    raise ReferenceUnavailable(f"reference answers are not available in this copy of the course: {path.name} has "
                               f"none for question {int(k)}. Ask your instructor, or use the public course "
                               "repository.")


def _plain(value: Any) -> Any:
    """A learner's value as plain data: tuples, ``torch.Size`` and arrays as lists, scalars as numbers."""
    if isinstance(value, str):
        return value
    if hasattr(value, "tolist") and callable(value.tolist):  # NumPy arrays and scalars, tensors
        return _plain(value.tolist())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)) or type(value).__name__ == "Size":
        return [_plain(v) for v in value]
    return value


def _same(got: Any, want: Any, rtol: float, atol: float, where: str) -> str | None:
    """None if ``got`` matches ``want``, else a short reason that does not give the answer away."""
    if isinstance(want, list):
        if not isinstance(got, list):
            return f"{where}expected {len(want)} values (a tuple or a list), got one value"
        if len(got) != len(want):
            return f"{where}expected {len(want)} values, got {len(got)}"
        for i, (g, w) in enumerate(zip(got, want), start=1):
            reason = _same(g, w, rtol, atol, f"{where}value {i}: ")
            if reason:
                return reason
        return None
    if isinstance(want, str):
        if not isinstance(got, str):
            return f"{where}expected a name (a string)"
        return None if " ".join(got.split()).lower() == " ".join(want.split()).lower() else f"{where}not the expected name"
    if isinstance(want, bool) or isinstance(got, bool) or not isinstance(got, (int, float)):
        return None if got == want else f"{where}not the expected value"
    try:
        number = float(got)
    except OverflowError:  # an int beyond any float: no reference is that large
        return f"{where}not the expected value"
    if not math.isfinite(number):
        return f"{where}got {got}"
    tol = atol + rtol * abs(want)
    if isinstance(want, float) and not want.is_integer() and tol == 0:
        tol = 0.01 * abs(want)  # a decimal reference is rounded: accept 1%
    return None if abs(number - want) <= tol else f"{where}not the expected value"


def _reference_value(value: Any) -> bool:
    """A checked value as a notebook's metadata holds it: a number, a string, a bool, or lists of them."""
    if isinstance(value, list):
        return all(_reference_value(v) for v in value)
    return isinstance(value, (int, str)) or (isinstance(value, float) and math.isfinite(value))


def _checked(check: Any) -> tuple[float, float]:
    """``check``'s tolerances (rtol, atol), once it is a valid ``checked`` entry."""
    if not isinstance(check, dict) or "value" not in check:
        raise TypeError("check must be a question's checked entry, a dict such as {'value': [16, 1], 'rtol': 0.01}, "
                        f"got {_checks.describe(check)}")
    accept = check.get("accept", [])
    if not isinstance(accept, list):
        raise TypeError(f"check['accept'] must be a list of other right values, got {_checks.describe(accept)}")
    for i, want in enumerate([check["value"], *accept]):
        if not _reference_value(want):
            raise TypeError(f"check {'value' if i == 0 else f'accept[{i - 1}]'} must be a number, a string or a list of "
                            f"them (JSON), got {_checks.describe(want)}")
    tolerances = []
    for key in ("rtol", "atol"):
        tol = check.get(key, 0.0)
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not math.isfinite(tol) or tol < 0:
            raise ValueError(f"check['{key}'] must be a number >= 0, got {_checks.describe(tol)}")
        tolerances.append(float(tol))
    return tolerances[0], tolerances[1]


def check_answer(value: Any, check: dict[str, Any]) -> tuple[bool, str]:
    """Compare a learner's value with a question's ``checked`` entry.

    Args:
        value: what the learner gave: a number, a string, or a tuple/list/``torch.Size``/array of them.
        check: ``{"value": reference, "rtol": r, "atol": a, "accept": [other right values]}``
            (tolerances for numbers; a decimal reference without tolerances accepts 1%).

    Returns:
        ``(right, reason)``: the reason says what differs without giving the answer away.

    Raises:
        TypeError, ValueError: ``check`` is not such an entry (no ``value``, a negative tolerance...).
    """
    got = _plain(value)
    rtol, atol = _checked(check)
    reason = ""
    for want in [check.get("value"), *check.get("accept", [])]:
        why = _same(got, want, rtol, atol, "")
        if why is None:
            return True, "right"
        reason = reason or why
    return False, reason


def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.solutions NN-exK``: print one reference solution."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m course_utils.solutions NN-exK   (e.g. 03-ex2)", file=sys.stderr)
        return 2
    try:
        print(solution(args[0]))
    except (ValueError, ReferenceUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
