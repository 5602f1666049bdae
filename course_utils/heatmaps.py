"""Heatmaps for "objects as points": encode boxes as centre peaks, decode peaks back to boxes.

CenterNet (Zhou et al., *Objects as Points*, 2019) detects an object by the peak of a
class heatmap at its centre and reads the box size (and a sub-cell offset) from two more
maps at that peak. Notebook 10 writes the decoding out in plain PyTorch first; these
helpers are the tested versions it then reuses:

* :func:`gaussian_heatmaps`: a Gaussian bump per point, in the point's channel;
* :func:`encode_centers`: boxes -> (class heatmaps, size maps, offset maps, where a centre is);
* :func:`find_peaks`: local maxima by the 3x3 max-pool trick (a cell is a peak if max
  pooling leaves it unchanged), the top ``k`` above a threshold;
* :func:`decode_centers`: peaks + size + offset maps -> boxes, scores, labels per image.

Coordinates: heatmap cell ``(row, col)`` covers input pixels ``col*stride .. (col+1)*stride``
(edges); a box centre ``cx`` lies in cell ``floor(cx / stride)`` with offset
``cx / stride - floor(cx / stride)`` in ``[0, 1)``. Boxes are ``(x1, y1, x2, y2)`` in pixel
edges, as in :mod:`course_utils.scenes` and torchvision.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from . import _checks


def _check_maps(name: str, t: torch.Tensor, channels: int | None = None) -> None:
    if not isinstance(t, torch.Tensor) or t.ndim != 4 or (channels is not None and t.shape[1] != channels):
        want = f"(N, {channels}, H, W)" if channels is not None else "(N, C, H, W)"
        got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
        raise ValueError(f"{name} must be a batch of maps {want}, got {got}")
    _checks.finite(name, t, "check the network's output (a loss that became NaN?)")


def _floats(name: str, value: Any, layout: str) -> torch.Tensor:
    """``value`` (tensor, array or nested list of numbers; may be empty) as finite float32."""
    try:
        t = torch.as_tensor(value, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be numbers {layout}, got {_checks.describe(value)}") from err
    return _checks.finite(name, t)


def _ints(name: str, value: Any, layout: str) -> torch.Tensor:
    """``value`` (integer tensor, array or list; may be empty) as int64."""
    try:
        t = torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be integers {layout}, got {_checks.describe(value)}") from err
    if t.numel() and (t.dtype == torch.bool or t.is_floating_point() or t.is_complex()):
        raise TypeError(f"{name} must be integer indices {layout}, got {_checks.describe(value)}; "
                        f"use .long() if the values are whole numbers")
    return t.long()


def gaussian_heatmaps(points: torch.Tensor, channels: torch.Tensor, num_channels: int, height: int, width: int,
                      sigma: float | torch.Tensor = 1.0) -> torch.Tensor:
    """Heatmaps with a Gaussian bump (peak 1) at each point, in that point's channel.

    Where two bumps of one channel meet, the larger value wins (not the sum), so every
    peak stays exactly 1.

    Args:
        points: ``(P, 2)`` float ``(x, y)`` in heatmap cells (cell centres are at ``+0.5``
            when the points are cell indices; pass what your decoding expects).
        channels: ``(P,)`` int channel of each point (class, or keypoint type).
        num_channels, height, width: shape of the result.
        sigma: Gaussian width in cells, one number or ``(P,)``.

    Returns:
        float32 ``(num_channels, height, width)`` in ``[0, 1]``.
    """
    num_channels = _checks.integer("num_channels", num_channels, low=1)
    height, width = _checks.integer("height", height, low=1), _checks.integer("width", width, low=1)
    points = _floats("points", points, "(P, 2) (x, y)")
    channels = _ints("channels", channels, "(P,)")
    if points.ndim != 2 or points.shape[1] != 2 or channels.shape != points.shape[:1]:
        raise ValueError(f"expected points (P, 2) and channels (P,), got {tuple(points.shape)} and "
                         f"{tuple(channels.shape)}")
    if len(channels) and not 0 <= int(channels.min()) <= int(channels.max()) < num_channels:
        raise ValueError(f"channels must lie in 0..{num_channels - 1}, got {channels.tolist()}")
    sigma = _floats("sigma", sigma, "(one number or (P,))").expand(len(points))
    if len(sigma) and float(sigma.min()) <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma.tolist()}")
    out = torch.zeros(num_channels, height, width)
    ys, xs = torch.arange(height, dtype=torch.float32)[:, None], torch.arange(width, dtype=torch.float32)[None]
    for (x, y), c, s in zip(points, channels, sigma):
        bump = torch.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * s**2))  # (H, W)
        out[c] = torch.maximum(out[c], bump)
    return out


def encode_centers(boxes: torch.Tensor, labels: torch.Tensor, num_classes: int, image_size: int, stride: int,
                   sigma_scale: float = 0.1) -> dict[str, torch.Tensor]:
    """Training targets of one image for a CenterNet-style detector.

    Args:
        boxes: ``(k, 4)`` ``(x1, y1, x2, y2)`` in input pixels; labels: ``(k,)`` in
            ``0..num_classes-1`` (entries with label ``-1`` are padding and skipped).
        num_classes: heatmap channels.
        image_size: input side ``S``; the maps have side ``S // stride``.
        stride: input pixels per heatmap cell (``S`` must be a multiple).
        sigma_scale: Gaussian width = ``sigma_scale * sqrt(w * h) / stride`` cells (at least 0.5).

    Returns:
        ``{"heatmap": (C, h, w), "size": (2, h, w) box width and height in pixels,
        "offset": (2, h, w) sub-cell offset of the centre in [0, 1), "mask": (h, w) bool,
        True at the k centre cells}``; size and offset are 0 outside the mask.
    """
    boxes, labels = _floats("boxes", boxes, "(k, 4) (x1, y1, x2, y2)"), _ints("labels", labels, "(k,)")
    num_classes = _checks.integer("num_classes", num_classes, low=1)
    image_size = _checks.integer("image_size", image_size, low=1)
    sigma_scale = _checks.number("sigma_scale", sigma_scale, low=0, low_open=True)
    if boxes.ndim != 2 or boxes.shape[1] != 4 or labels.shape != boxes.shape[:1]:
        raise ValueError(f"expected boxes (k, 4) and labels (k,), got {tuple(boxes.shape)} and {tuple(labels.shape)}")
    if not isinstance(stride, int) or stride < 1 or image_size % stride:
        raise ValueError(f"stride must be a positive int dividing image_size={image_size}, got {stride!r}")
    if len(labels) and not -1 <= int(labels.min()) <= int(labels.max()) < num_classes:
        raise ValueError(f"labels must lie in 0..{num_classes - 1} (or -1 for padding), got {labels.tolist()}")
    keep = labels >= 0
    boxes, labels = boxes[keep], labels[keep]
    side = image_size // stride
    wh = boxes[:, 2:] - boxes[:, :2]  # (k, 2)
    if (wh <= 0).any():
        raise ValueError(f"boxes: every box needs x2 > x1 and y2 > y1, got {boxes.tolist()}")
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2 / stride  # (k, 2) in cells
    cell = centre.floor().long().clamp(0, side - 1)
    sigma = (sigma_scale * wh.prod(1).sqrt() / stride).clamp(min=0.5)
    heatmap = gaussian_heatmaps(cell.float(), labels, num_classes, side, side, sigma)  # peak 1 at the centre cell
    size, offset = torch.zeros(2, side, side), torch.zeros(2, side, side)
    mask = torch.zeros(side, side, dtype=torch.bool)
    size[:, cell[:, 1], cell[:, 0]] = wh.T
    offset[:, cell[:, 1], cell[:, 0]] = (centre - cell).T
    mask[cell[:, 1], cell[:, 0]] = True
    return {"heatmap": heatmap, "size": size, "offset": offset, "mask": mask}


def find_peaks(heatmap: torch.Tensor, k: int = 20, threshold: float = 0.1,
               kernel: int = 3) -> list[dict[str, torch.Tensor]]:
    """Local maxima of class heatmaps: the top ``k`` cells that a max pool leaves unchanged.

    Args:
        heatmap: ``(N, C, H, W)`` scores (e.g. after a sigmoid).
        k: most peaks kept per image (over all channels).
        threshold: peaks scoring below this are dropped.
        kernel: odd max-pool window; a peak is the maximum of its ``kernel x kernel`` window.

    Returns:
        One dict per image: ``"scores" (m,)``, ``"channels" (m,)``, ``"ys" (m,)``, ``"xs" (m,)``,
        best first, ``m <= k``.
    """
    _check_maps("heatmap", heatmap)
    if not isinstance(kernel, int) or kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"kernel must be an odd int >= 1, got {kernel!r}")
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    threshold = _checks.number("threshold", threshold)
    n, c, h, w = heatmap.shape
    pooled = F.max_pool2d(heatmap, kernel, stride=1, padding=kernel // 2)  # same shape
    peaks = heatmap * (pooled == heatmap)  # (N, C, H, W): everything but local maxima set to 0
    scores, index = peaks.flatten(1).topk(min(k, c * h * w), dim=1)  # (N, k) over channels and cells
    out = []
    for s, i in zip(scores, index):
        keep = s >= threshold
        s, i = s[keep], i[keep]
        out.append({"scores": s, "channels": i // (h * w), "ys": (i % (h * w)) // w, "xs": i % w})
    return out


def decode_centers(heatmap: torch.Tensor, size: torch.Tensor, stride: int, offset: torch.Tensor | None = None,
                   k: int = 20, threshold: float = 0.1) -> list[dict[str, torch.Tensor]]:
    """Boxes from CenterNet outputs: each heatmap peak is a centre, the size maps give w and h.

    Args:
        heatmap: ``(N, C, h, w)`` class scores in ``[0, 1]``.
        size: ``(N, 2, h, w)`` predicted box width and height in input pixels.
        stride: input pixels per heatmap cell.
        offset: ``(N, 2, h, w)`` sub-cell offset of the centre; without it the centre is
            put at the middle of its cell (offset 0.5).
        k, threshold: as in :func:`find_peaks`.

    Returns:
        One dict per image: ``"boxes" (m, 4)`` ``(x1, y1, x2, y2)`` in input pixels,
        ``"scores" (m,)``, ``"labels" (m,)``: the format of torchmetrics' ``MeanAveragePrecision``.
    """
    _check_maps("heatmap", heatmap)
    _check_maps("size", size, 2)
    if offset is not None:
        _check_maps("offset", offset, 2)
    if size.shape[2:] != heatmap.shape[2:] or (offset is not None and offset.shape[2:] != heatmap.shape[2:]):
        raise ValueError(f"size/offset maps must have the heatmap's spatial size {tuple(heatmap.shape[2:])}")
    if not isinstance(stride, int) or stride < 1:
        raise ValueError(f"stride must be an int >= 1, got {stride!r}")
    out = []
    for n, peaks in enumerate(find_peaks(heatmap, k, threshold)):
        ys, xs = peaks["ys"], peaks["xs"]
        off = offset[n][:, ys, xs] if offset is not None else torch.full((2, len(xs)), 0.5)  # (2, m)
        cx, cy = (xs + off[0]) * stride, (ys + off[1]) * stride
        bw, bh = size[n, 0, ys, xs], size[n, 1, ys, xs]
        boxes = torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1)  # (m, 4)
        out.append({"boxes": boxes, "scores": peaks["scores"], "labels": peaks["channels"]})
    return out
