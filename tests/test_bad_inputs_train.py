"""Bad inputs to course_utils.train beyond the shared cases of ``tests/bad_inputs.py`` (run by
``tests/test_bad_inputs.py``): checks that need more than "a clear error naming the argument".
"""

import bad_inputs
import pytest


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
