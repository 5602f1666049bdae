"""Where the homework tooling works and how it runs: paths, ``HomeworkConfig``, nbgrader's API.

Every command takes a :class:`HomeworkConfig` explicitly; nothing is read from
``nbgrader_config.py`` or other global configuration.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_COURSE_DIR = ROOT / "homework"
GiB, MiB = 2**30, 2**20


def default_jobs() -> int:
    """Parallel graders by default: the cores this process may use, at least 1.

    The fewest of: its CPU affinity, a Slurm job's allocation (``SLURM_CPUS_PER_TASK``: under
    ``task/none`` the affinity is the whole node) and a container's CPU quota (cgroup v2
    ``cpu.max``, as Kubernetes sets from a pod's CPU limit).
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    slurm = os.environ.get("SLURM_CPUS_PER_TASK", "").strip()
    if slurm.isdigit() and int(slurm) > 0:
        cores = min(cores, int(slurm))
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return max(1, cores)


@dataclass
class Limits:
    """What one submission may use. Times in seconds, sizes in bytes."""

    # longest a single cell (or probe) may run before it is interrupted (killed if it ignores that)
    cell_timeout: float = 120.0
    # all the notebook's cells together, restarts and re-runs included; later cells are not run
    notebook_time: float = 600.0
    # all the probes together (a probe that kills the kernel costs a re-run of the notebook)
    probe_time: float = 300.0
    # memory of the whole sandbox (cgroup) and, plus 4 GiB of address space, of each process
    memory: int = 4 * GiB
    # processes and threads of the whole sandbox (cgroup; per-user RLIMIT_NPROC otherwise)
    processes: int = 512
    # largest file the submission may write, and size of its private /tmp
    file_size: int = 512 * MiB
    tmp_size: int = 1 * GiB
    # bytes of cell outputs kept in the executed notebook (the rest is cut, with a note)
    output_limit: int = 8 * MiB
    # bytes of one probe's answer
    answer_limit: int = 64 * MiB
    # threads torch and BLAS may use inside (OMP_NUM_THREADS)
    threads: int = 1

    def __post_init__(self) -> None:
        for name in ("cell_timeout", "notebook_time", "probe_time", "memory", "processes", "file_size",
                     "tmp_size", "output_limit", "answer_limit", "threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive number, got {value!r}")

    @property
    def hard_limit(self) -> float:
        """Seconds after which the grader kills the sandbox whatever it is doing."""
        return self.notebook_time + self.probe_time + 2 * self.cell_timeout + 60


@dataclass
class HomeworkConfig:
    """Where the homework tools work and how they grade (passed explicitly to every command)."""

    # the course folder: release/ (student versions), graded/, feedback/, scores.*; never in git
    course_dir: Path = DEFAULT_COURSE_DIR
    # run submissions in quick mode (CONVNETS_QUICK=1): small data, seconds per notebook
    quick: bool = True
    # times and sizes each submission may use (see Limits)
    limits: Limits = field(default_factory=Limits)
    # run submissions in the bubblewrap sandbox; False only for trusted code (warns every run)
    sandbox: bool = True
    # submissions graded at once, one sandbox each (default: the number of cores)
    jobs: int = field(default_factory=default_jobs)
    # the seed every probe gets; None: drawn at grading time (and recorded with the scores)
    seed: int | None = None
    # echo nbgrader's log while releasing (otherwise it is shown only on failure)
    verbose: bool = False

    def __post_init__(self) -> None:
        self.course_dir = Path(self.course_dir).resolve()
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1:
            raise ValueError(f"jobs must be a positive number of parallel graders, got {self.jobs!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0):
            raise ValueError(f"seed must be an int >= 0 or None, got {self.seed!r}")


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
