"""Grade a folder of submissions with nbgrader's autograde and return the cell scores.

``grade FOLDER`` accepts ``FOLDER/<student>/<NN_x>.ipynb`` (e.g. unpacked from an LMS) or
nbgrader's ``FOLDER/<student>/<NN_x>/<NN_x>.ipynb``. Submissions run in quick mode
(``CONVNETS_QUICK=1``) unless ``--full``: the exercises do not depend on the mode.
"""

from __future__ import annotations

import re
import shutil
import sys
import warnings
from pathlib import Path
from typing import Iterator

from .authoring import NOTEBOOK_GLOB, course_notebooks, _release
from .config import NOTEBOOKS, HomeworkConfig, environment, nbgrader_api, nbgrader_reason
from .scores import CellScore


def _find_submissions(folder: Path) -> Iterator[tuple[str, str, Path]]:
    """(student, assignment, notebook) for ``folder/<student>/<NN_x>[/<NN_x>].ipynb``."""
    for student_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found = sorted(student_dir.glob(NOTEBOOK_GLOB)) + sorted(student_dir.glob(f"*/{NOTEBOOK_GLOB}"))
        for nb in found:
            if ".ipynb_checkpoints" not in nb.parts:
                yield student_dir.name, nb.stem, nb


def grade(submitted: Path | str | None = None, config: HomeworkConfig | None = None,
          notebooks: Path | str = NOTEBOOKS) -> list[CellScore]:
    """Autograde every submission in a folder with nbgrader and return the cell scores.

    A submission that fails (a broken cell, an error, a timeout) still gets graded: its
    failing test cells score 0; one nbgrader cannot run at all (not a notebook, a dead
    kernel) scores 0 with a warning. Notebooks that are not course notebooks are skipped
    with a warning. An assignment not yet released is released first from ``notebooks``.

    Args:
        submitted: ``<student>/<NN_x>.ipynb`` or ``<student>/<NN_x>/<NN_x>.ipynb`` inside it
            (default: ``<course_dir>/submitted``).
        config: where and how (default :class:`HomeworkConfig`).
        notebooks: the folder of instructor notebooks the assignments come from.

    Returns:
        One :class:`CellScore` per autograded cell per student and notebook, sorted.
    """
    config = config or HomeworkConfig()
    folder = Path(submitted).resolve() if submitted is not None else config.course_dir / "submitted"
    if not folder.is_dir():
        raise ValueError(f"expected a folder of submissions <student>/<NN_x>.ipynb, got {str(folder)!r}")
    submissions = list(_find_submissions(folder))
    if not submissions:
        raise ValueError(f"found no submissions in {str(folder)!r}: expected <student>/<NN_x>.ipynb "
                         "or <student>/<NN_x>/<NN_x>.ipynb")
    sources = {p.stem: p for p in course_notebooks(notebooks)}
    for student, assignment, nb in submissions:
        if assignment not in sources:  # e.g. "01_fc_vs_conv-Copy1.ipynb": not graded, but say so
            print(f"warning: skipped {nb}: not a course notebook ({', '.join(sorted(sources))})", file=sys.stderr)
    submissions = [s for s in submissions if s[1] in sources]
    if not submissions:
        raise ValueError(f"found no submission of a course notebook in {str(folder)!r}; "
                         f"expected one of {sorted(sources)}")

    with environment(CONVNETS_QUICK="1" if config.quick else None), warnings.catch_warnings():
        # nbgrader 0.9 on SQLAlchemy 2 warns about its own session handling: not the user's business
        warnings.filterwarnings("ignore", message="Object of type <Submitted", category=Warning)
        return _grade(submissions, sources, config)


def _grade(submissions: list[tuple[str, str, Path]], sources: dict[str, Path],
           config: HomeworkConfig) -> list[CellScore]:
    from nbgrader.api import Gradebook, MissingEntry

    config.course_dir.mkdir(parents=True, exist_ok=True)
    with Gradebook(f"sqlite:///{config.course_dir / 'gradebook.db'}") as gb:
        known = {a.name for a in gb.assignments}
    todo = sorted({a for _, a, _ in submissions} - known)
    if todo:
        _release([sources[a] for a in todo], config)

    inbox = config.course_dir / "submitted"
    for student, assignment, nb in submissions:
        target = inbox / student / assignment / f"{assignment}.ipynb"
        if nb.resolve() != target.resolve():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(nb, target)

    api = nbgrader_api(config)
    failed = set()
    for student, assignment in sorted({(s, a) for s, a, _ in submissions}):
        result = api.autograde(assignment, student, force=True, create=True)
        if not result.get("success"):  # nbgrader could not grade it at all (e.g. not a notebook): 0 points
            failed.add((student, assignment))
            print(f"warning: could not grade {student}/{assignment}, scored 0: {nbgrader_reason(result)}", file=sys.stderr)

    scores = []
    with Gradebook(f"sqlite:///{config.course_dir / 'gradebook.db'}") as gb:
        for student, assignment in sorted({(s, a) for s, a, _ in submissions}):
            try:
                sub = gb.find_submission_notebook(assignment, assignment, student)
                grades = {} if (student, assignment) in failed else {g.name: g for g in sub.grades}
            except MissingEntry:
                grades = {}
            for cell in gb.find_notebook(assignment, assignment).grade_cells:
                got = grades.get(cell.name)
                score = float(got.score) if got is not None and got.score is not None else 0.0
                scores.append(CellScore(student, assignment, cell.name, score, float(cell.max_score)))
    return sorted(scores, key=lambda s: (s.student, s.assignment, _natural(s.grade_id)))


def _natural(text: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]
