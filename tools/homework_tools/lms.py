"""Scores for a learning management system: a roster, Canvas's and Moodle's CSV, late work applied.

``python tools/homework.py export canvas --roster roster.csv`` reads ``scores.json`` and
writes one row per roster student (never fewer: a student without a submission gets an
explicit 0 in an LMS file and ``missing`` in the table) with a column per notebook and,
with ``--by-exercise``, per exercise:

* ``canvas``: Canvas's gradebook import layout (its importer, ``lib/gradebook_importer.rb``):
  ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per assignment, and
  a ``Points Possible`` row. A new column name creates an assignment; ``--title
  02_image_kernels="Homework 2 (1234)"`` fills an existing one. Canvas finds each student by
  ID, then SIS User ID, then SIS Login ID, then name: a roster exported from Canvas's own
  gradebook carries all of them.
* ``moodle``: for *Grades > Import > CSV file*: ``ID number, Email address, Full name,
  Group`` and numbers only (Moodle refuses other text in a grade column); map *Email
  address* (or *ID number*) to the user and each column to a grade item.
* ``table``: for you: per notebook ``raw``, ``late``, ``penalty``, ``final`` and notes, plus
  the submissions that match no roster student.

The roster is a CSV file with a header: ``id`` and ``name`` at least, ``email`` and ``section``
if known (Canvas's export: ``Student, ID, SIS User ID, SIS Login ID, Section``; Moodle's:
``ID number, Email address, First name, Last name``). A submission folder is matched to a
student by id, email, the part of the email before ``@``, Canvas ID or name (ignoring case,
accents spelled either way, repeated spaces), or by the name in Moodle's download folders
(``Full Name_123456_assignsubmission_file_``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .late import Lateness, LatePolicy, apply
from .safe import safe_text
from .scores import read_csv

_ALIASES = {  # roster field -> header names it may have (lower case)
    "id": ("id", "student id", "sis user id", "id number", "idnumber", "student number", "sid", "matriculation"),
    "name": ("name", "student", "full name", "student name"),
    "email": ("email", "email address", "e-mail", "mail"),
    "section": ("section", "sections", "group", "groups", "class"),
    "login": ("sis login id", "login", "username", "user name"),
    "first": ("first name", "firstname", "given name"),
    "last": ("last name", "lastname", "surname", "family name"),
}
_MOODLE_FOLDER = re.compile(r"^(.*)_\d+_assign(submission|feedback)_\w*$")


@dataclass(frozen=True)
class RosterStudent:
    """One student of the roster."""

    id: str
    name: str
    email: str = ""
    section: str = ""
    canvas_id: str = ""  # Canvas's own user id (the "ID" column of its gradebook export)
    login: str = ""  # Canvas's SIS Login ID, Moodle's username

    def keys(self) -> list[str]:
        """Every name this student may be known by (normalised), most specific first."""
        found = [self.id, self.email, self.email.split("@")[0] if "@" in self.email else "", self.canvas_id,
                 self.login, self.name]
        if "," in self.name:  # Canvas's "Last, First"
            last, first = (x.strip() for x in self.name.split(",", 1))
            found.append(f"{first} {last}")
        return [k for k in dict.fromkeys(map(normal, found)) if k]


def normal(text: str) -> str:
    """A name for matching: NFC, case folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def read_roster(path: Path | str) -> list[RosterStudent]:
    """The students of a roster CSV file (see the module docstring for its columns).

    Raises:
        ValueError: no id or name column, a repeated id, an unreadable file.
    """
    rows = read_csv(path, "roster")
    lowered = [h.strip().lower() for h in rows[0]]
    columns = {key: next((lowered.index(a) for a in names if a in lowered), None) for key, names in _ALIASES.items()}
    canvas = "sis user id" in lowered and "id" in lowered  # Canvas's export: ID is Canvas's own id
    if canvas:
        columns["id"], columns["canvas_id"] = lowered.index("sis user id"), lowered.index("id")
    if columns["id"] is None or (columns["name"] is None and columns["last"] is None):
        raise ValueError(f"roster {str(path)!r}: expected columns id and name (and email, section), got {rows[0]}")
    students, seen = [], set()
    for number, row in enumerate(rows[1:], start=2):
        def cell(key: str, row: list[str] = row) -> str:
            index = columns.get(key)
            return row[index].strip() if index is not None and index < len(row) else ""
        if not any(x.strip() for x in row) or "points possible" in cell("name").lower():
            continue
        name = cell("name") or f"{cell('first')} {cell('last')}".strip()
        student = RosterStudent(id=cell("id") or cell("canvas_id"), name=name, email=cell("email"),
                                section=cell("section"), canvas_id=cell("canvas_id"), login=cell("login"))
        if not student.id:
            raise ValueError(f"roster {str(path)!r} row {number}: no id for {name!r}")
        if student.id in seen:
            raise ValueError(f"roster {str(path)!r} row {number}: the id {student.id!r} appears twice")
        seen.add(student.id)
        students.append(student)
    return students


@dataclass
class Matching:
    """Which submission folder belongs to which roster student."""

    folder_of: dict[str, str] = field(default_factory=dict)  # roster id -> folder (student id of the scores)
    how: dict[str, str] = field(default_factory=dict)  # folder -> how it was matched
    unmatched: list[str] = field(default_factory=list)  # folders that match no roster student
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # folder -> roster ids it could be


def match_roster(folders: list[str], roster: list[RosterStudent]) -> Matching:
    """Match submission folders to roster students (see the module docstring for how).

    A folder matching two students, or two folders matching one student, is not guessed:
    it is listed (ambiguous, or the second folder unmatched).
    """
    index: dict[str, list[RosterStudent]] = {}
    for student in roster:
        for key in student.keys():
            index.setdefault(key, []).append(student)
    result = Matching()
    for folder in sorted(folders):
        candidates, how = index.get(normal(folder), []), "by name"
        moodle = _MOODLE_FOLDER.match(folder)
        if not candidates and moodle:
            candidates, how = index.get(normal(moodle.group(1)), []), "by Moodle's folder name"
        candidates = list({s.id: s for s in candidates}.values())
        if len(candidates) > 1:
            result.ambiguous[folder] = [s.id for s in candidates]
        elif not candidates or candidates[0].id in result.folder_of:
            result.unmatched.append(folder)
        else:
            result.folder_of[candidates[0].id] = folder
            result.how[folder] = how
    return result


@dataclass
class Cell:
    """One student's outcome for one notebook (or one exercise)."""

    raw: float | None  # None: no submission
    max_points: float
    lateness: Lateness | None = None

    @property
    def final(self) -> float:
        return 0.0 if self.raw is None else self.lateness.final if self.lateness else self.raw


@dataclass
class Gradebook:
    """Every roster student's outcome per notebook, with the exercises and late work."""

    roster: list[RosterStudent]
    matching: Matching
    assignments: list[str]
    exercises: dict[str, list[tuple[str, float]]]  # assignment -> [(grade_id, max points)]
    cells: dict[tuple[str, str], Cell]  # (roster id or folder, assignment) -> Cell
    by_exercise: dict[tuple[str, str], float]  # (roster id or folder, grade_id) -> raw points


def gradebook(scores_json: Path | str, roster: list[RosterStudent], policy: LatePolicy | None = None,
              times: dict[tuple[str, str | None], object] | None = None) -> Gradebook:
    """Read ``scores.json`` and lay its scores out per roster student, late work applied.

    Args:
        scores_json: the file ``grade`` (or ``merge``) wrote.
        roster: from :func:`read_roster`.
        policy: the late policy (None: no penalties).
        times: submission times from :func:`homework_tools.late.read_times`, keyed by any
            name of the student (folder, id, email, name) and notebook (or None: any notebook).

    Raises:
        ValueError: the scores file cannot be read.
    """
    try:
        data = json.loads(Path(scores_json).read_text(encoding="utf-8"))
        records = data["records"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{str(scores_json)!r} is not a scores.json of `grade` or `merge` ({err})") from None
    folders = sorted({r["student"] for r in records} | set(data.get("students", [])))
    matching = match_roster(folders, roster)
    assignments = sorted({r["assignment"] for r in records})
    exercises: dict[str, list[tuple[str, float]]] = {}
    for r in records:
        exercises.setdefault(r["assignment"], [(e["grade_id"], float(e["max_points"])) for e in r["exercises"]])
    by_folder = {(r["student"], r["assignment"]): r for r in records}
    timed = {(normal(k), a): t for (k, a), t in (times or {}).items()}
    cells, by_exercise = {}, {}
    owners = [(s.id, matching.folder_of.get(s.id), s.keys()) for s in roster]
    owners += [(folder, folder, [normal(folder)]) for folder in matching.unmatched + list(matching.ambiguous)]
    for owner, folder, keys in owners:
        keys = list(dict.fromkeys([*keys, *([normal(folder)] if folder else [])]))
        for assignment in assignments:
            out_of = sum(m for _, m in exercises[assignment])
            record = by_folder.get((folder, assignment)) if folder else None
            if record is None:
                cells[(owner, assignment)] = Cell(None, out_of)
                continue
            raw = sum(min(max(float(e["points"]), 0.0), float(e["max_points"])) for e in record["exercises"])
            for e in record["exercises"]:
                by_exercise[(owner, e["grade_id"])] = min(max(float(e["points"]), 0.0), float(e["max_points"]))
            submitted = next((timed[(k, a)] for k in keys for a in (assignment, None) if (k, a) in timed), None)
            lateness = apply(policy, keys, assignment, raw, out_of, submitted) if policy else None
            cells[(owner, assignment)] = Cell(raw, out_of, lateness)
    return Gradebook(roster, matching, assignments, exercises, cells, by_exercise)


def _number(value: float) -> str:
    return f"{round(value, 2):g}"


def _columns(book: Gradebook, titles: dict[str, str], by_exercise: bool) -> list[tuple[str, str, str | None, float]]:
    """(column title, assignment, grade_id or None, points possible) for each grade column."""
    columns = []
    for assignment in book.assignments:
        title = titles.get(assignment, assignment)
        columns.append((title, assignment, None, sum(m for _, m in book.exercises[assignment])))
        if by_exercise:
            for grade_id, out_of in book.exercises[assignment]:
                columns.append((f"{title} {grade_id.removesuffix('-test')}", assignment, grade_id, out_of))
    return columns


def _value(book: Gradebook, owner: str, assignment: str, grade_id: str | None) -> float:
    cell = book.cells[(owner, assignment)]
    if grade_id is None:
        return cell.final
    return book.by_exercise.get((owner, grade_id), 0.0)  # exercise columns: raw points (late work: total only)


def canvas_rows(book: Gradebook, titles: dict[str, str] | None = None, by_exercise: bool = False) -> list[list[str]]:
    """Canvas's gradebook import layout: header, ``Points Possible`` row, one row per roster student."""
    columns = _columns(book, titles or {}, by_exercise)
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *[c[0] for c in columns]],
            ["    Points Possible", "", "", "", "", *[_number(c[3]) for c in columns]]]
    for s in book.roster:
        rows.append([s.name, s.canvas_id, s.id, s.login or s.email, s.section,
                     *[_number(_value(book, s.id, a, g)) for _, a, g, _ in columns]])
    return rows


def moodle_rows(book: Gradebook, titles: dict[str, str] | None = None, by_exercise: bool = False) -> list[list[str]]:
    """Moodle's CSV grade import: identity columns, then numbers only, one row per roster student."""
    columns = _columns(book, titles or {}, by_exercise)
    rows = [["ID number", "Email address", "Full name", "Group", *[c[0] for c in columns]]]
    for s in book.roster:
        rows.append([s.id, s.email, s.name, s.section, *[_number(_value(book, s.id, a, g)) for _, a, g, _ in columns]])
    return rows


def table_rows(book: Gradebook, by_exercise: bool = False) -> list[list[str]]:
    """For the instructor: per notebook raw, late, penalty, final; missing said; unmatched folders too."""
    header = ["id", "name", "email", "section", "folder"]
    for assignment in book.assignments:
        header += [f"{assignment} raw", f"{assignment} late", f"{assignment} penalty", f"{assignment} final"]
        if by_exercise:
            header += [f"{assignment} {g.removesuffix('-test')}" for g, _ in book.exercises[assignment]]
    header += ["total", "max", "notes"]
    owners = [(s.id, s.id, s.name, s.email, s.section, book.matching.folder_of.get(s.id, "")) for s in book.roster]
    owners += [(f, "", "", "", "", f) for f in book.matching.unmatched + list(book.matching.ambiguous)]
    rows = [header]
    for owner, student_id, name, email, section, folder in owners:
        row, total, maximum, notes = [student_id, name, email, section, folder], 0.0, 0.0, []
        for assignment in book.assignments:
            cell = book.cells[(owner, assignment)]
            maximum += cell.max_points
            if cell.raw is None:
                row += ["missing", "", "", "0"]
                notes.append(f"{assignment}: no submission")
            else:
                late = cell.lateness
                row += [_number(cell.raw), late.late if late else "", _number(late.penalty) if late else "0",
                        _number(cell.final)]
                if late and late.note:
                    notes.append(f"{assignment}: {late.note}")
            total += cell.final
            if by_exercise:
                row += ["missing" if cell.raw is None else _number(book.by_exercise.get((owner, g), 0.0))
                        for g, _ in book.exercises[assignment]]
        if folder and folder in book.matching.unmatched:
            notes.insert(0, "matches no roster student")
        if folder in book.matching.ambiguous:
            notes.insert(0, f"could be roster ids {', '.join(book.matching.ambiguous[folder])}")
        if folder and book.matching.how.get(folder) not in (None, "by name"):
            notes.append(f"folder matched {book.matching.how[folder]}")
        rows.append(row + [_number(total), _number(maximum), "; ".join(notes)])
    return rows


def summary(book: Gradebook) -> list[str]:
    """Lines for the terminal: who matched, who is missing, what matches nobody."""
    lines = [f"{len(book.matching.folder_of)} of {len(book.roster)} roster students matched a submission folder"]
    missing = [(s, a) for s in book.roster for a in book.assignments if book.cells[(s.id, a)].raw is None]
    if missing:
        shown = ", ".join(f"{safe_text(s.name or s.id)} ({a})" for s, a in missing[:10])
        lines.append(f"no submission (0 in LMS files, 'missing' in the table): {shown}"
                     f"{f' and {len(missing) - 10} more' if len(missing) > 10 else ''}")
    if book.matching.unmatched:
        lines.append("submission folders that match no roster student (not in LMS files; in the table): " +
                     ", ".join(safe_text(repr(f)) for f in book.matching.unmatched))
    for folder, ids in book.matching.ambiguous.items():
        lines.append(f"folder {safe_text(repr(folder))} could be roster ids {', '.join(ids)}: not exported; "
                     "rename the folder to the student's id")
    late = [c for c in book.cells.values() if c.lateness and c.lateness.penalty > 0]
    if late:
        lines.append(f"{len(late)} late submissions got a penalty (see the table's late and penalty columns)")
    return lines
