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


@pytest.mark.parametrize("what", ["scheduler class", "loss_fn class", "scheduler of another optimizer",
                                  "scheduler without the optimizer", "ReduceLROnPlateau"])
def test_inconsistent_arguments_are_refused_before_any_epoch(what):
    """Issue 22: fit(scheduler=StepLR) ran a whole epoch before a raw TypeError; fit(loss_fn=CrossEntropyLoss)
    said "Boolean value of Tensor is ambiguous". Now both fail at once, the weights untouched."""
    import torch
    from torch import nn
    from torch.optim import lr_scheduler

    from course_utils import train

    model = bad_inputs.fresh_cnn()
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    kwargs, error, message = {
        "scheduler class": ({"scheduler": lr_scheduler.StepLR}, TypeError, "scheduler is the class StepLR.*create one"),
        "loss_fn class": ({"loss_fn": nn.CrossEntropyLoss}, TypeError,
                          r"loss_fn is the class CrossEntropyLoss, not an instance.*CrossEntropyLoss\(\.\.\.\)"),
        "scheduler of another optimizer": (
            {"optimizer": opt, "scheduler": lr_scheduler.StepLR(torch.optim.SGD(nn.Linear(2, 2).parameters(), 0.1), 1)},
            ValueError, "another optimizer than the one fit uses"),
        "scheduler without the optimizer": ({"scheduler": lr_scheduler.StepLR(opt, 1)}, ValueError,
                                            "fit would create its own Adam.*pass your optimizer too"),
        "ReduceLROnPlateau": ({"optimizer": opt, "scheduler": lr_scheduler.ReduceLROnPlateau(opt)}, TypeError,
                              "needs a metric"),
    }[what]
    with pytest.raises(error, match=message):
        train.fit(model, bad_inputs.loader(), epochs=1, progress=False, verbose=False, **kwargs)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters())), "an epoch ran before the error"


def test_history_best_epoch_skips_diverged_epochs_and_checks_its_lists():
    import math

    from course_utils import train

    assert train.History([1.0, 0.5], [0.1, 0.2], [math.nan, 0.7], [0.0, 0.5]).best_epoch() == 2
    assert train.History([math.inf, 0.9, 0.4]).best_epoch() == 3
    with pytest.raises(ValueError, match="no finite val_loss"):
        train.History([1.0], [0.5], [math.nan], [0.1]).best_epoch()
    with pytest.raises(TypeError, match="History.val_loss must be a list of numbers"):
        train.History([1.0], [0.5], "abc")


def test_accuracy_refuses_nan_logits_instead_of_counting_them_as_class_0():
    import torch

    from course_utils import train

    with pytest.raises(ValueError, match="logits contains NaN or infinite values; the model diverged"):
        train.accuracy(torch.tensor([[float("nan"), 0.0], [float("nan"), 0.0]]), torch.tensor([0, 1]))
    assert train.accuracy(torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0])) == 0.5
