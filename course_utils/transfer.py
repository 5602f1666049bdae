"""Transfer learning: count and freeze parameters, swap the classifier head, cached features.

* :func:`freeze`, :func:`unfreeze` (and ``count_params``, from :mod:`course_utils.models`): what will train.
* :func:`last_linear` / :func:`replace_head`: find a network's final ``nn.Linear`` and swap
  it for a new one with your number of classes (works for timm and torchvision models).
* :func:`param_groups`: a lower learning rate for the backbone than for the new head.
* :func:`extract_features`: run a frozen backbone once and cache its features under
  ``settings.cache_dir("features")``, keyed by the model's weights, the input size, the
  normalisation and the images themselves (quick and full mode never collide).
* :func:`per_class_indices`: pick ``k`` labelled examples per class, for few-label curves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch
from torch import nn

from . import _checks
from .cache import load_or_compute, tensor_check
from .models import count_params  # noqa: F401 - re-exported: one parameter counter for the whole course


def _set_trainable(module: nn.Module, flag: bool) -> nn.Module:
    _checks.module("module", module)
    for p in module.parameters():
        p.requires_grad_(flag)
    return module


def freeze(module: nn.Module) -> nn.Module:
    """Set ``requires_grad=False`` on every parameter of ``module`` (in place); returns it."""
    return _set_trainable(module, False)


def unfreeze(module: nn.Module) -> nn.Module:
    """Set ``requires_grad=True`` on every parameter of ``module`` (in place); returns it."""
    return _set_trainable(module, True)


def last_linear(model: nn.Module) -> tuple[str, nn.Linear]:
    """The name and module of the last ``nn.Linear`` in ``model`` (its classifier head).

    ``model.named_modules()`` lists layers in the order they were registered, which for
    ResNet (``fc``), EfficientNet (``classifier``) and most classifiers ends with the head.

    Raises:
        ValueError: ``model`` has no ``nn.Linear`` layer.
    """
    _checks.module("model", model)
    found = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not found:
        raise ValueError(f"model ({type(model).__name__}) has no nn.Linear layer to replace")
    return found[-1]


def replace_head(model: nn.Module, num_classes: int) -> nn.Linear:
    """Swap the last ``nn.Linear`` of ``model`` for a fresh one with ``num_classes`` outputs.

    Args:
        model: a classifier, changed in place (e.g. ``fc`` of ResNet-18:
            ``Linear(512, 1000) -> Linear(512, num_classes)``).
        num_classes: outputs of the new head (>= 1).

    Returns:
        The new head (trainable, default PyTorch initialisation, on the old head's device).
    """
    num_classes = _checks.integer("num_classes", num_classes, 1, hint="num_classes must be a positive int")
    name, old = last_linear(model)
    head = nn.Linear(old.in_features, num_classes, bias=old.bias is not None).to(old.weight.device)
    parent_name, _, attr = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, attr, head)
    return head


def param_groups(model: nn.Module, head: nn.Module, backbone_lr: float, head_lr: float) -> list[dict]:
    """Optimizer parameter groups: the head at ``head_lr``, every other trainable parameter at ``backbone_lr``.

    Args:
        model: the whole network (backbone and head).
        head: the head module inside ``model`` (e.g. from :func:`replace_head`).
        backbone_lr, head_lr: learning rates. For Adam, e.g. ``1e-4`` and ``1e-3``: the backbone
            10-100x slower than the new head (notebook 07 measures why: Adam at ``1e-3`` moves
            every pretrained kernel by about 1% per step and can collapse the features).

    Returns:
        ``[{"params": backbone, "lr": backbone_lr}, {"params": head, "lr": head_lr}]``
        for ``torch.optim.Adam(groups)``.
    """
    _checks.module("model", model)
    _checks.module("head", head)
    backbone_lr = _checks.number("backbone_lr", backbone_lr, 0, hint="0 keeps the backbone as it is")
    head_lr = _checks.number("head_lr", head_lr, 0, low_open=True)
    head_ids = {id(p) for p in head.parameters()}
    all_ids = {id(p) for p in model.parameters()}
    if not head_ids or not head_ids <= all_ids:
        raise ValueError("head must be a submodule of model with parameters")
    backbone = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    return [{"params": backbone, "lr": backbone_lr},
            {"params": [p for p in head.parameters() if p.requires_grad], "lr": head_lr}]


def per_class_indices(y: torch.Tensor, per_class: int, seed: int = 0) -> torch.Tensor:
    """Indices of ``per_class`` randomly chosen examples of every class in ``y`` (seeded).

    Args:
        y: int labels ``(N,)``.
        per_class: examples to take from each class (>= 1).
        seed: the choice for one seed is repeatable; for a fixed seed the set for a
            smaller ``per_class`` is contained in the set for a larger one.

    Returns:
        int64 indices ``(per_class * num_classes,)``, sorted.
    """
    y = _checks.labels("y", y)
    if len(y) == 0:
        raise ValueError("y is empty: there are no labels to pick from")
    per_class = _checks.integer("per_class", per_class, 1, hint="per_class must be a positive int")
    g = torch.Generator().manual_seed(_checks.integer("seed", seed, 0))
    picks = []
    for c in y.unique().tolist():
        idx = (y == c).nonzero().flatten()
        if len(idx) < per_class:
            raise ValueError(f"class {c} has only {len(idx)} examples, cannot take per_class={per_class}")
        picks.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    return torch.cat(picks).sort().values


def model_key(model: nn.Module) -> str:
    """A short hash of the model's class and weights (changes when any weight changes)."""
    _checks.module("model", model)
    h = hashlib.sha1(type(model).__name__.encode())
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _features_record(model: nn.Module, images: torch.Tensor, size: int, mean, std) -> dict:
    """What backbone features depend on: the weights, the preprocessing and the images themselves."""
    record = {"what": "backbone features", "model": f"{type(model).__module__}.{type(model).__name__}",
              "weights": model_key(model), "preprocessing": {"size": size, "mean": [float(m) for m in mean],
                                                             "std": [float(s) for s in std]},
              "images": {"shape": list(images.shape), "dtype": str(images.dtype),
                         "sha256": hashlib.sha256(images.detach().cpu().contiguous().numpy()).hexdigest()}}
    if type(model).__module__.startswith("timm"):
        import timm

        record["timm"] = timm.__version__
    return record


@torch.no_grad()
def extract_features(
    model: nn.Module,
    images: torch.Tensor,
    size: int = 96,
    mean: Sequence[float] = (0.5, 0.5, 0.5),
    std: Sequence[float] = (0.5, 0.5, 0.5),
    batch_size: int = 128,
    cache: bool = True,
    device: torch.device | str | None = None,
    verbose: bool = True,
) -> torch.Tensor:
    """Features of a frozen backbone for every image, computed once and cached on disk.

    Each batch is made 3-channel, resized to ``size x size`` and normalised
    (:func:`course_utils.pretrained.preprocess`), then passed through the network up to
    its classifier: ``forward_features`` + ``forward_head(pre_logits=True)`` for timm
    models (e.g. EfficientNet-Lite0: 1280 numbers per image), else ``model(x)`` (give a
    torchvision model an ``nn.Identity()`` head for that).

    Args:
        model: the backbone; put in eval mode (batch norm uses its running statistics).
        images: ``(N, C, H, W)`` floats in ``[0, 1]``, ``C`` = 1 or 3.
        size: input side in pixels (cost grows with ``size**2``).
        mean, std: normalisation the weights were trained with (default EfficientNet-Lite's 0.5/0.5).
        batch_size: images per forward pass.
        cache: read/write ``settings.cache_dir("features")/<model>_<size>px_<key>.pt``
            through :mod:`course_utils.cache`: the entry records the weights' hash, ``size``,
            ``mean``, ``std``, the images' hash and the library versions, with a checksum; a
            bad entry (truncated, wrong shape, all zeros...) is recomputed with a warning,
            and an unwritable cache folder means computing without it.
        device: default: the model's device.
        verbose: print whether the features came from the cache and how long they took.

    Returns:
        float32 ``(N, D)`` on the CPU. A cached entry is served only if it is ``(N, D)`` float32,
        finite, and its first row matches the features of the first image computed afresh
        (so an entry with extra columns, NaN or another model's features is recomputed).
    """
    import time

    from .pretrained import _stats, preprocess

    _checks.module("model", model)
    images = _checks.images("images", images, batch=True)  # (N, C, H, W) floats in [0, 1]; uint8 converted
    size = _checks.integer("size", size, 8, 4096, hint="the input side in pixels, e.g. 96")
    mean, std = _stats("mean", mean), _stats("std", std)
    batch_size = _checks.integer("batch_size", batch_size, 1)
    cache, verbose = _checks.flag("cache", cache), _checks.flag("verbose", verbose)
    device = _checks.device("device", device) if device is not None else _checks.module_device(model)
    timm_like = hasattr(model, "forward_features") and hasattr(model, "forward_head")

    def forward(x: torch.Tensor) -> torch.Tensor:
        where = " (extract_features feeds 3-channel RGB images: give it a backbone for RGB input)"
        if timm_like:
            return _checks.call_model(lambda b: model.forward_head(model.forward_features(b), pre_logits=True),
                                      x, "the preprocessed images", where=where, owner=model)  # -> (n, D)
        return _checks.call_model(model, x, "the preprocessed images", where=where)

    def compute(of: torch.Tensor = images) -> torch.Tensor:
        model.eval().to(device)
        channels_last = device.type == "cpu"  # depthwise convs run ~2x faster channels-last on CPU
        if channels_last:
            model.to(memory_format=torch.channels_last)
        out = []
        try:
            for chunk in of.split(batch_size):
                x = preprocess(chunk, size=size, mean=mean, std=std).to(device)  # (n, C, h, w) -> (n, 3, size, size)
                if channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                f = forward(x)
                if not isinstance(f, torch.Tensor) or f.ndim < 2 or len(f) != len(x):
                    raise ValueError(f"model must return one feature vector per image, (n, D), got {_checks.describe(f)} "
                                     f"for {len(x)} images; give a torchvision model an nn.Identity() head")
                out.append(f.flatten(1).float().cpu())
        finally:
            if channels_last:
                model.to(memory_format=torch.contiguous_format)
        return torch.cat(out)

    first: list[torch.Tensor] = []  # the first image's features, computed afresh once, to check an entry against

    def check(feats) -> None:
        tensor_check(shape=(len(images), None), dtype=torch.float32)(feats)
        if not first:
            first.append(compute(images[:1])[0])
        if feats.shape[1] != len(first[0]) or not torch.allclose(feats[0], first[0], rtol=1e-3, atol=1e-3):
            raise ValueError(f"its first row ({feats.shape[1]} numbers) is not the features of the first image "
                             f"computed afresh ({len(first[0])} numbers)")

    start = time.perf_counter()
    feats, source = load_or_compute("features", _features_record(model, images, size, mean, std), compute,
                                    check=check, prefix=f"{type(model).__name__}_{size}px", use_cache=cache)
    if verbose:
        how = "from cache" if source == "cache" else f"{source} in {time.perf_counter() - start:.1f}s"
        print(f"features {tuple(feats.shape)} at {size}px: {how}")
    return feats
