"""Bad inputs to every public function of course_utils: each ends in a clear course error that names the argument.

The cases (wrong types, ranks, dtypes, ranges, empty inputs, NaN...) live in ``tests/bad_inputs.py``,
shared with ``tests/probe_bad_inputs.py``; the obvious forms that are converted instead of refused
(uint8 0-255, channels-last, NumPy...) are checked against the canonical form's result. Checks
particular to one module are in ``tests/test_bad_inputs_<module>.py``.
"""

import bad_inputs
import pytest


@pytest.mark.parametrize("case", bad_inputs.CASES, ids=[f"{c.module}: {c.name}" for c in bad_inputs.CASES])
def test_bad_input_gives_a_clear_error(case):
    bad_inputs.assert_clear(case)


@pytest.mark.parametrize("case", bad_inputs.ACCEPTED, ids=[f"{c.module}: {c.name}" for c in bad_inputs.ACCEPTED])
def test_obvious_form_is_converted(case):
    bad_inputs.assert_converted(case)
