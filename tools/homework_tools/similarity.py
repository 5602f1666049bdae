"""Similarity report: pairs of submissions whose answers are unusually alike, for a second look.

For each notebook, every student's answer cells (``NN-exK-code``; without that metadata, the
code cells that are not the release's) are fingerprinted with copydetect's winnowing
(Schleimer, Wilkerson and Aiken, SIGMOD 2003: variable names, strings and comments do not
count), after removing everything the students were given or could have read: all the code
of the release (starter code, lesson code, self-checks) and the reference answers of the
instructor notebook. Every pair is compared; pairs above ``threshold`` are ranked with the
matching fragments side by side (``<course>/similarity/<NN_x>.html``) and all pairs are in
``similarity.csv``.

Similarity is a reason to look, not a verdict: short exercises have few good solutions,
students may work together where that is allowed, and a common source (a tutorial, an
assistant) makes strangers alike. The report says so at its top.
"""

from __future__ import annotations

import html
import io
import itertools
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import highlight_overlap

from .authoring import course_notebooks, release
from .config import HomeworkConfig
from .grading import find_submissions, read_submission
from .safe import cell_grade_id, cell_text, notebook_cells, safe_text
from .scores import csv_text, write_file

NOISE = 25  # copydetect's noise threshold k: matches shorter than this many filtered characters are ignored
WINDOW = 4  # its winnowing window (guarantee threshold = NOISE + WINDOW - 1)
NOT_A_VERDICT = ("Similarity is a reason to look, not a verdict. Short exercises have few good solutions, "
                 "students may work together where the course allows it, and a shared source (a tutorial, "
                 "a forum answer, an assistant) makes strangers alike. Read both notebooks, and talk with the "
                 "students, before you conclude anything.")


@dataclass(frozen=True)
class Pair:
    """Two submissions of one notebook and how alike their answers are."""

    assignment: str
    first: str
    second: str
    similarity: tuple[float, float]  # the share of each one's answer tokens found in the other's
    overlap: int  # matching tokens (filtered characters) of the first
    fragments: tuple[tuple[str, str, str], ...]  # (exercise, first's answer, second's) as HTML, matches in <mark>

    @property
    def score(self) -> float:
        """The larger share: copying a small answer into a larger one still shows."""
        return max(self.similarity)


def _code_cells(text: str) -> list[dict]:
    return [c for c in notebook_cells(text) if c.get("cell_type") == "code"]


def answer_cells(text: str, release_cells: set[str]) -> dict[str, str]:
    """``{exercise: code}`` of a submitted notebook's answer cells (grade_id ``NN-exK-code``).

    Args:
        text: the notebook's JSON text (untrusted).
        release_cells: the sources of the release's code cells: a notebook whose metadata was
            lost (copied into a new one) gives its other cells, as ``"other cells"``.
    """
    cells = _code_cells(text)
    answers: dict[str, str] = {}
    for cell in cells:
        if cell_grade_id(cell).endswith("-code"):
            exercise = cell_grade_id(cell).removesuffix("-code")
            answers[exercise] = (answers.get(exercise, "") + "\n\n" + cell_text(cell)).strip("\n")
    if not answers:
        other = [s for s in map(cell_text, cells) if s.strip() and s not in release_cells]
        answers = {"other cells": "\n\n".join(other)} if other else {}
    return answers


def _fingerprint(code: str, boilerplate: np.ndarray | None = None, window: int = WINDOW) -> CodeFingerprint:
    return CodeFingerprint("answer.py", NOISE, window, boilerplate, language="python", fp=io.StringIO(code))


def compare(answers: dict[str, dict[str, str]], given: list[str], assignment: str = "") -> list[Pair]:
    """Every pair of students with the similarity of their answers, ranked (most alike first).

    Each exercise's answers are compared with each other (never across exercises or cells);
    a student's similarity is the matching share of all their answer tokens.

    Args:
        answers: ``{student: {exercise: code}}``.
        given: code every student had or may legitimately share (release, reference answers):
            its fingerprints are removed before comparing.
        assignment: the notebook, for the pairs.
    """
    boilerplate = np.unique(np.concatenate([np.array(list(_fingerprint(g, window=1).hashes), dtype=np.int64)
                                            for g in given] or [np.array([], dtype=np.int64)]))
    prints = {s: {e: _fingerprint(code, boilerplate) for e, code in mine.items() if code.strip()}
              for s, mine in answers.items()}
    tokens = {s: sum(float(f.token_coverage) for f in mine.values()) for s, mine in prints.items()}
    pairs = []
    for a, b in itertools.combinations(sorted(prints), 2):
        matched, shown = [0.0, 0.0], []
        for exercise in sorted(prints[a].keys() & prints[b].keys()):
            first, second = prints[a][exercise], prints[b][exercise]
            overlap, similarity, slices = compare_files(first, second)
            if overlap == 0:
                continue
            matched[0] += float(similarity[0]) * float(first.token_coverage)
            matched[1] += float(similarity[1]) * float(second.token_coverage)
            shown.append((exercise, *(highlight_overlap(f.raw_code, cut, "<mark>", "</mark>", truncate=6,
                                                        escape_html=True)[0]
                                      for f, cut in ((first, slices[0]), (second, slices[1])))))
        share = tuple(m / tokens[s] if tokens[s] else 0.0 for m, s in zip(matched, (a, b)))
        pairs.append(Pair(assignment, a, b, (share[0], share[1]), round(matched[0]), tuple(shown)))
    return sorted(pairs, key=lambda p: (-p.score, -p.overlap, p.first, p.second))


def given_code(source: Path, released: Path) -> list[str]:
    """What students were given or may have read: the release's code cells and the reference answers."""
    given = [cell_text(c) for c in _code_cells(released.read_text(encoding="utf-8"))]
    given += [cell_text(c) for c in _code_cells(source.read_text(encoding="utf-8")) if cell_grade_id(c).endswith("-code")]
    return [g for g in given if g.strip()]


def similarity_report(submitted: Path | str, config: HomeworkConfig, notebooks: Path | str,
                      threshold: float = 0.5) -> tuple[list[Pair], list[Path]]:
    """Compare every pair of submissions per notebook; write the HTML reports and ``similarity.csv``.

    Args:
        submitted: the submissions folder (``<student>/<NN_x>.ipynb``, as for ``grade``).
        config: the course folder (``<course_dir>/release`` is used when it holds the notebook's release).
        notebooks: the instructor notebooks.
        threshold: the similarity (0-1) from which a pair is shown with its fragments.

    Returns:
        All pairs (ranked within each notebook) and the files written.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"expected a threshold in (0, 1], got {threshold!r}")
    sources = {p.stem: p for p in course_notebooks(notebooks)}
    found = find_submissions(submitted, sorted(sources))
    by_assignment: dict[str, dict[str, str]] = {}
    for sub in found.submissions:
        try:
            by_assignment.setdefault(sub.assignment, {})[sub.student] = read_submission(sub.path)
        except ValueError:
            continue
    pairs, written = [], []
    out = config.course_dir / "similarity"
    with tempfile.TemporaryDirectory(prefix="homework-similarity-") as tmp:
        for assignment, texts in sorted(by_assignment.items()):
            released = config.course_dir / "release" / assignment / f"{assignment}.ipynb"
            if not released.is_file():
                (released,) = release([sources[assignment]], HomeworkConfig(Path(tmp) / assignment))
            given = given_code(sources[assignment], released)
            release_cells = {cell_text(c) for c in _code_cells(released.read_text(encoding="utf-8"))}
            answers = {s: answer_cells(t, release_cells) for s, t in texts.items()}
            ranked = compare(answers, given, assignment)
            pairs += ranked
            path = out / f"{assignment}.html"
            write_file(path, _html(assignment, ranked, threshold, len(answers)))
            written.append(path)
    csv_path = out / "similarity.csv"
    if pairs:
        rows = [["assignment", "student_a", "student_b", "similarity_a", "similarity_b", "matching_tokens"]]
        rows += [[p.assignment, p.first, p.second, f"{p.similarity[0]:.2f}", f"{p.similarity[1]:.2f}", str(p.overlap)]
                 for p in pairs]
        write_file(csv_path, csv_text(rows))
        written.append(csv_path)
    return pairs, written


def _html(assignment: str, pairs: list[Pair], threshold: float, students: int) -> str:
    scores = [p.score for p in pairs]
    typical = (f"median {statistics.median(scores):.2f}, highest {max(scores):.2f}" if scores else "no pairs")
    shown = [p for p in pairs if p.score >= threshold]
    esc = html.escape
    parts = [f"<!doctype html><meta charset='utf-8'><title>Similarity: {esc(assignment)}</title>",
             "<style>body{font-family:sans-serif;max-width:80em;margin:auto}td{vertical-align:top}td+td{width:48%}"
             "pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em}mark{background:#ffd54f}"
             ".note{border-left:4px solid #c00;padding:.5em 1em;background:#fff4f4}</style>",
             f"<h1>Similarity of answers: {esc(assignment)}</h1>",
             f"<p class='note'><b>{esc(NOT_A_VERDICT)}</b></p>",
             f"<p>{students} submissions, {len(pairs)} pairs compared (answer cells only; the release's code "
             f"and the reference answers removed; winnowing with k={NOISE}, window {WINDOW}). Similarity of a "
             f"pair: the larger share of one answer found in the other ({typical}). Shown: pairs from "
             f"{threshold:.2f}, most alike first ({len(shown)}).</p>"]
    for rank, p in enumerate(shown, start=1):
        first, second = esc(safe_text(p.first)), esc(safe_text(p.second))
        parts.append(f"<h2>{rank}. {first} and {second}: {p.similarity[0]:.0%} / {p.similarity[1]:.0%} "
                     f"({p.overlap} matching tokens)</h2>")
        parts.append(f"<table><tr><th></th><th>{first}</th><th>{second}</th></tr>")
        for exercise, left, right in p.fragments:
            parts.append(f"<tr><td>{esc(exercise)}</td><td><pre>{left}</pre></td><td><pre>{right}</pre></td></tr>")
        parts.append("</table>")
    return "\n".join(parts) + "\n"
