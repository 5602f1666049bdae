"""How fast the homework grader grades a class: one notebook, N submissions, 1 vs 2 workers.

Builds N submissions of one instructor notebook (its solutions, hidden sections removed, as
a student would hand them in) in a temporary folder and grades them with ``--jobs`` 1 and 2
(or the values given), in the sandbox, each configuration using all the cores (1 worker
with 2 torch threads, 2 workers with 1 each). Prints wall times, seconds per submission and
the speed-up. Run it alone on the machine (``/work/bin/alone`` here): timings under load
mean nothing::

    python benchmarks/grade_throughput.py                          # the test fixture, 20 submissions
    python benchmarks/grade_throughput.py --notebook notebooks/03_conv_hyperparameters.ipynb
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests"))

from homework_tools import authoring, grading  # noqa: E402
from homework_tools.config import HomeworkConfig, Limits, default_jobs  # noqa: E402


def student_copy(source: Path) -> str:
    """The instructor notebook with its hidden sections removed: right answers, no probes."""
    nb = json.loads(source.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        text = authoring.cell_source(cell)
        if authoring.hidden_section(text) is not None:
            cell["source"] = text.split(authoring.HIDDEN_BEGIN)[0].rstrip()
    return json.dumps(nb)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebook", type=Path, help="an instructor notebook with grading probes "
                                                      "(default: the tests' fixture 98_fixture)")
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each --jobs value (min/median/max shown)")
    parser.add_argument("--no-sandbox", action="store_true", help="the same without bubblewrap (its overhead)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grade-throughput-") as tmp:
        root = Path(tmp)
        if args.notebook is None:
            import homework_fixtures

            source = homework_fixtures.write(root / "src")
        else:
            source = args.notebook.resolve()
        authoring.exercises(source)  # fails clearly if the notebook has no grading probes
        text = student_copy(source)
        for i in range(args.students):
            folder = root / "inbox" / f"student{i:03d}"
            folder.mkdir(parents=True)
            (folder / source.name).write_text(text, encoding="utf-8")
        print(f"{source.name}: {args.students} submissions, {platform.node()}, {default_jobs()} cores, "
              f"load {os.getloadavg()[0]:.2f}")
        times: dict[int, list[float]] = {}
        for repeat in range(args.repeat):
            for jobs in args.jobs:
                limits = Limits(threads=max(1, default_jobs() // jobs))
                config = HomeworkConfig(root / f"course-{jobs}-{repeat}", limits=limits, jobs=jobs, seed=args.seed,
                                        sandbox=not args.no_sandbox)
                start = time.perf_counter()
                run = grading.grade(root / "inbox", config, notebooks=source.parent)
                elapsed = time.perf_counter() - start
                times.setdefault(jobs, []).append(elapsed)
                full = sum(1 for r in run.records if all(e["points"] == e["max_points"] for e in r["exercises"]))
                seconds = sorted(r["seconds"] for r in run.records)
                print(f"--jobs {jobs}: {elapsed:6.1f} s for {args.students} (+1 reference run), "
                      f"{elapsed / args.students:5.2f} s per submission; sandbox runs "
                      f"{seconds[0]:.1f}-{seconds[-1]:.1f} s each (median {seconds[len(seconds) // 2]:.1f}); "
                      f"full marks {full}/{len(run.records)}; load {os.getloadavg()[0]:.2f}", flush=True)
        for jobs, values in times.items():
            values.sort()
            print(f"--jobs {jobs}: min {values[0]:.1f} s, median {values[len(values) // 2]:.1f} s, "
                  f"max {values[-1]:.1f} s over {len(values)} run(s)")
        if 1 in times:
            for jobs, values in times.items():
                if jobs != 1:
                    ratios = sorted(a / b for a, b in zip(times[1], values))
                    print(f"speed-up of --jobs {jobs} over --jobs 1 (paired runs): "
                          f"{', '.join(f'{r:.2f}x' for r in ratios)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
