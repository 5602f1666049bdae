"""Bad inputs to course_utils.kernels beyond the shared cases of ``tests/bad_inputs.py`` (run by
``tests/test_bad_inputs.py``): checks that need more than "a clear error naming the argument".
"""

import bad_inputs
import pytest


@pytest.mark.parametrize("what", ["a folder", "a missing file", "a text file", "an empty box"])
def test_playground_load_path_shows_every_error_in_the_widget(tmp_path, what):
    """Issue 22: a folder in the path box raised IsADirectoryError inside the click handler, where no one sees
    it (a widget callback's exception goes to the browser console at best). Every error is shown in the widget."""
    from course_utils import kernels

    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    path = {"a folder": str(tmp_path), "a missing file": str(tmp_path / "nope.png"), "a text file": str(text),
            "an empty box": ""}[what]
    pg = kernels.kernel_playground({"cat": bad_inputs.photo()}, size=32)
    pg.widget  # noqa: B018 - builds the UI
    before = dict(pg.images)
    pg._path.value = path
    pg._load.click()  # must not raise
    expected = {"a folder": "is a folder", "a missing file": "no image file there", "a text file": "could not decode",
                "an empty box": "is a folder"}[what]
    assert "color:red" in pg._message.value and expected in pg._message.value, pg._message.value
    assert pg.images.keys() == before.keys(), "nothing added"


def test_playground_upload_of_garbage_is_shown_in_the_widget():
    from course_utils import kernels

    pg = kernels.kernel_playground({"cat": bad_inputs.photo()}, size=32)
    pg.widget  # noqa: B018
    pg._on_upload([{"name": "x.png", "content": b"garbage"}])
    assert "could not decode" in pg._message.value


def test_apply_kernel_refuses_a_channels_last_photo_and_says_how_to_fix_it():
    """Issue 22: an (H, W, 3) photo was filtered along the wrong axes (W and 3 taken for H and W), silently."""
    import numpy as np
    import torch

    from course_utils import kernels

    photo = bad_inputs.photo()  # (3, H, W)
    with pytest.raises(ValueError, match=r"image looks channels-last .* pass image.permute\(2, 0, 1\)"):
        kernels.apply_kernel(photo.permute(1, 2, 0), kernels.preset("sharpen"))
    out = kernels.apply_kernel(photo.numpy(), kernels.preset("sharpen"), padding=np.int64(1))  # NumPy, NumPy int
    assert torch.allclose(out, kernels.apply_kernel(photo, kernels.preset("sharpen"), padding=1))
