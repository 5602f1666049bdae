"""The command line of the homework tools (``python tools/homework.py --help``)::

    python tools/homework.py check   [NB ...]         # exercise format + grading probes (AUTHORING.md)
    python tools/homework.py answers NB [--seed 0]    # the reference answers of NB's probes; its release scores 0?
    python tools/homework.py catalogue NB [--seeds 0,1,2]  # wrong answers fail, correct variants pass (no sandbox)
    python tools/homework.py release [NB ...]         # student versions -> homework/release/<NN_x>/
    python tools/homework.py bundle  [NB ...]         # student bundle (zip): course_utils, data, releases
    python tools/homework.py grade   [FOLDER]         # grade <student>/<NN_x>.ipynb, sandboxed, in parallel
    python tools/homework.py merge   [SHARD.json ...] # combine the files of `grade --shard i/n`
    python tools/homework.py export  canvas|moodle|table --roster R.csv  # gradebook files, late work applied
    python tools/homework.py similarity [FOLDER]      # pairs of unusually alike answers, to look at
    python tools/homework.py gradescope NB ...        # Gradescope autograder zip
    python tools/homework.py prairielearn NB ...      # PrairieLearn external grader + questions
    python tools/homework.py lecture [NB ...]         # slide-ready copies for a lecture -> homework/lecture/

The course folder (``--course-dir``, default ``homework``, ignored by git) holds
``release/`` and ``source/`` (nbgrader's), ``bundle/``, and what grading writes:
``scores.csv``, ``scores_by_cell.csv``, ``scores.json``, ``graded/``, ``feedback/``,
``shards/`` (see :mod:`homework_tools.scores`), and ``export/``, ``similarity/``,
``gradescope/``, ``prairielearn/``.

Commands that run notebooks first check that this interpreter has the course's packages,
and say which interpreter it is and what to do when it has not.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .authoring import PROBE_PROBLEMS_ARE_ERRORS, check_format, course_notebooks, exercises, release, student_bundle
from .catalogue import DEFAULT_SEEDS, check_notebook, parse_seeds
from .config import DEFAULT_COURSE_DIR, NOTEBOOKS, ROOT, GiB, HomeworkConfig, Limits, default_jobs
from .grading import NO_SANDBOX_WARNING, grade, release_problems, run_reference
from .sandbox import SandboxUnavailable
from .scores import cell_scores, csv_text, display_name, format_table, merge, score_table, write_file, write_run
from .slides import lecture

# what the interpreter running the grader needs (the sandboxed notebooks run with it too)
NEEDED = {"torch": "the notebooks", "torchvision": "the notebooks", "matplotlib": "course_utils",
          "nbformat": "reading notebooks", "nbclient": "running notebooks", "ipykernel": "the notebooks' kernel",
          "nbgrader": "releasing notebooks"}
RUNS_NOTEBOOKS = {"check", "answers", "release", "bundle", "grade", "gradescope", "prairielearn", "autograde",
                  "similarity"}


def missing_packages() -> list[str]:
    """The course packages this interpreter cannot import (``course_utils`` from the repository)."""
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if not (ROOT / "course_utils" / "__init__.py").is_file():
        missing.append("course_utils")
    return missing


def environment_problem() -> str | None:
    """What to do when this interpreter lacks the course packages (None when it has them)."""
    missing = missing_packages()
    if not missing:
        return None
    why = ", ".join(f"{m} ({NEEDED.get(m, 'the course')})" for m in missing)
    venv = ROOT / ".venv" / "bin" / "python"
    hint = (f"run it with the course environment: {venv} tools/homework.py ..., or `source {ROOT}/.venv/bin/activate` "
            "first (in a batch job too)" if venv.is_file() else
            f"install the course environment first: cd {ROOT} && make setup (or pip install -e \".[instructor]\")")
    return f"this Python ({sys.executable}) lacks {why}: {hint}"


def _shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected i/n (e.g. 0/8), got {text!r}") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"expected 0 <= i < n in i/n, got {text!r}")
    return index, count


def _seeds(text: str) -> tuple[int, ...]:
    try:
        return parse_seeds(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value
    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="homework.py",
                                     description="Homework from the course notebooks: check, release, grade.")
    parser.add_argument("--course-dir", type=Path, default=DEFAULT_COURSE_DIR,
                        help="course folder for releases and grades (default homework)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show nbgrader's log")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="check the exercise format and grading probes of notebooks 01 on")
    p.add_argument("notebooks", nargs="*", type=Path)
    p = sub.add_parser("catalogue", help="check that each exercise's catalogued wrong answers fail and its "
                                         "correct variants pass (runs the notebook; trusted, no sandbox)")
    p.add_argument("notebooks", nargs="+", type=Path)
    p.add_argument("--seeds", type=_seeds, default=DEFAULT_SEEDS, help="probe seeds (default 0,1,2)")
    p.add_argument("--exercise", help="only this exercise, e.g. 03-ex2")
    p = sub.add_parser("release", help="build the student versions")
    p.add_argument("notebooks", nargs="*", type=Path)
    p.add_argument("--hints", action="store_true", help="include the exercises' hints (answers are never included)")
    p = sub.add_parser("bundle", help="zip for students: course_utils, data, released notebooks, no solutions")
    p.add_argument("notebooks", nargs="*", type=Path)
    p.add_argument("--out", type=Path, help="default: <course-dir>/bundle/convnets-course-student.zip")
    p.add_argument("--hints", action="store_true", help="include the exercises' hints (answers are never included)")
    p = sub.add_parser("lecture", help="lecture copies with slide metadata (+ reveal.js HTML)")
    p.add_argument("notebooks", nargs="*", type=Path)
    p.add_argument("--no-html", action="store_true", help="only the notebooks, no HTML slides")
    for name, text in (("grade", "grade a folder of submissions <student>/<NN_x>.ipynb"),
                       ("answers", ("print the reference answers of a notebook's grading probes and check "
                                    "that its untouched release scores 0"))):
        p = sub.add_parser(name, help=text)
        if name == "grade":
            p.add_argument("submitted", nargs="?", type=Path, help="default: <course-dir>/submitted")
            p.add_argument("--csv", type=Path, help="default: <course-dir>/scores.csv")
            p.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="instructor notebooks (default notebooks/)")
            p.add_argument("--jobs", type=_positive(int), default=default_jobs(),
                           help=f"submissions graded at once (default: the cores, here {default_jobs()})")
            p.add_argument("--shard", type=_shard, help="grade only shard i of n (0 <= i < n); needs --seed")
            p.add_argument("--seed", type=int, help="seed of the probes' inputs (default: drawn now, recorded)")
        else:
            p.add_argument("notebook", type=Path)
            p.add_argument("--seed", type=int, default=0, help="seed of the probes' inputs (default 0)")
        _limit_options(p)
        p.add_argument("--no-sandbox", action="store_true",
                       help="run notebooks WITHOUT the sandbox: only for notebooks you trust")
    p = sub.add_parser("merge", help="combine the shard files of `grade --shard i/n` into one score table")
    p.add_argument("shards", nargs="*", type=Path, help="default: <course-dir>/shards/scores-*-of-*.json")
    p.add_argument("--csv", type=Path, help="default: <course-dir>/scores.csv")
    p = sub.add_parser("export", help="gradebook CSV for Canvas or Moodle, or a table with late work, per roster")
    p.add_argument("format", choices=("canvas", "moodle", "table"))
    p.add_argument("--roster", type=Path, required=True, help="CSV with id, name, email, section (or the LMS's export)")
    p.add_argument("--scores", type=Path, help="default: <course-dir>/scores.json")
    p.add_argument("--by-exercise", action="store_true", help="a column per exercise too")
    p.add_argument("--late", type=Path, help="late policy JSON: due dates, penalty, extensions")
    p.add_argument("--times", action="append", default=[], metavar="[NB=]FILE",
                   help="submission times CSV (repeatable; NB= when the file is for one notebook)")
    p.add_argument("--title", action="append", default=[], metavar="NB=TITLE",
                   help="column title of a notebook, e.g. 02_image_kernels='Homework 2 (1234)' for Canvas")
    p.add_argument("--out", type=Path, help="default: <course-dir>/export/<format>.csv")
    p = sub.add_parser("similarity", help="pairs of submissions whose answers are unusually alike (to look at)")
    p.add_argument("submitted", nargs="?", type=Path, help="default: <course-dir>/submitted")
    p.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="instructor notebooks (default notebooks/)")
    p.add_argument("--threshold", type=float, default=0.5, help="show pairs from this similarity (0-1, default 0.5)")
    p = sub.add_parser("gradescope", help="Gradescope autograder zip grading these notebooks")
    p.add_argument("notebooks", nargs="+", type=Path)
    p.add_argument("--out", type=Path, help="default: <course-dir>/gradescope/autograder.zip")
    p.add_argument("--late", type=Path, help="late policy JSON (its penalty; due dates come from Gradescope)")
    p.add_argument("--visibility", default="visible",
                   choices=("visible", "after_due_date", "after_published", "hidden"), help="of each test")
    _limit_options(p)
    p = sub.add_parser("prairielearn", help="PrairieLearn external grader and one question per notebook")
    p.add_argument("notebooks", nargs="+", type=Path)
    p.add_argument("--out", type=Path, help="default: <course-dir>/prairielearn")
    p.add_argument("--image", default="convnets-grader", help="the grading image's name (default convnets-grader)")
    p.add_argument("--job-timeout", type=int, default=600, help="PrairieLearn's limit per grading job (<= 600 s)")
    _limit_options(p)
    p = sub.add_parser("autograde", help="(run by Gradescope's run_autograder or PrairieLearn's run.sh)")
    p.add_argument("platform", choices=("gradescope", "prairielearn"))
    p.add_argument("assignment", nargs="?", help="PrairieLearn: the notebook this question grades")
    return parser


def _limit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--full", action="store_true", help="run in full mode (slow)")
    p.add_argument("--timeout", type=_positive(float), default=Limits.cell_timeout,
                   help=f"seconds per cell and per probe (default {Limits.cell_timeout:g})")
    p.add_argument("--time-limit", type=_positive(float), default=Limits.notebook_time,
                   help=f"seconds for all the cells of one notebook (default {Limits.notebook_time:g})")
    p.add_argument("--memory", type=_positive(float), default=Limits.memory / GiB,
                   help=f"GiB per submission (default {Limits.memory / GiB:g})")


def _config(args: argparse.Namespace) -> HomeworkConfig:
    if not hasattr(args, "timeout"):
        return HomeworkConfig(args.course_dir, verbose=args.verbose)
    jobs = getattr(args, "jobs", 1)
    limits = Limits(cell_timeout=args.timeout, notebook_time=args.time_limit,
                    probe_time=max(args.time_limit / 2, args.timeout), memory=int(args.memory * GiB),
                    threads=max(1, default_jobs() // jobs))
    return HomeworkConfig(args.course_dir, quick=not args.full, limits=limits,
                          sandbox=not getattr(args, "no_sandbox", False), jobs=jobs, seed=getattr(args, "seed", None),
                          verbose=args.verbose)


def _relative(path: Path | str) -> str:
    """A path relative to the current folder when it is inside it, else absolute."""
    path = Path(path).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _shown(value: Any, width: int = 100) -> str:
    """A value for the answers listing: arrays as shape, dtype and a few elements."""
    if isinstance(value, np.ndarray):
        flat = np.array2string(value.ravel()[:8], precision=4, separator=", ")
        return f"array{list(value.shape)} {value.dtype} {flat}{' ...' if value.size > 8 else ''}"
    text = repr(value)
    return text if len(text) <= width else text[: width - 4] + " ..."


def _check(notebooks: list[Path]) -> int:
    bad = 0
    for nb in notebooks:
        fmt = check_format(nb, min_exercises=3 if nb.name[:2] != "00" else 0)
        bad += bool(fmt.problems)
        status = "ok" if not fmt.problems else "PROBLEMS"
        if fmt.warnings and not fmt.problems:
            status = f"ok, {len(fmt.warnings)} warning{'s' if len(fmt.warnings) > 1 else ''}"
        print(f"{nb.name:<36} {len(fmt.points):2d} exercises {fmt.total_points:5g} points  {status}")
        for problem in fmt.problems:
            print(f"    - {problem}")
        for warning in fmt.warnings:
            print(f"    - warning: {warning}")
    if not PROBE_PROBLEMS_ARE_ERRORS and any(check_format(nb, 0).warnings for nb in notebooks):
        print("(warnings: exercises not yet converted to grading probes cannot be graded; "
              "see notebooks/AUTHORING.md)")
    return 1 if bad else 0


def _answers(args: argparse.Namespace, config: HomeworkConfig) -> int:
    tasks = exercises(args.notebook)
    if not config.sandbox:
        print(NO_SANDBOX_WARNING, file=sys.stderr)
    reference = run_reference(args.notebook, tasks, args.seed, config, keep_open=True)
    try:
        problems = list(reference.problems)
        print(f"{args.notebook.name}: reference answers with seed {args.seed} "
              f"({'quick' if config.quick else 'full'} mode, {reference.seconds:.0f} s)")
        for cell in reference.cells:
            if cell["status"] not in ("ok", "skipped"):
                print(f"  note: cell {cell['index']} {cell['status']} {cell['ename']}".rstrip())
        for warning in reference.warnings:
            print(f"  warning: {warning}")
        for task in tasks:
            print(f"\n{task.grade_id} ({task.points:g} points)")
            answer = reference.answers.get(task.grade_id)
            if answer is None:
                print("  no answer (see the problems below)")
                continue
            derived = reference.derived.get(task.grade_id, set())
            for key, rule in task.compare.items():
                origin = " (derive)" if key in derived else ""
                print(f"  {key:<16} {str(rule) + origin:<28} {_shown(answer.get(key, '<missing>'))}")
            for key in sorted(set(answer) - set(task.compare)):
                print(f"  {key:<16} {'(no rule: not graded)':<28} {_shown(answer[key])}")
        if reference.answers:
            problems += release_problems(args.notebook, tasks, reference, config)
    finally:
        reference.close()
    if problems:
        print("\nproblems:")
        for problem in problems:
            print(f"  - {problem}")
    return 1 if problems else 0


def _catalogue(args: argparse.Namespace) -> int:
    bad = 0
    for notebook in args.notebooks:
        report = check_notebook(notebook, args.seeds, only=args.exercise)
        entries = sum(report.checked.values())
        print(f"{notebook.name}: {len(report.checked)} exercises, {entries} catalogue entries, seeds "
              f"{','.join(map(str, args.seeds))}: {'ok' if not report.problems else 'PROBLEMS'}")
        for problem in report.problems:
            print(f"    - {problem}")
        bad += bool(report.problems)
    return 1 if bad else 0


def _grade(args: argparse.Namespace, config: HomeworkConfig) -> int:
    run = grade(args.submitted, config, notebooks=args.notebooks, shard=args.shard)
    scores = cell_scores(run.records)
    print(format_table(*score_table(scores, run.table_notes(), run.students)))
    written = write_run(run, config.course_dir, args.csv)
    shard = f", shard {run.shard[0]}/{run.shard[1]}" if run.shard else ""
    print(f"\nseed {run.seed}{shard}; wrote {', '.join(map(_relative, written))}, "
          f"graded/ and feedback/ in {_relative(config.course_dir)}")
    if not config.sandbox:
        print(NO_SANDBOX_WARNING, file=sys.stderr)
    return 0


def _pairs(items: list[str], what: str) -> dict[str, str]:
    """``["A=x", "B=y"]`` -> ``{"A": "x", "B": "y"}`` (argparse's repeated NB=VALUE options)."""
    found = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"expected {what} as NB=VALUE, got {item!r}")
        found[key.strip()] = value.strip()
    return found


def _export(args: argparse.Namespace, config: HomeworkConfig) -> int:
    from .late import load_policy, read_times
    from .lms import canvas_rows, gradebook, moodle_rows, read_roster, summary, table_rows

    policy = load_policy(args.late) if args.late else None
    times: dict = {}
    for item in args.times:
        assignment, sep, path = item.partition("=")
        if not (sep and re.match(r"^\d\d_\w+$", assignment)):  # a file for every notebook (assignment column)
            assignment, path = "", item
        times.update(read_times(Path(path), assignment or None, policy.timezone if policy else None))
    if times and policy is None:
        raise ValueError("--times needs --late (the due dates and the penalty to apply)")
    book = gradebook(args.scores or config.course_dir / "scores.json", read_roster(args.roster), policy, times)
    titles = _pairs(args.title, "--title")
    rows = {"canvas": lambda: canvas_rows(book, titles, args.by_exercise),
            "moodle": lambda: moodle_rows(book, titles, args.by_exercise),
            "table": lambda: table_rows(book, args.by_exercise)}[args.format]()
    out = args.out or config.course_dir / "export" / f"{args.format}.csv"
    write_file(out, csv_text(rows))
    for line in summary(book):
        print(line)
    print(f"wrote {_relative(out)} ({len(rows) - 1 - (args.format == 'canvas')} rows)")
    return 0


def _similarity(args: argparse.Namespace, config: HomeworkConfig) -> int:
    if importlib.util.find_spec("copydetect") is None:
        raise RuntimeError(f"the similarity report needs copydetect, which this Python ({sys.executable}) lacks: "
                           "pip install 'copydetect>=0.5,<0.6' (it comes with pip install -e \".[instructor]\")")
    from .similarity import NOT_A_VERDICT, similarity_report

    submitted = args.submitted or config.course_dir / "submitted"
    pairs, written = similarity_report(submitted, config, args.notebooks, args.threshold)
    shown = [p for p in pairs if p.score >= args.threshold]
    print(NOT_A_VERDICT)
    print(f"\n{len(pairs)} pairs compared; {len(shown)} from similarity {args.threshold:.2f}:")
    for p in shown[:20]:
        print(f"  {p.assignment}  {display_name(p.first)} and {display_name(p.second)}: "
              f"{p.similarity[0]:.0%} / {p.similarity[1]:.0%} ({p.overlap} matching tokens)")
    print(f"wrote {', '.join(map(_relative, written))}" if written else "no submissions to compare")
    return 0


def _platform(args: argparse.Namespace, config: HomeworkConfig) -> int:
    from .autograders import gradescope_zip, prairielearn_kit

    if args.command == "gradescope":
        policy = None
        if args.late:
            from .late import load_policy

            load_policy(args.late)  # checked now
            policy = json.loads(args.late.read_text(encoding="utf-8"))
        out = gradescope_zip(args.notebooks, config, args.out, policy, args.visibility)
        print(f"Gradescope autograder: {_relative(out)} (upload it on the assignment's Configure Autograder page)")
        return 0
    out = prairielearn_kit(args.notebooks, config, args.out, args.image, args.job_timeout)
    print(f"PrairieLearn external grader: {_relative(out)} (serverFilesCourse/ and questions/ go into your course; "
          f"build the image from its Dockerfile as {args.image!r})")
    return 0


def _autograde(args: argparse.Namespace) -> int:
    from .autograders import run_gradescope, run_prairielearn

    if args.platform == "gradescope":
        return run_gradescope()
    if not args.assignment:
        raise ValueError("autograde prairielearn needs the notebook this question grades, e.g. 03_conv_hyperparameters")
    return run_prairielearn(args.assignment)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring).

    Args:
        argv: arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0 when everything worked.
    """
    args = _parser().parse_args(argv)
    problem = environment_problem() if args.command in RUNS_NOTEBOOKS else None
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        if args.command == "autograde":
            return _autograde(args)
        config = _config(args)
        if args.command == "check":
            return _check(args.notebooks or course_notebooks())
        if args.command == "release":
            for out in release(args.notebooks or None, config, hints=args.hints):
                print(_relative(out))
            print(f"student versions in {config.course_dir / 'release'}")
            return 0
        if args.command == "bundle":
            out = student_bundle(args.notebooks or None, config, args.out, hints=args.hints)
            print(f"student bundle: {_relative(out)} (course_utils, data, released notebooks; no solutions)")
            return 0
        if args.command == "lecture":
            for out in lecture(args.notebooks or None, config, html=not args.no_html):
                print(out)
            return 0
        if args.command == "answers":
            return _answers(args, config)
        if args.command == "catalogue":
            return _catalogue(args)
        if args.command == "merge":
            shards = args.shards or sorted((config.course_dir / "shards").glob("scores-*-of-*.json"))
            run = merge(shards)
            print(format_table(*score_table(cell_scores(run.records), run.table_notes(), run.students)))
            written = write_run(run, config.course_dir, args.csv)
            print(f"\nmerged {len(shards)} shards (seed {run.seed}); wrote {', '.join(map(_relative, written))}")
            return 0
        if args.command == "export":
            return _export(args, config)
        if args.command == "similarity":
            return _similarity(args, config)
        if args.command in ("gradescope", "prairielearn"):
            return _platform(args, config)
        return _grade(args, config)
    except (ValueError, RuntimeError, SandboxUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
