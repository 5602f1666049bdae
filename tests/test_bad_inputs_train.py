"""Bad inputs to course_utils.train: each one ends in a clear course error that names the argument.

The cases (wrong types, ranks, dtypes, ranges, empty inputs, NaN...) live in ``tests/bad_inputs.py``,
shared with ``tests/probe_bad_inputs.py``; the obvious forms that are converted instead of refused
(uint8 0-255, channels-last, NumPy...) are checked against the canonical form's result.
"""

import bad_inputs
import pytest

CASES = bad_inputs.cases("train")
ACCEPTED = bad_inputs.accepted_cases("train")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_a_clear_error(case):
    bad_inputs.assert_clear(case)


@pytest.mark.parametrize("case", ACCEPTED, ids=[c.name for c in ACCEPTED])
def test_obvious_form_is_converted(case):
    bad_inputs.assert_converted(case)


def test_optimizer_over_other_parameters_is_refused_before_any_step():
    import torch
    from torch import nn

    from course_utils import train

    model = bad_inputs.fresh_cnn()
    before = [p.detach().clone() for p in model.parameters()]
    other = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="optimizer holds none of the model's parameters"):
        train.fit(model, bad_inputs.loader(), optimizer=other, epochs=1, progress=False, verbose=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_nan_loss_stops_training_and_keeps_the_history():
    from course_utils import train

    with pytest.raises(train.TrainingError, match=r"nan .*epoch 2.*learning rate") as info:
        train.fit(bad_inputs.fresh_cnn(), bad_inputs.loader(), epochs=3, loss_fn=bad_inputs._nan_from_second_call(),
                  progress=False, verbose=False)
    assert info.value.history.epochs == 1


def test_wrong_outputs_are_explained_at_the_first_batch():
    import torch
    from torch import nn

    from course_utils import train

    one_output = nn.Sequential(nn.Flatten(), nn.Linear(64, 1))
    with pytest.raises(ValueError, match=r"labels in train_loader run from 0 to 9, but the model returns 1 class"):
        train.fit(one_output, bad_inputs.loader(), epochs=1, progress=False, verbose=False)
    with pytest.raises(ValueError, match=r"feature maps \(N, C, H, W\)\? end the model with a global pool"):
        train.fit(nn.Conv2d(1, 10, 3), bad_inputs.loader(), epochs=1, progress=False, verbose=False)
    with pytest.raises(TypeError, match=r"train_loader is a pair of tensors.*make_loader"):
        train.fit(bad_inputs.fresh_cnn(), bad_inputs.xy(), epochs=1, progress=False, verbose=False)
    with pytest.raises(TypeError, match=r"labels y must be integer class indices.*y.long\(\)"):
        train.evaluate(bad_inputs.tiny_cnn(), bad_inputs.loader(y=bad_inputs.xy()[1].float()))
    with pytest.raises((ValueError, train.TrainingError), match=r"image\[None\]|x\[None\]"):
        train.predict(bad_inputs.tiny_cnn(), torch.rand(1, 8, 8))
