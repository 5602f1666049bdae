"""The course website's Sphinx extension (loaded by site/conf.py; the build is tools/website.py).

* ``{course-fold} solution|hints|answers`` directive, and code cells marked by tools/website.py
  (``metadata["course_site"]["fold"]``): the content in a ``<details>`` element whose summary says
  "Show solution" / "Show hints" / "Show answers" (no script needed; closed when the page opens).
* Pictures of a notebook's outputs get the alt text tools/website.py attached to their cell.
* Each notebook page gets its launch links (Colab, Binder) under its title, from site/course.toml.
* After the build, the checksummed vendor files the pages load (MathJax, the widget manager) are
  copied into ``_static/vendor/``.
"""

from __future__ import annotations

import html
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective
from website import FOLD_TITLES, SITE_VENDOR, launch_links, read_course


class course_fold(nodes.General, nodes.Element):  # noqa: N801  (docutils' naming)
    """A ``<details>`` element: its content shows when the reader opens it."""


def visit_course_fold(self, node: course_fold) -> None:
    kind = node["kind"]
    label = FOLD_TITLES[kind]
    self.body.append(f'<details class="course-fold course-fold-{kind}">'
                     f'<summary><span class="course-show">Show {label}</span>'
                     f'<span class="course-hide">Hide {label}</span></summary>\n')


def depart_course_fold(self, node: course_fold) -> None:
    self.body.append("</details>\n")


class CourseFold(SphinxDirective):
    """``{course-fold} hints``: its markdown content, folded behind a "Show hints" control."""

    has_content = True
    required_arguments = 1

    def run(self):
        kind = self.arguments[0]
        if kind not in FOLD_TITLES:
            raise self.error(f"course-fold: expected one of {sorted(FOLD_TITLES)}, got {kind!r}")
        node = course_fold(kind=kind)
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


def on_doctree_read(app, doctree) -> None:
    """Fold the marked code cells, give pictures their alt text, put the launch links under the title."""
    for cell in list(doctree.findall(nodes.container)):
        if cell.get("nb_element") != "cell_code":
            continue
        site = (cell.get("cell_metadata") or {}).get("course_site") or {}
        alts = list(site.get("alt", []))
        for image in cell.findall(nodes.image):
            if alts and not image.get("alt"):
                image["alt"] = alts.pop(0)
        if site.get("fold"):
            wrapper = course_fold(kind=site["fold"])
            wrapper.extend(cell.children)
            cell.children = []
            cell.append(wrapper)
    docname = app.env.docname
    if docname.startswith("notebooks/"):
        links = launch_links(read_course(), docname.split("/", 1)[1])
        section = next(iter(doctree.findall(nodes.section)), None)
        if section is not None:
            bar = ('<p class="course-launch">Run this notebook: '
                   f'<a class="course-colab" href="{html.escape(links["colab"])}">Open in Colab</a> · '
                   f'<a class="course-binder" href="{html.escape(links["binder"])}">Launch Binder</a> · '
                   '<a href="../launch.html">other ways</a></p>')
            section.insert(1, nodes.raw("", bar, format="html"))


def copy_vendor_files(app, exception) -> None:
    """Copy the checksummed vendor files the pages load into ``_static/vendor/``."""
    if exception is None:
        from homework_tools.slides import copy_vendor

        copy_vendor(Path(app.outdir) / "_static", packages=SITE_VENDOR)


def setup(app):
    app.add_node(course_fold, html=(visit_course_fold, depart_course_fold))
    app.add_directive("course-fold", CourseFold)
    app.connect("doctree-read", on_doctree_read)
    app.connect("build-finished", copy_vendor_files)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
