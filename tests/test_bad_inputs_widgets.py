"""Bad inputs to course_utils.widgets: each one ends in a clear course error that names the argument.

The cases (wrong types, ranks, dtypes, ranges, empty inputs, NaN...) live in ``tests/bad_inputs.py``,
shared with ``tests/probe_bad_inputs.py``; the obvious forms that are converted instead of refused
(uint8 0-255, channels-last, NumPy...) are checked against the canonical form's result.
"""

import bad_inputs
import pytest

CASES = bad_inputs.cases("widgets")
ACCEPTED = bad_inputs.accepted_cases("widgets")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_a_clear_error(case):
    bad_inputs.assert_clear(case)


@pytest.mark.parametrize("case", ACCEPTED, ids=[c.name for c in ACCEPTED])
def test_obvious_form_is_converted(case):
    bad_inputs.assert_converted(case)


def test_drawings_are_bounded():
    from course_utils import widgets
    from course_utils.shapes import ShapeError

    with pytest.raises(ShapeError, match="size=150 is more than a drawing can show"):
        widgets.draw_convolution(size=150)
    with pytest.raises(ShapeError, match="size \\+ 2\\*padding = 36 cells per side is too many to draw"):
        widgets.draw_convolution(size=20, padding=8)
    with pytest.raises(ValueError, match="ncols must be an int >= 1"):
        widgets.draw_convolution_gallery([{}], ncols=0)
