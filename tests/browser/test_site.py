"""The course website (``make site``) in Chromium, opened from ``file://`` with the network blocked.

Every page: no request leaves ``file://`` (each one is blocked and counted: none allowed), no
console error, every picture decodes and has alt text, no widget shows as ``VBox(...)`` text,
headings go down one level at a time, and axe-core (vendored) finds no serious or critical
accessibility problem. Besides: a solution stays folded until its control is clicked; search
finds notebook 03 for "dilation"; next/previous links walk the syllabus; each notebook page's
Colab and Binder links open that notebook; a notebook page prints to PDF with its figures.
Screenshots go to ``build/screenshots/site-*.png``.

The site is ``$CONVNETS_SITE`` when set (``make test-site`` builds ``build/site`` first and sets
it), else it is built here into a temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from labserver import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import website  # noqa: E402

AXE = ROOT / "vendor" / "axe-core" / "axe.min.js"
COURSE = website.read_course()
NOTEBOOKS = [lesson.notebook for lesson in COURSE.syllabus]
PAGES = ["index", "search", "genindex", *(f"notebooks/{n}" for n in NOTEBOOKS), *website.GUIDE_PAGES]
WIDGET_PAGES = ["02_image_kernels", "03_conv_hyperparameters", "06_data_augmentation"]
VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    given = os.environ.get("CONVNETS_SITE")
    if given:
        assert (Path(given) / "index.html").is_file(), f"CONVNETS_SITE={given} has no index.html (run make site)"
        return Path(given)
    pytest.importorskip("sphinx", reason="pip install -e '.[site]' (make site installs it)")
    out = tmp_path_factory.mktemp("website") / "site"
    website.build(out)
    return out


def _open(new_page, site: Path, name: str, query: str = ""):
    """A page of the site, every request outside file:// blocked and recorded in ``page.outside``."""
    page = new_page()
    outside: list[str] = []

    def route(r):
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)  # runs before the suite's own route (which allows localhost)
    page.outside = outside
    page.goto((site / f"{name}.html").as_uri() + query)
    page.wait_for_load_state("load")
    return page


@pytest.mark.parametrize("name", PAGES)
def test_page_works_offline_and_is_accessible(new_page, site, name):
    page = _open(new_page, site, name)
    # pictures: decoded (load lazy ones too) and described
    page.evaluate("() => document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=20000)
    images = page.evaluate("() => [...document.images].map(i => ({src: i.src.split('/').pop(), "
                           "w: i.naturalWidth, alt: i.getAttribute('alt')}))")
    assert not [i for i in images if not i["w"]], f"pictures that do not decode: {images}"
    assert not [i for i in images if not (i["alt"] or "").strip()], f"pictures without alt text: {images}"
    text = page.inner_text("main")
    outputs = " ".join(page.locator(".cell_output").all_inner_texts())
    assert not re.search(r"\b[VH]Box\(", outputs), "a widget shows as its text repr"
    if name.startswith("notebooks/"):  # (the authoring guide explains the markers)
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "def probe(" not in text
    levels = page.evaluate("() => [...document.querySelectorAll('main article h1, main article h2, "
                           "main article h3, main article h4, main article h5, main article h6')]"
                           ".map(h => +h.tagName[1])")
    assert not [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1], f"a heading level is skipped: {levels}"
    if name.startswith("notebooks/"):
        assert levels and levels[0] == 1 and levels.count(1) == 1, f"one title per page: {levels}"
        if name.split("/")[1] in WIDGET_PAGES:  # MathJax and the widget manager have had their go
            page.wait_for_timeout(1000)
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations'], preload: false})).violations
        .filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
    assert not violations, f"accessibility (axe-core): {violations}"
    assert page.outside == [], f"requests outside file:// (blocked): {page.outside}"


def test_launch_links_open_each_notebook(site):
    owner, repo = COURSE.github
    for name in NOTEBOOKS:
        html = (site / "notebooks" / f"{name}.html").read_text(encoding="utf-8")
        colab = re.search(r'class="course-colab" href="([^"]+)"', html).group(1)
        binder = re.search(r'class="course-binder" href="([^"]+)"', html).group(1).replace("&amp;", "&")
        assert colab == (f"https://colab.research.google.com/github/{owner}/{repo}/blob/{COURSE.branch}"
                         f"/notebooks/{name}.ipynb"), colab
        parts = urlsplit(binder)
        assert parts.path == f"/v2/gh/{owner}/{repo}/{COURSE.branch}", binder
        assert parse_qs(parts.query)["urlpath"] == [f"lab/tree/notebooks/{name}.ipynb"], binder
        assert (ROOT / unquote(parse_qs(parts.query)["urlpath"][0]).removeprefix("lab/tree/")).is_file()


def test_internal_links_and_anchors_resolve(site):
    problems, checked = website.check_links(site)
    assert checked > 500, f"only {checked} internal links checked"
    assert not problems, "broken links:\n" + "\n".join(problems[:20])


def test_solution_is_folded_until_asked_for(new_page, site, screenshots):
    page = _open(new_page, site, "notebooks/03_conv_hyperparameters")
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.screenshot(path=screenshots / "site-notebook.png")
    fold = page.locator("details.course-fold-solution").first
    code = fold.locator("pre").first
    assert fold.locator("summary").inner_text().strip() == "Show solution"
    assert not code.is_visible(), "the reference answer shows before it is asked for"
    fold.locator("summary").click()
    code.wait_for(state="visible", timeout=5000)
    assert "return" in code.inner_text()
    assert fold.locator("summary").inner_text().strip() == "Hide solution"
    fold.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -250)")
    page.screenshot(path=screenshots / "site-solution.png")
    # every exercise of the page has its folded solution
    headings = page.locator("main h3", has_text=re.compile(r"^Exercise \d+")).count()
    assert page.locator("details.course-fold-solution").count() >= headings >= 3


def test_search_finds_dilation_in_notebook_03(new_page, site):
    page = _open(new_page, site, "search", "?q=dilation")
    page.wait_for_function("() => document.querySelectorAll('#search-results ul.search li').length > 0",
                           timeout=20000)
    hits = page.evaluate("() => [...document.querySelectorAll('#search-results ul.search li a')]"
                         ".map(a => a.getAttribute('href'))")
    assert any("notebooks/03_conv_hyperparameters.html" in h for h in hits), hits


def test_next_and_previous_follow_the_syllabus(new_page, site, screenshots):
    page = _open(new_page, site, "index")
    page.screenshot(path=screenshots / "site-home.png")
    seen = []
    for _ in NOTEBOOKS:
        page.locator("a.right-next").click()
        page.wait_for_load_state("load")
        seen.append(Path(urlsplit(page.url).path).stem)
    assert seen == NOTEBOOKS
    back = []
    for _ in NOTEBOOKS[:-1]:
        page.locator("a.left-prev").click()
        page.wait_for_load_state("load")
        back.append(Path(urlsplit(page.url).path).stem)
    assert back == NOTEBOOKS[-2::-1]
    assert page.outside == []


@pytest.mark.parametrize("name", WIDGET_PAGES)
def test_widget_cells_show_a_picture_or_the_widget(new_page, site, name):
    nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    views = [o["data"] for c in nb["cells"] for o in c.get("outputs", []) if VIEW in o.get("data", {})]
    twins = sum(any(k.startswith("image/") for k in d) for d in views)
    page = _open(new_page, site, f"notebooks/{name}")
    page.wait_for_function(f"() => document.querySelectorAll('.cell_output .jupyter-widgets').length >= "
                           f"{len(views) - twins}", timeout=10000)  # the rest, drawn from their saved state
    shown = page.evaluate("""() => ({
        notes: [...document.querySelectorAll('.cell_output')].filter(o => o.innerText.includes(
            'appear when the notebook runs')).map(o => o.closest('div.cell').querySelectorAll('img').length),
        undrawn: [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
            .filter(s => !s.parentElement.querySelector('.jupyter-widgets')).length})""")
    assert views, f"{name} has no widget output any more: update WIDGET_PAGES"
    assert len(shown["notes"]) == twins and all(shown["notes"]), f"each widget's picture with its note: {shown}"
    assert shown["undrawn"] == 0, f"widget views not drawn from the saved state: {shown}"
    outputs = " ".join(page.locator(".cell_output").all_inner_texts())
    assert not re.search(r"\b[VH]Box\(|FileUpload\(", outputs), "a widget shows as its text repr"


def test_notebook_page_prints_with_its_figures(new_page, site, tmp_path):
    page = _open(new_page, site, "notebooks/03_conv_hyperparameters")
    page.emulate_media(media="print")
    shown = page.evaluate("""() => [...document.querySelectorAll('main img')].map(i => {
        const r = i.getBoundingClientRect(); return {w: r.width, h: r.height, right: r.right}; })""")
    width = page.evaluate("() => document.documentElement.clientWidth")
    assert shown and all(s["w"] > 50 and s["h"] > 20 and s["right"] <= width + 1 for s in shown), shown
    assert not page.locator(".bd-sidebar-primary").is_visible(), "the navigation is printed"
    pdf = page.pdf(format="A4", print_background=True)
    (tmp_path / "03.pdf").write_bytes(pdf)
    images = len(re.findall(rb"/Subtype\s*/Image", pdf))
    assert images >= len(shown), f"the PDF has {images} pictures, the page {len(shown)}"
