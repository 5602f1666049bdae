"""The course website: a static Sphinx + myst-nb site built from the notebooks' stored outputs.

    python tools/website.py build [--out build/site] [--notebooks notebooks]   # what `make site` runs
    python tools/website.py links [--hub https://hub.example.edu]               # launch links per notebook
    python tools/website.py syllabus [--check]                                  # README's syllabus table

``build`` stages the site's sources in ``build/site-src/`` (the pages of ``site/``, a processed copy
of every notebook, the instructor guide and the data and licence pages taken from the README,
``notebooks/AUTHORING.md``, ``data/README.md`` and ``vendor/README.md``) and runs Sphinx with
``site/conf.py``; nothing is executed (myst-nb renders the stored outputs). Each notebook page:

* shows what an audience may see (:func:`homework_tools.present.public_notebook`: no grading
  probes, no solution markers, a widget's static picture with a note);
* folds reference solutions, hints and questionnaire answers behind a "Show ..." control
  (a ``<details>`` element: no script needed);
* gives every figure alt text: the cell's ``metadata["alt"]`` (a string, or a list with one
  entry per picture), else the output's own description (a widget's sentence), else the caption
  above the figure in the notebook's prose;
* links to the notebook in Colab and Binder, from ``site/course.toml``.

The site loads nothing from the network: MathJax and the Jupyter widget manager come from the
checksummed ``vendor/`` folder (copied into ``_static/vendor/``), search is Sphinx's own index.
The Sphinx side (folds, alt text, launch links, vendor files) is ``site/course_site.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import shutil
import sys
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from homework_tools.present import fold_kind, public_notebook  # noqa: E402

SITE = ROOT / "site"
COURSE_FILE = SITE / "course.toml"
DEFAULT_OUT = ROOT / "build" / "site"
SYLLABUS_BEGIN = "<!-- syllabus: generated from site/course.toml by `python tools/website.py syllabus` -->"
SYLLABUS_END = "<!-- end of syllabus -->"
# packages of vendor/ the site needs (reveal.js and axe-core are for the slides and the tests)
SITE_VENDOR = ("mathjax", "@jupyter-widgets/html-manager")
FOLD_TITLES = {"solution": "solution", "hints": "hints", "answers": "answers"}
# pages taken from other files: page name -> (title, source file, README section or None)
GUIDE_PAGES = {
    "instructors": ("For instructors: homework and grading", "README.md", "For instructors"),
    "launch": ("The website, Colab, Binder and JupyterHub", "README.md", "The website, Colab"),
    "authoring": (None, "notebooks/AUTHORING.md", None),
    "data": (None, "data/README.md", None),
    "licences": (None, "vendor/README.md", None),
    "claims": (None, "CLAIMS.md", None),
}
# links in those files that become links between pages of the site
_PAGE_OF_FILE = {"README.md": "index.md", **{file: f"{page}.md" for page, (_, file, section) in GUIDE_PAGES.items()
                                             if section is None}}


# --------------------------------------------------------------------------- course.toml

@dataclasses.dataclass(frozen=True)
class Lesson:
    """One notebook of the syllabus."""

    notebook: str  # file stem, e.g. "03_conv_hyperparameters"
    title: str  # short title, e.g. "Conv2d hyperparameters"
    outcome: str  # "after it you can ..." (markdown)
    minutes: int  # time a learner needs


@dataclasses.dataclass(frozen=True)
class Course:
    """What ``site/course.toml`` says: where the course is published and its syllabus."""

    url: str  # the public repository, e.g. https://github.com/org/convnets-course
    branch: str  # the branch every launch link opens
    syllabus: tuple[Lesson, ...]

    @property
    def github(self) -> tuple[str, str]:
        """``(owner, name)`` of the repository on GitHub (Colab and Binder need a GitHub URL)."""
        parts = urlsplit(self.url)
        path = [p for p in parts.path.split("/") if p]
        if parts.netloc != "github.com" or len(path) != 2:
            raise ValueError(f"site/course.toml: repository url must be https://github.com/OWNER/NAME for the Colab "
                             f"and Binder links, got {self.url!r}")
        return path[0], path[1].removesuffix(".git")


def toml(text: str) -> dict:
    """Parse TOML (``tomllib``; ``tomli`` on Python 3.10)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads(text)


def read_course(path: Path | str = COURSE_FILE) -> Course:
    """Read ``site/course.toml``.

    Raises:
        ValueError: the file is missing, not TOML, or a setting is missing or of the wrong type
            (the message names it).
    """
    path = Path(path)
    try:
        data = toml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path} is missing (restore it with `git checkout -- {path.name}`)") from None
    except ValueError as err:  # tomllib.TOMLDecodeError
        raise ValueError(f"{path} is not valid TOML: {err}") from None
    repo = data.get("repository")
    if not isinstance(repo, dict) or not all(isinstance(repo.get(k), str) and repo[k] for k in ("url", "branch")):
        raise ValueError(f"{path}: expected a [repository] table with `url` and `branch` strings, got {repo!r}")
    lessons = []
    for i, entry in enumerate(data.get("syllabus") or []):
        fields = {f.name: f.type for f in dataclasses.fields(Lesson)}
        if not isinstance(entry, dict) or set(entry) != set(fields) or not all(
                isinstance(entry[k], int if fields[k] == "int" else str) for k in fields):
            raise ValueError(f"{path}: [[syllabus]] entry {i + 1} must have exactly notebook, title, outcome "
                             f"(strings) and minutes (an int), got {entry!r}")
        lessons.append(Lesson(**entry))
    if not lessons:
        raise ValueError(f"{path}: no [[syllabus]] entries")
    course = Course(url=repo["url"].rstrip("/"), branch=repo["branch"], syllabus=tuple(lessons))
    course.github  # noqa: B018  (fails here, naming the setting, rather than in a link)
    return course


def launch_links(course: Course, notebook: str, hub: str | None = None) -> dict[str, str]:
    """Where one notebook opens: ``{"colab": ..., "binder": ..., "jupyterhub": ...}`` (the last with ``hub``).

    Args:
        course: from :func:`read_course`.
        notebook: the file stem, e.g. ``"03_conv_hyperparameters"``.
        hub: a JupyterHub's address for an nbgitpuller link (it clones the repository into the
            learner's home folder, or updates it without overwriting their changes, then opens the notebook).
    """
    owner, name = course.github
    path = f"notebooks/{notebook}.ipynb"
    links = {"colab": f"https://colab.research.google.com/github/{owner}/{name}/blob/{course.branch}/{path}",
             "binder": f"https://mybinder.org/v2/gh/{owner}/{name}/{course.branch}?urlpath={quote(f'lab/tree/{path}')}"}
    if hub:
        query = urlencode({"repo": course.url, "branch": course.branch, "urlpath": f"lab/tree/{name}/{path}"})
        links["jupyterhub"] = f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"
    return links


def syllabus_table(course: Course) -> str:
    """The syllabus as a markdown table (README and home page); links point at ``notebooks/NN_x.ipynb``."""
    rows = ["| # | notebook | after it you can | time |", "|---|---|---|---|"]
    for lesson in course.syllabus:
        number = lesson.notebook.split("_", 1)[0]
        rows.append(f"| {number} | [{lesson.title}](notebooks/{lesson.notebook}.ipynb) | {lesson.outcome} "
                    f"| {lesson.minutes}\u00a0min |")  # (a no-break space: "10 min" stays on one line)
    total = sum(lesson.minutes for lesson in course.syllabus)
    return "\n".join(rows) + f"\n\nIn all about {total // 60} h {total % 60:02d} min of study.\n"


def readme_with_syllabus(readme: str, course: Course) -> str:
    """The README text with the generated syllabus table between its markers."""
    start, end = readme.find(SYLLABUS_BEGIN), readme.find(SYLLABUS_END)
    if start < 0 or end < start:
        raise ValueError(f"README.md has no syllabus markers: put {SYLLABUS_BEGIN!r} and {SYLLABUS_END!r} where the "
                         "syllabus table goes")
    return readme[:start] + SYLLABUS_BEGIN + "\n" + syllabus_table(course) + readme[end:]


# --------------------------------------------------------------------------- notebooks as pages

_FIGURE_REPR = re.compile(r"^<(Figure|matplotlib|IPython)[^>]*>$")


def _plain_words(markdown: str) -> str:
    """Markdown prose as plain words: no markup, links as their text, math as written."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"[*_`#>]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _caption_above(cells, index: int) -> str:
    """The last paragraph of the nearest markdown cell above ``index``, as one short sentence."""
    for cell in reversed(cells[:index]):
        if cell.cell_type == "markdown":
            paragraphs = [p for p in re.split(r"\n\s*\n", cell.source) if p.strip() and not p.lstrip().startswith("#")]
            if paragraphs:
                words = _plain_words(paragraphs[-1])
                sentence = re.split(r"(?<=[.!?:])\s", words, maxsplit=1)[0]
                return sentence if len(sentence) <= 200 else sentence[:197].rstrip() + "..."
    return ""


def figure_alts(cells, index: int) -> list[str]:
    """Alt text for each picture output of cell ``index`` (see the module docstring)."""
    cell = cells[index]
    given = cell.metadata.get("alt")
    pictures = [o for o in cell.get("outputs", []) if any(k.startswith("image/") for k in o.get("data", {}))]
    alts = []
    for n, output in enumerate(pictures):
        if isinstance(given, list) and n < len(given) and given[n]:
            alts.append(str(given[n]))
            continue
        if isinstance(given, str) and given:
            alts.append(given if len(pictures) == 1 else f"{given} ({n + 1} of {len(pictures)})")
            continue
        described = output.get("data", {}).get("text/plain", "")
        described = "".join(described) if isinstance(described, list) else described
        if described and not _FIGURE_REPR.match(described.strip()):
            alts.append(described.strip())
            continue
        caption = _caption_above(cells, index) or "a figure made by the code above"
        alts.append(f"Figure: {caption}" + (f" (picture {n + 1} of {len(pictures)})" if len(pictures) > 1 else ""))
    return alts


def _fence(text: str) -> str:
    """A backtick fence longer than any run of backticks in ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def site_notebook(nb):
    """The notebook as its page shows it (a new node): public, folds marked, alt text attached.

    Code cells to fold get ``metadata["course_site"]["fold"]``; markdown cells to fold are wrapped
    in a ``course-fold`` directive (their headings become bold lines: a fold holds no section).
    """
    nb = public_notebook(nb)
    for index, cell in enumerate(nb.cells):
        site = {}
        kind = fold_kind(cell)
        if kind and cell.cell_type == "markdown":
            body = re.sub(r"^#+\s+(.*)$", r"**\1**", cell.source, flags=re.MULTILINE)
            fence = _fence(body)
            cell.source = f"{fence}{{course-fold}} {kind}\n{body}\n{fence}"
        elif kind:
            site["fold"] = kind
        if cell.cell_type == "code":
            alts = figure_alts(nb.cells, index)
            if alts:
                site["alt"] = alts
        if cell.cell_type == "markdown":  # links to the repository's files that are pages of the site
            cell.source = re.sub(r"\]\(\.\./([^)#\s]+)", lambda m: f"](../{_PAGE_OF_FILE.get(m.group(1), m.group(1))}",
                                 cell.source)
        if site:
            cell.metadata["course_site"] = site
    return nb


# --------------------------------------------------------------------------- staging

def _section(markdown: str, heading: str) -> str:
    """The ``## heading`` section of a markdown file (the heading's text starts with ``heading``)."""
    lines = markdown.split("\n")
    start = next((i for i, line in enumerate(lines) if re.match(rf"^##\s+{re.escape(heading)}", line)), None)
    if start is None:
        raise ValueError(f"README.md has no section '## {heading}...' (the website shows it)")
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"^##?\s", lines[i])), len(lines))
    return "\n".join(lines[start + 1:end]).strip() + "\n"


def _site_links(markdown: str, course: Course, notebooks: set[str]) -> str:
    """Rewrite relative links of a repository file: pages of the site, or the file in the repository."""
    def link(match: re.Match) -> str:
        text, target = match.group(1), match.group(2)
        if re.match(r"^[a-z]+:|^#", target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        if path in _PAGE_OF_FILE:
            return f"[{text}]({_PAGE_OF_FILE[path]}{'#' + anchor if anchor else ''})"
        stem = Path(path).stem
        if path.startswith("notebooks/") and path.endswith(".ipynb") and stem in notebooks:
            return match.group(0)
        return f"[{text}]({course.url}/blob/{course.branch}/{path})"
    return re.sub(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)", link, markdown)


def stage(stage_dir: Path, notebooks_dir: Path, course: Course) -> list[str]:
    """Write the site's sources into ``stage_dir`` (emptied first); returns the notebook pages' names.

    Raises:
        ValueError: a notebook of the syllabus is missing, or a notebook is not in the syllabus.
    """
    import nbformat

    found = {p.stem: p for p in sorted(notebooks_dir.glob("[0-9][0-9]_*.ipynb"))}
    wanted = [lesson.notebook for lesson in course.syllabus]
    if set(found) != set(wanted):
        raise ValueError(f"site/course.toml's syllabus and {notebooks_dir} differ: missing notebooks "
                         f"{sorted(set(wanted) - set(found))}, notebooks not in the syllabus {sorted(set(found) - set(wanted))}")
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    shutil.copytree(SITE, stage_dir, ignore=shutil.ignore_patterns("*.py", "_static", "_templates", "*.toml",
                                                                      "__pycache__"))
    (stage_dir / "notebooks").mkdir()
    for name in wanted:
        nb = site_notebook(nbformat.read(found[name], as_version=4))
        nbformat.write(nb, stage_dir / "notebooks" / f"{name}.ipynb")

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page, (title, source, section) in GUIDE_PAGES.items():
        text = (ROOT / source).read_text(encoding="utf-8")
        if section:
            text = f"# {title}\n\n" + _section(text, section)
        (stage_dir / f"{page}.md").write_text(_site_links(text, course, set(wanted)), encoding="utf-8")

    index = (stage_dir / "index.md").read_text(encoding="utf-8")
    toctree = "\n".join(f"notebooks/{name}" for name in wanted)
    index = index.replace("{{ syllabus }}", syllabus_table(course)).replace("{{ notebooks }}", toctree)
    index = index.replace("{{ install }}", _section(readme, "Two commands"))
    (stage_dir / "index.md").write_text(index, encoding="utf-8")
    return [f"notebooks/{name}" for name in wanted]


def build(out: Path | str = DEFAULT_OUT, notebooks_dir: Path | str = ROOT / "notebooks", course: Course | None = None,
          stage_dir: Path | str | None = None, quiet: bool = True) -> Path:
    """Build the website into ``out`` (emptied first) from the stored outputs; returns ``out/index.html``.

    Args:
        out: the site's folder (its sources are staged in ``<out>-src`` unless ``stage_dir`` is given).
        notebooks_dir: where the ``NN_x.ipynb`` notebooks are (default ``notebooks/``).
        course: the syllabus and repository (default :func:`read_course`); its syllabus must name
            exactly the notebooks of ``notebooks_dir``.
        quiet: print only problems (else Sphinx's progress too).

    Raises:
        RuntimeError: Sphinx reported a warning or an error (all of them are listed); the site is
            not complete then.
        ValueError: ``site/course.toml`` or the notebooks are not as expected.
        VendorFileError: ``vendor/`` is incomplete or changed.
    """
    from homework_tools.slides import vendor_files
    from sphinx.application import Sphinx

    out = Path(out).resolve()
    stage_dir = Path(stage_dir).resolve() if stage_dir else out.parent / (out.name + "-src")
    vendor_files()  # fail before building anything
    course = course or read_course()
    stage(stage_dir, Path(notebooks_dir).resolve(), course)
    if out.exists():
        shutil.rmtree(out)
    warnings = _Warnings()
    app = Sphinx(srcdir=str(stage_dir), confdir=str(SITE), outdir=str(out), doctreedir=str(stage_dir / ".doctrees"),
                 buildername="html", status=None if quiet else sys.stdout, warning=warnings, freshenv=True,
                 keep_going=True)
    app.build()
    if warnings.lines:
        raise RuntimeError("the website build reported problems:\n" + "\n".join(warnings.lines))
    return out / "index.html"


class _Warnings:
    """A file-like sink for Sphinx's warnings."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # no terminal colours
        self.lines += [line for line in text.splitlines() if line.strip()]

    def flush(self) -> None:
        pass


# --------------------------------------------------------------------------- link check

class _Anchors(HTMLParser):
    """The ids of one HTML page and the links (href/src) it makes."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)
            elif key in ("href", "src") and value and not (tag == "link" and ("rel", "canonical") in attrs):
                self.links.append(value)


def check_links(site: Path | str) -> tuple[list[str], int]:
    """Check every internal link and anchor of a built site.

    Returns:
        ``(problems, checked)``: one line per link whose file or ``#anchor`` does not exist, and
        how many internal links were checked. Links to other sites are not followed (offline).
    """
    site = Path(site).resolve()
    # the pages (not the theme's template fragments that Sphinx copies into _static/)
    pages = {path: _Anchors() for path in site.rglob("*.html") if "_static" not in path.relative_to(site).parts}
    for path, parser in pages.items():
        parser.feed(path.read_text(encoding="utf-8"))
    problems, checked = [], 0
    for path, parser in pages.items():
        for link in parser.links:
            if re.match(r"^[a-z][a-z0-9+.-]*:", link, re.IGNORECASE):  # https:, mailto:, data:, javascript:
                continue
            checked += 1
            target, _, anchor = link.partition("#")
            target = target.split("?", 1)[0]
            dest = (path.parent / unquote(target)).resolve() if target else path
            where = f"{path.relative_to(site)}: {link}"
            if dest.is_dir():
                dest = dest / "index.html"
            if not dest.is_file():
                problems.append(f"{where} (no such file)")
            elif anchor and dest.suffix == ".html" and unquote(anchor) not in pages[dest].ids:
                problems.append(f"{where} (no #{anchor} in {dest.relative_to(site)})")
    return problems, checked


# --------------------------------------------------------------------------- command line

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="build the website (what `make site` runs)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (emptied first; default build/site)")
    p.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="folder of NN_x.ipynb notebooks")
    p = sub.add_parser("links", help="print each notebook's launch links")
    p.add_argument("--hub", help="a JupyterHub's address, for nbgitpuller links (e.g. https://hub.example.edu)")
    p = sub.add_parser("syllabus", help="write the syllabus of site/course.toml into README.md")
    p.add_argument("--check", action="store_true", help="only say whether README.md is up to date (exit 1 if not)")
    args = parser.parse_args(argv)
    try:
        course = read_course()
        if args.command == "build":
            index = build(args.out, args.notebooks)
            print(f"website: {index} (open it in a browser; it needs no network)")
        elif args.command == "links":
            for lesson in course.syllabus:
                for kind, url in launch_links(course, lesson.notebook, args.hub).items():
                    print(f"{lesson.notebook}\t{kind}\t{url}")
        else:
            readme = ROOT / "README.md"
            text = readme.read_text(encoding="utf-8")
            new = readme_with_syllabus(text, course)
            if args.check:
                print("README.md's syllabus matches site/course.toml" if new == text else
                      "README.md's syllabus differs from site/course.toml: run `python tools/website.py syllabus`")
                return 0 if new == text else 1
            if new != text:
                readme.write_text(new, encoding="utf-8")
            print("README.md's syllabus is up to date")
    except (ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
