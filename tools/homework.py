"""Homework from the course notebooks: ``python tools/homework.py {check,release,grade,lecture} ...``.

The code is the package ``tools/homework_tools/`` (one job per module); this file is only
its command line, so that ``python tools/homework.py --help`` works from a clone.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from homework_tools.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
