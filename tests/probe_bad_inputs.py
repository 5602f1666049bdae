"""Probe course_utils with a few hundred bad inputs and count how each one ends, per module.

    python tests/probe_bad_inputs.py            # table + every case that is not a clear course error
    python tests/probe_bad_inputs.py --all      # every case with its message
    python tests/probe_bad_inputs.py train      # only these modules
    python tests/probe_bad_inputs.py --generated [--scale=4] [train]   # also generated inputs (Hypothesis)

Outcomes: ``clear`` (a course error, raised by course_utils, naming the argument),
``unclear`` (a course error whose message does not name the argument), ``raw`` (an error
from inside torch/numpy/matplotlib/Python, or of an unexpected type), ``silent`` (no error:
a wrong result), ``hang`` (still running after 20 s), ``leak`` (left something in the temporary
folder). The cases live in ``tests/bad_inputs.py``;
``tests/test_bad_inputs.py`` asserts that each one is clear. A second table checks the
obvious forms that are converted instead of refused (uint8, channels-last, NumPy...).

``--generated`` adds a third table: the Hypothesis specs of ``tests/generated_specs.py``
(every public function), each run for its default number of examples times ``--scale``
(derandomized: the same draws on every run), counted per module for bad values (clear,
unclear, raw, silent, hang) and for legitimate ones (ok, refused, raw, silent, hang), with
up to three examples of every failure per function (for a legitimate value, ``unclear``
is a course error, where the reference refuses too, that names no argument).
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


BAD_KINDS = ("clear", "unclear", "raw", "silent", "hang")
LEGIT_KINDS = ("ok", "refused", "unclear", "raw", "silent", "hang")


def generated(only: tuple[str, ...] = (), scale: float = 1.0) -> int:
    """Run every Hypothesis spec and count how its calls end (see the module docstring)."""
    import shutil

    import generated_specs
    from generated_inputs import explore

    bad_counts: dict[str, Counter] = {}
    legit_counts: dict[str, Counter] = {}
    failures: list[str] = []
    start = time.perf_counter()
    try:
        for name, spec in generated_specs.SPECS.items():
            module = name.split(".")[0]
            if only and module not in only:
                continue
            shown: Counter = Counter()

            def record(kind, arg, drawn, detail, name=name, module=module, shown=shown):
                legit = drawn is None or drawn.legit
                (legit_counts if legit else bad_counts).setdefault(module, Counter())[kind] += 1
                if kind not in ("ok", "clear"):
                    shown[kind] += 1
                    if shown[kind] <= 3:
                        failures.append(f"{kind:>8} {'legit' if legit else 'bad':>5}  {name}: {detail[:300]}")

            explore(spec, max(1, round(spec.examples * scale)), record)
    finally:
        shutil.rmtree(generated_specs.SCRATCH, ignore_errors=True)
    seconds = time.perf_counter() - start
    print(f"\ngenerated inputs ({len(generated_specs.SPECS)} specs, scale {scale:g}, {seconds:.0f} s)")
    print(f"{'module':<12}" + "".join(f"{'bad ' + k:>12}" for k in BAD_KINDS) + "".join(f"{'legit ' + k:>14}" for k in LEGIT_KINDS))
    all_bad, all_legit = Counter(), Counter()
    for module in sorted(set(bad_counts) | set(legit_counts)):
        b, g = bad_counts.get(module, Counter()), legit_counts.get(module, Counter())
        all_bad.update(b)
        all_legit.update(g)
        print(f"{module:<12}" + "".join(f"{b[k]:>12}" for k in BAD_KINDS) + "".join(f"{g[k]:>14}" for k in LEGIT_KINDS))
    print(f"{'all':<12}" + "".join(f"{all_bad[k]:>12}" for k in BAD_KINDS) + "".join(f"{all_legit[k]:>14}" for k in LEGIT_KINDS))
    nb, ng = sum(all_bad.values()), sum(all_legit.values())
    print(f"bad values: {all_bad['clear']} of {nb} clear ({100 * all_bad['clear'] / max(nb, 1):.1f}%); "
          f"legitimate values: {all_legit['ok']} of {ng} right ({100 * all_legit['ok'] / max(ng, 1):.1f}%)")
    if failures:
        print("\n" + "\n".join(failures))
    return 0 if all_bad["clear"] == nb and all_legit["ok"] == ng else 1


if __name__ == "__main__":
    modules = tuple(a for a in sys.argv[1:] if not a.startswith("-"))
    code = main("--all" in sys.argv, modules)
    if "--generated" in sys.argv:
        scale = next((float(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--scale=")), 1.0)
        code = generated(modules, scale) or code
    sys.exit(code)
