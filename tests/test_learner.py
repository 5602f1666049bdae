"""The self-study loop (course_utils.learner): hints, solutions, questionnaire answers, the progress record
and report; the reference material's format (course_utils.solutions) and its check (homework_tools.selfstudy)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat as nbf
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import workspace  # noqa: E402  (tools/workspace.py)
from homework_tools import selfstudy  # noqa: E402
from test_workspace import _nb as _lesson  # noqa: E402  (the learner-copy fixture notebook)
from test_workspace import make_course  # noqa: E402

from course_utils import learner, solutions  # noqa: E402

QUESTIONNAIRE = ("## Questionnaire\n\n1. How many pixels does a 3x3 kernel read?\n2. Why do we pad?\n   Say it in\n"
                 "   two lines.\n\n## What next\n\nNotebook 98.")


def _nb(with_hints: bool = True, with_answers: bool = True) -> nbf.NotebookNode:
    """test_workspace's notebook 97 (one exercise), with a value to give too, its hints, a questionnaire and
    its reference answers."""
    nb = _lesson()
    solution, test = nb.cells[3], nb.cells[4]
    solution.source += "\n\n\n### BEGIN SOLUTION\nmagic = 42\n### END SOLUTION"
    first, rest = test.source.split("\n", 1)
    test.source = f"{first}\nassert magic > 40, 'magic is too small'\n{rest}"

    def md(src, cell_id, course=None):
        cell = nbf.v4.new_markdown_cell(src)
        cell.id = cell_id
        cell.metadata.update({"course": course} if course else {})
        return cell

    if with_hints:
        nb.cells.insert(5, md("#### Hints for exercise 1\n\n1. Look at what doubling means.\n2. Multiply by a\n"
                              "   number.", "hints-97-ex1", {"hints": "97-ex1"}))
    nb.cells.append(md(QUESTIONNAIRE, "quiz"))
    if with_answers:
        nb.cells.append(md("#### Questionnaire: reference answers\n\n1. Nine.\n2. To keep the size.", "answers-97",
                           {"answers": "97", "checked": {"1": {"value": 9, "form": "an int"}}}))
    return nb


@pytest.fixture
def course(tmp_path, monkeypatch):
    """Instructor notebook 97 in notebooks/, its learner workspace built beside it, the session pointed at it."""
    src, ws = make_course(tmp_path, monkeypatch, _nb())
    workspace.build([src / "97_fixture.ipynb"], ws)
    monkeypatch.setenv("CONVNETS_NOTEBOOKS", str(src))
    monkeypatch.setenv("CONVNETS_WORKSPACE", str(ws))
    monkeypatch.setattr(learner, "_RECORDS", {})
    return src, ws


def _events(ws: Path) -> list[dict]:
    return [json.loads(line) for line in (ws / ".course" / learner.RECORD).read_text().splitlines()]


# --------------------------------------------------------------------------- reference material

def test_numbered_items_and_questionnaire_parse_wrapped_markdown():
    assert solutions.numbered_items("intro\n\n1. one\n   more\n2. two\n\n## next\n3. three") == \
        {1: "one more", 2: "two", 3: "three"}
    head, questions, tail = solutions.split_questionnaire("Text before.\n\n" + QUESTIONNAIRE)
    assert head.endswith("## Questionnaire") and head.startswith("Text before.")
    assert questions == [(1, "How many pixels does a 3x3 kernel read?"), (2, "Why do we pad?\nSay it in\ntwo lines.")]
    assert tail.startswith("## What next")
    assert solutions.split_questionnaire("## Summary\n\n1. no quiz") is None


@pytest.mark.parametrize("value, right", [
    (9, True), (9.0, True), (8, False), ("9", False), ((9,), False),
])
def test_check_answer_numbers(value, right):
    assert solutions.check_answer(value, {"value": 9})[0] is right


def test_check_answer_shapes_names_tolerances_and_alternatives():
    import numpy as np
    import torch

    shape = {"value": [[32, 16, 5, 5], 12832]}
    assert solutions.check_answer((torch.Size([32, 16, 5, 5]), 12832), shape)[0]
    assert solutions.check_answer([np.array([32, 16, 5, 5]), np.int64(12832)], shape)[0]
    right, why = solutions.check_answer(((32, 16, 5), 12832), shape)
    assert not right and why == "value 1: expected 4 values, got 3" and "12832" not in why
    assert not solutions.check_answer((32, 16, 5, 5), shape)[0]
    assert solutions.check_answer(" Conv8 ", {"value": "conv8"})[0]
    assert solutions.check_answer(2.3, {"value": 2.303, "rtol": 0.01})[0]
    assert not solutions.check_answer(2.0, {"value": 2.303, "rtol": 0.01})[0]
    assert solutions.check_answer(8.41, {"value": 8.4})[0], "a decimal reference accepts 1% by default"
    assert solutions.check_answer(((4, 4), (1, 2)), {"value": [4, [1, 2]], "accept": [[[4, 4], [1, 2]]]})[0]
    assert not solutions.check_answer(float("nan"), {"value": 1.5})[0]


def test_reference_material_reads_hints_and_answers(course):
    assert solutions.hints("97-ex1").hints == ("Look at what doubling means.", "Multiply by a number.")
    ref = solutions.reference_answer("97-q2")
    assert ref.text == "To keep the size." and ref.check is None and "pad" in ref.question.text
    assert solutions.reference_answer("97-q1").check["value"] == 9
    with pytest.raises(ValueError, match="questions 1 to 2, not '97-q3'"):
        solutions.reference_answer("97-q3")
    with pytest.raises(ValueError, match="like '03-q4'"):
        solutions.reference_answer("question 1")
    with pytest.raises(ValueError, match="no exercise '97-ex4'"):
        solutions.hints("97-ex4")


def test_a_copy_without_the_material_says_so(tmp_path, monkeypatch):
    src = tmp_path / "bundle"
    src.mkdir()
    nbf.write(_nb(with_hints=False, with_answers=False), src / "97_fixture.ipynb")
    monkeypatch.setenv("CONVNETS_NOTEBOOKS", str(src))
    with pytest.raises(solutions.ReferenceUnavailable, match="hints are not available in this copy"):
        solutions.hints("97-ex1")
    with pytest.raises(solutions.ReferenceUnavailable, match="reference answers are not available in this copy"):
        solutions.reference_answer("97-q1")
    monkeypatch.setenv("CONVNETS_NOTEBOOKS", str(tmp_path / "nowhere"))
    with pytest.raises(solutions.SolutionUnavailable, match="no instructor notebook 97_"):
        solutions.hints("97-ex1")


# --------------------------------------------------------------------------- the learner's calls

def test_hints_one_at_a_time_then_the_solution_counts_unused_hints(course):
    src, ws = course
    first = learner.hint("97-ex1")
    assert "Hint 1 of 2" in first._repr_markdown_() and "doubling" in str(first) and 'hint("97-ex1", 2)' in str(first)
    assert "Multiply" not in str(first), "only the hint asked for"
    shown = learner.solution("97-ex1")
    assert "return 2 * x" in shown.code and "1 of its 2 hints left unused" in shown.note
    assert "left unused" in shown._repr_markdown_()
    last = learner.hint("97-ex1", 2)
    assert 'solution("97-ex1")' in str(last)
    assert learner.solution("97-ex1").note == "You used all 2 hints first."
    with pytest.raises(ValueError, match="has 2 hints: ask for hint 1 or 2, got 3"):
        learner.hint("97-ex1", 3)
    assert [(e["kind"], e.get("n")) for e in _events(ws)] == [("hint", 1), ("solution", None), ("hint", 2),
                                                            ("solution", None)]


def test_answers_compare_only_after_the_learner_answered(course):
    src, ws = course
    placeholder = learner.compare_answer("97-q1", ...)
    assert "in place of" in str(placeholder) and "Nine" not in str(placeholder)
    wrong = learner.compare_answer("97-q1", 8)
    assert "Not yet" in wrong._repr_markdown_() and "Nine" not in str(wrong) and "Reference" not in str(wrong)
    right = learner.compare_answer("97-q1", 9)
    assert "Nine." in str(right) and "right" in right._repr_markdown_()
    viewed = learner.compare_answer("97-q2")
    assert "To keep the size." in str(viewed)
    compared = learner.compare_answer("97-q2", "so that the output keeps its size")
    assert "Your answer" in compared._repr_markdown_() and "To keep the size." in str(compared)
    assert [e.get("outcome") for e in _events(ws)] == ["wrong", "right", "viewed", "compared"]


# --------------------------------------------------------------------------- the record

def _kernel(ws: Path, name: str, code: str) -> subprocess.Popen:
    """Another process using the record of ``ws``, as a notebook kernel would; all start together."""
    prelude = ("import os, sys, time, warnings; warnings.simplefilter('ignore'); from course_utils import learner\n"
               f"open(os.path.join(sys.argv[1], 'ready-{name}'), 'w').close()\n"
               "while len([f for f in os.listdir(sys.argv[1]) if f.startswith('ready-')]) < 2: time.sleep(0.001)\n"
               "r = learner.Record(sys.argv[1])\n")
    return subprocess.Popen([sys.executable, "-c", prelude + code, str(ws)], env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_two_kernels_writing_at_once_lose_nothing(tmp_path):
    ws = tmp_path / "ws"
    (ws / ".course").mkdir(parents=True)
    # one kernel records 1,500 events while the other keeps finding a torn line and healing the record
    # (rewriting it): without the lock, events appended between its read and its rewrite are lost
    # (a third to two thirds of them, measured with the lock switched off)
    kernels = [_kernel(ws, "a", "for i in range(1500): r.add('hint', '97-ex1', n=1, i=i)"),
               _kernel(ws, "b", "for i in range(150):\n"
                                "    with r._lock(), open(r.path, 'a') as f: f.write('{torn line\\n')\n"
                                "    r.events()")]
    assert [k.wait(timeout=300) for k in kernels] == [0, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", learner.ProgressWarning)  # healed: nothing damaged left
        events = learner.Record(ws).events()
    assert sorted(e["i"] for e in events) == list(range(1500)), "every event of both kernels is kept"
    assert (ws / ".course" / learner.DAMAGED).read_text().count("{torn line") == 150


def test_a_damaged_record_heals_with_a_warning(tmp_path):
    ws = tmp_path / "ws"
    record = learner.Record(ws)
    record.add("check", "97-ex1", outcome="failed", error="AssertionError")
    record.add("hint", "97-ex1", n=1)
    path = ws / ".course" / learner.RECORD
    good = path.read_text()
    junk = ['{"time": "2026-01-01", "kind": "check", "item": "97-ex', "not json at all", '{"kind": "dance"}',
            "\x00\x01\x02"]
    path.write_text(good.splitlines()[0] + "\n" + "\n".join(junk) + "\n" + good.splitlines()[1] + "\n")
    with pytest.warns(learner.ProgressWarning, match="4 damaged line.*moved to.*the other 2 event"):
        events = record.events()
    assert [e["kind"] for e in events] == ["check", "hint"]
    assert path.read_text() == good, "the record keeps its good lines only"
    assert (ws / ".course" / learner.DAMAGED).read_text().count("\n") == 4, "nothing the learner had is lost"
    with warnings.catch_warnings():
        warnings.simplefilter("error", learner.ProgressWarning)
        assert len(record.events()) == 2, "healed: no warning the second time"
    record.add("solution", "97-ex1")
    assert len(record.events()) == 3


def test_an_unwritable_workspace_still_lets_the_learner_work(course):
    src, ws = course
    shutil.rmtree(ws / ".course")
    (ws / ".course").write_text("not a folder: nothing can be written under it")
    with pytest.warns(learner.ProgressWarning, match="cannot be written.*kept in memory only"):
        shown = learner.hint("97-ex1")
    assert "Hint 1 of 2" in str(shown)
    with warnings.catch_warnings():
        warnings.simplefilter("error", learner.ProgressWarning)  # said once
        assert "1 of its 2 hints left unused" in learner.solution("97-ex1").note
        assert "Nine" in str(learner.compare_answer("97-q1", 9))
    report = learner.report()
    assert report.exercise("97-ex1").hints == 1 and report.exercise("97-ex1").solution


@pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap makes a truly read-only file system")
def test_a_read_only_file_system_still_lets_the_learner_work(course):
    src, ws = course
    code = ("import warnings; warnings.simplefilter('always')\n"
            "from course_utils import learner\n"
            "print(learner.hint('97-ex1'))\nprint(learner.solution('97-ex1').note)\nprint(learner.report())")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", sys.executable, "-c", code],
                          env=env, capture_output=True, text=True, timeout=120)
    if done.returncode and "bwrap:" in done.stderr:
        pytest.skip(f"bubblewrap cannot run here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    assert "Hint 1 of 2" in done.stdout and "1 of its 2 hints left unused" in done.stdout
    assert "Read-only file system" in done.stderr and done.stderr.count("ProgressWarning") == 1, done.stderr
    assert "97-ex1  attempted" in done.stdout, done.stdout
    assert not (ws / ".course" / learner.RECORD).exists()


def test_reset_keeps_the_old_record_beside_the_new(course):
    src, ws = course
    learner.hint("97-ex1")
    message = learner.reset_progress()
    kept = Path(message.split("kept as ")[1])
    assert kept.parent == ws / ".course" and kept.name.startswith("progress.reset-") and "hint" in kept.read_text()
    assert learner.report().exercise("97-ex1").status == "untouched"
    assert "no record yet" in str(learner.progress(reset=True))
    learner.hint("97-ex1")  # a second and third reset within the same second keep every record
    second = Path(learner.reset_progress().split("kept as ")[1])
    learner.hint("97-ex1")
    third = Path(learner.reset_progress().split("kept as ")[1])
    assert len({kept, second, third}) == 3 and kept.exists() and second.exists() and third.exists()


# --------------------------------------------------------------------------- self-checks and the report

def _run(path: Path, cwd: Path) -> nbf.NotebookNode:
    from nbclient import NotebookClient

    nb = nbf.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def test_run_all_in_a_learner_copy_runs_the_lesson_and_records_each_check(course):
    src, ws = course
    path = ws / "97_fixture.ipynb"
    nb = _run(path, ws)  # Run All, exercise untouched
    outputs = {c.id: c.get("outputs", []) for c in nb.cells}
    test = next(c for c in nb.cells if (c.metadata.get("nbgrader") or {}).get("grade_id") == "97-ex1-test")
    assert [o.get("ename") for o in test.outputs] == ["NotImplementedError"], "the unsolved exercise fails in place"
    after = next(c for c in nb.cells if c.source == "print('after')")
    assert after.outputs and after.outputs[0]["text"] == "after\n", "Run All goes on past the exercise"
    assert "qhelp-97" in outputs, "the questionnaire's helpers come with the copy"
    assert _events(ws)[-1] == {**_events(ws)[-1], "kind": "check", "item": "97-ex1", "outcome": "not answered"}
    assert learner.report().exercise("97-ex1").status == "untouched", "running the stub is no attempt"

    stub = next(c for c in nb.cells if (c.metadata.get("nbgrader") or {}).get("grade_id") == "97-ex1-code")
    assert stub.source.count("raise NotImplementedError()") == 1 and "magic = ...  # YOUR ANSWER HERE" in stub.source
    stub.source = stub.source.replace("raise NotImplementedError()", "return x + x").replace("magic = ...", "magic = 3")
    nbf.write(nb, path)
    _run(path, ws)  # a wrong answer
    assert _events(ws)[-1]["outcome"] == "failed" and _events(ws)[-1]["error"] == "AssertionError"
    nb = nbf.read(path, as_version=4)
    stub = next(c for c in nb.cells if (c.metadata.get("nbgrader") or {}).get("grade_id") == "97-ex1-code")
    stub.source = stub.source.replace("magic = 3", "magic = 42")
    answer = next(c for c in nb.cells if (c.metadata.get("course") or {}).get(learner.ANSWER_CELL) == "97-q2")
    answer.source = learner.ANSWER_PLACEHOLDER + "\nTo keep the output as large as the input."
    nbf.write(nb, path)
    learner.hint("97-ex1")
    learner.hint("97-ex1", 2)
    _run(path, ws)
    report = learner.report()
    state = report.exercise("97-ex1")
    assert (state.status, state.checks, state.hints, state.solution) == ("passed", 2, 2, False)
    text = str(report)
    assert "1 of 1 exercises passed" in text and "1 of 2 questionnaire answers written" in text
    assert "97-ex1  passed    2 checks, 2 hints, solution not shown" in text, text
    assert "Next: 97_fixture: answer its questionnaire (1 of 2 questions left, first question 1)" in text


def test_the_record_survives_the_notebook_changing_under_the_learner(course):
    src, ws = course
    learner.hint("97-ex1")
    learner.record().add("check", "97-ex1", outcome="passed")
    changed = _nb()
    changed.cells[0].source += "\n\nA new paragraph in the course."
    changed.cells.append(nbf.v4.new_markdown_cell("an extra cell"))
    nbf.write(changed, src / "97_fixture.ipynb")
    assert workspace.build([src / "97_fixture.ipynb"], ws).updated == ["97_fixture.ipynb"]
    state = learner.report().exercise("97-ex1")
    assert (state.status, state.hints) == ("passed", 1)
    (ws / "97_fixture.ipynb").write_text("{ damaged")
    report = learner.report()
    assert "97-ex1" in report.others and "unreadable" in str(report), "a damaged notebook does not lose the record"


def test_report_next_step_and_command_line(course, capsys):
    src, ws = course
    assert learner.report().next_step() == "97_fixture, exercise 1 (97-ex1)"
    learner.record().add("check", "97-ex1", outcome="failed", error="AssertionError")
    assert learner.report().next_step() == ('97_fixture, exercise 1 (97-ex1): make its self-check pass; '
                                            'stuck? hint("97-ex1", 1)')
    assert learner.main(["--workspace", str(ws), "progress"]) == 0
    assert "97-ex1  attempted 1 check (last: AssertionError)" in capsys.readouterr().out
    assert learner.main(["--workspace", str(ws), "answer", "97-q1", "9"]) == 0
    assert "Right: 9" in capsys.readouterr().out
    assert learner.main(["--workspace", str(ws / "nowhere"), "progress"]) == 1
    assert "not a learner workspace" in capsys.readouterr().err


def test_progress_is_never_recorded_in_the_instructor_notebooks(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVNETS_NOTEBOOKS", str(tmp_path))
    monkeypatch.setenv("CONVNETS_WORKSPACE", str(tmp_path))
    with pytest.warns(learner.ProgressWarning, match="instructor notebooks, not a learner workspace"):
        assert learner.find_workspace() is None


# --------------------------------------------------------------------------- check and bundle

def test_every_course_exercise_has_hints_and_every_question_an_answer():
    counts = {}
    for path in workspace.course_notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert selfstudy.self_study_problems(nb, path.name[:2]) == [], path.name
        counts[path.name[:2]] = (len(solutions.exercise_ids(nb["cells"])),
                                 len(solutions.questionnaire(nb["cells"], path.name[:2])))
    assert all(q >= 5 for _, q in counts.values()) and sum(e for e, _ in counts.values()) >= 30, counts


def test_check_refuses_missing_hints_and_hints_that_give_the_answer_away():
    nb = json.loads(nbf.writes(_nb()))
    assert selfstudy.self_study_problems(nb, "97") == []
    hints = next(c for c in nb["cells"] if c["metadata"].get("course", {}).get("hints"))
    hints["source"] = "#### Hints for exercise 1\n\n1. Just write `return 2 * x`."
    assert any("contains the solution's line `return 2 * x`" in p for p in selfstudy.self_study_problems(nb, "97"))
    hints["source"] = "#### Hints for exercise 1\n\n1. The magic number is 42."
    assert any("the answer's value 42" in p for p in selfstudy.self_study_problems(nb, "97"))
    hints["source"] = "#### Hints for exercise 1\n\n1. a\n2. b\n3. c\n4. d"
    assert any("expected 1 to 3 hints" in p for p in selfstudy.self_study_problems(nb, "97"))
    nb["cells"].remove(hints)
    assert any("exercise 97-ex1 has no hints" in p for p in selfstudy.self_study_problems(nb, "97"))
    answers = next(c for c in nb["cells"] if c["metadata"].get("course", {}).get("answers"))
    answers["source"] = "1. Nine."
    answers["metadata"]["course"]["checked"] = {"1": {"value": 9, "tolerance": 1}, "5": {"value": 1}}
    problems = "\n".join(selfstudy.self_study_problems(nb, "97"))
    assert "no reference answer for question 2" in problems and "'5', which is no question" in problems
    assert "unknown keys ['tolerance']" in problems
    nb["cells"].remove(answers)
    assert any("2 questions and no reference answers" in p for p in selfstudy.self_study_problems(nb, "97"))


def test_released_notebooks_leave_answers_out_and_hints_unless_asked(tmp_path):
    import json
    plain = selfstudy.for_students(json.loads(nbf.writes(_nb())))
    kinds = [c.get("metadata", {}).get("course", {}) for c in plain["cells"]]
    assert not any("hints" in k or "answers" in k for k in kinds)
    cells = nbf.reads(json.dumps(selfstudy.for_students(json.loads(nbf.writes(_nb())), hints=True)), 4).cells
    folded = [c for c in cells if c.metadata.get("course", {}).get("hints")]
    assert len(folded) == 1 and folded[0].metadata["jupyter"]["source_hidden"] is True
    assert not any(c.metadata.get("course", {}).get("answers") for c in cells)
