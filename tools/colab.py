"""The Colab setup cell of the course notebooks: write it into the notebooks, and what it runs on Colab.

    python tools/colab.py insert [NB ...]   # write or update the cell in notebooks/NN_*.ipynb (default: all)
    python tools/colab.py check [NB ...]    # exit 1 when a notebook's cell is missing or outdated
    python tools/colab.py install           # what the cell runs on Colab, from the cloned course

The cell is each notebook's first code cell. Anywhere but Google Colab it does nothing (it
only tries ``import google.colab``). On Colab, where a notebook opened from GitHub arrives
alone, it clones the course (repository and branch from ``site/course.toml``; the environment
variables ``CONVNETS_REPOSITORY`` and ``CONVNETS_BRANCH`` override them, e.g. for a fork) into
``convnets-course/`` of the working folder (``/content`` on Colab), runs ``tools/colab.py install``
from that clone, and puts the clone on ``sys.path`` so that ``course_utils`` and ``data/`` are
found. Running it again re-uses the clone.

``install`` installs the ``dependencies`` of ``pyproject.toml`` except the Jupyter front end
(JupyterLab, ipykernel), which Colab provides and which must not be replaced under its running
kernel; pip leaves what is already installed (PyTorch, on Colab) as it is.

``insert`` edits the notebook JSON in place (the rest of the file stays byte for byte), is
idempotent, and moves an existing setup cell back to the first code position. The slides and the
website leave the cell out (``homework_tools.present``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

CELL_ID = "colab-setup"
# provided by Colab itself (its kernel and front end): never reinstalled under it
HOST_PACKAGES = {"jupyterlab", "ipykernel"}

CELL = '''\
# On Google Colab: fetch the course and install what it needs. Anywhere else this cell does nothing.
try:
    import google.colab  # noqa: F401  (exists only on Colab)
except ImportError:
    pass
else:
    import os
    import subprocess
    import sys

    COURSE = os.path.abspath("convnets-course")
    if not os.path.isdir(os.path.join(COURSE, "course_utils")):
        subprocess.run(["git", "clone", "--quiet", "--depth=1", "--branch", os.environ.get("CONVNETS_BRANCH", {branch}),
                        os.environ.get("CONVNETS_REPOSITORY", {url}), COURSE], check=True)
    subprocess.run([sys.executable, os.path.join(COURSE, "tools", "colab.py"), "install"], check=True)
    if COURSE not in sys.path:
        sys.path.insert(0, COURSE)'''


def cell_source(url: str, branch: str) -> str:
    """The setup cell's code for a repository ``url`` and ``branch``."""
    return CELL.format(url=json.dumps(url), branch=json.dumps(branch))


def _is_setup(cell: dict) -> bool:
    from homework_tools.present import is_colab_setup

    return is_colab_setup(cell)


def with_setup_cell(nb: dict, source: str) -> dict:
    """The notebook JSON (a dict, changed in place and returned) with the setup cell first among its code cells."""
    from homework_tools.present import COLAB_SETUP

    cells = [cell for cell in nb["cells"] if not _is_setup(cell)]
    first_code = next((i for i, cell in enumerate(cells) if cell.get("cell_type") == "code"), len(cells))
    lines = source.splitlines(keepends=True)
    cells.insert(first_code, {"cell_type": "code", "execution_count": None, "id": CELL_ID,
                              "metadata": {"course": {"setup": COLAB_SETUP}}, "outputs": [], "source": lines})
    nb["cells"] = cells
    return nb


def _dumps(nb: dict) -> str:
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"  # as nbformat writes


def insert(paths: Sequence[Path], check_only: bool = False) -> list[Path]:
    """Write (or, with ``check_only``, look for) the current setup cell in each notebook.

    Returns:
        The notebooks that changed (or would change).

    Raises:
        ValueError: a path is not a notebook, or ``site/course.toml`` is wrong.
    """
    from website import read_course

    course = read_course()
    course.github  # noqa: B018  (the URL must be a GitHub repository, as for the launch links)
    source = cell_source(course.url + ".git", course.branch)
    changed = []
    for path in paths:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
            nb = json.loads(text)
            nb["cells"]  # noqa: B018
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path} is not a readable notebook: {err}") from None
        new = _dumps(with_setup_cell(nb, source))
        if new != text:
            changed.append(path)
            if not check_only:
                path.write_text(new, encoding="utf-8")
    return changed


def requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The course's dependencies that ``install`` asks pip for (all but :data:`HOST_PACKAGES`)."""
    import re

    from website import toml

    deps = toml(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    return [d for d in deps if re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0].lower() not in HOST_PACKAGES]


def install() -> int:
    """Install what the course needs into this Python (run by the setup cell on Colab)."""
    wanted = requirements()
    print(f"convnets-course: making sure {len(wanted)} packages are installed (pip keeps what is already there)")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *wanted])
    if done.returncode:
        print("convnets-course: pip could not install the course's packages (see above)", file=sys.stderr)
    return done.returncode


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("insert", "write or update the setup cell"), ("check", "exit 1 if a cell is missing or old")):
        p = sub.add_parser(name, help=text)
        p.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: notebooks/NN_*.ipynb)")
    sub.add_parser("install", help="install the course's packages (run by the cell on Colab)")
    args = parser.parse_args(argv)
    if args.command == "install":
        return install()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    try:
        changed = insert(paths, check_only=args.command == "check")
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    verb = "outdated or missing in" if args.command == "check" else "updated"
    print(f"Colab setup cell {verb} {len(changed)} of {len(paths)} notebooks" +
          "".join(f"\n  {p}" for p in changed))
    return 1 if args.command == "check" and changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
