"""Slides that fit a 1280x720 screen: how tall each notebook cell will be, and where to cut.

The lecture slides (:mod:`.slides`) are laid out for a 1280x720 screen (reveal.js draws them at
scale 1 there and scales them to other screens), with no text smaller than 18 px. :data:`LAYOUT`
holds the sizes the slides' style sheet uses (the template reads them from here), and the
functions below estimate, from a cell's text and its stored outputs, how many pixels it takes:

* markdown: headings, paragraphs wrapped at the slide's width, list items, display formulas,
  tables and code blocks;
* code: the input (long lines wrap at spaces) up to ``input_max`` (beyond, the box scrolls), the
  outputs: text up to ``output_max`` (it scrolls beyond, and long lines scroll sideways instead
  of wrapping, so tables and words stay whole), pictures scaled to fit ``image_max`` and the width.

:func:`fit` cuts a slide where the next cell would not fit: the cell opens a continuation slide
below it (a sub-slide). A markdown cell taller than a slide is cut between paragraphs; a code cell
whose input and outputs together do not fit shows its input with the first outputs that fit,
and its other outputs on the next slides. The estimates err on the tall side; the browser test measures the real heights.
"""

from __future__ import annotations

import base64
import copy
import math
import re
import struct

from .present import WIDGET_NOTE

LAYOUT = {
    "width": 1280, "height": 720,  # the screen the slides are made for (reveal.js width/height)
    "pad_x": 40, "pad_y": 20,  # the slide's padding
    "text_px": 24, "text_line": 1.35,  # prose
    "code_px": 18, "code_line": 1.3,  # code and text outputs (the smallest text on a slide)
    "h1_px": 40, "h2_px": 34, "h3_px": 28, "h4_px": 24,
    "input_max": 440, "output_max": 300, "image_max": 540,  # taller boxes scroll inside the slide
}
HIDE_INPUT = "slides-outputs-only"  # tag of the copies of a cut code cell that show only outputs
_CHAR_EM = 0.52  # average width of a prose character, in em (a little more than Source Sans/DejaVu)
_CODE_EM = 0.61  # width of a monospace character, in em
_SAFETY = 36  # px kept free at the bottom of a slide: the estimates are not exact


def _content_width() -> float:
    return LAYOUT["width"] - 2 * LAYOUT["pad_x"]


def budget() -> float:
    """Pixels of content one slide holds."""
    return LAYOUT["height"] - 2 * LAYOUT["pad_y"] - _SAFETY


def _lines(text: str, px: float, width: float, em: float) -> int:
    per_line = max(1, int(width / (px * em)))
    return max(1, math.ceil(len(text) / per_line))


def markdown_height(source: str) -> float:
    """Estimated height in px of a markdown cell's rendering."""
    width, text_px = _content_width(), LAYOUT["text_px"]
    line_px, code_line_px = text_px * LAYOUT["text_line"], LAYOUT["code_px"] * LAYOUT["code_line"]
    height, paragraph, fence, math_block = 0.0, [], None, False

    def flush() -> None:
        nonlocal height, paragraph
        if paragraph:
            height += _lines(" ".join(paragraph), text_px, width, _CHAR_EM) * line_px + 0.6 * text_px
        paragraph = []

    table: list[str] = []
    for raw in source.split("\n"):
        line = raw.strip()
        if table and not line.startswith("|"):
            height += table_height(table)
            table = []
        if fence is not None:  # inside a ``` block
            if line.startswith(fence):
                fence = None
                height += 24
            else:
                height += code_line_px * _lines(raw or " ", LAYOUT["code_px"], width - 30, _CODE_EM)
            continue
        if math_block:
            height += 36
            math_block = not (line.endswith("$$") or line.startswith("\\end"))
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)", line)
        if line.startswith("```") or line.startswith("~~~"):
            flush()
            fence = line[:3]
        elif line.startswith("$$") or line.startswith("\\begin"):
            flush()
            height += 60
            math_block = not ((line.startswith("$$") and len(line) > 2 and line.endswith("$$")) or "\\end" in line)
        elif heading:
            flush()
            px = LAYOUT[f"h{min(len(heading.group(1)), 4)}_px"]
            height += _lines(heading.group(2), px, width, 0.56) * px * 1.2 + 0.6 * px
        elif line.startswith("|"):
            flush()
            table.append(line)
            continue
        elif re.match(r"^([-*+]|\d+[.)])\s", line):
            flush()
            paragraph = [line]
            height += 0.2 * text_px  # item spacing; its text is the paragraph that follows
            flush()
            height -= 0.6 * text_px
        elif not line:
            flush()
        elif paragraph == [] and height and re.match(r"^\s{2,}\S", raw):  # continuation of a list item
            height += _lines(line, text_px, width - 40, _CHAR_EM) * line_px
        else:
            paragraph.append(line)
    flush()
    return height + (table_height(table) if table else 0) + 8


def _table_rows(lines: list[str]) -> list[list[str]]:
    """The cells of each row of a markdown table (the ``|---|`` line left out)."""
    rows = []
    for line in lines:
        if re.match(r"^\|[\s:|-]+\|?$", line.strip()):
            continue
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def table_height(lines: list[str]) -> float:
    """Estimated height in px of a markdown table: each row as tall as its longest wrapped cell."""
    rows = _table_rows(lines)
    if not rows:
        return 0.0
    columns = max(len(r) for r in rows)
    weights = [max(8.0, max(len(r[i]) if i < len(r) else 0 for r in rows)) for i in range(columns)]
    weights = [w ** 0.75 for w in weights]  # a browser gives long columns less than their share
    width, px = _content_width() - 24 * columns, 20
    height = 12.0
    for row in rows:
        height += max(_lines(re.sub(r"[*`]", "", cell), px, width * weights[i] / sum(weights), _CHAR_EM)
                      for i, cell in enumerate(row)) * px * 1.3 + 14
    return height


def image_size(output: dict) -> tuple[int, int] | None:
    """``(width, height)`` in CSS px of an output's picture (its stored size), or None."""
    data = output.get("data", {})
    meta = output.get("metadata", {})
    for mime in ("image/png", "image/jpeg"):
        if mime not in data:
            continue
        given = meta.get(mime, {}) if isinstance(meta.get(mime), dict) else {}
        if given.get("width") and given.get("height"):
            return int(given["width"]), int(given["height"])
        raw = data[mime]
        blob = base64.b64decode("".join(raw) if isinstance(raw, list) else raw)
        size = _png_size(blob) if mime == "image/png" else _jpeg_size(blob)
        if size and given.get("width"):  # width only: the picture keeps its aspect ratio
            return int(given["width"]), round(size[1] * int(given["width"]) / size[0])
        return size
    return None


def _png_size(blob: bytes) -> tuple[int, int] | None:
    if blob[:8] != b"\x89PNG\r\n\x1a\n" or len(blob) < 24:
        return None
    return struct.unpack(">II", blob[16:24])


def _jpeg_size(blob: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(blob):
        if blob[i] != 0xFF:
            return None
        marker, length = blob[i + 1], struct.unpack(">H", blob[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", blob[i + 5:i + 9])
            return w, h
        i += 2 + length
    return None


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _css_px(value: str) -> float:
    number = float(re.match(r"[\d.]+", value).group())
    return number * 4 / 3 if value.endswith("pt") else number


def html_height(html: str, plain: str = "") -> float:
    """Estimated height in px of an HTML output: its table rows, its text boxes (each at most
    ``output_max``) or its drawings (each at most ``image_max``), whichever is tallest (a
    table and a drawing side by side are as tall as the taller)."""
    code_line_px = LAYOUT["code_px"] * LAYOUT["code_line"]
    boxes = [html.count("<tr") * 34]
    if not re.search(r"<pre|<svg", html):  # else the capped boxes below show, not the plain text
        boxes.append(plain.count("\n") * code_line_px)
    boxes += [min(LAYOUT["output_max"], (pre.count("\n") + 1) * code_line_px + 16)
              for pre in re.findall(r"<pre[^>]*>(.*?)</pre>", html, flags=re.S)]
    for svg in re.findall(r"<svg\b[^>]*>", html):
        height = re.search(r'\sheight="([\d.]+(?:pt|px)?)"', svg)
        if height:
            boxes.append(min(LAYOUT["image_max"], _css_px(height.group(1))))
    return max(boxes)


def output_height(output: dict) -> float:
    """Estimated height in px of one output (before the cap on a cell's text outputs)."""
    code_line_px = LAYOUT["code_px"] * LAYOUT["code_line"]
    kind = output.get("output_type")
    if kind == "stream":
        return _text(output.get("text", "")).rstrip("\n").count("\n") * code_line_px + code_line_px + 16
    if kind == "error":
        return len(output.get("traceback", [])) * 3 * code_line_px + 16
    data = output.get("data", {})
    size = image_size(output)
    if size:
        w, h = size
        scale = min(1.0, _content_width() / w, LAYOUT["image_max"] / h)
        return h * scale + 12
    if "text/markdown" in data:
        return markdown_height(_text(data["text/markdown"]))
    if "text/html" in data:
        return html_height(_text(data["text/html"]), _text(data.get("text/plain", ""))) + 40
    if "application/vnd.jupyter.widget-view+json" in data:
        return 80
    return (_text(data.get("text/plain", "")).rstrip("\n").count("\n") + 1) * code_line_px + 16


def code_heights(cell: dict) -> tuple[float, float]:
    """Estimated ``(input, outputs)`` heights in px of a code cell, with the style sheet's caps."""
    code_px, line_px = LAYOUT["code_px"], LAYOUT["code_px"] * LAYOUT["code_line"]
    lines = sum(_lines(line or " ", code_px, _content_width() - 24, _CODE_EM) for line in cell["source"].split("\n"))
    source = min(lines * line_px + 24, LAYOUT["input_max"]) if cell["source"].strip() else 0
    outputs = 0.0
    for output in cell.get("outputs", []):
        height = output_height(output)
        if not image_size(output) and output.get("output_type") in ("stream", "execute_result", "error"):
            height = min(height, LAYOUT["output_max"])
        outputs += height
    return source, outputs


def cell_height(cell: dict) -> float:
    """Estimated height in px of a cell on a slide (0 for a skipped cell)."""
    if cell.get("metadata", {}).get("slideshow", {}).get("slide_type") in ("skip", "notes"):
        return 0.0
    if cell["cell_type"] == "markdown":
        return markdown_height(cell["source"])
    if cell["cell_type"] != "code":
        return 0.0
    tags = cell.get("metadata", {}).get("tags", [])
    source, outputs = code_heights(cell)
    return (0 if HIDE_INPUT in tags else source) + outputs + 8


def split_at_headings(source: str) -> list[str]:
    """A markdown text cut before every heading (headings inside code blocks do not count)."""
    parts, current, fence = [], [], False
    for line in source.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if not fence and re.match(r"^#{1,6}\s", line) and any(x.strip() for x in current):
            parts.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    parts.append("\n".join(current).strip("\n"))
    return [p for p in parts if p.strip()]


def split_paragraphs(source: str, limit: float) -> list[str]:
    """A markdown text cut between paragraphs into pieces of at most ``limit`` px (when it can be)."""
    blocks, current, fence = [], [], False
    for line in source.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if not fence and not line.strip() and current:
            blocks.append("\n".join(current))
            current = []
        elif line.strip() or fence:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    blocks = [part for block in blocks for part in _table_parts(block, limit)]
    blocks = [part for block in blocks for part in _list_items(block, limit)]
    pieces, piece = [], []
    for block in blocks:
        if piece and markdown_height("\n\n".join([*piece, block])) > limit:
            pieces.append("\n\n".join(piece))
            piece = []
        piece.append(block)
    pieces.append("\n\n".join(piece))
    return pieces


def _split_outputs(cell, limit: float) -> list:
    """A code cell too tall for a slide as several: its input with the first outputs that fit, then
    the other outputs, as many per slide as fit (each a copy of the cell showing only its outputs)."""
    units = []  # outputs that go together: a widget's picture and the note under it
    for output in cell.outputs:
        if units and _text(output.get("data", {}).get("text/markdown", "")) == WIDGET_NOTE:
            units[-1].append(output)
        else:
            units.append([output])
    groups, used = [[]], code_heights({**cell, "outputs": []})[0]
    for unit in units:
        height = code_heights({"source": "", "outputs": unit})[1]
        if used + height > limit and (groups[-1] or used):  # a new slide, unless this one is still empty
            groups.append([])
            used = 0.0
        groups[-1] += unit
        used += height
    parts = []
    for n, outputs in enumerate(groups):
        part = copy.deepcopy(cell)
        part.outputs = outputs
        if n:
            part.metadata.setdefault("tags", []).append(HIDE_INPUT)
            part.metadata["slideshow"] = {"slide_type": "subslide"}
            part["id"] = f"{cell.get('id', 'cell')}-{n}"
        parts.append(part)
    return parts


def _list_items(block: str, limit: float) -> list[str]:
    """A block taller than ``limit`` cut before each of its list items (a numbered list keeps its numbers)."""
    if markdown_height(block) <= limit:
        return [block]
    parts, current = [], []
    for line in block.split("\n"):
        if re.match(r"^([-*+]|\d+[.)])\s", line) and current:
            parts.append("\n".join(current))
            current = []
        current.append(line)
    return parts + ["\n".join(current)]


def _table_parts(block: str, limit: float) -> list[str]:
    """A markdown table taller than ``limit`` cut into tables of fewer rows, each with the header."""
    lines = block.split("\n")
    if not (lines[0].startswith("|") and len(lines) > 3 and table_height(lines) > limit):
        return [block]
    head, rows = lines[:2], lines[2:]
    parts, part = [], []
    for row in rows:
        if part and table_height(head + part + [row]) > limit:
            parts.append("\n".join(head + part))
            part = []
        part.append(row)
    return parts + ["\n".join(head + part)]


def _kind(cell) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def fit(nb):
    """A copy of a slide notebook whose slides each fit :data:`LAYOUT` (see the module docstring)."""
    import nbformat

    nb = copy.deepcopy(nb)
    limit = budget()
    cells = []
    for cell in nb.cells:  # first cut what cannot fit on any slide
        if cell.cell_type == "markdown" and markdown_height(cell.source) > limit:
            for n, piece in enumerate(split_paragraphs(cell.source, limit)):
                part = nbformat.v4.new_markdown_cell(piece, metadata=copy.deepcopy(cell.metadata))
                if n:
                    part.metadata["slideshow"] = {"slide_type": "subslide"}
                cells.append(part)
            continue
        if cell.cell_type == "code" and cell_height(cell) > limit and cell.get("outputs"):
            cells += _split_outputs(cell, limit)
            continue
        cells.append(cell)
    used, previous = 0.0, None
    for cell in cells:  # then start a continuation slide where the next cell would not fit
        height = cell_height(cell)
        if _kind(cell) in ("slide", "subslide"):
            used = height
        elif height and used and used + height > limit:
            lead_in = previous is not None and previous.cell_type == "markdown" and _kind(previous) in ("-", "fragment")
            if lead_in and previous.source.rstrip().endswith(":") and cell_height(previous) + height <= limit:
                previous.metadata.setdefault("slideshow", {})["slide_type"] = "subslide"  # "...as follows:" + code
                used = cell_height(previous) + height
            else:
                cell.metadata.setdefault("slideshow", {})["slide_type"] = "subslide"
                used = height
        else:
            used += height
        previous = cell
    nb.cells = cells
    return nb
