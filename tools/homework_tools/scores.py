"""Scores: one :class:`CellScore` per graded cell, the score table, its CSV files."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence


@dataclass(frozen=True)
class CellScore:
    """The score of one autograded cell of one student's notebook."""

    student: str  # student id (the submission folder's name)
    assignment: str  # notebook stem, e.g. "03_conv2d_hyperparameters"
    grade_id: str  # nbgrader grade_id of the test cell, e.g. "03-ex2-test"
    score: float  # points obtained
    max_score: float  # points available


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
