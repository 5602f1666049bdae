"""Every submission handled on its own: hostile names, links, skipped folders, shard files, feedback.

No notebook runs here (a stand-in sandbox answers from a table, as in test_homework.py):

* Names: folder names that a spreadsheet would run (``=1+2``, ``@SUM``), that rewrite a
  terminal (ANSI escapes, a right-to-left override), that are not UTF-8 (raw bytes, as
  ``unzip`` can leave them), and one name spelled in NFC and NFD: every score file is
  written, reads back, and shows them escaped and inert.
* Links and folders: a hard link to the instructor notebook is refused like a symlink;
  hidden, checkpoint, macOS and too-deep folders holding notebooks are listed with the reason.
* Merge: shard files of one run merge; a late student graded in one shard only, a stale file
  from an earlier run, a notebook or a submission changed between runs, a renamed file and
  an old-format file are refused, naming the files at fault; a re-run replaces its file whole.
* Feedback: which check failed in words, the answer cell, unsolved exercises, exception
  names only when built in (a class of the student's own could be named after a secret).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import nbformat as nbf
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import homework_fixtures as fx  # noqa: E402
from homework_tools import cli, feedback, grading, safe, scores  # noqa: E402
from homework_tools.config import HomeworkConfig  # noqa: E402
from test_homework import REFERENCE, _fake_sandbox  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="raw-byte file names and hard links: Linux")

HOSTILE = ["=1+2", "@SUM(A1:A9)", "+cmd", "-2+3", "red\x1b[31mALERT\x1b[0m", "rtl\u202eevil.exe", "tab\tname"]
RAW = b"caf\xff\xfe"  # not UTF-8: os.fsdecode keeps the bytes as surrogates


def _inbox(tmp_path: Path, names: list[str | bytes]) -> Path:
    """A submissions folder with one right notebook per student (first cell: the stand-in's key)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in names:
        folder = os.path.join(os.fsencode(inbox), name if isinstance(name, bytes) else os.fsencode(name))
        os.mkdir(folder)
        cells = fx.cells()
        cells[0].source = "reference"
        nbf.write(nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": fx.KERNELSPEC}),
                  os.path.join(folder, fx.NAME.encode()).decode("utf-8", "surrogateescape"))
    return inbox


def test_hostile_names_are_written_safely(tmp_path, monkeypatch, capsys):
    _fake_sandbox(monkeypatch, {"reference": REFERENCE})
    inbox = _inbox(tmp_path, [*HOSTILE, RAW])
    os.rename(os.path.join(os.fsencode(inbox), RAW, fx.NAME.encode()),  # a file name that is not UTF-8 either
              os.path.join(os.fsencode(inbox), RAW, b"\xe9t\xe9 98_fixture.ipynb"))
    source = fx.write(tmp_path / "src")
    course = tmp_path / "course"
    assert cli.main(["--course-dir", str(course), "grade", str(inbox), "--notebooks", str(source.parent),
                     "--seed", "3", "--jobs", "2"]) == 0
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and "\u202e" not in printed and "\udcff" not in printed
    assert "red\\x1b[31mALERT" in printed and "caf\\xff\\xfe" in printed
    text = (course / "scores.csv").read_text(encoding="utf-8")  # written at all: raw bytes used to stop it here
    rows = list(csv.reader(io.StringIO(text)))
    students = [r[0] for r in rows[1:]]
    assert "'=1+2" in students and "'@SUM(A1:A9)" in students and "'+cmd" in students and "'-2+3" in students
    assert not any(s[:1] in "=+-@" for s in students), students  # no cell a spreadsheet would evaluate
    assert "red\\x1b[31mALERT\\x1b[0m" in students and "rtl\\u202eevil.exe" in students and "tab\\x09name" in students
    assert "caf\\xff\\xfe" in students and all(r[1] == "6/6" for r in rows[1:]), rows
    assert "'\\xe9t\\xe9 98_fixture.ipynb' graded as 98_fixture (matched by name)" in text
    by_cell = (course / "scores_by_cell.csv").read_text(encoding="utf-8")
    assert "\x1b" not in by_cell and "\n'=1+2," in by_cell
    data = json.loads((course / "scores.json").read_text(encoding="utf-8"))  # names kept exactly, for merge
    raw_id = os.fsdecode(RAW)
    assert {r["student"] for r in data["records"]} == {*HOSTILE, raw_id}
    for name in [*HOSTILE, raw_id]:  # every student's feedback and graded copy, under the literal name
        assert (course / "feedback" / name / "98_fixture.md").is_file(), name
    assert "Graded file: `\\xe9t\\xe9 98_fixture.ipynb` (recognised by name)" in (
        course / "feedback" / raw_id / "98_fixture.md").read_text(encoding="utf-8")
    assert os.path.isdir(os.path.join(os.fsencode(course / "graded"), RAW))


def test_safe_text_and_csv_cells():
    assert safe.safe_text("a\x1b[2Jb\x00\x7f\u2028") == "a\\x1b[2Jb\\x00\\x7f\\u2028"
    assert safe.safe_text(os.fsdecode(b"x\xff")) == "x\\xff" and safe.safe_text("élève Ωμέγα 学生") == "élève Ωμέγα 学生"
    assert [safe.csv_cell(x) for x in ("=A1", "@x", "+1+1", "-1+2", "-", "-3", "2/6", "1.5", "ok")] == \
        ["'=A1", "'@x", "'+1+1", "'-1+2", "-", "-3", "2/6", "1.5", "ok"]
    data = {"caf\udcff": ["x\udcfe", "é"]}
    assert json.loads(safe.json_text(data)) == data  # read back exactly
    safe.json_text(data).encode("utf-8")  # and writable as UTF-8
    assert safe.notebook_cells("[" * 100_000) == [] and safe.notebook_cells('{"cells": 7}') == []
    assert safe.cell_text({"source": ["a", 3, "b"]}) == "ab" and safe.cell_grade_id({"metadata": []}) == ""


def test_hard_links_are_refused_like_symlinks(tmp_path):
    source = fx.write(tmp_path / "src")
    inbox = tmp_path / "inbox"
    (inbox / "eve").mkdir(parents=True)
    os.link(source, inbox / "eve" / fx.NAME)  # the instructor notebook, under another name
    fx.write(inbox / "ann")
    found = grading.find_submissions(inbox, ["98_fixture"])
    assert [(s.student, s.relative) for s in found.submissions] == [("ann", fx.NAME)]
    notes = dict(found.notes)
    assert "is a hard link (2 names for one file): not graded" in notes["eve"], found.notes
    with pytest.raises(ValueError, match="hard link"):
        grading.read_submission(source)


def test_skipped_folders_are_listed_with_the_reason(tmp_path):
    inbox = tmp_path / "inbox"
    fx.write(inbox / ".hidden-student")
    fx.write(inbox / "__MACOSX" / "zoe")
    fx.write(inbox / "ann")
    fx.write(inbox / "ann" / ".ipynb_checkpoints", name="98_fixture-checkpoint.ipynb")
    (inbox / "ann" / "__pycache__").mkdir()  # nothing in it: no note
    fx.write(inbox / "bob" / "a" / "b" / "c" / "d")  # deeper than MAX_DEPTH (3)
    (inbox / ".DS_Store").write_text("")  # a loose hidden file: not a folder, no note
    found = grading.find_submissions(inbox, ["98_fixture"])
    text = "\n".join(f"{s}: {n}" for s, n in found.notes)
    assert "-: '.hidden-student' skipped: a hidden folder (its name starts with '.')" in text
    assert "-: '__MACOSX' skipped: macOS metadata added by zip, not submissions" in text
    assert "ann: '.ipynb_checkpoints' skipped: Jupyter's autosaved copies, not submissions" in text
    assert "bob: 'a/b/c/d' skipped: more than 3 folders deep" in text and "bob: no notebook found" in text
    assert "__pycache__" not in text and "DS_Store" not in text
    assert found.students == ["ann", "bob"] and [s.student for s in found.submissions] == ["ann"]


def test_unicode_spellings_of_one_name_are_one_student(tmp_path, monkeypatch):
    nfc, nfd = "\u00e9lo\u00efse", "e\u0301loi\u0308se"
    inbox = tmp_path / "inbox"
    fx.write(inbox / nfd)  # unpacked from a macOS zip
    fx.write(inbox / nfc / "old")  # and an older copy typed on Linux
    fx.write(inbox / "e\u0301mile")  # NFD only
    found = grading.find_submissions(inbox, ["98_fixture"])
    assert found.students == sorted([nfc, "\u00e9mile"])
    assert sorted((s.student, s.relative) for s in found.submissions) == [
        (nfc, f"{nfd}/98_fixture.ipynb"), ("\u00e9mile", fx.NAME)]
    text = "\n".join(n for _, n in found.notes)
    assert "are one student (the same name in different Unicode spellings): graded together" in text
    assert f"{ascii(nfc)} and {ascii(nfd)}" in text or f"{ascii(nfd)} and {ascii(nfc)}" in text
    assert f"'{nfc}/old/98_fixture.ipynb' is another copy of 98_fixture" in text
    assert "is listed as '\\xe9mile' (the same name in Unicode's NFC spelling)" in text
    assert grading.shard_of(nfc, 4) == grading.shard_of(grading.student_id(nfd), 4)
    _fake_sandbox(monkeypatch, {"reference": REFERENCE})
    cells = fx.cells()
    cells[0].source = "reference"
    run = grading.grade(inbox, HomeworkConfig(tmp_path / "course", seed=1, jobs=1), notebooks=fx.write(
        tmp_path / "src", cells).parent)
    assert sorted(r["student"] for r in run.records) == sorted([nfc, "\u00e9mile"])  # one row each, not two for Éloïse


# --------------------------------------------------------------------------- merge

def _shards(tmp_path: Path, config: HomeworkConfig, source: Path, count: int = 2, only: list[int] | None = None):
    for i in only if only is not None else range(count):
        scores.write_run(grading.grade(tmp_path / "inbox", config, notebooks=source.parent, shard=(i, count)),
                         config.course_dir)
    return sorted((config.course_dir / "shards").glob(f"scores-*-of-{count}.json"))


def _class(tmp_path: Path, names: list[str]) -> Path:
    for name in names:
        cells = fx.cells()
        cells[0].source = "reference"
        fx.write(tmp_path / "inbox" / name, cells)
    cells = fx.cells()
    cells[0].source = "reference"
    return fx.write(tmp_path / "src", cells)


def _late_student(names: list[str], count: int = 2) -> tuple[str, int]:
    """A new student name and the shard it falls in."""
    late = next(f"late{i}" for i in range(100) if f"late{i}" not in names)
    return late, grading.shard_of(late, count)


def test_merge_refuses_a_mixture_and_names_the_files(tmp_path, monkeypatch):
    _fake_sandbox(monkeypatch, {"reference": REFERENCE})
    names = [f"s{i}" for i in range(8)]
    source = _class(tmp_path, names)
    config = HomeworkConfig(tmp_path / "course", seed=5, jobs=2)
    files = _shards(tmp_path, config, source)
    merged = scores.merge(files)
    assert sorted(merged.students) == names and merged.everyone == names
    data = json.loads(files[0].read_text())
    assert data["class"] == names and set(data["inputs"]) == {"submissions", "notebooks", "releases", "grader"}

    # a late student added, and only the shard it falls in graded again: the other file lacks it
    late, where = _late_student(names)
    cells = fx.cells()
    cells[0].source = "reference"
    fx.write(tmp_path / "inbox" / late, cells)
    _shards(tmp_path, config, source, only=[where])
    stale = f"scores-{1 - where}-of-2.json"
    with pytest.raises(ValueError, match=rf"class: {stale} \(graded [^)]*\) was graded without '{late}' \(8 of 9"
                                         rf"(.|\n)*grade the older shard files again \({stale}\)"):
        scores.merge(files)
    _shards(tmp_path, config, source, only=[1 - where])  # both current again
    assert sorted(scores.merge(files).students) == sorted([*names, late])

    # a task killed before it wrote: its file is from the earlier run, where a student's notebook differed
    before = files[0].read_text()
    victim = next(s for s in names if grading.shard_of(s, 2) == 1)
    cells = fx.cells()
    cells[0].source = "reference"
    cells[8].source = "print('edited after the first run')"
    fx.write(tmp_path / "inbox" / victim, cells)
    _shards(tmp_path, config, source, only=[1])
    files[0].write_text(before)  # shard 0 "killed": its old file stays
    with pytest.raises(ValueError, match=rf"the submission of '{victim}' for 98_fixture changed between runs"):
        scores.merge(files)
    _shards(tmp_path, config, source, only=[0])
    scores.merge(files)

    # the instructor notebook changed between the two shard runs
    cells = fx.cells()
    cells[0].source = "reference"
    cells[8].source = "print('a new lesson cell')"
    fx.write(tmp_path / "src", cells)
    _shards(tmp_path, config, source, only=[1])
    with pytest.raises(ValueError, match=r"notebook 98_fixture: [0-9a-f]{12} in scores-0-of-2.json"):
        scores.merge(files)

    # another seed in one file, a renamed file, a file from an older grader
    _shards(tmp_path, config, source)
    other = HomeworkConfig(tmp_path / "other", seed=6, jobs=2)
    (other_0,) = [f for f in _shards(tmp_path, other, source, only=[0]) if f.name.startswith("scores-0")]
    with pytest.raises(ValueError, match=r"seed: 6 in scores-0-of-2.json \(graded .*\); 5 in scores-1-of-2.json"):
        scores.merge([other_0, files[1]])
    renamed = tmp_path / "scores-1-of-2.json"
    data = json.loads(files[0].read_text())
    data["shard"] = [1, 2]
    renamed.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="scores-1-of-2.json holds students of another shard"):
        scores.merge([files[0], renamed])
    old = json.loads(files[0].read_text())
    del old["class"], old["inputs"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    with pytest.raises(ValueError, match="written by an older grader"):
        scores.merge([tmp_path / "old.json", files[1]])
    assert cli.main(["--course-dir", str(config.course_dir), "merge", str(other_0), str(files[1])]) == 1


def test_a_shard_file_is_replaced_whole(tmp_path, monkeypatch):
    _fake_sandbox(monkeypatch, {"reference": REFERENCE})
    source = _class(tmp_path, ["a", "b", "c"])
    config = HomeworkConfig(tmp_path / "course", seed=5, jobs=1)
    (first, _) = _shards(tmp_path, config, source)
    before = first.read_text()
    run = grading.grade(tmp_path / "inbox", config, notebooks=source.parent, shard=(0, 2))

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(scores.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        scores.write_run(run, config.course_dir)
    assert first.read_text() == before  # the old file whole, no half-written one
    assert sorted(p.name for p in first.parent.iterdir()) == ["scores-0-of-2.json", "scores-1-of-2.json"]


# --------------------------------------------------------------------------- feedback

def _record(exercises: list[dict], cells: list[dict] | None = None, notebook: str | None = None) -> dict:
    return {"student": "ann", "assignment": "98_fixture", "file": fx.NAME, "matched": "exact", "problem": "",
            "cells": cells or [], "notebook": notebook, "exercises": exercises}


def _exercise(grade_id: str, points: float, out_of: float, status: str = "ok", passed: int = 0, checks: int = 2,
              reasons: list[str] | None = None) -> dict:
    return {"grade_id": grade_id, "points": points, "max_points": out_of, "status": status, "passed": passed,
            "checks": checks, "reasons": reasons or []}


def test_feedback_says_what_failed_and_where():
    notebook = nbf.writes(nbf.v4.new_notebook(cells=fx.cells()))
    record = _record([
        _exercise("98-ex1-test", 1, 2, passed=1, reasons=["differs"]),
        _exercise("98-ex2-test", 0, 1, status="error NotImplementedError", checks=1, reasons=["missing"]),
        _exercise("98-ex3-test", 0, 3, passed=0, checks=4, reasons=["not close enough", "out of bounds",
                                                                    "too few matches", "wrong kind of value"])],
        cells=[{"index": 6, "status": "error", "ename": "NotImplementedError"}], notebook=notebook)
    text = feedback.feedback(record)
    assert "## Exercise 1 (2 points): output size: 1/2 points" in text
    assert ("1 of 2 checks failed: your answer is not the expected one. Look again at your answer cell "
            "(cell 4, under \u201cExercise 1 (2 points): output size\u201d).") in text
    assert ("Not solved yet: your answer cell (cell 7, under \u201cExercise 2 (1 point): a value\u201d) still raises "
            "NotImplementedError. Replace `raise NotImplementedError()` with your answer.") in text
    for words in ("not close enough to the expected ones", "outside the range a right answer falls in",
                  "too few of your answers match", "wrong type or shape"):
        assert words in text
    assert "cell 7: it raised NotImplementedError" in text
    assert "some answers differ" not in text


def test_feedback_names_only_built_in_exceptions():
    secret = "Seed7_COMPARE_sizes_equal_cmVmdXNlcw"  # a class a student named after what the probe hides
    record = _record([_exercise("98-ex1-test", 0, 2, status=f"error {secret}"),
                      _exercise("98-ex2-test", 0, 1, status="error ValueError", checks=1),
                      _exercise("98-ex3-test", 0, 3, status="timeout", checks=4)],
                     cells=[{"index": 3, "status": "error", "ename": secret},
                            {"index": 9, "status": "error", "ename": "torch.OutOfMemoryError"}])
    text = feedback.feedback(record)
    assert secret not in text and "OutOfMemoryError" not in text and "Seed7" not in text
    assert text.count("an exception of your own class or a library's") == 3
    assert "Checking your answer to 98-ex2 raised ValueError, so its check could not pass." in text
    assert "Your code took too long (your answer to 98-ex3), so none of its 4 checks could pass." in text
    assert feedback.exception_name("KeyboardInterrupt") == "KeyboardInterrupt"
    assert feedback.exception_name("print") != "print" and feedback.exception_name("os.system") != "os.system"


def test_feedback_survives_a_hostile_notebook():
    for notebook in ("[" * 50_000, '{"cells": [{"cell_type": "markdown", "source": 5}, 3, null]}',
                     json.dumps({"cells": [{"cell_type": "code", "metadata": {"nbgrader": "x"}, "source": ["a"]}]})):
        text = feedback.feedback(_record([_exercise("98-ex1-test", 2, 2, passed=2)], notebook=notebook))
        assert "## 98-ex1: 2/2 points" in text and "All 2 checks passed." in text
