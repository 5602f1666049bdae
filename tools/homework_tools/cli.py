"""The command line of the homework tools (``python tools/homework.py --help``)::

    python tools/homework.py check   [NB ...]         # exercise format + grading probes (AUTHORING.md)
    python tools/homework.py answers NB [--seed 0]    # the reference answers of NB's probes; its release scores 0?
    python tools/homework.py catalogue NB [--seeds 0,1,2]  # wrong answers fail, correct variants pass (no sandbox)
    python tools/homework.py release [NB ...]         # student versions -> homework/release/<NN_x>/
    python tools/homework.py bundle  [NB ...]         # student bundle (zip): course_utils, data, releases
    python tools/homework.py grade   [FOLDER]         # grade <student>/<NN_x>.ipynb, sandboxed, in parallel
    python tools/homework.py merge   [SHARD.json ...] # combine the files of `grade --shard i/n`
    python tools/homework.py lecture [NB ...]         # slide-ready copies for a lecture -> homework/lecture/

The course folder (``--course-dir``, default ``homework``, ignored by git) holds
``release/`` and ``source/`` (nbgrader's), ``bundle/``, and what grading writes:
``scores.csv``, ``scores_by_cell.csv``, ``scores.json``, ``graded/``, ``feedback/``,
``shards/`` (see :mod:`homework_tools.scores`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .authoring import PROBE_PROBLEMS_ARE_ERRORS, check_format, course_notebooks, exercises, release, student_bundle
from .catalogue import DEFAULT_SEEDS, check_notebook, parse_seeds
from .config import DEFAULT_COURSE_DIR, NOTEBOOKS, GiB, HomeworkConfig, Limits, default_jobs
from .grading import NO_SANDBOX_WARNING, grade, release_problems, run_reference
from .sandbox import SandboxUnavailable
from .scores import cell_scores, format_table, merge, score_table, write_run
from .slides import lecture


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
        p.add_argument("--full", action="store_true", help="run in full mode (slow)")
        p.add_argument("--timeout", type=_positive(float), default=Limits.cell_timeout,
                       help=f"seconds per cell and per probe (default {Limits.cell_timeout:g})")
        p.add_argument("--time-limit", type=_positive(float), default=Limits.notebook_time,
                       help=f"seconds for all the cells of one notebook (default {Limits.notebook_time:g})")
        p.add_argument("--memory", type=_positive(float), default=Limits.memory / GiB,
                       help=f"GiB per submission (default {Limits.memory / GiB:g})")
        p.add_argument("--no-sandbox", action="store_true",
                       help="run notebooks WITHOUT the sandbox: only for notebooks you trust")
    p = sub.add_parser("merge", help="combine the shard files of `grade --shard i/n` into one score table")
    p.add_argument("shards", nargs="*", type=Path, help="default: <course-dir>/shards/scores-*-of-*.json")
    p.add_argument("--csv", type=Path, help="default: <course-dir>/scores.csv")
    return parser


def _config(args: argparse.Namespace) -> HomeworkConfig:
    if not hasattr(args, "timeout"):
        return HomeworkConfig(args.course_dir, verbose=args.verbose)
    jobs = getattr(args, "jobs", 1)
    limits = Limits(cell_timeout=args.timeout, notebook_time=args.time_limit,
                    probe_time=max(args.time_limit / 2, args.timeout), memory=int(args.memory * GiB),
                    threads=max(1, default_jobs() // jobs))
    return HomeworkConfig(args.course_dir, quick=not args.full, limits=limits, sandbox=not args.no_sandbox,
                          jobs=jobs, seed=args.seed, verbose=args.verbose)


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


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring).

    Args:
        argv: arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0 when everything worked.
    """
    args = _parser().parse_args(argv)
    try:
        config = _config(args)
        if args.command == "check":
            return _check(args.notebooks or course_notebooks())
        if args.command == "release":
            for out in release(args.notebooks or None, config):
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
        return _grade(args, config)
    except (ValueError, RuntimeError, SandboxUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
