"""Where the homework tooling works and how it runs: paths, ``HomeworkConfig``, nbgrader's API.

Every command takes a :class:`HomeworkConfig` explicitly; nothing is read from
``nbgrader_config.py`` or other global configuration.
"""

from __future__ import annotations

import contextlib
import os
import re
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_COURSE_DIR = ROOT / "homework"


@dataclass
class HomeworkConfig:
    """Where nbgrader works and how it runs submissions (passed explicitly to every command)."""

    # nbgrader's course folder: source/, release/, submitted/, autograded/, gradebook.db
    course_dir: Path = DEFAULT_COURSE_DIR
    # grade in quick mode (CONVNETS_QUICK=1): small data, a few seconds per notebook
    quick: bool = True
    # seconds a single cell may run while grading before nbgrader interrupts it
    cell_timeout: int = 600
    # echo nbgrader's log (otherwise it is captured and shown only on failure)
    verbose: bool = False

    def __post_init__(self) -> None:
        self.course_dir = Path(self.course_dir).resolve()
        if self.cell_timeout <= 0:
            raise ValueError(f"cell_timeout must be a positive number of seconds, got {self.cell_timeout}")


def nbgrader_api(config: HomeworkConfig):
    """An ``NbGraderAPI`` on ``config.course_dir`` with an explicit Config (no config files)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    c = Config()
    c.CourseDirectory.root = str(config.course_dir)
    c.CourseDirectory.db_url = f"sqlite:///{config.course_dir / 'gradebook.db'}"
    exchange = config.course_dir / "exchange"  # unused here; nbgrader only checks it exists
    exchange.mkdir(parents=True, exist_ok=True)
    c.Exchange.root = str(exchange)
    c.Execute.timeout = config.cell_timeout
    c.ClearSolutions.enforce_metadata = True
    c.NbGraderAPI.log_level = "INFO" if config.verbose else "WARN"
    return NbGraderAPI(config=c)


def check_result(result: dict, what: str) -> None:
    """Raise ``RuntimeError`` with nbgrader's root cause when an API call did not succeed."""
    if not result.get("success"):
        raise RuntimeError(f"nbgrader failed to {what}: {nbgrader_reason(result)}")


def nbgrader_reason(result: dict) -> str:
    """The root cause in nbgrader's captured log and traceback (e.g. 'RuntimeError: no end ...')."""
    lines = f"{result.get('log') or ''}\n{result.get('error') or ''}".splitlines()
    causes = [ln.strip() for ln in lines if re.match(r"\s*[A-Za-z_.]*(Error|Exception): ", ln)
              and "NbGraderException" not in ln]
    return causes[0] if causes else (lines[-1].strip() if lines else "unknown error")


@contextlib.contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or with None, unset) environment variables, which the grading kernels inherit.

    nbgrader runs the ``alembic`` command of its environment, so that environment's scripts
    folder goes first on PATH too (``.venv/bin/python`` may run without an activated venv).
    """
    scripts = sysconfig.get_path("scripts")
    values = {"PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")]), **values}
    old = {k: os.environ.get(k) for k in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
