"""Bad inputs to course_utils.plots beyond the shared cases of ``tests/bad_inputs.py`` (run by
``tests/test_bad_inputs.py``): checks that need more than "a clear error naming the argument".
"""

import bad_inputs
import pytest


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
