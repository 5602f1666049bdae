"""The lecture slides (``make slides``) in Chromium, from files only, on a 1280x720 screen.

Every notebook's deck: reveal.js runs, every slide fits the screen (none taller than 720 px),
no text is smaller than 18 px, text outputs keep their lines whole (they scroll sideways instead
of wrapping), no solution marker or grading probe shows, every exercise heading starts its own
slide, and nothing is requested from the network (any such request is blocked and fails the
test). In notebook 03: the arrow keys step through every slide, formulas are typeset, the
convolution visualizer shows its picture with the note that its sliders appear when the
notebook runs, and the speaker view (``s``) opens from ``file://`` with the current and the
upcoming slide drawn in it.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from labserver import ROOT

NOTEBOOK = "03_conv_hyperparameters"
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SCREEN = {"width": 1280, "height": 720}
MIN_TEXT_PX = 17.5  # "no text smaller than about 18 px"

MEASURE = """() => { const slides = [];
  for (const s of Reveal.getSlides()) {
    const at = Reveal.getIndices(s); Reveal.slide(at.h, at.v);
    const small = [], walker = document.createTreeWalker(s, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const el = walker.currentNode.parentElement;
      if (!walker.currentNode.textContent.trim() || el.closest('mjx-container, svg, script, style')) continue;
      if (!el.getBoundingClientRect().width) continue;
      const px = parseFloat(getComputedStyle(el).fontSize) * Reveal.getScale();
      if (px < MIN_PX) small.push(px.toFixed(1) + 'px: ' + walker.currentNode.textContent.trim().slice(0, 40));
    }
    const headings = [...s.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => h.innerText.trim());
    slides.push({at: [at.h, at.v], height: s.scrollHeight, small: small.slice(0, 3), headings,
                 wrapped: [...s.querySelectorAll('.jp-OutputArea-output pre')]
                   .filter(p => getComputedStyle(p).whiteSpace !== 'pre').length,
                 text: s.innerText});
  }
  return {scale: Reveal.getScale(), slides}; }""".replace("MIN_PX", str(MIN_TEXT_PX))


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    """Every notebook's slides, built once by the command ``make slides`` runs."""
    folder = tmp_path_factory.mktemp("lecture")
    build = subprocess.run([sys.executable, str(ROOT / "tools" / "homework.py"), "--course-dir", str(folder),
                            "lecture"], capture_output=True, text=True, cwd=ROOT)
    assert build.returncode == 0, build.stderr
    return folder / "lecture"


def _open(new_page, html):
    page = new_page()
    page.set_viewport_size(SCREEN)
    page.goto(html.as_uri())
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30000)
    return page


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_slide_fits_a_1280x720_screen(new_page, decks, name):
    html = decks / f"{name}.slides.html"
    loaded = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html.read_text())
    assert loaded and all(url.startswith("vendor/") for url in loaded), loaded
    page = _open(new_page, html)
    page.wait_for_timeout(500)  # MathJax and the widget manager
    shown = page.evaluate(MEASURE)
    assert shown["scale"] == pytest.approx(1.0), "a 1280x720 screen shows the slides at their own size"
    slides = shown["slides"]
    assert len(slides) >= 10, f"only {len(slides)} slides"
    tall = [(s["at"], s["height"], s["headings"][:1]) for s in slides if s["height"] > SCREEN["height"]]
    assert not tall, f"slides taller than the screen: {tall}"
    small = [(s["at"], s["small"]) for s in slides if s["small"]]
    assert not small, f"text smaller than {MIN_TEXT_PX} px: {small[:5]}"
    assert not [s["at"] for s in slides if s["wrapped"]], "text outputs wrap (tables and words break)"
    text = "\n".join(s["text"] for s in slides)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "def probe(" not in text and "NBVAL_" not in text
    assert not re.search(r"\b[VH]Box\(", text), "a widget shows as its text repr"
    # an exercise heading, even in the middle of a markdown cell, starts a slide
    late = [(s["at"], h) for s in slides for i, h in enumerate(s["headings"]) if i and h.startswith("Exercise")]
    assert not late, f"exercise headings that do not start their slide: {late}"
    source = (ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8")
    exercises = len(set(re.findall(r"#+ Exercise (\d+)", source)))
    assert sum(1 for s in slides if s["headings"][:1] and s["headings"][0].startswith("Exercise")) == exercises


def test_slides_navigate_typeset_and_show_widget_pictures(new_page, decks, screenshots):
    page = _open(new_page, decks / f"{NOTEBOOK}.slides.html")
    page.screenshot(path=screenshots / "slides-title.png")
    total = page.evaluate("Reveal.getTotalSlides()")
    seen = set()
    for _ in range(6):  # the arrow key steps through every slide, continuation slides included
        before = page.evaluate("Reveal.getSlidePastCount()")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => Reveal.getSlidePastCount() === {before + 1}", timeout=5000)
        seen.add(tuple(page.evaluate("[Reveal.getIndices().h, Reveal.getIndices().v]")))
    assert len(seen) == 6 and total > 6
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => Reveal.getSlidePastCount() === 5", timeout=5000)
    page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0", timeout=20000)

    # the convolution visualizer's slide: its picture, and the note that its sliders appear when it runs
    slide = page.evaluate("""() => { const code = [...document.querySelectorAll('.reveal .jp-Cell')]
          .find(c => c.innerText.includes('conv_visualizer('));
        const sections = [...document.querySelectorAll('.reveal .slides section:not(.stack)')];
        const first = sections.indexOf(code.closest('section'));
        const pictures = sections.slice(first, first + 3).flatMap(s => [...s.querySelectorAll('.jp-OutputArea img')]);
        const note = sections.slice(first, first + 3).find(s => s.innerText.includes('sliders and menus appear'));
        const at = Reveal.getIndices(note); Reveal.slide(at.h, at.v);
        return {pictures: pictures.length, note: !!note,
                noteAfterPicture: !!note && note.querySelector('img') !== null}; }""")
    assert slide["pictures"] >= 1 and slide["note"] and slide["noteAfterPicture"], slide
    page.wait_for_timeout(500)
    page.screenshot(path=screenshots / "slides-visualizer.png")


def test_speaker_view_opens_from_file_with_previews(new_page, decks, screenshots):
    page = _open(new_page, decks / f"{NOTEBOOK}.slides.html")
    outside = []

    def route(r):  # the speaker window and its previews are pages of their own
        if r.request.url.startswith(("file:", "data:", "blob:", "about:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.context.route("**/*", route)
    try:
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        with page.expect_popup(timeout=10000) as popup:
            page.keyboard.press("s")
        speaker = popup.value
        speaker.set_viewport_size({"width": 1280, "height": 800})
        speaker.wait_for_function("() => document.querySelectorAll('iframe').length === 2", timeout=10000)
        frames = [f for f in speaker.frames if f != speaker.main_frame]
        here = page.evaluate("Reveal.getSlidePastCount()")
        for frame, offset in zip(sorted(frames, key=lambda f: "controls=false" in f.url), (0, 1)):
            frame.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=20000)
            frame.wait_for_function(f"() => Reveal.getSlidePastCount() === {here + offset}", timeout=10000)
            assert frame.evaluate("Reveal.getCurrentSlide().innerText.trim().length") > 20, "an empty preview"
        speaker.wait_for_timeout(800)
        speaker.screenshot(path=screenshots / "slides-speaker-view.png")
        speaker.close()
    finally:
        page.context.unroute("**/*", route)
    assert outside == [], f"requests outside file:// (blocked): {outside}"
