"""The learner's view (``make lab``) in Chromium: the workspace shows the stored lesson before
anything runs, opens unmodified, has no instructor panels; *Run All* runs the whole lesson and
shows every unsolved exercise failed in place; an exercise is solved after two hints and the
progress report (``make progress``) says so; a questionnaire answer is checked and shown; the
reference solution says how many hints were left unused; widgets restored from the saved state
say how to revive them, survive save and reopen, and the visualizer's message never squeezes its
sliders; re-running ``make lab`` leaves the learner's work alone and nothing tracked changes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from jlab import Notebook, shutdown_kernels
from labserver import ROOT, LabServer

from course_utils import solutions

VIEW = "application/vnd.jupyter.widget-view+json"
SOLUTION = ("def same_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:\n"
            "    total = dilation * (kernel_size - 1)\n    return total // 2, total - total // 2\n")
NB = "jupyterapp.shell.currentWidget"
SAVED_NOTE = ("() => [...document.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets-disconnected')]"
              ".map(e => getComputedStyle(e, '::before').content)")
RED_ICONS = ("() => [...document.querySelectorAll('.jupyter-widgets-disconnected')]"
             ".filter(e => getComputedStyle(e, '::before').content.includes('\\uf127')).length")


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


def _git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60).stdout


def _progress(server) -> str:
    """What ``make progress`` prints (its underlying command), for this server's workspace."""
    done = subprocess.run([sys.executable, "-m", "course_utils.learner", "--workspace", str(server.workspace),
                           "progress"], env=server.env, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _course_cell(nb: Notebook, key: str, value: str) -> int:
    """Index of the cell whose metadata ``course.<key>`` is ``value`` (the learner copy's questionnaire cells)."""
    index = nb.evaluate(f"([k, v]) => {NB}.content.widgets.findIndex(c => (c.model.getMetadata('course') || {{}})[k] === v)",
                        [key, value])
    assert index >= 0, f"no cell with course.{key} = {value!r}"
    return index


def _new_cell_below(nb: Notebook, index: int, source: str) -> int:
    nb.evaluate(f"() => {{ {NB}.content.activeCellIndex = {index}; }}")
    nb.evaluate("() => jupyterapp.commands.execute('notebook:insert-cell-below')")
    nb.set_source(index + 1, source)
    nb.run_cell(index + 1)
    return index + 1


def test_workspace_renders_stored_outputs_before_running_and_opens_unmodified(server, new_page, screenshots):
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
        assert nb.evaluate(f"() => {NB}.content.widgets.filter(c => c.model.type === 'code').every(c => c.model.trusted)"), \
            f"{path.name} is not trusted"
        if path.name.startswith("03_"):
            nb.cell("conv_visualizer(", "visualizer")
            page.wait_for_function(f"() => ({SAVED_NOTE})().length > 0", timeout=20000)
            notes = nb.evaluate(SAVED_NOTE)
            assert all("run this cell" in n for n in notes), notes
            assert nb.evaluate(RED_ICONS) == 0, "a red icon on every restored control instead of one sentence"
            page.screenshot(path=screenshots / "workspace-03-before-running.png")
        page.wait_for_timeout(1500)  # the widget manager has restored the saved state and met the kernel
        assert not nb.evaluate(f"() => {NB}.context.model.dirty"), f"{path.name} opens marked modified"
        nb.shutdown_kernels()
    # closing an untouched notebook with saved widget state asks nothing
    Notebook(page, server, "02_image_kernels.ipynb")
    page.wait_for_timeout(1500)
    page.evaluate("() => jupyterapp.commands.execute('application:close-all')")
    page.wait_for_timeout(1000)
    assert page.locator(".jp-Dialog").count() == 0, "closing an untouched notebook asks to save it"
    shutdown_kernels(server)


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


def test_run_all_then_two_hints_solve_progress_answers_and_the_solution(server, new_page, screenshots):
    status = _git_status()
    page = new_page()
    name = "03_conv_hyperparameters.ipynb"
    nb = Notebook(page, server, name)
    nb.run_all()
    # the notebook draws only the cells in view, so wait for the model: the last code cell ran, nothing runs
    page.wait_for_function(f"""() => {{ const cells = {NB}.content.widgets.filter(c => c.model.type === 'code');
        const k = {NB}.sessionContext.session.kernel;
        return k.status === 'idle' && cells[cells.length - 1].model.executionCount !== null
            && cells.every(c => c.model.executionState !== 'running'); }}""", timeout=300000, polling=500)
    errors = nb.errors()
    tests = [nb.cell_index(f'self_check("03-ex{k}")') for k in range(1, 5)]
    assert [e.split(":")[0] for e in errors] == [f"cell {t}" for t in tests], errors
    assert all("NotImplementedError" in e for e in errors), errors
    last = nb.cell_index("from course_utils.learner import compare_answer, progress")  # the questionnaire, far below
    assert nb.evaluate(f"() => {NB}.content.widgets[{last}].model.executionCount") is not None, \
        "Run All stopped before the end of the lesson"
    assert "03-ex1  " not in _progress(server), "running the stubs is no attempt"

    # two hints, then the answer
    test = tests[0]
    note = test + 1
    assert 'hint(\\"03-ex1\\")' in json.dumps(nb.evaluate(f"() => {NB}.content.widgets[{note}].model.sharedModel.getSource()"))
    asked = _new_cell_below(nb, note, 'hint("03-ex1")')
    assert "Hint 1 of 3" in nb.outputs_text(asked), nb.outputs_text(asked)
    asked = _new_cell_below(nb, asked, 'hint("03-ex1", 2)')
    shown = nb.outputs_text(asked)
    assert "Hint 2 of 3" in shown and "total - total // 2" not in shown, shown
    nb.cell_at(asked, "hint").screenshot(path=screenshots / "workspace-hint-2.png")
    stub = nb.cell_index("def same_padding(")
    nb.set_source(stub, SOLUTION)
    nb.run_cell(stub)
    nb.run_cell(test)
    outputs = nb.outputs_text(test)
    assert '"error"' not in outputs and "same_padding matches padding='same'" in outputs, outputs

    report = _progress(server)
    assert "03-ex1  passed    1 check, 2 hints, solution not shown" in report, report
    row = next(line for line in report.splitlines() if line.startswith("03_conv_hyperparameters"))
    assert row.split()[1:3] == ["1/4", "0"], row  # passed 1 of 4, none attempted without passing

    # a questionnaire answer: the check cell with a value, then the reference of a written answer
    check = nb.cell_index('compare_answer("03-q3", ...)')
    nb.set_source(check, 'compare_answer("03-q3", (16, 1))')
    nb.run_cell(check)
    assert "right" in nb.outputs_text(check) and "Reference answer" in nb.outputs_text(check)
    written = _course_cell(nb, "your_answer", "03-q4")  # the cell under question 4
    assert nb.evaluate(f"() => {NB}.content.widgets[{written - 1}].model.sharedModel.getSource()").startswith("**4.**")
    nb.set_source(written, "*Your answer:* stride 2 cannot keep the size")
    shown = nb.outputs_text(_new_cell_below(nb, written, 'compare_answer("03-q4")'))
    assert "Reference answer" in shown and "no padding can keep the size" in shown, shown

    # the reference solution, after two of three hints
    asked = _new_cell_below(nb, test + 3, 'solution("03-ex1")')
    shown = nb.outputs_text(asked)
    assert "Reference solution" in shown and "total - total // 2" in shown and "1 of its 3 hints left unused" in shown
    nb.cell_at(asked, "asked").screenshot(path=screenshots / "workspace-solution-on-request.png")

    # save, shut down, reopen: the visualizer above the exercise (it ran) is drawn from the saved state
    nb.save()
    saved = json.loads((server.workspace / name).read_text(encoding="utf-8"))
    assert any("".join(c["source"]).strip() == SOLUTION.strip() for c in saved["cells"]), "the solution was not saved"
    report = _progress(server)
    exercises = sum(len(solutions.exercise_ids(solutions.read_cells(p)))
                    for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    assert f"1 of {exercises} exercises passed" in report and "solution shown" in report, report
    row = next(line for line in report.splitlines() if line.startswith("03_conv_hyperparameters"))
    assert row.split()[-2:] == ["2/10", "2"], row  # 2 of 10 questions answered, 2 references seen
    nb.shutdown_kernels()
    reopened = Notebook(page, server, name)
    reopened.cell("conv_visualizer(", "visualizer").locator(".jupyter-widgets img").first.wait_for(timeout=20000)
    assert reopened.raw_reprs() == [], reopened.raw_reprs()
    page.wait_for_timeout(1500)
    assert not reopened.evaluate(f"() => {NB}.context.model.dirty"), "a saved notebook reopens marked modified"
    page.screenshot(path=screenshots / "workspace-03-reopened.png")
    reopened.shutdown_kernels()

    # the learner runs `make lab` again: their notebook is left exactly as it is
    before = (server.workspace / name).read_bytes()
    build = subprocess.run([sys.executable, str(ROOT / "tools" / "workspace.py"), "--dir", str(server.workspace),
                            "build"], env=server.env, capture_output=True, text=True, cwd=ROOT)
    assert build.returncode == 0, build.stderr
    assert (server.workspace / name).read_bytes() == before, "make lab overwrote the learner's notebook"
    assert name not in build.stdout, build.stdout  # nothing to say about it: no newer course version
    assert "03-ex1  passed" in _progress(server), "the record survives make lab"
    assert _git_status() == status, "the learner's work changed tracked or unignored files"


@pytest.mark.parametrize("width", [1280, 1400])
def test_the_visualizers_message_never_squeezes_its_sliders(server, new_page, width, screenshots):
    page = new_page()
    page.set_viewport_size({"width": width, "height": 1000})
    if True:
        nb = Notebook(page, server, "03_conv_hyperparameters.ipynb")
        nb.run_cell(nb.cell_index("plots, settings, shapes, widgets"))  # the setup cell's import
        index = nb.cell_index("conv_visualizer(")
        nb.run_cell(index)  # live: the saved view's note goes away
        cell = nb.cell_at(index, "visualizer")
        page.wait_for_function(f"() => !{NB}.content.widgets[{index}].node.querySelector('.jupyter-widgets-disconnected')"
                               " && " + f"{NB}.content.widgets[{index}].node.querySelectorAll('.widget-slider').length >= 7",
                               timeout=30000)

        def readouts_visible() -> list[bool]:  # each slider's value is on screen, not cut off or covered
            return cell.locator(".widget-slider").evaluate_all("""els => els.map(e => {
                const r = e.querySelector('.widget-readout').getBoundingClientRect();
                const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
                return r.width > 0 && e.contains(hit); })""")

        assert readouts_visible() == [True] * 7, readouts_visible()
        size = cell.locator(".widget-slider", has_text="input size H").locator(".slider-container")
        box = size.bounding_box()
        page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)  # H = 1: a 3x3 kernel cannot fit
        cell.locator(".widget-html-content", has_text="impossible").wait_for(timeout=10000)
        page.wait_for_timeout(500)
        cell.screenshot(path=screenshots / f"visualizer-impossible-{width}px.png")
        assert readouts_visible() == [True] * 7, f"the message squeezes the sliders at {width} px: {readouts_visible()}"
        nb.shutdown_kernels()
