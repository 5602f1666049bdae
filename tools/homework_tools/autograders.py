"""Gradescope and PrairieLearn autograders that grade exactly as ``grade`` does.

``python tools/homework.py gradescope NB ...`` writes ``<course>/gradescope/autograder.zip``
in Gradescope's documented layout (gradescope/autograder_samples, docs/specs.md): at its
root ``setup.sh`` (installs Python, bubblewrap and the course's packages when Gradescope
builds the image) and ``run_autograder`` (runs for each submission), with the course files
grading needs (``tools/``, ``course_utils/``, ``data/``, the instructor notebooks, the
settings in ``autograder.json``). ``run_autograder`` copies ``/autograder/submission/`` into a
one-student folder, grades it with :func:`homework_tools.grading.grade` (the same sandbox,
probes and comparison), and writes ``/autograder/results/results.json``: ``score``,
``execution_time``, ``output`` and one test per exercise (``name``, ``score``, ``max_score``,
``status``, ``output``, ``visibility``). Lateness comes from ``/autograder/submission_metadata.json``
(``created_at`` against the assignment's ``due_date``), priced by the late policy given with
``--late`` (else only reported).

``python tools/homework.py prairielearn NB ...`` writes ``<course>/prairielearn/``: a
``serverFilesCourse/convnets_grader/`` folder (the same course files and ``run.sh``), one
question per notebook (``info.json`` with ``externalGradingOptions``, ``question.html`` with a
file upload) and a ``Dockerfile`` for the grading image. The grader reads
``/grade/student/`` and writes ``/grade/results/results.json`` (``gradable``, ``score`` from 0
to 1, ``message``, one test per exercise with ``name``, ``points``, ``max_points``,
``message``); a submission with no notebook to grade is ``gradable: false`` (no attempt used).

A submission that breaks, hangs or cheats is graded like any other (``grade`` contains it).
When the grader itself cannot grade (no sandbox in the platform's container, a reference
run that fails), no score is invented: on Gradescope ``run_autograder`` writes no
``results.json`` and exits 1, so Gradescope shows "the autograder failed to execute
correctly" and records nothing, while its log (``stdout``, for the instructor) says why; on
PrairieLearn the result is ``gradable: false`` (no attempt used) with the same words.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from .authoring import exercises, read_notebook
from .config import ROOT, HomeworkConfig, Limits, default_jobs
from .feedback import ExerciseNote, answer_cells, exercise_notes
from .grading import GradeRun, grade
from .late import LatePolicy, apply, parse_time, policy_from_dict
from .safe import notebook_cells, safe_text
from .scores import replaced_whole, write_file

SETTINGS = "autograder.json"
GRADER_FOLDER = "convnets_grader"  # under PrairieLearn's serverFilesCourse/
VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")
_MAX_OUTPUT = 20_000  # characters of one test's output (PrairieLearn caps the whole file at 1 MB)
_NOT_YOUR_FAULT = ("The autograder could not grade this submission; this is not your fault and your "
                   "instructor can see why. Please tell them.")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu).
# It installs Python, bubblewrap (the grader's sandbox) and the course's packages (CPU torch).
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap util-linux
python3 -m venv /opt/convnets-venv
/opt/convnets-venv/bin/pip install --upgrade pip
/opt/convnets-venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu \\
    "torch>=2.2,<3" "torchvision>=0.17,<1"
/opt/convnets-venv/bin/pip install "/autograder/source[instructor]"
bwrap --ro-bind / / --unshare-all true || echo "WARNING: bubblewrap cannot create a sandbox in this image"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission in the sandbox and
# write /autograder/results/results.json (see tools/homework_tools/autograders.py).
cd /autograder/source
exec "${CONVNETS_PYTHON:-/opt/convnets-venv/bin/python}" tools/homework.py autograde gradescope
"""

RUN_SH = """#!/usr/bin/env bash
# PrairieLearn's entrypoint: grade /grade/student in the sandbox, write /grade/results/results.json.
# Usage (info.json): /grade/serverFilesCourse/convnets_grader/run.sh NN_topic
cd "$(dirname "$0")"
exec "${CONVNETS_PYTHON:-/opt/convnets-venv/bin/python}" tools/homework.py autograde prairielearn "$@"
"""

DOCKERFILE = """# The grading image for PrairieLearn's external grader (build it and push it where PrairieLearn can pull).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap util-linux \\
    && rm -rf /var/lib/apt/lists/*
COPY serverFilesCourse/convnets_grader/pyproject.toml serverFilesCourse/convnets_grader/README.md /tmp/course/
COPY serverFilesCourse/convnets_grader/course_utils /tmp/course/course_utils
RUN python -m venv /opt/convnets-venv \\
    && /opt/convnets-venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu \\
       "torch>=2.2,<3" "torchvision>=0.17,<1" \\
    && /opt/convnets-venv/bin/pip install "/tmp/course[instructor]" && rm -rf /tmp/course
"""

QUESTION_HTML = """<pl-question-panel>
  <p>Upload your notebook <code>{name}</code> (the homework version, with your answers).
  It is run in a sandbox and your functions are checked with new inputs.</p>
  <pl-file-upload file-names="{name}"></pl-file-upload>
</pl-question-panel>
<pl-submission-panel>
  <pl-external-grader-results></pl-external-grader-results>
  <pl-file-preview></pl-file-preview>
</pl-submission-panel>
"""


# --------------------------------------------------------------------------- building

def _course_files(sources: list[Path], settings: dict) -> list[tuple[str, Path | str]]:
    """(name in the kit, file or text) of everything grading needs, and nothing else."""
    files: list[tuple[str, Path | str]] = [(SETTINGS, json.dumps(settings, indent=1) + "\n")]
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).is_file():
            files.append((name, ROOT / name))
    files.append(("tools/homework.py", ROOT / "tools" / "homework.py"))
    for folder in ("tools/homework_tools", "course_utils", "data"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith("."):
                files.append((str(path.relative_to(ROOT)), path))
    files += [(f"notebooks/{p.name}", p) for p in sources]
    return files


def _settings(notebooks: list[Path], config: HomeworkConfig, platform: str, policy: dict | None = None,
              visibility: str = "visible") -> tuple[list[Path], dict]:
    """The instructor notebooks (checked: each has grading probes) and the autograder's settings."""
    if not notebooks:
        raise ValueError(f"expected the notebooks to grade on {platform}, e.g. notebooks/03_conv_hyperparameters.ipynb")
    if visibility not in VISIBILITY:
        raise ValueError(f"expected a visibility in {VISIBILITY}, got {visibility!r}")
    if policy is not None:
        policy_from_dict(policy)  # refuse a bad policy now, not at the first submission
    sources = []
    for path in notebooks:
        read_notebook(path)
        exercises(Path(path))  # ValueError for a notebook without grading probes
        sources.append(Path(path))
    limits = config.limits
    return sources, {"platform": platform, "assignments": [p.stem for p in sources], "quick": config.quick,
                     "limits": {"cell_timeout": limits.cell_timeout, "notebook_time": limits.notebook_time,
                                "probe_time": limits.probe_time, "memory": limits.memory},
                     "visibility": visibility, "late": policy}


def gradescope_zip(notebooks: list[Path], config: HomeworkConfig, out: Path | None = None,
                   policy: dict | None = None, visibility: str = "visible") -> Path:
    """Write the Gradescope autograder zip for ``notebooks`` (see the module docstring).

    Args:
        notebooks: instructor notebooks (with grading probes); a submission may hold any of them.
        config: mode and limits for grading (and the course folder for the default ``out``).
        out: the zip (default ``<course_dir>/gradescope/autograder.zip``).
        policy: a late policy as parsed JSON (:mod:`homework_tools.late`; its due dates are
            replaced by Gradescope's own), None to report lateness without a penalty.
        visibility: of each test on Gradescope: hidden, after_due_date, after_published, visible.

    Returns:
        The zip's path (written whole or not at all).
    """
    sources, settings = _settings(notebooks, config, "gradescope", policy, visibility)
    out = Path(out) if out is not None else config.course_dir / "gradescope" / "autograder.zip"
    if out.suffix != ".zip":
        raise ValueError(f"expected a .zip path for the autograder, got {str(out)!r}")
    files = [("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER), *_course_files(sources, settings)]
    with replaced_whole(out, ".zip") as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content.read_bytes() if isinstance(content, Path) else content)
    return out


def prairielearn_kit(notebooks: list[Path], config: HomeworkConfig, out: Path | None = None,
                     image: str = "convnets-grader", timeout: int = 600) -> Path:
    """Write PrairieLearn's external-grader files for ``notebooks`` (see the module docstring).

    Args:
        notebooks: instructor notebooks, one question each.
        config: mode and limits for grading.
        out: the folder (default ``<course_dir>/prairielearn``); its ``serverFilesCourse`` and
            ``questions`` go into the PrairieLearn course repository.
        image: the Docker image name the questions use (build it from the ``Dockerfile``).
        timeout: PrairieLearn's limit for one grading job, in seconds (at most 600).

    Returns:
        The folder written.
    """
    if not 1 <= timeout <= 600:
        raise ValueError(f"PrairieLearn allows a grading timeout of 1 to 600 seconds, got {timeout!r}")
    sources, settings = _settings(notebooks, config, "prairielearn")
    out = Path(out) if out is not None else config.course_dir / "prairielearn"
    grader = out / "serverFilesCourse" / GRADER_FOLDER
    if grader.exists():
        shutil.rmtree(grader)
    for name, content in [("run.sh", RUN_SH), *_course_files(sources, settings)]:
        target = grader / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_text(content, encoding="utf-8")
    (grader / "run.sh").chmod(0o755)
    (out / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    for source in sources:
        question = out / "questions" / source.stem
        question.mkdir(parents=True, exist_ok=True)
        info = {"uuid": _uuid(source.stem), "title": f"Homework {source.stem}", "topic": "Homework",
                "type": "v3", "singleVariant": True, "gradingMethod": "External",
                "externalGradingOptions": {"enabled": True, "image": image, "serverFilesCourse": [f"{GRADER_FOLDER}/"],
                                           "entrypoint": f"/grade/serverFilesCourse/{GRADER_FOLDER}/run.sh {source.stem}",
                                           "timeout": timeout}}
        (question / "info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        (question / "question.html").write_text(QUESTION_HTML.format(name=source.name), encoding="utf-8")
    return out


def _uuid(name: str) -> str:
    """A stable UUID per question (PrairieLearn needs one; the same notebook keeps its question)."""
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"convnets-course/homework/{name}"))


# --------------------------------------------------------------------------- grading one upload

def _copy_upload(upload: Path, target: Path) -> None:
    """Copy an upload's folders and regular files; a symlink stays a symlink (grading refuses it)."""
    target.mkdir(parents=True)
    for here, dirs, files in os.walk(upload, followlinks=False):
        inside = target / Path(here).relative_to(upload)
        for name in dirs + files:
            path, copy = Path(here, name), inside / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                copy.symlink_to(os.readlink(path))
                if name in dirs:
                    dirs.remove(name)
            elif stat.S_ISDIR(info.st_mode):
                copy.mkdir()
            elif stat.S_ISREG(info.st_mode):
                shutil.copyfile(path, copy, follow_symlinks=False)


def grade_upload(upload: Path, source: Path) -> tuple[GradeRun, dict]:
    """Grade one student's upload folder as ``grade`` would: (the run, the autograder's settings).

    Args:
        upload: the student's files (Gradescope's ``/autograder/submission``, PrairieLearn's
            ``/grade/student``).
        source: the autograder's own folder (with ``autograder.json``, ``notebooks/``, ``tools/``).
    """
    settings = json.loads((source / SETTINGS).read_text(encoding="utf-8"))
    jobs = max(1, min(default_jobs(), len(settings["assignments"])))
    limits = Limits(**settings["limits"], threads=max(1, default_jobs() // jobs))
    with tempfile.TemporaryDirectory(prefix="autograde-") as tmp:
        _copy_upload(upload, Path(tmp) / "submitted" / "submission")
        config = HomeworkConfig(Path(tmp) / "course", quick=settings["quick"], limits=limits, jobs=jobs)
        run = grade(Path(tmp) / "submitted", config, notebooks=source / "notebooks")
    return run, settings


def _titles(source: Path, assignment: str) -> dict[str, str]:
    """``{exercise: heading}`` from the instructor notebook (stable test names, whatever the student wrote)."""
    text = (source / "notebooks" / f"{assignment}.ipynb").read_text(encoding="utf-8")
    return {exercise: heading for exercise, (_, heading) in answer_cells(notebook_cells(text)).items()}


def _not_submitted(source: Path, assignment: str) -> list[ExerciseNote]:
    titles = _titles(source, assignment)
    return [ExerciseNote(e.grade_id, titles.get(e.grade_id.removesuffix("-test"), e.grade_id), 0.0, e.points, 0,
                         len(e.compare), False, [f"Not handed in: no {assignment}.ipynb was found in your upload."])
            for e in exercises(source / "notebooks" / f"{assignment}.ipynb")]


def _outcome(run: GradeRun, source: Path, settings: dict) -> tuple[dict[str, list[ExerciseNote]], list[str]]:
    """Per assignment its exercise notes (instructor titles), and the lines about the upload as a whole."""
    records = {r["assignment"]: r for r in run.records}
    notes: dict[str, list[ExerciseNote]] = {}
    for assignment in settings["assignments"]:
        record = records.get(assignment)
        if record is None:
            notes[assignment] = _not_submitted(source, assignment)
            continue
        titles = _titles(source, assignment)
        notes[assignment] = exercise_notes(record)
        for note in notes[assignment]:
            note.title = titles.get(note.grade_id.removesuffix("-test"), note.title)
    general = [f"{safe_text(note)}" for _, note in run.table_notes()]
    for assignment, items in notes.items():
        got, out_of = sum(n.points for n in items), sum(n.max_points for n in items)
        record = records.get(assignment)
        shown = f" (graded file {safe_text(record['file'])})" if record else " (not handed in)"
        general.insert(0, f"{assignment}: {got:g}/{out_of:g} points{shown}")
    general.append("Your notebook's own test cells are checks for you; the grade comes from separate checks of "
                   "your functions with new inputs.")
    return notes, general


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_OUTPUT else text[:_MAX_OUTPUT] + " [cut]"




def _cause() -> str:
    """The current exception's first line (for the logs: names no student's data)."""
    kind, error, _ = sys.exc_info()
    return f"{kind.__name__}: {str(error).splitlines()[0] if str(error) else ''}" if kind else "unknown"


# --------------------------------------------------------------------------- Gradescope

def _gradescope_lateness(root: Path, settings: dict, raw: float, out_of: float) -> tuple[float, str]:
    """(final score, a line on lateness) from ``submission_metadata.json`` and the late policy."""
    try:
        meta = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
        created = parse_time(meta["created_at"], what="created_at")
        assignment = meta.get("assignment") or {}
        dues = [u.get("assignment", {}).get("due_date") for u in meta.get("users") or [] if isinstance(u, dict)]
        due_text = max((d for d in dues if d), default=None) or assignment.get("due_date")
        due = parse_time(due_text, what="due_date") if due_text else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return raw, ""
    if due is None or created <= due:
        return raw, ""
    policy_data = settings.get("late")
    if not policy_data:
        return raw, f"Submitted {_duration((created - due).total_seconds())} after the due date (no penalty set)."
    policy = policy_from_dict(policy_data)
    rule = LatePolicy(due={"*": due}, percent=policy.percent, per=policy.per, max_percent=policy.max_percent,
                      grace_minutes=policy.grace_minutes, of=policy.of)
    late = apply(rule, [], "*", raw, out_of, created)
    if not late.note:
        return raw, ""
    return late.final, (f"Submitted {_duration(late.seconds)} after the due date: {late.note}; "
                        f"{late.raw:g} - {late.penalty:g} = {late.final:g} points.")


def _duration(seconds: float) -> str:
    """``"1 day 2 hours"``, ``"3 minutes"``, ``"1 second"``: how late, in words."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return f"{whole} second{'s' if whole != 1 else ''}"
    days, rest = divmod(whole // 60, 1440)
    hours, minutes = divmod(rest, 60)
    return " ".join(f"{v} {u}{'s' if v != 1 else ''}" for v, u in ((days, "day"), (hours, "hour"), (minutes, "minute"))
                    if v)


def run_gradescope(root: Path = Path("/autograder")) -> int:
    """Grade ``root/submission`` and write ``root/results/results.json`` (Gradescope's harness)."""
    start = time.monotonic()
    results_path = root / "results" / "results.json"
    try:
        run, settings = grade_upload(root / "submission", root / "source")
        notes, general = _outcome(run, root / "source", settings)
        visibility = settings.get("visibility", "visible")
        tests = []
        for assignment, items in notes.items():
            for number, n in enumerate(items, start=1):
                tests.append({"name": f"{assignment}: {n.title}", "number": f"{assignment[:2]}.{number}",
                              "score": n.points, "max_score": n.max_points,
                              "status": "passed" if n.points >= n.max_points else "failed",
                              "output": _cut(n.text()),
                              "visibility": visibility})
        raw = sum(t["score"] for t in tests)
        out_of = sum(t["max_score"] for t in tests)
        score, late = _gradescope_lateness(root, settings, raw, out_of)
        if late:
            general.insert(1, late)
        results = {"score": round(score, 4), "execution_time": round(time.monotonic() - start),
                   "output": _cut("\n".join(general)), "output_format": "text", "test_output_format": "text",
                   "visibility": visibility, "stdout_visibility": "hidden", "tests": tests}
    except Exception:  # noqa: BLE001 - the grader failed, not the student: no score rather than a false 0
        traceback.print_exc(file=sys.stdout)
        print(f"\nThe autograder could not grade this submission (not the student's fault): {_cause()}\n"
              "No results.json is written, so Gradescope records no score for it.")
        if results_path.exists():
            results_path.unlink()
        return 1
    write_file(results_path, json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "tests"}, indent=1)[:4000])
    return 0


# --------------------------------------------------------------------------- PrairieLearn

def run_prairielearn(assignment: str, root: Path = Path("/grade"), source: Path | None = None) -> int:
    """Grade ``root/student`` for one notebook and write ``root/results/results.json`` (PrairieLearn)."""
    source = source if source is not None else Path(__file__).resolve().parent.parent.parent
    results_path = root / "results" / "results.json"
    try:
        run, settings = grade_upload(root / "student", source)
        if assignment not in settings["assignments"]:
            raise ValueError(f"{assignment!r} is not one of this grader's notebooks {settings['assignments']}")
        settings["assignments"] = [assignment]
        if not any(r["assignment"] == assignment for r in run.records):
            found = "; ".join(safe_text(n) for _, n in run.table_notes()) or "no notebook in the upload"
            results = {"gradable": False, "score": 0.0,
                       "message": f"Nothing to grade: upload your notebook {assignment}.ipynb ({found}).",
                       "format_errors": [f"no {assignment}.ipynb found ({found})"]}
        else:
            notes, general = _outcome(run, source, settings)
            items = notes[assignment]
            got, out_of = sum(n.points for n in items), sum(n.max_points for n in items)
            results = {"gradable": True, "score": round(got / out_of, 6) if out_of else 0.0,
                       "message": _cut("\n".join(general)),
                       "tests": [{"name": n.title, "description": n.grade_id.removesuffix("-test"),
                                  "points": n.points, "max_points": n.max_points,
                                  "message": _cut(n.text())}
                                 for n in items]}
    except Exception:  # noqa: BLE001 - the grader failed, not the student: not gradable, no attempt used
        traceback.print_exc(file=sys.stdout)
        results = {"gradable": False, "message": _NOT_YOUR_FAULT,
                   "format_errors": ["the grader failed, not the submission (the grading log says why)"]}
        print(f"\nThe grader failed (not the submission): {_cause()}")
    write_file(results_path, json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "tests"}, indent=1)[:4000])
    return 0
