"""Runs inside a grading sandbox: execute one notebook with nbclient, then the grading probes.

This file is run as a script (``python runner.py``) by :mod:`homework_tools.sandbox`, inside
the sandbox, and imports nothing from the course or the grader. It talks to the grader
only through its stdin and stdout, in frames (8-byte big-endian length, then the bytes)::

    in  1  JSON job: {"notebook": "<.ipynb text>", "cell_timeout": s, "notebook_time": s,
                      "probe_time": s, "output_limit": bytes, "answer_limit": bytes}
    out 1  JSON: {"cells": [{"index", "status", "ename"}], "notebook": "<executed .ipynb>"}
    in  2  JSON: {"seed": int, "probes": [{"grade_id": "...", "code": "<hidden section>"}]}
    out 2  JSON: {"answers": {grade_id: {"status": "ok" | "error" | "timeout" | "died" |
                  "not run" | "too large", "ename": ...}}, "sent": [grade_id, ...]}
    out *  one frame per grade_id in "sent": the .npz bytes of that probe's answer

The executed notebook goes out *before* the probes come in, so nothing the submission
does after seeing them can reach the instructor's or the student's copy of it. Cell
statuses: ``ok``, ``error`` (with the exception's name), ``timeout`` (interrupted),
``killed`` (a hang that ignored the interrupt, or a crash: the kernel is restarted, the
cells before it re-run and the notebook goes on after it), ``not run`` (time is up).
Everything the runner says is untrusted by the grader: it is the submission's sandbox.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, BinaryIO

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync

INTERRUPT_GRACE = 5.0  # seconds a kernel gets to answer after an interrupt before it is killed

# Defined in the kernel after the notebook ran, before the probes (notebooks/AUTHORING.md).
KERNEL_PRELUDE = r'''
def attempt(f, *args, **kwargs):
    """Return f(*args, **kwargs), or {"raised": "<ExceptionName>"} if it raised."""
    try:
        return f(*args, **kwargs)
    except (Exception, SystemExit) as err:  # KeyboardInterrupt (the grader's timeout) goes on
        return {"raised": type(err).__name__}


def _homework_save(answer, path):
    """Write a probe's answer as .npz: "__tree__" (JSON) plus one entry per array."""
    import json as _json
    import sys as _sys

    import numpy as _np

    arrays = {}

    def plain(v, depth=0):
        if depth > 64:
            raise TypeError("nested too deeply")
        if v is None or type(v) in (bool, int, float, str):
            return v
        if isinstance(v, bool):
            return bool(v)
        if isinstance(v, int):
            return int(v)
        if isinstance(v, float):
            return float(v)
        if isinstance(v, str):
            return str(v)
        if isinstance(v, _np.generic) and not isinstance(v, _np.ndarray):
            return plain(v.item(), depth + 1)
        torch = _sys.modules.get("torch")
        if torch is not None and isinstance(v, torch.Tensor):
            t = v.detach().cpu()
            if t.is_sparse:
                t = t.to_dense()
            try:
                v = t.numpy()
            except (TypeError, RuntimeError):  # bfloat16 and other dtypes numpy lacks
                v = t.float().numpy()
        if isinstance(v, _np.ndarray):
            if v.dtype.hasobject or v.dtype.kind not in "biufcUS":
                raise TypeError(f"cannot send an array of dtype {v.dtype}")
            name = f"a{len(arrays)}"
            arrays[name] = _np.ascontiguousarray(v)
            return {"__ndarray__": name}
        if isinstance(v, (list, tuple)):
            return [plain(x, depth + 1) for x in v]
        if isinstance(v, dict):
            if any(not isinstance(k, str) for k in v):
                raise TypeError("dict keys must be strings")
            if set(v) == {"__ndarray__"}:
                raise TypeError("a dict whose only key is '__ndarray__'")
            return {str(k): plain(x, depth + 1) for k, x in v.items()}
        raise TypeError(f"cannot send a {type(v).__name__}")

    if not isinstance(answer, dict):
        tree = {"__not_a_dict__": type(answer).__name__}
    else:
        tree = {}
        for key, value in answer.items():
            if not isinstance(key, str):
                continue
            try:
                tree[str(key)] = plain(value)
            except Exception:  # whatever the value does when converted, only this key is lost
                tree[str(key)] = {"unsendable": type(value).__name__}
    arrays["__tree__"] = _np.frombuffer(_json.dumps(tree).encode("utf-8"), dtype=_np.uint8)
    _np.savez(path, **arrays)
'''


# --------------------------------------------------------------------------- frames

def send(channel: BinaryIO, payload: bytes) -> None:
    """Write one frame: 8-byte big-endian length, then ``payload``."""
    channel.write(len(payload).to_bytes(8, "big"))
    channel.write(payload)
    channel.flush()


def receive(channel: BinaryIO) -> bytes:
    """Read one frame; ``EOFError`` if the other side closed the pipe."""
    head = channel.read(8)
    if len(head) < 8:
        raise EOFError("the grader closed the pipe")
    size = int.from_bytes(head, "big")
    data = channel.read(size)
    if len(data) < size:
        raise EOFError("the grader closed the pipe mid-frame")
    return data


# --------------------------------------------------------------------------- execution

class _CappedClient(NotebookClient):
    """An nbclient that keeps at most ``output_limit`` bytes of outputs in the notebook."""

    def __init__(self, nb: Any, output_limit: int, **kw: Any) -> None:
        super().__init__(nb, **kw)
        self.output_left = output_limit
        self.truncated: set[int] = set()
        self.recording = True  # False while replaying cells or running probes: keep nothing

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
        if not self.recording:
            return None
        size = len(json.dumps(msg.get("content", {}), default=str))
        if size > self.output_left:
            if cell_index not in self.truncated:
                self.truncated.add(cell_index)
                outs.append(nbformat.v4.new_output("stream", name="stderr",
                                                   text="[grader: output truncated here: over the size limit]\n"))
            return None
        self.output_left -= size
        return super().output(outs, msg, display_id, cell_index)

    def _update_display_id(self, display_id: str, msg: dict) -> None:
        size = len(json.dumps(msg.get("content", {}), default=str))
        if self.recording and size <= self.output_left:
            self.output_left -= size
            super()._update_display_id(display_id, msg)


class Runner:
    """One kernel executing one notebook, restarted (and replayed) when a cell kills or hangs it."""

    def __init__(self, nb: Any, job: dict) -> None:
        self.nb = nb
        self.cell_timeout = float(job["cell_timeout"])
        self.client = _CappedClient(nb, int(job["output_limit"]), timeout=self.cell_timeout, kernel_name="python3",
                                    allow_errors=True, interrupt_on_timeout=False, record_timing=False,
                                    store_widget_state=True, shutdown_kernel="immediate", startup_timeout=120,
                                    iopub_timeout=10)
        # store_widget_state=True: nbclient's Output-widget mimic writes into widget_state and raises
        # KeyError without it, which ended the sandbox on notebooks 02/03 (kernel playground, conv visualizer).
        self.client.on_cell_executed = self._on_executed
        self.reply: dict = {}  # content of the last execute_reply
        self.skip: set[int] = set()  # cells that killed or hung the kernel: not replayed
        self.done: list[int] = []  # cells of the notebook executed so far, in order
        self.prelude = False

    def start(self) -> None:
        """Start a fresh kernel whose stdin/stdout/stderr lead nowhere (not to the grader's pipe)."""
        c = self.client
        c.km = c.create_kernel_manager()
        c.start_new_kernel(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           cwd=os.getcwd())
        c.start_new_kernel_client()
        self.prelude = False

    def stop(self) -> None:
        """Kill the kernel (no polite shutdown: it may ignore one)."""
        if self.client.km is not None:
            try:
                self.client._cleanup_kernel()
            except Exception:  # already dead, channels closed: nothing left to stop
                self.client.km = self.client.kc = None

    def _execute(self, cell: Any, index: int, timeout: float) -> tuple[str, str]:
        """Run one cell; (status, exception name). Interrupts a hang, kills the kernel if that fails."""
        self.client.timeout = max(1, int(timeout))
        self.reply = {}
        try:
            self.client.execute_cell(cell, index)
        except CellTimeoutError:
            if self._interrupt():
                return "timeout", "TimeoutError"
            return "killed", "TimeoutError"
        except DeadKernelError:
            return "killed", "DeadKernelError"
        if self.reply.get("status") == "error":
            return "error", str(self.reply.get("ename", "Error"))[:100]
        return "ok", ""

    def _on_executed(self, cell: Any, cell_index: int, execute_reply: dict) -> None:
        self.reply = (execute_reply or {}).get("content", {})

    def _interrupt(self) -> bool:
        """Interrupt the kernel; True if it then answers within INTERRUPT_GRACE seconds."""
        try:
            run_sync(self.client.km.interrupt_kernel)()
        except Exception:
            return False
        status, _ = self._scratch("pass", INTERRUPT_GRACE, check_hang=False)
        return status == "ok"

    def _scratch(self, source: str, timeout: float, check_hang: bool = True) -> tuple[str, str]:
        """Run code that is not part of the notebook (replays, probes); its outputs are not kept."""
        cell = nbformat.v4.new_code_cell(source)
        self.nb.cells.append(cell)
        recording, self.client.recording = self.client.recording, False
        try:
            if check_hang:
                return self._execute(cell, len(self.nb.cells) - 1, timeout)
            self.client.timeout = max(1, int(timeout))
            try:
                self.client.execute_cell(cell, len(self.nb.cells) - 1)
                return "ok", ""
            except (CellTimeoutError, DeadKernelError):
                return "killed", "TimeoutError"
        finally:
            self.client.recording = recording
            self.nb.cells.pop()

    def restart(self, deadline: float) -> bool:
        """Kill the kernel, start a new one and re-run the notebook cells done so far (not ``skip``).

        Returns:
            False if the deadline passed before the kernel was back where it was.
        """
        while time.monotonic() < deadline:
            self.stop()
            self.start()
            for index in self.done:
                if index in self.skip:
                    continue
                if time.monotonic() >= deadline:
                    return False
                status, _ = self._scratch(self.nb.cells[index].source, min(self.cell_timeout, deadline - time.monotonic()))
                if status == "killed":  # died on replay this time: leave it out too and start over
                    self.skip.add(index)
                    break
            else:
                return True
        return False

    def run_notebook(self, seconds: float) -> list[dict]:
        """Execute every code cell in order within ``seconds``; one status dict per code cell."""
        deadline = time.monotonic() + seconds
        statuses = []
        alive = True
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code":
                continue
            cell.outputs, cell.execution_count = [], None
            left = deadline - time.monotonic()
            if not alive or left <= 1:
                statuses.append({"index": index, "status": "not run", "ename": ""})
                continue
            status, ename = self._execute(cell, index, min(self.cell_timeout, left))
            self.done.append(index)
            if status == "killed":
                self.skip.add(index)
                alive = self.restart(deadline)
            statuses.append({"index": index, "status": status, "ename": ename})
        return statuses

    def run_probes(self, probes: list[dict], seed: int, seconds: float, folder: str,
                   answer_limit: int) -> tuple[dict, list[tuple[str, bytes]]]:
        """Run each probe in the kernel; (status per grade_id, [(grade_id, npz bytes)])."""
        deadline = time.monotonic() + seconds
        answers: dict[str, dict] = {}
        blobs: list[tuple[str, bytes]] = []
        alive = True
        for number, probe in enumerate(probes):
            grade_id = str(probe["grade_id"])
            left = deadline - time.monotonic()
            if not alive or left <= 1:
                answers[grade_id] = {"status": "not run", "ename": ""}
                continue
            if not self.prelude:
                self._scratch(KERNEL_PRELUDE, min(self.cell_timeout, left))
                self.prelude = True
            path = os.path.join(folder, f"answer{number}.npz")
            code = f"{probe['code']}\n_homework_save(probe({int(seed)}), {path!r})\n"
            status, ename = self._scratch(code, min(self.cell_timeout, deadline - time.monotonic()))
            if status == "killed":
                alive = self.restart(deadline)
            elif status == "ok":
                try:
                    size = os.path.getsize(path)
                    if size > answer_limit:
                        status, ename = "too large", ""
                    else:
                        with open(path, "rb") as f:
                            blobs.append((grade_id, f.read(answer_limit + 1)))
                except OSError:
                    status, ename = "error", "NoAnswer"
            answers[grade_id] = {"status": status, "ename": ename}
        return answers, blobs


def _not_dumpable() -> None:
    """Keep other processes of the sandbox (the submission's) out of this one's /proc/<pid>/fd."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass


def main() -> int:
    """Serve one grading job over stdin/stdout (see the module docstring)."""
    _not_dumpable()
    out = os.fdopen(os.dup(1), "wb")  # private copies, not inherited by the kernel
    inp = os.fdopen(os.dup(0), "rb")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)  # a stray print (ours or a library's) cannot corrupt the frames
    job = json.loads(receive(inp))
    try:
        nb = nbformat.reads(job["notebook"], as_version=4)
    except Exception as err:  # not a notebook: say so, the grader scores it 0
        send(out, json.dumps({"error": f"not a readable notebook: {type(err).__name__}"}).encode())
        return 0
    work = tempfile.mkdtemp(prefix="work-")  # under TMPDIR: the sandbox's /tmp, or the grader's scratch folder
    folders = [work]
    os.chdir(work)
    runner = Runner(nb, job)
    try:
        runner.start()
        statuses = runner.run_notebook(float(job["notebook_time"]))
        executed = copy.deepcopy(nb)
        send(out, json.dumps({"cells": statuses, "notebook": nbformat.writes(executed)}).encode())
        request = json.loads(receive(inp))
        if not request.get("probes"):
            return 0
        folder = tempfile.mkdtemp(prefix="answers-")
        folders.append(folder)
        answers, blobs = runner.run_probes(request["probes"], int(request["seed"]), float(job["probe_time"]),
                                           folder, int(job["answer_limit"]))
        send(out, json.dumps({"answers": answers, "sent": [g for g, _ in blobs]}).encode())
        for _, blob in blobs:
            send(out, blob)
        return 0
    finally:
        runner.stop()
        os.chdir("/")
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
