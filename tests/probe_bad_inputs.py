"""Probe course_utils with a few hundred bad inputs and count how each one ends, per module.

    python tests/probe_bad_inputs.py            # table + every case that is not a clear course error
    python tests/probe_bad_inputs.py --all      # every case with its message
    python tests/probe_bad_inputs.py train      # only these modules

Outcomes: ``clear`` (a course error, raised by course_utils, naming the argument),
``unclear`` (a course error whose message does not name the argument), ``raw`` (an error
from inside torch/numpy/matplotlib/Python, or of an unexpected type), ``silent`` (no error:
a wrong result), ``hang`` (still running after 20 s), ``leak`` (left something in the temporary
folder). The cases live in ``tests/bad_inputs.py``;
``tests/test_bad_inputs.py`` asserts that each one is clear. A second table checks the
obvious forms that are converted instead of refused (uint8, channels-last, NumPy...).
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("CONVNETS_QUICK", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bad_inputs  # noqa: E402 - after the environment is set

KINDS = ("clear", "unclear", "raw", "silent", "hang", "leak")


def main(show_all: bool = False, only: tuple[str, ...] = ()) -> int:
    warnings.simplefilter("ignore")
    modules = only or bad_inputs.MODULES + bad_inputs.OTHER_MODULES
    counts: dict[str, Counter] = {m: Counter() for m in modules}
    problems = []
    start = time.perf_counter()
    for case in bad_inputs.CASES:
        if case.module not in modules:
            continue
        kind, detail = bad_inputs.outcome(case)
        counts[case.module][kind] += 1
        if kind != "clear" or show_all:
            problems.append(f"{kind:>8}  {case.module}.{case.name}: {detail}")
    seconds = time.perf_counter() - start
    def row(name: str, c: Counter) -> str:
        n = sum(c.values())
        return f"{name:<12}" + "".join(f"{c[k]:>9}" for k in KINDS) + f"{n:>8}{100 * c['clear'] / max(n, 1):>8.1f}%"

    print(f"{'module':<12}" + "".join(f"{k:>9}" for k in KINDS) + f"{'total':>8}{'clear %':>9}")
    total, others = Counter(), Counter()
    for module, c in counts.items():
        print(row(module, c))
        (others if module in bad_inputs.OTHER_MODULES else total).update(c)
    print(row("all", total) + "   (course_utils modules of issue 14)")
    if sum(others.values()):
        print(row("others", others) + "   (scenes, heatmaps: issue 16)")
    n = sum(total.values())
    print(f"({sum(total.values()) + sum(others.values())} bad inputs in {seconds:.0f} s)")

    conv = Counter()
    for case in bad_inputs.ACCEPTED:
        if case.module not in modules:
            continue
        kind, detail = bad_inputs.accepted_outcome(case)
        conv[kind] += 1
        if kind != "converted" or show_all:
            problems.append(f"{kind:>8}  {case.module}.{case.name} (obvious form): {detail}")
    print(f"obvious forms converted correctly: {conv['converted']} of {sum(conv.values())} "
          f"(refused {conv['refused']}, silently wrong {conv['silent']}, left temporary files {conv['leak']})")
    if problems:
        print("\n" + "\n".join(problems))
    ok = total["clear"] >= 0.95 * max(n, 1) and not total["silent"] and not total["hang"] and not total["leak"]
    ok = ok and not conv["silent"] and not conv["leak"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main("--all" in sys.argv, tuple(a for a in sys.argv[1:] if not a.startswith("-"))))
