"""A JupyterLab server of one view for the browser suite, started by ``tools/lab.py`` like ``make lab``."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """A JupyterLab server of one view, started by ``tools/lab.py`` and stopped by :meth:`stop`."""

    def __init__(self, view: str, folder: Path, args: list[str]):
        self.view, self.token, self.port = view, secrets.token_hex(16), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        home = folder / "jupyter-home"
        env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "JUPYTER_CONFIG_PATH")}
        env.update(JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
                   JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"),
                   CONVNETS_QUICK="1", CONVNETS_CACHE=os.environ.get("CONVNETS_CACHE", str(ROOT / ".cache" / "test")),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        self.env = env
        self.log_path = folder / f"{view}-server.log"
        cmd = [sys.executable, str(ROOT / "tools" / "lab.py"), view, *args, "--no-browser", f"--port={self.port}",
               "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={self.token}",
               "--LabApp.expose_app_in_browser=True"]
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab ({view}) exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"JupyterLab ({view}) did not answer in 120 s:\n{self.log()}")
            time.sleep(0.5)

    def tree_url(self, path: str) -> str:
        """The address that opens ``path`` alone (``reset``: no tabs restored from an earlier page)."""
        return f"{self.url}/lab/tree/{path}?reset&token={self.token}"

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        """Stop the server; it shuts its kernels down first."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
