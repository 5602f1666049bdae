"""Execute notebooks in FULL mode and store their outputs in place (what learners browse).

    python tools/run_notebooks.py                      # every notebook in notebooks/
    python tools/run_notebooks.py notebooks/03_*.ipynb # some of them

Each notebook runs in its own fresh kernel (``jupyter nbconvert --execute --inplace``);
a notebook that raises is left untouched; the Colab setup cell, which a run executes (a no-op
outside Colab), is stored as `tools/colab.py` writes it. Prints the wall time and the peak memory of
each run (the kernel included), measured with ``os.wait4``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import colab  # noqa: E402


def run(path: Path, timeout: int = 3600) -> tuple[float, float, int]:
    env = {k: v for k, v in os.environ.items() if k != "CONVNETS_QUICK"}
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    cmd = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
           f"--ExecutePreprocessor.timeout={timeout}", str(path)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=path.parent)
    _, status, usage = os.wait4(proc.pid, 0)  # rusage of nbconvert and its kernel
    return time.perf_counter() - start, usage.ru_maxrss / 2**20, os.waitstatus_to_exitcode(status)


def main(paths: list[str]) -> int:
    notebooks = [Path(p).resolve() for p in paths] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    failed = 0
    print(f"{'notebook':<36} {'minutes':>8} {'peak GiB':>9}  result")
    for nb in notebooks:
        seconds, peak, code = run(nb)
        failed += code != 0
        if code == 0:  # the run executed the Colab setup cell (a no-op here): store it as tools/colab.py writes it
            colab.insert([nb])
        print(f"{nb.name:<36} {seconds / 60:8.2f} {peak:9.2f}  {'ok' if code == 0 else 'FAILED (left unchanged)'}",
              flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
