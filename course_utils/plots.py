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
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from . import _checks
from .train import History

MAX_IMAGES = 256  # one figure; more takes minutes to draw and shows nothing a learner can read


def _as_batch(images: torch.Tensor | Sequence[torch.Tensor], normalize: bool = False) -> torch.Tensor:
    """-> float tensor (N, C, H, W) on the CPU with C in {1, 3} (uint8 and channels-last converted)."""
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError("images is an empty list; give at least one image")
        items = [torch.from_numpy(np.asarray(im)) if isinstance(im, np.ndarray) else im for im in images]
        for i, im in enumerate(items):
            if not isinstance(im, torch.Tensor):
                raise TypeError(f"images[{i}] must be a tensor image, got {_checks.describe(im)}")
            if im.shape != items[0].shape:
                raise ValueError(f"images in a list must all have one shape, got {tuple(items[0].shape)} at "
                                 f"images[0] and {tuple(im.shape)} at images[{i}]; resize them or show them one by one")
        images = torch.stack(items)
    elif isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a tensor (H, W), (C, H, W) or (N, C, H, W), or a list of images, "
                        f"got {_checks.describe(images)}")
    x = images.detach().cpu()
    if x.ndim == 2:  # (H, W)
        x = x[None, None]
    elif x.ndim == 3:  # (C, H, W) with C in {1, 3}; (H, W, C) channels-last; else a stack of gray (N, H, W)
        x = x[None] if x.shape[0] in (1, 3) or x.shape[-1] in (1, 3) else x[:, None]
    if x.ndim != 4:
        raise ValueError(f"images must have shape (H, W), (C, H, W) or (N, C, H, W) with C = 1 or 3, "
                         f"got {tuple(images.shape)}")
    x = _checks.images("images", x, batch=True, check_range=not normalize,
                       hint="0-255 values? divide by 255; other values (feature maps, kernels)? pass normalize=True")
    if len(x) > MAX_IMAGES:
        raise ValueError(f"images holds {len(x)} images, too many for one figure (at most {MAX_IMAGES}); "
                         "show a slice, e.g. images[:64]")
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
    normalize = _checks.flag("normalize", normalize)
    x = _as_batch(images, normalize)
    n = len(x)
    ncols = _checks.integer("ncols", ncols, 1)
    size = _checks.number("size", size, 0, low_open=True, hint="inches per image")
    _check_cmap(cmap)
    if class_names is not None and (isinstance(class_names, (str, bytes)) or not isinstance(class_names, Sequence)):
        raise TypeError(f"class_names must be a list of names, index = label, got {_checks.describe(class_names)}")
    if titles is None and labels is not None:
        if isinstance(labels, (list, tuple)) and len(labels) != n:
            raise ValueError(f"got {n} images but {len(labels)} labels")
        labels = _checks.labels("labels", labels, n, against="images").tolist()
        bound = len(class_names) if class_names is not None else None
        bad = [v for v in labels if v < 0 or (bound is not None and v >= bound)]
        if bad:
            raise ValueError(f"labels must lie in 0..{bound - 1 if bound else 'num_classes - 1'}"
                             f"{' (one name per label in class_names)' if bound else ''}, got {bad[0]}")
        titles = [class_names[v] if class_names else str(v) for v in labels]
    if titles is not None:
        if isinstance(titles, (str, bytes)) or not isinstance(titles, Sequence):
            raise TypeError(f"titles must be a list of strings, one per image, got {_checks.describe(titles)}")
        if len(titles) != n:
            raise ValueError(f"got {n} images but {len(titles)} titles")
    ncols = min(ncols, n)
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


def _check_cmap(cmap) -> None:
    import matplotlib

    if not isinstance(cmap, matplotlib.colors.Colormap) and (not isinstance(cmap, str) or cmap not in matplotlib.colormaps):
        raise ValueError(f"cmap must be a matplotlib colour map name such as 'gray' or 'viridis', got {cmap!r}")


def _check_history(name: str, h) -> None:
    if not isinstance(h, History) or h.epochs == 0:
        raise ValueError(f"{name} must be a non-empty History (from fit), got {_checks.describe(h)}")
    if len(h.train_acc) != h.epochs or (h.val_loss and (len(h.val_loss) != h.epochs or len(h.val_acc) != h.epochs)):
        raise ValueError(f"{name} has lists of different lengths (train_loss {len(h.train_loss)}, train_acc "
                         f"{len(h.train_acc)}, val_loss {len(h.val_loss)}, val_acc {len(h.val_acc)}): one entry per epoch")


def plot_history(history: History | dict[str, History], title: str | None = None):
    """Loss (left) and accuracy (right) per epoch, train dashed and validation solid.

    Args:
        history: one :class:`History`, or ``{"label": History}`` to compare runs.
        title: figure title.
    """
    runs = history if isinstance(history, dict) else {"": history}
    if not runs:
        raise ValueError("history is an empty dict; give {'label': History, ...}")
    for name, h in runs.items():
        _check_history(f"history[{name!r}]" if name else "history", h)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, (name, h) in enumerate(runs.items()):
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
    num_classes = _checks.integer("num_classes", num_classes, 1)
    y_true = _checks.labels("y_true", y_true).cpu()
    y_pred = _checks.labels("y_pred", y_pred, len(y_true), against="y_true").cpu()
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
            raise ValueError(f"labels must lie in 0..{num_classes - 1} (num_classes={num_classes}), but {name} holds "
                             f"{int(y.min())}..{int(y.max())}")
    return torch.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(num_classes, num_classes)


def plot_confusion_matrix(y_true, y_pred, class_names: Sequence[str], title: str = "confusion matrix"):
    """Confusion matrix as a picture with counts in the cells and per-class accuracy on the rows."""
    if isinstance(class_names, (str, bytes)) or not isinstance(class_names, Sequence) or not class_names:
        raise TypeError(f"class_names must be a non-empty list of names, index = label, got {_checks.describe(class_names)}")
    k = len(class_names)
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        y = _checks.labels(name, y)
        if len(y) and (int(y.min()) < 0 or int(y.max()) >= k):
            raise ValueError(f"{name} holds labels {int(y.min())}..{int(y.max())}, but class_names has {k} names "
                             f"(labels 0..{k - 1}): give one name per class")
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
        weight: a conv weight ``(C_out, C_in, kH, kW)``, e.g. ``model.conv1.weight`` (or the
            ``nn.Conv2d`` layer itself).
        ncols: filters per row.
        title: figure title.
    """
    if isinstance(weight, torch.nn.Conv2d):
        weight = weight.weight  # the layer itself: show its filters
    weight = _checks.tensor("weight", weight, 4, layout="(C_out, C_in, kH, kW) of a conv layer (layer.weight)",
                            dtype="real", finite=True)
    ncols = _checks.integer("ncols", ncols, 1)
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
    maps = _checks.tensor("maps", maps, (3, 4), layout="(C, H, W) or (1, C, H, W)", dtype="real", finite=True)
    maps = maps.float()  # each map is rescaled to [0, 1] anyway: integer or boolean maps are shown too
    limit = _checks.integer("limit", limit, 1)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"expected feature maps (C, H, W) or (1, C, H, W), got shape {tuple(maps.shape)}")
    maps = maps[:limit].detach().cpu()[:, None]  # (C, H, W) -> (C, 1, H, W)
    return show_images(maps, titles=[f"ch {i}" for i in range(len(maps))], ncols=ncols, normalize=True,
                       cmap="viridis", size=1.2, suptitle=title)
