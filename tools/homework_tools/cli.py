"""The command line of the homework tools (``python tools/homework.py --help``)::

    python tools/homework.py check   [NB ...]   # exercise format of notebooks 01+ (AUTHORING.md)
    python tools/homework.py release [NB ...]   # student versions -> homework/release/<NN_x>/
    python tools/homework.py grade   [FOLDER]   # grade submissions, print a score table, write CSV
    python tools/homework.py lecture [NB ...]   # slide-ready copies for a lecture -> homework/lecture/

The course folder (``--course-dir``, default ``homework``, never committed) has
nbgrader's standard layout::

    source/<NN_x>/<NN_x>.ipynb                 copies of notebooks/ (made by ``release``)
    release/<NN_x>/<NN_x>.ipynb                student versions: solutions and hidden tests
                                               removed, outputs cleared
    submitted/<student>/<NN_x>/<NN_x>.ipynb    what students handed in (``grade`` copies them here)
    autograded/<student>/<NN_x>/<NN_x>.ipynb   executed and graded submissions
    gradebook.db                               nbgrader's database; scores.csv, scores_by_cell.csv
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from .authoring import check_format, course_notebooks, release
from .config import DEFAULT_COURSE_DIR, NOTEBOOKS, HomeworkConfig
from .grading import grade
from .scores import format_table, score_table, write_csv
from .slides import lecture


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``check``, ``release``, ``grade`` and ``lecture`` (see the module docstring).

    Args:
        argv: arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0 when everything worked.
    """
    parser = argparse.ArgumentParser(prog="homework.py", description="Homework from the course notebooks: check, release, grade, lecture.")
    parser.add_argument("--course-dir", type=Path, default=DEFAULT_COURSE_DIR,
                        help="nbgrader course folder (default homework)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show nbgrader's log")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="check the exercise format of notebooks 01 on")
    p.add_argument("notebooks", nargs="*", type=Path)
    p = sub.add_parser("release", help="build the student versions")
    p.add_argument("notebooks", nargs="*", type=Path)
    p = sub.add_parser("lecture", help="lecture copies with slide metadata (+ reveal.js HTML)")
    p.add_argument("notebooks", nargs="*", type=Path)
    p.add_argument("--no-html", action="store_true", help="only the notebooks, no HTML slides")
    p = sub.add_parser("grade", help="grade a folder of submissions")
    p.add_argument("submitted", nargs="?", type=Path, help="default: <course-dir>/submitted")
    p.add_argument("--csv", type=Path, help="default: <course-dir>/scores.csv")
    p.add_argument("--full", action="store_true", help="run submissions in full mode (slow)")
    p.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    p.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="instructor notebooks (default notebooks/)")
    args = parser.parse_args(argv)

    config = HomeworkConfig(args.course_dir, quick=not getattr(args, "full", False),
                            cell_timeout=getattr(args, "timeout", 600), verbose=args.verbose)
    try:
        if args.command == "check":
            bad = 0
            for nb in args.notebooks or course_notebooks():
                fmt = check_format(nb, min_exercises=3 if nb.name[:2] != "00" else 0)
                bad += bool(fmt.problems)
                status = "ok" if not fmt.problems else "PROBLEMS"
                print(f"{nb.name:<36} {len(fmt.points):2d} exercises {fmt.total_points:5g} points  {status}")
                for problem in fmt.problems:
                    print(f"    - {problem}")
            return 1 if bad else 0
        if args.command == "release":
            for out in release(args.notebooks or None, config):
                print(os.path.relpath(out))
            print(f"student versions in {config.course_dir / 'release'}")
            return 0
        if args.command == "lecture":
            for out in lecture(args.notebooks or None, config, html=not args.no_html):
                print(out)
            return 0
        scores = grade(args.submitted, config, notebooks=args.notebooks)
        print(format_table(*score_table(scores)))
        table, by_cell = write_csv(scores, args.csv or config.course_dir / "scores.csv")
        print(f"\nwrote {table} and {by_cell.name}")
        return 0
    except (ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1

