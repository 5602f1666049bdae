"""Notebook 00's course map is the README's syllabus (same notebooks, titles, outcomes and times), and a
notebook longer than a sitting comes in two, with a break cell between them."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import website  # noqa: E402

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


SITTING = 90  # minutes: a notebook that takes longer to read comes in two sittings, with a break between them
BREAK = "**End of part 1: a good place to stop.**"


def sitting_problems(minutes: int, cells: list[dict]) -> list[str]:
    """What a notebook lacks for its reading time: over ``SITTING`` minutes, its Time line says two
    sittings and one break cell (``BREAK``) sits right above a section heading that it names, with
    the way to resume; otherwise there is no break. Empty: nothing."""
    text = ["".join(c["source"]) for c in cells]
    breaks = [i for i, (c, t) in enumerate(zip(cells, text)) if c["cell_type"] == "markdown" and BREAK in t]
    time_line = " ".join(re.search(r"\*\*Time:\*\*(.*?)(?:\n\n|$)", text[0], re.S).group(1).split())
    if minutes <= SITTING:
        return [f"{len(breaks)} break cells in a notebook of {minutes} min"] if breaks else []
    problems = [] if "two sittings" in time_line.replace("*", "") else [f"the Time line does not say two sittings: {time_line!r}"]
    if len(breaks) != 1:
        return problems + [f"{len(breaks)} break cells ({BREAK!r}) in a notebook of {minutes} min: expected one"]
    i = breaks[0]
    heading = re.match(r"## (\d+)\. ", text[i + 1]) if i + 1 < len(text) else None
    if heading is None:
        return problems + ["the break cell is not right above a numbered section heading"]
    if f"heading of section {heading.group(1)} below" not in " ".join(text[i].split()):
        problems.append(f"the break cell does not name section {heading.group(1)}, the heading below it")
    if "Run All Above Selected Cell" not in text[i] or "Run before" not in text[i]:
        problems.append("the break cell does not say how to resume in JupyterLab and Colab")
    return problems


def test_a_notebook_longer_than_a_sitting_comes_in_two_with_a_break():
    syllabus = website.read_course().syllabus  # every notebook, in order (test_website checks that)
    for lesson in syllabus:
        cells = json.loads((ROOT / "notebooks" / f"{lesson.notebook}.ipynb").read_text(encoding="utf-8"))["cells"]
        assert sitting_problems(lesson.minutes, cells) == [], lesson.notebook
    assert any(lesson.minutes > SITTING for lesson in syllabus), "no notebook is longer than a sitting: this test checks nothing"


def test_sitting_problems_finds_a_missing_or_misplaced_break():
    def md(text):
        return {"cell_type": "markdown", "source": text}

    good_break = md(f"---\n\n{BREAK} ... select the heading of section 4 below ... *Run → Run All Above Selected "
                    "Cell*; Colab: *Runtime → Run before* ...")
    head = md("# 99 · x\n\n**Time:** 120 minutes, in **two\nsittings**: part 1 ...\n\n**Exercises** ...")
    cells = [head, md("## 3. a"), good_break, md("## 4. b")]
    assert sitting_problems(120, cells) == []
    assert sitting_problems(60, cells) == ["1 break cells in a notebook of 60 min"]
    assert sitting_problems(60, [head, md("## 3. a")]) == []
    assert sitting_problems(120, [head, md("## 3. a")]) == [
        f"0 break cells ({BREAK!r}) in a notebook of 120 min: expected one"]
    assert "does not say two sittings" in sitting_problems(120, [md("# x\n\n**Time:** 120 minutes.")] + cells[1:])[0]
    assert sitting_problems(120, [head, good_break, md("## 5. c")]) == [
        "the break cell does not name section 5, the heading below it"]
    assert sitting_problems(120, [head, good_break, md("text")]) == [
        "the break cell is not right above a numbered section heading"]
    assert sitting_problems(120, [head, md(BREAK + " heading of section 4 below"), md("## 4. b")]) == [
        "the break cell does not say how to resume in JupyterLab and Colab"]
