"""Scores: the records of a grading run as a table, CSV and JSON files, feedback; shard merging.

Only the grader writes here, in the course folder (never seen by a sandbox)::

    scores.csv           one row per student: score/max per notebook, total, max, percent, notes
    scores_by_cell.csv   one row per student, notebook and graded cell
    scores.json          the seed and every record (what each exercise got and why), for audits
    shards/scores-<i>-of-<n>.json   the same per shard (``grade --shard i/n``), merged by ``merge``
    graded/<student>/<NN_x>.ipynb   the submission as it ran (its own outputs, cut to the limit)
    feedback/<student>/<NN_x>.md    points per exercise and what to do (:mod:`.feedback`), without
                                    the hidden tests or the reference answers

Every score is clamped to ``[0, points]``. Names come from the submissions folder and are
written safely (:mod:`.safe`): escaped control characters, no spreadsheet formulas, undecodable
bytes kept. A shard file records the whole class and the hashes of what the grades depend on;
:func:`merge` refuses files from different runs and names them.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .feedback import feedback
from .grading import GradeRun, shard_of
from .safe import csv_cell, json_text, safe_text


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
    if student == student.strip() and student.isprintable() and student:
        return student
    return f"'{safe_text(student)}'"


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
    shown = [list(header)] + [[display_name(r[0]), *map(safe_text, r[1:])] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(*shown)]
    left = {0} | {i for i, h in enumerate(header) if h == "notes"}
    lines = []
    for row in shown:
        cells = [str(x).ljust(w) if i in left else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths).rstrip())
    return "\n".join(lines)


# --------------------------------------------------------------------------- files

@contextlib.contextmanager
def replaced_whole(path: Path, suffix: str = "") -> Iterator[Path]:
    """A temporary file beside ``path`` to write, renamed over ``path`` when the block ends well.

    Readers see the old file or the new one, never half of one; a failed block leaves no
    temporary file behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def write_file(path: Path, text: str) -> None:
    """Write a text file whole or not at all (:func:`replaced_whole`)."""
    with replaced_whole(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")


def read_csv(path: Path | str, what: str) -> list[list[str]]:
    """The rows of a CSV file someone gave us (a roster, submission times), header first.

    Raises:
        ValueError: ``what`` and the path, when the file cannot be read or is empty.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ValueError(f"{what} {str(path)!r}: cannot read it as a CSV file ({err})") from None
    if not rows:
        raise ValueError(f"{what} {str(path)!r}: the file is empty")
    return rows


def csv_text(rows: list[list[str]]) -> str:
    """CSV text, every cell made safe (:func:`homework_tools.safe.csv_cell`)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[csv_cell(x) for x in row] for row in rows])
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
    write_file(path, csv_text([header, *rows]))
    by_cell = path.with_name(path.stem + "_by_cell.csv")
    write_file(by_cell, csv_text([["student", "assignment", "grade_id", "score", "max_score"],
                          *[[s.student, s.assignment, s.grade_id, f"{s.score:g}", f"{s.max_score:g}"] for s in scores]]))
    return path, by_cell


def _run_json(run: GradeRun) -> str:
    records = [{k: v for k, v in r.items() if k != "notebook"} for r in run.records]
    data = {"seed": run.seed, "shard": list(run.shard) if run.shard else None, "students": run.students,
            "notes": [list(n) for n in run.notes], "records": records}
    if run.shard is not None:  # what merge checks: one class, one set of notebooks, one grader
        data.update({"class": run.everyone, "inputs": run.inputs,
                     "graded_at": datetime.now(timezone.utc).isoformat(timespec="microseconds")})
    return json_text(data)


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
        try:
            if record.get("notebook"):
                write_file(course_dir / "graded" / folder_name / f"{record['assignment']}.ipynb", record["notebook"])
            write_file(course_dir / "feedback" / folder_name / f"{record['assignment']}.md", feedback(record))
        except (OSError, ValueError) as err:  # one student's files never stop the others'
            note = f"{record['assignment']}: its graded copy or feedback could not be written ({err})"
            run.notes.append((record["student"], note))
            print(f"warning: {safe_text(record['student'])}: {safe_text(note)}", file=sys.stderr)
    if run.shard is not None:
        path = course_dir / "shards" / f"scores-{run.shard[0]}-of-{run.shard[1]}.json"
        write_file(path, _run_json(run))
        return [path]
    written = list(write_csv(cell_scores(run.records), csv_path or course_dir / "scores.csv", run.table_notes(),
                             run.students))
    write_file(course_dir / "scores.json", _run_json(run))
    return written + [course_dir / "scores.json"]


def merge(paths: Sequence[Path | str]) -> GradeRun:
    """Combine the shard files of one sharded run (``grade --shard i/n``) into one run.

    Every file must come from the same run: the same seed and shard count, the same class
    (the student folders found before the split), the same submitted files, instructor
    notebooks, releases and grader code (their hashes), each shard once, each holding only
    its own students.

    Args:
        paths: ``scores-<i>-of-<n>.json`` files, one per shard.

    Raises:
        ValueError: what differs and in which files (e.g. a student added after one shard ran,
            a shard file left from an earlier run, a notebook changed between runs), a missing
            or repeated shard.
    """
    if not paths:
        raise ValueError("expected the shard files scores-<i>-of-<n>.json to merge, got none")
    parts = []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            index, count = data["shard"]
            parts.append((Path(path).name, int(index), int(count), data))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path} is not a shard file of `grade --shard` ({err})") from None
        if not isinstance(data.get("class"), list) or not isinstance(data.get("inputs"), dict):
            raise ValueError(f"{path} was written by an older grader (no class list or input hashes): "
                             "grade that shard again")
    problems = _differences(parts, "shard count", lambda d: d["shard"][1])
    problems += _differences(parts, "seed", lambda d: d["seed"])
    problems += _class_differences(parts)
    problems += _differences(parts, "grader code", lambda d: str(d["inputs"].get("grader"))[:12])
    for what in ("notebooks", "releases"):
        for assignment in sorted({a for p in parts for a in p[3]["inputs"].get(what, {})}):
            problems += _differences(parts, f"{what[:-1]} {assignment}",
                                     lambda d, w=what, a=assignment: str(d["inputs"].get(w, {}).get(a) or "none")[:12])
    problems += _submission_differences(parts)
    if problems:
        newest = max(p[3].get("graded_at", "") for p in parts)
        stale = [p[0] for p in parts if p[3].get("graded_at", "") < newest]
        advice = (f"grade the older shard files again ({', '.join(stale)})" if stale else
                  "grade the shards named above again")
        raise ValueError("the shard files come from different runs:\n  " + "\n  ".join(problems) +
                         f"\n{advice}, with the same --seed, then merge")
    count = parts[0][2]
    indices = sorted(p[1] for p in parts)
    if indices != list(range(count)):
        missing = sorted(set(range(count)) - set(indices))
        repeated = sorted({i for i in indices if indices.count(i) > 1})
        raise ValueError(f"expected shards 0..{count - 1} once each; missing {missing}, repeated {repeated}")
    for name, index, _, data in parts:
        strays = [s for s in data["students"] if shard_of(s, count) != index]
        if strays:
            raise ValueError(f"{name} holds students of another shard ({', '.join(map(_shown, strays[:5]))}): "
                             f"it is not shard {index} of {count} (renamed or copied?); grade that shard again")
    first = parts[0][3]
    run = GradeRun(first["seed"], everyone=first["class"], inputs=first["inputs"])
    for _, _, _, data in sorted(parts, key=lambda p: p[1]):
        run.records += data["records"]
        run.notes += [tuple(n) for n in data["notes"]]
        run.students += data["students"]
    lost = sorted(set(run.everyone) - set(run.students))
    if lost:
        raise ValueError(f"students of the class are in no shard file: {', '.join(map(_shown, lost[:10]))}; "
                         "grade their shards again")
    return run


def _shown(student: str) -> str:
    return f"'{safe_text(student)}'"


def _when(data: dict) -> str:
    return f" (graded {data['graded_at']})" if data.get("graded_at") else ""


def _differences(parts: list, what: str, value: Callable[[dict], object]) -> list[str]:
    """``["<what>: 1 in a.json, b.json; 2 in c.json"]`` when the files disagree, else ``[]``."""
    groups: dict[str, list[str]] = {}
    for name, _, _, data in parts:
        groups.setdefault(str(value(data)), []).append(name + _when(data))
    if len(groups) < 2:
        return []
    return [f"{what}: " + "; ".join(f"{v} in {', '.join(files)}" for v, files in groups.items())]


def _class_differences(parts: list) -> list[str]:
    """Which files were graded without students the others saw (a late student, a removed folder)."""
    classes = {name: set(data["class"]) for name, _, _, data in parts}
    everyone = set().union(*classes.values())
    problems = []
    for name, _, _, data in parts:
        lacking = sorted(everyone - classes[name])
        if lacking:
            problems.append(f"class: {name}{_when(data)} was graded without "
                            f"{', '.join(map(_shown, lacking[:10]))}{' ...' if len(lacking) > 10 else ''} "
                            f"({len(classes[name])} of {len(everyone)} students)")
    return problems


def _submission_differences(parts: list) -> list[str]:
    """Students whose submitted files differ between the files (handed in again between shard runs)."""
    seen: dict[tuple[str, str], dict[str, list[str]]] = {}
    for name, _, _, data in parts:
        for student, files in data["inputs"].get("submissions", {}).items():
            for assignment, digest in files.items():
                seen.setdefault((student, assignment), {}).setdefault(digest, []).append(name)
    changed = sorted(k for k, v in seen.items() if len(v) > 1)
    return [f"the submission of {_shown(student)} for {assignment} changed between runs: " +
            "; ".join(f"{digest.split(' ', 1)[0][:12]} in {', '.join(files)}"
                      for digest, files in seen[(student, assignment)].items())
            for student, assignment in changed[:10]]
