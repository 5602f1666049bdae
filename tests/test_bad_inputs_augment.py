"""Bad inputs to course_utils.augment beyond the shared cases of ``tests/bad_inputs.py`` (run by
``tests/test_bad_inputs.py``): checks that need more than "a clear error naming the argument".
"""

import bad_inputs
import pytest


def test_nan_settings_are_refused_not_drawn():
    import torch

    from course_utils import augment

    photo = bad_inputs.photo()
    for kwargs, name in [({"angle": float("nan")}, "angle"), ({"scale": float("nan")}, "scale"),
                         ({"blur_sigma": float("nan")}, "blur_sigma")]:
        with pytest.raises(ValueError, match=f"{name} must be a finite number"):
            augment.apply_params(photo, **kwargs)
    with pytest.raises(ValueError, match="degrees must be a finite number"):
        augment.random_affine_batch(torch.rand(2, 1, 8, 8), degrees=float("nan"))
    with pytest.raises(ValueError, match="presets is empty"):
        augment.explorer(photo, presets={})
