"""Grading rules: check a ``COMPARE`` dict, read answers that crossed out of a sandbox, compare.

Runs in the trusted grading process only. An exercise's probe returns a dict of plain data;
its ``COMPARE`` dict (notebooks/AUTHORING.md) gives one rule per key:

=============================  ===========================================================
rule                           passes when
=============================  ===========================================================
``"equal"``                    same value after normalising (tuples as lists, lists and
                               arrays by shape and every element, NaN equal to NaN)
``"set"``                      equal as unordered collections (duplicates ignored)
``{"rtol": r, "atol": a}``     numbers or arrays (or lists/dicts of them) of the same shape
                               close to the reference: ``|s - ref| <= a + r * |ref|``
                               (a missing ``rtol`` or ``atol`` is 0)
``{"min": lo, "max": hi}``     the student's number alone lies in ``[lo, hi]`` (either bound
                               may be left out; no reference needed)
``{"match": key, "min": f}``   at least a fraction ``f`` of the elements of the student's
                               value equal the *reference's* value under ``key`` (its own
                               key: partial credit against the reference's answer)
``"data"``                     never scored: the key carries data another rule uses (the
                               true labels a ``"match"`` rule compares with)
=============================  ===========================================================

Each scored key is worth an equal share of the exercise's points and passes or fails
as a whole. Answers arrive as ``.npz`` bytes (``__tree__``: the JSON structure, arrays
referenced as ``{"__ndarray__": name}``) and are read with ``allow_pickle=False`` after
their declared sizes have been checked.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

SIMPLE_RULES = ("equal", "set", "data")
_NUMBER_KINDS = "biuf"  # numpy dtype kinds a numeric rule accepts (bool, int, uint, float)
ARRAY_TAG = "__ndarray__"
TREE_ENTRY = "__tree__"
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


class AnswerError(ValueError):
    """An answer that crossed out of a sandbox is not plain data within the limits."""


# --------------------------------------------------------------------------- rules

def rule_problems(compare: Any) -> list[str]:
    """Every problem of a ``COMPARE`` dict (empty when it is valid).

    Args:
        compare: the value of ``COMPARE`` (from ``ast.literal_eval``).

    Returns:
        Messages naming the key and what was expected, e.g.
        ``"key 'acc': {'min': '0.9'} needs numbers for 'min'/'max'"``.
    """
    if not isinstance(compare, dict) or not compare:
        return [f"COMPARE must be a non-empty dict of rules, got {compare!r}"]
    problems = []
    for key, rule in compare.items():
        where = f"key {key!r}"
        if not isinstance(key, str):
            problems.append(f"{where}: keys must be strings (the probe returns a dict with string keys)")
        if isinstance(rule, str):
            if rule not in SIMPLE_RULES:
                problems.append(f"{where}: unknown rule {rule!r}; expected one of {list(SIMPLE_RULES)} or a dict")
            continue
        if not isinstance(rule, dict) or not rule:
            problems.append(f"{where}: a rule is a string {list(SIMPLE_RULES)} or a non-empty dict, got {rule!r}")
            continue
        fields = set(rule)
        numbers = {k: v for k, v in rule.items() if k != "match"}
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v) for v in numbers.values()):
            problems.append(f"{where}: {rule!r} needs numbers for {sorted(numbers)}")
            continue
        if "match" in rule:
            target = rule["match"]
            if fields != {"match", "min"}:
                problems.append(f"{where}: a match rule is {{'match': '<key>', 'min': fraction}}, got {rule!r}")
            elif not isinstance(target, str) or target not in compare:
                problems.append(f"{where}: 'match' must name a key of COMPARE (itself: the reference's own "
                                f"value), got {target!r}")
            elif not 0 <= rule["min"] <= 1:
                problems.append(f"{where}: a match rule's 'min' is a fraction in [0, 1], got {rule['min']!r}")
        elif fields <= {"rtol", "atol"}:
            if any(v < 0 for v in rule.values()):
                problems.append(f"{where}: tolerances must be >= 0, got {rule!r}")
        elif fields <= {"min", "max"}:
            if "min" in rule and "max" in rule and rule["min"] > rule["max"]:
                problems.append(f"{where}: 'min' {rule['min']!r} is above 'max' {rule['max']!r}")
        else:
            problems.append(f"{where}: unknown rule {rule!r}; expected {{'rtol', 'atol'}}, {{'min', 'max'}} "
                            "or {'match', 'min'}")
    if compare and all(rule == "data" for rule in compare.values()):
        problems.append("every key is 'data': nothing would be scored")
    return problems


def scored_keys(compare: Mapping[str, Any]) -> list[str]:
    """The keys of ``compare`` that are worth points (all but ``"data"`` keys), in order."""
    return [key for key, rule in compare.items() if rule != "data"]


def needs_reference(rule: Any) -> bool:
    """Whether a rule compares with the reference answers (a min/max bound does not)."""
    return not (isinstance(rule, dict) and "match" not in rule and set(rule) <= {"min", "max"})


# --------------------------------------------------------------------------- answers

def decode_answer(blob: bytes, limit: int) -> Any:
    """Read one probe's answer from ``.npz`` bytes without trusting them.

    Only uncompressed entries, declared sizes checked against ``limit`` before anything
    is read, arrays of plain dtypes, ``allow_pickle=False``.

    Args:
        blob: the bytes a sandbox sent.
        limit: the most bytes the arrays and the structure may take.

    Returns:
        The answer: dicts, lists, numbers, strings, bools, None and numpy arrays.

    Raises:
        AnswerError: anything else (not a zip, compressed or oversized entries, object
            arrays, a structure that is not JSON, a dangling array reference).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise AnswerError(f"not an .npz archive ({err})") from None
    total = 0
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED:
            raise AnswerError(f"entry {info.filename!r} is compressed; answers are sent uncompressed")
        total += info.file_size
    if total > limit:
        raise AnswerError(f"the answer declares {total} bytes, more than the limit of {limit}")
    names = {info.filename.removesuffix(".npy") for info in infos}
    if TREE_ENTRY not in names:
        raise AnswerError("the answer has no structure entry")
    for info in infos:  # the header's shape must fit the bytes really there before numpy allocates it
        with archive.open(info) as f:
            try:
                version = np.lib.format.read_magic(f)
                read_header = _HEADER_READERS.get(version)
                if read_header is None:
                    raise ValueError(f"unsupported .npy version {version}")
                shape, _, dtype = read_header(f)  # a literal header (ast.literal_eval), no pickle
            except (ValueError, SyntaxError) as err:
                raise AnswerError(f"entry {info.filename!r} is not a plain .npy array ({err})") from None
            if dtype.hasobject or dtype.kind not in "biufcUS":
                raise AnswerError(f"entry {info.filename!r} has dtype {dtype}, not plain numbers or text")
            if math.prod(shape) * dtype.itemsize > info.file_size:
                raise AnswerError(f"entry {info.filename!r} declares shape {shape}, larger than its data")
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise AnswerError(f"could not read the arrays ({err})") from None
    try:
        tree = json.loads(arrays.pop(TREE_ENTRY).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as err:
        raise AnswerError(f"the structure is not JSON ({err})") from None
    return _resolve(tree, arrays)


def _resolve(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(tree, dict):
        if set(tree) == {ARRAY_TAG}:
            name = tree[ARRAY_TAG]
            if not isinstance(name, str) or name not in arrays:
                raise AnswerError(f"the structure refers to a missing array {name!r}")
            return arrays[name]
        return {k: _resolve(v, arrays) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_resolve(v, arrays) for v in tree]
    return tree


# --------------------------------------------------------------------------- comparison

@dataclass(frozen=True)
class KeyResult:
    """The verdict on one key of one exercise (no values: safe to show a student)."""

    key: str
    passed: bool
    reason: str  # "ok", "missing", "differs", "out of bounds", ... (never a value)


def compare_answers(student: Any, reference: Mapping[str, Any], compare: Mapping[str, Any]) -> list[KeyResult]:
    """Apply each scored rule of ``compare`` to a student's answer.

    Args:
        student: what the student's probe returned (a dict, or anything if it went wrong).
        reference: what the instructor notebook's probe returned with the same seed.
        compare: the exercise's ``COMPARE`` dict (valid, see :func:`rule_problems`).

    Returns:
        One :class:`KeyResult` per scored key, in ``compare``'s order.
    """
    results = []
    for key in scored_keys(compare):
        rule = compare[key]
        if not isinstance(student, dict) or key not in student:
            results.append(KeyResult(key, False, "missing"))
            continue
        value = student[key]
        try:
            passed, reason = _apply(rule, value, reference, key)
        except (TypeError, ValueError, OverflowError):  # values of the wrong kind: not equal
            passed, reason = False, "wrong kind of value"
        results.append(KeyResult(key, passed, "ok" if passed else reason))
    return results


def _apply(rule: Any, value: Any, reference: Mapping[str, Any], key: str) -> tuple[bool, str]:
    if rule == "equal":
        return equal(value, reference[key]), "differs"
    if rule == "set":
        return same_set(value, reference[key]), "differs"
    if "match" in rule:
        fraction = match_fraction(value, reference[rule["match"]])
        return fraction is not None and fraction >= rule["min"], "too few matches"
    if set(rule) <= {"min", "max"}:
        number = _number(value)
        ok = number is not None and rule.get("min", -math.inf) <= number <= rule.get("max", math.inf)
        return ok, "out of bounds"
    return close(value, reference[key], rule.get("rtol", 0.0), rule.get("atol", 0.0)), "not close enough"


def _is_number(x: Any) -> bool:
    if isinstance(x, (bool, int, float)):
        return True
    return isinstance(x, (np.ndarray, np.generic)) and x.ndim == 0 and x.dtype.kind in _NUMBER_KINDS


def _number(x: Any) -> float | None:
    if not _is_number(x):
        return None
    value = float(x)
    return None if math.isnan(value) else value


def _array(x: Any) -> np.ndarray | None:
    """``x`` as an array of numbers, strings or bools, or None if it is ragged or mixed."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, dict) or x is None:
        return None
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError):
        return None
    return None if arr.dtype.hasobject else arr


def equal(a: Any, b: Any) -> bool:
    """Equality after normalising: lists and arrays by shape and elements, NaN equal to NaN.

    Args:
        a: a student's value.
        b: the reference value.
    """
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        x, y = _array(a), _array(b)
        if x is None or y is None or x.shape != y.shape:
            return False
        if x.dtype.kind in _NUMBER_KINDS and y.dtype.kind in _NUMBER_KINDS:
            return bool(np.array_equal(x, y, equal_nan=x.dtype.kind == "f" or y.dtype.kind == "f"))
        return bool(x.dtype.kind == y.dtype.kind and np.array_equal(x, y))
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b)
                and all(map(equal, a, b)))
    if _is_number(a) and _is_number(b):
        x, y = float(a), float(b)
        return (math.isnan(x) and math.isnan(y)) or a == b
    return type(a) is type(b) and a == b


def _canonical(x: Any) -> Any:
    """A hashable form of a value for set comparison (lists and arrays become tuples)."""
    if isinstance(x, np.ndarray):
        return ("array", x.shape, tuple(x.ravel().tolist()))
    if isinstance(x, (list, tuple)):
        return ("list", tuple(_canonical(v) for v in x))
    if isinstance(x, dict):
        return ("dict", tuple(sorted((k, _canonical(v)) for k, v in x.items())))
    if _is_number(x):
        return ("number", float(x))
    return (type(x).__name__, x)


def same_set(a: Any, b: Any) -> bool:
    """Whether two lists (or 1-D arrays) hold the same elements, in any order, duplicates ignored.

    Values that are not collections (e.g. ``{"raised": "ValueError"}``) must be equal.
    """
    def elements(x: Any) -> list | None:
        if isinstance(x, np.ndarray):
            return list(x) if x.ndim == 1 else None
        return list(x) if isinstance(x, (list, tuple)) else None

    xs, ys = elements(a), elements(b)
    if xs is None or ys is None:  # not collections (e.g. {"raised": ...}): plain equality
        return equal(a, b)
    return {_canonical(v) for v in xs} == {_canonical(v) for v in ys}


def close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    """Numbers, arrays, or lists/dicts of them, close elementwise: ``|a - b| <= atol + rtol * |b|``.

    Shapes must match exactly (no broadcasting); non-numeric leaves must be equal.

    Args:
        a: a student's value.
        b: the reference value.
        rtol: relative tolerance (>= 0).
        atol: absolute tolerance (>= 0).
    """
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and all(close(a[k], b[k], rtol, atol) for k in a)
    x, y = _array(a), _array(b)
    if x is None or y is None:
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):  # ragged: element by element
            return len(a) == len(b) and all(close(u, v, rtol, atol) for u, v in zip(a, b))
        return equal(a, b)
    if x.dtype.kind not in _NUMBER_KINDS or y.dtype.kind not in _NUMBER_KINDS:
        return equal(a, b)
    if x.shape != y.shape:
        return False
    return bool(np.allclose(x.astype(float), y.astype(float), rtol=rtol, atol=atol, equal_nan=True))


def match_fraction(a: Any, b: Any) -> float | None:
    """The fraction of elements of ``a`` equal to those of ``b`` (same shape), or None.

    Args:
        a: a student's predictions (list or array).
        b: the reference values (e.g. the true labels).
    """
    x, y = _array(a), _array(b)
    if x is None or y is None or x.shape != y.shape or x.size == 0:
        return None
    return float(np.mean(x == y))


def exercise_score(results: list[KeyResult], points: float) -> float:
    """Points for an exercise: an equal share per passed key, clamped to ``[0, points]``."""
    if not results:
        return 0.0
    share = points * sum(r.passed for r in results) / len(results)
    return min(max(share, 0.0), points)
