"""The lecture slides (``make slides``) in Chromium, from files only: reveal.js runs, arrow keys
move between slides, formulas are typeset, widget cells show a picture and the widget manager
draws the widgets from their saved state, long code lines wrap,
and nothing is requested from the network (any such request is blocked and fails the test)."""

from __future__ import annotations

import subprocess
import sys

from labserver import ROOT

NOTEBOOK = "03_conv_hyperparameters"


def test_offline_slides_render_and_navigate(new_page, tmp_path, screenshots):
    build = subprocess.run([sys.executable, str(ROOT / "tools" / "homework.py"), "--course-dir", str(tmp_path),
                            "lecture", str(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb")],
                           capture_output=True, text=True, cwd=ROOT)
    assert build.returncode == 0, build.stderr
    html = tmp_path / "lecture" / f"{NOTEBOOK}.slides.html"
    assert "https://" not in "".join(line for line in html.read_text().splitlines() if "<script src" in line)

    page = new_page()
    page.goto(html.as_uri())
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30000)
    total = page.evaluate("Reveal.getTotalSlides()")
    assert total >= 5, f"only {total} slides"
    page.wait_for_timeout(500)
    page.screenshot(path=screenshots / "slides-title.png")

    for key, expected in [("ArrowRight", 1), ("ArrowRight", 2), ("ArrowLeft", 1)]:
        page.keyboard.press(key)
        page.wait_for_function(f"() => Reveal.getIndices().h === {expected}", timeout=5000)

    page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0", timeout=20000)
    wrapped = page.evaluate("""() => [...document.querySelectorAll('.reveal pre')].every(
        p => getComputedStyle(p).whiteSpace === 'pre-wrap')""")
    assert wrapped, "code lines do not wrap"

    # the convolution visualizer's slide: a picture (its static figure, or the widget from saved state)
    slide = page.evaluate("""() => { const code = [...document.querySelectorAll('.reveal .jp-Cell')]
          .find(c => c.innerText.includes('conv_visualizer('));
        const out = code.querySelector('.jp-OutputArea-output');
        const s = Reveal.getIndices(code.closest('section')); Reveal.slide(s.h, s.v); code.scrollIntoView();
        return {h: s.h, images: out.querySelectorAll('img').length}; }""")
    assert slide["images"] >= 1, f"the visualizer's slide shows no picture: {slide}"
    # an output kept as a widget (no static twin stored) is drawn by the vendored widget manager,
    # offline, from the saved state: its sliders are there
    page.wait_for_function("""() => { const out = [...document.querySelectorAll('.reveal .jp-Cell')]
          .find(c => c.innerText.includes('conv_visualizer(')).querySelector('.jp-OutputArea-output');
        return !out.querySelector('script[type="application/vnd.jupyter.widget-view+json"]')
          || out.querySelectorAll('.widget-slider').length >= 4; }""", timeout=10000)
    page.wait_for_timeout(800)
    page.screenshot(path=screenshots / "slides-visualizer.png")
