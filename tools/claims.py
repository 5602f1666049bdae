"""Re-measure every notebook's claims on held-out seeds; write CLAIMS.md and claims.json.

    python tools/claims.py                                # every notebooks/NN_*.ipynb (hours on 2 cores)
    python tools/claims.py notebooks/01_fc_vs_conv.ipynb  # one notebook: only its rows change
    python tools/claims.py --table-only                   # re-write CLAIMS.md from claims.json

Each notebook runs top to bottom in a fresh kernel, one at a time, in FULL mode, with
``CONVNETS_CLAIMS`` set: ``claims.seeds(n)`` hands it the held-out seeds (``--seeds``,
default 3-9) and every ``claims.check(...)`` records its claim instead of asserting it
(see ``course_utils/claims.py``). The records go to ``claims.json`` (raw, per notebook) and
the table to ``CLAIMS.md``; a notebook that fails is reported there with the cell and the
error, next to the claims it recorded before failing. The executed notebooks are kept in
``build/claims/`` to read what happened. Run it alone on an idle machine.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_utils import claims  # noqa: E402

FORMAT = 1  # of claims.json
MIN_SEEDS = 7  # held-out seeds a full-mode table rests on (issue 19)


# --------------------------------------------------------------------------- running

def machine() -> dict[str, Any]:
    """What the numbers were measured on: CPU model, cores, torch version and threads, device."""
    import torch

    from course_utils import settings

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:  # not Linux
        pass
    info: dict[str, Any] = {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__,
                            "threads": torch.get_num_threads(), "device": str(settings.get_device())}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def run_notebook(path: Path, seeds: str, quick: bool, timeout: int, work: Path) -> dict[str, Any]:
    """Execute one notebook in a claims run; its entry for claims.json (status, error, records...).

    The executed notebook is written to ``work/<name>``; the records are read even when a cell
    failed, so the claims checked before the failure are kept.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    records_dir = Path(tempfile.mkdtemp(prefix=f"claims-{path.stem}-"))
    env = {k: v for k, v in os.environ.items() if k != "CONVNETS_QUICK"}
    env.update({claims.FOLDER_VARIABLE: str(records_dir), claims.SEEDS_VARIABLE: seeds,
                "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])})
    env.setdefault("MPLBACKEND", "Agg")
    if quick:
        env["CONVNETS_QUICK"] = "1"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", startup_timeout=120,
                            store_widget_state=True,  # notebooks with an Output widget need it (see runner.py)
                            resources={"metadata": {"path": str(path.parent)}})
    current = {"index": -1}
    client.on_cell_start = lambda cell, cell_index: current.update(index=cell_index)
    status, error = "ok", None
    start = time.perf_counter()
    try:
        try:
            client.execute(env=env)
        except CellExecutionError as err:
            status, error = "failed", f"cell {current['index']}: {err.ename}: {_first_line(err.evalue)}"
        except CellTimeoutError:
            status, error = "failed", f"cell {current['index']}: ran longer than --timeout {timeout} s"
        except DeadKernelError:
            status, error = "failed", f"cell {current['index']}: the kernel died (out of memory?)"
        except Exception as err:  # the kernel did not start, ...: still a row in the table
            status, error = "failed", f"{type(err).__name__}: {_first_line(str(err))}"
        minutes = (time.perf_counter() - start) / 60
        work.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, work / path.name)
        records = [{**r, "notebook": path.stem} for r in claims.read_records(records_dir)]
    finally:
        shutil.rmtree(records_dir, ignore_errors=True)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return {"path": str(shown), "status": status, "error": error,
            "date": datetime.date.today().isoformat(), "minutes": round(minutes, 1),
            "mode": "quick" if quick else "full", "seeds": claims.parse_seeds(seeds),
            "machine": machine(), "records": records}


def _first_line(text: str, limit: int = 200) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[:limit - 3] + "..."


# --------------------------------------------------------------------------- the table

def merge(records: list[dict]) -> tuple[list[dict], list[str]]:
    """One row per claim id (calls with the same id add up), and the problems found on the way."""
    rows: dict[str, dict] = {}
    problems = []
    for r in records:
        held = sum(r["per_seed"]) if r.get("per_seed") is not None else int(r["holds"])
        total = len(r["per_seed"]) if r.get("per_seed") is not None else 1
        row = rows.get(r["id"])
        if row is None:
            rows[r["id"]] = {"id": r["id"], "text": r["text"], "held": held, "total": total,
                             "values": [r["values"]], "seeds": r["seeds"], "shown_seeds": r["shown_seeds"]}
        elif row["text"] != r["text"]:
            problems.append(f"claim id {r['id']} is used for two claims ({row['text']!r} and {r['text']!r}); "
                            "give each its own id (the second is left out)")
        else:
            row["held"] += held
            row["total"] += total
            row["values"].append(r["values"])
    return list(rows.values()), problems


def summarise(values: list[dict]) -> str:
    """``key: mean [min, max]`` over every call's numbers under each key; other values as short JSON."""
    keys: dict[str, list] = {}
    for call in values:
        for key, value in _flatten(call):
            keys.setdefault(key, []).append(value)
    parts = []
    for key, found in keys.items():
        numbers = [x for v in found for x in _leaves(v)]
        if numbers and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in numbers):
            mean = sum(numbers) / len(numbers)
            text = _num(numbers[0]) if len(numbers) == 1 else \
                f"{_num(mean)} [{_num(min(numbers))}, {_num(max(numbers))}]"
        else:
            text = json.dumps(found[0] if len(found) == 1 else found)
            text = text if len(text) <= 60 else text[:57] + "..."
        parts.append(f"{key}: {text}")
    return "; ".join(parts) or "(none)"


def _flatten(value: dict, prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for key, v in value.items():
        if isinstance(v, dict) and v:
            out.extend(_flatten(v, f"{prefix}{key}."))
        else:
            out.append((f"{prefix}{key}", v))
    return out


def _leaves(value: Any) -> list:
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    return [value]


def _num(x: float) -> str:
    return f"{x:.3g}" if math.isfinite(x) else str(x)


def seed_text(seeds: list[int]) -> str:
    """``[3, 4, 5, 6, 7, 8, 9]`` -> ``"3-9"``, ``[0, 1, 2]`` -> ``"0, 1, 2"``, ``[]`` -> ``"none"``."""
    parts, i = [], 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.extend([f"{seeds[i]}-{seeds[j]}"] if j - i >= 3 else [str(s) for s in seeds[i:j + 1]])
        i = j + 1
    return ", ".join(parts) or "none"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


HEADER = """# Claims re-measured on seeds nobody picked

Written by `make claims` (`tools/claims.py`) from `claims.json`; do not edit by hand. Each
notebook states claims about trained results on the seeds it shows; here every such claim
(`claims.check(...)` in the notebook) is measured again, in full mode, on held-out seeds
that no notebook shows. **holds in k of n**: n counts one evaluation per seed for a claim
about every seed, and 1 for a claim about all seeds together (e.g. a mean difference above
2 SE). **held-out values**: mean [min, max] over the held-out seeds (a single number as is);
the raw values are in `claims.json`. A failed run names its cell (counted from 0); the claims
it checked before failing are listed. A notebook's prose states a claim only as far as it held
here. Re-run one notebook with `make claims NB=notebooks/NN_x.ipynb` (only its rows change).
"""


def render(data: dict) -> str:
    """CLAIMS.md from the contents of claims.json."""
    entries = sorted(data["notebooks"].items())
    lines = [HEADER]
    if not entries:
        lines.append("No notebook has been measured yet: run `make claims` (alone, on an idle machine).\n")
        return "\n".join(lines)
    lines += ["## Runs", "", "| notebook | run | claims that hold | held-out seeds | mode | minutes | date | machine |",
              "|---|---|---|---|---|---|---|---|"]
    table = ["## Claims", "",
             "| claim | notebook | claim text | shown seeds | held-out seeds | held-out values | holds in | result |",
             "|---|---|---|---|---|---|---|---|"]
    for name, e in entries:
        rows, problems = merge(e["records"])
        m = e["machine"]
        where = f"{m['cpu']}, {m['cores']} cores, torch {m['torch']}, {m['threads']} threads, {m['device']}" + \
            (f" ({m['gpu']})" if m.get("gpu") else "")
        run = "ok" if e["status"] == "ok" else f"**failed**: {e['error']}" + \
            (" (claims after it were not measured)" if rows else "")
        run += "".join(f"; **problem**: {p}" for p in problems)
        held = sum(r["held"] == r["total"] for r in rows)
        count = f"{held} of {len(rows)}" if rows else "no claims recorded"
        lines.append(f"| {name} | {_cell(run)} | {count} | {seed_text(e['seeds'])} | {e['mode']} | "
                     f"{e['minutes']} | {e['date']} | {_cell(where)} |")
        for r in rows:
            verdict = "holds" if r["held"] == r["total"] else "**does not hold**"
            held_out = seed_text(r["seeds"]) if r["seeds"] else "none (uses no seeds)"
            table.append(f"| {r['id']} | {name} | {_cell(r['text'])} | {seed_text(r['shown_seeds'])} | {held_out} | "
                         f"{_cell(summarise(r['values']))} | {r['held']} of {r['total']} | {verdict} |")
    return "\n".join([*lines, "", *table, ""])


# --------------------------------------------------------------------------- files

def load(path: Path) -> dict:
    """claims.json, or an empty table when there is none yet; a damaged file is refused, not overwritten."""
    if not path.exists():
        return {"format": FORMAT, "notebooks": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("notebooks"), dict):
            raise ValueError(f"expected format {FORMAT} with a 'notebooks' object")
    except ValueError as err:
        raise SystemExit(f"{path} is not a claims table ({err}); restore it with git or delete it to start anew") from None
    return data


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # atomic: an interrupted run leaves the old file


def dumps(data: dict) -> str:
    """claims.json's text: indented, but a list of plain values on one line (short diffs)."""
    text = json.dumps(data, indent=1)
    # Raw newlines occur only between tokens (JSON escapes them in strings): removing them keeps the JSON.
    return re.sub(r"\[[^\[\]{}]*\]", lambda m: re.sub(r"\n\s*", "", re.sub(r",\n\s*", ", ", m[0])), text) + "\n"


def save(data: dict, out: Path) -> None:
    """Write claims.json and CLAIMS.md into ``out``."""
    _write(out / "claims.json", dumps(data))
    _write(out / "CLAIMS.md", render(data))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: notebooks/NN_*.ipynb)")
    parser.add_argument("--seeds", default=claims.DEFAULT_HELD_OUT,
                        help=f"held-out seeds, e.g. 3-9 or 3,5,7-11 (at least {MIN_SEEDS}; default %(default)s)")
    parser.add_argument("--timeout", type=int, default=4 * 3600, help="seconds per cell (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="quick mode (to try the tool; the table says so)")
    parser.add_argument("--out", type=Path, default=ROOT, help="folder of CLAIMS.md and claims.json (default: the repo)")
    parser.add_argument("--table-only", action="store_true", help="only re-write CLAIMS.md from claims.json")
    args = parser.parse_args(argv)

    try:
        seeds = claims.parse_seeds(args.seeds)
    except ValueError as err:
        parser.error(f"--seeds: {err}")
    if len(seeds) < MIN_SEEDS and not args.quick:
        parser.error(f"--seeds: a claim rests on at least {MIN_SEEDS} held-out seeds, got {len(seeds)} ({args.seeds})")
    paths = [p.resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for p in paths:
        if p.suffix != ".ipynb" or not p.is_file():
            parser.error(f"{p} is not a notebook file (expected e.g. notebooks/01_fc_vs_conv.ipynb)")
    data = load(args.out / "claims.json")
    if args.table_only:
        save(data, args.out)
        return 0

    failed = 0
    for path in paths:
        print(f"{path.stem}: running in {'quick' if args.quick else 'full'} mode, held-out seeds "
              f"{seed_text(seeds)} ...", flush=True)
        entry = run_notebook(path, args.seeds, args.quick, args.timeout, args.out / "build" / "claims")
        data["notebooks"][path.stem] = entry  # only this notebook's rows change
        save(data, args.out)  # after each notebook: an interrupted run keeps the finished ones
        rows, problems = merge(entry["records"])
        failed += entry["status"] != "ok"
        held = sum(r["held"] == r["total"] for r in rows)
        print(f"{path.stem}: {entry['status']}{': ' + entry['error'] if entry['error'] else ''}; "
              f"{len(rows)} claims, {held} hold, {len(rows) - held} do not{'; ' if problems else ''}"
              f"{'; '.join(problems)} ({entry['minutes']} min)", flush=True)
    print(f"table: {args.out / 'CLAIMS.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
