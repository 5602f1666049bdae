"""Pictures: image grids, loss curves, confusion matrices, filters and feature maps.

Every helper is forgiving about its input (a tensor or a list; ``(H, W)``, ``(C, H, W)``
or ``(N, C, H, W)``; 1 or 3 channels; on any device; with or without gradients) and
returns the matplotlib figure so a notebook can save or restyle it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import torch

from .train import History


def _as_batch(images: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
    """-> float tensor (N, C, H, W) on the CPU with C in {1, 3}."""
    if not isinstance(images, torch.Tensor):
        images = torch.stack([torch.as_tensor(im) for im in images])
    x = images.detach().cpu().float()
    if x.ndim == 2:  # (H, W)
        x = x[None, None]
    elif x.ndim == 3:  # (C, H, W) with C in {1, 3}, else a stack of gray (N, H, W)
        x = x[None] if x.shape[0] in (1, 3) else x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected images of shape (H, W), (C, H, W) or (N, C, H, W) with C = 1 or 3, "
                         f"got {tuple(images.shape)}")
    return x


@torch.no_grad()
def show_images(
    images: torch.Tensor | Sequence[torch.Tensor],
    labels: Sequence[int] | torch.Tensor | None = None,
    class_names: Sequence[str] | None = None,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    size: float = 1.4,
    normalize: bool = False,
    cmap: str = "gray",
    suptitle: str | None = None,
):
    """Show images in a grid with optional labels (class names) or free-form titles.

    Args:
        images: ``(N, C, H, W)``, ``(C, H, W)``, ``(H, W)`` or a list of ``(C, H, W)``;
            values in ``[0, 1]`` unless ``normalize``.
        labels: integer labels, shown through ``class_names`` when given.
        class_names: names for the labels.
        titles: one title per image (overrides ``labels``).
        ncols: images per row.
        size: inches per image.
        normalize: rescale each image to ``[0, 1]`` (for feature maps, kernels, negatives).
        cmap: colour map for one-channel images.
        suptitle: title of the whole figure.
    """
    x = _as_batch(images)
    n = len(x)
    if titles is None and labels is not None:
        labels = [int(v) for v in labels]
        if len(labels) != n:
            raise ValueError(f"got {n} images but {len(labels)} labels")
        titles = [class_names[v] if class_names else str(v) for v in labels]
    if titles is not None and len(titles) != n:
        raise ValueError(f"got {n} images but {len(titles)} titles")
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    # Lay the grid out in inches so that titles never overlap the row above: each row is as
    # high as its images (their aspect ratio kept) plus the lines of its longest title.
    img_w, img_h = size, size * x.shape[-2] / x.shape[-1]
    chars = max(4, int(size * 72 / (9 * 0.6)))  # characters of a 9-pt title that fit one image
    if titles is not None:
        titles = ["\n".join(textwrap.wrap(str(t), chars)) or " " for t in titles]
    title_h = 0.2 + 0.16 * max(t.count("\n") + 1 for t in titles) if titles else 0.1
    gap_w = 0.1
    fig_w = ncols * img_w + (ncols + 1) * gap_w
    if suptitle:
        suptitle = "\n".join(textwrap.wrap(suptitle, max(20, int(fig_w * 72 / (12 * 0.55)))))
    sup_h = 0.25 + 0.22 * (suptitle.count("\n") + 1) if suptitle else 0.05
    fig_h = nrows * (img_h + title_h) + sup_h
    fig, axes = plt.subplots(nrows, ncols, figsize=(fig_w, fig_h), squeeze=False,
                             gridspec_kw=dict(left=gap_w / fig_w, right=1 - gap_w / fig_w, bottom=0.02 / fig_h,
                                              top=1 - (sup_h + title_h - 0.02) / fig_h,
                                              wspace=gap_w / img_w, hspace=title_h / img_h))
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        im = x[i]
        if normalize:
            im = (im - im.min()) / (im.max() - im.min() + 1e-12)
        im = im.clamp(0, 1)
        if im.shape[0] == 1:
            ax.imshow(im[0], cmap=cmap, vmin=0, vmax=1)
        else:
            ax.imshow(im.permute(1, 2, 0))
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle, y=1 - 0.12 / fig_h, va="top")
    return fig


def plot_history(history: History | dict[str, History], title: str | None = None):
    """Loss (left) and accuracy (right) per epoch, train dashed and validation solid.

    Args:
        history: one :class:`History`, or ``{"label": History}`` to compare runs.
        title: figure title.
    """
    runs = history if isinstance(history, dict) else {"": history}
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, (name, h) in enumerate(runs.items()):
        if not isinstance(h, History) or h.epochs == 0:
            raise ValueError(f"expected a non-empty History, got {h!r}")
        color = f"C{i}"
        epochs = range(1, h.epochs + 1)
        prefix = f"{name} " if name else ""
        ax_loss.plot(epochs, h.train_loss, "--", color=color, label=f"{prefix}train")
        ax_acc.plot(epochs, h.train_acc, "--", color=color, label=f"{prefix}train")
        if h.val_loss:
            ax_loss.plot(epochs, h.val_loss, "-", color=color, label=f"{prefix}validation")
            ax_acc.plot(epochs, h.val_acc, "-", color=color, label=f"{prefix}validation")
            best = h.best_epoch()  # a marker, not a band: two runs with the same best epoch stay apart
            ax_loss.plot(best, h.val_loss[best - 1], "*", color=color, ms=13, mec="black", mew=0.6,
                         label=f"{prefix}lowest val. loss (epoch {best})")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts ``(num_classes, num_classes)``: row = true class, column = predicted class."""
    y_true, y_pred = torch.as_tensor(y_true).long().cpu(), torch.as_tensor(y_pred).long().cpu()
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"expected two label vectors of equal length, got {tuple(y_true.shape)} and {tuple(y_pred.shape)}")
    if len(y_true) and (max(y_true.max(), y_pred.max()) >= num_classes or min(y_true.min(), y_pred.min()) < 0):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    return torch.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(num_classes, num_classes)


def plot_confusion_matrix(y_true, y_pred, class_names: Sequence[str], title: str = "confusion matrix"):
    """Confusion matrix as a picture with counts in the cells and per-class accuracy on the rows."""
    k = len(class_names)
    cm = confusion_matrix(y_true, y_pred, k)
    per_class = cm.diag() / cm.sum(1).clamp(min=1)
    fig, ax = plt.subplots(figsize=(0.55 * k + 2.5, 0.5 * k + 1.8))
    ax.imshow(cm, cmap="Blues")
    for i in range(k):
        for j in range(k):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(k), class_names, rotation=45, ha="right")
    ax.set_yticks(range(k), [f"{n} ({a:.0%})" for n, a in zip(class_names, per_class.tolist())])
    ax.set(xlabel="predicted", ylabel="true (per-class accuracy)", title=title)
    fig.tight_layout()
    return fig


@torch.no_grad()
def show_filters(weight: torch.Tensor, ncols: int = 8, title: str = "filters"):
    """Show conv filters ``(C_out, C_in, kH, kW)``.

    One input channel (or more than three: channel 0 is shown): every filter on one colour
    scale symmetric around zero (blue negative, white zero, red positive, the same for all
    filters, with a colour bar), so signs and sizes can be compared across filters.
    Three input channels: RGB, each filter scaled by its own largest absolute weight and
    centred on zero, so that a zero weight is mid grey in every panel (a min-max rescale
    would lose the sign).

    Args:
        weight: a conv weight ``(C_out, C_in, kH, kW)``, e.g. ``model.conv1.weight``.
        ncols: filters per row.
        title: figure title.
    """
    if weight.ndim != 4:
        raise ValueError(f"expected a conv weight (C_out, C_in, kH, kW), got shape {tuple(weight.shape)}")
    w = weight.detach().cpu().float()
    if w.shape[1] == 3:
        scale = w.flatten(1).abs().amax(1).clamp(min=1e-12)[:, None, None, None]
        w = 0.5 + w / (2 * scale)  # [-max|w|, max|w|] -> [0, 1]: zero is mid grey
        return show_images(w, titles=[str(i) for i in range(len(w))], ncols=ncols, size=1.0,
                           suptitle=title + " (grey = 0, each scaled by its largest |weight|)")
    w = w[:, 0]  # (C_out, kH, kW)
    limit = float(w.abs().max()) or 1.0  # one symmetric scale for all filters
    n = len(w)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.0 * ncols + 0.8, 1.15 * nrows + 0.4), squeeze=False)
    image = None
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            image = ax.imshow(w[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(str(i), fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="weight")
    return fig


@torch.no_grad()
def show_feature_maps(maps: torch.Tensor, ncols: int = 8, limit: int = 32, title: str = "feature maps"):
    """Show the channels of one feature map ``(C, H, W)`` (or ``(1, C, H, W)``), each rescaled."""
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"expected feature maps (C, H, W) or (1, C, H, W), got shape {tuple(maps.shape)}")
    maps = maps[:limit].detach().cpu()[:, None]  # (C, H, W) -> (C, 1, H, W)
    return show_images(maps, titles=[f"ch {i}" for i in range(len(maps))], ncols=ncols, normalize=True,
                       cmap="viridis", size=1.2, suptitle=title)
