import subprocess
import sys

import pytest
import torch

from course_utils import plots


def test_import_is_light():
    code = ("import sys, course_utils; heavy = {'timm', 'ipywidgets', 'matplotlib', 'torchvision'} & set(sys.modules);"
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_public_function_has_a_docstring():
    import importlib
    import inspect

    import course_utils

    for name in course_utils._SUBMODULES:
        module = importlib.import_module(f"course_utils.{name}")
        assert module.__doc__, name
        for attr, obj in vars(module).items():
            if attr.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                assert obj.__doc__ and len(obj.__doc__.strip()) > 10, f"{name}.{attr} needs a docstring"


@pytest.mark.parametrize("images", [torch.rand(28, 28), torch.rand(1, 28, 28), torch.rand(3, 8, 8),
                                    torch.rand(5, 1, 8, 8), [torch.rand(3, 8, 8)] * 2, torch.rand(4, 8, 8)])
def test_show_images_accepts_common_layouts(images):
    assert plots.show_images(images) is not None


def test_show_images_rejects_bad_shapes():
    with pytest.raises(ValueError, match="images must have 1 or 3 channels"):
        plots.show_images(torch.rand(2, 5, 8, 8))
    with pytest.raises(ValueError, match="2 images but 1 labels"):
        plots.show_images(torch.rand(2, 1, 8, 8), labels=[0])


def test_confusion_matrix():
    cm = plots.confusion_matrix(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 1, 2, 2]), 3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        plots.confusion_matrix(torch.tensor([0, 2]), torch.tensor([0, 1]), 2)
    assert plots.plot_confusion_matrix([0, 1], [1, 1], ["a", "b"]) is not None


def test_filters_and_feature_maps():
    assert plots.show_filters(torch.rand(4, 3, 3, 3)) is not None
    assert plots.show_feature_maps(torch.rand(1, 6, 5, 5)) is not None
    with pytest.raises(ValueError, match=r"weight must be a 4D tensor \(C_out, C_in, kH, kW\)"):
        plots.show_filters(torch.rand(3, 3))


def test_show_filters_one_symmetric_scale():
    weight = torch.tensor([[[[-0.5, 0.1]]], [[[0.2, 0.3]]]])  # (2, 1, 1, 2): signs differ between filters
    fig = plots.show_filters(weight)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 2
    for im in images:  # every filter on the same scale, symmetric around zero
        assert im.get_clim() == pytest.approx((-0.5, 0.5))
