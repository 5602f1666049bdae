"""The learner's view (``make lab``) in Chromium: the workspace shows the stored lesson before
anything runs, has no instructor panels, an exercise fails until solved and passes once
solved, the reference solution comes on request, widgets survive save and reopen, and
re-running ``make lab`` leaves the learner's work alone.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from jlab import Notebook, shutdown_kernels
from labserver import ROOT, LabServer

VIEW = "application/vnd.jupyter.widget-view+json"
SOLUTION = ("def same_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:\n"
            "    total = dilation * (kernel_size - 1)\n    return total // 2, total - total // 2\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("learner")
    lab = LabServer("learner", folder, ["--workspace", str(folder / "workspace")])
    lab.folder = lab.workspace = folder / "workspace"
    yield lab
    lab.stop()


def _stored(path) -> tuple[int, int]:
    """(image outputs, widget outputs) stored in a notebook file."""
    outputs = [o for c in json.loads(path.read_text(encoding="utf-8"))["cells"] for o in c.get("outputs", [])]
    images = sum(any(k.startswith("image/") for k in o.get("data", {})) and VIEW not in o.get("data", {})
                 for o in outputs)
    return images, sum(VIEW in o.get("data", {}) for o in outputs)


def test_workspace_renders_stored_outputs_before_running(server, new_page, screenshots):
    page = new_page()
    notebooks = sorted(server.workspace.glob("[0-9][0-9]_*.ipynb"))
    assert len(notebooks) >= 8, f"workspace has only {[p.name for p in notebooks]}"
    for path in notebooks:
        images, widgets = _stored(path)
        nb = Notebook(page, server, path.name)
        page.wait_for_function(f"() => document.querySelectorAll('.jp-OutputArea-output img').length >= {images}",
                               timeout=30000)
        if widgets:
            page.wait_for_function("() => document.querySelectorAll('.jp-OutputArea-output .jupyter-widgets').length > 0",
                                   timeout=30000)
        assert nb.raw_reprs() == [], f"{path.name}: widgets shown as text before running"
        assert nb.evaluate("() => jupyterapp.shell.currentWidget.content.widgets.filter(c => c.model.type === 'code').every(c => c.model.trusted)"), \
            f"{path.name} is not trusted"
        if path.name.startswith("03_"):
            nb.cell("conv_visualizer(", "visualizer")
            page.screenshot(path=screenshots / "workspace-03-before-running.png")
        nb.shutdown_kernels()


def test_learner_view_has_no_instructor_panels_and_the_readme_menus(server, new_page, screenshots):
    page = new_page()
    Notebook(page, server, "00_start_here.ipynb")
    labels = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert "View" in labels and "Nbgrader" not in labels, labels
    assert page.get_by_text("Create Assignment").count() == 0
    assert not page.evaluate("() => jupyterapp.commands.hasCommand('nbgrader:open-create-assignment')"), \
        "nbgrader's Create Assignment plugin is active in the learner's view"
    # the README's menu paths: View -> Appearance -> Presentation Mode / Simple Interface
    page.locator(".lm-MenuBar-itemLabel", has_text="View").click()
    page.locator(".lm-Menu-itemLabel", has_text="Appearance").first.hover()
    for item in ("Presentation Mode", "Simple Interface"):
        page.locator(".lm-Menu-itemLabel", has_text=item).first.wait_for(timeout=5000)
    page.screenshot(path=screenshots / "learner-view-appearance-menu.png")
    page.keyboard.press("Escape")
    shutdown_kernels(server)


def test_exercise_fails_until_solved_then_solution_on_request_and_widgets_survive_reopen(
        server, new_page, screenshots):
    page = new_page()
    name = "03_conv_hyperparameters.ipynb"
    nb = Notebook(page, server, name)
    nb.run_all()
    errors = nb.errors()
    test = nb.cell_index("answer = same_padding(k, d)")  # exercise 1's self-check
    assert len(errors) == 1 and errors[0].startswith(f"cell {test}: NotImplementedError"), errors

    stub = nb.cell_index("def same_padding(")
    assert "raise NotImplementedError()" in nb.evaluate(
        f"() => jupyterapp.shell.currentWidget.content.widgets[{stub}].model.sharedModel.getSource()")
    nb.set_source(stub, SOLUTION)
    nb.run_cell(stub)
    nb.run_cell(test)
    outputs = nb.outputs_text(test)
    assert '"error"' not in outputs and "same_padding matches padding='same'" in outputs, outputs

    hint = test + 1
    assert 'solution(\\"03-ex1\\")' in json.dumps(nb.evaluate(
        f"() => jupyterapp.shell.currentWidget.content.widgets[{hint}].model.sharedModel.getSource()"))
    nb.evaluate(f"() => {{ jupyterapp.shell.currentWidget.content.activeCellIndex = {hint}; }}")
    nb.evaluate("() => jupyterapp.commands.execute('notebook:insert-cell-below')")
    asked = hint + 1
    nb.set_source(asked, 'from course_utils.solutions import solution\nsolution("03-ex1")')
    nb.run_cell(asked)
    shown = nb.outputs_text(asked)
    assert "Reference solution" in shown and "total - total // 2" in shown, shown
    nb.cell_at(asked, "asked").screenshot(path=screenshots / "workspace-solution-on-request.png")

    # save, shut down, reopen: the visualizer above the exercise (it ran) is drawn from the saved state
    nb.save()
    saved = json.loads((server.workspace / name).read_text(encoding="utf-8"))
    assert any("".join(c["source"]).strip() == SOLUTION.strip() for c in saved["cells"]), "the solution was not saved"
    nb.shutdown_kernels()
    reopened = Notebook(page, server, name)
    reopened.cell("conv_visualizer(", "visualizer").locator(".jupyter-widgets img").first.wait_for(timeout=20000)
    assert reopened.raw_reprs() == [], reopened.raw_reprs()
    page.screenshot(path=screenshots / "workspace-03-reopened.png")
    reopened.shutdown_kernels()

    # the learner runs `make lab` again: their notebook is left exactly as it is
    before = (server.workspace / name).read_bytes()
    build = subprocess.run([sys.executable, str(ROOT / "tools" / "workspace.py"), "--dir", str(server.workspace),
                            "build"], env=server.env, capture_output=True, text=True, cwd=ROOT)
    assert build.returncode == 0, build.stderr
    assert (server.workspace / name).read_bytes() == before, "make lab overwrote the learner's notebook"
    assert name not in build.stdout, build.stdout  # nothing to say about it: no newer course version
