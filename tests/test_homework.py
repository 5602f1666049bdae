"""Homework tooling without running notebooks: format, probes, release, bundle, rules, finding, scores.

* Format: every course notebook from 01 on follows the exercise format (>= 3 exercises,
  unique grade_ids, points, solution markers); its hidden sections are grading probes
  (an error; a warning only with ``authoring.PROBE_PROBLEMS_ARE_ERRORS`` set to False).
* Release and bundle: the student version of every notebook is generated (cheap) and
  checked: no solution or hidden test left, stubs raise NotImplementedError, outputs
  cleared; the student bundle holds course_utils, data and releases only.
* Rules: every COMPARE rule, and answers that crossed out of a sandbox read without
  trusting them (hostile .npz files).
* Finding submissions: literal names, renamed files, copies, symlinks, odd files, all
  reported; shards; the score table, CSV, feedback and merging, on records made here.
The grader itself (sandboxed runs, the adversarial class) is tested in test_homework_grader.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import zipfile
from pathlib import Path

import nbformat as nbf
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import homework_fixtures as fx  # noqa: E402
from homework_tools import authoring, cli, compare, grading, scores, slides  # noqa: E402
from homework_tools.config import HomeworkConfig, Limits  # noqa: E402

pytest.importorskip("nbgrader", reason="nbgrader is needed for the homework tools: pip install -e '.[test]'")

# The notebooks the issue asks for (those not written yet are skipped, not failed) and any newer.
EXPECTED = sorted({"01", "02", "03", "04", "05", "06", "07"} |
                  {p.name[:2] for p in authoring.course_notebooks() if p.name[:2] != "00"})


# --------------------------------------------------------------------------- format

def _course(number: str) -> Path:
    found = sorted((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
    if not found:
        pytest.skip(f"notebook {number}_*.ipynb does not exist yet")
    return found[0]


@pytest.mark.parametrize("number", EXPECTED)
def test_course_notebook_exercise_format(number):
    fmt = authoring.check_format(_course(number), min_exercises=3)
    assert not fmt.problems, f"{fmt.path.name} breaks notebooks/AUTHORING.md:\n  " + "\n  ".join(fmt.problems)


def test_grade_ids_unique_across_course():
    ids = [gid for nb in authoring.course_notebooks() for gid in authoring.check_format(nb, 0).points]
    assert len(ids) == len(set(ids)), f"grade_ids repeat across notebooks: {sorted(ids)}"


def test_fixture_format_is_clean(tmp_path):
    fmt = authoring.check_format(fx.write(tmp_path))
    assert fmt.problems == []
    assert fmt.points == fx.POINTS and fmt.total_points == 6


def _broken(tmp_path, edit) -> list[str]:
    cells = fx.cells()
    edit(cells)
    return authoring.check_format(fx.write(tmp_path, cells)).problems


@pytest.mark.parametrize("edit, expected", [
    (lambda c: c[4].metadata.nbgrader.update(grade_id="98-ex1-code"), "duplicate grade_id"),
    (lambda c: c[4].metadata.nbgrader.pop("points"), "needs points > 0"),
    (lambda c: c[4].metadata.nbgrader.update(points=0), "needs points > 0"),
    (lambda c: c[4].metadata.nbgrader.update(locked=False), "must be locked"),
    (lambda c: c[4].metadata.nbgrader.update(grade_id="01-ex1-test"), "should start with '98-'"),
    (lambda c: c[3].update(source="def out_size(n, k, p=0, s=1):\n    return 0"), "needs '### BEGIN SOLUTION'"),
    (lambda c: c[3].update(source=c[3].source + "\n### END SOLUTION"), "needs '### BEGIN SOLUTION'"),
    (lambda c: c[1].update(source="### BEGIN SOLUTION\nx = 1\n### END SOLUTION"), "is not a solution cell"),
    (lambda c: c[0].update(source="Answer between `### BEGIN SOLUTION` and `### END SOLUTION`."),
     "is not a solution cell"),
    (lambda c: c[1].update(source="### BEGIN HIDDEN TESTS\nx = 1\n### END HIDDEN TESTS"), "is not a graded cell"),
    (lambda c: c[4].update(source=c[4].source + "\nx = 1  # BEGIN SOLUTION"), "is not a solution cell"),
    (lambda c: c[4].update(source="assert True\n### BEGIN HIDDEN TESTS\n"), "unbalanced hidden-test markers"),
    (lambda c: c[2].update(source="### Exercise 1 (3 points): output size"), "announces 3 points"),
    (lambda c: c.pop(4), "has no graded test cell"),
    (lambda c: [c.pop(i) for i in (11, 10, 7, 6)], "at least 3 graded exercises, found 1"),
])
def test_check_format_finds_violations(tmp_path, edit, expected):
    problems = _broken(tmp_path, edit)
    assert any(expected in p for p in problems), problems


def test_check_format_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="expected a .ipynb notebook"):
        authoring.check_format(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="does not exist"):
        authoring.check_format(tmp_path / "01_missing.ipynb")
    (tmp_path / "01_bad.ipynb").write_text("{not json")
    with pytest.raises(ValueError, match="not valid notebook JSON"):
        authoring.check_format(tmp_path / "01_bad.ipynb")
    with pytest.raises(ValueError, match="min_exercises must be an int >= 0"):
        authoring.check_format(fx.write(tmp_path), min_exercises=-1)
    with pytest.raises(ValueError, match="expected a folder of notebooks"):
        authoring.course_notebooks(tmp_path / "nope")
    with pytest.raises(ValueError, match="Limits.cell_timeout must be a positive"):
        Limits(cell_timeout=0)
    with pytest.raises(ValueError, match="jobs must be a positive"):
        HomeworkConfig(tmp_path, jobs=0)
    with pytest.raises(ValueError, match="seed must be an int"):
        HomeworkConfig(tmp_path, seed=-1)



# --------------------------------------------------------------------------- grading probes

def test_fixture_probes_are_well_formed(tmp_path):
    fmt = authoring.check_format(fx.write(tmp_path))
    assert fmt.problems == [] and fmt.warnings == []
    tasks = authoring.exercises(tmp_path / fx.NAME)
    assert [t.grade_id for t in tasks] == list(fx.POINTS)
    assert [t.points for t in tasks] == list(fx.POINTS.values())
    assert tasks[2].compare["signs"] == {"match": "truth", "min": 0.8}
    assert "def probe(inputs)" in tasks[0].code and "BEGIN HIDDEN" not in tasks[0].code
    # what runs where: the learner's kernel gets probe(inputs) only, never cases, derive or the literals
    assert "def probe(inputs)" in tasks[2].probe_code
    assert not any(word in tasks[2].probe_code for word in ("def cases", "def derive", "COMPARE", "WRONG", "truth"))
    assert "def cases(seed)" in tasks[2].cases_code and "def probe" not in tasks[2].cases_code
    assert "def derive(answer, inputs)" in tasks[2].derive_code and tasks[0].derive_code is None
    assert set(tasks[0].wrong) == {"no stride", "refuses with the wrong kind", "padding once", "never refuses"}
    assert tasks[1].wrong["one bias"][2].startswith("37 > 36") and len(tasks[1].right) == 2


def test_split_hidden_sends_only_the_helpers_each_part_uses():
    hidden = ("import math\n\n\ndef _draw(seed):\n    return [seed]\n\n\ndef _label(x):\n    return 'cat'\n\n\n"
              "def _call(f, xs):\n    return [attempt(f, x) for x in xs]\n\n\n"
              "def cases(seed):\n    xs = _draw(seed)\n    return {'xs': xs}, {'labels': [_label(x) for x in xs]}\n\n\n"
              "def probe(inputs):\n    return {'ys': _call(f, inputs['xs'])}\n\n\n"
              "COMPARE = {'ys': {'match': 'labels', 'min': 1.0}, 'labels': 'data'}\n")
    assert authoring.probe_problems(hidden) == []
    cases, probe, derive = authoring.split_hidden(hidden)
    assert "_draw" in cases and "_label" in cases and "_call" not in cases
    assert "_call" in probe and "_label" not in probe and "_draw" not in probe and "import math" in probe
    assert derive is None


LEGACY = "assert out_size(28, 5) == 24\n### BEGIN HIDDEN TESTS\nassert out_size(32, 3, 1, 2) == 16\n### END HIDDEN TESTS"


CASES = "def cases(seed):\n    return {}, {}\n"


@pytest.mark.parametrize("hidden, expected", [
    (None, "no grading probe"),
    ("assert out_size(1, 1) == 1", "legacy hidden asserts"),
    ("def probe(seed, x):\n    return {}\nCOMPARE = {'a': 'equal'}", "exactly 1 parameter"),
    (CASES + "def probe(inputs):\n    return {}\ndef derive(answer):\n    return {}\nCOMPARE = {'a': 'equal'}",
     "derive must take exactly 2 parameters"),
    (CASES + "def probe(inputs):\n    return {}\nCOMPARE = {'a': 'equal'}\nWRONG = {'x': 'def f(): pass'}",
     "WRONG['x'] must be (code, [scored keys it fails])"),
    (CASES + "def probe(inputs):\n    return {}\nCOMPARE = {'a': 'equal'}\nWRONG = {'x': ('pass', ['b'])}",
     "not scored keys of COMPARE: ['b']"),
    (CASES + "def probe(inputs):\n    return {}\nCOMPARE = {'a': 'equal'}\nRIGHT = {'x': 'def f(:'}",
     "RIGHT['x']: not valid Python"),
    (CASES + "def probe(inputs):\n    return {}\nCOMPARE = {'a': {'rule': 'equal', 'needs': ['a']}}",
     "'needs' must be a list of other scored keys"),
    ("def probe(seed):\n    return {}", "expected one COMPARE"),
    ("def probe(seed):\n    return {}\nCOMPARE = dict(a='equal')", "must be a literal"),
    ("def probe(seed):\n    return {}\nCOMPARE = {'a': 'exact'}", "unknown rule 'exact'"),
    ("def probe(seed):\n    return {}\nCOMPARE = {'a': {'rtol': -1}}", "tolerances must be >= 0"),
    ("def probe(seed):\n    return {}\nCOMPARE = {'a': {'min': 2, 'max': 1}}", "is above 'max'"),
    ("def probe(seed):\n    return {}\nCOMPARE = {'a': {'match': 'b', 'min': 0.5}}", "must name a key of COMPARE"),
    ("def probe(seed):\n    return {}\nCOMPARE = {'a': {'match': 'b', 'min': 1.5}, 'b': 'data'}", "a fraction in [0, 1]"),
    ("def probe(seed):\n    return {}\nCOMPARE = {'a': 'data'}", "nothing would be scored"),
    ("def probe(seed):\n    return {}\nCOMPARE = {'a': 'equal'}\nprint(probe(0))", "runs something"),
    ("def probe(seed):\n    return {}\nCOMPARE = {'a': 'equal'}\nx = 1", "only cases, probe, derive, COMPARE"),
    ("def probe(seed)\n    return {}", "not valid Python"),
])
def test_probe_problems(hidden, expected):
    problems = authoring.probe_problems(hidden)
    assert any(expected in p for p in problems), problems


def test_first_format_probes_grade_with_a_warning_until_strict(tmp_path, monkeypatch):
    assert authoring.STRICT_PROBES, "every course notebook is in the second format: keep the switch on"
    monkeypatch.setattr(authoring, "STRICT_PROBES", False)  # while converting an old notebook
    cells = fx.cells()  # exercise 2 in the first format: probe(seed), no cases
    cells[7].source = cells[7].source.replace("def cases(seed):\n    return {}, {}\n", "").replace(
        "def probe(inputs):", "def probe(seed):")
    path = fx.write(tmp_path, fx.with_hints(cells))
    fmt = authoring.check_format(path)
    assert fmt.problems == [] and any("probe(seed) of the first format" in w for w in fmt.warnings), fmt
    task = authoring.exercises(path)[1]
    assert task.legacy and "_legacy_probe(int(inputs['seed']))" in task.probe_code
    monkeypatch.setattr(authoring, "STRICT_PROBES", True)
    assert any("probe(seed) of the first format" in p for p in authoring.check_format(path).problems)


def test_legacy_hidden_tests_fail_and_warn_only_with_the_switch_off(tmp_path, monkeypatch):
    cells = fx.cells()
    cells[4].source = LEGACY
    path = fx.write(tmp_path, fx.with_hints(cells))
    fmt = authoring.check_format(path)
    assert any("legacy hidden asserts" in p for p in fmt.problems) and fmt.warnings == []
    assert cli.main(["check", str(path)]) == 1
    monkeypatch.setattr(authoring, "PROBE_PROBLEMS_ARE_ERRORS", False)  # while converting an old notebook
    fmt = authoring.check_format(path)
    assert fmt.problems == [] and any("legacy hidden asserts" in w for w in fmt.warnings), fmt
    with pytest.raises(ValueError, match="98-ex1-test: legacy hidden asserts"):
        authoring.exercises(path)  # cannot be graded either way


def test_hidden_section_joins_regions():
    text = "a = 1\n### BEGIN HIDDEN TESTS\nx = 1\n### END HIDDEN TESTS\nb = 2\n### BEGIN HIDDEN TESTS\ny = 2\n### END HIDDEN TESTS"
    assert authoring.hidden_section(text) == "x = 1\ny = 2\n"
    assert authoring.hidden_section("a = 1") is None


# --------------------------------------------------------------------------- release

def _check_release(source: Path, released: Path) -> None:
    """The student version hides every answer, keeps every test, raises in every stub."""
    src, out = nbf.read(source, 4), nbf.read(released, 4)
    text = released.read_text()
    for marker in (authoring.SOLUTION_BEGIN, authoring.HIDDEN_BEGIN, "END HIDDEN TESTS"):
        assert marker not in text, f"{released.name}: {marker!r} left in the student version"
    assert "widgets" not in out.metadata, f"{released.name}: widget state left in the student version"
    self_study = [c for c in src.cells if {"hints", "answers"} & set(c.metadata.get("course", {}))]
    assert not any({"hints", "answers"} & set(c.metadata.get("course", {})) for c in out.cells), \
        f"{released.name}: hints or questionnaire answers left in the student version"
    kept = [c for c in src.cells if c not in self_study]
    assert len(out.cells) == len(kept)
    for before, after in zip(kept, out.cells):
        if after.cell_type == "code":
            assert after.outputs == [] and after.execution_count is None, f"{released.name}: outputs not cleared"
        meta = before.metadata.get("nbgrader", {})
        if meta.get("solution") and before.cell_type == "code":
            assert "raise NotImplementedError()" in after.source, f"{meta['grade_id']}: no stub in the release"
            kept = before.source.split(authoring.SOLUTION_BEGIN)[0].rstrip()
            assert after.source.startswith(kept), f"{meta['grade_id']}: the signature must stay outside the markers"
        if meta.get("grade"):
            visible = before.source.split(authoring.HIDDEN_BEGIN)[0].rstrip()
            assert after.source.startswith(visible), f"{meta['grade_id']}: visible tests changed in the release"
            assert after.metadata.nbgrader.get("locked"), f"{meta['grade_id']}: test cell not locked"


@pytest.fixture(scope="module")
def course_release(tmp_path_factory) -> dict[str, Path | Exception]:
    """Release every course notebook once (cheap: no execution): stem -> released path or error."""
    config = HomeworkConfig(tmp_path_factory.mktemp("release") / "course")
    result: dict[str, Path | Exception] = {}
    for nb in authoring.course_notebooks():
        try:
            (result[nb.stem],) = authoring.release([nb], config)
        except (RuntimeError, ValueError) as err:
            result[nb.stem] = err
    return result


@pytest.mark.parametrize("number", ["00", *EXPECTED])
def test_release_of_course_notebook(course_release, number):
    source = _course(number)
    released = course_release[source.stem]
    if isinstance(released, Exception):
        problems = "\n  ".join(authoring.check_format(source, 0).problems)
        pytest.fail(f"the student version of {source.name} could not be built: {released}\n  {problems}")
    assert released.name == source.name and released.parent.name == source.stem
    assert released.parent.parent.name == "release"
    _check_release(source, released)


def test_release_rejects_bad_input(tmp_path):
    config = HomeworkConfig(tmp_path / "course")
    with pytest.raises(ValueError, match="does not exist"):
        authoring.release([tmp_path / "01_nope.ipynb"], config)
    with pytest.raises(ValueError, match="NN_topic.ipynb"):
        authoring.release([fx.write(tmp_path, name="fixture me.ipynb")], config)
    leaky = fx.cells()
    leaky[1].source = "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"  # markers without metadata
    with pytest.raises(RuntimeError, match="nbgrader failed to release"):
        authoring.release([fx.write(tmp_path / "leaky", leaky)], config)




def test_student_bundle_has_no_solutions(tmp_path):
    source = fx.write(tmp_path / "src")
    config = HomeworkConfig(tmp_path / "course")
    out = authoring.student_bundle([source], config)
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        nb_text = z.read("convnets-course/notebooks/98_fixture.ipynb").decode()
        readme = z.read("convnets-course/README.md").decode()
    assert "convnets-course/course_utils/__init__.py" in names and "convnets-course/data/manifest.json" in names
    assert "convnets-course/pyproject.toml" in names
    assert not [n for n in names if n.startswith(("convnets-course/tests", "convnets-course/tools"))]
    assert [n for n in names if n.endswith(".ipynb")] == ["convnets-course/notebooks/98_fixture.ipynb"]
    for secret in ("BEGIN SOLUTION", "BEGIN HIDDEN", "def probe", "x.mean(dim=(0, 2, 3))", "4 * 1 * 3 * 3 + 4"):
        assert secret not in nb_text, f"{secret!r} leaked into the student bundle"
    assert "raise NotImplementedError()" in nb_text and "pip install -e ." in readme



# --------------------------------------------------------------------------- rules

@pytest.mark.parametrize("rule, student, reference, passed", [
    ("equal", [1, 2, 3], [1, 2, 3], True),
    ("equal", (1, 2, 3), [1, 2, 3], True),  # tuples arrive as lists
    ("equal", np.array([1, 2, 3]), [1, 2, 3], True),
    ("equal", np.array([1.0, np.nan]), np.array([1.0, np.nan]), True),
    ("equal", [1, 2], [1, 2, 3], False),
    ("equal", np.zeros((2, 3)), np.zeros((3, 2)), False),
    ("equal", {"raised": "ValueError"}, {"raised": "ValueError"}, True),
    ("equal", {"raised": "NotImplementedError"}, {"raised": "ValueError"}, False),
    ("equal", "24", 24, False),
    ("equal", 40.0, 40, True),
    ("set", [3, 1, 2], [1, 2, 3], True),
    ("set", [[1, 2], [3]], [[3], [1, 2]], True),
    ("set", [1, 2], [1, 2, 3], False),
    ({"rtol": 1e-3}, np.array([1.0005, 2.001]), np.array([1.0, 2.0]), True),
    ({"rtol": 1e-3}, np.array([1.01, 2.0]), np.array([1.0, 2.0]), False),
    ({"atol": 0.1}, [0.05, {"a": 1.02}], [0.0, {"a": 1.0}], True),  # nested structures, leaf by leaf
    ({"atol": 0.1}, [0.05, {"a": 1.5}], [0.0, {"a": 1.0}], False),
    ({"atol": 0.1}, [0.05, {"b": 1.0}], [0.0, {"a": 1.0}], False),
    ({"atol": 0.1}, {"a": [0.05, 1.02]}, {"a": [0.0, 1.0]}, True),
    ({"atol": 0.1}, np.ones(3), np.ones((3, 1)), False),  # no broadcasting
    ({"atol": 0.1}, {"raised": "TypeError"}, np.ones(3), False),
    ({"min": 0.9}, 0.95, None, True),
    ({"min": 0.9}, 0.5, None, False),
    ({"min": 0.9}, float("nan"), None, False),
    ({"max": 100}, np.int64(80), None, True),
    ({"min": 1, "max": 3}, {"raised": "ValueError"}, None, False),
])
def test_rules(rule, student, reference, passed):
    spec = {"value": rule}
    (result,) = compare.compare_answers({"value": student}, {"value": reference}, spec)
    assert result.passed is passed, (rule, student, reference, result)


def test_match_rule_and_data_keys():
    spec = {"pred": {"match": "labels", "min": 0.75}, "labels": "data"}
    reference = {"pred": [0, 1, 1, 0], "labels": np.array([0, 1, 1, 1])}
    assert compare.scored_keys(spec) == ["pred"]
    assert [r.passed for r in compare.compare_answers({"pred": [0, 1, 1, 0]}, reference, spec)] == [True]
    assert [r.passed for r in compare.compare_answers({"pred": [1, 0, 1, 0]}, reference, spec)] == [False]
    assert [r.passed for r in compare.compare_answers({"pred": [0, 1]}, reference, spec)] == [False]
    assert [r.reason for r in compare.compare_answers({}, reference, spec)] == ["missing"]
    assert [r.reason for r in compare.compare_answers(None, reference, spec)] == ["missing"]


def test_match_rule_on_its_own_key_gives_partial_credit_against_the_reference():
    spec = {"diagnoses": {"match": "diagnoses", "min": 0.75}}
    assert compare.rule_problems(spec) == []
    reference = {"diagnoses": ["a", "b", "c", "d"]}
    assert compare.compare_answers({"diagnoses": ["a", "b", "c", "x"]}, reference, spec)[0].passed
    assert not compare.compare_answers({"diagnoses": ["a", "b", "y", "x"]}, reference, spec)[0].passed


def test_exercise_score_splits_points_and_clamps():
    ok, bad = compare.KeyResult("a", True, "ok"), compare.KeyResult("b", False, "differs")
    assert compare.exercise_score([ok, bad, ok, ok], 3) == 2.25
    assert compare.exercise_score([], 3) == 0.0
    assert compare.exercise_score([ok], 2) == 2.0


def _npz(tree, **arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, __tree__=np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8), **arrays)
    return buffer.getvalue()


def test_decode_answer_round_trip():
    blob = _npz({"a": [1, 2.5, None, "x", True], "b": {"__ndarray__": "a0"}}, a0=np.arange(6).reshape(2, 3))
    answer = compare.decode_answer(blob, 2**20)
    assert answer["a"] == [1, 2.5, None, "x", True] and answer["b"].shape == (2, 3)


def _tree_npy(tree) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8))
    return buffer.getvalue()


def _hostile() -> list:
    buffer = io.BytesIO()
    np.savez(buffer, __tree__=np.frombuffer(b'{"a": 1}', dtype=np.uint8), a0=np.array([{"x": 1}], dtype=object))
    pickled = buffer.getvalue()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, __tree__=np.frombuffer(b'{"a": 1}', dtype=np.uint8), a0=np.zeros(10**6))
    compressed = buffer.getvalue()
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)})
    header = header.getvalue() + bytes(32)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:  # a valid zip whose array header claims 8 GB
        z.writestr("__tree__.npy", _tree_npy({"a": {"__ndarray__": "a0"}}))
        z.writestr("a0.npy", header)
    lying = buffer.getvalue()
    plain = _npz({"a": 1})
    encrypted = bytearray(plain)  # the "encrypted" flag set in every local and central header
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = encrypted.find(signature)
        while at >= 0:
            encrypted[at + offset] |= 1
            at = encrypted.find(signature, at + 4)
    renamed = bytearray(plain)  # the local header names another file than the central directory
    at = renamed.find(b"__tree__.npy")
    renamed[at:at + 12] = b"__tref__.npy"
    patched = bytearray(plain)  # general-purpose flag bit 5 ("compressed patched data") in every header
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = patched.find(signature)
        while at >= 0:
            patched[at + offset] |= 1 << 5
            at = patched.find(signature, at + 4)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|S0", "fortran_order": False, "shape": (10**12,)})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:  # 10**12 items of zero bytes: passes a bytes check, not a count
        z.writestr("__tree__.npy", _tree_npy({"a": {"__ndarray__": "a0"}}))
        z.writestr("a0.npy", header.getvalue())
    zero_size = buffer.getvalue()
    deep = io.BytesIO()
    np.savez(deep, __tree__=np.frombuffer(("{\"a\": " + "[" * 100_000 + "]" * 100_000 + "}").encode(), dtype=np.uint8))
    many = io.BytesIO()
    np.savez(many, __tree__=np.frombuffer(("{\"a\": [" + "[]," * 2_000_000 + "[]]}").encode(), dtype=np.uint8))
    return [
        (b"not a zip", "not an .npz archive"),
        (pickled, "dtype object"),
        (compressed, "compressed"),
        (_npz({"a": 1}, a0=np.zeros(2**18)), "more than the limit"),
        (_npz({"a": {"__ndarray__": "zz"}}), "missing array"),
        (_npz({"a": 1}).replace(b"__tree__", b"__tray__"), "no structure entry"),
        (lying, "larger than its data"),
        (bytes(encrypted), "encrypted"),
        (bytes(renamed), "not a readable answer archive"),
        (bytes(patched), "not a readable answer archive"),
        (zero_size, "dtype |S0, not plain numbers"),
        (deep.getvalue(), "nested more than 66 deep"),
        (many.getvalue(), "more than 1048576 values"),
    ]


@pytest.mark.parametrize("blob, expected", _hostile())
def test_decode_answer_refuses_hostile_data(blob, expected):
    with pytest.raises(compare.AnswerError, match=re.escape(expected)):
        compare.decode_answer(blob, 64 * 2**20 if "values" in expected else 2**20)



# --------------------------------------------------------------------------- finding submissions

def _tree(root: Path) -> None:
    """A class folder with every oddity the grader must report rather than trip on."""
    source = fx.write(root / "src")
    inbox = root / "inbox"
    fx.write(inbox / "alice")
    fx.write(inbox / "alice*")  # a glob character: taken literally
    fx.write(inbox / "dave ")  # a trailing space: taken literally
    fx.write(inbox / "erin" / "hw", name="98_fixture (1).ipynb")  # renamed and nested
    fx.write(inbox / "frank")
    fx.write(inbox / "frank" / "old")  # a second copy
    fx.write(inbox / "gus" / "98_fixture")  # nbgrader's layout
    (inbox / "mallory").mkdir()
    (inbox / "mallory" / fx.NAME).symlink_to(source)  # a symlink to the instructor notebook
    (inbox / "trudy").symlink_to(root / "src", target_is_directory=True)
    (inbox / "kim").mkdir()
    (inbox / "kim" / "notes.txt").write_text("no notebook here")
    fx.write(inbox / "lee", name="untitled.ipynb")  # recognised by its content
    (inbox / "max").mkdir()
    os.mkfifo(inbox / "max" / fx.NAME)  # a special file
    fx.write(inbox / "ned", [nbf.v4.new_markdown_cell("my own notes")], name="99_other.ipynb")
    fx.write(inbox, name="loose.ipynb")
    (inbox / ".DS_Store").write_text("")


def test_find_submissions_takes_names_literally_and_reports_the_rest(tmp_path):
    _tree(tmp_path)
    found = grading.find_submissions(tmp_path / "inbox", ["98_fixture"])
    graded = {(s.student, s.relative, s.how) for s in found.submissions}
    assert graded == {("alice", fx.NAME, "exact"), ("alice*", fx.NAME, "exact"), ("dave ", fx.NAME, "exact"),
                      ("erin", "hw/98_fixture (1).ipynb", "by name"), ("frank", fx.NAME, "exact"),
                      ("gus", "98_fixture/98_fixture.ipynb", "exact"), ("lee", "untitled.ipynb", "by content")}
    text = "\n".join(f"{s}: {n}" for s, n in found.notes)
    for student, expected in [("mallory", "'98_fixture.ipynb' is a symlink: not graded"),
                              ("trudy", "'trudy' is a symlink: not graded"),
                              ("kim", "no notebook found"),
                              ("max", "'98_fixture.ipynb' is not a regular file: not graded"),
                              ("ned", "'99_other.ipynb' is not one of the graded notebooks"),
                              ("frank", "'old/98_fixture.ipynb' is another copy of 98_fixture: not graded"),
                              ("erin", "'hw/98_fixture (1).ipynb' graded as 98_fixture (matched by name)"),
                              ("-", "'loose.ipynb' is not inside a student folder")]:
        assert f"{student}: {expected}" in text, text
    assert "ned" in found.students and "kim" in found.students and "trudy" in found.students


def test_read_submission_refuses_symlinks_and_huge_files(tmp_path):
    real = fx.write(tmp_path)
    (tmp_path / "link.ipynb").symlink_to(real)
    with pytest.raises(ValueError, match="is a symlink"):
        grading.read_submission(tmp_path / "link.ipynb")
    with pytest.raises(ValueError, match="larger than 0 MiB"):
        grading.read_submission(real, limit=10)
    (tmp_path / "bin.ipynb").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="not UTF-8"):
        grading.read_submission(tmp_path / "bin.ipynb")


def test_shards_partition_the_class():
    students = [f"s{i:03d}" for i in range(200)] + ["alice*", "dave ", "éloïse"]
    shards = [[s for s in students if grading.shard_of(s, 4) == i] for i in range(4)]
    assert sorted(sum(shards, [])) == sorted(students)
    assert all(30 < len(s) < 70 for s in shards), [len(s) for s in shards]
    assert grading.shard_of("alice*", 4) == grading.shard_of("alice*", 4)


# --------------------------------------------------------------------------- grading with a stand-in sandbox

TRUTHS = {"98-ex1-test": {"fit": [0], "too_big": [1]}, "98-ex3-test": {"truth": [0, 0, 1, 1, 1]}}


def _fake_sandbox(monkeypatch, answers_by_student: dict) -> None:
    """Sessions that answer from a table (by the notebook's first cell) instead of running anything."""
    from homework_tools.compare import decode_answer
    from homework_tools.sandbox import Execution, ProbeAnswer

    class FakeSession:
        def __init__(self, notebook, limits, quick=True, sandboxed=True, course_root=None):
            who = json.loads(notebook)["cells"][0]["source"]
            who = who if isinstance(who, str) else "".join(who)
            self.table = answers_by_student.get(who.split("\n")[0], answers_by_student["reference"])
            self.notebook, self.limits, self.problem, self.started, self.stderr = notebook, limits, "", 0.0, ""

        def cases(self, seed, exercises):
            return {g: ProbeAnswer("ok", "", {"inputs": {"seed": seed}, "truth": TRUTHS.get(g, {})}) for g, _ in exercises}

        def run_notebook(self):
            return [{"index": 0, "status": "ok", "ename": "", "seconds": 0.1}], self.notebook

        def probes(self, probes):
            return {g: ProbeAnswer("ok", "", self.table[g]) for g, _, _ in probes if g in self.table}

        def derive(self, items, seconds):
            means = [decode_answer(answer, 2**20)["means"] for _, answer, _ in items]
            return [ProbeAnswer("ok", "", {"spread": float(np.max(m) - np.min(m))}) for m in means]

        def close(self):
            pass

    def execute(notebook, probes, limits, quick=True, sandboxed=True, course_root=None):
        session = FakeSession(notebook, limits)
        cells, text = session.run_notebook()
        return Execution(cells=cells, notebook=text, answers=session.probes(probes))

    monkeypatch.setattr(grading, "Session", FakeSession)
    monkeypatch.setattr(grading, "execute", execute)


REFUSED = {"raised": "ValueError", "kinds": ["ValueError"]}
REFERENCE = {"98-ex1-test": {"sizes": [24, REFUSED], "refuses": [24, REFUSED]},
             "98-ex2-test": {"n_params": 40},
             "98-ex3-test": {"means": np.array([-3.0, -1.0, 1.0, 3.0, 5.0]), "channels": [2, 3, 4],
                             "signs": [0, 0, 1, 1, 1]}}


def _students(tmp_path: Path, names: list[str]) -> Path:
    for name in names:
        cells = fx.cells()
        cells[0].source = name
        fx.write(tmp_path / "inbox" / name, cells)
    cells = fx.cells()
    cells[0].source = "reference"
    return fx.write(tmp_path / "src", cells)


def test_grading_logic_shards_and_merge(tmp_path, monkeypatch):
    half = {"98-ex1-test": {"sizes": [24, 10], "refuses": 0}, "98-ex2-test": {"n_params": 40}}
    _fake_sandbox(monkeypatch, {"reference": REFERENCE, "half": half})
    names = ["full", "half", "s1", "s2", "s3", "s4"]
    source = _students(tmp_path, names)
    config = HomeworkConfig(tmp_path / "course", seed=5, jobs=2)
    whole = grading.grade(tmp_path / "inbox", config, notebooks=source.parent)
    by = {(r["student"]): sum(e["points"] for e in r["exercises"]) for r in whole.records}
    assert by == {"full": 6, "half": 2, "s1": 6, "s2": 6, "s3": 6, "s4": 6}
    half_ex3 = next(r for r in whole.records if r["student"] == "half")["exercises"][2]
    assert half_ex3["status"] == "not run" and half_ex3["reasons"] == ["missing"]
    for i in range(3):
        run = grading.grade(tmp_path / "inbox", config, notebooks=source.parent, shard=(i, 3))
        scores.write_run(run, config.course_dir)
    shard_files = sorted((config.course_dir / "shards").glob("*.json"))
    assert len(shard_files) == 3
    merged = scores.merge(shard_files)
    key = lambda r: (r["student"], r["assignment"])  # noqa: E731
    assert sorted(map(key, merged.records)) == sorted(map(key, whole.records))
    assert merged.seed == 5 and sorted(merged.students) == sorted(names)
    with pytest.raises(ValueError, match="missing \\[1\\]"):
        scores.merge([shard_files[0], shard_files[2]])
    with pytest.raises(ValueError, match="repeated \\[0\\]"):
        scores.merge([shard_files[0], shard_files[0], shard_files[1], shard_files[2]])
    with pytest.raises(ValueError, match="needs an explicit seed"):
        grading.grade(tmp_path / "inbox", HomeworkConfig(tmp_path / "course"), notebooks=source.parent, shard=(0, 2))
    assert cli.main(["--course-dir", str(config.course_dir), "merge"]) == 0
    with (config.course_dir / "scores.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["student", "98_fixture", "total", "max", "percent", "notes"]
    assert ["half", "2/6", "2", "6", "33", ""] in rows


def test_reference_problems_stop_grading(tmp_path, monkeypatch):
    broken = {"98-ex1-test": {"sizes": [24, REFUSED]},  # a COMPARE key missing
              "98-ex2-test": {"n_params": 40},
              "98-ex3-test": dict(REFERENCE["98-ex3-test"], means=np.array([-3.0, -1.0, 1.0, 3.0, 25.0]))}  # spread 28
    _fake_sandbox(monkeypatch, {"reference": broken})
    source = _students(tmp_path, ["alice"])
    with pytest.raises(RuntimeError, match=r"98-ex1-test: the answer \(probe, derive, truth\) lacks the COMPARE keys "
                                           r"\['refuses'\](.|\n)*98-ex3-test: the instructor's own "
                                           r"answer fails its rules for \['spread'\]"):
        grading.grade(tmp_path / "inbox", HomeworkConfig(tmp_path / "course", seed=1), notebooks=source.parent)


def test_grade_rejects_bad_input(tmp_path, monkeypatch):
    config = HomeworkConfig(tmp_path / "course")
    with pytest.raises(ValueError, match="expected a folder of submissions"):
        grading.grade(tmp_path / "nope", config)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="found no submissions"):
        grading.grade(tmp_path / "empty", config)
    with pytest.raises(ValueError, match="is inside the submissions folder"):
        grading.grade(tmp_path, HomeworkConfig(tmp_path / "empty" / "course"))
    legacy = fx.cells()
    legacy[4].source = LEGACY
    fx.write(tmp_path / "src", legacy)
    fx.write(tmp_path / "inbox" / "alice")
    with pytest.raises(ValueError, match="cannot be graded until every exercise has a grading probe"):
        grading.grade(tmp_path / "inbox", config, notebooks=tmp_path / "src")
    with pytest.raises(TypeError, match="CellScore"):
        scores.score_table([("alice", "01", "x", 1, 1)])
    with pytest.raises(ValueError, match="every row needs 2 fields"):
        scores.format_table(["a", "b"], [["1"]])
    with pytest.raises(ValueError, match="expected a .csv path"):
        scores.write_csv([], tmp_path / "scores.txt")
    with pytest.raises(ValueError, match="got none"):
        scores.merge([])
    with pytest.raises(SystemExit):
        cli.main(["grade", "--shard", "3/2"])


def test_score_files_and_feedback(tmp_path):
    record = {"student": "dave ", "assignment": "98_fixture", "file": "98_fixture (1).ipynb", "matched": "by name",
              "problem": "", "notebook": "{}", "cells": [{"index": 4, "status": "killed", "ename": "TimeoutError"}],
              "exercises": [{"grade_id": "98-ex1-test", "points": 2.5, "max_points": 2, "status": "ok", "passed": 2,
                             "checks": 2, "reasons": []},
                            {"grade_id": "98-ex2-test", "points": -1, "max_points": 1, "status": "error NameError",
                             "passed": 0, "checks": 1, "reasons": ["missing"]}]}
    run = grading.GradeRun(seed=3, records=[record], notes=[("kim", "no notebook found")], students=["dave ", "kim"])
    written = scores.write_run(run, tmp_path / "course")
    table = (tmp_path / "course" / "scores.csv").read_text().splitlines()
    assert table[1] == "dave ,2/3,2,3,67," and table[2] == "kim,-,0,0,-,no notebook found"  # clamped to [0, max]
    header, rows = scores.score_table(scores.cell_scores(run.records), run.table_notes(), run.students)
    assert "'dave '" in scores.format_table(header, rows)  # a trailing space stays visible
    feedback = (tmp_path / "course" / "feedback" / "dave " / "98_fixture.md").read_text()
    assert "2/3 points" in feedback and "Checking your answer to 98-ex2 raised NameError, so its check" in feedback
    assert "cell 5: it took too long or crashed the kernel" in feedback
    assert (tmp_path / "course" / "graded" / "dave " / "98_fixture.ipynb").read_text() == "{}"
    assert json.loads((tmp_path / "course" / "scores.json").read_text())["seed"] == 3
    assert len(written) == 3


def test_lecture_copies_have_slides(tmp_path):
    cells = fx.cells()
    cells.insert(1, nbf.v4.new_markdown_cell("## 1. A section"))
    cells[2].metadata["slideshow"] = {"slide_type": "skip"}
    source = fx.write(tmp_path / "src", fx.with_hints(cells))
    config = HomeworkConfig(tmp_path / "course")
    (out,) = slides.lecture([source], config)
    kinds = [c.metadata.slideshow.slide_type for c in nbf.read(out, 4).cells]
    assert kinds[:6] == ["slide", "slide", "skip", "subslide", "fragment", "-"], kinds  # solution: a fragment
    assert kinds.count("subslide") == 6  # one per "### Exercise" and one per hints cell after it
    html = out.with_name("98_fixture.slides.html").read_text()
    assert "reveal" in html and "A section" in html
    assert nbf.read(source, 4).cells[0].metadata.get("slideshow") is None, "the source must stay untouched"


def test_grade_command_line(tmp_path, monkeypatch, capsys):
    _fake_sandbox(monkeypatch, {"reference": REFERENCE})
    source = _students(tmp_path, ["alice", "bob "])
    course = str(tmp_path / "course")
    assert cli.main(["--course-dir", course, "grade", str(tmp_path / "inbox"), "--notebooks", str(source.parent),
                     "--seed", "4", "--jobs", "2", "--csv", str(tmp_path / "out" / "table.csv")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:4] == ["student  98_fixture  total  max  percent  notes",
                                    "-------  ----------  -----  ---  -------  -----",
                                    "alice           6/6      6    6      100",
                                    "'bob '          6/6      6    6      100"], out
    assert "seed 4;" in out and (tmp_path / "out" / "table_by_cell.csv").is_file()
    assert (tmp_path / "course" / "feedback" / "bob " / "98_fixture.md").is_file()
    assert cli.main(["--course-dir", course, "grade", str(tmp_path / "inbox"), "--notebooks", str(source.parent),
                     "--no-sandbox"]) == 0
    assert capsys.readouterr().err.count("WARNING: grading WITHOUT the sandbox") == 2  # at the start and the end
    assert cli.main(["--course-dir", course, "grade", str(tmp_path / "nope")]) == 1
    assert "expected a folder of submissions" in capsys.readouterr().err


def test_missing_sandbox_says_what_to_do(monkeypatch):
    from homework_tools import sandbox

    sandbox.check_sandbox.cache_clear()
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None if name == "bwrap" else "/usr/bin/" + name)
    try:
        with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap.*--no-sandbox"):
            sandbox.check_sandbox()
    finally:
        sandbox.check_sandbox.cache_clear()
