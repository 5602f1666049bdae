"""Bad inputs to course_utils.pretrained: each one ends in a clear course error that names the argument.

The cases (wrong types, ranks, dtypes, ranges, empty inputs, NaN...) live in ``tests/bad_inputs.py``,
shared with ``tests/probe_bad_inputs.py``; the obvious forms that are converted instead of refused
(uint8 0-255, channels-last, NumPy...) are checked against the canonical form's result.
"""

import bad_inputs
import pytest

CASES = bad_inputs.cases("pretrained")
ACCEPTED = bad_inputs.accepted_cases("pretrained")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_a_clear_error(case):
    bad_inputs.assert_clear(case)


@pytest.mark.parametrize("case", ACCEPTED, ids=[c.name for c in ACCEPTED])
def test_obvious_form_is_converted(case):
    bad_inputs.assert_converted(case)


def test_preprocess_refuses_0_255_floats_and_top_k_needs_names_beyond_imagenet():
    import torch
    from torch import nn

    from course_utils import pretrained

    photo = bad_inputs.photo()
    with pytest.raises(ValueError, match=r"images must be floats in \[0, 1\].*divide by 255"):
        pretrained.preprocess(photo * 255)
    ten = nn.Sequential(nn.Flatten(), nn.LazyLinear(10))
    with pytest.raises(ValueError, match="returns 10 classes but class_names has 1000 names.*class_names="):
        pretrained.top_k(ten, torch.rand(1, 3, 4, 4))
