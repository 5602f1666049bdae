"""Bad inputs to course_utils.augment: each one ends in a clear course error that names the argument.

The cases (wrong types, ranks, dtypes, ranges, empty inputs, NaN...) live in ``tests/bad_inputs.py``,
shared with ``tests/probe_bad_inputs.py``; the obvious forms that are converted instead of refused
(uint8 0-255, channels-last, NumPy...) are checked against the canonical form's result.
"""

import bad_inputs
import pytest

CASES = bad_inputs.cases("augment")
ACCEPTED = bad_inputs.accepted_cases("augment")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_a_clear_error(case):
    bad_inputs.assert_clear(case)


@pytest.mark.parametrize("case", ACCEPTED, ids=[c.name for c in ACCEPTED])
def test_obvious_form_is_converted(case):
    bad_inputs.assert_converted(case)


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
