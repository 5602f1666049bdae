"""The instructor's view (``make instructor``) in Chromium: every notebook with a widget runs
top to bottom without an error, each widget redraws within 2 s of a change, an impossible
setting shows its message, and a saved notebook reopens with its widgets drawn.

It runs on a copy of ``notebooks/`` (the instructor view edits the real ones).
"""

from __future__ import annotations

import ast
import json
import re
import shutil

import pytest
from jlab import Notebook, wait_changed
from labserver import NOTEBOOKS, LabServer

REDRAW_S = 2.0  # the limit for a widget to show a change
VIEW = "application/vnd.jupyter.widget-view+json"


# run in any case (the list), besides every notebook with a widget
ALWAYS = ("00_start_here", "02_image_kernels", "03_conv_hyperparameters", "06_data_augmentation")
# code that always shows a widget while it runs: tqdm, ipywidgets and the course's widgets
MAKES_WIDGETS = re.compile(r"\btqdm\b|\bwidgets\b|kernel_playground\(|conv_visualizer\(|\.explorer\(")


def _shows_progress_bar(code: str) -> bool:
    """Whether the code calls ``fit`` without ``progress=False`` (fit's bar is a transient tqdm widget)."""
    # IPython: drop shell lines, keep what a line magic runs (``%time h = fit(...)``)
    lines = [line.lstrip().partition(" ")[2] if line.lstrip().startswith("%") else line
             for line in code.splitlines() if not line.lstrip().startswith("!")]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return "fit(" in code
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "fit":
            progress = next((k.value for k in node.keywords if k.arg == "progress"), None)
            if not (isinstance(progress, ast.Constant) and progress.value is False):
                return True
    return False


def _widget_notebooks() -> list[str]:
    """ALWAYS, and every course notebook with a widget: one its stored outputs show (sliders,
    menus, progress bars) or one its code shows while it runs (fit's transient progress bar)."""
    names = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        shown = any(VIEW in o.get("data", {}) for c in cells for o in c.get("outputs", []))
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        if path.stem in ALWAYS or shown or MAKES_WIDGETS.search(code) or _shows_progress_bar(code):
            names.append(path.stem)
    return names


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("instructor")
    shutil.copytree(NOTEBOOKS, folder / "notebooks")
    lab = LabServer("instructor", folder, ["--notebooks", str(folder / "notebooks")])
    lab.folder = folder
    yield lab
    lab.stop()


def test_instructor_view_has_the_homework_tooling(server, new_page, screenshots):
    page = new_page()
    Notebook(page, server, "notebooks/00_start_here.ipynb")
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(timeout=20000)
    assert page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").count() == 1
    # what the learner's view must not show (test_learner checks the same two things are absent)
    assert page.get_by_text("Create Assignment").count() >= 1
    assert page.evaluate("() => jupyterapp.commands.hasCommand('nbgrader:open-create-assignment')")
    page.screenshot(path=screenshots / "instructor-view.png")


# --------------------------------------------------------------------------- widgets

def _src(cell_mark: str, which: str = "img", nth: int = 0) -> str:
    return f"(document.querySelectorAll('[data-test=\"{cell_mark}\"] .jupyter-widgets {which}')[{nth}] || {{}}).src"


def _slider(page, cell, label: str):
    return cell.locator(".widget-slider", has=page.locator("label.widget-label", has_text=label)).first


def _readout(page, cell, label: str) -> str:
    """The value a slider shows."""
    return _slider(page, cell, label).locator(".widget-readout").inner_text().strip()


def _set_readout(page, cell, label: str, value) -> None:
    """Type a value into a slider's readout, as a user would (click, select, type, Enter)."""
    readout = _slider(page, cell, label).locator(".widget-readout")
    assert readout.inner_text().strip() != str(value), f"{label} is {value} already: the test would see no change"
    readout.click()
    page.keyboard.press("Control+a")
    page.keyboard.type(str(value))
    page.keyboard.press("Enter")


def check_playground(nb: Notebook, shots) -> None:
    """02: the kernel playground redraws after a kernel entry (centre -1 beside the 1: a horizontal
    derivative, edges in the picture), a preset and an image change."""
    page = nb.page
    cell = nb.cell("kernel_playground(", "playground")
    cell.locator(".jupyter-widgets img").first.wait_for()
    cell.locator(".jp-OutputArea-child").first.screenshot(path=shots / "playground-before.png")
    for what, act in [
        ("kernel entry", lambda: (cell.locator("input[type=number]").nth(4).fill("-1"),
                                  cell.locator("input[type=number]").nth(4).press("Enter"))),
        ("preset", lambda: cell.locator("select").nth(1).select_option("emboss")),
        ("image", lambda: cell.locator("select").nth(0).select_option("coffee")),
    ]:
        old = page.evaluate(_src("playground"))
        act()
        seconds = wait_changed(page, _src("playground"), old)
        print(f"playground: {what} -> new picture in {seconds:.2f} s")
        assert seconds < REDRAW_S, f"playground: the picture took {seconds:.2f} s to follow a {what} change"
        if what == "kernel entry":
            cell.locator(".jp-OutputArea-child").first.screenshot(path=shots / "playground-after-kernel-edit.png")
    nb.reopen_checks = [("kernel_playground(", "edit me")]


def check_visualizer(nb: Notebook, shots) -> None:
    """03: the visualizer redraws after a slider change, explains an impossible setting, and a
    saved notebook reopens (kernel shut down) with its widgets drawn."""
    page = nb.page
    cell = nb.cell("conv_visualizer(", "visualizer")
    cell.locator(".jupyter-widgets img").first.wait_for()
    old = page.evaluate(_src("visualizer"))
    _set_readout(page, cell, "kernel K", 5)
    seconds = wait_changed(page, _src("visualizer"), old)
    print(f"visualizer: kernel slider -> new picture in {seconds:.2f} s")
    assert seconds < REDRAW_S, f"visualizer: the picture took {seconds:.2f} s to follow the kernel slider"
    cell.locator(".jp-OutputArea-child").first.screenshot(path=shots / "visualizer.png")
    old = page.evaluate(_src("visualizer"))
    padding = 0 if _readout(page, cell, "padding P") != "0" else 1  # a change, whatever the notebook starts with
    _set_readout(page, cell, "padding P", padding)
    seconds = wait_changed(page, _src("visualizer"), old)
    print(f"visualizer: padding slider -> new picture in {seconds:.2f} s")
    assert seconds < REDRAW_S, f"visualizer: the picture took {seconds:.2f} s to follow the padding slider"
    old = page.evaluate(_src("visualizer"))
    _set_readout(page, cell, "input size H", 2)  # a 5x5 kernel cannot fit a 2x2 input padded by 0 or 1
    seconds = wait_changed(page, _src("visualizer"), old)
    message = cell.locator(".widget-html-content", has_text="impossible")
    message.wait_for(timeout=2000)
    print(f"visualizer: impossible setting -> new picture in {seconds:.2f} s")
    assert seconds < REDRAW_S, f"visualizer: {seconds:.2f} s to draw an impossible setting"
    assert "kernel" in message.inner_text(), message.inner_text()
    cell.locator(".jp-OutputArea-child").first.screenshot(path=shots / "visualizer-impossible.png")

    nb.reopen_checks = [("conv_visualizer(", "impossible")]  # after reopening: its last state, drawn


def check_explorer(nb: Notebook, shots) -> None:
    """06: the augmentation explorer redraws the augmented image after a slider change."""
    page = nb.page
    cell = nb.cell("augment.explorer(", "explorer")
    cell.locator("img.widget-image").nth(1).wait_for()
    augmented = _src("explorer", "img.widget-image", 1)
    old = page.evaluate(augmented)
    _set_readout(page, cell, "angle", 90)
    seconds = wait_changed(page, augmented, old)
    print(f"explorer: angle slider -> new picture in {seconds:.2f} s")
    assert seconds < REDRAW_S, f"explorer: the augmented image took {seconds:.2f} s to follow the angle slider"
    cell.locator(".jp-OutputArea-child").first.screenshot(path=shots / "explorer.png")
    nb.reopen_checks = [("augment.explorer(", "angle")]


INTERACTIONS = {"02_image_kernels": check_playground, "03_conv_hyperparameters": check_visualizer,
                "06_data_augmentation": check_explorer}


def test_every_widget_notebook_is_listed():
    assert set(INTERACTIONS) <= set(_widget_notebooks()), "a widget notebook changed its name: update INTERACTIONS"


def _save_and_reopen(nb: Notebook, shots, name: str) -> None:
    """Save, shut the kernel down, reopen: every widget the notebook shows is drawn from the saved state."""
    nb.save()
    saved = json.loads((nb.server.folder / nb.path).read_text(encoding="utf-8"))
    view_ids = {o["data"][VIEW]["model_id"] for c in saved["cells"] for o in c.get("outputs", [])
                if VIEW in o.get("data", {})}
    state = saved["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    missing = view_ids - set(state)
    assert not missing, f"{name}: the saved notebook shows widgets whose state it lacks: {sorted(missing)[:3]}"
    nb.shutdown_kernels()
    reopened = Notebook(nb.page, nb.server, nb.path)
    nb.page.wait_for_function(f"() => document.querySelectorAll('.jp-OutputArea-output .jupyter-widgets').length >= "
                              f"{min(len(view_ids), 1)}", timeout=20000)
    for text, shown in getattr(nb, "reopen_checks", []):
        reopened.cell(text, "reopened").locator(".jupyter-widgets", has_text=shown).first.wait_for(timeout=10000)
    assert reopened.raw_reprs() == [], f"{name}: after reopening, widgets shown as text: {reopened.raw_reprs()}"
    nb.page.screenshot(path=shots / f"reopened-{name}.png")


@pytest.mark.parametrize("name", _widget_notebooks())
def test_run_all_widgets_respond_save_reopen(server, new_page, screenshots, name):
    page = new_page()
    nb = Notebook(page, server, f"notebooks/{name}.ipynb")
    seconds = nb.run_all()
    print(f"{name}: Run All in {seconds:.1f} s (quick mode)")
    assert nb.errors() == [], f"{name}: Run All ended with errors"
    assert nb.raw_reprs() == [], f"{name}: widgets shown as text"
    if name in INTERACTIONS:
        INTERACTIONS[name](nb, screenshots)
    _save_and_reopen(nb, screenshots, name)
    nb.shutdown_kernels()
