"""Sphinx configuration of the course website. Build it with `make site` (python tools/website.py build).

The sources Sphinx reads are staged by tools/website.py in build/site-src/ (this folder's pages, a
processed copy of every notebook, guide pages taken from the README); this file stays here.
Everything a page loads comes from the site's own folder: no CDN (see the notes below).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tools"), str(Path(__file__).resolve().parent)]  # website.py, course_site.py

from website import read_course  # noqa: E402

COURSE = read_course()

project = "Convolutional neural networks in PyTorch"
author = "the convnets-course authors"
copyright = "the convnets-course authors; code MIT, data and vendored files under their own licences"  # noqa: A001
extensions = ["myst_nb", "sphinx.ext.mathjax", "course_site"]
exclude_patterns = [".doctrees", "**.ipynb_checkpoints"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_title = "CNNs in PyTorch"
html_context = {"default_mode": "light"}  # the theme logs a console error without one
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = True  # the theme's "download .ipynb" button serves the page's notebook from _sources/
# Sphinx's search fetches each result page to show a summary: fetch() cannot read file:// pages
# (a console error, and no summary); the titles and the matching pages are listed without it
html_show_search_summary = False

# --- offline: MathJax and the Jupyter widget manager from the checksummed vendor/ folder
# (tools/website.py copies them into _static/vendor/ after checking their sha256)
mathjax_path = "vendor/mathjax/es5/tex-svg-full.js"
# the widget manager typesets labels with MathJax 2's MathJax.Hub.Queue: the config shims it
mathjax_config_path = str(ROOT / "tools" / "homework_tools" / "templates" / "course_reveal" / "mathjax-config.js")
nb_ipywidgets_js = {"vendor/html-manager/dist/embed.js": {}}  # self-contained: no require.js

# --- notebooks: rendered from their stored outputs, never executed
nb_execution_mode = "off"
nb_merge_streams = True
nb_output_stderr = "show"
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", 5)]
suppress_warnings = ["mystnb.unknown_mime_type"]

html_theme = "sphinx_book_theme"
html_theme_options = {
    "repository_url": COURSE.url,
    "repository_branch": COURSE.branch,
    "use_repository_button": True,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_prev_next": True,
    "navigation_with_keys": False,
    "navbar_persistent": [],  # the search field is in the sidebar: not a second one in a top bar
}
