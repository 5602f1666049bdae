"""Text that came from submissions (folder and file names, notes), made safe to show and to write.

A student chooses their folder and file names: they may hold control characters and ANSI
escapes (which rewrite a terminal), right-to-left overrides (which reorder what is shown),
bytes that are not UTF-8 (Python keeps them as lone surrogates, which no UTF-8 file can
hold), or start with ``=``, ``+``, ``-`` or ``@`` (which a spreadsheet runs as a formula).
:func:`safe_text` escapes the first three, :func:`csv_cell` also defuses formulas, and
:func:`json_text` writes JSON that keeps every name exactly (it reads back the same).
:func:`notebook_cells`, :func:`cell_text` and :func:`cell_grade_id` read a handed-in notebook's
JSON without trusting its shape (for feedback and the similarity report).
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

# bidirectional controls (embeddings, overrides, isolates, marks) and line/paragraph separators
_INVISIBLE = {*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)), "\u200e", "\u200f", "\u061c",
              "\u2028", "\u2029"}
_FORMULA = ("=", "+", "-", "@")  # OWASP's CSV injection list; tab and CR are escaped already
_NUMBER = re.compile(r"^-?\d+(\.\d+)?(/\d+(\.\d+)?)?$|^-$")


def safe_text(text: str) -> str:
    """``text`` with control characters, bidi controls and undecodable bytes written as escapes.

    ``"a\\x1b[31mb"`` becomes ``"a\\\\x1b[31mb"`` (a visible backslash), a byte ``0xff`` that
    was not UTF-8 becomes ``"\\\\xff"``; printable text, accents and other scripts are unchanged.
    """
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte kept by surrogateescape
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        elif unicodedata.category(ch) == "Cc" or ch in _INVISIBLE:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def csv_cell(value: Any) -> str:
    """A value for a CSV file: :func:`safe_text`, and a leading ``'`` before a would-be formula.

    Numbers and our own ``score/max`` and ``-`` cells are written as they are.
    """
    text = safe_text(str(value))
    if text.startswith(_FORMULA) and not _NUMBER.match(text):
        return "'" + text
    return text


def json_text(data: Any, indent: int | None = 1) -> str:
    """JSON of ``data`` as UTF-8-writable text; strings with undecodable bytes read back unchanged."""
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text)


# --------------------------------------------------------------------------- notebooks handed in

def notebook_cells(text: str | None) -> list[dict]:
    """The cells of a notebook's JSON text that a student made (anything malformed: no cells)."""
    try:
        cells = json.loads(text or "{}").get("cells", [])
    except (ValueError, RecursionError, AttributeError):
        return []
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def cell_text(cell: dict) -> str:
    """A cell's source as text ("" when it is not text or a list of text)."""
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(x for x in source if isinstance(x, str))
    return source if isinstance(source, str) else ""


def cell_grade_id(cell: dict) -> str:
    """A cell's nbgrader grade_id ("" when it has none, or a malformed one)."""
    meta = cell.get("metadata")
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return grade_id if isinstance(grade_id, str) else ""
