"""Bad inputs to course_utils.scenes: each one ends in a clear course error that names the argument.

The cases (wrong types, ranks, dtypes, ranges, empty inputs, NaN...) live in ``tests/bad_inputs.py``,
shared with ``tests/probe_bad_inputs.py``.
"""

import bad_inputs
import pytest

CASES = bad_inputs.cases("scenes")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_a_clear_error(case):
    bad_inputs.assert_clear(case)
