"""Open the course in JupyterLab, as a learner or as an instructor.

    python tools/lab.py learner    [--workspace DIR] [JUPYTER LAB OPTIONS]   # what `make lab` runs
    python tools/lab.py instructor [--notebooks DIR] [JUPYTER LAB OPTIONS]   # what `make instructor` runs

* **learner**: builds (or updates) the learner workspace (``tools/workspace.py``: exercises
  as stubs, self-checks visible, stored outputs kept, trusted, your changes never
  overwritten) and opens it; nbgrader's instructor panels are switched off.
* **instructor**: opens ``notebooks/`` themselves (the editable source, solutions included,
  trusted) with nbgrader's panels (Formgrader on ``homework/``).

Each view's JupyterLab settings live in ``jupyter-config/<view>/`` and, shared by both,
``jupyter-config/common/`` (widget state saved with the notebook, no online news checks,
which extensions run); this script puts these folders first on ``JUPYTER_CONFIG_PATH``. Options it does not know (``--no-browser``, ``--port``...)
go to ``jupyter lab``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/ (when run as a script or imported by the tests)

import workspace  # noqa: E402  (tools/workspace.py)

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "jupyter-config"
VIEWS = ("learner", "instructor")
FIRST_NOTEBOOK = "00_start_here.ipynb"


def view_env(view: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for JupyterLab in ``view``: ``jupyter-config/<view>`` then ``jupyter-config/common``
    first on ``JUPYTER_CONFIG_PATH``.

    Args:
        view: ``"learner"`` or ``"instructor"``.
        env: the environment to start from (default ``os.environ``); not modified.
    """
    if view not in VIEWS:
        raise ValueError(f"expected a view in {VIEWS}, got {view!r}")
    env = dict(os.environ if env is None else env)
    path = [str(CONFIG / view), str(CONFIG / "common")]
    path += [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(path)
    return env


def lab_command(root: Path, first: Path | None = None, extra: Sequence[str] = ()) -> list[str]:
    """The ``jupyter lab`` command line: serve ``root`` and open ``first`` (a notebook in it), if given."""
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # a container or Colab runs as root
    if first is not None and first.is_file() and not any(not a.startswith("-") for a in extra):
        cmd.append(first.relative_to(root).as_posix())
    return cmd + list(extra)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring). Starts JupyterLab and returns its exit status."""
    parser = argparse.ArgumentParser(prog="lab.py", description=__doc__.split("\n")[0])
    parser.add_argument("view", choices=VIEWS)
    parser.add_argument("--workspace", type=Path, default=workspace.DEFAULT_WORKSPACE,
                        help="learner view: the workspace folder (default workspace/)")
    parser.add_argument("--notebooks", type=Path, default=workspace.NOTEBOOKS,
                        help="the instructor notebooks (default notebooks/)")
    args, extra = parser.parse_known_args(argv)
    try:
        sources = workspace.course_notebooks(args.notebooks)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.view == "learner":
        status = workspace.main(["--dir", str(args.workspace), "build", *map(str, sources)])
        if status:
            return status
        root = args.workspace.resolve()
        first = root / FIRST_NOTEBOOK
    else:
        for path in sources:
            workspace.trust(path)
        notebooks = args.notebooks.resolve()
        root = notebooks.parent if notebooks.name == "notebooks" else notebooks  # the repository, normally
        first = notebooks / FIRST_NOTEBOOK
    cmd = lab_command(root, first, extra)
    env = view_env(args.view)
    env.pop("CONVNETS_WORKSPACE", None)
    if args.view == "learner":
        env["CONVNETS_WORKSPACE"] = str(root)  # the kernels record the learner's progress there (course_utils.learner)
    os.chdir(root)  # nbgrader also reads a nbgrader_config.py found here
    sys.stdout.flush()
    if os.name == "posix":
        os.execve(cmd[0], cmd, env)  # JupyterLab takes over this process (Ctrl-C, signals, exit status)
    return subprocess.call(cmd, env=env)


if __name__ == "__main__":
    raise SystemExit(main())
