"""The grader for real: notebooks run in the bubblewrap sandbox, answers compared outside.

* ``answers``: the fixture's reference answers, printed for the notebook's author.
* Three ways: the fixture's solution gets full marks, its untouched release 0, a
  broken copy something in between (the grader goes on).
* The adversarial class (``ADVERSARIAL``): every trick of issue 13, each graded exactly as
  deserved, with the hashes of the gradebook, the other submissions, the instructor source
  and the grader's cache unchanged, and no process of a submission left alive.
* The same attacks *without* the sandbox do gain points or change files: the suite can fail.
* Course notebooks: the untouched release of one converted notebook (``CONVNETS_GRADE_NOTEBOOK``)
  scores 0; ``CONVNETS_GRADE_ALL=1`` (``make grade-check``) grades every converted notebook's
  solution (full marks) and release (0).

Needs Linux with bubblewrap (``make test`` installs it as root; otherwise
``sudo apt-get install bubblewrap``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sys
import threading
import uuid
from pathlib import Path

import nbformat as nbf
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import homework_fixtures as fx  # noqa: E402
from homework_tools import authoring, cli, grading, sandbox, scores  # noqa: E402
from homework_tools.config import GiB, MiB, HomeworkConfig, Limits  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the grading sandbox (bubblewrap) needs Linux")
GRADE_ALL = os.environ.get("CONVNETS_GRADE_ALL") == "1"
# Small limits so that hogs and hangs cost seconds; generous times because 2 cores may be shared.
LIMITS = Limits(cell_timeout=30, notebook_time=240, probe_time=120, memory=int(1.5 * GiB), processes=128,
                file_size=64 * MiB, tmp_size=256 * MiB, output_limit=MiB, answer_limit=MiB)


@pytest.fixture(scope="module", autouse=True)
def sandbox_works():
    try:
        sandbox.check_sandbox()
    except sandbox.SandboxUnavailable as err:
        pytest.fail(f"{err}\n(make test installs bubblewrap with apt when run as root)")


def _config(tmp_path: Path, **kw) -> HomeworkConfig:
    return HomeworkConfig(tmp_path / "course", limits=LIMITS, jobs=2, seed=kw.pop("seed", 7), **kw)


def _points(run: grading.GradeRun) -> dict[str, float]:
    return {r["student"]: sum(e["points"] for e in r["exercises"]) for r in run.records}


# --------------------------------------------------------------------------- answers, three ways

def test_answers_command(tmp_path, capsys):
    source = fx.write(tmp_path)
    assert cli.main(["answers", str(source), "--seed", "3", "--timeout", "60"]) == 0
    out = capsys.readouterr().out
    assert "98_fixture.ipynb: reference answers with seed 3 (quick mode" in out
    assert "refuses          equal                        {'raised': 'ValueError'}" in out
    assert "n_params         equal                        40" in out
    assert "channels         set                          [2, 3, 4]" in out
    assert "means            {'rtol': 0.0001, 'atol': 1e-06} array[5] float32" in out
    cells = fx.cells()
    fx.answer(cells[10], "    return x.mean()")  # the instructor's own answer now misses the bound and the match
    broken = fx.write(tmp_path / "broken", cells)
    assert cli.main(["answers", str(broken), "--seed", "3", "--timeout", "60"]) == 1
    assert "98-ex3-test: the instructor's own answer fails its rules for ['spread', 'signs']" in capsys.readouterr().out


def _release(tmp_path: Path, source: Path) -> Path:
    (released,) = authoring.release([source], HomeworkConfig(tmp_path / "course"))
    return released


def _three_ways(tmp_path: Path, source: Path, ways: tuple[str, ...] = ("solution", "untouched", "broken")) -> None:
    """Grade the solution (full marks), the untouched release (0) and a broken copy (less, no crash)."""
    released = _release(tmp_path, source)
    inbox = tmp_path / "inbox"
    if "solution" in ways:
        (inbox / "solution").mkdir(parents=True)
        shutil.copyfile(source, inbox / "solution" / source.name)
    (inbox / "untouched").mkdir(parents=True)
    shutil.copyfile(released, inbox / "untouched" / source.name)
    if "broken" in ways:
        broken = nbf.read(source, 4)
        first = next(c for c in broken.cells if c.metadata.get("nbgrader", {}).get("solution"))
        first.source = first.source.replace(authoring.SOLUTION_BEGIN, authoring.SOLUTION_BEGIN + "\n    this is (not python")
        (inbox / "broken").mkdir()
        nbf.write(broken, inbox / "broken" / source.name)
    config = HomeworkConfig(tmp_path / "course", limits=Limits(cell_timeout=300, notebook_time=900, probe_time=300),
                            jobs=2, seed=11)
    run = grading.grade(inbox, config, notebooks=source.parent)
    points = authoring.check_format(source, 0).points
    got = {(r["student"], e["grade_id"]): e["points"] for r in run.records for e in r["exercises"]}
    total = sum(points.values())
    if "solution" in ways:
        assert {g: got[("solution", g)] for g in points} == points, "the solution notebook must get full marks"
    assert {g: got[("untouched", g)] for g in points} == {g: 0.0 for g in points}, "an untouched release must score 0"
    if "broken" in ways:
        assert sum(got[("broken", g)] for g in points) < total, "the broken submission lost no points"
    written = scores.write_run(run, config.course_dir)
    assert written[0].read_text().splitlines()[0].startswith("student,")


def test_fixture_three_ways(tmp_path):
    _three_ways(tmp_path, fx.write(tmp_path / "src"))


# --------------------------------------------------------------------------- course notebooks

DEFAULT_GRADED = "03"


def _graded_course_notebooks() -> list:
    """Course notebooks whose exercises all have grading probes: all (GRADE_ALL) or one."""
    ready, legacy = [], []
    for nb in authoring.course_notebooks():
        if nb.name[:2] == "00" or not authoring.has_exercises(nb):
            continue
        try:
            authoring.exercises(nb)
            ready.append(nb)
        except ValueError:
            legacy.append(nb.name)
    wanted = os.environ.get("CONVNETS_GRADE_NOTEBOOK", "")
    if not GRADE_ALL:
        chosen = [nb for nb in ready if nb.name.startswith(wanted or DEFAULT_GRADED)] or ready[:1]
        ready = [] if wanted == "none" else chosen
    params = [pytest.param(nb, id=nb.stem) for nb in ready]
    params += [pytest.param(None, id=name, marks=pytest.mark.skip(reason=f"{name}: exercises not converted to "
                                                                        "grading probes yet")) for name in legacy
               if GRADE_ALL]
    return params or [pytest.param(None, marks=pytest.mark.skip(reason="no course notebook with grading probes"))]


@pytest.mark.parametrize("notebook", _graded_course_notebooks())
def test_grade_course_notebook(tmp_path, notebook):
    """A real notebook: its untouched release scores 0 (GRADE_ALL: and its solution full marks)."""
    _three_ways(tmp_path, notebook, ("solution", "untouched", "broken") if GRADE_ALL else ("untouched",))
