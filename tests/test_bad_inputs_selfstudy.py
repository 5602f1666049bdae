"""Bad inputs to the self-study helpers (learner, solutions, claims, exercises) that the generated specs found.

Each was a raw library error, a silent wrong result or a refused legitimate value before issue 22b
(``tests/generated_specs.py`` draws many more; these pin the cases found).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from course_utils import claims, exercises, learner, solutions


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A learner workspace in a temporary folder (the real course notebooks are only read)."""
    (tmp_path / ".course").mkdir()
    (tmp_path / ".course" / learner.MARKER).write_text("{}")
    monkeypatch.setenv("CONVNETS_WORKSPACE", str(tmp_path))
    monkeypatch.delenv("CONVNETS_NOTEBOOKS", raising=False)
    monkeypatch.setattr(learner, "_RECORDS", {})
    return tmp_path


def test_hint_takes_a_numpy_or_tensor_int_and_refuses_a_float(workspace):
    """hint("03-ex1", np.int64(1)) was refused: n counts like any int of the course."""
    assert learner.hint("03-ex1", np.int64(1)).text == learner.hint("03-ex1", 1).text
    assert learner.hint("03-ex1", torch.tensor(1)).text == learner.hint("03-ex1", 1).text
    with pytest.raises(TypeError, match=r"n must be an int >= 1, got 1.0"):
        learner.hint("03-ex1", 1.0)
    with pytest.raises(ValueError, match=r"03-ex1 has \d hints: ask for hint 1"):
        learner.hint("03-ex1", 99)


def test_progress_reset_is_a_flag_not_any_truthy_value(workspace):
    """progress(reset='no') reset the learner's record (a string is true)."""
    learner.record().add("hint", "03-ex1", n=1)
    with pytest.raises(TypeError, match=r"reset must be True or False, got 'no'"):
        learner.progress(reset="no")
    assert [e["item"] for e in learner.record().events()] == ["03-ex1"], "the record is still there"


@pytest.mark.parametrize("call", [learner.record, learner.report, learner.reset_progress])
def test_a_workspace_argument_must_be_an_existing_folder(call, workspace, tmp_path):
    """record("missing/typo") recorded into a new folder; record(3) was a raw pathlib TypeError."""
    with pytest.raises(FileNotFoundError, match=r"workspace=.*typo.*no such folder"):
        call(tmp_path / "typo")
    with pytest.raises(TypeError, match=r"workspace must be a folder path \(str or Path\), got 3 \(int\)"):
        call(3)
    (tmp_path / "a file").write_text("x")
    with pytest.raises(NotADirectoryError, match=r"workspace=.*is a file, not a folder"):
        call(tmp_path / "a file")
    assert not (tmp_path / "typo").exists()


def test_find_workspace_names_a_bad_start(tmp_path):
    with pytest.raises(TypeError, match=r"start must be a folder path"):
        learner.find_workspace(3)


def test_reading_the_reference_material_names_the_bad_argument(tmp_path):
    with pytest.raises(TypeError, match=r"cell must be a notebook cell \(a dict"):
        solutions.cell_source("x = 1")
    with pytest.raises(TypeError, match=r"cell\['source'\] must be a string or a list of strings"):
        solutions.cell_source({"source": [1, 2]})
    with pytest.raises(TypeError, match=r"cell\['metadata'\] must be a dict"):
        solutions.course_meta({"source": "", "metadata": 3})
    with pytest.raises(TypeError, match=r"cells must be a notebook's list of cells \(nb\['cells'\]\), got the notebook"):
        solutions.exercise_ids({"cells": []})
    with pytest.raises(TypeError, match=r"cells\[0\] must be a notebook cell"):
        solutions.questionnaire([3], "03")
    with pytest.raises(ValueError, match=r"number must be the notebook's two digits, e.g. '03', got 3 \(int\)"):
        solutions.questionnaire([], 3)
    with pytest.raises(TypeError, match=r"markdown must be a cell's text \(str\)"):
        solutions.numbered_items(None)
    with pytest.raises(TypeError, match=r"markdown must be a cell's text \(str\)"):
        solutions.split_questionnaire(b"## Questionnaire")


def test_read_cells_takes_a_str_and_names_a_missing_or_damaged_file(tmp_path):
    path = tmp_path / "97_x.ipynb"
    path.write_text('{"cells": [{"cell_type": "markdown", "source": "hi"}]}')
    assert solutions.read_cells(str(path)) == solutions.read_cells(path) == [{"cell_type": "markdown", "source": "hi"}]
    with pytest.raises(FileNotFoundError, match=r"path .*missing.ipynb.*: no notebook file there"):
        solutions.read_cells(tmp_path / "missing.ipynb")
    (tmp_path / "bad.ipynb").write_text('{"cells": 3}')
    with pytest.raises(solutions.ReferenceUnavailable, match=r"path bad.ipynb is not a readable notebook"):
        solutions.read_cells(tmp_path / "bad.ipynb")


def test_check_answer_judges_any_answer_and_refuses_a_malformed_check():
    """An int beyond any float (10**400) raised OverflowError; a check without a value judged everything wrong."""
    assert solutions.check_answer(10**400, {"value": 9}) == (False, "not the expected value")
    assert solutions.check_answer(-10**400, {"value": 2.303, "rtol": 0.01})[0] is False
    assert solutions.check_answer((16, 1), {"value": 9, "accept": [[16, 1]]}) == (True, "right")
    with pytest.raises(TypeError, match=r"check must be a question's checked entry"):
        solutions.check_answer(9, {})
    with pytest.raises(ValueError, match=r"check\['rtol'\] must be a number >= 0, got -1"):
        solutions.check_answer(9, {"value": 9, "rtol": -1})
    with pytest.raises(TypeError, match=r"check\['accept'\] must be a list"):
        solutions.check_answer(9, {"value": 9, "accept": 9})


def test_an_unknown_question_notebook_asks_to_check_the_question_id():
    with pytest.raises(ValueError, match=r"notebook 99 is not in this course.*check the question id, e.g. '03-q4'"):
        solutions.reference_answer("99-q1")


def test_seed_specs_are_ascii_digits():
    """parse_seeds('٣-٩') gave [3, ..., 9]: Arabic-Indic digits matched \\d."""
    with pytest.raises(ValueError, match=r"is not a seed or a range"):
        claims.parse_seeds("٣-٩")
    assert claims.parse_seeds(" 3 - 5 ,9") == [3, 4, 5, 9]


def test_read_records_names_a_damaged_line_and_refuses_a_file(tmp_path):
    (tmp_path / claims.RECORDS_FILE).write_text('{"id": "a"}\n{"id": \n')
    with pytest.raises(ValueError, match=r"line 2 of claims.jsonl is not a claim record"):
        claims.read_records(tmp_path)
    with pytest.raises(NotADirectoryError, match=r"folder=.*is a file"):
        claims.read_records(tmp_path / claims.RECORDS_FILE)
    with pytest.raises(TypeError, match=r"folder must be a folder path"):
        claims.read_records(None)
    assert claims.read_records(tmp_path / "never-written") == []


@pytest.mark.parametrize("target, message", [
    ("aten.conv2d", r"target 'aten.conv2d' would never be refused.*aten.convolution"),
    ("aten.no_such_op", r"target 'aten.no_such_op': PyTorch has no ATen operator"),
    ("math", r"target 'math': expected 'aten.<operator>' or 'module.function'"),
    ("no_such_module_q.f", r"cannot forbid target 'no_such_module_q.f': no module"),
])
def test_forbidden_refuses_a_target_that_would_never_fire(target, message):
    """forbidden("aten.conv2d") let F.conv2d run: PyTorch breaks conv2d up before a dispatch mode sees it."""
    with pytest.raises(ValueError, match=message), warnings.catch_warnings():
        with exercises.forbidden(target):
            pass
