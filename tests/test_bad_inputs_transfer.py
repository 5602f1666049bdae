"""Bad inputs to course_utils.transfer: each one ends in a clear course error that names the argument.

The cases (wrong types, ranks, dtypes, ranges, empty inputs, NaN...) live in ``tests/bad_inputs.py``,
shared with ``tests/probe_bad_inputs.py``; the obvious forms that are converted instead of refused
(uint8 0-255, channels-last, NumPy...) are checked against the canonical form's result.
"""

import bad_inputs
import pytest

CASES = bad_inputs.cases("transfer")
ACCEPTED = bad_inputs.accepted_cases("transfer")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_a_clear_error(case):
    bad_inputs.assert_clear(case)


@pytest.mark.parametrize("case", ACCEPTED, ids=[c.name for c in ACCEPTED])
def test_obvious_form_is_converted(case):
    bad_inputs.assert_converted(case)
