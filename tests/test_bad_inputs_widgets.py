"""Bad inputs to course_utils.widgets beyond the shared cases of ``tests/bad_inputs.py`` (run by
``tests/test_bad_inputs.py``): checks that need more than "a clear error naming the argument".
"""

import pytest


def test_drawings_are_bounded():
    from course_utils import widgets
    from course_utils.shapes import ShapeError

    with pytest.raises(ShapeError, match="size=150 is more than a drawing can show"):
        widgets.draw_convolution(size=150)
    with pytest.raises(ShapeError, match="size \\+ 2\\*padding = 36 cells per side is too many to draw"):
        widgets.draw_convolution(size=20, padding=8)
    with pytest.raises(ValueError, match="ncols must be an int >= 1"):
        widgets.draw_convolution_gallery([{}], ncols=0)
