"""The self-study material of a course notebook: hints for every exercise, a reference answer for every
questionnaire question (formats in :mod:`course_utils.solutions` and notebooks/AUTHORING.md).

* :func:`self_study_problems`: what ``python tools/homework.py check`` adds to the exercise format:
  every exercise has a hints cell right after its test cell (one to three numbered hints, none of
  them a line of the solution's code or its answer value), every questionnaire question a reference
  answer, and every automatic check a well-formed entry.
* :func:`bundle_notebooks`: released notebooks as they go into the student bundle: without the
  reference answers, and without the hints unless the instructor asks for them (then folded, and
  ``hint()`` reads them from the bundle).
"""

from __future__ import annotations

import ast
import io
import re
import textwrap
import tokenize

from course_utils import solutions

_HINTS_HEADING = re.compile(r"^#{2,4}\s+Hints for exercise (\d+)\s*$", re.MULTILINE)
_MIN_LINE = 12  # shorter solution lines ("return k", "n += 1") are too common to count as the answer given away


def _nbgrader(cell: dict) -> dict:
    return (cell.get("metadata") or {}).get("nbgrader") or {}


def _regions(source: str) -> list[str]:
    """The code between the solution markers of a cell (one string per region)."""
    regions, current = [], None
    for line in source.split("\n"):
        if "BEGIN SOLUTION" in line:
            current = []
        elif "END SOLUTION" in line:
            if current is not None:
                regions.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return regions


def _without_comments(code: str) -> list[str]:
    """The lines of ``code`` with comments removed (by Python's tokenizer; the lines as they are if it fails)."""
    lines = code.split("\n")
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.COMMENT:
                row, col = token.start
                lines[row - 1] = lines[row - 1][:col]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return lines


def _squash(text: str) -> str:
    return "".join(text.split())


def answer_giveaways(solution_source: str) -> tuple[list[str], list[str]]:
    """What a hint must not contain: (the solution's code lines, its literal answer values), from the regions
    between the solution markers of a solution cell. Values are small literals a region assigns or returns
    (``max_shift_20 = 6``, ``return 1.21, 1.44, 37``): numbers other than -1, 0, 1, 2, and non-empty
    containers; not strings, flags or None."""
    lines, values = [], []
    for region in _regions(solution_source):
        code = textwrap.dedent(region)
        lines += [" ".join(line.split()) for line in _without_comments(code) if len(line.strip()) >= _MIN_LINE]
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign, ast.Return)) else None
            if value is None:
                continue
            try:
                literal = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            if isinstance(literal, (bool, str, bytes)) or literal is None or literal in (0, 1, 2, -1):
                continue  # names and flags of the task's own vocabulary are no answer given away
            if isinstance(literal, (int, float)) or (hasattr(literal, "__len__") and len(literal)):
                values.append(repr(literal))
            if isinstance(literal, (tuple, list)) and all(isinstance(v, (int, float)) for v in literal):
                values += [repr(v) for v in literal if not isinstance(v, bool) and v not in (0, 1, 2, -1)]
    return lines, values


def _gives_away(hint: str, lines: list[str], values: list[str]) -> str | None:
    """The first solution line or answer value found verbatim in ``hint``, or None."""
    flat, squashed = " ".join(hint.split()), _squash(hint)
    for line in lines:
        if line in flat:
            return f"the solution's line `{line}`"
    for value in values:
        if re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", value):
            if re.search(rf"(?<![\w.]){re.escape(value)}(?![\w]|\.\d)", flat):
                return f"the answer's value {value}"
        elif _squash(value) in squashed:
            return f"the answer's value {value}"
    return None


def _hint_problems(cells: list[dict], number: str) -> list[str]:
    problems = []
    solved = {m["grade_id"][: -len("-code")]: solutions.cell_source(c) for c in cells
              if (m := _nbgrader(c)).get("solution") and str(m.get("grade_id", "")).endswith("-code")}
    placed: set[int] = set()
    for index, cell in enumerate(cells):
        meta = _nbgrader(cell)
        grade_id = str(meta.get("grade_id", ""))
        if not (meta.get("grade") and grade_id.endswith("-test")):
            continue
        exercise = grade_id[: -len("-test")]
        after = cells[index + 1] if index + 1 < len(cells) else {}
        if solutions.course_meta(after).get(solutions.HINTS) != exercise:
            problems.append(f"cell {index} ({grade_id}): exercise {exercise} has no hints: add a markdown cell right "
                            f"after its test cell, with metadata {{\"course\": {{\"hints\": \"{exercise}\"}}}}, the "
                            f"heading '#### Hints for exercise K' and 1 to 3 numbered hints (notebooks/AUTHORING.md)")
            continue
        placed.add(index + 1)
        where = f"cell {index + 1} (hints of {exercise})"
        text = solutions.cell_source(after)
        if after.get("cell_type") != "markdown":
            problems.append(f"{where}: must be a markdown cell")
        heading = _HINTS_HEADING.search(text)
        if not heading or heading.group(1) != exercise.split("-ex")[1]:
            problems.append(f"{where}: its heading must be '#### Hints for exercise {exercise.split('-ex')[1]}'")
        items = solutions.numbered_items(text)
        if sorted(items) != list(range(1, len(items) + 1)) or not 1 <= len(items) <= solutions.MAX_HINTS:
            problems.append(f"{where}: expected 1 to {solutions.MAX_HINTS} hints numbered 1., 2., 3., got "
                            f"{sorted(items) or 'none'}")
        lines, values = answer_giveaways(solved.get(exercise, ""))
        for n, hint in sorted(items.items()):
            if not hint.strip():
                problems.append(f"{where}: hint {n} is empty")
            leak = _gives_away(hint, lines, values)
            if leak:
                problems.append(f"{where}: hint {n} contains {leak} verbatim: a hint leads to the answer, it does "
                                "not give it")
    for index, cell in enumerate(cells):
        exercise = solutions.course_meta(cell).get(solutions.HINTS)
        if exercise and index not in placed:
            problems.append(f"cell {index}: hints of {exercise!r} are not right after the test cell of an exercise "
                            f"{exercise!r} of this notebook ({number})")
    return problems


def _answer_problems(cells: list[dict], number: str) -> list[str]:
    questions = solutions.questionnaire(cells, number)
    blocks = [(i, c) for i, c in enumerate(cells) if solutions.course_meta(c).get(solutions.ANSWERS) is not None]
    if not questions:
        return [f"cell {i}: reference answers, but the notebook has no questionnaire" for i, _ in blocks]
    if not blocks:
        return [f"the questionnaire has {len(questions)} questions and no reference answers: add a markdown cell "
                f"after it with metadata {{\"course\": {{\"answers\": \"{number}\"}}}} and one numbered answer per "
                "question (notebooks/AUTHORING.md)"]
    problems = []
    index, cell = blocks[0]
    meta = solutions.course_meta(cell)
    where = f"cell {index} (reference answers)"
    if meta.get(solutions.ANSWERS) != number:
        problems.append(f"{where}: metadata course.answers should be {number!r}, got {meta.get(solutions.ANSWERS)!r}")
    if len(blocks) > 1:
        problems.append(f"cells {[i for i, _ in blocks]}: more than one reference-answer cell; keep one")
    items = solutions.numbered_items(solutions.cell_source(cell))
    numbers = [q.number for q in questions]
    missing = [n for n in numbers if not items.get(n, "").strip()]
    extra = sorted(set(items) - set(numbers))
    if missing:
        problems.append(f"{where}: no reference answer for question{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(map(str, missing))}")
    if extra:
        problems.append(f"{where}: answers {extra} match no question (the questionnaire has {len(numbers)})")
    checked = meta.get(solutions.CHECKED, {})
    if not isinstance(checked, dict):
        return problems + [f"{where}: course.checked must be a dict {{question number: check}}"]
    for key, check in checked.items():
        if not (isinstance(key, str) and key.isdigit() and int(key) in numbers):
            problems.append(f"{where}: course.checked has {key!r}, which is no question number of this questionnaire")
        elif not isinstance(check, dict) or "value" not in check:
            problems.append(f"{where}: the check of question {key} needs a 'value' (the reference)")
        elif not solutions.check_answer(check["value"], check)[0]:
            problems.append(f"{where}: the check of question {key} rejects its own value (tolerances?)")
        elif unknown := sorted(set(check) - {"value", "form", "rtol", "atol", "accept"}):
            problems.append(f"{where}: the check of question {key} has unknown keys {unknown}")
    return problems


def self_study_problems(nb: dict, number: str) -> list[str]:
    """Hints and reference answers of one notebook (a notebook dict, ``number`` its ``NN``): an empty
    list when every exercise has well-formed hints that give no answer away and every questionnaire
    question has a reference answer."""
    cells = nb.get("cells", [])
    return _hint_problems(cells, number) + _answer_problems(cells, number)


def for_students(nb: dict, hints: bool = False) -> dict:
    """A released notebook as students get it: the questionnaires' reference answers left out, the
    hints too unless ``hints`` (then kept, folded, for ``hint("NN-exK")`` to read). Changes ``nb``."""
    kept = []
    for cell in nb["cells"]:
        meta = solutions.course_meta(cell)
        if meta.get(solutions.ANSWERS) is not None or (meta.get(solutions.HINTS) and not hints):
            continue
        if meta.get(solutions.HINTS):
            cell.setdefault("metadata", {}).setdefault("jupyter", {})["source_hidden"] = True
        kept.append(cell)
    nb["cells"] = kept
    return nb
