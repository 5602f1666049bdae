"""Data augmentation: a gallery of transforms, a live explorer, and fast on-the-fly batch augmentation.

* :func:`gallery` shows what each transform does to one image, titled with its parameters.
* :func:`apply_params` applies *fixed* settings (angle, scale, colour, blur, erasing...) so a
  slider, a figure and a test all see the same picture; :func:`explorer` puts sliders on it
  (ipywidgets) and always draws a static figure too, for pages without a widget frontend.
* :func:`random_affine_batch` draws a *different* random shift/rotation/scale/flip for every
  image of a batch in one ``grid_sample`` call; :class:`AugmentedLoader` applies such a
  function to every training batch, so each epoch sees new images.
* :func:`predict_tta` averages predictions over several views (test-time augmentation).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from . import _checks

Batch = tuple[torch.Tensor, torch.Tensor]


def _check_image(image: torch.Tensor, what: str = "image") -> torch.Tensor:
    """The image as float (C, H, W) in [0, 1]; uint8 0-255 and channels-last (H, W, C) are converted."""
    return _checks.images(what, image, batch=False)


@torch.no_grad()
def gallery(
    image: torch.Tensor,
    transforms: Mapping[str, Callable[[torch.Tensor], torch.Tensor]],
    samples: int = 1,
    size: float = 2.0,
    seed: int = 0,
    title: str = "augmentations",
):
    """Show the original image and ``samples`` random draws of each transform, one row per transform.

    Args:
        image: ``(C, H, W)`` float tensor in ``[0, 1]``, ``C`` = 1 or 3.
        transforms: ``{"title with parameters": transform}``; each transform maps a
            ``(C, H, W)`` tensor to a ``(C, H', W')`` tensor (torchvision v2 transforms do).
        samples: random draws per transform (columns).
        size: inches per panel.
        seed: seeds PyTorch's global generator first, so the figure is repeatable.
        title: title of the whole figure.

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt

    image = _check_image(image)
    if not isinstance(transforms, Mapping) or not transforms:
        raise ValueError(f"transforms must be a non-empty dict {{title: transform}}, got {_checks.describe(transforms)}")
    for name, tf in transforms.items():
        _checks.function(f"transforms[{name!r}]", tf, "v2.RandomHorizontalFlip() (a function of a (C, H, W) tensor)")
    samples = _checks.integer("samples", samples, 1, 20)
    size = _checks.number("size", size, 0, low_open=True, hint="inches per panel")
    torch.manual_seed(_checks.integer("seed", seed, 0, 2**63 - 1))
    rows = len(transforms)
    fig, axes = plt.subplots(rows, samples + 1, figsize=(size * (samples + 1) + 2.5, size * rows),
                             squeeze=False)  # + 2.5 inches for the row titles
    for r, (name, tf) in enumerate(transforms.items()):
        views = [image] + [_checks.images(f"the output of transforms[{name!r}]", tf(image), batch=False,
                                          check_range=False) for _ in range(samples)]
        for c, view in enumerate(views):
            ax = axes[r, c]
            ax.imshow(_to_hwc(view), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
            if r == 0:
                ax.set_title("original" if c == 0 else f"draw {c}", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _to_hwc(image: torch.Tensor):
    """(C, H, W) tensor -> (H, W) or (H, W, 3) numpy array clipped to [0, 1], for imshow."""
    x = image.detach().cpu().float().clamp(0, 1)
    return x[0].numpy() if x.shape[0] == 1 else x.permute(1, 2, 0).numpy()


@torch.no_grad()
def apply_params(
    image: torch.Tensor,
    angle: float = 0.0,
    scale: float = 1.0,
    translate: tuple[int, int] = (0, 0),
    hflip: bool = False,
    brightness: float = 1.0,
    contrast: float = 1.0,
    saturation: float = 1.0,
    hue: float = 0.0,
    blur_sigma: float = 0.0,
    erase: float = 0.0,
) -> torch.Tensor:
    """Apply fixed (not random) augmentation settings to one image, in a fixed order.

    Args:
        image: ``(C, H, W)`` float in ``[0, 1]``, ``C`` = 1 or 3.
        angle: rotation in degrees (counter-clockwise).
        scale: zoom factor (> 0); 1 keeps the size.
        translate: shift ``(dx, dy)`` in pixels.
        hflip: mirror left-right.
        brightness, contrast, saturation: factors (1 = unchanged, 0 = black / gray / gray).
        hue: hue shift in ``[-0.5, 0.5]`` (ignored for 1-channel images).
        blur_sigma: Gaussian blur standard deviation in pixels (0 = none).
        erase: side of a centred erased (zeroed) square, as a fraction of the image side.

    Returns:
        ``(C, H, W)`` tensor in ``[0, 1]``.
    """
    from torchvision.transforms.v2 import functional as TF

    image = _check_image(image)
    angle = _checks.number("angle", angle, hint="degrees")
    scale = _checks.number("scale", scale, 0, low_open=True, hint="a zoom factor, 1 keeps the size")
    if isinstance(translate, (str, bytes)) or not isinstance(translate, (tuple, list)) or len(translate) != 2:
        raise ValueError(f"translate must be a pair (dx, dy) in pixels, got {_checks.describe(translate)}")
    translate = [_checks.number("translate", t) for t in translate]
    brightness, contrast, saturation = (_checks.number(n, v, 0, hint="1 = unchanged") for n, v in (
        ("brightness", brightness), ("contrast", contrast), ("saturation", saturation)))
    hue = _checks.number("hue", hue, -0.5, 0.5)
    blur_sigma = _checks.number("blur_sigma", blur_sigma, 0, hint="pixels, 0 = no blur")
    if math.ceil(3 * blur_sigma) >= min(image.shape[-2:]):
        raise ValueError(f"blur_sigma={blur_sigma:g} needs a kernel wider than the {tuple(image.shape[-2:])} image; "
                         f"use blur_sigma < {min(image.shape[-2:]) / 3:.3g}")
    erase = _checks.number("erase", erase, 0, 1, hint="a fraction of the image side")
    hflip = _checks.flag("hflip", hflip)
    x = image.float()
    if hflip:
        x = TF.horizontal_flip(x)
    if angle or scale != 1 or any(translate):
        x = TF.affine(x, angle=angle, translate=list(translate), scale=scale, shear=[0.0, 0.0])
    x = TF.adjust_brightness(x, brightness)
    x = TF.adjust_contrast(x, contrast)
    if x.shape[0] == 3:
        x = TF.adjust_saturation(x, saturation)
        if hue:
            x = TF.adjust_hue(x, hue)
    if blur_sigma > 0:
        k = 2 * math.ceil(3 * blur_sigma) + 1  # kernel covers +-3 sigma
        x = TF.gaussian_blur(x, [k, k], [blur_sigma, blur_sigma])
    if erase > 0:
        h, w = x.shape[-2:]
        eh, ew = round(erase * h), round(erase * w)
        x = x.clone()
        x[:, (h - eh) // 2:(h - eh) // 2 + eh, (w - ew) // 2:(w - ew) // 2 + ew] = 0
    return x.clamp(0, 1)


EXPLORER_PRESETS: dict[str, dict] = {
    "original": {},
    "rotate 30, zoom 1.2": {"angle": 30, "scale": 1.2},
    "flip, shift right": {"hflip": True, "translate": (40, 0)},
    "dark, low contrast": {"brightness": 0.6, "contrast": 0.5},
    "hue +0.3": {"hue": 0.3},
    "gray (saturation 0)": {"saturation": 0.0},
    "blur sigma 3": {"blur_sigma": 3.0},
    "erase 0.4 x 0.4 (16% area)": {"erase": 0.4},  # erase is a fraction of the side, not of the area
}


def explorer(image: torch.Tensor, presets: Mapping[str, dict] | None = None, size: float = 2.0):
    """Sliders for :func:`apply_params` on one image, plus a static figure of preset settings.

    The static figure is always drawn (a rendered notebook or a test run sees it); the
    sliders work where a widget frontend is running (JupyterLab, VS Code, Colab).

    Args:
        image: ``(C, H, W)`` float in ``[0, 1]``.
        presets: ``{title: apply_params keyword arguments}`` for the static figure;
            default :data:`EXPLORER_PRESETS`.
        size: inches per panel of the static figure.

    Returns:
        ``(figure, widget)``: the static matplotlib figure and an ``ipywidgets`` widget
        (``None`` if ipywidgets is not installed).
    """
    import inspect

    import matplotlib.pyplot as plt

    image = _check_image(image)
    if presets is not None and not isinstance(presets, Mapping):
        raise TypeError(f"presets must be a dict {{title: apply_params settings}}, got {_checks.describe(presets)}")
    presets = dict(EXPLORER_PRESETS if presets is None else presets)
    if not presets:
        raise ValueError("presets is empty; give at least one {title: settings} entry (or None for the defaults)")
    known = set(inspect.signature(apply_params).parameters) - {"image"}
    for name, params in presets.items():
        if not isinstance(params, Mapping):
            raise TypeError(f"presets[{name!r}] must be a dict of apply_params settings, got {_checks.describe(params)}")
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"presets[{name!r}] has unknown settings {unknown}; known: {sorted(known)}")
    size = _checks.number("size", size, 0, low_open=True, hint="inches per panel")
    n = len(presets)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (name, params) in zip(axes.flat, presets.items()):
        ax.imshow(_to_hwc(apply_params(image, **params)), cmap="gray", vmin=0, vmax=1)
        ax.set_title(name, fontsize=9)
    fig.suptitle("apply_params at fixed settings (static view of the explorer)")
    fig.tight_layout()
    try:
        import ipywidgets as W
    except ImportError:
        return fig, None

    # The live view is a PNG in a W.Image updated by slider callbacks: no matplotlib and no
    # Output capture in the kernel, so executing the cell (nbconvert, nbval) never waits on a frontend.
    w = image.shape[-1]
    sliders = {
        "angle": W.FloatSlider(0, min=-180, max=180, step=5, description="angle"),
        "scale": W.FloatSlider(1, min=0.5, max=2, step=0.05, description="scale"),
        "shift_x": W.IntSlider(0, min=-w // 2, max=w // 2, step=1, description="shift x"),
        "hflip": W.Checkbox(False, description="flip"),
        "brightness": W.FloatSlider(1, min=0, max=2, step=0.05, description="brightness"),
        "contrast": W.FloatSlider(1, min=0, max=2, step=0.05, description="contrast"),
        "saturation": W.FloatSlider(1, min=0, max=2, step=0.05, description="saturation"),
        "hue": W.FloatSlider(0, min=-0.5, max=0.5, step=0.02, description="hue"),
        "blur_sigma": W.FloatSlider(0, min=0, max=5, step=0.25, description="blur sigma"),
        "erase": W.FloatSlider(0, min=0, max=0.8, step=0.05, description="erase side"),
    }
    side = int(size * 100)
    view = W.Image(value=_png(image), format="png", width=side, height=side)

    def update(_change=None) -> None:
        p = {k: s.value for k, s in sliders.items()}
        p["translate"] = (p.pop("shift_x"), 0)
        view.value = _png(apply_params(image, **p))

    for s in sliders.values():
        s.observe(update, names="value")
    original = W.Image(value=_png(image), format="png", width=side, height=side)
    from .widgets import static_view_box

    widget = static_view_box([W.VBox(list(sliders.values())), W.VBox([W.Label("original"), original]),
                              W.VBox([W.Label("augmented"), view])], lambda: view.value,
                             "Augmentation explorer (sliders for each augmentation; interactive with a running "
                             "kernel). The picture shows the augmented image at the current setting.", kind="HBox")
    return fig, widget


def _png(image: torch.Tensor) -> bytes:
    """(C, H, W) tensor in [0, 1] -> PNG bytes, for ipywidgets.Image."""
    import io

    from PIL import Image

    arr = (_to_hwc(image) * 255).round().astype("uint8")
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def random_affine_batch(
    x: torch.Tensor,
    degrees: float = 0.0,
    translate: float = 0.0,
    scale: tuple[float, float] = (1.0, 1.0),
    hflip: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """A different random rotation/shift/zoom/flip for every image of a batch, in one call.

    Builds one 2x3 affine matrix per image and resamples with ``F.grid_sample`` (bilinear,
    zeros outside), so it costs about one convolution layer and runs on any device.

    Args:
        x: ``(N, C, H, W)`` float batch (a NumPy array is converted; an empty batch comes back
            as it is). Refused: integer or uint8 dtypes (scale 0-255 pixels to floats first), a
            channels-last ``(N, H, W, C)`` batch, NaN or infinity.
        degrees: rotations drawn uniformly from ``[-degrees, degrees]``.
        translate: shifts drawn uniformly from ``[-translate, translate]`` as a fraction of the
            image side (0.1 on 28x28 = up to 2.8 pixels).
        scale: zoom factors drawn uniformly from ``[low, high]``.
        hflip: mirror each image left-right with probability 1/2.
        generator: optional ``torch.Generator`` for repeatable draws.

    Returns:
        ``(N, C, H, W)``, same dtype and device as ``x``.
    """
    x = _checks.tensor("x", x, 4, "(N, C, H, W)", empty=True, channels_first=True)
    if x.dtype == torch.uint8:
        raise TypeError("x holds uint8 pixels (0-255); random_affine_batch warps floats: pass x.float() / 255")
    _checks.tensor("x", x, dtype="float", finite=True, empty=True)
    if 0 in x.shape[1:]:
        raise ValueError(f"x has empty images (shape {tuple(x.shape)})")
    degrees = _checks.number("degrees", degrees, 0)
    translate = _checks.number("translate", translate, 0, hint="a fraction of the image side, e.g. 0.1")
    if isinstance(scale, (str, bytes)) or not isinstance(scale, (tuple, list)) or len(scale) != 2:
        raise ValueError(f"scale must be a pair (low, high) of zoom factors, e.g. (0.9, 1.1), got {_checks.describe(scale)}")
    scale = tuple(_checks.number("scale", v, 0, low_open=True) for v in scale)
    if scale[0] > scale[1]:
        raise ValueError(f"scale must be (low, high) with low <= high, got {scale}")
    hflip = _checks.flag("hflip", hflip)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator (or None), got {_checks.describe(generator)}; "
                        "e.g. torch.Generator().manual_seed(0)")
    n = x.shape[0]
    if n == 0:
        return x.clone()  # an empty batch (the last of an exactly divided loader, a filtered set): nothing to warp

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    angle = uniform(-degrees, degrees) * math.pi / 180
    zoom = uniform(*scale)
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0) if hflip else torch.ones(n)
    # grid_sample coordinates run from -1 to 1, so a shift of t*side is 2t
    tx, ty = uniform(-2 * translate, 2 * translate), uniform(-2 * translate, 2 * translate)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1),
                         torch.stack([sin * flip, cos, ty], 1)], 1)  # (N, 2, 3): output -> input coords
    grid = F.affine_grid(theta.to(x), list(x.shape), align_corners=False)  # (N, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class AugmentedLoader:
    """Wrap a loader so every training batch ``x`` passes through ``augment`` on the fly.

    Each pass (epoch) draws new random transforms, so the network never sees exactly the
    same image twice. Works with :func:`course_utils.train.fit` like any loader.

    Args:
        loader: iterable of ``(x, y)`` batches, e.g. from :func:`course_utils.data.make_loader`.
        augment: function ``(N, C, H, W) -> (N, C, H, W)``, e.g.
            ``lambda x: random_affine_batch(x, translate=0.1, hflip=True)``.
    """

    def __init__(self, loader: Iterable[Batch], augment: Callable[[torch.Tensor], torch.Tensor]):
        _checks.function("augment", augment, "lambda x: random_affine_batch(x, translate=0.1, hflip=True) (batch -> batch)")
        if isinstance(loader, (str, bytes, torch.Tensor)) or not hasattr(loader, "__iter__"):
            raise TypeError(f"loader must be an iterable of (x, y) batches such as a DataLoader, "
                            f"got {_checks.describe(loader)}")
        self.loader = loader
        self.augment = augment

    def __iter__(self) -> Iterator[Batch]:
        for x, y in self.loader:
            with torch.no_grad():
                xa = self.augment(x)
            if not isinstance(xa, torch.Tensor):
                raise TypeError(f"augment must return a tensor batch, got {_checks.describe(xa)}")
            if xa.shape != x.shape:
                raise ValueError(f"augment must keep the batch shape {tuple(x.shape)}, got {tuple(xa.shape)}")
            yield xa, y

    def __len__(self) -> int:
        if not hasattr(self.loader, "__len__"):
            raise TypeError(f"the wrapped loader ({type(self.loader).__name__}) has no length; wrap a DataLoader "
                            "or a list of batches")
        return len(self.loader)  # type: ignore[arg-type]


@torch.no_grad()
def predict_tta(
    model: nn.Module,
    x: torch.Tensor,
    views: Sequence[Callable[[torch.Tensor], torch.Tensor]] | None = None,
    batch_size: int = 256,
) -> torch.Tensor:
    """Test-time augmentation: average the softmax probabilities over several views.

    Args:
        model: classifier ``(N, C, H, W) -> (N, K)`` logits; run in eval mode on its device.
        x: ``(N, C, H, W)`` float batch, as the model takes it (a NumPy array is converted,
            floats are cast to the model's dtype). Refused: uint8 and other non-float dtypes,
            NaN or infinity, a channels-last batch.
        views: functions making one view of a batch; default: the identity and a
            left-right flip.
        batch_size: images per forward pass.

    Returns:
        ``(N, K)`` probabilities on the CPU (rows sum to 1). A model that returns NaN or
        infinite logits is an error, not a row of NaN.
    """
    _checks.module("model", model)
    x = _checks.model_batch("x", x, model)
    if not len(x):
        raise ValueError(f"x is empty (shape {tuple(x.shape)}); give at least one image")
    if views is not None and (callable(views) or not isinstance(views, (list, tuple))):
        raise TypeError(f"views must be a list of functions, e.g. [lambda b: b, lambda b: b.flip(-1)], "
                        f"got {_checks.describe(views)}")
    views = list(views) if views is not None else [lambda b: b, lambda b: b.flip(-1)]
    if not views:
        raise ValueError("views must contain at least one function")
    for i, view in enumerate(views):
        _checks.function(f"views[{i}]", view, "lambda b: b.flip(-1) (batch -> batch)")
    batch_size = _checks.integer("batch_size", batch_size, 1)
    model.eval()
    device = _checks.module_device(model)
    out = []
    for chunk in x.split(batch_size):
        chunk = chunk.to(device)
        logits = [_checks.call_model(model, view(chunk), "x", where=f" (view {i})") for i, view in enumerate(views)]
        if any(not isinstance(t, torch.Tensor) or t.ndim != 2 or len(t) != len(chunk) for t in logits):
            raise ValueError(f"model must map each view of a batch of {len(chunk)} to logits ({len(chunk)}, K), "
                             f"got {[_checks.describe(t) for t in logits][:2]}")
        if not all(torch.isfinite(t).all() for t in logits):
            raise ValueError("model returned NaN or infinite logits; check its weights (a diverged training run?) "
                             "and x")
        probs = torch.stack([t.softmax(1) for t in logits]).mean(0)  # (V, n, K) -> (n, K)
        out.append(probs.cpu())
    return torch.cat(out)
