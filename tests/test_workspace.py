"""The learner's workspace (tools/workspace.py), the solution helper and the views' JupyterLab settings."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import nbformat as nbf
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import lab  # noqa: E402  (tools/lab.py)
import workspace  # noqa: E402  (tools/workspace.py)

from course_utils import solutions  # noqa: E402

STATE = "application/vnd.jupyter.widget-state+json"
VIEW = "application/vnd.jupyter.widget-view+json"


def _nb(ex_answer: str = "return 2 * x", extra_md: str = "") -> nbf.NotebookNode:
    def code(src, grade_id=None, graded=False, outputs=()):
        cell = nbf.v4.new_code_cell(src)
        cell.id = grade_id or hashlib.sha1(src.encode()).hexdigest()[:8]
        cell.outputs = list(outputs)
        if grade_id:
            cell.metadata["nbgrader"] = {"grade": graded, "grade_id": grade_id, "locked": graded,
                                         "schema_version": 3, "solution": not graded, "task": False}
            if graded:
                cell.metadata["nbgrader"]["points"] = 1
        return cell

    intro = nbf.v4.new_markdown_cell("# 97 · Fixture" + extra_md)
    intro.id = "intro"
    heading = nbf.v4.new_markdown_cell("### Exercise 1 (1 point): doubling\n\nWrite `double`.")
    heading.id = "heading"
    nb = nbf.v4.new_notebook(cells=[
        intro,
        code("print('lesson')", outputs=[nbf.v4.new_output("stream", text="lesson\n")]),
        heading,
        code(f"def double(x):\n    ### BEGIN SOLUTION\n    {ex_answer}\n    ### END SOLUTION", "97-ex1-code",
             outputs=[nbf.v4.new_output("stream", text="answer printed\n")]),
        code("assert double(3) == 6, 'double(3) should be 6'\nprint('ok')\n"
             "### BEGIN HIDDEN TESTS\ndef probe(seed):\n    return {'v': double(seed)}\nCOMPARE = {'v': 'equal'}\n"
             "### END HIDDEN TESTS", "97-ex1-test", graded=True, outputs=[nbf.v4.new_output("stream", text="ok\n")]),
        code("print('after')", outputs=[nbf.v4.new_output("stream", text="after\n")]),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["widgets"] = {STATE: {"state": {"abc": {"model_name": "VBoxModel", "state": {}}},
                                      "version_major": 2, "version_minor": 0}}
    return nb


def make_course(tmp_path: Path, monkeypatch, nb: nbf.NotebookNode) -> tuple[Path, Path]:
    """A course folder with ``nb`` as its one instructor notebook, a workspace beside it, a private trust database."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter-data"))
    src = tmp_path / "notebooks"
    src.mkdir()
    nbf.write(nb, src / "97_fixture.ipynb")
    return src, tmp_path / "workspace"


@pytest.fixture
def course(tmp_path, monkeypatch):
    return make_course(tmp_path, monkeypatch, _nb())


def _sources(path: Path) -> list[str]:
    return [c.source for c in nbf.read(path, as_version=4).cells]


# --------------------------------------------------------------------------- learner copies

def test_learner_copy_has_stubs_visible_checks_no_probe_and_the_lesson_outputs():
    copy = workspace.learner_copy(_nb())
    by_id = {c.id: c for c in copy.cells}
    code = by_id["97-ex1-code"]
    assert "raise NotImplementedError()" in code.source and "2 * x" not in code.source
    assert code.source.startswith("def double(x):"), "the signature stays"
    test = by_id["97-ex1-test"]
    assert "double(3) == 6" in test.source, "the self-check stays visible"
    assert "probe" not in test.source and "COMPARE" not in test.source and "HIDDEN" not in test.source
    assert test.metadata["editable"] is False and test.metadata["deletable"] is False
    assert code.outputs == [] and test.outputs == [], "outputs of the solved exercise are not shown"
    assert by_id[copy.cells[1].id].outputs[0]["text"] == "lesson\n" and copy.cells[-1].outputs, "lesson outputs kept"
    hint = copy.cells[copy.cells.index(test) + 1]
    assert hint.cell_type == "markdown" and 'solution("97-ex1")' in hint.source
    assert copy.metadata["widgets"][STATE]["state"], "widget state kept"
    assert "2 * x" in _nb().cells[3].source, "the instructor notebook is not changed"


def test_every_course_notebook_becomes_a_learner_copy_without_answers():
    for path in workspace.course_notebooks():
        nb = nbf.read(path, as_version=4)
        copy = workspace.learner_copy(nb, path.name[:2])
        text = "\n".join(c.source for c in copy.cells)
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text, path.name
        assert not any(solutions.course_meta(c).get("hints") or solutions.course_meta(c).get("answers")
                       for c in copy.cells), f"{path.name}: hints or reference answers in the learner copy"
        stubs = [c for c in copy.cells if (c.metadata.get("nbgrader") or {}).get("solution") and c.cell_type == "code"]
        assert all("raise NotImplementedError()" in c.source for c in stubs), path.name
        # a stub raises inside the functions to write; a value to give is `name = ...`, not a top-level raise
        assert not any(line.startswith("raise NotImplementedError") for c in stubs for line in c.source.split("\n")), \
            path.name
        graded = [c for c in copy.cells if c.cell_type == "code" and (c.metadata.get("nbgrader") or {})]
        assert all("raises-exception" in c.metadata.get("tags", []) for c in graded), f"{path.name}: Run All stops"
        tests = [c for c in graded if c.metadata["nbgrader"].get("grade")]
        assert all(c.source.split("\n")[1] == f'self_check("{c.metadata.nbgrader.grade_id[:-5]}")  # records whether '
                   "this check passes (see progress())" for c in tests), path.name
        questions = solutions.questionnaire(nb.cells, path.name[:2])
        asked = [solutions.course_meta(c).get("question") for c in copy.cells if solutions.course_meta(c).get("question")]
        answered = [solutions.course_meta(c).get("your_answer") for c in copy.cells
                    if solutions.course_meta(c).get("your_answer")]
        assert asked == answered == [q.id for q in questions] and questions, path.name
        kept = sum(bool(c.get("outputs")) for c in copy.cells)
        assert kept >= 0.5 * sum(bool(c.get("outputs")) for c in nb.cells), f"{path.name}: stored outputs lost"


# --------------------------------------------------------------------------- build, update, merge

def test_build_creates_trusted_copies_and_never_writes_the_source(course):
    src, ws = course
    before = (src / "97_fixture.ipynb").read_bytes()
    report = workspace.build([src / "97_fixture.ipynb"], ws)
    assert report.created == ["97_fixture.ipynb"]
    assert (ws / ".course" / "workspace.json").is_file(), "the workspace is marked, so kernels find their record"
    from nbformat.sign import NotebookNotary

    assert NotebookNotary().check_signature(nbf.read(ws / "97_fixture.ipynb", as_version=4)), "not trusted"
    assert (src / "97_fixture.ipynb").read_bytes() == before
    again = workspace.build([src / "97_fixture.ipynb"], ws)
    assert again.unchanged == ["97_fixture.ipynb"] and not again.created and not again.updated


def test_a_new_course_version_replaces_an_untouched_copy(course):
    src, ws = course
    workspace.build([src / "97_fixture.ipynb"], ws)
    nbf.write(_nb(extra_md="\n\nNew paragraph."), src / "97_fixture.ipynb")
    report = workspace.build([src / "97_fixture.ipynb"], ws)
    assert report.updated == ["97_fixture.ipynb"]
    assert "New paragraph." in _sources(ws / "97_fixture.ipynb")[0]


def test_a_changed_copy_is_never_overwritten_the_update_is_offered_beside_it(course):
    src, ws = course
    workspace.build([src / "97_fixture.ipynb"], ws)
    mine = nbf.read(ws / "97_fixture.ipynb", as_version=4)
    mine.cells[3].source = "def double(x):\n    return x + x  # mine"
    nbf.write(mine, ws / "97_fixture.ipynb")
    before = (ws / "97_fixture.ipynb").read_bytes()

    assert workspace.build([src / "97_fixture.ipynb"], ws).unchanged == ["97_fixture.ipynb"]  # no update yet
    nbf.write(_nb(extra_md="\n\nNew paragraph."), src / "97_fixture.ipynb")
    report = workspace.build([src / "97_fixture.ipynb"], ws)
    assert report.offered == ["97_fixture.ipynb"]
    assert (ws / "97_fixture.ipynb").read_bytes() == before, "the learner's notebook was overwritten"
    offered = ws / "97_fixture.new.ipynb"
    assert "New paragraph." in _sources(offered)[0]
    assert "make lab-merge NB=97_fixture" in "\n".join(report.lines())

    # the learner edits the offered copy: the next build leaves it alone too
    text = offered.read_text().replace("New paragraph.", "New paragraph, my note.")
    offered.write_text(text)
    assert workspace.build([src / "97_fixture.ipynb"], ws).kept == ["97_fixture.new.ipynb"]
    assert offered.read_text() == text


def test_merge_keeps_the_learners_cells_takes_the_course_changes_and_backs_up(course):
    src, ws = course
    workspace.build([src / "97_fixture.ipynb"], ws)
    mine = nbf.read(ws / "97_fixture.ipynb", as_version=4)
    mine.cells[3].source = "def double(x):\n    return x + x  # mine"
    note = nbf.v4.new_markdown_cell("my own note")
    mine.cells.insert(2, note)
    nbf.write(mine, ws / "97_fixture.ipynb")
    mine_bytes = (ws / "97_fixture.ipynb").read_bytes()
    new = _nb(extra_md="\n\nNew paragraph.")
    new.cells[5].source = "print('after, improved')"
    new.cells.append(nbf.v4.new_markdown_cell("a new section"))
    nbf.write(new, src / "97_fixture.ipynb")
    workspace.build([src / "97_fixture.ipynb"], ws)

    report = workspace.merge("97", ws, src, now=dt.datetime(2026, 11, 25, 10, 0, 0))
    assert report.backup == ws / "backups" / "97_fixture-20261125-100000.ipynb"
    assert report.backup.read_bytes() == mine_bytes
    merged = _sources(ws / "97_fixture.ipynb")
    assert "New paragraph." in merged[0], "course change to an untouched cell taken"
    assert merged[2] == "my own note", "learner's own cell kept in place"
    assert "return x + x  # mine" in "\n".join(merged), "learner's answer kept"
    assert "print('after, improved')" in merged and merged[-1] == "a new section"
    assert not (ws / "97_fixture.new.ipynb").exists(), "the offered copy is no longer needed"
    assert workspace.build([src / "97_fixture.ipynb"], ws).unchanged == ["97_fixture.ipynb"]


def test_merge_reports_a_conflict_and_keeps_the_learners_version(course):
    src, ws = course
    workspace.build([src / "97_fixture.ipynb"], ws)
    mine = nbf.read(ws / "97_fixture.ipynb", as_version=4)
    mine.cells[1].source = "print('my lesson')"
    nbf.write(mine, ws / "97_fixture.ipynb")
    new = _nb()
    new.cells[1].source = "print('course lesson')"
    nbf.write(new, src / "97_fixture.ipynb")
    report = workspace.merge("97_fixture", ws, src)
    assert len(report.conflicts) == 1 and "kept yours" in report.conflicts[0]
    assert _sources(ws / "97_fixture.ipynb")[1] == "print('my lesson')"


def test_merge_and_build_refuse_clearly(course):
    src, ws = course
    with pytest.raises(ValueError, match="does not exist: run `make lab`"):
        workspace.merge("97", ws, src)
    with pytest.raises(ValueError, match="expected one of: 97_fixture"):
        workspace.merge("42", ws, src)
    with pytest.raises(ValueError, match="cannot be the folder of the instructor notebooks"):
        workspace.build([src / "97_fixture.ipynb"], src)
    assert workspace.main(["--dir", str(ws), "merge", "42"]) == 1


def test_fingerprint_ignores_metadata_and_counters_but_not_outputs():
    a = _nb()
    b = _nb()
    b.metadata["widgets"] = {}
    b.cells[1].execution_count = 7
    b.cells[1].metadata["collapsed"] = True
    assert workspace.fingerprint(a) == workspace.fingerprint(b)
    b.cells[1].outputs[0]["text"] = "lesson, run again\n"
    assert workspace.fingerprint(a) != workspace.fingerprint(b)


# --------------------------------------------------------------------------- solutions

def test_solution_is_read_from_the_instructor_notebook(course, monkeypatch):
    src, ws = course
    monkeypatch.setenv("CONVNETS_NOTEBOOKS", str(src))
    shown = solutions.solution("97-ex1")
    assert shown.title == "Exercise 1 (1 point): doubling"
    assert shown.code == "def double(x):\n    return 2 * x"
    assert "```python\ndef double(x):" in shown._repr_markdown_() and "return 2 * x" in str(shown)
    assert solutions.solution("97-ex1-test").code == shown.code


def test_solution_says_clearly_when_there_are_none(course, monkeypatch):
    src, ws = course
    workspace.build([src / "97_fixture.ipynb"], ws)
    monkeypatch.setenv("CONVNETS_NOTEBOOKS", str(ws))  # learner copies, like a student bundle
    with pytest.raises(solutions.SolutionUnavailable, match="not available in this copy of the course.*student"):
        solutions.solution("97-ex1")
    monkeypatch.setenv("CONVNETS_NOTEBOOKS", str(ws / "nowhere"))
    with pytest.raises(solutions.SolutionUnavailable, match="no instructor notebook 97_"):
        solutions.solution("97-ex1")
    monkeypatch.setenv("CONVNETS_NOTEBOOKS", str(src))
    with pytest.raises(ValueError, match="no exercise '97-ex5'; its exercises are 97-ex1"):
        solutions.solution("97-ex5")
    with pytest.raises(ValueError, match="like '03-ex2'"):
        solutions.solution("exercise 1")
    assert solutions.main(["97-ex1"]) == 0 and solutions.main(["97-ex5"]) == 1


def test_every_course_exercise_has_a_solution_to_show():
    for path in workspace.course_notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        ids = [m["grade_id"][: -len("-code")] for c in nb["cells"]
               if (m := c.get("metadata", {}).get("nbgrader") or {}).get("solution") and c["cell_type"] == "code"]
        for exercise in ids:
            assert solutions.solution(exercise).code.strip(), exercise


# --------------------------------------------------------------------------- JupyterLab settings of the views

def test_views_apply_their_settings_through_jupyters_own_config_loading(monkeypatch):
    from jupyterlab_server.config import get_page_config
    from jupyterlab_server.settings_utils import _get_overrides

    for view in lab.VIEWS:
        env = lab.view_env(view, {"JUPYTER_CONFIG_PATH": "/elsewhere"})
        paths = env["JUPYTER_CONFIG_PATH"].split(":")
        assert paths == [str(lab.CONFIG / view), str(lab.CONFIG / "common"), "/elsewhere"]
        monkeypatch.setenv("JUPYTER_CONFIG_PATH", ":".join(paths[:2]))
        overrides, error = _get_overrides(str(ROOT / "no-app-settings"))
        assert not error
        assert overrides["@jupyter-widgets/jupyterlab-manager:plugin"]["saveState"] is True, view
        disabled = get_page_config([], None)["disabledExtensions"]
        assert ("@jupyter/nbgrader" in disabled) == (view == "learner"), (view, disabled)
    with pytest.raises(ValueError, match="expected a view"):
        lab.view_env("student")


def test_learner_view_switches_nbgrader_server_extensions_off():
    config = json.loads((lab.CONFIG / "learner" / "jupyter_server_config.json").read_text())
    extensions = config["ServerApp"]["jpserver_extensions"]
    assert extensions and not any(extensions.values())
    assert all(name.startswith("nbgrader.") for name in extensions)


def _widget_state_module():
    spec = importlib.util.spec_from_file_location("widget_state", ROOT / "jupyter-config" / "common" / "widget_state.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _saved(outputs: list[str], state: dict | None) -> dict:
    cells = [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [
        {"output_type": "display_data", "data": {VIEW: {"model_id": m}, "text/plain": "VBox()"}, "metadata": {}}
        for m in outputs]}]
    nb = {"cells": cells, "metadata": {}}
    if state is not None:
        nb["metadata"]["widgets"] = {STATE: {"state": state, "version_major": 2, "version_minor": 0}}
    return nb


def test_saving_keeps_the_state_of_widgets_restored_from_the_file():
    ws = _widget_state_module()
    disk = _saved(["box1"], {"box1": {"state": {"children": ["IPY_MODEL_slider1"]}},
                             "slider1": {"state": {"layout": "IPY_MODEL_layout1"}}, "layout1": {"state": {}},
                             "stale": {"state": {}}})
    # opened, not re-run, saved: the browser's state has no live widget
    saved = ws.merge_widget_state(_saved(["box1"], {}), disk)
    assert set(saved["metadata"]["widgets"][STATE]["state"]) == {"box1", "slider1", "layout1"}
    # re-run: the browser's live state wins, unshown models are dropped
    live = {"box2": {"state": {"children": []}}}
    saved = ws.merge_widget_state(_saved(["box2"], live), disk)
    assert saved["metadata"]["widgets"][STATE]["state"] == live


def test_saving_drops_views_of_widgets_that_are_gone_but_keeps_their_picture():
    ws = _widget_state_module()
    nb = _saved(["closed_bar", "gone_with_png"], {})
    nb["cells"][0]["outputs"][1]["data"]["image/png"] = "iVBOR"
    saved = ws.merge_widget_state(nb, None)
    outputs = saved["cells"][0]["outputs"]
    assert len(outputs) == 1 and VIEW not in outputs[0]["data"] and outputs[0]["data"]["image/png"] == "iVBOR"
    # a browser that does not save widget state (saveState off): nothing is dropped
    nb = _saved(["closed_bar"], None)
    assert len(ws.merge_widget_state(nb, None)["cells"][0]["outputs"]) == 1


def test_saving_a_notebook_without_widgets_adds_no_widget_state():
    ws = _widget_state_module()
    # JupyterLab (saveState on) sends an empty widget state for a notebook without widgets
    saved = ws.merge_widget_state(_saved([], {}), None)
    assert "widgets" not in saved["metadata"]
    # only stale models on disk, none shown: the state goes, other widget metadata stays
    disk = _saved([], {"stale": {"state": {}}})
    nb = _saved([], {})
    nb["metadata"]["widgets"]["other"] = 1
    assert ws.merge_widget_state(nb, disk)["metadata"]["widgets"] == {"other": 1}
