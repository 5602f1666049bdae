"""Claims a notebook makes about trained results, re-measured on seeds nobody picked.

A notebook shows its experiments on a few seeds (0, 1, 2) and states what held there: "the
CNN beats the MLP in every seed", "the mean gain is above 2 standard errors", "LeNet gets
above 95%". Such a sentence is a *claim*. Written with this module, the same cell is an
assert in a normal run and a measurement in a claims run (``make claims``, ``tools/claims.py``)::

    from course_utils import claims
    SEEDS = claims.seeds(3)   # normal run: [0, 1, 2]; claims run: the held-out seeds (3..9)
    ...
    claims.check("01-cnn-beats-mlp", [c > m for c, m in zip(cnn, mlp)],
                 "After full training the CNN is more accurate than the MLP in every seed",
                 values={"cnn": cnn, "mlp": mlp})

* **normal run** (learners, nbval, ``make notebooks``): :func:`seeds` returns ``[0, ..., n-1]``
  and :func:`check` raises ``AssertionError`` with the claim's text when it does not hold.
* **claims run** (``CONVNETS_CLAIMS=<folder>``, set by ``tools/claims.py``): :func:`seeds`
  returns the held-out seeds (``CONVNETS_CLAIMS_SEEDS``, default ``3-9``, never one of the
  shown ones) and :func:`check` appends a record to ``<folder>/claims.jsonl`` and never
  raises, so one run measures every claim of the notebook.

``holds`` is either one bool, for a claim about all seeds together ("the mean difference is
above 2 SE": it counts as 1 of 1), or one bool per seed, for a claim about every seed (the
claim holds when all do; the table reports "holds in k of n"). A claim checked seed by seed
in a loop may call :func:`check` once per seed with the same id and text: the calls add up.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import _checks, settings

FOLDER_VARIABLE = "CONVNETS_CLAIMS"  # a claims run: the folder records go to
SEEDS_VARIABLE = "CONVNETS_CLAIMS_SEEDS"  # the held-out seeds of a claims run, e.g. "3-9" or "3,5,7-11"
DEFAULT_HELD_OUT = "3-9"  # seven seeds, none of the shown 0, 1, 2
RECORDS_FILE = "claims.jsonl"  # one JSON record per check() call, appended
MAX_SEEDS = 1000  # a seed is a full run of a notebook's experiments: more is a typo
MAX_NUMBERS = 1000  # values hold the numbers a claim rests on (per-seed scores), not a dataset

_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_shown: list[int] = []  # what the latest seeds(n) call would show in a normal run: [0, ..., n-1]
_held_out_asked = False  # seeds() was called in this claims run: the claims rest on held-out seeds


def active() -> bool:
    """True in a claims run (``CONVNETS_CLAIMS`` names a folder), False in a normal run."""
    return bool(os.environ.get(FOLDER_VARIABLE, "").strip())


def parse_seeds(spec: str) -> list[int]:
    """Seeds from a spec such as ``"3-9"`` or ``"3,5,10-12"`` (inclusive ranges, no repeats).

    Args:
        spec: comma-separated non-negative ints and ``a-b`` ranges with ``a <= b``.

    Returns:
        The seeds in the order written, e.g. ``parse_seeds("3-5,9") == [3, 4, 5, 9]``.

    Raises:
        ValueError: ``spec`` is empty, malformed, or names a seed twice.
    """
    if not isinstance(spec, str):
        raise TypeError(f"a seed spec must be a str such as '3-9', got {_checks.describe(spec)}")
    out: list[int] = []
    for part in spec.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part, re.ASCII)
        if not match:
            raise ValueError(f"seed spec {spec!r}: {part!r} is not a seed or a range a-b; write e.g. '3-9' or '3,5,7-11'")
        low, high = int(match[1]), int(match[2] or match[1])
        if high < low:
            raise ValueError(f"seed spec {spec!r}: the range {part!r} runs backwards; write it as {high}-{low}")
        if len(out) + high - low + 1 > MAX_SEEDS:
            raise ValueError(f"seed spec {spec!r} names more than {MAX_SEEDS} seeds; each one is a full training run")
        out.extend(range(low, high + 1))
    if len(set(out)) != len(out):
        raise ValueError(f"seed spec {spec!r} names a seed twice")
    return out


def held_out_seeds() -> list[int]:
    """The held-out seeds of a claims run: ``$CONVNETS_CLAIMS_SEEDS`` or ``3-9``."""
    spec = os.environ.get(SEEDS_VARIABLE, "").strip() or DEFAULT_HELD_OUT
    try:
        return parse_seeds(spec)
    except ValueError as err:
        raise ValueError(f"environment variable {SEEDS_VARIABLE}: {err}") from None


def seeds(n: int) -> list[int]:
    """The seeds to repeat an experiment with: ``[0, ..., n-1]``, or the held-out ones in a claims run.

    Args:
        n: how many seeds the notebook shows (3 for a comparison; 1 for a single training run
            whose result is asserted). Quick and full mode may differ:
            ``claims.seeds(settings.pick(quick=2, full=3))``.

    Returns:
        A list of ints. In a claims run: the held-out seeds, whatever ``n`` is.

    Raises:
        ValueError: in a claims run, a held-out seed is one of the ``n`` shown seeds.
    """
    global _shown, _held_out_asked
    n = _checks.integer("n", n, 1, hint="the number of seeds the notebook shows, e.g. 3")
    _shown = list(range(n))
    if not active():
        return list(_shown)
    held_out = held_out_seeds()
    overlap = sorted(set(held_out) & set(_shown))
    if overlap:
        raise ValueError(f"the held-out seeds ({SEEDS_VARIABLE}) must not include the shown seeds 0-{n - 1}, "
                         f"but {overlap} are both; choose seeds from {n} on, e.g. {n}-{n + 6}")
    _held_out_asked = True
    return held_out


def check(claim_id: str, holds: Any, text: str, values: Mapping[str, Any] | None = None) -> None:
    """State a claim about a trained result: assert it (normal run) or record it (claims run).

    Args:
        claim_id: a short stable id, ``NN-what`` in lower case, e.g. ``"01-cnn-beats-mlp"``; the
            table keys on it. Calling again with the same id and text adds evaluations (a loop
            over seeds); another text with the same id is an error in the claims table.
        holds: a bool (a NumPy bool, a 0-d bool tensor) for a claim about all seeds together,
            or a sequence of them (a list, a 1-D bool tensor or array), one per seed, for a
            claim that must hold in every seed.
        text: the claim as the notebook states it, in one sentence ("... in every seed").
        values: the numbers the claim rests on, e.g. ``{"cnn": accs, "mlp": accs}``; tensors,
            arrays, NumPy scalars, lists and dicts (tuple keys become "a, b") of them. At most
            1,000 numbers.

    Raises:
        AssertionError: in a normal run, when the claim does not hold (the message is the text,
            the evaluations that failed and the values). Never in a claims run.
        TypeError, ValueError: the arguments are malformed (in both runs, so `make test` finds it).
    """
    if not isinstance(claim_id, str) or not _ID.fullmatch(claim_id):
        error = ValueError if isinstance(claim_id, str) else TypeError
        raise error(f"claim_id must be lower-case words joined by '-', e.g. '01-cnn-beats-mlp', "
                    f"got {_checks.describe(claim_id)}")
    if not isinstance(text, str) or not text.strip():
        error = ValueError if isinstance(text, str) else TypeError
        raise error(f"text must be the claim as one sentence, got {_checks.describe(text)}")
    per_seed = _booleans(holds)
    plain = _plain(values if values is not None else {}, "values")
    if not isinstance(plain, dict):
        raise TypeError(f"values must be a dict such as {{'cnn': accs}}, got {_checks.describe(values)}")
    if _count_numbers(plain) > MAX_NUMBERS:
        raise ValueError(f"values of claim {claim_id} hold more than {MAX_NUMBERS} numbers; pass the numbers the "
                         "claim rests on (a score per seed, a mean and its SE), not whole outputs")
    held = sum(per_seed) if isinstance(per_seed, list) else int(per_seed)
    total = len(per_seed) if isinstance(per_seed, list) else 1
    if active():
        record = {"id": claim_id, "text": text.strip(), "holds": held == total,
                  "per_seed": per_seed if isinstance(per_seed, list) else None, "values": plain,
                  "seeds": held_out_seeds() if _held_out_asked else [], "shown_seeds": list(_shown),
                  "mode": settings.mode_name()}
        folder = Path(os.environ[FOLDER_VARIABLE]).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / RECORDS_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        print(f"claim {claim_id}: {'holds' if held == total else 'DOES NOT HOLD'} ({held} of {total})")
        return
    if held != total:
        where = f" (held in {held} of {total} seeds)" if isinstance(per_seed, list) else ""
        raise AssertionError(f"claim {claim_id} does not hold{where}: {text.strip()} Values: {_short(plain)}")


def _booleans(holds: Any) -> bool | list[bool]:
    """``holds`` as one bool or a non-empty list of bools; anything else is refused."""
    if isinstance(holds, (torch.Tensor, np.ndarray)) and _bool_dtype(holds) and holds.ndim <= 1:
        holds = holds.tolist()  # a 0-d one becomes a bool
    if _is_bool(holds):
        return bool(holds)
    if isinstance(holds, (list, tuple)) and holds and all(_is_bool(h) for h in holds):
        return [bool(h) for h in holds]  # e.g. [c > m for c, m in zip(cnn, mlp)] of 0-d tensors
    if isinstance(holds, (list, tuple)) and not holds:
        raise ValueError("holds is an empty list: a claim about no seed says nothing; pass one bool per seed")
    raise TypeError("holds must be a bool (the claim over all seeds) or a list of bools (one per seed), "
                    f"got {_checks.describe(holds)}; compare numbers first, e.g. [c > m for c, m in zip(cnn, mlp)]")


def _is_bool(value: Any) -> bool:
    """A Python or NumPy bool, or a 0-d bool tensor or array."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return value.ndim == 0 and _bool_dtype(value)
    return isinstance(value, (bool, np.bool_))


def _bool_dtype(array: torch.Tensor | np.ndarray) -> bool:
    return array.dtype == (torch.bool if isinstance(array, torch.Tensor) else np.bool_)


def _plain(value: Any, path: str) -> Any:
    """``value`` as JSON data: tensors and arrays as lists, NumPy scalars as numbers, tuple keys as "a, b"."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().tolist()
    elif isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # "nan", "inf": JSON has no such numbers
    if isinstance(value, Mapping):
        out = {_key(k): _plain(v, f"{path}[{k!r}]") for k, v in value.items()}
        if len(out) != len(value):
            raise ValueError(f"{path} has keys that read the same as text ({list(value)}); rename one")
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{path} must be numbers, strings, bools, None, tensors, arrays, or lists and dicts of them, "
                    f"got {_checks.describe(value)}")


def _key(key: Any) -> str:
    if isinstance(key, tuple):
        return ", ".join(str(_plain(k, "key")) for k in key)
    return key if isinstance(key, str) else str(_plain(key, "key"))


def _count_numbers(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_count_numbers(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_numbers(v) for v in value)
    return 1


def _short(values: dict, limit: int = 400) -> str:
    """The values for a message: compact JSON with floats to 4 significant digits, cut at ``limit``."""
    def rounded(v: Any) -> Any:
        if isinstance(v, float):
            return float(f"{v:.4g}")
        if isinstance(v, dict):
            return {k: rounded(x) for k, x in v.items()}
        if isinstance(v, list):
            return [rounded(x) for x in v]
        return v

    text = json.dumps(rounded(values))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def read_records(folder: str | os.PathLike) -> list[dict]:
    """The records a claims run wrote into ``folder`` (``[]`` when it wrote none), in call order.

    Raises:
        ValueError: a line of ``claims.jsonl`` is not a record (a run stopped while writing it).
    """
    path = _checks.folder("folder", folder, exists=False, hint="the folder a claims run wrote into") / RECORDS_FILE
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as err:
            record = err
        if not isinstance(record, dict):
            raise ValueError(f"folder {str(folder)!r}: line {number} of {RECORDS_FILE} is not a claim record "
                             f"({record if isinstance(record, ValueError) else _checks.describe(record)}); a run "
                             f"stopped while writing it: delete {path} and run the claims again")
        records.append(record)
    return records


__all__ = ["active", "check", "held_out_seeds", "parse_seeds", "read_records", "seeds"]
