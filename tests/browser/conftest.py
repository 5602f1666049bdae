"""The real-browser suite: JupyterLab (both views) and the offline slides, driven in headless Chromium.

Run it with ``make test-browser`` (it installs Debian's ``chromium`` when missing, as root).
Each test module starts its own JupyterLab server through ``tools/lab.py`` (the same
command ``make lab`` / ``make instructor`` run) on a free port, with a private Jupyter
config, data and runtime folder (your ``~/.jupyter`` is neither read nor written), in quick
mode, and stops it (and its kernels) at the end. Notebooks run in copies: ``notebooks/``
is never written, which the session checks at the end.

Screenshots go to ``build/screenshots/`` (``$CONVNETS_SCREENSHOTS`` moves them).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from labserver import NOTEBOOKS, ROOT

SCREENSHOTS = Path(os.environ.get("CONVNETS_SCREENSHOTS") or ROOT / "build" / "screenshots")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    """Debian's Chromium (``$CONVNETS_CHROMIUM`` to use another build); Playwright's own download is not used."""
    path = os.environ.get("CONVNETS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.exit("the browser suite needs Chromium: install Debian's `chromium` package "
                    "(`make test-browser` does it as root: apt-get install chromium)", returncode=2)
    return path


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _git_status() -> str | None:
    """``git status`` of the repository (None outside a git checkout)."""
    try:
        done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


@pytest.fixture(scope="session", autouse=True)
def notebooks_untouched():
    """The tracked notebooks are never written by any view, and ``git status`` is as it was
    (learners edit, save and rebuild their workspace; nothing tracked or unignored appears)."""
    before, status = _tree_digest(NOTEBOOKS), _git_status()
    yield
    assert _tree_digest(NOTEBOOKS) == before, "the browser suite changed files in notebooks/"
    assert _git_status() == status, f"git status changed during the browser suite:\n{_git_status()}"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """One headless Chromium with an empty profile, for the whole session."""
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")
    with playwright.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=chromium_path(), headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 1000})
        yield context
        context.close()


class PageProblems:
    """Console errors, uncaught exceptions and requests that left the machine, seen by one page."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

        def route(r):
            url = r.request.url
            if url.startswith(("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "file:", "data:", "blob:")):
                r.continue_()
            else:
                self.outside.append(url)
                r.abort()

        page.route("**/*", route)

    def check(self) -> None:
        assert not self.outside, f"the page tried to reach the network: {self.outside[:5]}"
        assert not self.errors, "browser console errors:\n" + "\n".join(self.errors[:10])


@pytest.fixture
def new_page(browser):
    """Open pages that must end the test with no console error and no request to the network."""
    opened = []

    def make():
        page = browser.new_page()
        opened.append((page, PageProblems(page)))
        return page

    yield make
    try:
        for _page, problems in opened:
            problems.check()
    finally:
        for page, _ in opened:
            page.close()
