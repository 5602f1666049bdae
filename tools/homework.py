"""Homework from the course notebooks: ``python tools/homework.py {check,release,grade,lecture} ...``.

The code is the package ``tools/homework_tools/`` (one job per module); this file is only
its command line, so that ``python tools/homework.py --help`` works from a clone.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

try:
    from homework_tools.cli import main
except ImportError as err:  # e.g. a cluster's python, not the course environment
    course = Path(__file__).resolve().parent.parent
    raise SystemExit(f"error: this Python ({sys.executable}) cannot load the homework tools ({err}): run them with "
                     f"the course environment, e.g. {course / '.venv' / 'bin' / 'python'} tools/homework.py ..., or "
                     f"`source {course / '.venv' / 'bin' / 'activate'}` first (in a batch job too)") from None

if __name__ == "__main__":
    raise SystemExit(main())
