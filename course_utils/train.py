"""One training loop for every classifier in the course: ``fit``, ``evaluate``, ``predict``.

The notebooks first write the loop out in plain PyTorch (zero_grad, forward, loss,
backward, step). ``fit`` is that same loop plus what is not the lesson: moving batches to
the device, a tqdm progress bar, a per-epoch table and a :class:`History` to plot. It
adds no measurable cost (``benchmarks/loop_overhead.py`` checks <= 1.05x a plain loop).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import torch
from torch import nn

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

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def best_epoch(self) -> int:
        """1-based epoch with the lowest validation loss (training loss if no validation)."""
        losses = self.val_loss or self.train_loss
        if not losses:
            raise ValueError("history is empty: train for at least one epoch first")
        return 1 + min(range(len(losses)), key=losses.__getitem__)

    def plot(self, title: str | None = None):
        """Loss and accuracy curves (train vs validation); returns the matplotlib figure."""
        from .plots import plot_history

        return plot_history(self, title=title)

    def __add__(self, other: History) -> History:
        """Concatenate two runs, e.g. feature extraction followed by fine-tuning."""
        return History(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


def _check_batch(x: torch.Tensor, y: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"each batch must be a pair of tensors (x, y), got {type(x).__name__}, {type(y).__name__}")
    if y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"expected x of shape (N, ...) and labels y of shape (N,), "
                         f"got x {tuple(x.shape)} and y {tuple(y.shape)}")


def _run_epoch(model, batches, loss_fn, device, optimizer=None, bar=None) -> tuple[float, float]:
    """One pass over ``batches``; trains when an optimizer is given. Returns (mean loss, accuracy)."""
    training = optimizer is not None
    model.train(training)
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)
    seen = 0
    with torch.set_grad_enabled(training):
        for x, y in batches:
            _check_batch(x, y)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            logits = model(x)  # (N, C, ...) -> (N, num_classes)
            loss = loss_fn(logits, y)  # input first, target second
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
        raise ValueError("the data loader yielded no batches")
    return total_loss.item() / seen, correct.item() / seen


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
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    device = torch.device(device) if device is not None else get_device()
    model.to(device)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer is None:
        if not params:
            raise ValueError("model has no trainable parameters (all requires_grad=False)")
        optimizer = torch.optim.Adam(params, lr=lr)

    bar = _progress_bar(len(train_loader) * epochs if hasattr(train_loader, "__len__") else None) if progress else None
    history = History()
    if verbose:
        print(f"{'epoch':>5} {'train loss':>10} {'train acc':>9} {'val loss':>9} {'val acc':>8} {'time':>6}")
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            loss, acc = _run_epoch(model, train_loader, loss_fn, device, optimizer, bar)
            history.train_loss.append(loss)
            history.train_acc.append(acc)
            if val_loader is not None:
                vloss, vacc = _run_epoch(model, val_loader, loss_fn, device)
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
    device = torch.device(device) if device is not None else next(model.parameters()).device
    return _run_epoch(model, loader, loss_fn or nn.CrossEntropyLoss(), device)


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
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.eval()
    if isinstance(x, torch.Tensor):
        chunks: Iterable = x.split(batch_size)
    else:
        chunks = (xb for xb, _ in x)
    return torch.cat([model(xb.to(device)).cpu() for xb in chunks])


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose arg-max matches the label. ``logits (N, C)``, ``y (N,)``."""
    if logits.ndim != 2 or y.ndim != 1 or len(logits) != len(y):
        raise ValueError(f"expected logits (N, C) and labels (N,), got {tuple(logits.shape)} and {tuple(y.shape)}")
    return (logits.argmax(1) == y).float().mean().item()
