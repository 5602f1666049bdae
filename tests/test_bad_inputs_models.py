"""Bad inputs to course_utils.models beyond the shared cases of ``tests/bad_inputs.py`` (run by
``tests/test_bad_inputs.py``): the checked forward of the course's models says what is wrong with a batch.
"""

import pytest


@pytest.mark.parametrize("x, message", [
    (lambda t: t[0], r"x is a single image \(1, 28, 28\).*add a batch dimension with x\[None\]"),
    (lambda t: t.permute(0, 2, 3, 1), r"x has 28 channels.*looks channels-last.*x.permute\(0, 3, 1, 2\)"),
    (lambda t: t.expand(-1, 3, -1, -1), r"x has 3 channels .*takes a batch \(N, 1, H, W\)"),
    (lambda t: t[..., :20, :20], r"x holds 20x20 images but this classic_cnn .* was built for 28x28 .*image_size=20"),
    (lambda t: (t * 255).to(__import__("torch").uint8), r"x holds uint8 pixels.*x.float\(\) / 255"),
    (lambda t: t.double(), r"x holds floats of dtype float64 but the weights .* are float32"),
])
def test_classic_cnn_forward_explains_a_wrong_batch_before_any_layer(x, message):
    """Issue 22: a CHW image or the wrong channel count gave a raw matmul/conv error."""
    import torch

    from course_utils import models

    model = models.classic_cnn(channels=(4,), hidden=(8,))
    batch = torch.rand(2, 1, 28, 28)
    assert model(batch).shape == (2, 10)
    with pytest.raises((ValueError, TypeError), match=message):
        model(x(batch))
    part = model[:1]  # a slice is a plain part, without the check
    assert part(batch).shape == (2, 4, 14, 14)


def test_config_fields_take_numpy_ints_and_refuse_bools_and_truthy_strings():
    import numpy as np

    from course_utils import models

    cfg = models.ClassicCNNConfig(channels=(np.int64(8), 16), image_size=np.int32(28), batch_norm=np.True_)
    assert cfg.channels == (8, 16) and type(cfg.image_size) is int and cfg.batch_norm is True
    with pytest.raises(TypeError, match=r"channels must be a tuple of positive ints.*channels\[1\] is True \(bool\)"):
        models.ClassicCNNConfig(channels=(32, True))
    with pytest.raises(TypeError, match="batch_norm must be True or False, got 'no'"):
        models.ClassicCNNConfig(batch_norm="no")
