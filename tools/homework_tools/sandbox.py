"""Run one notebook and its grading probes in a throwaway sandbox; only plain data comes out.

The sandbox is bubblewrap (``bwrap``, Debian package ``bubblewrap``) with resource limits
from ``prlimit`` and, where the grader may create cgroups (root, or a delegated cgroup v2
subtree), a cgroup bounding the memory and the number of processes of the whole sandbox:

* no network (a new network namespace with only loopback), no view of other processes;
* read-only: the Python environment, ``course_utils/`` and ``data/`` (mounted at
  ``/course``); nothing else of the machine but ``/usr``: no course folder, no gradebook,
  no other submission, no home folder, none of the grader's environment variables;
* a private ``/tmp`` (a tmpfs of bounded size) holding the working folder, ``HOME`` and
  the course cache (``CONVNETS_CACHE``), gone when the sandbox ends;
* limits: wall time per cell, for the whole notebook and for the probes; memory; processes;
  file size; open files; kept output bytes; answer bytes;
* every process of the submission dies with the sandbox: the runner is the PID namespace's
  first process (``--as-pid-1``: no process of the submission can signal it or open its
  pipes, it reaps orphans and kills every other process before it ends), and the
  namespace goes with it; ``--die-with-parent`` if the grader itself dies.

The notebook goes in and the results come out through the runner's stdin/stdout
(:mod:`homework_tools.runner`): the submission is never mounted, so a symlink in it cannot
reach anything. A :class:`Session` keeps one sandbox open for several requests (the
instructor's reference run serves ``cases`` and ``derive`` while students are graded);
:func:`execute` is a student's whole run. The grader reads what comes out as data with
sizes bounded (JSON, and ``.npz`` with ``allow_pickle=False`` in :mod:`homework_tools.compare`).

``sandboxed=False`` runs the same runner as a plain subprocess (same limits where
``prlimit`` allows, a cleared environment, a temporary working folder) but with the
grader's view of the machine: only for code you trust.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from .compare import AnswerError, decode_answer
from .config import ROOT, GiB, Limits, MiB

RUNNER = Path(__file__).resolve().with_name("runner.py")
KERNEL_TOOLS = Path(__file__).resolve().with_name("kernel.py")
INSIDE_COURSE = "/course"  # where course_utils/ and data/ appear inside the sandbox
INSIDE_RUNNER, INSIDE_KERNEL_TOOLS = "/grader/runner.py", "/grader/kernel.py"
SKIP_TAG = "grader-skip"  # a lesson cell no exercise needs: graded runs skip it (notebooks/AUTHORING.md)
_STATUSES = {"ok", "error", "timeout", "killed", "not run", "too large", "died", "skipped"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,99}$")
# folders of the submission's private space (the sandbox's /tmp, or the scratch folder without it)
_FOLDERS = ("home", "tmp", "cache", "jupyter", "ipython", "matplotlib")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces on this machine."""


@dataclass
class ProbeAnswer:
    """What one probe (or ``cases``, or ``derive``) gave: a status and, when ``status == "ok"``, the answer."""

    status: str  # ok, error, timeout, killed, not run, too large, unreadable
    ename: str = ""  # the exception's name when status is "error"
    value: Any = None


@dataclass
class Execution:
    """Everything that came out of one sandbox (all of it untrusted data)."""

    cells: list[dict] = field(default_factory=list)  # {"index", "status", "ename", "seconds"} per code cell
    notebook: str | None = None  # the executed notebook (.ipynb text), None if none came out
    answers: dict[str, ProbeAnswer] = field(default_factory=dict)
    problem: str = ""  # what went wrong with the sandbox as a whole ("" if nothing)
    seconds: float = 0.0
    stderr: str = ""  # the last few KB of the runner's stderr, for the instructor


# --------------------------------------------------------------------------- availability

@lru_cache(maxsize=1)
def check_sandbox() -> None:
    """Raise :class:`SandboxUnavailable`, saying what to do, unless bubblewrap works here."""
    if shutil.which("prlimit") is None:
        raise SandboxUnavailable("prlimit (util-linux) is not installed: it sets each submission's limits")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed: it isolates each submission while it is graded. "
            "Install it (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install bubblewrap) "
            "or, only for code you trust, grade with --no-sandbox")
    probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-all", "--uid", "1000", "--gid", "1000",
                            "--die-with-parent", "true"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        raise SandboxUnavailable(
            f"bubblewrap cannot create a sandbox here ({probe.stderr.strip() or probe.returncode}): it needs "
            "unprivileged user namespaces (check `unshare --user true`; on Ubuntu 24.04 allow them for bwrap "
            "with an AppArmor profile, elsewhere sysctl kernel.unprivileged_userns_clone=1)")


@lru_cache(maxsize=1)
def _bwrap_disables_userns() -> bool:
    """Whether this bubblewrap can forbid new user namespaces inside (0.8 and later)."""
    try:
        return "--disable-userns" in subprocess.run(["bwrap", "--help"], capture_output=True, text=True,
                                                      timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False


# --------------------------------------------------------------------------- cgroups

class _Cgroup:
    """A cgroup (v2, or v1 memory + pids) bounding one sandbox, when this process may create one."""

    def __init__(self, folders: list[Path]) -> None:
        self.folders = folders

    @classmethod
    def create(cls, memory: int, processes: int) -> _Cgroup | None:
        """A new cgroup with the limits, or None where cgroups cannot be created (not root, no delegation)."""
        name = f"homework-{uuid.uuid4().hex[:12]}"
        own = _own_cgroups()
        settings: list[tuple[Path, dict[str, str]]] = []
        if "" in own and (Path("/sys/fs/cgroup") / "cgroup.controllers").exists():  # cgroup v2
            settings.append((Path("/sys/fs/cgroup") / own[""].lstrip("/") / name,
                             {"memory.max": str(memory), "memory.swap.max": "0", "pids.max": str(processes)}))
        else:
            for controller, values in (("memory", {"memory.limit_in_bytes": str(memory)}),
                                       ("pids", {"pids.max": str(processes)})):
                if controller not in own or not (Path("/sys/fs/cgroup") / controller).is_dir():
                    return None
                settings.append((Path("/sys/fs/cgroup") / controller / own[controller].lstrip("/") / name, values))
        made = []
        try:
            for folder, values in settings:
                folder.mkdir()
                made.append(folder)
                for key, value in values.items():
                    target = folder / key
                    if target.exists():
                        target.write_text(value)
                    elif key != "memory.swap.max":
                        raise OSError(f"{target} is missing (controller not enabled)")
        except OSError:
            cls(made).remove()
            return None
        return cls(made)

    def wrap(self, command: list[str]) -> list[str]:
        """``command`` started inside this cgroup (a shell moves itself in, then execs it)."""
        procs = [str(folder / "cgroup.procs") for folder in self.folders]
        script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 97; shift; done; shift; exec "$@"'
        return ["/bin/sh", "-c", script, "sh", *procs, "--", *command]

    def kill(self) -> None:
        """SIGKILL every process still in the cgroup."""
        for folder in self.folders:
            kill_file = folder / "cgroup.kill"
            if kill_file.exists():
                try:
                    kill_file.write_text("1")
                    continue
                except OSError:
                    pass
            try:
                pids = (folder / "cgroup.procs").read_text().split()
            except OSError:
                continue
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError, PermissionError):
                    pass

    def remove(self) -> None:
        """Kill what is left and delete the cgroup folders (retrying while processes exit)."""
        for _ in range(50):
            self.kill()
            for folder in list(self.folders):
                try:
                    folder.rmdir()
                    self.folders.remove(folder)
                except FileNotFoundError:
                    self.folders.remove(folder)
                except OSError:
                    pass
            if not self.folders:
                return
            time.sleep(0.1)


def _own_cgroups() -> dict[str, str]:
    """controller -> this process's cgroup path ("" for cgroup v2), from /proc/self/cgroup."""
    found = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                found[controller] = path
    except (OSError, ValueError):
        pass
    return found


@lru_cache(maxsize=1)
def cgroups_available() -> bool:
    """Whether this process can bound a sandbox's total memory and processes with a cgroup."""
    group = _Cgroup.create(GiB, 64)
    if group is None:
        return False
    group.remove()
    return True


# --------------------------------------------------------------------------- commands

def _environment(limits: Limits, quick: bool, course: str, home: str) -> dict[str, str]:
    """The only environment variables a submission sees (none of the grader's)."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": f"{home}/home", "TMPDIR": f"{home}/tmp", "USER": "student", "LOGNAME": "student", "LANG": "C.UTF-8",
        "PYTHONPATH": course, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
        "JUPYTER_RUNTIME_DIR": f"{home}/jupyter", "JUPYTER_DATA_DIR": f"{home}/jupyter-data",
        "JUPYTER_CONFIG_DIR": f"{home}/jupyter-config", "IPYTHONDIR": f"{home}/ipython",
        "MPLCONFIGDIR": f"{home}/matplotlib", "MPLBACKEND": "Agg", "TORCH_HOME": f"{home}/torch",
        "CONVNETS_CACHE": f"{home}/cache", "CONVNETS_QUICK": "1" if quick else "0",
        "OMP_NUM_THREADS": str(limits.threads), "MKL_NUM_THREADS": str(limits.threads),
    }


def _prlimit(limits: Limits, cgroup: bool) -> list[str]:
    cpu = int((limits.notebook_time + limits.probe_time) * limits.threads * 2 + 120)
    return ["prlimit", f"--as={limits.memory + 4 * GiB}", f"--fsize={limits.file_size}", "--nofile=1024",
            "--core=0", f"--cpu={cpu}", *([] if cgroup else [f"--nproc={limits.processes}"]), "--"]


def _mount(path: Path) -> list[str]:
    """bwrap arguments showing ``path`` read-only at the same place (a symlink stays a symlink)."""
    if path.is_symlink():
        return ["--symlink", os.readlink(path), str(path)]
    return ["--ro-bind", str(path), str(path)]


def bwrap_command(limits: Limits, quick: bool, course_root: Path = ROOT) -> list[str]:
    """The bubblewrap command line that runs the runner in a fresh sandbox.

    Args:
        limits: sizes and times (the tmpfs size).
        quick: run the notebook in quick mode (``CONVNETS_QUICK=1``).
        course_root: the repository whose ``course_utils/`` and ``data/`` are mounted.
    """
    python = Path(sys.executable)
    prefixes = sorted({Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), python.resolve().parent.parent})
    args = ["bwrap", "--unshare-all", "--unshare-user", "--uid", "1000", "--gid", "1000", "--hostname", "sandbox",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv", "--as-pid-1"]
    if _bwrap_disables_userns():  # no nested namespaces: mounts stay read-only for good
        args.append("--disable-userns")
    # the private /tmp first: a course (and its .venv) cloned under /tmp is then bound on top of it, not hidden
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(limits.tmp_size), "--tmpfs", "/tmp"]
    for name in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        if Path("/", name).exists():
            args += _mount(Path("/", name))
    for prefix in prefixes:
        if not any(prefix != other and prefix.is_relative_to(other) for other in prefixes):
            if not prefix.is_relative_to("/usr"):
                args += ["--ro-bind", str(prefix), str(prefix)]
    if str(Path(sys.prefix)) != str(Path(sys.prefix).resolve()):  # a venv reached through a symlink
        args += ["--symlink", str(Path(sys.prefix).resolve()), str(Path(sys.prefix))]
    args += ["--ro-bind", str(course_root / "course_utils"), f"{INSIDE_COURSE}/course_utils",
             "--ro-bind", str(course_root / "data"), f"{INSIDE_COURSE}/data",
             "--ro-bind", str(RUNNER), INSIDE_RUNNER, "--ro-bind", str(KERNEL_TOOLS), INSIDE_KERNEL_TOOLS]
    for key, value in _environment(limits, quick, INSIDE_COURSE, "/tmp").items():
        args += ["--setenv", key, value]
    for folder in _FOLDERS:
        args += ["--dir", f"/tmp/{folder}"]
    return args + ["--chdir", "/tmp", "--", str(python), INSIDE_RUNNER, INSIDE_KERNEL_TOOLS]


# --------------------------------------------------------------------------- running

class _FrameError(Exception):
    pass


def _read_frame(stream: IO[bytes], limit: int) -> bytes:
    head = stream.read(8)
    if len(head) < 8:
        raise _FrameError("the sandbox ended without an answer")
    size = int.from_bytes(head, "big")
    if size > limit:
        raise _FrameError(f"the sandbox sent {size} bytes, more than the limit of {limit}")
    chunks, left = [], size
    while left:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            raise _FrameError("the sandbox ended in the middle of an answer")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(len(payload).to_bytes(8, "big"))
    stream.write(payload)
    stream.flush()



def _clean_cells(raw: Any) -> list[dict]:
    """Cell statuses from the sandbox, reduced to known words, identifier-like names and numbers."""
    cells = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or type(item.get("index")) is not int:
            continue
        status = item.get("status") if item.get("status") in _STATUSES else "error"
        ename = item.get("ename") if isinstance(item.get("ename"), str) and _NAME.match(item.get("ename", "")) else ""
        seconds = item.get("seconds")
        seconds = float(seconds) if type(seconds) in (int, float) and 0 <= seconds < 1e7 else 0.0
        cells.append({"index": item["index"], "status": status, "ename": ename, "seconds": seconds})
    return cells


class Session:
    """One sandbox running :mod:`homework_tools.runner` for one notebook; requests are answered in turn.

    A student's submission gets :meth:`run_notebook` then :meth:`probes`; the instructor's
    reference run also :meth:`cases` (first) and :meth:`derive` (while students are graded,
    the session stays open). Nothing a session returns is trusted: statuses are reduced to
    known words, answers decoded with :func:`homework_tools.compare.decode_answer`. A problem
    with the sandbox as a whole (it died, sent garbage, ran out of time) is recorded in
    :attr:`problem` and every later request answers "not run"; nothing is raised.

    Args:
        notebook: the notebook's text (.ipynb JSON); never mounted, sent through a pipe.
        limits: times and sizes.
        quick: quick mode (``CONVNETS_QUICK=1``).
        sandboxed: False runs without bubblewrap (only for trusted code).
        course_root: the repository whose ``course_utils/`` and ``data/`` the notebook uses.

    Raises:
        SandboxUnavailable: ``sandboxed`` and bubblewrap does not work here.
    """

    def __init__(self, notebook: str, limits: Limits, quick: bool = True, sandboxed: bool = True,
                 course_root: Path = ROOT) -> None:
        self.limits = limits
        self.problem = ""
        self.started = time.monotonic()
        self._notebook = notebook
        self._tail = bytearray()
        self._scratch: str | None = None
        if sandboxed:
            check_sandbox()
        self._group = _Cgroup.create(limits.memory, limits.processes)
        if sandboxed:
            command = _prlimit(limits, self._group is not None) + bwrap_command(limits, quick, course_root)
            env, cwd = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, "/"
        else:
            self._scratch = tempfile.mkdtemp(prefix="homework-unsandboxed-")
            try:
                for folder in (*_FOLDERS, "work"):
                    os.makedirs(os.path.join(self._scratch, folder))
            except OSError:
                remove_tree(self._scratch)
                raise
            env = _environment(limits, quick, str(course_root), self._scratch)
            command = _prlimit(limits, self._group is not None) + [sys.executable, str(RUNNER), str(KERNEL_TOOLS)]
            cwd = os.path.join(self._scratch, "work")
        if self._group is not None:
            command = self._group.wrap(command)
        try:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, env=env, cwd=cwd, start_new_session=True)
        except OSError:
            self._cleanup()
            raise
        self._reader = threading.Thread(target=self._drain_stderr, daemon=True)
        self._reader.start()
        self._closed = False
        job = {"notebook": notebook, "cell_timeout": limits.cell_timeout, "notebook_time": limits.notebook_time,
               "probe_time": limits.probe_time, "output_limit": limits.output_limit,
               "answer_limit": limits.answer_limit, "skip_tag": SKIP_TAG}
        self._request(lambda: _write_frame(self.process.stdin, json.dumps(job).encode("utf-8")), 60)

    # ------------------------------------------------------------------ requests

    def cases(self, seed: int, exercises: list[tuple[str, str]]) -> dict[str, ProbeAnswer]:
        """Run ``cases(seed)`` of each ``(grade_id, code)``: ``{grade_id: answer}`` (``{"inputs", "truth"}``)."""
        request = {"op": "cases", "seed": int(seed), "exercises": [{"grade_id": g, "code": c} for g, c in exercises]}
        return self._answers(request, [], [g for g, _ in exercises], self.limits.probe_time)

    def run_notebook(self) -> tuple[list[dict], str | None]:
        """Execute the notebook: (cell statuses, the executed notebook's text or None)."""
        result: dict = {}

        def talk() -> None:
            _write_frame(self.process.stdin, b'{"op": "notebook"}')
            first = json.loads(_read_frame(self.process.stdout,
                                           2 * self.limits.output_limit + 4 * len(self._notebook) + MiB))
            if not isinstance(first, dict):
                raise _FrameError("the sandbox sent something that is not a result")
            if "error" in first:
                self.problem = "not a readable notebook"
                return
            result["cells"] = _clean_cells(first.get("cells"))
            result["notebook"] = first.get("notebook") if isinstance(first.get("notebook"), str) else None

        self._request(talk, self.limits.notebook_time + 2 * self.limits.cell_timeout + 60)
        return result.get("cells", []), result.get("notebook")

    def probes(self, probes: list[tuple[str, str, bytes]]) -> dict[str, ProbeAnswer]:
        """Run each ``(grade_id, probe code, inputs .npz)``: ``{grade_id: answer}``."""
        request = {"op": "probes", "probes": [{"grade_id": g, "code": c} for g, c, _ in probes]}
        return self._answers(request, [b for _, _, b in probes], [g for g, _, _ in probes], self.limits.probe_time)

    def derive(self, items: list[tuple[str, bytes, bytes]], seconds: float) -> list[ProbeAnswer]:
        """Run ``derive(answer, inputs)`` for each ``(code, answer .npz, inputs .npz)``, in order."""
        request = {"op": "derive", "seconds": seconds, "items": [{"grade_id": str(i), "code": c}
                                                                 for i, (c, _, _) in enumerate(items)]}
        frames = [blob for _, answer, inputs in items for blob in (answer, inputs)]
        got = self._answers(request, frames, [str(i) for i in range(len(items))], seconds)
        return [got.get(str(i), ProbeAnswer("not run")) for i in range(len(items))]

    def close(self) -> None:
        """End the sandbox (every process in it dies) and clean up."""
        if self._closed:
            return
        self._closed = True
        try:
            _write_frame(self.process.stdin, b'{"op": "close"}')
        except (OSError, ValueError):
            pass
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        _kill_group(self.process)
        self.process.wait()
        self._reader.join(timeout=5)
        self._cleanup()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def stderr(self) -> str:
        """The last few KB of the runner's stderr, for the instructor."""
        return self._tail.decode("utf-8", "replace")

    # ------------------------------------------------------------------ plumbing

    def _drain_stderr(self) -> None:
        for line in self.process.stderr:
            self._tail.extend(line)
            del self._tail[:-8192]

    def _cleanup(self) -> None:
        if self._group is not None:
            self._group.remove()
            self._group = None
        if self._scratch is not None:
            remove_tree(self._scratch)
            self._scratch = None

    def _request(self, talk: Any, seconds: float) -> bool:
        """Run one exchange with the sandbox under a hard time limit; False (and a problem) if it failed."""
        if self.problem or self._closed:
            return False
        timer = threading.Timer(seconds, _kill_group, (self.process,))
        timer.start()
        began = time.monotonic()
        try:
            talk()
            return not self.problem
        except (_FrameError, json.JSONDecodeError, UnicodeDecodeError, BrokenPipeError, OSError, ValueError,
                TypeError, KeyError) as err:
            if time.monotonic() - began >= seconds:
                self.problem = f"stopped after the hard time limit of {seconds:g} s"
            else:
                self.problem = str(err) if isinstance(err, _FrameError) else "the sandbox sent something unreadable"
            return False
        finally:
            timer.cancel()

    def _answers(self, request: dict, frames: list[bytes], wanted: list[str], seconds: float) -> dict[str, ProbeAnswer]:
        """Send a request and its frames, read the statuses and the answers (decoded, untrusted)."""
        answers: dict[str, ProbeAnswer] = {}

        def talk() -> None:
            _write_frame(self.process.stdin, json.dumps(request).encode("utf-8"))
            for frame in frames:
                _write_frame(self.process.stdin, frame)
            header = json.loads(_read_frame(self.process.stdout, MiB))
            statuses = header.get("answers") if isinstance(header, dict) else None
            sent = header.get("sent") if isinstance(header, dict) else None
            if not isinstance(statuses, dict) or not isinstance(sent, list) or len(sent) > len(wanted):
                raise _FrameError("the sandbox sent something that is not a result")
            for key, raw in statuses.items():
                if key in wanted and isinstance(raw, dict):
                    status = raw.get("status") if raw.get("status") in _STATUSES else "error"
                    ename = raw.get("ename") if isinstance(raw.get("ename"), str) and _NAME.match(raw["ename"]) else ""
                    answers[key] = ProbeAnswer(status, ename)
            for key in sent:
                blob = _read_frame(self.process.stdout, self.limits.answer_limit + MiB)
                if not isinstance(key, str) or key not in wanted:
                    continue
                try:
                    answers[key] = ProbeAnswer("ok", "", decode_answer(blob, self.limits.answer_limit))
                except AnswerError:
                    answers[key] = ProbeAnswer("unreadable")

        self._request(talk, seconds + 2 * self.limits.cell_timeout + 60)
        return answers


def execute(notebook: str, probes: list[tuple[str, str, bytes]], limits: Limits, quick: bool = True,
            sandboxed: bool = True, course_root: Path = ROOT) -> Execution:
    """Execute a student's notebook, then its probes on the given inputs, in a fresh sandbox.

    Args:
        notebook: the notebook's text (.ipynb JSON).
        probes: ``(grade_id, probe code, inputs .npz)`` for each exercise, run after the notebook.
        limits: times and sizes.
        quick: quick mode (``CONVNETS_QUICK=1``).
        sandboxed: False runs without bubblewrap (only for trusted code).
        course_root: the repository whose ``course_utils/`` and ``data/`` the notebook uses.

    Returns:
        An :class:`Execution`; a problem with the submission (a crash, a time limit, garbage)
        is reported in it, never raised.

    Raises:
        SandboxUnavailable: ``sandboxed`` and bubblewrap does not work here.
    """
    result = Execution()
    with Session(notebook, limits, quick, sandboxed, course_root) as session:
        result.cells, result.notebook = session.run_notebook()
        if probes and not session.problem:
            result.answers = session.probes(probes)
        result.problem = session.problem
    result.seconds = time.monotonic() - session.started
    result.stderr = session.stderr
    return result


def remove_tree(folder: str | Path) -> None:
    """Delete a folder a submission wrote in, even where it took away its own permissions."""
    try:
        os.chmod(folder, 0o700)
    except OSError:
        return  # already gone (or never ours)
    for here, dirs, _ in os.walk(folder, followlinks=False):
        for name in dirs:
            path = os.path.join(here, name)
            if not os.path.islink(path):
                try:
                    os.chmod(path, 0o700)
                except OSError:
                    pass
    shutil.rmtree(folder, ignore_errors=True)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
