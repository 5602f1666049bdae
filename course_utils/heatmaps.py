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


def _check_maps(name: str, t: torch.Tensor, channels: int | None = None) -> torch.Tensor:
    """A batch of maps ``(N, C, H, W)`` (NumPy converted): finite floats, an empty batch allowed."""
    t = _checks.tensor(name, t, layout="(N, C, H, W) of maps", shape=(None, channels, None, None), dtype="float",
                       finite=True, empty=True, hint="check the network's output (a loss that became NaN?)")
    if 0 in t.shape[1:]:
        raise ValueError(f"{name} must be a batch of maps (N, C, H, W) with C, H, W >= 1, got {tuple(t.shape)}")
    return t


def _floats(name: str, value: Any, layout: str) -> torch.Tensor:
    """``value`` (tensor, array or nested list of numbers; may be empty) as finite float32."""
    try:
        t = torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be numbers {layout}, got {_checks.describe(value)}") from err
    _checks.tensor(name, t, dtype="real", empty=True)  # complex numbers would lose their imaginary part silently
    return _checks.finite(name, t.float())


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
        points: ``(P, 2)`` float ``(x, y)`` in heatmap cells: cell ``(row, col)`` is centred on
            ``x = col``, ``y = row``. A point must lie on the map, ``-0.5 <= x <= width - 0.5``
            and ``-0.5 <= y <= height - 0.5`` (one outside would leave no peak, only zeros).
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
        raise ValueError(f"channels must lie in 0..{num_channels - 1} (num_channels={num_channels}), "
                         f"got {channels.tolist()}")
    off = ((points[:, 0] < -0.5) | (points[:, 0] > width - 0.5) | (points[:, 1] < -0.5) | (points[:, 1] > height - 0.5))
    if off.any():
        raise ValueError(f"points must lie on the {height}x{width} map (height={height}, width={width}: "
                         f"-0.5 <= x <= {width - 0.5}, -0.5 <= y <= {height - 0.5}), but point "
                         f"{int(off.nonzero()[0])} is {points[off][0].tolist()}; are they in input pixels? divide by "
                         "the stride")
    try:
        sigma = _floats("sigma", sigma, "(one number or (P,))").expand(len(points))
    except RuntimeError as err:
        raise ValueError(f"sigma must be one number or one per point ({len(points)},), got {_checks.describe(sigma)}") \
            from err
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
            ``0..num_classes-1`` (entries with label ``-1`` are padding and skipped). Every box's
            centre must lie inside the image, and no two centres in one heatmap cell (the maps
            hold one object per cell: use a smaller stride); such boxes are refused, not dropped
            or moved.
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
    stride = _checks.integer("stride", stride, 1, hint=f"a positive int dividing image_size={image_size}")
    if image_size % stride:
        raise ValueError(f"stride must be a positive int dividing image_size={image_size}, got {stride}")
    if len(labels) and not -1 <= int(labels.min()) <= int(labels.max()) < num_classes:
        raise ValueError(f"labels must lie in 0..{num_classes - 1} (or -1 for padding), got {labels.tolist()}")
    keep = labels >= 0
    boxes, labels = boxes[keep], labels[keep]
    side = image_size // stride
    wh = boxes[:, 2:] - boxes[:, :2]  # (k, 2)
    if (wh <= 0).any():
        raise ValueError(f"boxes: every box needs x2 > x1 and y2 > y1, got {boxes.tolist()}")
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2 / stride  # (k, 2) in cells
    outside = ((centre < 0) | (centre >= side)).any(1)
    if outside.any():
        i = int(outside.nonzero()[0])
        raise ValueError(f"boxes: box {i} {boxes[i].tolist()} has its centre {(centre[i] * stride).tolist()} outside the "
                         f"{image_size}x{image_size} image (image_size={image_size}); drop it or clip it to the image")
    cell = centre.floor().long()  # (k, 2) (col, row)
    flat = cell[:, 1] * side + cell[:, 0]
    if len(flat.unique()) < len(flat):
        twice = [int(v) for v in flat.unique() if int((flat == v).sum()) > 1][0]
        which = (flat == twice).nonzero().flatten().tolist()
        raise ValueError(f"boxes: boxes {which} have their centres in one heatmap cell (row {twice // side}, column "
                         f"{twice % side}) at stride={stride}; a centre map holds one object per cell: use a smaller "
                         "stride")
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
    heatmap = _check_maps("heatmap", heatmap).float()
    kernel = _checks.integer("kernel", kernel, 1, hint="an odd window size such as 3")
    if kernel % 2 == 0:
        raise ValueError(f"kernel must be an odd int >= 1, got {kernel}")
    k = _checks.integer("k", k, 1)
    threshold = _checks.number("threshold", threshold)
    n, c, h, w = heatmap.shape
    pooled = F.max_pool2d(heatmap, kernel, stride=1, padding=kernel // 2)  # same shape
    # (N, C, H, W): everything but local maxima set to -inf (not 0: a threshold <= 0 must not keep them)
    peaks = heatmap.masked_fill(pooled != heatmap, float("-inf"))
    scores, index = peaks.flatten(1).topk(min(k, c * h * w), dim=1)  # (N, k) over channels and cells
    out = []
    for s, i in zip(scores, index):
        keep = (s >= threshold) & (s > float("-inf"))
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
    heatmap = _check_maps("heatmap", heatmap).float()
    size = _check_maps("size", size, 2).float()
    if offset is not None:
        offset = _check_maps("offset", offset, 2).float()
    if size.shape[0] != heatmap.shape[0] or (offset is not None and offset.shape[0] != heatmap.shape[0]):
        raise ValueError(f"size/offset maps must have the heatmap's batch size {heatmap.shape[0]}")
    if size.shape[2:] != heatmap.shape[2:] or (offset is not None and offset.shape[2:] != heatmap.shape[2:]):
        raise ValueError(f"size/offset maps must have the heatmap's spatial size {tuple(heatmap.shape[2:])}")
    stride = _checks.integer("stride", stride, 1)
    out = []
    for n, peaks in enumerate(find_peaks(heatmap, k, threshold)):
        ys, xs = peaks["ys"], peaks["xs"]
        off = offset[n][:, ys, xs] if offset is not None else torch.full((2, len(xs)), 0.5)  # (2, m)
        cx, cy = (xs + off[0]) * stride, (ys + off[1]) * stride
        bw, bh = size[n, 0, ys, xs], size[n, 1, ys, xs]
        boxes = torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1)  # (m, 4)
        out.append({"boxes": boxes, "scores": peaks["scores"], "labels": peaks["channels"]})
    return out
