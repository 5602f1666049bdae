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

    with pytest.raises(ValueError, match="'VBox' or 'HBox'"):
        widgets.static_view_box([], lambda: b"", "x", kind="Grid")
    with pytest.raises(TypeError, match="function returning a figure"):
        widgets.static_view_box([], b"png", "x")
