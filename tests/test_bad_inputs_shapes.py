"""Bad inputs to course_utils.shapes beyond the shared cases of ``tests/bad_inputs.py`` (run by
``tests/test_bad_inputs.py``): checks that need more than "a clear error naming the argument".
"""

import pytest


def test_functional_max_pool_is_measured_like_the_layer():
    import torch.nn.functional as F
    from torch import nn

    from course_utils import shapes

    class FunctionalPool(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3)

        def forward(self, x):
            return self.b(F.max_pool2d(self.a(x), 2))

    stack = nn.Sequential(nn.Conv2d(1, 1, 3), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3))
    measured = shapes.measure_receptive_field(FunctionalPool(), (1, 1, 20, 20))
    assert measured.size == shapes.measure_receptive_field(stack, (1, 1, 20, 20)).size
    assert measured.size == shapes.receptive_field(stack).size == (8, 8)


def test_receptive_field_names_nested_layers_and_suggests_what_exists():
    from torch import nn

    from course_utils import models, shapes

    with pytest.raises(TypeError, match=r"layer '4\.0' of model"):
        shapes.receptive_field(nn.Sequential(*[nn.ReLU()] * 4, nn.Sequential(nn.Linear(2, 2))))

    class NoFeatures(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.head = nn.Conv2d(1, 4, 3), nn.Linear(4, 2)

    with pytest.raises(TypeError, match=r"its parts: \['body', 'head'\].*measure_receptive_field") as info:
        shapes.receptive_field(NoFeatures())
    assert "model.features" not in str(info.value)
    with pytest.raises(TypeError, match="residual, inception.*measure_receptive_field"):
        shapes.receptive_field(nn.Sequential(nn.Conv2d(1, 4, 3), models.ResidualBlock(4, 4)))


def test_timm_batchnorm_act_is_element_wise():
    from timm.layers import BatchNormAct2d
    from torch import nn

    from course_utils import shapes

    table = shapes.receptive_field(nn.Sequential(nn.Conv2d(3, 8, 3), BatchNormAct2d(8), nn.Conv2d(8, 8, 3)), 16)
    assert table.size == (5, 5) and table[-1].output_size == (12, 12)


@pytest.mark.parametrize("layer,n", [
    ("MaxPool2d(2, padding=2)", 8), ("AvgPool2d(3, padding=2)", 8), ("MaxPool1d(2, padding=2)", 8),
    ("Conv2d(1, 1, 3, padding=2, padding_mode='reflect')", 2),
    ("Conv2d(1, 1, 5, padding=3, padding_mode='circular')", 2),
])
def test_settings_torch_refuses_are_refused_too(layer, n):
    import torch
    from torch import nn

    from course_utils import shapes

    module = eval(f"nn.{layer}")
    x = torch.zeros((1, 1, n) if "1d" in layer else (1, 1, n, n))
    with pytest.raises(RuntimeError):
        module(x)
    with pytest.raises(shapes.ShapeError, match="padding=.*PyTorch refuses it"):
        shapes.receptive_field(nn.Sequential(module), n)


def test_numpy_ints_are_accepted_and_bools_refused():
    import numpy as np

    from course_utils import shapes

    assert shapes.conv_output_size(np.int64(28), np.int32(3)) == 26
    with pytest.raises(shapes.ShapeError, match="kernel_size must be an int >= 1"):
        shapes.conv_output_size(28, True)
