"""Notebook 00's course map is the README's syllabus: same notebooks, titles, outcomes and times."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP_CELL = "341f4fc4"  # the id of notebook 00's "## 2. The course map" cell


def table_rows(markdown: str) -> list[list[str]]:
    """The body rows of the first markdown table in ``markdown``, each a list of stripped cells.

    Links are reduced to their text and target file name (``[text](notebooks/x.ipynb)`` and
    ``[text](x.ipynb)`` compare equal), so the README and a notebook may point from their own folders.
    """
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    rows = []
    for line in lines[2:]:  # header and separator first
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append([re.sub(r"\]\((?:notebooks/)?([^)]+)\)", r"](\1)", c) for c in cells])
    return rows


def syllabus_rows() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Syllabus", 1)[1].split("\n## ", 1)[0]
    return table_rows(section)


def course_map_rows() -> list[list[str]]:
    nb = json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c.get("id") == MAP_CELL)
    return table_rows("".join(cell["source"]))


def test_course_map_is_the_readme_syllabus():
    syllabus, course_map = syllabus_rows(), course_map_rows()
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [row[0] for row in syllabus] == [name[:2] for name in notebooks], "the README's syllabus lists every notebook"
    for row, name in zip(syllabus, notebooks):
        assert f"({name}.ipynb)" in row[1], f"syllabus row {row[0]} should link to {name}.ipynb"
    assert course_map == syllabus, (
        "notebook 00's course map (cell 341f4fc4) differs from the README's syllabus: copy the README's rows, "
        "with links relative to notebooks/")


def test_table_rows_compares_links_by_file():
    readme_like = "| # | n |\n|---|---|\n| 01 | [fc](notebooks/01_fc.ipynb) |\n"
    notebook_like = "| # | n |\n|---|---|\n| 01 | [fc](01_fc.ipynb) |\n"
    assert table_rows(readme_like) == table_rows(notebook_like) == [["01", "[fc](01_fc.ipynb)"]]
    assert table_rows(notebook_like.replace("fc]", "conv]")) != table_rows(readme_like)
