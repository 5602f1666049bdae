"""Scores where instructors need them: Canvas and Moodle files, late work, the similarity report.

* Gradebooks: the Canvas file follows Canvas's importer (``lib/gradebook_importer.rb``: a
  ``Student, ID, SIS User ID, SIS Login ID, Section`` header, a ``Points Possible`` row,
  numbers), the Moodle file its CSV import (an identifier column, numbers only); every
  roster student has a row and a number (0 without a submission, ``missing`` in the
  table), folders that match nobody or two students are listed, not dropped or guessed.
* Late work around the boundary: exactly on time, one second late, inside the grace time,
  an extension (new date or extra days), the cap, and bad policies refused with the reason.
* Similarity: planted copies (renamed variables, other comments) rank first, above the
  threshold; independent solutions and the reference answer itself stay below it.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import homework_fixtures as fx  # noqa: E402
from homework_tools import cli, grading, late, lms, scores, similarity  # noqa: E402

pytest.importorskip("copydetect", reason="the similarity report needs copydetect: pip install -e '.[instructor]'")

DUE = "2026-03-02T23:59:00+01:00"
ROSTER = """id,name,email,section
1001,Ann Archer,ann@uni.example,A
1002,"Bé, Bob",bob.b@uni.example,A
1003,Cat Cole,cat@uni.example,B
1004,Dan Dorn,dan@uni.example,B
1005,Eve Early,eve@uni.example,B
"""


def _records(points: dict[str, tuple[float, float, float]]) -> list[dict]:
    return [{"student": student, "assignment": "98_fixture", "file": fx.NAME, "matched": "exact", "problem": "",
             "cells": [], "exercises": [
                 {"grade_id": gid, "points": p, "max_points": m, "status": "ok", "passed": 1, "checks": 1, "reasons": []}
                 for gid, p, m in zip(fx.POINTS, got, fx.POINTS.values())]}
            for student, got in points.items()]


@pytest.fixture
def course(tmp_path):
    """scores.json of a graded class: folders by id, email, name, Moodle's download name; strays."""
    points = {"1001": (2, 1, 3), "bob.b": (2, 0, 1.5), "Cat Cole_123456_assignsubmission_file_": (0, 1, 3),
              "eve@uni.example": (2, 1, 3), "zed": (1, 1, 1), "=HYPERLINK()": (0, 0, 0)}
    run = grading.GradeRun(seed=1, records=_records(points), students=sorted(points))
    scores.write_run(run, tmp_path / "course")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return tmp_path


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_canvas_file_follows_the_importer(course, capsys):
    assert cli.main(["--course-dir", str(course / "course"), "export", "canvas", "--roster", str(course / "roster.csv"),
                     "--by-exercise", "--title", "98_fixture=Homework 98 (4242)"]) == 0
    out = capsys.readouterr().out
    rows = _read(course / "course" / "export" / "canvas.csv")
    header = rows[0]
    # what Canvas's importer checks: Student, ID, then SIS User ID + SIS Login ID, the last identity column Section
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert header[5:] == ["Homework 98 (4242)", "Homework 98 (4242) 98-ex1", "Homework 98 (4242) 98-ex2",
                          "Homework 98 (4242) 98-ex3"]
    assert "Points Possible" in rows[1][0] and rows[1][5:] == ["6", "2", "1", "3"]
    by_id = {r[2]: r for r in rows[2:]}
    assert sorted(by_id) == ["1001", "1002", "1003", "1004", "1005"]  # every roster student, once
    assert by_id["1001"][5:] == ["6", "2", "1", "3"] and by_id["1002"][5:] == ["3.5", "2", "0", "1.5"]
    assert by_id["1003"][5:] == ["4", "0", "1", "3"]  # Moodle's download folder name
    assert by_id["1004"][5:] == ["0", "0", "0", "0"]  # no submission: an explicit 0, never an empty cell
    assert by_id["1002"][:5] == ["Bé, Bob", "", "1002", "bob.b@uni.example", "A"]
    assert all(float(x) >= 0 for r in rows[1:] for x in r[5:])
    assert "4 of 5 roster students matched a submission folder" in out
    assert "no submission (0 in LMS files, 'missing' in the table): Dan Dorn (98_fixture)" in out
    assert "match no roster student" in out and "'zed'" in out and "'=HYPERLINK()'" in out


def test_moodle_file_has_numbers_only(course):
    assert cli.main(["--course-dir", str(course / "course"), "export", "moodle", "--roster",
                     str(course / "roster.csv")]) == 0
    rows = _read(course / "course" / "export" / "moodle.csv")
    assert rows[0] == ["ID number", "Email address", "Full name", "Group", "98_fixture"]
    assert [r[0] for r in rows[1:]] == ["1001", "1002", "1003", "1004", "1005"]
    assert all(r[1] for r in rows[1:])  # an identifier Moodle can map for every row
    assert [float(r[4]) for r in rows[1:]] == [6, 3.5, 4, 0, 6]  # Moodle's importer refuses any other text


def test_table_shows_missing_and_strays(course):
    assert cli.main(["--course-dir", str(course / "course"), "export", "table", "--roster", str(course / "roster.csv"),
                     "--by-exercise"]) == 0
    rows = _read(course / "course" / "export" / "table.csv")
    header = rows[0]
    assert header[5:9] == ["98_fixture raw", "98_fixture late", "98_fixture penalty", "98_fixture final"]
    by = {r[0] or r[4]: dict(zip(header, r)) for r in rows[1:]}
    assert by["1001"]["id"] == "1001" and by["1001"]["folder"] == "1001" and by["zed"]["id"] == ""
    assert by["1004"]["98_fixture raw"] == "missing" and by["1004"]["98_fixture 98-ex1"] == "missing"
    assert by["1004"]["notes"] == "98_fixture: no submission"
    assert by["zed"]["notes"] == "matches no roster student" and by["zed"]["98_fixture final"] == "3"
    assert by["'=HYPERLINK()"]["folder"] == "'=HYPERLINK()"  # a stray's formula name, defused
    assert by["1003"]["notes"] == "folder matched by Moodle's folder name"


def test_roster_formats_and_ambiguity(tmp_path):
    (tmp_path / "canvas.csv").write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,HW1 (1)\n    Points Possible,,,,,10\n"
        '"Archer, Ann",77,1001,aarcher,A,5\n', encoding="utf-8")
    (ann,) = lms.read_roster(tmp_path / "canvas.csv")
    assert (ann.id, ann.canvas_id, ann.login, ann.name) == ("1001", "77", "aarcher", "Archer, Ann")
    assert "ann archer" in ann.keys() and "77" in ann.keys()
    (tmp_path / "moodle.csv").write_text("First name,Last name,ID number,Email address\nAnn,Archer,1001,ann@x.org\n")
    (ann,) = lms.read_roster(tmp_path / "moodle.csv")
    assert (ann.id, ann.name, ann.email) == ("1001", "Ann Archer", "ann@x.org")
    twins = [lms.RosterStudent("1", "Sam Lee"), lms.RosterStudent("2", "Sam Lee")]
    matching = lms.match_roster(["sam lee", "1", "S\u0041M LEE"], twins)
    assert matching.ambiguous == {"S\u0041M LEE": ["1", "2"], "sam lee": ["1", "2"]} and matching.folder_of == {"1": "1"}
    for text, expected in [("name\nAnn\n", "expected columns id and name"),
                           ("id,name\n1,Ann\n1,Bob\n", "the id '1' appears twice"), ("", "the file is empty")]:
        (tmp_path / "bad.csv").write_text(text)
        with pytest.raises(ValueError, match=expected):
            lms.read_roster(tmp_path / "bad.csv")


# --------------------------------------------------------------------------- late work

def _policy(**penalty) -> late.LatePolicy:
    return late.policy_from_dict({"due": {"98_fixture": DUE},
                                  "penalty": {"percent": 10, "per": "day", **penalty},
                                  "extensions": {"1002": {"98_fixture": "+2d"}, "1005": {"*": "2026-03-09T12:00:00Z"}}})


@pytest.mark.parametrize("after, keys, expected", [
    (timedelta(0), ["1001"], (0, 6, "")),  # exactly on time
    (timedelta(seconds=-1), ["1001"], (0, 6, "")),
    (timedelta(seconds=1), ["1001"], (10, 5.4, "1 day late: -10% of the points possible")),  # one second late
    (timedelta(days=1), ["1001"], (10, 5.4, "1 day late")),
    (timedelta(days=1, seconds=1), ["1001"], (20, 4.8, "2 days late")),
    (timedelta(days=30), ["1001"], (100, 0, "30 days late: -100%")),  # never below 0
    (timedelta(days=2), ["1002"], (0, 6, "")),  # extension: two more days
    (timedelta(days=2, seconds=1), ["1002"], (10, 5.4, "1 day late")),
    (timedelta(days=6), ["1005"], (0, 6, "")),  # extension to a new date for every notebook
])
def test_late_penalty_around_the_boundary(after, keys, expected):
    submitted = late.parse_time(DUE) + after
    got = late.apply(_policy(), keys, "98_fixture", 6.0, 6.0, submitted)
    percent, final, note = expected
    assert (got.percent, got.final) == (percent, final) and note in got.note and (got.note == "") == (note == "")


def test_late_policy_options_and_errors():
    due = late.parse_time(DUE)
    grace = late.apply(_policy(grace_minutes=5), ["1001"], "98_fixture", 6, 6, due + timedelta(minutes=5))
    assert grace.penalty == 0 and grace.late == "0d 0h 5m 0s"
    capped = late.apply(_policy(max_percent=30), ["1001"], "98_fixture", 6, 6, due + timedelta(days=9))
    assert capped.percent == 30 and capped.final == 4.2
    of_score = late.apply(_policy(of="score"), ["1001"], "98_fixture", 3, 6, due + timedelta(hours=1))
    assert of_score.penalty == 0.3 and of_score.final == 2.7
    hourly = late.apply(_policy(per="hour", percent=1), ["1001"], "98_fixture", 6, 6, due + timedelta(hours=5, seconds=1))
    assert hourly.percent == 6
    assert late.apply(_policy(), ["x"], "other_nb", 6, 6, due + timedelta(days=3)).penalty == 0  # no due date
    unknown = late.apply(_policy(), ["x"], "98_fixture", 6, 6, None)
    assert unknown.final == 6 and "no submission time known" in unknown.note
    for data, expected in [({"due": {"a": "2026-03-02 23:59"}}, "has no UTC offset"),
                           ({"due": {"a": "soon"}}, "cannot read 'soon' as a date"),
                           ({"penalty": {"percent": 150}}, "from 0 to 100"),
                           ({"penalty": {"per": "week"}}, "'day' or 'hour'"),
                           ({"penalty": {"rate": 1}}, "unknown penalty keys"),
                           ({"deadline": 1}, "unknown keys"),
                           ({"timezone": "Mars/Olympus", "due": {"a": "2026-03-02 23:59"}}, "unknown timezone")]:
        with pytest.raises(ValueError, match=expected):
            late.policy_from_dict(data)
    zoned = late.policy_from_dict({"due": {"a": "2026-03-02 23:59"}, "timezone": "Europe/Berlin"})
    assert zoned.due["a"] == datetime(2026, 3, 2, 22, 59, tzinfo=timezone.utc)
    assert late.parse_time("2026-03-02 23:59:01 +0100") == late.parse_time(DUE) + timedelta(seconds=1)  # Gradescope's


def test_late_work_in_the_table(course):
    (course / "late.json").write_text(json.dumps({"due": {"98_fixture": DUE}, "penalty": {"percent": 10},
                                                  "extensions": {"1002": {"98_fixture": "+1d"}}}))
    (course / "times.csv").write_text(  # one LMS export per notebook (Gradescope's columns), no assignment column
        "SID,Email,Submission Time\n1001,ann@uni.example,2026-03-02 23:59:00 +0100\n"
        "1002,bob.b@uni.example,2026-03-03 23:59:00 +0100\n1003,cat@uni.example,2026-03-03 00:00:00 +0100\n"
        "x,eve@uni.example,2026-03-04 23:59:01 +0100\n")
    assert cli.main(["--course-dir", str(course / "course"), "export", "table", "--roster", str(course / "roster.csv"),
                     "--late", str(course / "late.json"), "--times", f"98_fixture={course / 'times.csv'}"]) == 0
    rows = _read(course / "course" / "export" / "table.csv")
    by = {r[0] or r[4]: dict(zip(rows[0], r)) for r in rows[1:]}
    cols = ("98_fixture raw", "98_fixture late", "98_fixture penalty", "98_fixture final")
    assert [by["1001"][c] for c in cols] == ["6", "", "0", "6"]  # exactly on time
    assert [by["1002"][c] for c in cols] == ["3.5", "", "0", "3.5"]  # on the last second of the extension
    assert [by["1003"][c] for c in cols] == ["4", "0d 0h 1m 0s", "0.6", "3.4"]  # a minute late: one day
    assert [by["1005"][c] for c in cols] == ["6", "2d 0h 0m 1s", "1.8", "4.2"]  # matched by email
    assert by["zed"]["notes"].startswith("matches no roster student; 98_fixture: no submission time known")
    canvas = ["--course-dir", str(course / "course"), "export", "canvas", "--roster", str(course / "roster.csv"),
              "--late", str(course / "late.json"), "--times", f"98_fixture={course / 'times.csv'}"]
    assert cli.main(canvas) == 0
    finals = {r[2]: r[5] for r in _read(course / "course" / "export" / "canvas.csv")[2:]}
    assert finals == {"1001": "6", "1002": "3.5", "1003": "3.4", "1004": "0", "1005": "4.2"}
    assert cli.main(canvas[:-4] + ["--times", str(course / "times.csv")]) == 1  # --times without --late


# --------------------------------------------------------------------------- similarity

ANSWERS = {  # (out_size body, channel_means body) per student
    "ann": ("    padded = n + 2 * p\n    if k > padded:\n        raise ValueError(f'kernel {k} does not fit in {padded}')\n"
            "    positions, start = 0, 0\n    while start + k <= padded:\n        positions += 1\n        start += s\n"
            "    return positions",
            "    totals = []\n    for c in range(x.shape[1]):\n        plane = x[:, c, :, :]\n"
            "        totals.append(plane.sum() / plane.numel())\n    return torch.stack(totals)"),
    "ben": ("    # my own work!\n    width = n + 2 * p\n    if k > width:\n        raise ValueError(f'too big: {k} > {width}')\n"
            "    count, pos = 0, 0\n    while pos + k <= width:\n        count += 1\n        pos += s\n    return count",
            "    out = []\n    for ch in range(x.shape[1]):\n        sl = x[:, ch, :, :]  # one channel\n"
            "        out.append(sl.sum() / sl.numel())\n    return torch.stack(out)"),
    "cat": ("    if n + 2 * p - k < 0:\n        raise ValueError('the kernel is larger than the padded input')\n"
            "    return math.floor((n + 2 * p - k) / s) + 1",
            "    return x.transpose(0, 1).reshape(x.shape[1], -1).mean(dim=1)"),
    "dan": ("    size = n - k + 2 * p\n    if size < 0:\n        raise ValueError('no room')\n    return size // s + 1",
            "    return torch.tensor([x[:, i].mean().item() for i in range(x.size(1))])"),
    "eli": None,  # the reference answer itself, handed in
}


def test_similarity_ranks_planted_copies_first(tmp_path, capsys):
    source = fx.write(tmp_path / "src")
    for student, answer in ANSWERS.items():
        cells = fx.cells()
        if answer:
            fx.answer(cells[3], answer[0])
            fx.answer(cells[10], answer[1])
        fx.write(tmp_path / "inbox" / student, cells)
    fx.write(tmp_path / "inbox" / "<img src=x onerror=alert(1)>")  # a name that is HTML; the reference answer
    course = tmp_path / "course"
    fx.write(course / "release" / "98_fixture", fx.released(fx.cells()))
    assert "raise NotImplementedError()" in (course / "release" / "98_fixture" / fx.NAME).read_text()
    assert cli.main(["--course-dir", str(course), "similarity", str(tmp_path / "inbox"),
                     "--notebooks", str(source.parent), "--threshold", "0.5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(similarity.NOT_A_VERDICT)
    assert "ann and ben: " in out and "15 pairs compared; 1 from similarity 0.50" in out  # 6 submissions
    table = list(csv.reader(io.StringIO((course / "similarity" / "similarity.csv").read_text())))
    assert table[0] == ["assignment", "student_a", "student_b", "similarity_a", "similarity_b", "matching_tokens"]
    top, *rest = table[1:]
    assert top[1:3] == ["ann", "ben"] and min(float(top[3]), float(top[4])) > 0.8, top
    assert all(max(float(r[3]), float(r[4])) < 0.5 for r in rest), rest  # independent ones, the reference twice
    report = (course / "similarity" / "98_fixture.html").read_text()
    assert similarity.NOT_A_VERDICT in report and report.count("<h2>") == 1 and "<mark>" in report
    assert "ann and ben" in report and "98-ex1" in report and "98-ex3" in report and "<img" not in report
