"""The learner's workspace: learner copies of the course notebooks, in a git-ignored folder.

    python tools/workspace.py build [NB ...]      # create or update workspace/ (what `make lab` opens)
    python tools/workspace.py merge NN_topic      # merge a newer course version into your copy (backup kept)

A learner copy is built from the instructor notebook in ``notebooks/`` with nbgrader's own
preprocessors: each solution region becomes ``raise NotImplementedError()``
(``ClearSolutions``; a region that only assigns a value at top level, e.g. ``max_shift_20 = 6``,
becomes ``max_shift_20 = ...`` so the name to define stays visible), the grading probe between
the hidden-test markers is removed (``ClearHiddenTests``) and the self-check test cells are made
read-only (``LockCells``). The hint and reference-answer cells of the instructor source are left
out: :mod:`course_utils.learner` shows them on request. The outputs of the solution and test
cells are cleared; every other cell keeps the stored full-mode outputs (and the notebook its
widget state), so a learner can read the lesson before running it. Solution and test cells are
tagged ``raises-exception``, so *Run All* runs the whole lesson and shows each unsolved exercise
as failed in place. Each self-check records its outcome (:func:`course_utils.learner.self_check`,
its first line), and a note under it offers hints, then the reference solution. Each
questionnaire question gets a cell of its own, a cell for the learner's answer under it and, for
a number or a shape, a cell that checks it. Every copy is trusted (signed with Jupyter's notary),
so widgets and outputs render at once.

The learner's work is never overwritten. ``.course/base/`` in the workspace keeps each copy
as it was last written; a copy whose cells differ from it (an edit, a run) is the
learner's. When the course has a newer version of such a notebook, ``build`` writes it
beside it as ``NN_topic.new.ipynb`` and says so; ``merge`` then combines the two cell by
cell (your edited cells and your own cells stay, the course's changed cells come in) after
saving your copy in ``backups/``. ``notebooks/`` itself is only read.
"""

from __future__ import annotations

import argparse
import ast
import copy
import datetime as dt
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from course_utils import learner, solutions

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_WORKSPACE = ROOT / "workspace"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
NEW_SUFFIX = ".new.ipynb"  # a newer course version offered beside a notebook the learner changed
MARKER = Path(".course") / learner.MARKER  # marks a folder as a learner workspace (course_utils.learner finds it)
_NOTE = ("*Stuck after a real try?* In a new cell, `hint(\"{exercise}\")` gives a first hint ({count} in all: "
         "then `hint(\"{exercise}\", 2)`), `solution(\"{exercise}\")` the reference solution, and `progress()` "
         "shows how far you are.")
_NOTE_NO_HINTS = ("*Stuck after a real try?* In a new cell, `solution(\"{exercise}\")` shows the reference "
                  "solution, and `progress()` how far you are.")
_CHECK_LINES = ("from course_utils.learner import hint, progress, self_check, solution  # your copy's study helpers\n"
                "self_check(\"{exercise}\")  # records whether this check passes (see progress())\n")
_QUESTIONNAIRE_HELP = ("Write your answer in the cell under each question, then compare it with the reference: "
                       "`compare_answer(\"{number}-q1\")` (question 1) in a new cell. The questions with a number or a "
                       "shape as answer have a cell that checks yours. `progress()` shows what you have done.")
_TOP_LEVEL_REGION = re.compile(r"^### BEGIN SOLUTION[^\n]*\n(.*?)^### END SOLUTION[^\n]*(?:\n|$)", re.S | re.M)


@dataclass
class BuildReport:
    """What :func:`build` did, notebook by notebook (file names relative to the workspace)."""

    workspace: Path
    created: list[str] = field(default_factory=list)  # new in the workspace
    updated: list[str] = field(default_factory=list)  # replaced by a newer course version (learner had not changed it)
    unchanged: list[str] = field(default_factory=list)  # already up to date (or changed by the learner, no update)
    offered: list[str] = field(default_factory=list)  # learner changed it and the course has a newer version: NN.new.ipynb
    kept: list[str] = field(default_factory=list)  # an offered NN.new.ipynb the learner edited: left alone

    def lines(self) -> list[str]:
        """A human summary, one line per event worth telling."""
        out = [f"learner workspace: {self.workspace}"]
        for label, names in (("new", self.created), ("updated to the newest course version", self.updated)):
            if names:
                out.append(f"  {label}: {', '.join(names)}")
        for name in self.offered:
            stem = name[: -len(".ipynb")]
            out.append(f"  {name}: you changed it and the course has a newer version, written beside it as "
                       f"{stem}{NEW_SUFFIX} (yours is untouched). To merge it into yours (a backup is kept): "
                       f"make lab-merge NB={stem}")
        for name in self.kept:
            out.append(f"  {name}: you edited this offered version, so it was left as it is")
        return out


# --------------------------------------------------------------------------- learner copies

def _read(path: Path):
    import nbformat

    if path.suffix != ".ipynb" or not path.is_file():
        raise ValueError(f"expected an existing .ipynb notebook, got {str(path)!r}")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises several types for a damaged file
        raise ValueError(f"{path.name} is not a readable notebook: {err}") from None


def _nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader") or {}


def learner_copy(nb, number: str | None = None):
    """The learner version of an instructor notebook (a new ``NotebookNode``; ``nb`` is unchanged).

    Solution regions become nbgrader's stub (``raise NotImplementedError()``; a top-level region
    that only assigns names becomes ``name = ...``), hidden tests are removed, self-check cells
    are locked (read-only, not deletable) and record their outcome, solution and test cells lose
    their outputs and are tagged ``raises-exception``, a note after each self-check offers hints
    and the solution, hint and reference-answer cells are left out, and each questionnaire
    question gets cells for the learner's answer. All other outputs and the widget state are kept.

    Args:
        nb: an instructor notebook (``nbformat.NotebookNode``, version 4).
        number: its number ``NN`` (from its file name), which names its questions ``NN-qK``; without
            it the questionnaire stays one cell.

    Raises:
        RuntimeError: a solution or hidden-test region is malformed (nbgrader's message).
    """
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions, LockCells

    hint_counts = {m[solutions.HINTS]: len(solutions.numbered_items(c.source))
                   for c in nb.cells if (m := solutions.course_meta(c)).get(solutions.HINTS)}
    checked = next((m.get(solutions.CHECKED) or {} for c in nb.cells
                    if (m := solutions.course_meta(c)).get(solutions.ANSWERS)), {})
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells
                if not (solutions.course_meta(c).get(solutions.HINTS) or solutions.course_meta(c).get(solutions.ANSWERS))]
    stubbed = {}  # cell index -> source with top-level answer regions replaced by `name = ...`
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and _nbgrader_meta(cell).get("solution"):
            new = _stub_assignments(cell.source)
            if new != cell.source:
                stubbed[index] = cell.source = new
    resources: dict = {}
    for preprocessor in (ClearSolutions(enforce_metadata=True), ClearHiddenTests(enforce_metadata=True), LockCells()):
        nb, resources = preprocessor.preprocess(nb, resources)
    for index, source in stubbed.items():
        if "BEGIN SOLUTION" not in source:  # nothing left for nbgrader: it replaced the whole cell with its stub
            nb.cells[index].source = source
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        meta = _nbgrader_meta(cell)
        if cell.cell_type == "markdown":
            if number is not None:
                cells[-1:] = _questionnaire_cells(cell, number, checked)
            continue
        if cell.cell_type != "code" or not (meta.get("solution") or meta.get("grade")):
            continue
        cell.outputs, cell.execution_count = [], None  # they show the solved exercise
        cell.metadata.pop("execution", None)
        tags = cell.metadata.setdefault("tags", [])
        if "raises-exception" not in tags:
            tags.append("raises-exception")  # Run All goes on: an unsolved exercise fails in place
        grade_id = meta.get("grade_id", "")
        if meta.get("grade") and grade_id.endswith("-test"):
            exercise = grade_id[: -len("-test")]
            cell.source = _CHECK_LINES.format(exercise=exercise) + cell.source
            count = hint_counts.get(exercise, 0)
            text = (_NOTE.format(exercise=exercise, count=count) if count
                    else _NOTE_NO_HINTS.format(exercise=exercise))
            cells.append(_markdown(f"hint-{exercise}", text, {"deletable": True}))  # stable id: merges find it
    nb.cells = cells
    return nb


def _markdown(cell_id: str, text: str, metadata: dict | None = None):
    import nbformat

    cell = nbformat.v4.new_markdown_cell(text)
    cell.id = cell_id
    cell.metadata.update(metadata or {})
    return cell


def _stub_assignments(source: str) -> str:
    """``source`` with each top-level solution region that only assigns names replaced by ``name = ...``."""
    def replace(match: re.Match) -> str:
        body = match.group(1)
        try:
            tree = ast.parse(body)
        except SyntaxError:
            return match.group(0)
        names = []
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
                if isinstance(node, ast.AnnAssign) else None
            if not targets or not all(isinstance(t, ast.Name) for t in targets):
                return match.group(0)
            names += [t.id for t in targets]
        if not names:
            return match.group(0)
        return "".join(f"{name} = ...  # YOUR ANSWER HERE, in place of ...\n" for name in names)
    stubbed = _TOP_LEVEL_REGION.sub(replace, source)
    return stubbed if source.endswith("\n") else stubbed.rstrip("\n")


def _questionnaire_cells(cell, number: str, checked: dict) -> list:
    """A questionnaire cell as the learner gets it: the heading with how to answer, then per question its
    text, a cell for the learner's answer and (for a number or a shape) a cell that checks it; the text
    after the questionnaire (e.g. "What next") in a cell of its own. Other cells come back unchanged."""
    import nbformat

    parts = solutions.split_questionnaire(cell.source)
    if not parts or not parts[1]:
        return [cell]
    head, questions, tail = parts
    cell.source = f"{head}\n\n{_QUESTIONNAIRE_HELP.format(number=number)}"
    setup = nbformat.v4.new_code_cell("from course_utils.learner import compare_answer, progress  # the questionnaire's helpers")
    setup.id = f"qhelp-{number}"
    out = [cell, setup]
    for k, text in questions:
        qid = f"{number}-q{k}"
        out.append(_markdown(f"q-{qid}", f"**{k}.** {text}", {"course": {learner.QUESTION_CELL: qid}}))
        out.append(_markdown(f"a-{qid}", learner.ANSWER_PLACEHOLDER, {"course": {learner.ANSWER_CELL: qid}}))
        check = checked.get(str(k))
        if check:
            form = check.get("form") or "your value"
            code = nbformat.v4.new_code_cell(f'compare_answer("{qid}", ...)  # in place of ...: {form}; then run this cell')
            code.id = f"c-{qid}"
            code.metadata["course"] = {learner.CHECK_CELL: qid}
            out.append(code)
    if tail.strip():
        out.append(_markdown(f"next-{cell.get('id', number)}", tail.strip("\n")))
    return out


def _dumps(nb) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def trust(path: Path) -> None:
    """Trust the notebook at ``path`` for this user (Jupyter's notary database; the file is not changed)."""
    import nbformat
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary()
    nb = nbformat.read(path, as_version=4)
    if not notary.check_signature(nb):
        notary.sign(nb)


def _write(path: Path, text: str, signed: bool = True) -> None:
    """Write atomically (a temporary file renamed over ``path``), then trust it if ``signed``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    if signed:
        trust(path)


def _output_key(output) -> list:
    """What an output shows (its type, text and data), without counters and metadata."""
    def text(value) -> str:
        return "".join(value) if isinstance(value, list) else str(value)

    kind = output.get("output_type")
    if kind == "stream":
        return [kind, output.get("name"), text(output.get("text", ""))]
    if kind == "error":
        return [kind, output.get("ename"), output.get("evalue")]
    return [kind, sorted((k, text(v) if not isinstance(v, dict) else json.dumps(v, sort_keys=True))
                         for k, v in output.get("data", {}).items())]


def _cell_key(cell) -> list:
    return [cell.cell_type, cell.source, [_output_key(o) for o in cell.get("outputs", [])]]


def fingerprint(nb) -> str:
    """A hash of what the learner can change in a notebook: its cells' types, sources and outputs.

    Notebook and cell metadata, execution counts and JSON formatting are left out, so opening
    and saving a notebook without changing it keeps its fingerprint.
    """
    blob = json.dumps([_cell_key(c) for c in nb.cells], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- build

def course_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The course notebooks ``NN_topic.ipynb`` in ``folder``, sorted by number."""
    if not Path(folder).is_dir():
        raise ValueError(f"expected a folder of course notebooks, got {str(folder)!r} (not a folder)")
    return sorted(Path(folder).glob(NOTEBOOK_GLOB))


def _base(workspace: Path, name: str) -> Path:
    return workspace / ".course" / "base" / name


def _offered_record(workspace: Path, name: str) -> Path:
    return workspace / ".course" / "offered" / name


def _learner_changed(path: Path, base: Path) -> bool:
    """Whether the learner changed ``path`` since the workspace last wrote it (``base``)."""
    if not base.is_file():
        return True  # no record of what was written: assume it is the learner's
    try:
        return fingerprint(_read(path)) != fingerprint(_read(base))
    except ValueError:
        return True  # unreadable: certainly not ours to overwrite


def build(notebooks: Sequence[Path | str] | None = None, workspace: Path | str = DEFAULT_WORKSPACE) -> BuildReport:
    """Create or update the learner workspace from instructor notebooks.

    A notebook missing from the workspace is written; one the learner has not changed is
    replaced when the course version differs; one the learner changed is left alone and a
    newer course version, if any, is written beside it as ``NN_topic.new.ipynb``. The source
    notebooks are only read.

    Args:
        notebooks: instructor ``.ipynb`` paths (default: every ``notebooks/NN_*.ipynb``).
        workspace: the learner's folder (default ``workspace/`` in the repository, git-ignored).

    Returns:
        A :class:`BuildReport`.
    """
    workspace = Path(workspace).resolve()
    paths = [Path(p) for p in notebooks] if notebooks else course_notebooks()
    if not paths:
        raise ValueError(f"no course notebooks NN_topic.ipynb found in {NOTEBOOKS}")
    if any(p.resolve().parent == workspace for p in paths):
        raise ValueError("the workspace cannot be the folder of the instructor notebooks")
    report = BuildReport(workspace)
    _mark(workspace)
    for src in paths:
        name = src.name
        new_text = _dumps(learner_copy(_read(src), src.name[:2]))
        target, base = workspace / name, _base(workspace, name)
        if not target.exists():
            _write(target, new_text)
            _write(base, new_text, signed=False)
            report.created.append(name)
        elif not _learner_changed(target, base):
            if base.read_text(encoding="utf-8") != new_text:
                _write(target, new_text)
                _write(base, new_text, signed=False)
                report.updated.append(name)
            else:
                trust(target)  # e.g. the trust database was reset
                report.unchanged.append(name)
        elif base.is_file() and base.read_text(encoding="utf-8") == new_text:
            report.unchanged.append(name)  # the learner's version, and no newer course version
        else:
            _offer(workspace, name, new_text, report)
    return report


def _mark(workspace: Path) -> None:
    """Mark ``workspace`` as a learner workspace (where course_utils.learner keeps the progress record)."""
    marker = workspace / MARKER
    text = json.dumps({"course": str(ROOT), "notebooks": str(NOTEBOOKS)}, indent=1) + "\n"
    if not marker.is_file() or marker.read_text(encoding="utf-8") != text:
        _write(marker, text, signed=False)


def _offer(workspace: Path, name: str, new_text: str, report: BuildReport) -> None:
    """Write the newer course version beside the learner's notebook, unless they edited that file."""
    beside = workspace / (name[: -len(".ipynb")] + NEW_SUFFIX)
    record = _offered_record(workspace, name)
    if beside.exists() and _learner_changed(beside, record):
        report.kept.append(beside.name)
        return
    _write(beside, new_text)
    _write(record, new_text, signed=False)
    report.offered.append(name)


# --------------------------------------------------------------------------- merge

@dataclass
class MergeReport:
    """What :func:`merge` did."""

    notebook: Path
    backup: Path
    taken: int = 0  # cells taken from the new course version
    kept: int = 0  # cells of yours kept (edited by you, or added by you)
    conflicts: list[str] = field(default_factory=list)  # cells both you and the course changed: yours kept
    dropped: list[str] = field(default_factory=list)  # cells the course removed (unchanged by you)

    def lines(self) -> list[str]:
        out = [f"merged the newest course version into {self.notebook}",
               f"  your previous version is saved as {self.backup}",
               f"  {self.taken} cells from the course, {self.kept} of yours kept"]
        for c in self.conflicts:
            out.append(f"  conflict: {c}")
        if self.dropped:
            out.append(f"  removed by the course: {len(self.dropped)} cells you had not changed")
        return out


def _cell_id(cell, index: int) -> str:
    return cell.get("id") or f"#{index}"


def _describe(cell) -> str:
    first = cell.source.strip().split("\n", 1)[0][:60]
    grade_id = _nbgrader_meta(cell).get("grade_id")
    return f"{grade_id} ({first!r})" if grade_id else repr(first)


def merge_cells(base, mine, theirs, report: MergeReport | None = None):
    """Three-way merge of notebooks by cell id: the course moved from ``base`` to ``theirs``,
    the learner from ``base`` to ``mine``.

    In the course's order: a cell the learner edited (its source) stays as the learner's (a
    conflict if the course changed it too); any other cell comes from ``theirs``, with the
    learner's outputs kept where the course did not change it. Cells the learner added stay
    after the cell they followed. Cells the course removed are dropped unless the learner
    edited them. Returns a new notebook with ``theirs``'s metadata (widget states united).
    """
    report = report or MergeReport(Path("."), Path("."))
    base_cells = {_cell_id(c, i): c for i, c in enumerate(base.cells)}
    mine_cells = {_cell_id(c, i): c for i, c in enumerate(mine.cells)}
    mine_order = [_cell_id(c, i) for i, c in enumerate(mine.cells)]

    def edited(cid: str) -> bool:
        return cid in base_cells and (mine_cells[cid].source != base_cells[cid].source
                                      or mine_cells[cid].cell_type != base_cells[cid].cell_type)

    merged, merged_ids, placed = [], [], set()

    def put(cell, cid: str, at: int | None = None) -> None:
        at = len(merged) if at is None else at
        merged.insert(at, copy.deepcopy(cell))
        merged_ids.insert(at, cid)
        placed.add(cid)

    for i, cell in enumerate(theirs.cells):
        cid = _cell_id(cell, i)
        if cid in mine_cells and cid in base_cells:
            course_changed = cell.source != base_cells[cid].source or cell.cell_type != base_cells[cid].cell_type
            if edited(cid):
                if course_changed:
                    report.conflicts.append(f"cell {_describe(cell)}: you and the course both changed it; kept yours")
                put(mine_cells[cid], cid)
                report.kept += 1
            elif course_changed:
                put(cell, cid)
                report.taken += 1
            else:  # nobody changed the source: the course's cell (metadata), your outputs
                put(cell, cid)
                if cell.cell_type == "code":
                    merged[-1].outputs = copy.deepcopy(mine_cells[cid].get("outputs", []))
                    merged[-1].execution_count = mine_cells[cid].get("execution_count")
                report.taken += 1
        elif cid in base_cells:  # in the course before and now, but you deleted it
            placed.add(cid)
        else:  # new in the course
            put(cell, cid)
            report.taken += 1
    # the learner's own cells, and cells the course removed that the learner edited: after their predecessor
    for pos, cid in enumerate(mine_order):
        if cid in placed:
            continue
        if cid in base_cells and not edited(cid):
            report.dropped.append(cid)
            continue
        prev = next((p for p in reversed(mine_order[:pos]) if p in merged_ids), None)
        put(mine_cells[cid], cid, at=0 if prev is None else merged_ids.index(prev) + 1)
        report.kept += 1
    out = copy.deepcopy(theirs)
    out.cells = merged
    key = "application/vnd.jupyter.widget-state+json"
    mine_state = mine.metadata.get("widgets", {}).get(key, {}).get("state", {})
    if mine_state:
        widgets = out.metadata.setdefault("widgets", {}).setdefault(key, {"version_major": 2, "version_minor": 0})
        widgets["state"] = {**widgets.get("state", {}), **mine_state}
    return out


def merge(name: str, workspace: Path | str = DEFAULT_WORKSPACE, notebooks: Path | str = NOTEBOOKS,
          now: dt.datetime | None = None) -> MergeReport:
    """Merge the newest course version of one notebook into the learner's copy, after a backup.

    Args:
        name: ``NN_topic`` or ``NN_topic.ipynb`` (also ``NN`` alone, when unambiguous).
        workspace: the learner's folder.
        notebooks: the instructor notebooks.
        now: the time stamped on the backup's name (default: now).

    Returns:
        A :class:`MergeReport`; the backup is ``<workspace>/backups/NN_topic-YYYYmmdd-HHMMSS.ipynb``.
    """
    workspace = Path(workspace).resolve()
    src = _find(name, Path(notebooks))
    target, base = workspace / src.name, _base(workspace, src.name)
    if not target.is_file():
        raise ValueError(f"{target} does not exist: run `make lab` (or tools/workspace.py build) to create it")
    if not base.is_file():
        raise ValueError(f"no record of the course version {target.name} started from ({base} is missing), so it "
                         f"cannot be merged cell by cell; compare it with {src.name} by hand")
    theirs_text = _dumps(learner_copy(_read(src), src.name[:2]))
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    backup = workspace / "backups" / f"{target.stem}-{stamp}.ipynb"
    backup.parent.mkdir(parents=True, exist_ok=True)
    backup.write_bytes(target.read_bytes())
    import nbformat

    report = MergeReport(target, backup)
    merged = merge_cells(_read(base), _read(target), nbformat.reads(theirs_text, as_version=4), report)
    _write(target, _dumps(merged))
    _write(base, theirs_text, signed=False)
    beside = workspace / (target.stem + NEW_SUFFIX)
    record = _offered_record(workspace, target.name)
    if beside.exists() and not _learner_changed(beside, record):
        beside.unlink()
        record.unlink()
    return report


def _find(name: str, folder: Path) -> Path:
    stem = re.sub(r"(\.new)?\.ipynb$", "", Path(name).name)
    matches = [p for p in course_notebooks(folder) if p.stem == stem or p.stem.startswith(stem + "_")]
    if len(matches) != 1:
        known = ", ".join(p.stem for p in course_notebooks(folder))
        raise ValueError(f"{name!r} names {'no' if not matches else 'more than one'} course notebook; "
                         f"expected one of: {known}")
    return matches[0]


# --------------------------------------------------------------------------- command line

def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``build`` and ``merge`` (see the module docstring). Returns the exit status."""
    parser = argparse.ArgumentParser(prog="workspace.py", description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_WORKSPACE, help="the workspace (default workspace/)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="create or update the learner copies")
    p.add_argument("notebooks", nargs="*", type=Path)
    p = sub.add_parser("merge", help="merge the newest course version into your copy of one notebook")
    p.add_argument("notebook", help="NN_topic (or NN)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            report = build(args.notebooks or None, args.dir)
        else:
            report = merge(args.notebook, args.dir)
    except ImportError as err:
        print(f"error: {err}; the learner workspace is built with nbgrader: pip install -e '.[test]'",
              file=sys.stderr)
        return 1
    except (ValueError, RuntimeError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
