"""Grade a folder of submissions: find them, run each in a sandbox, compare outside, record.

``FOLDER/<student>/...`` holds each student's notebooks, at any depth up to 3 (an LMS
download unpacked: ``<student>/<NN_x>.ipynb``, nbgrader's ``<student>/<NN_x>/<NN_x>.ipynb``,
or a renamed ``<student>/hw/02_image_kernels (1).ipynb``). Names are taken literally (no
globbing, no trimming). A notebook is matched to an assignment by its exact name, else by
its name containing the assignment's (``Copy of 02_image_kernels.ipynb``), else by its
content (its exercises' grade_ids); symlinks, hard links, special files, unreadable or
oversized files, extra copies and unknown notebooks are not graded, and skipped folders (hidden
ones, Jupyter's checkpoints, too deep) are listed: all with the reason, in the score table.
Folder names that differ only in their Unicode spelling (NFC and NFD, as macOS writes them)
are one student, named in NFC.

First the instructor notebook runs (:func:`run_reference`, in a sandbox too): each
exercise's ``cases(seed)`` draws the probe's inputs (and keeps any truth, e.g. true labels)
with a seed drawn at grading time, then the notebook runs and ``probe(inputs)`` gives the
reference answers. Each submission then runs in its own sandbox
(:mod:`homework_tools.sandbox`): the whole notebook as handed in (its own test cells are only
self-checks), then every probe on its inputs; the seed, the truths, the rules and the
reference answers never enter it. An exercise's ``derive(answer, inputs)`` measures a
learner's answer (e.g. a model exported as data) in the instructor's run, never in the
learner's. The answers are compared here, outside any sandbox (:mod:`homework_tools.compare`),
and only this process writes scores.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import re
import secrets
import stat
import sys
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .authoring import Exercise, course_notebooks, exercises, release
from .compare import compare_answers, encode, exercise_score
from .config import NOTEBOOKS, ROOT, HomeworkConfig, Limits
from .safe import safe_text
from .sandbox import Execution, Session, execute

MAX_NOTEBOOK_BYTES = 64 * 2**20  # a submission larger than this is not graded (reported)
MAX_DEPTH = 3  # folders below a student's folder searched for notebooks
_SKIPPED_FOLDERS = {".ipynb_checkpoints", "__MACOSX", "__pycache__", ".git"}
_GRADE_ID = re.compile(r'"grade_id"\s*:\s*"(\d\d)-')
NO_SANDBOX_WARNING = ("WARNING: grading WITHOUT the sandbox (--no-sandbox): each submission runs as you, "
                      "with your files and your network, and its processes may outlive grading. Use it only "
                      "for notebooks you trust (your own solutions).")


@dataclass
class Submission:
    """One notebook to grade: whose, which assignment, where, and how it was recognised."""

    student: str  # the student's folder name, literally
    assignment: str  # the assignment (notebook stem) it was matched to
    path: Path
    relative: str  # path inside the student's folder, for reports
    how: str  # "exact", "by name" or "by content"
    sha256: str = ""  # of the file's text when it was found ("" if it is not UTF-8 text)


@dataclass
class Found:
    """What :func:`find_submissions` found: notebooks to grade and notes on everything else."""

    submissions: list[Submission] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (student, note) for the score table
    students: list[str] = field(default_factory=list)  # every student folder, graded or not


@dataclass
class GradeRun:
    """The outcome of grading: one record per graded submission, notes, the seed used."""

    seed: int
    records: list[dict] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    students: list[str] = field(default_factory=list)
    shard: tuple[int, int] | None = None
    # the whole class as found before a shard split, and what the grades depend on (run_inputs):
    # merge refuses shard files that disagree on either
    everyone: list[str] = field(default_factory=list)
    inputs: dict = field(default_factory=dict)

    def table_notes(self) -> list[tuple[str, str]]:
        """The notes for the score table: files not graded, and submissions that went wrong as a whole."""
        return self.notes + [(r["student"], f"{r['assignment']}: {r['problem']}") for r in self.records if r["problem"]]


# --------------------------------------------------------------------------- finding

def read_submission(path: Path, limit: int = MAX_NOTEBOOK_BYTES) -> str:
    """The text of a submitted notebook, refusing symlinks, hard links, special files and huge files.

    Args:
        path: the file (its last component must not be a symlink).
        limit: the largest size in bytes.

    Raises:
        ValueError: what is wrong with the file, in words for the score table.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        raise ValueError("is a symlink: not graded" if os.path.islink(path) else f"cannot be read ({err.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("is not a regular file: not graded")
        if info.st_nlink > 1:  # the same file is also elsewhere (an instructor notebook, another student's)
            raise ValueError(f"is a hard link ({info.st_nlink} names for one file): not graded; "
                             "copy the file instead of linking it")
        if info.st_size > limit:
            raise ValueError(f"is larger than {limit // 2**20} MiB: not graded")
        data = f.read(limit + 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("is not a notebook (not UTF-8 text): graded 0") from None


def _match(name: str, text: str | None, assignments: list[str]) -> tuple[str | None, str]:
    """(assignment, how) for a notebook file name and its text."""
    stem = name[: -len(".ipynb")]
    if stem in assignments:
        return stem, "exact"
    by_name = [a for a in assignments if a in stem]
    if len(by_name) == 1:
        return by_name[0], "by name"
    if text is not None:
        numbers = _GRADE_ID.findall(text)
        if numbers:
            best = max(set(numbers), key=numbers.count)
            by_content = [a for a in assignments if a.startswith(best + "_")]
            if len(by_content) == 1:
                return by_content[0], "by content"
    return None, ""


def _quoted(name: str) -> str:
    """A file or folder name for a note: quoted, control characters and undecodable bytes escaped."""
    return f"'{safe_text(name)}'"


def student_id(folder_name: str) -> str:
    """The student a submission folder belongs to: its name, literally, in Unicode's NFC spelling.

    ``"é"`` typed on Linux (NFC) and unpacked from a macOS zip (NFD, ``"e"`` + accent) are one
    student. Undecodable bytes (kept by Python as surrogates) pass through unchanged.
    """
    return unicodedata.normalize("NFC", folder_name)


def find_submissions(folder: Path | str, assignments: list[str]) -> Found:
    """Every student's notebooks in ``folder``, matched to ``assignments``, with notes on the rest.

    Args:
        folder: one sub-folder per student.
        assignments: the assignment names (instructor notebook stems), e.g. ``["02_image_kernels"]``.

    Returns:
        A :class:`Found`: at most one submission per student and assignment (an exact name at
        the top of the student's folder first, then nbgrader's layout, then the shortest path),
        and a note for every file or folder that is not graded or searched, and why.
    """
    folder = Path(folder)
    found = Found()
    folders: dict[str, list[os.DirEntry]] = {}
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        name = entry.name
        if entry.is_symlink():
            found.notes.append((student_id(name), f"{_quoted(name)} is a symlink: not graded"))
            found.students.append(student_id(name))
            continue
        if not entry.is_dir(follow_symlinks=False):
            if name.lower().endswith(".ipynb"):
                found.notes.append(("-", f"{_quoted(name)} is not inside a student folder: not graded"))
            continue  # other loose files (.DS_Store, the LMS's index.html) are not submissions
        if name in _SKIPPED_FOLDERS or name.startswith("."):
            found.notes.append(("-", f"{_quoted(name)} skipped: {_skip_reason(name)}"))
            continue
        folders.setdefault(student_id(name), []).append(entry)
    for student, entries in folders.items():
        found.students.append(student)
        if len(entries) > 1:
            found.notes.append((student, "folders " + " and ".join(ascii(e.name) for e in entries) +
                                " are one student (the same name in different Unicode spellings): graded together"))
        elif entries[0].name != student:
            found.notes.append((student, f"folder {ascii(entries[0].name)} is listed as {ascii(student)} "
                                         "(the same name in Unicode's NFC spelling)"))
        candidates: dict[str, list[tuple[tuple, str, Path, str, str]]] = {}
        seen = False
        for entry in entries:
            prefix = entry.name + "/" if len(entries) > 1 else ""
            for path, relative in _notebooks_in(Path(entry.path), student, found.notes):
                seen, relative = True, prefix + relative
                try:
                    text = read_submission(path)
                except ValueError as err:
                    if "graded 0" not in str(err):
                        found.notes.append((student, f"{_quoted(relative)} {err}"))
                        continue
                    text = None
                assignment, how = _match(path.name, text, assignments)
                if assignment is None:
                    found.notes.append((student, f"{_quoted(relative)} is not one of the graded notebooks: not graded"))
                    continue
                parts = Path(relative).parts[1 if prefix else 0:]
                rank = (0 if how == "exact" and len(parts) == 1 else
                        1 if how == "exact" and parts == (assignment, path.name) else 2 if how == "exact" else
                        3 if how == "by name" else 4, len(parts), relative)
                digest = hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else ""
                candidates.setdefault(assignment, []).append((rank, relative, path, how, digest))
        if not seen:
            found.notes.append((student, "no notebook found"))
        for assignment, options in sorted(candidates.items()):
            options.sort()
            _, relative, path, how, digest = options[0]
            found.submissions.append(Submission(student, assignment, path, relative, how, digest))
            if how != "exact":
                found.notes.append((student, f"{_quoted(relative)} graded as {assignment} (matched {how})"))
            for _, other, *_ in options[1:]:
                found.notes.append((student, f"{_quoted(other)} is another copy of {assignment}: not graded "
                                             f"({_quoted(relative)} was)"))
    found.students = sorted(set(found.students))
    return found


def _skip_reason(name: str) -> str:
    """Why a folder is not searched for submissions, in words for the score table."""
    if name == ".ipynb_checkpoints":
        return "Jupyter's autosaved copies, not submissions"
    if name == "__MACOSX":
        return "macOS metadata added by zip, not submissions"
    if name in _SKIPPED_FOLDERS:
        return "a tool's folder, not submissions"
    return "a hidden folder (its name starts with '.'); rename it to grade what is inside"


def _has_notebook(top: str, depth: int = 4) -> bool:
    """Whether a folder holds an ``.ipynb`` within ``depth`` levels (no symlinks followed)."""
    try:
        with os.scandir(top) as entries:
            for entry in entries:
                if entry.name.lower().endswith(".ipynb") and entry.is_file(follow_symlinks=False):
                    return True
                if depth > 0 and entry.is_dir(follow_symlinks=False) and _has_notebook(entry.path, depth - 1):
                    return True
    except OSError:
        return False
    return False


def _notebooks_in(top: Path, student: str, notes: list[tuple[str, str]]) -> list[tuple[Path, str]]:
    """(path, path relative to ``top``) of every ``.ipynb`` below ``top``, no symlinks followed.

    Folders that are not searched (hidden, tools', deeper than :data:`MAX_DEPTH`) get a note
    when they hold a notebook; ``__pycache__`` and empty checkpoints pass silently.
    """
    result = []
    for here, dirs, files in os.walk(top, followlinks=False):
        depth = len(Path(here).relative_to(top).parts)
        for d in sorted(dirs):
            relative = str(Path(here, d).relative_to(top))
            if d in _SKIPPED_FOLDERS or d.startswith("."):
                dirs.remove(d)
                if _has_notebook(os.path.join(here, d)):
                    notes.append((student, f"{_quoted(relative)} skipped: {_skip_reason(d)}"))
            elif os.path.islink(os.path.join(here, d)):
                notes.append((student, f"{_quoted(relative)} is a symlink: not graded"))
                dirs.remove(d)
            elif depth >= MAX_DEPTH:
                dirs.remove(d)
                if _has_notebook(os.path.join(here, d)):
                    notes.append((student, f"{_quoted(relative)} skipped: more than {MAX_DEPTH} folders deep"))
        dirs.sort()
        for f in sorted(files):
            if f.lower().endswith(".ipynb") and not f.startswith("."):
                result.append((Path(here, f), str(Path(here, f).relative_to(top))))
    return result


def run_inputs(found: Found, sources: dict[str, Path], course_dir: Path) -> dict:
    """What a run's grades depend on, as hashes, so that shards of different runs are never merged.

    Args:
        found: every submission of the whole class (before a shard split).
        sources: ``{assignment: instructor notebook}``.
        course_dir: the course folder (its ``release/<NN_x>/<NN_x>.ipynb`` are hashed when present).

    Returns:
        ``{"submissions": {student: {assignment: "<sha256> <file>"}}, "notebooks": {assignment:
        sha256}, "releases": {assignment: sha256 or None}, "grader": sha256 of the grader's code}``.
    """
    def digest(path: Path) -> str | None:
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None

    graded = sorted({s.assignment for s in found.submissions})
    submissions: dict[str, dict[str, str]] = {}
    for sub in found.submissions:
        submissions.setdefault(sub.student, {})[sub.assignment] = f"{sub.sha256 or 'not-utf-8'} {sub.relative}"
    grader = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        grader.update(path.name.encode() + b"\0" + path.read_bytes())
    return {"submissions": submissions,
            "notebooks": {a: digest(sources[a]) for a in graded},
            "releases": {a: digest(course_dir / "release" / a / f"{a}.ipynb") for a in graded},
            "grader": grader.hexdigest()}


# --------------------------------------------------------------------------- grading

def shard_of(student: str, count: int) -> int:
    """The shard (0 .. count-1) a student belongs to: a hash of the literal id, the same everywhere."""
    digest = hashlib.sha256(student.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count


def grade(submitted: Path | str | None = None, config: HomeworkConfig | None = None,
          notebooks: Path | str = NOTEBOOKS, shard: tuple[int, int] | None = None) -> GradeRun:
    """Grade every submission in a folder: sandboxed runs, comparison outside, one record each.

    First the instructor notebook of each graded assignment runs (:func:`run_reference`):
    it draws every probe's inputs with ``cases(seed)`` and answers them; then the students
    run in parallel, each probe seeing only its inputs; a ``derive`` step measures their
    answers in the instructor's run, and everything is compared here.

    Args:
        submitted: one sub-folder per student (default ``<course_dir>/submitted``); never
            inside the course folder's outputs, and better outside the repository.
        config: where and how (default :class:`HomeworkConfig`).
        notebooks: the folder of instructor notebooks (solutions and probes).
        shard: ``(i, n)``: grade only the students of shard ``i`` of ``n`` (needs ``config.seed``).

    Returns:
        A :class:`GradeRun` (see :mod:`homework_tools.scores` to tabulate and write it).

    Raises:
        ValueError: bad folders, no submissions, a graded notebook without grading probes.
        RuntimeError: an instructor notebook's probes fail or miss their own rules.
        SandboxUnavailable: the sandbox does not work here (and ``config.sandbox``).
    """
    config = config or HomeworkConfig()
    folder = Path(submitted) if submitted is not None else config.course_dir / "submitted"
    if not folder.is_dir():
        raise ValueError(f"expected a folder of submissions <student>/<NN_x>.ipynb, got {str(folder)!r}")
    folder = folder.resolve()
    if config.course_dir.is_relative_to(folder):
        raise ValueError(f"the course folder {str(config.course_dir)!r} is inside the submissions folder "
                         f"{str(folder)!r}: grades would be written among the submissions")
    if shard is not None:
        index, count = shard
        if not (isinstance(index, int) and isinstance(count, int) and 0 <= index < count):
            raise ValueError(f"expected a shard i/n with 0 <= i < n, got {index}/{count}")
        if config.seed is None:
            raise ValueError("grading in shards needs an explicit seed (--seed), the same for every shard, "
                             "so that all students get the same probe inputs")
    if not config.sandbox:
        print(NO_SANDBOX_WARNING, file=sys.stderr)
    if folder.is_relative_to(ROOT):
        print(f"warning: the submissions are inside the course repository ({ROOT}); unpack them in a folder "
              "of their own (README, For instructors)", file=sys.stderr)
    sources = {p.stem: p for p in course_notebooks(notebooks)}
    found = find_submissions(folder, sorted(sources))
    if not found.submissions and not found.students:
        raise ValueError(f"found no submissions in {str(folder)!r}: expected <student>/<NN_x>.ipynb "
                         "or <student>/<NN_x>/<NN_x>.ipynb")
    everyone, inputs = sorted(found.students), run_inputs(found, sources, config.course_dir)
    if shard is not None:
        mine = {s for s in found.students if shard_of(s, shard[1]) == shard[0]}
        found.submissions = [s for s in found.submissions if s.student in mine]
        found.notes = [n for n in found.notes if n[0] in mine or (n[0] == "-" and shard[0] == 0)]
        found.students = sorted(mine)
    run = GradeRun(config.seed if config.seed is not None else secrets.randbelow(2**31),
                   notes=found.notes, students=found.students, shard=shard, everyone=everyone, inputs=inputs)
    needed = sorted({s.assignment for s in found.submissions})
    tasks = {a: exercises(sources[a]) for a in needed}  # ValueError for notebooks without probes
    references: dict[str, Reference] = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(config.jobs) as pool:
            for assignment, reference in zip(needed, pool.map(
                    lambda a: run_reference(sources[a], tasks[a], run.seed, config, keep_open=True), needed)):
                references[assignment] = reference
            for reference in references.values():
                for warning in reference.warnings:
                    print(f"warning: {warning}", file=sys.stderr)
            unusable = [r for r in references.values() if r.problems]
            if unusable:
                raise RuntimeError("\n".join(
                    f"the reference answers of {r.source.name} (seed {run.seed}) are unusable; check them with "
                    f"`python tools/homework.py answers {r.source}`:\n  " + "\n  ".join(r.problems) for r in unusable))
            jobs = [pool.submit(_grade_one, s, references[s.assignment], config) for s in found.submissions]
            run.records = [job.result() for job in jobs]
    finally:
        for reference in references.values():
            reference.close()
    return run


# --------------------------------------------------------------------------- the reference run

# The instructor's run gets more time than a student's: a busy machine must not fail the whole class.
REFERENCE_TIME_FACTOR = 4.0
# A student's limits grow with what the reference run took on this machine now (times this factor).
STUDENT_TIME_FACTOR = 3.0


@dataclass
class Reference:
    """The instructor notebook's run for one seed: the probes' inputs and truths, the reference answers.

    While it is open it also measures learners' answers (:meth:`derive`) in the instructor's
    kernel, where the notebook's own definitions are and no learner code has run.
    """

    source: Path
    tasks: list[Exercise]
    seed: int
    inputs: dict[str, bytes] = field(default_factory=dict)  # grade_id -> the probe's inputs (.npz)
    answers: dict[str, dict] = field(default_factory=dict)  # grade_id -> reference answer (+ derived, + truth)
    derived: dict[str, set] = field(default_factory=dict)  # grade_id -> keys derive() produces
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cells: list[dict] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # grade_id -> what probe() returned (before derive)
    seconds: float = 0.0
    student_limits: Limits | None = None
    session: Session | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def derive(self, task: Exercise, answer: Any) -> dict:
        """``derive(answer, inputs)`` of ``task`` on a learner's answer, in the instructor's kernel.

        Returns:
            The derived values (``{}`` if the answer is not a dict, the exercise has no
            ``derive``, or it failed on this answer: the derived keys then count as missing).
        """
        if task.derive_code is None or not isinstance(answer, dict) or self.session is None:
            return {}
        try:
            blob = encode(answer)
        except (TypeError, ValueError, RecursionError):
            return {}
        with self.lock:
            (got,) = self.session.derive([(task.derive_code, blob, self.inputs[task.grade_id])],
                                         self.session.limits.cell_timeout)
        return got.value if got.status == "ok" and isinstance(got.value, dict) else {}

    def final(self, task: Exercise, answer: Any) -> Any:
        """A learner's answer as it is compared: its own keys, except those derive() makes, then derive()'s."""
        if not isinstance(answer, dict) or task.derive_code is None:
            return answer
        own = {k: v for k, v in answer.items() if k not in self.derived.get(task.grade_id, set())}
        return {**own, **self.derive(task, answer)}

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None


def _reference_limits(limits: Limits) -> Limits:
    return replace(limits, cell_timeout=limits.cell_timeout * REFERENCE_TIME_FACTOR,
                   notebook_time=limits.notebook_time * REFERENCE_TIME_FACTOR,
                   probe_time=limits.probe_time * REFERENCE_TIME_FACTOR)


def run_reference(source: Path, tasks: list[Exercise], seed: int, config: HomeworkConfig,
                  keep_open: bool = False) -> Reference:
    """Run an instructor notebook for one seed: ``cases``, the notebook, the probes, ``derive``.

    A problem (recorded, not raised) is a ``cases`` or probe that did not return, a key of
    ``COMPARE`` the answer lacks, an answer that is not plain data, or a rule the reference
    itself fails (a bound, a match fraction). Cells that raise (a "failing version first"
    cell) are not problems; a cell that timed out or was killed is a warning as long as the
    probes still answered (then the cells they need have run). The run gets
    ``REFERENCE_TIME_FACTOR`` times the configured limits and one retry.

    Args:
        source: the instructor notebook.
        tasks: its exercises (:func:`homework_tools.authoring.exercises`).
        seed: the seed every ``cases`` gets.
        config: limits, mode, sandbox.
        keep_open: keep the sandbox for :meth:`Reference.derive` (close it with :meth:`Reference.close`).
    """
    reference = _run_reference_once(source, tasks, seed, config, keep_open)
    if reference.problems and any("time limit" in p or " killed" in p or "not run" in p for p in reference.problems):
        reference.close()
        retry = _run_reference_once(source, tasks, seed, config, keep_open)
        retry.warnings.insert(0, f"{source.name}: the first reference run failed ({reference.problems[0]}); ran it again")
        reference = retry
    if not keep_open or not any(t.derive_code for t in tasks) or reference.problems:
        reference.close()
    return reference


def _run_reference_once(source: Path, tasks: list[Exercise], seed: int, config: HomeworkConfig,
                        keep_open: bool) -> Reference:
    reference = Reference(source, tasks, seed)
    limits = _reference_limits(config.limits)
    began = time.monotonic()
    session = Session(source.read_text(encoding="utf-8"), limits, config.quick, config.sandbox)
    reference.session = session
    try:
        cases = session.cases(seed, [(t.grade_id, t.cases_code) for t in tasks])
        truths = {}
        for task in tasks:
            got = cases.get(task.grade_id)
            value = got.value if got is not None and got.status == "ok" else None
            if not isinstance(value, dict) or not isinstance(value.get("truth"), dict) or "inputs" not in value:
                status = "did not run" if got is None else f"{got.status} {got.ename}".rstrip()
                reference.problems.append(f"{task.grade_id}: cases(seed) {status}" if status != "ok" else
                                          f"{task.grade_id}: cases(seed) must return (inputs, truth) with a dict truth")
                continue
            reference.inputs[task.grade_id] = encode({"inputs": value["inputs"]})
            truths[task.grade_id] = value["truth"]
        reference.cells, _ = session.run_notebook()
        ready = [t for t in tasks if t.grade_id in reference.inputs]
        got_answers = session.probes([(t.grade_id, t.probe_code, reference.inputs[t.grade_id]) for t in ready]) \
            if ready and not session.problem else {}
        if session.problem:
            reference.problems.append(f"{source.name}: {session.problem}")
        for cell in reference.cells:  # an error may be a "failing version first" cell; running out of time is not
            if cell["status"] in ("timeout", "killed", "not run"):
                reference.warnings.append(f"{source.name}: cell {cell['index']} {cell['status']} (raise --timeout or "
                                          "--time-limit, make the cell faster in quick mode, or tag it grader-skip "
                                          "if no exercise needs it)")
        for task in ready:
            _check_reference_answer(reference, task, got_answers.get(task.grade_id), truths[task.grade_id])
        if reference.problems:  # the probes did not all answer: a cell they need may be what went wrong
            reference.problems += [w for w in reference.warnings if " cell " in w]
        reference.seconds = time.monotonic() - began
        reference.student_limits = _student_limits(config.limits, reference)
    except BaseException:
        reference.close()
        raise
    return reference


def _check_reference_answer(reference: Reference, task: Exercise, got: Any, truth: dict) -> None:
    if got is None or got.status != "ok":
        status = "did not run" if got is None else f"{got.status} {got.ename}".rstrip()
        reference.problems.append(f"{task.grade_id}: the probe {status}")
        return
    answer = got.value
    if not isinstance(answer, dict) or "__not_a_dict__" in answer:
        reference.problems.append(f"{task.grade_id}: probe(inputs) must return a dict")
        return
    reference.raw[task.grade_id] = answer
    if task.derive_code is not None:
        derived = reference.derive(task, answer)
        if not derived:
            reference.problems.append(f"{task.grade_id}: derive(answer, inputs) failed on the instructor's own answer")
            return
        reference.derived[task.grade_id] = set(derived)
        answer = {**answer, **derived}
    clash = sorted(set(truth) & set(answer))
    if clash:
        reference.problems.append(f"{task.grade_id}: the truth's keys {clash} are also answer keys; rename them")
    answer = {**answer, **truth}
    reference.answers[task.grade_id] = answer
    missing = [k for k in task.compare if k not in answer]
    if missing:
        reference.problems.append(f"{task.grade_id}: the answer (probe, derive, truth) lacks the COMPARE keys {missing}")
        return
    unsendable = [k for k, v in answer.items() if isinstance(v, dict) and set(v) == {"unsendable"}]
    if unsendable:
        reference.problems.append(f"{task.grade_id}: keys {unsendable} are not plain data (numbers, strings, lists, "
                                  "dicts, arrays, tensors)")
    failed = [r.key for r in compare_answers(answer, answer, task.compare) if not r.passed]
    if failed:
        reference.problems.append(f"{task.grade_id}: the instructor's own answer fails its rules for {failed}")


def _student_limits(limits: Limits, reference: Reference) -> Limits:
    """A student's limits: the configured ones, raised where the reference run shows this machine is slow now."""
    slowest = max((c.get("seconds", 0.0) for c in reference.cells), default=0.0)
    total = sum(c.get("seconds", 0.0) for c in reference.cells)
    return replace(limits, cell_timeout=max(limits.cell_timeout, STUDENT_TIME_FACTOR * slowest),
                   notebook_time=max(limits.notebook_time, STUDENT_TIME_FACTOR * total))


def release_problems(source: Path, tasks: list[Exercise], reference: Reference, config: HomeworkConfig) -> list[str]:
    """Grade the untouched release of ``source`` against its reference: every key it passes is a problem.

    In the release each solution raises ``NotImplementedError``; a scored key that still equals
    the reference (e.g. "the input was left unchanged") would give points for doing nothing.

    Args:
        source: the instructor notebook.
        tasks: its exercises.
        reference: its reference run with the same seed (:func:`run_reference`, kept open if
            an exercise has ``derive``).
        config: limits, mode, sandbox.
    """
    with tempfile.TemporaryDirectory(prefix="homework-release-check-") as tmp:
        (released,) = release([source], HomeworkConfig(Path(tmp) / "course"))
        text = released.read_text(encoding="utf-8")
    run = execute(text, _probes(tasks, reference), reference.student_limits or config.limits, config.quick,
                  config.sandbox)
    problems = []
    for task in tasks:
        if task.grade_id not in reference.answers:
            continue
        got = run.answers.get(task.grade_id)
        value = reference.final(task, got.value) if got is not None and got.status == "ok" else None
        passed = [r.key for r in compare_answers(value, reference.answers[task.grade_id], task.compare) if r.passed]
        if passed:
            problems.append(f"{task.grade_id}: the untouched release (its solutions raise NotImplementedError) "
                            f"passes {passed}: a scored key must fail when the learner's code does not run")
    return problems


def _probes(tasks: list[Exercise], reference: Reference) -> list[tuple[str, str, bytes]]:
    return [(t.grade_id, t.probe_code, reference.inputs[t.grade_id]) for t in tasks if t.grade_id in reference.inputs]


def _grade_one(sub: Submission, reference: Reference, config: HomeworkConfig) -> dict:
    """Grade one submission; a record (plain data) for the score files and the feedback.

    Whatever goes wrong with this one submission (its file, its sandbox, its answers) ends up
    in its record; it never stops the grading of the others.
    """
    record: dict[str, Any] = {"student": sub.student, "assignment": sub.assignment, "file": sub.relative,
                              "matched": sub.how, "problem": "", "cells": [], "exercises": []}
    try:
        text = read_submission(sub.path)
        run = execute(text, _probes(reference.tasks, reference), reference.student_limits or config.limits,
                      config.quick, config.sandbox)
    except ValueError as err:  # not UTF-8: nothing to run
        run = Execution(problem=f"the file {err}")
    except Exception as err:  # the sandbox could not even start for this one: say so, go on with the others
        run = Execution(problem=f"could not be run ({type(err).__name__}: {err})")
    record.update(problem=run.problem, cells=run.cells, seconds=round(run.seconds, 1), notebook=run.notebook)
    for task in reference.tasks:
        got = run.answers.get(task.grade_id)
        try:
            if got is not None and got.status == "ok":
                results = compare_answers(reference.final(task, got.value), reference.answers[task.grade_id],
                                          task.compare)
                status = "ok"
            else:
                results = compare_answers(None, reference.answers[task.grade_id], task.compare)
                status = "not run" if got is None else f"{got.status} {got.ename}".rstrip()
        except Exception as err:  # comparing this answer went wrong: it scores 0, the batch goes on
            results = compare_answers(None, reference.answers[task.grade_id], task.compare)
            status = f"not comparable ({type(err).__name__})"
        record["exercises"].append({
            "grade_id": task.grade_id, "points": exercise_score(results, task.points), "max_points": task.points,
            "status": status, "passed": sum(r.passed for r in results), "checks": len(results),
            "reasons": sorted({r.reason for r in results if not r.passed})})
    return record
