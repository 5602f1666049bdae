"""Drive one JupyterLab notebook in a Playwright page (the app is exposed as ``window.jupyterapp``)."""

from __future__ import annotations

import json
import time
import urllib.request

_NB = "jupyterapp.shell.currentWidget"
READY = """() => { const nb = window.jupyterapp && NB; if (!nb || !nb.context || !nb.context.isReady) return false;
  const s = nb.sessionContext.session; return !!(s && s.kernel && s.kernel.status === 'idle'); }""".replace("NB", _NB)
IDLE = """() => { const nb = NB; const k = nb.sessionContext.session && nb.sessionContext.session.kernel;
  if (!k || k.status !== 'idle') return false;
  return ![...nb.node.querySelectorAll('.jp-InputArea-prompt')].some(e => e.textContent.includes('*')); }""".replace("NB", _NB)
ERRORS = """() => { const out = []; NB.content.widgets.forEach((cell, i) => {
  if (cell.model.type !== 'code') return;
  for (const o of cell.model.outputs.toJSON()) if (o.output_type === 'error') out.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
  }); return out; }""".replace("NB", _NB)
RAW_REPR = ("() => [...document.querySelectorAll('.jp-OutputArea-output')].map(e => e.innerText)"
            ".filter(t => /^(VBox|HBox|Box|FileUpload|IntSlider|FloatSlider|Dropdown)\\(/.test(t.trim())"
            " || t.includes('Error displaying widget')).map(t => t.slice(0, 80))")


class Notebook:
    """One notebook open in JupyterLab in ``page``."""

    def __init__(self, page, server, path: str, timeout_s: float = 120):
        self.page, self.server, self.path = page, server, path
        page.goto(server.tree_url(path))
        page.wait_for_function(READY, timeout=timeout_s * 1000, polling=250)

    # --- state -------------------------------------------------------------------------
    def evaluate(self, js: str, arg=None):
        return self.page.evaluate(js, arg)

    def cell_index(self, text: str) -> int:
        """Index of the first cell whose source contains ``text``."""
        index = self.evaluate(f"(t) => {_NB}.content.widgets.findIndex(c => c.model.sharedModel.getSource().includes(t))",
                              text)
        assert index >= 0, f"{self.path}: no cell contains {text!r}"
        return index

    def cell(self, text: str, mark: str):
        """A Playwright locator for the cell containing ``text`` (tagged ``data-test=mark``), scrolled into view."""
        return self.cell_at(self.cell_index(text), mark)

    def cell_at(self, index: int, mark: str):
        """A Playwright locator for cell ``index`` (tagged ``data-test=mark``), scrolled into view."""
        self.evaluate(f"([i, m]) => {{ const c = {_NB}.content.widgets[i]; c.node.setAttribute('data-test', m);"
                      " c.node.scrollIntoView({block: 'center'}); }", [index, mark])
        return self.page.locator(f'[data-test="{mark}"]')

    def errors(self) -> list[str]:
        """Error outputs of every cell (``ENAME: message``)."""
        return self.evaluate(ERRORS)

    def raw_reprs(self) -> list[str]:
        """Outputs showing a widget's raw repr or "Error displaying widget"."""
        return self.evaluate(RAW_REPR)

    def widget_count(self) -> int:
        return self.evaluate(f"() => {_NB}.node.querySelectorAll('.jp-OutputArea-output .jupyter-widgets').length")

    def image_count(self) -> int:
        return self.evaluate(f"() => {_NB}.node.querySelectorAll('.jp-OutputArea-output img').length")

    # --- actions -----------------------------------------------------------------------
    def run_all(self, timeout_s: float = 240) -> float:
        """Run All Cells (the Run menu's command) and wait until the kernel is idle; returns seconds."""
        start = time.perf_counter()
        self.evaluate("() => jupyterapp.commands.execute('notebook:run-all-cells')")
        self.page.wait_for_timeout(500)
        self.page.wait_for_function(IDLE, timeout=timeout_s * 1000, polling=250)
        return time.perf_counter() - start

    def run_cell(self, index: int, timeout_s: float = 60) -> None:
        self.evaluate(f"(i) => {{ {_NB}.content.activeCellIndex = i; }}", index)
        self.evaluate("() => jupyterapp.commands.execute('notebook:run-cell')")
        self.page.wait_for_timeout(300)
        self.page.wait_for_function(IDLE, timeout=timeout_s * 1000, polling=250)

    def set_source(self, index: int, source: str) -> None:
        self.evaluate(f"([i, s]) => {_NB}.content.widgets[i].model.sharedModel.setSource(s)", [index, source])

    def outputs_text(self, index: int) -> str:
        return self.evaluate(f"(i) => JSON.stringify({_NB}.content.widgets[i].model.outputs.toJSON())", index)

    def save(self) -> None:
        """Save with the keyboard shortcut, as a user would, and wait until the file is written."""
        self.page.wait_for_function(IDLE, timeout=60000, polling=250)  # widget callbacks done
        self.evaluate(f"() => {_NB}.content.node.focus()")
        self.page.keyboard.press("Control+s")
        self.page.wait_for_function(f"() => !{_NB}.context.model.dirty", timeout=30000)

    def shutdown_kernels(self) -> None:
        shutdown_kernels(self.server)

    def close(self) -> None:
        self.evaluate("() => jupyterapp.commands.execute('application:close-all')")


def shutdown_kernels(server) -> None:
    """Shut down every kernel of the server (as after closing JupyterLab), through its REST API."""
    with urllib.request.urlopen(f"{server.url}/api/kernels?token={server.token}") as r:
        kernels = json.load(r)
    for kernel in kernels:
        request = urllib.request.Request(f"{server.url}/api/kernels/{kernel['id']}?token={server.token}",
                                         method="DELETE")
        urllib.request.urlopen(request).close()


def wait_changed(page, js_value: str, old, give_up_s: float = 15.0) -> float:
    """Wait until ``js_value`` (a JS expression) differs from ``old``; returns the seconds it took
    (the caller asserts the limit, so a slow redraw is reported with its time)."""
    start = time.perf_counter()
    page.wait_for_function(f"(old) => {{ const v = {js_value}; return v !== null && v !== undefined && v !== old; }}",
                           arg=old, timeout=give_up_s * 1000, polling="raf")
    return time.perf_counter() - start
