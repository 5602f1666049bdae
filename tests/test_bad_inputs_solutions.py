"""Bad inputs to course_utils.solutions: an exercise id of a notebook the course does not have."""

import pytest


def test_a_notebook_number_the_course_does_not_have_is_named_as_such():
    """Issue 22: solution("99-ex1") said this copy of the course has no solutions (notebook 99 does not exist)."""
    from course_utils import solutions

    with pytest.raises(ValueError, match=r"notebook 99 is not in this course, which has notebooks 00 to"):
        solutions.solution("99-ex1")
