"""The reference solution of one exercise, on request, read from the instructor notebooks.

A learner works in a copy of the notebooks in which every exercise is a stub (``make lab``
builds it). Stuck after a real try, they can ask for the reference answer of one exercise::

    from course_utils.solutions import solution
    solution("03-ex2")          # in a notebook: shown as code; print() it anywhere else

or, in a terminal, ``python -m course_utils.solutions 03-ex2``. The answer is read from the
instructor notebook ``notebooks/NN_topic.ipynb`` of the course this package belongs to (or
``$CONVNETS_NOTEBOOKS``). A copy of the course without solutions (a student bundle of
released notebooks) says so instead of showing anything.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

_BEGIN, _END = "BEGIN SOLUTION", "END SOLUTION"  # nbgrader's markers (see notebooks/AUTHORING.md)
_EXERCISE = re.compile(r"^(\d\d)-ex(\d+)(?:-code|-test)?$")
_HEADING = re.compile(r"^#+\s*(Exercise\s+\d+.*)$", re.MULTILINE)


class SolutionUnavailable(LookupError):
    """This copy of the course has no reference solution for the exercise asked for."""


@dataclass(frozen=True)
class Solution:
    """The reference solution of one exercise.

    Attributes:
        exercise: its id, e.g. ``"03-ex2"``.
        title: its heading, e.g. ``"Exercise 2 (2 points): same padding"`` (or the id).
        code: the solution cell with the solution markers removed.
        notebook: the instructor notebook it was read from.
    """

    exercise: str
    title: str
    code: str
    notebook: Path

    def __str__(self) -> str:
        return f"Reference solution of {self.title} (from {self.notebook.name}):\n\n{self.code}\n"

    def _repr_markdown_(self) -> str:
        return (f"**Reference solution** of {self.title} (from `{self.notebook.name}`); compare it with "
                f"yours, then close the gap in your own words:\n\n```python\n{self.code}\n```")


def notebooks_dir() -> Path:
    """Where the instructor notebooks are: ``$CONVNETS_NOTEBOOKS`` or the course's ``notebooks/``."""
    return Path(os.environ.get("CONVNETS_NOTEBOOKS") or Path(__file__).resolve().parent.parent / "notebooks")


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _strip_markers(code: str) -> str:
    return "\n".join(line for line in code.split("\n") if _BEGIN not in line and _END not in line)


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
        SolutionUnavailable: this copy of the course has no instructor notebooks, or only
            student versions (solutions removed), e.g. a homework bundle.
    """
    if not isinstance(exercise, str) or not _EXERCISE.match(exercise.strip()):
        raise ValueError(f"expected an exercise id like '03-ex2' (notebook 03, exercise 2), got {exercise!r}")
    number, k = _EXERCISE.match(exercise.strip()).groups()
    exercise = f"{number}-ex{k}"
    folder = notebooks_dir()
    found = sorted(folder.glob(f"{number}_*.ipynb")) if folder.is_dir() else []
    others = sorted(p.name[:2] for p in folder.glob("[0-9][0-9]_*.ipynb")) if folder.is_dir() and not found else []
    if others:  # the course is here, the notebook number is not
        raise ValueError(f"exercise {exercise!r} names notebook {number}, but this course has notebooks "
                         f"{others[0]} to {others[-1]}; check the id under the exercise's self-check, e.g. '03-ex2'")
    if not found:
        raise SolutionUnavailable(f"solutions are not available in this copy of the course: there is no instructor "
                                  f"notebook {number}_*.ipynb in {folder}")
    path = found[0]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    grade_id = f"{exercise}-code"
    for index, cell in enumerate(cells):
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        if meta.get("grade_id") != grade_id or not meta.get("solution"):
            continue
        code = _source(cell)
        if _BEGIN not in code:
            raise SolutionUnavailable(f"solutions are not available in this copy of the course: {path.name} is a "
                                      f"student version (the solution of {exercise} is not in it). Ask your "
                                      "instructor, or use the public course repository for self-study.")
        title = exercise
        for previous in reversed(cells[:index]):
            match = _HEADING.search(_source(previous)) if previous.get("cell_type") == "markdown" else None
            if match:
                title = match.group(1).strip()
                break
        return Solution(exercise, title, _strip_markers(code).strip("\n"), path)
    known = [m.get("grade_id", "")[: -len("-code")] for c in cells
             if (m := c.get("metadata", {}).get("nbgrader") or {}).get("solution")]
    raise ValueError(f"{path.name} has no exercise {exercise!r}; its exercises are {', '.join(known) or 'none'}")


def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.solutions NN-exK``: print one reference solution."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m course_utils.solutions NN-exK   (e.g. 03-ex2)", file=sys.stderr)
        return 2
    try:
        print(solution(args[0]))
    except (ValueError, SolutionUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
