"""Offline lecture slides (tools/homework_tools/slides.py) and the static views of the widgets."""

from __future__ import annotations

import base64
import json
import re
import shutil
import sys
from pathlib import Path

import matplotlib
import nbformat as nbf
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from homework_tools import slides  # noqa: E402
from homework_tools.config import HomeworkConfig  # noqa: E402

VIEW = "application/vnd.jupyter.widget-view+json"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()


def _fixture(folder: Path) -> Path:
    cells = [nbf.v4.new_markdown_cell("# 96 · Slides\n\nA formula $H_{out}$."),
             nbf.v4.new_code_cell("x = " + " + ".join(["1"] * 80)),
             nbf.v4.new_markdown_cell("### Exercise 1 (1 point): task"),
             nbf.v4.new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"),
             nbf.v4.new_code_cell("assert answer == 42\n### BEGIN HIDDEN TESTS\nSECRET_PROBE = 1\n### END HIDDEN TESTS"),
             nbf.v4.new_code_cell("viz")]
    cells[3].metadata["nbgrader"] = {"grade": False, "grade_id": "96-ex1-code", "locked": False, "schema_version": 3,
                                     "solution": True, "task": False}
    cells[4].metadata["nbgrader"] = {"grade": True, "grade_id": "96-ex1-test", "locked": True, "points": 1,
                                     "schema_version": 3, "solution": False, "task": False}
    cells[5].outputs = [nbf.v4.new_output("display_data", data={VIEW: {"model_id": "m1", "version_major": 2,
                                                                       "version_minor": 0},
                                                                "image/png": PNG, "text/plain": "a static twin"})]
    nb = nbf.v4.new_notebook(cells=cells)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"m1": {"model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
                         "model_name": "VBoxModel", "state": {}}}, "version_major": 2, "version_minor": 0}}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "96_slides.ipynb"
    nbf.write(nb, path)
    return path


def test_offline_slides_load_only_vendored_files(tmp_path):
    source = _fixture(tmp_path / "src")
    (lecture,) = slides.lecture([source], HomeworkConfig(tmp_path / "course"))
    html = lecture.with_name("96_slides.slides.html").read_text()
    loaded = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert loaded and all(url.startswith("vendor/") for url in loaded), loaded
    for url in loaded:
        assert (lecture.parent / url).is_file(), f"{url} is not next to the slides"
    assert "vendor/html-manager/dist/embed.js" in loaded and "vendor/mathjax/es5/tex-svg-full.js" in loaded
    assert "SECRET_PROBE" not in html and "SECRET_PROBE" not in lecture.read_text(), "grading probe in the slides"
    assert 'class="fragment"' in html, "the solution is a fragment"
    assert "white-space: pre-wrap" in html
    # the widget output that has a static twin shows the picture, not the widget
    assert f"data:image/png;base64,{PNG}" in html and 'application/vnd.jupyter.widget-view+json">' not in html
    assert nbf.read(source, 4).cells[3].metadata.get("slideshow") is None, "the source must stay untouched"


def test_vendor_files_are_checked_before_anything_is_written(tmp_path):
    vendor = tmp_path / "vendor"
    shutil.copytree(slides.VENDOR, vendor)
    assert slides.vendor_files(vendor)
    reveal = vendor / "reveal.js" / "dist" / "reveal.js"
    reveal.write_text(reveal.read_text() + "// changed")
    with pytest.raises(slides.VendorFileError, match=r"reveal\.js/dist/reveal\.js differs .*build_vendor\.py"):
        slides.vendor_files(vendor)
    reveal.unlink()
    with pytest.raises(slides.VendorFileError, match="is missing"):
        slides.vendor_files(vendor)


def test_vendor_manifest_records_version_licence_and_checksum():
    manifest = json.loads((slides.VENDOR / "manifest.json").read_text())
    packages = {r["package"]: r["version"] for r in manifest.values()}
    assert set(packages) == {"reveal.js", "@jupyter-widgets/html-manager", "mathjax", "axe-core"}
    assert all(r["licence"] and len(r["sha256"]) == 64 and r["integrity"].startswith("sha512-")
               for r in manifest.values())


# --------------------------------------------------------------------------- static views of the widgets

def _bundle_png(bundle: dict) -> bytes:
    data = bundle["image/png"]
    return data if isinstance(data, bytes) else base64.b64decode(data)


@pytest.mark.parametrize("make", ["visualizer", "playground", "explorer"])
def test_widgets_carry_a_static_picture_and_a_sentence(make):
    pytest.importorskip("ipywidgets")
    import torch

    from course_utils import augment, kernels, widgets

    figures_before = plt.get_fignums()
    if make == "visualizer":
        box = widgets.conv_visualizer(size=6).box
    elif make == "playground":
        box = kernels.kernel_playground({"img": torch.rand(3, 16, 16)}).widget
    else:
        fig, box = augment.explorer(torch.rand(3, 16, 16), presets={"a": {}})
        plt.close(fig)
    bundle = box._repr_mimebundle_()
    assert VIEW in bundle, "still a live widget"
    assert _bundle_png(bundle).startswith(b"\x89PNG"), "no static picture"
    assert not re.match(r"(V|H)Box\(", bundle["text/plain"]) and "kernel" in bundle["text/plain"]
    assert plt.get_fignums() == figures_before, "the static picture left a figure open (it would show twice)"
    assert len(box.children) >= 2, "still an ordinary ipywidgets box"


def test_static_view_box_refuses_bad_arguments():
    pytest.importorskip("ipywidgets")
    from course_utils import widgets

    with pytest.raises(ValueError, match=r"kind='Grid' is not a known kind; choose one of \['VBox', 'HBox'\]"):
        widgets.static_view_box([], lambda: b"", "x", kind="Grid")
    with pytest.raises(TypeError, match="function returning a figure"):
        widgets.static_view_box([], b"png", "x")


# --------------------------------------------------------------------------- slides that fit a screen

def _png(width: int, height: int) -> str:
    import io

    fig = plt.figure(figsize=(width / 100, height / 100), dpi=100)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def test_exercise_headings_in_the_middle_of_a_cell_start_a_slide():
    from homework_tools import slidefit

    md = "## 4. Section\n\nText.\n\n```python\n# not a heading\n```\n\n### Exercise 2 (1 point): b\n\nTask.\n#### Hint\nx"
    assert slidefit.split_at_headings(md) == ["## 4. Section\n\nText.\n\n```python\n# not a heading\n```",
                                              "### Exercise 2 (1 point): b\n\nTask.", "#### Hint\nx"]
    nb = nbf.v4.new_notebook(cells=[nbf.v4.new_markdown_cell(md), nbf.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n"
                                                                                        "### END SOLUTION")])
    nb.cells[1].metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "96-ex2-code"}
    cells = slides.slide_notebook(nb).cells
    assert [c.metadata["slideshow"]["slide_type"] for c in cells] == ["slide", "subslide", "subslide", "fragment"]
    assert cells[3].source == "x = 1", "solution markers are left out"


def test_fit_cuts_slides_where_the_next_cell_would_not_fit():
    from homework_tools import slidefit

    long_text = "\n\n".join("A paragraph of prose that goes on for a while. " * 4 for _ in range(14))
    tall_picture = nbf.v4.new_output("display_data", data={"image/png": _png(1200, 500), "text/plain": "<Figure>"})
    cells = [nbf.v4.new_markdown_cell("## Title\n\n" + long_text),
             nbf.v4.new_code_cell("plot()\n" * 3, outputs=[tall_picture, copy_output(tall_picture)]),
             nbf.v4.new_code_cell("print(1)", outputs=[nbf.v4.new_output("stream", name="stdout", text="1\n")])]
    nb = slidefit.fit(slides.slide_notebook(nbf.v4.new_notebook(cells=cells)))
    kinds = [c.metadata["slideshow"]["slide_type"] for c in nb.cells]
    assert kinds[0] == "slide" and kinds.count("subslide") >= 3, kinds
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    assert len(markdown) >= 2 and "".join(c.source for c in markdown).count("A paragraph") == 56, "text lost"
    parts = [c for c in nb.cells if c.cell_type == "code" and "plot()" in c.source]
    assert len(parts) == 2 and [len(p.outputs) for p in parts] == [1, 1], "input + picture, then the other picture"
    assert slidefit.HIDE_INPUT in parts[1].metadata.tags and slidefit.HIDE_INPUT not in parts[0].metadata.get("tags", [])
    height = []
    for cell in nb.cells:  # every slide's estimated content fits
        if cell.metadata["slideshow"]["slide_type"] in ("slide", "subslide"):
            height.append(0.0)
        height[-1] += slidefit.cell_height(cell)
    assert max(height) <= slidefit.budget(), height


def copy_output(output):
    import copy

    return copy.deepcopy(output)


def test_picture_sizes_are_read_from_png_and_jpeg():
    import io

    from homework_tools import slidefit

    fig = plt.figure(figsize=(3, 2), dpi=100)
    buf = io.BytesIO()
    fig.savefig(buf, format="jpeg", dpi=100)
    plt.close(fig)
    jpeg = nbf.v4.new_output("display_data", data={"image/jpeg": base64.b64encode(buf.getvalue()).decode()})
    assert slidefit.image_size(jpeg) == (300, 200)
    png = nbf.v4.new_output("display_data", data={"image/png": _png(640, 480)})
    assert slidefit.image_size(png) == (640, 480)
    png.metadata = {"image/png": {"width": 320}}
    assert slidefit.image_size(png) == (320, 240), "a stored display width keeps the aspect ratio"
    assert slidefit.output_height(png) == pytest.approx(240 + 12)


def test_html_outputs_are_as_tall_as_their_tallest_table_text_box_or_drawing():
    from homework_tools import slidefit

    L = slidefit.LAYOUT
    table = "<table>" + "<tr><td>1</td></tr>" * 5 + "</table>"
    assert slidefit.html_height(table) == 5 * 34
    text = "<pre>" + "\n".join(["row"] * 40) + "</pre>"
    assert slidefit.html_height(text, "row\n" * 40) == L["output_max"], "a text box scrolls beyond its cap"
    # a layer table beside a tall drawing (notebook 11's wiring): the drawing sets the height, capped
    side = '<table><tr><td><pre>a\nb</pre></td><td><svg width="150pt" height="864pt"></svg></td></tr></table>'
    assert slidefit.html_height(side) == L["image_max"]
    small = '<svg width="90px" height="120px"></svg>'
    assert slidefit.html_height(small) == 120
    assert slidefit.html_height('<svg height="30pt"></svg>') == pytest.approx(40)
