"""Bad inputs to course_utils.pretrained beyond the shared cases of ``tests/bad_inputs.py`` (run by
``tests/test_bad_inputs.py``): checks that need more than "a clear error naming the argument".
"""

import bad_inputs
import pytest


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
