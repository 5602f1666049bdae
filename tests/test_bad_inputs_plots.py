"""Bad inputs to course_utils.plots: each one ends in a clear course error that names the argument.

The cases (wrong types, ranks, dtypes, ranges, empty inputs, NaN...) live in ``tests/bad_inputs.py``,
shared with ``tests/probe_bad_inputs.py``; the obvious forms that are converted instead of refused
(uint8 0-255, channels-last, NumPy...) are checked against the canonical form's result.
"""

import bad_inputs
import pytest

CASES = bad_inputs.cases("plots")
ACCEPTED = bad_inputs.accepted_cases("plots")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_a_clear_error(case):
    bad_inputs.assert_clear(case)


@pytest.mark.parametrize("case", ACCEPTED, ids=[c.name for c in ACCEPTED])
def test_obvious_form_is_converted(case):
    bad_inputs.assert_converted(case)


def test_uint8_and_channels_last_images_are_drawn_like_floats():
    import numpy as np
    import torch

    from course_utils import plots

    photo = bad_inputs.photo()
    u8 = (photo * 255).round().to(torch.uint8)
    reference = plots.show_images(u8.float() / 255).axes[0].images[0].get_array()
    for form in (u8, u8.permute(1, 2, 0), u8.permute(1, 2, 0).numpy(), (u8.float() / 255).permute(1, 2, 0)):
        drawn = plots.show_images(form).axes[0].images[0].get_array()
        assert np.allclose(drawn, reference, atol=1e-6)
    with pytest.raises(ValueError, match="images must be floats in .*normalize=True"):
        plots.show_images(photo * 255)
    with pytest.raises(TypeError, match="labels must hold integer class labels"):
        plots.show_images(photo, labels=torch.tensor([2.7]))
