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

Two fields can be added to any rule (a string rule is then written ``{"rule": "equal", ...}``):

* ``"needs": ["key", ...]``: the key passes only when its own rule and the rules of the keys
  it needs pass (e.g. "the input was left unchanged" counts only with a correct result, so a
  function that does nothing earns nothing);
* ``"pick": "<data key>"``: compare only the elements (of a list or along an array's first
  axis) at the indices listed under that data key, which ``cases`` keeps as a truth. A probe
  runs good and bad cases mixed in one list, so the learner's kernel cannot tell which
  answers must be refusals; the grader splits them here, e.g.
  ``{"sizes": {"rule": "equal", "pick": "fit"}, "refuses": {"rule": "equal", "pick": "too_big"}}``.

An exception is an answer like any other: ``{"raised": name, "kinds": [the class and its
bases]}`` (``attempt`` in :mod:`homework_tools.kernel`), equal to the reference's
``{"raised": "ValueError", ...}`` when ``"ValueError"`` is among the student's kinds, so a
subclass of the expected exception counts.

Each scored key is worth an equal share of the exercise's points and passes or fails
as a whole. Answers arrive as ``.npz`` bytes (``__tree__``: the JSON structure, arrays
referenced as ``{"__ndarray__": name}``) and are read with ``allow_pickle=False`` after
their declared sizes, element counts and nesting have been checked; any archive that is
not exactly that is refused as a whole (:class:`AnswerError`), never raised past the grader.
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

from . import kernel

SIMPLE_RULES = ("equal", "set", "data")
_NUMBER_KINDS = "biuf"  # numpy dtype kinds a numeric rule accepts (bool, int, uint, float)
ARRAY_TAG = "__ndarray__"
TREE_ENTRY = "__tree__"
MAX_ELEMENTS = 2**26  # elements of all arrays of one answer (a zero-byte dtype must not allocate 10**12 items)
MAX_NODES = 2**20  # values in an answer's JSON structure
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
        if isinstance(rule, dict) and (set(rule) & set(_FIELDS) or set(rule) == {"rule"}):
            needs, pick = rule.get("needs", [key + "?"]), rule.get("pick")
            if "needs" in rule and (not isinstance(needs, list) or not needs or any(
                    not isinstance(k, str) or k == key or own_rule(compare.get(k, "data")) == "data" for k in needs)):
                problems.append(f"{where}: 'needs' must be a list of other scored keys of COMPARE, got {needs!r}")
            if "pick" in rule and (not isinstance(pick, str) or own_rule(compare.get(pick)) != "data"):
                problems.append(f"{where}: 'pick' must name a 'data' key of COMPARE (a list of indices), got {pick!r}")
            rule = own_rule(rule)
            if rule == "data":
                problems.append(f"{where}: a 'data' key is never scored, so it cannot need or pick")
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
    if compare and all(own_rule(rule) == "data" for rule in compare.values()):
        problems.append("every key is 'data': nothing would be scored")
    return problems


_FIELDS = ("needs", "pick")  # fields any rule may carry besides its own


def own_rule(rule: Any) -> Any:
    """A rule without its ``"needs"`` and ``"pick"`` (``{"rule": "equal", "needs": [...]}`` is ``"equal"``)."""
    if isinstance(rule, dict) and (set(rule) & set(_FIELDS) or set(rule) == {"rule"}):
        rule = {k: v for k, v in rule.items() if k not in _FIELDS}
        return rule["rule"] if set(rule) == {"rule"} else rule
    return rule


def picked(rule: Any) -> str | None:
    """The data key whose indices a rule compares (its ``"pick"``), or None."""
    return rule.get("pick") if isinstance(rule, dict) else None


def needs(rule: Any) -> list[str]:
    """The keys a rule counts only together with (its ``"needs"``)."""
    return list(rule.get("needs", [])) if isinstance(rule, dict) else []


def scored_keys(compare: Mapping[str, Any]) -> list[str]:
    """The keys of ``compare`` that are worth points (all but ``"data"`` keys), in order."""
    return [key for key, rule in compare.items() if own_rule(rule) != "data"]


def needs_reference(rule: Any) -> bool:
    """Whether a rule compares with the reference answers (a min/max bound does not)."""
    rule = own_rule(rule)
    return not (isinstance(rule, dict) and "match" not in rule and set(rule) <= {"min", "max"})


# --------------------------------------------------------------------------- sending plain data

def encode(answer: Mapping[str, Any]) -> bytes:
    """Plain data (a dict) as ``.npz`` bytes, the format probes answer in (to send inputs or answers on).

    Raises:
        TypeError: a value that is not plain data (see :func:`homework_tools.kernel.plain`).
    """
    arrays: dict[str, Any] = {}
    tree = kernel.plain(dict(answer), arrays)
    arrays["__tree__"] = np.frombuffer(json.dumps(tree).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


# --------------------------------------------------------------------------- answers

def decode_answer(blob: bytes, limit: int) -> Any:
    """Read one probe's answer from ``.npz`` bytes without trusting them.

    Only uncompressed entries, declared sizes and element counts checked against ``limit``
    and :data:`MAX_ELEMENTS` before anything is read, arrays of plain dtypes with items of at
    least one byte, ``allow_pickle=False``, a JSON structure of at most :data:`MAX_NODES`
    values nested at most ``kernel.MAX_DEPTH + 2`` deep (checked before it is parsed).

    Args:
        blob: the bytes a sandbox sent.
        limit: the most bytes the arrays and the structure may take.

    Returns:
        The answer: dicts, lists, numbers, strings, bools, None and numpy arrays.

    Raises:
        AnswerError: anything else, whatever the archive does to the zip reader (encrypted or
            oddly compressed entries, names that disagree, truncation, lying headers).
    """
    try:
        return _decode(blob, limit)
    except AnswerError:
        raise
    except Exception as err:  # zipfile and numpy raise many kinds on crafted archives: all mean "unreadable"
        raise AnswerError(f"not a readable answer archive ({type(err).__name__})") from None


def _decode(blob: bytes, limit: int) -> Any:
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise AnswerError(f"not an .npz archive ({err})") from None
    total = 0
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED:
            raise AnswerError(f"entry {info.filename!r} is compressed; answers are sent uncompressed")
        if info.flag_bits & 0x1:
            raise AnswerError(f"entry {info.filename!r} is encrypted")
        total += info.file_size
    if total > limit:
        raise AnswerError(f"the answer declares {total} bytes, more than the limit of {limit}")
    names = [info.filename.removesuffix(".npy") for info in infos]
    if len(set(names)) != len(names):
        raise AnswerError("the answer repeats an entry")
    if TREE_ENTRY not in names:
        raise AnswerError("the answer has no structure entry")
    elements = 0
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
            if dtype.hasobject or dtype.kind not in "biufcUS" or dtype.itemsize == 0:
                raise AnswerError(f"entry {info.filename!r} has dtype {dtype}, not plain numbers or text")
            if math.prod(shape) * dtype.itemsize > info.file_size:
                raise AnswerError(f"entry {info.filename!r} declares shape {shape}, larger than its data")
            elements += math.prod(shape)
    if elements > MAX_ELEMENTS:
        raise AnswerError(f"the answer holds {elements} array elements, more than {MAX_ELEMENTS}")
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise AnswerError(f"could not read the arrays ({err})") from None
    text = arrays.pop(TREE_ENTRY).tobytes()
    _check_structure(text)
    try:
        tree = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as err:
        raise AnswerError(f"the structure is not JSON ({err})") from None
    return _resolve(tree, arrays)


def _check_structure(text: bytes) -> None:
    """Refuse a JSON text nested too deeply or holding too many values, before it is parsed."""
    depth = values = 0
    in_string = escaped = False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
            continue
        if byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            values += 1
            if depth > kernel.MAX_DEPTH + 2:
                raise AnswerError(f"the structure is nested more than {kernel.MAX_DEPTH + 2} deep")
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
        elif byte == 0x2C:  # ,
            values += 1
        if values > MAX_NODES:
            raise AnswerError(f"the structure holds more than {MAX_NODES} values")


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
    own: dict[str, KeyResult] = {}
    for key in scored_keys(compare):
        rule = own_rule(compare[key])
        if not isinstance(student, dict) or key not in student:
            own[key] = KeyResult(key, False, "missing")
            continue
        value = student[key]
        try:
            pick = picked(compare[key])
            if pick is not None:
                value, reference_here = _pick(value, reference, key, pick, rule)
            else:
                reference_here = reference
            passed, reason = _apply(rule, value, reference_here, key)
        except (TypeError, ValueError, OverflowError, RecursionError, KeyError):  # the wrong kind of value: not equal
            passed, reason = False, "wrong kind of value"
        own[key] = KeyResult(key, passed, "ok" if passed else reason)
    results = []
    for key, result in own.items():
        if result.passed and not all(own[k].passed for k in needs(compare[key]) if k in own):
            result = KeyResult(key, False, "counts only with a correct result")
        results.append(result)
    return results


def _pick(value: Any, reference: Mapping[str, Any], key: str, pick: str, rule: Any) -> tuple[Any, dict]:
    """The student's value and a reference reduced to the elements at ``reference[pick]``'s indices."""
    indices = [int(i) for i in reference[pick]]
    full = reference[key]

    def select(x: Any) -> Any:
        if isinstance(x, np.ndarray) and x.ndim >= 1 and len(x) == len(full):
            return x[indices]
        if isinstance(x, (list, tuple)) and len(x) == len(full):
            return [x[i] for i in indices]
        raise ValueError("not a list of one answer per case")

    here = dict(reference)
    here[key] = select(full)
    if isinstance(rule, dict) and "match" in rule:
        here[rule["match"]] = [reference[rule["match"]][i] for i in indices]
    return select(value), here


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
        if isinstance(a, dict) and isinstance(b, dict) and "raised" in a and "raised" in b:
            return same_exception(a, b)
        return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b)
                and all(map(equal, a, b)))
    if _is_number(a) and _is_number(b):
        x, y = float(a), float(b)
        return (math.isnan(x) and math.isnan(y)) or a == b
    return type(a) is type(b) and a == b


def same_exception(student: Mapping[str, Any], reference: Mapping[str, Any]) -> bool:
    """Whether a student's exception is of the reference's kind: its class or one of its bases has that name.

    Args:
        student: ``{"raised": name, "kinds": [names]}`` (``kinds`` may be missing: then the name).
        reference: ``{"raised": name, ...}``.
    """
    expected = reference.get("raised")
    kinds = student.get("kinds")
    names = [student.get("raised")] + (list(kinds) if isinstance(kinds, list) else [])
    return isinstance(expected, str) and expected in [n for n in names if isinstance(n, str)]


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
