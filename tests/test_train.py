import pytest
import torch
from torch import nn

from course_utils import settings
from course_utils.data import load_tensors, make_loader
from course_utils.train import History, accuracy, evaluate, fit, predict


def tiny_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(), nn.Linear(8 * 49, 10))


@pytest.fixture(scope="module")
def loaders():
    train = make_loader(load_tensors("mnist", "train", limit=1000), batch_size=64, shuffle=True)
    val = make_loader(load_tensors("mnist", "val"), batch_size=250)
    return train, val


def test_fit_learns_and_records_history(loaders):
    settings.seed_everything(0)
    model = tiny_cnn()
    h = fit(model, *loaders, epochs=3, lr=3e-3, device="cpu", progress=False, verbose=False)
    assert h.epochs == 3 and len(h.val_acc) == 3 and len(h.seconds) == 3
    assert h.train_loss[-1] < h.train_loss[0]
    assert h.val_acc[-1] > 0.7, "a small CNN must beat chance (0.1) by far on MNIST"
    loss, acc = evaluate(model, loaders[1])
    assert acc == pytest.approx(h.val_acc[-1]) and loss == pytest.approx(h.val_loss[-1], rel=1e-5)
    assert 1 <= h.best_epoch() <= 3


def test_fit_is_reproducible_with_a_seed(loaders):
    runs = []
    for _ in range(2):
        settings.seed_everything(1)
        runs.append(fit(tiny_cnn(), *loaders, epochs=1, device="cpu", progress=False, verbose=False))
    assert runs[0].train_loss == runs[1].train_loss and runs[0].val_acc == runs[1].val_acc


def test_fit_prints_epoch_table(loaders, capsys):
    fit(tiny_cnn(), loaders[0], epochs=1, device="cpu", progress=False)
    out = capsys.readouterr().out
    assert "train loss" in out and "    1 " in out


def test_fit_rejects_bad_input(loaders):
    with pytest.raises(ValueError, match="epochs must be an int >= 1"):
        fit(tiny_cnn(), loaders[0], epochs=0)
    with pytest.raises(TypeError, match="must be an nn.Module"):
        fit("model", loaders[0])
    bad = [(torch.zeros(4, 1, 28, 28), torch.zeros(4, 1, dtype=torch.long))]
    with pytest.raises(ValueError, match=r"labels y of shape \(N,\)"):
        fit(tiny_cnn(), bad, epochs=1, progress=False, verbose=False)
    frozen = tiny_cnn().requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        fit(frozen, loaders[0])


def test_predict_and_accuracy(loaders):
    model = tiny_cnn()
    x, y = load_tensors("mnist", "val", limit=10)
    logits = predict(model, x, batch_size=3)
    assert logits.shape == (10, 10)
    assert torch.allclose(logits, predict(model, [(x, y)]))
    assert accuracy(torch.eye(3), torch.tensor([0, 1, 0])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match=r"logits must be a 2D tensor \(N, C\)"):
        accuracy(torch.zeros(3), torch.zeros(3))


def test_history_concatenates_and_plots():
    a = History([1.0], [0.5], [1.1], [0.4], [0.1])
    b = History([0.8], [0.6], [0.9], [0.5], [0.1])
    both = a + b
    assert both.train_loss == [1.0, 0.8] and both.best_epoch() == 2
    fig = both.plot(title="t")
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="history is empty"):
        History().best_epoch()
