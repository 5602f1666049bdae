"""One training loop for every classifier in the course: ``fit``, ``evaluate``, ``predict``.

The notebooks first write the loop out in plain PyTorch (zero_grad, forward, loss,
backward, step). ``fit`` is that same loop plus what is not the lesson: moving batches to
the device, a tqdm progress bar, a per-epoch table and a :class:`History` to plot. It
adds no measurable cost (``benchmarks/loop_overhead.py`` checks <= 1.05x a plain loop).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from . import _checks
from .settings import get_device

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


@dataclass
class History:
    """Per-epoch figures of one ``fit`` run (lists have one entry per epoch)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)  # empty when fit had no val data
    val_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # wall time of each epoch

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, (torch.Tensor, np.ndarray)):
                value = value.tolist()
            if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or not all(
                    isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                    for v in value):
                raise TypeError(f"History.{name} must be a list of numbers, one per epoch, got {_checks.describe(value)}")
            setattr(self, name, [float(v) for v in value])

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def best_epoch(self) -> int:
        """1-based epoch with the lowest validation loss (training loss if no validation).

        Epochs whose loss is NaN or infinite (a run that diverged) are never the best.
        """
        name = "val_loss" if self.val_loss else "train_loss"
        losses = getattr(self, name)
        if not losses:
            raise ValueError("history is empty: train for at least one epoch first")
        finite = [i for i, v in enumerate(losses) if math.isfinite(v)]
        if not finite:
            raise ValueError(f"history has no finite {name}: every epoch's loss is NaN or infinite (the run diverged)")
        return 1 + min(finite, key=losses.__getitem__)

    def plot(self, title: str | None = None):
        """Loss and accuracy curves (train vs validation); returns the matplotlib figure."""
        from .plots import plot_history

        return plot_history(self, title=title)

    def __add__(self, other: History) -> History:
        """Concatenate two runs, e.g. feature extraction followed by fine-tuning."""
        if not isinstance(other, History):
            raise TypeError(f"can only add a History to a History (other), got {_checks.describe(other)}")
        return History(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


class TrainingError(RuntimeError):
    """Training cannot go on: the loss became NaN or infinite, or the model failed on a batch."""


def _check_loader(name: str, loader) -> None:
    """Refuse what is not an iterable of ``(x, y)`` batches, saying what to pass instead."""
    if isinstance(loader, (tuple, list)) and len(loader) == 2 and all(isinstance(t, torch.Tensor) for t in loader):
        raise TypeError(f"{name} is a pair of tensors (x, y), not a loader of batches; wrap it: "
                        f"data.make_loader((x, y), batch_size=64, shuffle=True)")
    if isinstance(loader, torch.Tensor):
        raise TypeError(f"{name} is a single tensor {tuple(loader.shape)}; pass a loader of (x, y) batches: "
                        "data.make_loader((x, y), batch_size=64)")
    if isinstance(loader, (str, bytes)) or not hasattr(loader, "__iter__"):
        raise TypeError(f"{name} must be an iterable of (x, y) batches such as a DataLoader, got {_checks.describe(loader)}")


def _unpack(name: str, batch) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        what = f"a {type(batch).__name__}" + (f" of {len(batch)}" if isinstance(batch, (tuple, list)) else "")
        raise TypeError(f"{name} must yield (x, y) pairs of tensors, got {what}"
                        + ("; a tensor per batch? zip it with its labels" if isinstance(batch, torch.Tensor) else ""))
    x, y = batch
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"each batch of {name} must be a pair of tensors (x, y), got {type(x).__name__}, {type(y).__name__}")
    if y.ndim != 1 or len(x) != len(y):
        hint = "; one-hot labels? use y.argmax(1)" if y.ndim == 2 and y.shape[0] == len(x) else ""
        raise ValueError(f"{name}: expected x of shape (N, ...) and labels y of shape (N,), "
                         f"got x {tuple(x.shape)} and y {tuple(y.shape)}{hint}")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"{name}: labels y must be integer class indices (int64), got dtype {y.dtype}; "
                        "convert them with y.long() if they are whole numbers")
    return x, y


def _forward(model: nn.Module, x: torch.Tensor, name: str) -> torch.Tensor:
    """``model(x)``, with a failure explained: which loader, what shape, what to check."""
    return _checks.call_model(model, x, "x", TrainingError, where=f" (a batch from {name})")


def _check_logits(logits, y: torch.Tensor, name: str) -> None:
    """The model's output must be (N, num_classes) logits that cover every label."""
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"the model must return a tensor of logits (N, num_classes), got {_checks.describe(logits)}; "
                        "return only the logits from forward()")
    if logits.ndim != 2 or len(logits) != len(y):
        hint = ("feature maps (N, C, H, W)? end the model with a global pool, nn.Flatten() and nn.Linear(C, num_classes)"
                if logits.ndim == 4 else "a single image (C, H, W)? add a batch dimension with x[None]"
                if logits.ndim >= 1 and len(logits) != len(y) else "return one row of class scores per image")
        raise ValueError(f"the model must map a batch of {len(y)} (from {name}) to logits ({len(y)}, num_classes), "
                         f"got {tuple(logits.shape)}; {hint}")
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= logits.shape[1]:
        raise ValueError(f"labels in {name} run from {low} to {high}, but the model returns {logits.shape[1]} class "
                         f"scores (logits (N, {logits.shape[1]})): labels must lie in 0..{logits.shape[1] - 1}; give the "
                         f"model's last layer as many outputs as there are classes")


def _run_epoch(model, batches, loss_fn, device, optimizer=None, bar=None, name="the loader",
               epoch: int = 0) -> tuple[float, float]:
    """One pass over ``batches``; trains when an optimizer is given. Returns (mean loss, accuracy)."""
    training = optimizer is not None
    model.train(training)
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)
    seen = 0
    with torch.set_grad_enabled(training):
        for batch in batches:
            x, y = _unpack(name, batch)
            first = seen == 0
            if first and x.is_floating_point() and not torch.isfinite(x).all():
                raise ValueError(f"the first batch of {name} contains NaN or infinite inputs; clean the data first")
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            logits = _forward(model, x, name)  # (N, C, ...) -> (N, num_classes)
            if first:
                _check_logits(logits, y, name)
            try:
                loss = loss_fn(logits, y)  # input first, target second
            except (RuntimeError, ValueError, TypeError, IndexError) as err:
                raise TrainingError(f"loss_fn failed on logits {tuple(logits.shape)} and labels y {tuple(y.shape)} "
                                    f"from {name}: {str(err).splitlines()[0]}; fit trains classifiers: "
                                    "loss_fn(logits, y) with integer labels, e.g. nn.CrossEntropyLoss()") from err
            if first and (not isinstance(loss, torch.Tensor) or loss.ndim != 0):
                raise ValueError(f"loss_fn must return one number (a 0-d tensor), got {_checks.describe(loss)}; "
                                 "use reduction='mean'")
            if first and not torch.isfinite(loss):  # one sync per pass, at the first batch only
                when = f" in epoch {epoch}" if epoch else ""
                lr = f" (lr={optimizer.param_groups[0]['lr']:g})" if training else ""
                raise TrainingError(f"the loss is {loss.detach().item()} at the first batch of {name}{when}: check loss_fn and "
                                    f"the inputs (NaN?), or lower the learning rate{lr}")
            if training:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            total_loss += loss.detach() * len(y)  # stays on the device: no sync per batch
            correct += (logits.detach().argmax(1) == y).sum()
            seen += len(y)
            if bar is not None:
                bar.update(1)
    if seen == 0:
        raise ValueError(f"{name} yielded no batches (an empty dataset?)")
    return total_loss.item() / seen, correct.item() / seen


def _check_training_args(model, optimizer, loss_fn, scheduler) -> None:
    if optimizer is not None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            hint = "; create one: torch.optim.Adam(model.parameters(), lr=1e-3)" if (
                isinstance(optimizer, type) or isinstance(optimizer, str)) else ""
            raise TypeError(f"optimizer must be a torch.optim.Optimizer instance, got {_checks.describe(optimizer)}{hint}")
        held = {id(p) for group in optimizer.param_groups for p in group["params"]}
        if not any(id(p) in held for p in model.parameters()):
            raise ValueError("optimizer holds none of the model's parameters, so training would change nothing; "
                             "create it from this model: torch.optim.Adam(model.parameters(), lr=1e-3)")
    if loss_fn is not None:
        _checks.function("loss_fn", loss_fn, "nn.CrossEntropyLoss(), called as loss_fn(logits, y)")
    if scheduler is not None:
        if isinstance(scheduler, type):
            raise TypeError(f"scheduler is the class {scheduler.__name__}, not a scheduler; create one on your optimizer "
                            f"and pass both: opt = torch.optim.SGD(model.parameters(), lr=0.1); fit(..., optimizer=opt, "
                            f"scheduler={scheduler.__name__}(opt, ...))")
        if not callable(getattr(scheduler, "step", None)):
            raise TypeError(f"scheduler must be a learning-rate scheduler with a step() method, "
                            f"got {_checks.describe(scheduler)}")
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            raise TypeError("scheduler is a ReduceLROnPlateau, which needs a metric at every step; fit steps its "
                            "scheduler once per epoch without one: use a schedule such as StepLR or CosineAnnealingLR, "
                            "or write the loop yourself")
        stepped = getattr(scheduler, "optimizer", None)
        if stepped is not None and stepped is not optimizer:
            raise ValueError("scheduler changes the learning rate of another optimizer than the one fit uses, so it "
                             "would change nothing; pass that optimizer too: fit(..., optimizer=opt, "
                             "scheduler=StepLR(opt, ...))" if optimizer is not None else
                             "scheduler was made for an optimizer, but fit would create its own Adam and the "
                             "scheduler would change nothing; pass your optimizer too: fit(..., optimizer=opt, "
                             "scheduler=...)")


def fit(
    model: nn.Module,
    train_loader: Batches,
    val_loader: Batches | None = None,
    *,
    epochs: int = 5,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    loss_fn: nn.Module | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    verbose: bool = True,
) -> History:
    """Train a classifier and return its per-epoch :class:`History`.

    Args:
        model: any ``nn.Module`` mapping a batch ``(N, ...)`` to logits ``(N, num_classes)``.
            It is moved to ``device`` in place.
        train_loader: iterable of ``(x, y)`` batches, ``y`` int64 labels of shape ``(N,)``.
        val_loader: optional batches evaluated after every epoch.
        epochs: passes over ``train_loader``.
        lr: learning rate of the default optimizer (Adam); ignored if ``optimizer`` is given.
        optimizer: your own optimizer over ``model``'s parameters.
        loss_fn: default ``nn.CrossEntropyLoss()``; called as ``loss_fn(logits, y)``.
        scheduler: optional LR scheduler, stepped once per epoch.
        device: default :func:`~course_utils.settings.get_device`.
        progress: show a tqdm progress bar.
        verbose: print one fixed-column line per epoch.
    """
    _checks.module("model", model)
    _check_loader("train_loader", train_loader)
    if val_loader is not None:
        _check_loader("val_loader", val_loader)
    epochs = _checks.integer("epochs", epochs, 1)
    progress, verbose = _checks.flag("progress", progress), _checks.flag("verbose", verbose)
    _check_training_args(model, optimizer, loss_fn, scheduler)
    device = _checks.device("device", device) if device is not None else get_device()
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer is None:
        lr = _checks.number("lr", lr, 0, low_open=True, hint="e.g. 1e-3 for Adam")
        if not params:
            raise ValueError("model has no trainable parameters" + (
                " (all requires_grad=False: unfreeze some, e.g. transfer.unfreeze(model.classifier))"
                if any(True for _ in model.parameters()) else ": it has no layers with weights"))
    model.to(device)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    if optimizer is None:
        optimizer = torch.optim.Adam(params, lr=lr)

    bar = _progress_bar(len(train_loader) * epochs if hasattr(train_loader, "__len__") else None) if progress else None
    history = History()
    if verbose:
        print(f"{'epoch':>5} {'train loss':>10} {'train acc':>9} {'val loss':>9} {'val acc':>8} {'time':>6}")
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            loss, acc = _run_epoch(model, train_loader, loss_fn, device, optimizer, bar, "train_loader", epoch)
            if not math.isfinite(loss):
                raise TrainingError(f"the training loss became {loss} in epoch {epoch}: the weights diverged. "
                                    f"Lower the learning rate (lr={optimizer.param_groups[0]['lr']:g}) or check the "
                                    "inputs for NaN; the epochs before are in err.history")
            history.train_loss.append(loss)
            history.train_acc.append(acc)
            if val_loader is not None:
                vloss, vacc = _run_epoch(model, val_loader, loss_fn, device, name="val_loader")
                history.val_loss.append(vloss)
                history.val_acc.append(vacc)
            if scheduler is not None:
                scheduler.step()
            history.seconds.append(time.perf_counter() - start)
            if verbose:
                v = f"{history.val_loss[-1]:9.4f} {history.val_acc[-1]:8.3f}" if val_loader is not None else f"{'-':>9} {'-':>8}"
                print(f"{epoch:5d} {loss:10.4f} {acc:9.3f} {v} {history.seconds[-1]:5.1f}s")
            if bar is not None:
                bar.set_postfix(loss=f"{loss:.3f}", acc=f"{acc:.3f}")
    except TrainingError as err:
        err.history = history  # what was learnt before it went wrong
        raise
    finally:
        if bar is not None:
            bar.close()
    if bar is not None and getattr(bar, "display_handle", None) is not None:
        bar.display_handle.update({"text/plain": ""}, raw=True)  # a finished bar leaves no stale "0%" line
    return history


def _progress_bar(total: int | None):
    """A transient tqdm bar: a widget in a notebook, a text line in a terminal; gone when closed.

    In a notebook the bar is displayed with a display id, so that ``fit`` can replace it by an
    empty output when training ends: the saved notebook keeps the epoch table, not a frozen
    "0%" line (what a static page shows of a progress widget).
    """
    from tqdm.auto import tqdm

    try:
        from tqdm.notebook import tqdm as notebook_tqdm
    except ImportError:  # ipywidgets missing: tqdm.auto is the text bar anyway
        notebook_tqdm = None
    if notebook_tqdm is None or not issubclass(tqdm, notebook_tqdm):  # not in a notebook kernel
        return tqdm(total=total, desc="training", unit="batch", leave=False)
    from IPython.display import display

    bar = tqdm(total=total, desc="training", unit="batch", leave=False, display=False)
    bar.display_handle = display(bar.container, display_id=True)
    return bar


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Batches,
    loss_fn: nn.Module | None = None,
    device: torch.device | str | None = None,
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``loader`` (eval mode, no gradients).

    Returns:
        ``(loss, accuracy)`` with accuracy in ``[0, 1]``.
    """
    _checks.module("model", model)
    _check_loader("loader", loader)
    _check_training_args(model, None, loss_fn, None)
    device = _checks.device("device", device) if device is not None else _checks.module_device(model)
    model.to(device)
    return _run_epoch(model, loader, loss_fn or nn.CrossEntropyLoss(), device, name="loader")


@torch.no_grad()
def predict(
    model: nn.Module,
    x: torch.Tensor | Batches,
    batch_size: int = 256,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Logits of ``model`` for a tensor ``(N, ...)`` or for the ``x`` of every batch of a loader.

    Returns:
        Logits on the CPU, shape ``(N, num_classes)``.
    """
    _checks.module("model", model)
    batch_size = _checks.integer("batch_size", batch_size, 1)
    device = _checks.device("device", device) if device is not None else _checks.module_device(model)
    model.to(device)
    model.eval()
    if isinstance(x, (torch.Tensor, np.ndarray)):
        x = _checks.model_batch("x", x, model, ranks=None)
        if not len(x):
            raise ValueError(f"x is empty (shape {tuple(x.shape)}); give at least one input")
        chunks: Iterable = x.split(batch_size)
    else:
        _check_loader("x", x)
        chunks = (_unpack("x", batch)[0] for batch in x)
    out = []
    for xb in chunks:
        logits = _forward(model, xb.to(device), "x")
        if not isinstance(logits, torch.Tensor) or logits.ndim < 1 or len(logits) != len(xb):
            raise ValueError(f"the model returned {_checks.describe(logits)} for {len(xb)} inputs x of shape "
                             f"{tuple(xb.shape)}; a single image (C, H, W)? pass image[None], a batch of one")
        out.append(logits.cpu())
    if not out:
        raise ValueError("x yielded no batches (an empty loader?)")
    return torch.cat(out)


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose arg-max matches the label. ``logits (N, C)``, ``y (N,)``.

    Logits with NaN or infinity are refused (a diverged model's NaN rows would count as class 0).
    """
    logits = _checks.tensor("logits", logits, 2, layout="(N, C)", dtype=("float", "int"))
    _checks.finite("logits", logits, hint="the model diverged? check the loss and the inputs")
    y = _checks.labels("y", y, len(logits), against="logits")
    if int(y.min()) < 0 or int(y.max()) >= logits.shape[1]:
        raise ValueError(f"y holds labels {int(y.min())}..{int(y.max())} but logits has {logits.shape[1]} classes "
                         f"(columns); labels must lie in 0..{logits.shape[1] - 1}")
    return (logits.argmax(1) == y.to(logits.device)).float().mean().item()
