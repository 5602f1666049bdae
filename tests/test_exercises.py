"""Every exercise against its wrong-answer catalogue (notebooks/AUTHORING.md, issue 19).

For each course notebook, :func:`homework_tools.catalogue.check_notebook` runs the
instructor notebook once (quick mode) and, over several probe seeds, checks that every
catalogued wrong answer fails the visible self-check and exactly the keys it lists, that
every correct variant passes the self-check with full marks, and that the untouched
release's stub earns nothing. The fixture tests show the check fails when a catalogue is
not met (a probe that does not separate, a self-check that lets a wrong answer through,
a correct variant marked down, a key the stub earns).

``CONVNETS_CATALOGUE_SEEDS=0,1,2,3,4`` checks more seeds (default 0,1,2).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import homework_fixtures as fx  # noqa: E402
from homework_tools import authoring, catalogue  # noqa: E402

SEEDS = catalogue.parse_seeds(os.environ.get("CONVNETS_CATALOGUE_SEEDS", "0,1,2"))
NOTEBOOKS = [p for p in authoring.course_notebooks() if authoring.has_exercises(p)]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name[:2] for p in NOTEBOOKS])
def test_course_exercises_meet_their_catalogues(notebook):
    report = catalogue.check_notebook(notebook, SEEDS)
    assert not report.problems, f"{notebook.name}:\n  " + "\n  ".join(report.problems)


def test_fixture_meets_its_catalogue(tmp_path):
    report = catalogue.check_notebook(fx.write(tmp_path), (0, 1))
    assert report.problems == []
    assert report.checked == {"98-ex1": 6, "98-ex2": 6, "98-ex3": 6}


def _edited(tmp_path: Path, edits: list[tuple[int, str, str]]) -> Path:
    """The fixture with ``(cell, old, new)`` replacements in its sources."""
    cells = fx.cells()
    for cell, old, new in edits:
        assert old in cells[cell].source, old
        cells[cell].source = cells[cell].source.replace(old, new)
    return fx.write(tmp_path, cells)


@pytest.mark.parametrize("edits, expected", [
    # the probe no longer tries a kernel that does not fit: refusing or not makes no difference
    ([(4, "too_big = [(3, 7, 1, 1), (rng.randint(2, 5), 9, 1, rng.randint(1, 3))]", "too_big = [(9, 3, 0, 1)]")],
     "98-ex1: WRONG['never refuses'] at seed 0 passes ['refuses'], which it lists as failing "
     "(the probe does not separate it)"),
    # the self-check no longer tries a stride: a wrong answer goes through it
    ([(4, 'assert out_size(27, 3, 1, 2) == 14, "padding 1 on each side, then stride 2"', "")],
     "98-ex1: WRONG['no stride'] passes the visible self-check"),
    # exception names compared as strings: a correct answer raising a subclass of ValueError loses the point
    ([(4, 'return {"sizes": results, "refuses": results}',
       'return {"sizes": results, "refuses": results, "name": [r.get("raised") if isinstance(r, dict) else r for r in results]}'),
      (4, 'COMPARE = {"sizes":', 'COMPARE = {"name": "equal", "sizes":')],
     "98-ex1: RIGHT['a ValueError subclass'] (a correct answer) fails ['name'] at seed 0"),
    # a key that records only a constant: the untouched stub earns it
    ([(7, 'return {"n_params": attempt(lambda: n_params)}', 'return {"n_params": attempt(lambda: n_params), "ran": True}'),
      (7, 'COMPARE = {"n_params": "equal"}', 'COMPARE = {"n_params": "equal", "ran": "equal"}')],
     "98-ex2: the untouched release (its answers raise NotImplementedError) earns ['ran'] at seed 0: a scored key "
     "must fail when the learner's code does not run"),
])
def test_check_finds_an_unmet_catalogue(tmp_path, edits, expected):
    report = catalogue.check_notebook(_edited(tmp_path, edits), (0,))
    assert expected in report.problems, "\n".join(report.problems)


def test_stub_replaces_each_solution_region():
    solution = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\n\n### BEGIN SOLUTION\nk = 6\n### END SOLUTION"
    assert catalogue.stub(solution) == "def f(x):\n    raise NotImplementedError()\n\n\nraise NotImplementedError()\n"
    assert catalogue.defined_names(solution) == ["f", "k"]
