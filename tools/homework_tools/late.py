"""Late work: due dates, submission times, a penalty rule and extensions, applied to scores.

A policy is a JSON file (``--late late.json``)::

    {
      "due": {"02_image_kernels": "2026-03-02T23:59:00+01:00"},
      "penalty": {"percent": 10, "per": "day", "max_percent": 50, "grace_minutes": 0,
                  "of": "points possible"},
      "extensions": {"alice": {"02_image_kernels": "2026-03-04T23:59:00+01:00"},
                     "bob": {"*": "+2d"}},
      "timezone": "Europe/Berlin"
    }

* ``due``: one due date per notebook (ISO 8601; a notebook without one is never late).
* ``penalty``: ``percent`` deducted for each started ``day`` or ``hour`` after the due date
  (one second late is one day late), at most ``max_percent``; ``grace_minutes`` late still
  counts as on time; ``of``: a percentage of the ``"points possible"`` (Canvas's rule) or of
  the ``"score"``. A score never goes below 0.
* ``extensions``: per student (folder name, roster id or email) and notebook (``"*"``: all),
  a new due date or extra time (``"+2d"``, ``"+36h"``).
* ``timezone``: how to read times written without a UTC offset (else they are refused).

Submission times come from a CSV file (``--times``): a student column (``student``, ``id``,
``email``, ``SID``, ...), a time column (``submitted_at``, Gradescope's ``Submission Time``,
Moodle's ``Last modified (submission)``) and, unless the file is for one notebook, an
``assignment`` column; or, on Gradescope, from ``submission_metadata.json``. The outcome is
shown as columns: raw, late, penalty, final.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .scores import read_csv

UNITS = {"day": 86400, "hour": 3600}
_SHIFT = re.compile(r"^\+\s*(\d+(?:\.\d+)?)\s*([dh])$")
_FORMATS = ("%Y-%m-%d %H:%M:%S %z",  # Gradescope's "Submission Time"
            "%A, %d %B %Y, %I:%M %p",  # Moodle's grading worksheet (English)
            "%d %B %Y, %I:%M %p")
STUDENT_COLUMNS = ("student", "id", "sid", "student id", "email", "email address", "login", "sis login id",
                   "identifier", "username", "name", "full name")
TIME_COLUMNS = ("submitted_at", "submitted at", "submission time", "last modified (submission)", "submitted",
                "timestamp")
ASSIGNMENT_COLUMNS = ("assignment", "notebook")


@dataclass(frozen=True)
class LatePolicy:
    """Due dates, the penalty rule and extensions (see the module docstring for the file)."""

    # assignment -> due date (aware datetimes)
    due: dict[str, datetime] = field(default_factory=dict)
    # percent deducted per started unit (day or hour) after the due date
    percent: float = 0.0
    per: str = "day"
    # the most ever deducted, in percent
    max_percent: float = 100.0
    # submissions this many minutes late count as on time
    grace_minutes: float = 0.0
    # what the percentage is of: "points possible" or "score"
    of: str = "points possible"
    # student key -> {assignment or "*": new due date (datetime) or extra time (timedelta)}
    extensions: dict[str, dict[str, datetime | timedelta]] = field(default_factory=dict)
    # the zone of times written without a UTC offset (None: such times are refused)
    timezone: str | None = None

    def __post_init__(self) -> None:
        if self.per not in UNITS:
            raise ValueError(f"late policy: penalty 'per' must be 'day' or 'hour', got {self.per!r}")
        if self.of not in ("points possible", "score"):
            raise ValueError(f"late policy: penalty 'of' must be 'points possible' or 'score', got {self.of!r}")
        for name in ("percent", "max_percent", "grace_minutes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value or \
                    (name != "grace_minutes" and value > 100):
                raise ValueError(f"late policy: penalty {name!r} must be a number"
                                 f"{' from 0 to 100' if name != 'grace_minutes' else ' >= 0'}, got {value!r}")

    def due_for(self, keys: list[str], assignment: str) -> datetime | None:
        """The due date of ``assignment`` for a student known by any of ``keys``, extensions applied."""
        due = self.due.get(assignment)
        for key in keys:
            granted = self.extensions.get(key, {})
            extension = granted.get(assignment, granted.get("*"))
            if isinstance(extension, datetime):
                return extension
            if isinstance(extension, timedelta) and due is not None:
                return due + extension
        return due


@dataclass(frozen=True)
class Lateness:
    """One submission's lateness and what it costs."""

    due: datetime | None
    submitted: datetime | None
    seconds: float  # after the due date (<= 0: on time); 0 when either time is unknown
    percent: float  # deducted
    raw: float
    penalty: float  # points deducted
    final: float
    note: str  # in words, "" when on time

    @property
    def late(self) -> str:
        """The lateness as a column: ``""`` on time, else e.g. ``"1d 0h 0m 1s"``."""
        if self.seconds <= 0:
            return ""
        whole = math.ceil(self.seconds)
        days, rest = divmod(whole, 86400)
        return f"{days}d {rest // 3600}h {rest % 3600 // 60}m {rest % 60}s"


def parse_time(text: str, zone: str | None = None, what: str = "time") -> datetime:
    """An aware datetime from ISO 8601 (``Z`` allowed), Gradescope's or Moodle's format.

    Args:
        text: the time as written.
        zone: an IANA zone (``"Europe/Berlin"``) for times without a UTC offset.
        what: what the time is, for the error message.

    Raises:
        ValueError: an unreadable time, or one without offset and without ``zone``.
    """
    raw = text.strip()
    value = None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        for fmt in _FORMATS:
            try:
                value = datetime.strptime(raw, fmt)
                break
            except ValueError:
                continue
    if value is None:
        raise ValueError(f"{what}: cannot read {text!r} as a date and time (expected ISO 8601, "
                         "e.g. 2026-03-02T23:59:00+01:00)")
    if value.tzinfo is None:
        if zone is None:
            raise ValueError(f"{what}: {text!r} has no UTC offset; write one (e.g. +01:00) or set "
                             "\"timezone\" in the late policy")
        try:
            value = value.replace(tzinfo=ZoneInfo(zone))
        except ZoneInfoNotFoundError:
            raise ValueError(f"late policy: unknown timezone {zone!r} (expected e.g. 'Europe/Berlin')") from None
    return value


def load_policy(path: Path | str) -> LatePolicy:
    """Read a late policy JSON file (see the module docstring).

    Raises:
        ValueError: the file or a key in it is wrong, named with what was expected.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ValueError(f"late policy {str(path)!r}: cannot read it as JSON ({err})") from None
    return policy_from_dict(data, str(path))


def policy_from_dict(data: object, where: str = "late policy") -> LatePolicy:
    """A :class:`LatePolicy` from the parsed JSON (``where`` names the source in errors)."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a JSON object with 'due', 'penalty', 'extensions'")
    unknown = set(data) - {"due", "penalty", "extensions", "timezone"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)} (expected due, penalty, extensions, timezone)")
    zone = data.get("timezone")
    if zone is not None and not isinstance(zone, str):
        raise ValueError(f"{where}: 'timezone' must be a name like 'Europe/Berlin', got {zone!r}")
    due_in, penalty, extensions_in = data.get("due", {}), data.get("penalty", {}), data.get("extensions", {})
    if not isinstance(due_in, dict) or not isinstance(penalty, dict) or not isinstance(extensions_in, dict):
        raise ValueError(f"{where}: 'due', 'penalty' and 'extensions' must be JSON objects")
    due = {a: parse_time(str(t), zone, f"{where}: due date of {a}") for a, t in due_in.items()}
    unknown = set(penalty) - {"percent", "per", "max_percent", "grace_minutes", "of"}
    if unknown:
        raise ValueError(f"{where}: unknown penalty keys {sorted(unknown)} "
                         "(expected percent, per, max_percent, grace_minutes, of)")
    extensions: dict[str, dict[str, datetime | timedelta]] = {}
    for student, granted in extensions_in.items():
        if not isinstance(granted, dict):
            raise ValueError(f"{where}: the extensions of {student!r} must map a notebook (or '*') to a date or '+2d'")
        for assignment, value in granted.items():
            shift = _SHIFT.match(str(value))
            if shift:
                amount = float(shift.group(1))
                extension: datetime | timedelta = timedelta(days=amount) if shift.group(2) == "d" else timedelta(
                    hours=amount)
            else:
                extension = parse_time(str(value), zone, f"{where}: extension of {student!r} for {assignment}")
            extensions.setdefault(student, {})[assignment] = extension
    return LatePolicy(due=due, extensions=extensions, timezone=zone,
                      **{k: v for k, v in penalty.items()})


def apply(policy: LatePolicy, keys: list[str], assignment: str, raw: float, max_points: float,
          submitted: datetime | None) -> Lateness:
    """The penalty for one submission.

    Args:
        policy: the late policy.
        keys: the names the student is known by (folder name, roster id, email), for extensions.
        assignment: the notebook.
        raw: the points it got.
        max_points: the points possible.
        submitted: when it was handed in (None: unknown, no penalty, said in the note).
    """
    due = policy.due_for(keys, assignment)
    if due is None:
        return Lateness(None, submitted, 0.0, 0.0, raw, 0.0, raw, "")
    if submitted is None:
        return Lateness(due, None, 0.0, 0.0, raw, 0.0, raw, "no submission time known: no late penalty applied")
    seconds = (submitted - due).total_seconds()
    if seconds <= policy.grace_minutes * 60:
        return Lateness(due, submitted, seconds, 0.0, raw, 0.0, raw, "")
    units = math.ceil(seconds / UNITS[policy.per])
    percent = min(policy.percent * units, policy.max_percent)
    base = max_points if policy.of == "points possible" else raw
    penalty = min(raw, base * percent / 100)
    note = (f"{units} {policy.per}{'s' if units != 1 else ''} late: -{percent:g}% of the "
            f"{'points possible' if policy.of == 'points possible' else 'score'}")
    return Lateness(due, submitted, seconds, percent, raw, round(penalty, 4), round(raw - penalty, 4), note)


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def read_times(path: Path | str, assignment: str | None = None,
               zone: str | None = None) -> dict[tuple[str, str | None], datetime]:
    """Submission times from a CSV file: ``{(student key, assignment or None): time}``.

    A row's time is filed under every column that names the student (id, email, name...),
    so that it finds the student whichever one the roster or the folder uses.

    Args:
        path: the CSV file (see the module docstring for its columns).
        assignment: the notebook all rows are for, when the file has no assignment column.
        zone: the zone of times without a UTC offset.

    Raises:
        ValueError: no student or time column, an unreadable time (with its row).
    """
    rows = read_csv(path, "submission times")
    header = rows[0]
    lowered = [h.strip().lower() for h in header]
    who = [i for i, h in enumerate(lowered) if h in STUDENT_COLUMNS]  # every column naming the student
    when, which = _column(header, TIME_COLUMNS), _column(header, ASSIGNMENT_COLUMNS)
    if not who or when is None:
        raise ValueError(f"submission times {str(path)!r}: expected a student column ({', '.join(STUDENT_COLUMNS[:5])}"
                         f", ...) and a time column ({', '.join(TIME_COLUMNS[:4])}), got {header}")
    times: dict[tuple[str, str | None], datetime] = {}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) <= max(*who, when):
            continue
        text = row[when].strip()
        if not text or text in ("-", "No submission"):
            continue
        target = row[which].strip() if which is not None and len(row) > which else assignment
        time = parse_time(text, zone, f"{Path(path).name} row {number}")
        for column in who:
            if row[column].strip():
                times[(row[column].strip(), target)] = time
    return times
