"""Scores: the records of a grading run as a table, CSV and JSON files, feedback; shard merging.

Only the grader writes here, in the course folder (never seen by a sandbox)::

    scores.csv           one row per student: score/max per notebook, total, max, percent, notes
    scores_by_cell.csv   one row per student, notebook and graded cell
    scores.json          the seed and every record (what each exercise got and why), for audits
    shards/scores-<i>-of-<n>.json   the same per shard (``grade --shard i/n``), merged by ``merge``
    graded/<student>/<NN_x>.ipynb   the submission as it ran (its own outputs, cut to the limit)
    feedback/<student>/<NN_x>.md    points per exercise and what went wrong, without the hidden
                                    tests or the reference answers

Every score is clamped to ``[0, points]``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .grading import GradeRun


@dataclass(frozen=True)
class CellScore:
    """The score of one graded cell of one student's notebook."""

    student: str  # student id (the submission folder's name, literally)
    assignment: str  # notebook stem, e.g. "03_conv_hyperparameters"
    grade_id: str  # grade_id of the test cell, e.g. "03-ex2-test"
    score: float  # points obtained, in [0, max_score]
    max_score: float  # points available


def cell_scores(records: Iterable[dict]) -> list[CellScore]:
    """One :class:`CellScore` per exercise of every record, clamped, sorted."""
    scores = [CellScore(r["student"], r["assignment"], e["grade_id"],
                        min(max(float(e["points"]), 0.0), float(e["max_points"])), float(e["max_points"]))
              for r in records for e in r["exercises"]]
    return sorted(scores, key=lambda s: (s.student, s.assignment, _natural(s.grade_id)))


def _natural(text: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def display_name(student: str) -> str:
    """A student id as shown in the text table: quoted when spaces or odd characters would hide."""
    return student if student == student.strip() and student.isprintable() and student else repr(student)


def score_table(scores: Sequence[CellScore], notes: Iterable[tuple[str, str]] = (),
                students: Iterable[str] = ()) -> tuple[list[str], list[list[str]]]:
    """Scores as a table: one row per student, ``score/max`` per notebook, total, percent, notes.

    Args:
        scores: from :func:`cell_scores`.
        notes: ``(student, note)`` pairs (files not graded and why; ``"-"``: no student).
        students: students to list even without a score (a folder with no notebook).

    Returns:
        ``(header, rows)`` of strings, ready to print or to write as CSV.
    """
    if not all(isinstance(s, CellScore) for s in scores):
        raise TypeError("expected a sequence of CellScore (from cell_scores())")
    notes = list(notes)
    assignments = sorted({s.assignment for s in scores})
    everyone = sorted({s.student for s in scores} | set(students) | {n[0] for n in notes})
    header = ["student", *assignments, "total", "max", "percent", "notes"]
    rows = []
    for student in everyone:
        row, total, maximum = [student], 0.0, 0.0
        for assignment in assignments:
            mine = [s for s in scores if s.student == student and s.assignment == assignment]
            got, out_of = sum(s.score for s in mine), sum(s.max_score for s in mine)
            row.append(f"{got:g}/{out_of:g}" if mine else "-")
            total, maximum = total + got, maximum + out_of
        row += [f"{total:g}", f"{maximum:g}", f"{100 * total / maximum:.0f}" if maximum else "-",
                "; ".join(n for s, n in notes if s == student)]
        rows.append(row)
    return header, rows


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Fixed-width text of a table (student and notes left-aligned, numbers right-aligned).

    Args:
        header: column names.
        rows: rows of strings, each as long as ``header``.
    """
    if any(len(r) != len(header) for r in rows):
        raise ValueError(f"every row needs {len(header)} fields like the header")
    shown = [list(header)] + [[display_name(r[0]), *r[1:]] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(*shown)]
    left = {0} | {i for i, h in enumerate(header) if h == "notes"}
    lines = []
    for row in shown:
        cells = [str(x).ljust(w) if i in left else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths).rstrip())
    return "\n".join(lines)


# --------------------------------------------------------------------------- files

def _write(path: Path, text: str) -> None:
    """Write a file whole or not at all (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def write_csv(scores: Sequence[CellScore], path: Path | str, notes: Iterable[tuple[str, str]] = (),
              students: Iterable[str] = ()) -> tuple[Path, Path]:
    """Write the score table to ``path`` and the per-cell scores next to it (``*_by_cell.csv``).

    Args:
        scores: from :func:`cell_scores`.
        path: the CSV file of the table, e.g. ``homework/scores.csv``.
        notes: ``(student, note)`` pairs for the notes column.
        students: students to list even without a score.

    Returns:
        The two paths written.
    """
    path = Path(path)
    if path.suffix != ".csv":
        raise ValueError(f"expected a .csv path, got {str(path)!r}")
    header, rows = score_table(scores, notes, students)
    _write(path, _csv([header, *rows]))
    by_cell = path.with_name(path.stem + "_by_cell.csv")
    _write(by_cell, _csv([["student", "assignment", "grade_id", "score", "max_score"],
                          *[[s.student, s.assignment, s.grade_id, f"{s.score:g}", f"{s.max_score:g}"] for s in scores]]))
    return path, by_cell


def _run_json(run: GradeRun) -> str:
    records = [{k: v for k, v in r.items() if k != "notebook"} for r in run.records]
    return json.dumps({"seed": run.seed, "shard": list(run.shard) if run.shard else None, "students": run.students,
                       "notes": [list(n) for n in run.notes], "records": records}, indent=1, ensure_ascii=False)


def feedback(record: dict) -> str:
    """The feedback for one graded notebook (markdown): points per exercise and what went wrong.

    Built only from the record's statuses and counts: no hidden test, probe input or
    reference answer is in it.
    """
    got = sum(min(max(e["points"], 0), e["max_points"]) for e in record["exercises"])
    out_of = sum(e["max_points"] for e in record["exercises"])
    lines = [f"# {record['assignment']}: {got:g}/{out_of:g} points", "",
             f"Graded file: `{record['file']}`" + (f" (recognised {record['matched']})" if record["matched"] != "exact" else ""),
             ""]
    if record["problem"]:
        lines += [f"**Your notebook could not be graded completely:** {record['problem']}.", ""]
    lines += ["| exercise | points | checks passed | note |", "|---|---|---|---|"]
    words = {"not run": "not run (time was up, or the notebook stopped before)", "timeout": "took too long",
             "killed": "took too long or crashed the kernel", "too large": "the answer was too large",
             "unreadable": "the answer could not be read"}
    for e in record["exercises"]:
        status = e["status"]
        if status == "ok":
            note = "" if e["passed"] == e["checks"] else "some answers differ from the expected ones"
        elif status.startswith("error"):
            note = f"grading your code raised {status[6:] or 'an error'}"
        else:
            note = words.get(status, status)
        lines.append(f"| {e['grade_id']} | {e['points']:g}/{e['max_points']:g} | {e['passed']} of {e['checks']} | {note} |")
    trouble = [c for c in record["cells"] if c["status"] != "ok"]
    if trouble:
        lines += ["", "Cells of your notebook that did not finish normally (cell numbers count from 0, code and text):"]
        lines += [f"- cell {c['index']}: {c['status']} {c['ename']}".rstrip() for c in trouble]
    lines += ["", "Your notebook's own test cells are checks for you; the grade comes from separate checks "
              "of your functions with new inputs."]
    return "\n".join(lines) + "\n"


def write_run(run: GradeRun, course_dir: Path | str, csv_path: Path | str | None = None) -> list[Path]:
    """Write a grading run's files into the course folder (see the module docstring).

    Args:
        run: from :func:`homework_tools.grading.grade`.
        course_dir: the course folder.
        csv_path: the score table (default ``<course_dir>/scores.csv``); not written for a shard.

    Returns:
        The score files written (CSV and JSON; the per-student files are not listed).
    """
    course_dir = Path(course_dir)
    for record in run.records:
        folder_name = record["student"]  # a folder name as listed: one path component, taken literally
        if record.get("notebook"):
            _write(course_dir / "graded" / folder_name / f"{record['assignment']}.ipynb", record["notebook"])
        _write(course_dir / "feedback" / folder_name / f"{record['assignment']}.md", feedback(record))
    if run.shard is not None:
        path = course_dir / "shards" / f"scores-{run.shard[0]}-of-{run.shard[1]}.json"
        _write(path, _run_json(run))
        return [path]
    written = list(write_csv(cell_scores(run.records), csv_path or course_dir / "scores.csv", run.table_notes(),
                             run.students))
    _write(course_dir / "scores.json", _run_json(run))
    return written + [course_dir / "scores.json"]


def merge(paths: Sequence[Path | str]) -> GradeRun:
    """Combine the shard files of one sharded run (``grade --shard i/n``) into one run.

    Args:
        paths: ``scores-<i>-of-<n>.json`` files, one per shard.

    Raises:
        ValueError: files from different runs (seed or n), a missing or repeated shard.
    """
    if not paths:
        raise ValueError("expected the shard files scores-<i>-of-<n>.json to merge, got none")
    parts = []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            index, count = data["shard"]
            parts.append((int(index), int(count), data))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path} is not a shard file of `grade --shard` ({err})") from None
    counts, seeds = {p[1] for p in parts}, {p[2]["seed"] for p in parts}
    if len(counts) != 1 or len(seeds) != 1:
        raise ValueError(f"the shard files come from different runs (shard counts {sorted(counts)}, "
                         f"seeds {sorted(seeds)})")
    (count,) = counts
    indices = sorted(p[0] for p in parts)
    if indices != list(range(count)):
        missing = sorted(set(range(count)) - set(indices))
        repeated = sorted({i for i in indices if indices.count(i) > 1})
        raise ValueError(f"expected shards 0..{count - 1} once each; missing {missing}, repeated {repeated}")
    run = GradeRun(seeds.pop())
    for _, _, data in sorted(parts, key=lambda p: p[0]):
        run.records += data["records"]
        run.notes += [tuple(n) for n in data["notes"]]
        run.students += data["students"]
    return run
