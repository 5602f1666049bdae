"""The course website's build (tools/website.py, site/): what a notebook page may show, folds, alt
text, launch links, the syllabus kept in one place, and a Sphinx build of a fixture notebook.
The real site is checked in a browser by tests/browser/test_site.py (make test-site)."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat as nbf
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import colab  # noqa: E402
import website  # noqa: E402

VIEW = "application/vnd.jupyter.widget-view+json"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()


def fixture_notebook() -> nbf.NotebookNode:
    """A notebook with one of everything the website treats specially."""
    cells = [
        nbf.v4.new_markdown_cell("# 96 · Fixture\n\nIntro with $x^2$.\n\n## A section"),
        nbf.v4.new_markdown_cell("The curve below climbs. It keeps climbing."),
        nbf.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nplot()"),
        nbf.v4.new_markdown_cell("### Exercise 1 (1 point): answer\n\nReturn 42."),
        nbf.v4.new_code_cell("def answer():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION"),
        nbf.v4.new_code_cell("assert answer() == 42\n### BEGIN HIDDEN TESTS\ndef probe(seed):\n    SECRET_PROBE = 1\n"
                             "### END HIDDEN TESTS"),
        nbf.v4.new_markdown_cell("## Hints\n\nTry *the* answer to everything."),
        nbf.v4.new_markdown_cell("1. Why 42? The question."),
        nbf.v4.new_code_cell("viz"),
        nbf.v4.new_code_cell("two()"),
    ]
    cells[2].outputs = [nbf.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure size 10x10>"})]
    cells[4].metadata["nbgrader"] = {"grade": False, "grade_id": "96-ex1-code", "locked": False, "schema_version": 3,
                                     "solution": True, "task": False}
    cells[5].metadata["nbgrader"] = {"grade": True, "grade_id": "96-ex1-test", "locked": True, "points": 1,
                                     "schema_version": 3, "solution": False, "task": False}
    cells[6].metadata["course"] = {"hints": "96-ex1"}
    cells[7].metadata["course"] = {"answers": ["the question"]}
    cells[8].outputs = [nbf.v4.new_output("display_data", data={
        VIEW: {"model_id": "m1", "version_major": 2, "version_minor": 0}, "image/png": PNG,
        "text/plain": "Convolution visualizer (sliders). The picture shows its current setting."})]
    cells[9].metadata["alt"] = ["left picture", "right picture"]
    cells[9].outputs = [nbf.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})
                        for _ in range(2)]
    return nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                     "language": "python"}})


def test_a_page_shows_no_probe_no_marker_and_folds_what_must_be_asked_for():
    nb = nbf.reads(json.dumps(colab.with_setup_cell(fixture_notebook(), "print('colab')")), as_version=4)
    page = website.site_notebook(nb)
    text = "\n".join(c.source for c in page.cells)
    assert "SECRET_PROBE" not in text and "HIDDEN TESTS" not in text and "SOLUTION" not in text
    assert "NBVAL" not in text and "print('colab')" not in text
    assert "return 42" in text and "assert answer() == 42" in text
    folds = {i: c.metadata.get("course_site", {}).get("fold") for i, c in enumerate(page.cells)}
    solution = next(c for c in page.cells if "return 42" in c.source)
    assert solution.metadata["course_site"]["fold"] == "solution"
    assert sum(1 for f in folds.values() if f) == 1, "only the solution code cell is folded by metadata"
    hints = next(c for c in page.cells if "the* answer" in c.source)
    assert re.match(r"^```+\{course-fold\} hints\n\*\*Hints\*\*\n", hints.source), hints.source
    assert next(c for c in page.cells if "Why 42" in c.source).source.startswith("```{course-fold} answers")
    assert any(c.metadata.get("course", {}).get("setup") for c in nb.cells), "the source notebook must stay untouched"


def test_every_picture_gets_alt_text():
    page = website.site_notebook(fixture_notebook())
    alts = [c.metadata.get("course_site", {}).get("alt") for c in page.cells if c.cell_type == "code"]
    assert alts[0] == ["Figure: The curve below climbs."], "the caption above the figure"
    assert alts[3] == ["Convolution visualizer (sliders). The picture shows its current setting."]
    assert alts[4] == ["left picture", "right picture"], "the cell's own alt metadata wins"
    widget = next(c for c in page.cells if c.source == "viz")
    assert VIEW not in widget.outputs[0]["data"], "the static picture, not the live widget"
    assert "appear when the notebook runs" in widget.outputs[1]["data"]["text/markdown"]


def test_links_to_repository_files_with_a_page_point_at_the_page():
    nb = nbf.v4.new_notebook(cells=[nbf.v4.new_markdown_cell(
        "held-out seeds ([CLAIMS.md](../CLAIMS.md)), data in [data](../data/README.md), [x](../tools/x.py)")])
    text = website.site_notebook(nb).cells[0].source
    assert "](../claims.md)" in text and "](../data.md)" in text and "](../tools/x.py)" in text, text


def test_course_settings_are_checked(tmp_path):
    course = website.read_course()
    assert [lesson.notebook for lesson in course.syllabus] == [p.stem for p in sorted(
        (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))], "site/course.toml's syllabus lists every notebook in order"
    good = (website.COURSE_FILE).read_text()
    cases = {"x = [": "not valid TOML", good.replace('branch = "main"', ""): r"\[repository\] table",
             good.replace("minutes = 90", 'minutes = "90"', 1): "entry 2 must have",
             good.replace("https://github.com/your-org/convnets-course", "https://gitlab.com/x/y"): "github.com/OWNER"}
    for text, message in cases.items():
        path = tmp_path / "course.toml"
        path.write_text(text)
        with pytest.raises(ValueError, match=message):
            website.read_course(path)
    with pytest.raises(ValueError, match="is missing"):
        website.read_course(tmp_path / "nothing.toml")


def test_launch_links_come_from_one_setting():
    course = dataclasses.replace(website.read_course(), url="https://github.com/acme/cnn", branch="fall-2026")
    links = website.launch_links(course, "03_conv_hyperparameters", hub="https://hub.example.edu/")
    assert links["colab"] == ("https://colab.research.google.com/github/acme/cnn/blob/fall-2026/"
                              "notebooks/03_conv_hyperparameters.ipynb")
    assert links["binder"] == ("https://mybinder.org/v2/gh/acme/cnn/fall-2026?urlpath="
                               "lab/tree/notebooks/03_conv_hyperparameters.ipynb")
    hub = urlsplit(links["jupyterhub"])
    assert hub.netloc == "hub.example.edu" and hub.path == "/hub/user-redirect/git-pull"
    assert parse_qs(hub.query) == {"repo": ["https://github.com/acme/cnn"], "branch": ["fall-2026"],
                                   "urlpath": ["lab/tree/cnn/notebooks/03_conv_hyperparameters.ipynb"]}


def test_readme_syllabus_is_generated_from_course_toml():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert website.readme_with_syllabus(readme, website.read_course()) == readme, (
        "README.md's syllabus differs from site/course.toml: run `python tools/website.py syllabus`")
    changed = dataclasses.replace(website.read_course(), syllabus=website.read_course().syllabus[:1])
    assert "10_detection_keypoints" not in website.readme_with_syllabus(readme, changed)
    with pytest.raises(ValueError, match="no syllabus markers"):
        website.readme_with_syllabus("# README\n", changed)


def test_fixture_site_builds_with_folds_alt_text_and_no_probe(tmp_path):
    pytest.importorskip("myst_nb", reason="the site extra: pip install -e '.[site]'")
    folder = tmp_path / "notebooks"
    folder.mkdir()
    path = folder / "96_fixture.ipynb"
    nbf.write(fixture_notebook(), path)
    colab.insert([path])  # the site builds with the Colab setup cell too (and leaves it out)
    course = dataclasses.replace(website.read_course(), syllabus=(website.Lesson("96_fixture", "fixture", "x", 1),))
    index = website.build(tmp_path / "site", folder, course)
    page = (index.parent / "notebooks" / "96_fixture.html").read_text(encoding="utf-8")
    for kind in ("solution", "hints", "answers"):
        assert re.search(rf'<details class="course-fold course-fold-{kind}"><summary><span class="course-show">'
                         rf"Show {kind}</span>", page), kind
    assert "SECRET_PROBE" not in page and "SOLUTION" not in page and "google.colab" not in page
    assert page.count('alt="left picture"') == 1 and 'alt="Figure: The curve below climbs."' in page
    assert 'class="course-colab" href="https://colab.research.google.com/github/' in page
    assert "cdn." not in page and "https://" not in "".join(re.findall(r'<script[^>]*src="[^"]*"', page))
    assert (index.parent / "_static" / "vendor" / "mathjax" / "es5" / "tex-svg-full.js").is_file()
    problems, checked = website.check_links(index.parent)
    assert not problems and checked > 20, problems


def test_link_check_finds_missing_files_and_anchors(tmp_path):
    (tmp_path / "a.html").write_text('<h1 id="top">A</h1><a href="b.html#here">b</a><a href="#top">t</a>'
                                     '<a href="c.html">c</a><a href="b.html#nowhere">x</a><a href="https://x.org">o</a>')
    (tmp_path / "b.html").write_text('<p id="here">B</p>')
    problems, checked = website.check_links(tmp_path)
    assert checked == 4
    assert problems == ["a.html: c.html (no such file)", "a.html: b.html#nowhere (no #nowhere in b.html)"]
