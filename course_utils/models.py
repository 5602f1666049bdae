"""Small CNNs built from the lecture's patterns: the classic CNN and the modern blocks.

* :class:`ClassicCNNConfig` + :func:`classic_cnn`: the lecture's pattern
  ``[[Conv -> ReLU] x N -> Pool] x M -> [FC -> ReLU] x K -> FC`` (notebook 04), with optional
  BatchNorm and dropout. The flatten size is computed from the input size, so an image size
  too small for the stages is caught when the model is built; and the model's forward checks
  its input (a single image, the wrong channel count or image size, uint8 pixels) before any
  layer runs, so a wrong batch gets a sentence, not a matmul error.
* :class:`ResidualBlock`: ResNet's basic block with a ``skip`` switch, for notebook 05's
  comparison of the same network with and without skips (notebook 05 builds the other
  modern blocks in plain PyTorch).
* :func:`count_params`, :func:`count_flops`: the two costs in every architecture table.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from . import _checks
from .shapes import ShapeError, conv_output_size

POOLS = ("max", "avg", "none")


@dataclass
class ClassicCNNConfig:
    """Settings of :func:`classic_cnn`: ``[[Conv->ReLU]xN -> Pool]xM -> [FC->ReLU]xK -> FC``."""

    in_channels: int = 1  # 1 for gray images (Animal-MNIST), 3 for RGB
    image_size: int = 28  # input height = width; fixes the flatten size
    num_classes: int = 10  # outputs of the last FC layer (logits)
    channels: tuple[int, ...] = (32, 64)  # conv width of each stage; M = len(channels)
    convs_per_stage: int = 2  # N: Conv->ReLU pairs before each pool
    kernel_size: int = 3  # odd, with padding k//2 a conv keeps the size; only pools shrink
    pool: str = "max"  # "max", "avg" or "none" (halves H and W after every stage, or not)
    hidden: tuple[int, ...] = (128,)  # width of each FC->ReLU layer; K = len(hidden)
    batch_norm: bool = False  # Conv -> BatchNorm -> ReLU (notebook 04 measures the effect)
    dropout: float = 0.0  # dropout before every FC layer; 0 switches it off

    def __post_init__(self) -> None:
        # Every field is checked and stored in its plain form (np.int64(3) -> 3, np.True_ -> True).
        for name in ("in_channels", "image_size", "num_classes", "convs_per_stage", "kernel_size"):
            setattr(self, name, _checks.integer(name, getattr(self, name), 1, hint=f"{name} must be a positive int"))
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (padding k//2 keeps the size), got {self.kernel_size}")
        self.channels = _checks.integers("channels", self.channels, low=1, example="(32, 64)")
        self.hidden = _checks.integers("hidden", self.hidden, low=1, example="(128,) or () for none")
        if not self.channels:
            raise ValueError("channels must name at least one stage, e.g. (32, 64), got ()")
        self.pool = _checks.choice("pool", self.pool, POOLS)
        self.batch_norm = _checks.flag("batch_norm", self.batch_norm)
        self.dropout = _checks.number("dropout", self.dropout, 0.0, 1.0, high_open=True, hint="0 switches it off")

    def feature_size(self) -> int:
        """Height (= width) of the last feature map, e.g. 28 -> 14 -> 7 for two pooled stages.

        Raises:
            ValueError: the image is too small for this many pooling stages.
        """
        size = self.image_size
        for stage in range(len(self.channels)):
            if self.pool != "none":
                if size < 2:
                    raise ValueError(f"image_size={self.image_size} is too small for {len(self.channels)} pooled "
                                     f"stages: the feature map is {size}x{size} before stage {stage + 1}'s pool; "
                                     "use fewer stages, pool='none' or a larger image")
                size = conv_output_size(size, 2, 2)
        return size


class ClassicCNN(nn.Sequential):
    """The network :func:`classic_cnn` builds: ``nn.Sequential(features, flatten, classifier)`` whose forward
    checks its input first (see :func:`course_utils._checks.model_input`). A slice of it (``model[:1]``)
    is a plain part without the check."""

    def __init__(self, *args, config: ClassicCNNConfig | None = None) -> None:
        super().__init__(*args)
        self.config = config

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, image_size, image_size) -> (N, num_classes)`` logits."""
        if self.config is not None:
            c = self.config
            _checks.model_input("x", x, channels=c.in_channels, size=(c.image_size, c.image_size),
                                who=f"this classic_cnn (in_channels={c.in_channels}, image_size={c.image_size})",
                                dtype=_checks._param_dtype(self))
        return super().forward(x)


def classic_cnn(config: ClassicCNNConfig | None = None, **overrides) -> ClassicCNN:
    """Build ``[[Conv->ReLU]xN -> Pool]xM -> [FC->ReLU]xK -> FC`` from a config.

    Args:
        config: a :class:`ClassicCNNConfig`; default ``ClassicCNNConfig()`` (2 stages of 2
            convs, 32 and 64 channels, max pooling, one FC layer of 128).
        **overrides: fields to change, e.g. ``classic_cnn(channels=(16,), pool="avg")``.

    Returns:
        A :class:`ClassicCNN`, the ``nn.Sequential(features, flatten, classifier)`` mapping
        ``(N, in_channels, image_size, image_size)`` to logits ``(N, num_classes)``; its
        forward refuses any other input with a message saying what is wrong. The layer names
        (``features.stage1.conv1`` ...) show up in :func:`~course_utils.shapes.trace`.
    """
    if config is None:
        config = ClassicCNNConfig(**overrides)
    elif not isinstance(config, ClassicCNNConfig):
        hint = "; create one: ClassicCNNConfig(...)" if config is ClassicCNNConfig else ""
        raise TypeError(f"config must be a ClassicCNNConfig, got {_checks.describe(config)}{hint}")
    elif overrides:
        config = ClassicCNNConfig(**{**config.__dict__, **overrides})
    features = nn.Sequential()
    c_in = config.in_channels
    for s, c_out in enumerate(config.channels, start=1):
        stage = nn.Sequential()
        for i in range(1, config.convs_per_stage + 1):
            # (N, c_in, H, W) -> (N, c_out, H, W): padding k//2 keeps the size
            stage.add_module(f"conv{i}", nn.Conv2d(c_in, c_out, config.kernel_size, padding=config.kernel_size // 2,
                                                   bias=not config.batch_norm))
            if config.batch_norm:
                stage.add_module(f"bn{i}", nn.BatchNorm2d(c_out))
            stage.add_module(f"relu{i}", nn.ReLU())
            c_in = c_out
        if config.pool != "none":  # (N, C, H, W) -> (N, C, H//2, W//2)
            stage.add_module("pool", nn.MaxPool2d(2) if config.pool == "max" else nn.AvgPool2d(2))
        features.add_module(f"stage{s}", stage)
    side = config.feature_size()
    classifier = nn.Sequential()
    width = c_in * side * side  # flatten size: channels x height x width of the last map
    for k, h in enumerate(config.hidden, start=1):
        if config.dropout:
            classifier.add_module(f"drop{k}", nn.Dropout(config.dropout))
        classifier.add_module(f"fc{k}", nn.Linear(width, h))
        classifier.add_module(f"relu{k}", nn.ReLU())
        width = h
    if config.dropout:
        classifier.add_module("drop_out", nn.Dropout(config.dropout))
    classifier.add_module("out", nn.Linear(width, config.num_classes))  # (N, width) -> (N, num_classes)
    return ClassicCNN(OrderedDict(features=features, flatten=nn.Flatten(), classifier=classifier), config=config)


# ----------------------------------------------------------------------------------------
# The residual block (notebook 05)

class ResidualBlock(nn.Module):
    """ResNet's basic block (He et al., 2016): ``ReLU(F(x) + shortcut(x))``, ``F`` = two 3x3 convs.

    Args:
        c_in, c_out: channels in and out.
        stride: 2 halves H and W (the shortcut then is a strided 1x1 conv + BN).
        skip: ``False`` drops the shortcut (a plain two-conv block), for the gradient-flow
            comparison in notebook 05.

    Shape: ``(N, c_in, H, W) -> (N, c_out, H/stride, W/stride)``.
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1, skip: bool = True) -> None:
        super().__init__()
        c_in, c_out, stride = (_checks.integer(n, v, 1, hint=f"{n} must be a positive int")
                               for n, v in (("c_in", c_in), ("c_out", c_out), ("stride", stride)))
        self.c_in, self.skip = c_in, _checks.flag("skip", skip)
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut: nn.Module = nn.Identity()
        if skip and (stride != 1 or c_in != c_out):  # match the shape of F(x)
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, c_in, H, W) -> (N, c_out, H', W')``."""
        _checks.model_input("x", x, channels=self.c_in, who=f"this ResidualBlock (c_in={self.c_in})",
                            dtype=_checks._param_dtype(self))
        out = self.body(x)
        if self.skip:
            out = out + self.shortcut(x)  # the skip: gradients reach x unchanged through "+"
        return self.relu(out)


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (weights and biases) of ``model``.

    Args:
        model: any ``nn.Module``.
        trainable_only: count only parameters with ``requires_grad``.
    """
    _checks.module("model", model)
    trainable_only = _checks.flag("trainable_only", trainable_only)
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@torch.no_grad()
def count_flops(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Floating-point operations of one forward pass, counted by ``torch.utils.flop_counter``.

    One multiply-add counts as 2 FLOPs (so FLOPs = 2 x MACs; papers often quote MACs).
    Convolutions and matrix multiplies are counted; BatchNorm, ReLU, pooling are not.

    Args:
        model: any ``nn.Module``; evaluated in eval mode (its mode is restored).
        input_shape: e.g. ``(1, 1, 28, 28)``; use batch size 1 for per-image FLOPs.
    """
    from torch.utils.flop_counter import FlopCounterMode

    _checks.module("model", model)
    input_shape = _checks.integers("input_shape", input_shape, low=1, example="(1, 1, 28, 28)")
    param = next(model.parameters(), None)
    was_training = model.training
    model.eval()
    try:
        with FlopCounterMode(display=False) as counter:
            try:
                model(torch.zeros(input_shape, device=param.device if param is not None else "cpu"))
            except (RuntimeError, ValueError) as err:
                raise ShapeError(f"the model failed on zeros of input_shape {input_shape}: {str(err).splitlines()[0]}; "
                                 f"check channels and size, e.g. with shapes.trace(model, {input_shape})") from err
    finally:
        model.train(was_training)
    return int(counter.get_total_flops())
