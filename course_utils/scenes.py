"""Scenes with exact labels: Animal-MNIST silhouettes placed on textured backgrounds.

A scene is a ``size x size`` RGB canvas (e.g. 64x64) with one or several animals. Each
animal is a 28x28 Animal-MNIST silhouette, scaled, maybe mirrored, filled with a bright
colour and pasted over a background (a random crop of one of the shipped photos, dimmed,
or smooth colour noise). Because we paint the scene ourselves, every label is exact:

* ``boxes``: the tight box of each animal's mask, ``(x1, y1, x2, y2)`` in pixel *edges*
  (torchvision's convention: the box covers columns ``x1 .. x2-1``, area = pixel count of
  the box);
* ``masks``: per-pixel instance ids (0 = background, ``k + 1`` = animal ``k``);
* ``keypoints``: four extreme points of each mask, as in ExtremeNet (Zhou et al., CVPR
  2019): the leftmost, topmost, rightmost and bottommost pixel, ``(x, y)`` = (column, row).
  So ``left.x == x1``, ``top.y == y1``, ``right.x == x2 - 1``, ``bottom.y == y2 - 1``.

Animals never overlap (their boxes keep ``min_gap`` pixels apart), so mask, box and
keypoints of an animal always describe the same visible pixels. Scene ``i`` of a set
depends only on ``(seed, i)``: the first 100 scenes of a set of 1,000 are the set of 100.
Scenes of a split use only that split's silhouettes (test scenes: test silhouettes only).

Generated sets are cached with :mod:`course_utils.cache` under ``settings.cache_dir("scenes")``,
keyed by everything they are computed from (the configuration, split, seed, count,
generator version and the checksums of the shipped files); a damaged entry is redrawn.

Example:
    >>> train = make_scenes(1000, "train", SceneConfig(size=64, animals=(1, 1)), seed=0)
    >>> train.images.shape, train.boxes.shape
    (torch.Size([1000, 3, 64, 64]), torch.Size([1000, 1, 4]))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from . import _checks, data
from .cache import load_or_compute

KEYPOINT_NAMES = ("left", "top", "right", "bottom")  # ExtremeNet's four extreme points
BACKGROUNDS = ("photos", "noise", "plain")
_BACKGROUND_PHOTOS = ("chelsea", "astronaut", "coffee", "camera", "brick")  # not 'horse': an unlabelled animal
_VERSION = 1  # bump when the drawing changes: old cache entries are then never read


@dataclass(frozen=True)
class SceneConfig:
    """How scenes are drawn. Every field has a reason; all are checked by :meth:`validate`."""

    size: int = 64  # canvas side in pixels (64 or 96 keeps CPU training fast)
    animals: tuple[int, int] = (1, 1)  # fewest and most animals per scene (uniform in between)
    scale: tuple[int, int] = (24, 40)  # side in pixels of the scaled 28x28 silhouette square
    classes: tuple[int, ...] = tuple(range(10))  # Animal-MNIST labels used, renumbered 0..len-1 in this order
    background: str = "photos"  # "photos" (dimmed crops of the shipped photos), "noise" or "plain" (black)
    background_brightness: float = 0.6  # the background is scaled into [0, this]; animals are brighter
    flip: bool = True  # mirror each silhouette left-right with probability 1/2
    min_gap: int = 2  # pixels kept free between the boxes of two animals (no occlusion)

    def __post_init__(self) -> None:
        # Fields in their plain form (np.int64(64) -> 64, [1, 2] -> (1, 2)), then checked: a bad config fails here.
        def plain(name: str, value) -> None:
            object.__setattr__(self, name, value)

        plain("size", _checks.integer("SceneConfig.size", self.size, hint="pixels, in 16..512"))
        plain("animals", _checks.integers("SceneConfig.animals", self.animals, 2, example="(1, 3)"))
        plain("scale", _checks.integers("SceneConfig.scale", self.scale, 2, example="(24, 40)"))
        plain("classes", _checks.integers("SceneConfig.classes", self.classes, example="(2, 4) for cats and dogs"))
        if not isinstance(self.background, str):
            raise TypeError(f"SceneConfig.background must be one of {BACKGROUNDS}, got {_checks.describe(self.background)}")
        plain("background", str(self.background))
        plain("background_brightness", _checks.number("SceneConfig.background_brightness", self.background_brightness,
                                                      0, 1, low_open=True))
        plain("flip", _checks.flag("SceneConfig.flip", self.flip))
        plain("min_gap", _checks.integer("SceneConfig.min_gap", self.min_gap, 0))
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError``/``TypeError`` naming the first field that cannot work."""
        def ints(name, value, n):
            if not (isinstance(value, tuple) and len(value) == n and all(isinstance(v, int) for v in value)):
                raise TypeError(f"SceneConfig.{name} must be a tuple of {n} ints, got {value!r}")

        if not isinstance(self.size, int) or not 16 <= self.size <= 512:
            raise ValueError(f"SceneConfig.size must be an int in 16..512 pixels, got {self.size!r}")
        ints("animals", self.animals, 2)
        ints("scale", self.scale, 2)
        lo, hi = self.animals
        if not 1 <= lo <= hi <= 16:
            raise ValueError(f"SceneConfig.animals must be (min, max) with 1 <= min <= max <= 16, got {self.animals}")
        smin, smax = self.scale
        if not 12 <= smin <= smax <= self.size:
            raise ValueError(f"SceneConfig.scale must be (min, max) with 12 <= min <= max <= size={self.size}, "
                             f"got {self.scale}; a silhouette under 12 pixels loses its shape")
        if not isinstance(self.classes, tuple) or not self.classes or len(set(self.classes)) != len(self.classes) \
                or not all(isinstance(c, int) and 0 <= c < 10 for c in self.classes):
            raise ValueError(f"SceneConfig.classes must be a non-empty tuple of distinct Animal-MNIST labels "
                             f"in 0..9, got {self.classes!r}")
        if self.background not in BACKGROUNDS:
            raise ValueError(f"SceneConfig.background must be one of {BACKGROUNDS}, got {self.background!r}")
        if not isinstance(self.background_brightness, (int, float)) or not 0 < self.background_brightness <= 1:
            raise ValueError(f"SceneConfig.background_brightness must lie in (0, 1], got {self.background_brightness!r}")
        if not isinstance(self.min_gap, int) or self.min_gap < 0:
            raise ValueError(f"SceneConfig.min_gap must be an int >= 0, got {self.min_gap!r}")
        # Room check: the largest animals (their bodies fill about 3/4 of the scaled square) must fit
        # side by side with room to spare, or placing them by rejection sampling could take for ever.
        if hi * (0.75 * smax + self.min_gap) ** 2 > 0.6 * self.size ** 2:
            raise ValueError(f"{hi} animals of up to {smax}x{smax} pixels (gap {self.min_gap}) do not fit on a "
                             f"{self.size}x{self.size} canvas; lower animals[1] or scale[1], or raise size")


@dataclass
class Scenes:
    """A batch of scenes and their exact labels (padded to ``K`` = most animals per scene).

    Attributes:
        images: uint8 ``(N, 3, S, S)``; use ``images.float() / 255`` for a network.
        masks: uint8 ``(N, S, S)`` instance ids: 0 = background, ``k + 1`` = animal ``k``.
        labels: int64 ``(N, K)`` class of each animal (renumbered, see ``class_names``),
            ``-1`` where scene ``n`` has fewer than ``K`` animals.
        boxes: float32 ``(N, K, 4)`` ``(x1, y1, x2, y2)`` in pixel edges; 0 for padding.
        keypoints: int64 ``(N, K, 4, 2)`` ``(x, y)`` of the left, top, right and bottom
            extreme pixels (:data:`KEYPOINT_NAMES`); 0 for padding.
        counts: int64 ``(N,)`` animals in each scene.
        sources: int64 ``(N, K)`` index of each silhouette in its split of Animal-MNIST
            (``data.load_tensors("animals", split)``); ``-1`` for padding.
        split: ``"train"``, ``"val"`` or ``"test"``: where the silhouettes come from.
        class_names: names of the renumbered classes.
        config: the :class:`SceneConfig` that drew them.
    """

    images: torch.Tensor
    masks: torch.Tensor
    labels: torch.Tensor
    boxes: torch.Tensor
    keypoints: torch.Tensor
    counts: torch.Tensor
    sources: torch.Tensor
    split: str
    class_names: list[str]
    config: SceneConfig = field(default_factory=SceneConfig)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index) -> Scenes:
        """A subset: an int (also a NumPy int or a 0-d tensor) gives a set of one scene; a slice, a list or
        1D tensor of indices, or a boolean mask ``(N,)`` gives those scenes. Labels keep their padding."""
        if isinstance(index, list) or (isinstance(index, (torch.Tensor, np.ndarray)) and index.ndim):
            index = torch.as_tensor(np.asarray(index, dtype=np.int64) if isinstance(index, list) and not index else
                                    np.asarray(index) if isinstance(index, list) else index)
            if index.ndim != 1 or index.is_floating_point() or index.is_complex():
                raise TypeError(f"index must be an int, a slice, a list or 1D tensor of scene numbers or a boolean "
                                f"mask (N,), got {_checks.describe(index)}")
        elif isinstance(index, slice):
            if (index.step or 1) < 0:  # tensors take no negative step: the scene numbers it names, in its order
                index = torch.tensor(list(range(len(self)))[index], dtype=torch.long)
        else:
            i = _checks.integer("index", index, hint="a scene number, a slice, a list of numbers or a boolean mask")
            if not -len(self) <= i < len(self):
                raise IndexError(f"index {i} is out of range for {len(self)} scenes")
            index = slice(i, i + 1) if i != -1 else slice(-1, None)
        try:
            picked = [getattr(self, f)[index] for f in _ARRAYS]
        except IndexError as err:
            raise IndexError(f"index {_checks.describe(index)} does not fit {len(self)} scenes: {err}") from None
        return Scenes(*picked, split=self.split, class_names=self.class_names, config=self.config)

    def semantic_masks(self) -> torch.Tensor:
        """int64 ``(N, S, S)`` class map: 0 = background, ``label + 1`` where an animal is."""
        lut = torch.cat([torch.zeros(len(self), 1, dtype=torch.long), self.labels.clamp(min=-1) + 1], 1)  # (N, K + 1)
        return lut.gather(1, self.masks.long().flatten(1)).view(self.masks.shape)

    def targets(self, i: int) -> dict[str, torch.Tensor]:
        """Scene ``i``'s animals without padding, in torchvision's detection format.

        Returns:
            ``{"boxes": (k, 4) float, "labels": (k,) int64, "masks": (k, S, S) bool,
            "keypoints": (k, 4, 2) int64}`` with ``k = counts[i]``.
        """
        i = _checks.integer("i", i, hint="the scene index")
        if not -len(self) <= i < len(self):
            raise IndexError(f"scene index i must be an int in 0..{len(self) - 1} (or -{len(self)}..-1), got {i}")
        k = int(self.counts[i])
        ids = torch.arange(1, k + 1, dtype=self.masks.dtype)[:, None, None]
        return {"boxes": self.boxes[i, :k], "labels": self.labels[i, :k], "masks": self.masks[i][None] == ids,
                "keypoints": self.keypoints[i, :k]}


# ----------------------------------------------------------------------------------------
# Drawing one scene


@lru_cache(maxsize=2)
def _background_photos(size: int) -> tuple[torch.Tensor, ...]:
    """The background photos, shorter side 2x the canvas: crops of them show texture, not objects."""
    return tuple(data.load_photo(name, size=2 * size) for name in _BACKGROUND_PHOTOS)


def _background(rng: np.random.Generator, config: SceneConfig) -> torch.Tensor:
    """(3, S, S) float in [0, background_brightness]."""
    s = config.size
    if config.background == "plain":
        return torch.zeros(3, s, s)
    if config.background == "noise":
        coarse = torch.from_numpy(rng.random((1, 3, 6, 6), dtype=np.float32))
        bg = F.interpolate(coarse, size=(s, s), mode="bicubic", align_corners=False)[0]  # smooth colour blobs
        bg = bg + 0.15 * torch.from_numpy(rng.standard_normal((3, s, s), dtype=np.float32))  # plus grain
    else:
        photos = _background_photos(s)
        photo = photos[int(rng.integers(len(photos)))]
        _, h, w = photo.shape
        side = int(rng.integers(s, min(h, w) + 1))  # crop side: 1x to 2x the canvas
        top, left = int(rng.integers(h - side + 1)), int(rng.integers(w - side + 1))
        crop = photo[:, top:top + side, left:left + side][None]
        bg = F.interpolate(crop, size=(s, s), mode="bilinear", antialias=True, align_corners=False)[0]
        if rng.random() < 0.5:
            bg = bg.flip(-1)
    return bg.clamp(0, 1) * config.background_brightness


def _animal_colour(rng: np.random.Generator) -> torch.Tensor:
    """A bright, saturated RGB colour (HSV with S in [0.5, 1], V in [0.8, 1])."""
    h, s, v = rng.random(), rng.uniform(0.5, 1.0), rng.uniform(0.8, 1.0)
    k = (np.array([5.0, 3.0, 1.0]) + h * 6) % 6
    rgb = v - v * s * np.clip(np.minimum(k, 4 - k), 0, 1)
    return torch.tensor(rgb, dtype=torch.float32)


def _tight_box(mask: torch.Tensor) -> tuple[int, int, int, int]:
    """(row0, col0, row1, col1) inclusive bounds of a non-empty boolean mask (H, W)."""
    rows, cols = mask.any(1).nonzero()[:, 0], mask.any(0).nonzero()[:, 0]
    return int(rows[0]), int(cols[0]), int(rows[-1]), int(cols[-1])


def extreme_points(mask: torch.Tensor) -> torch.Tensor:
    """The four extreme pixels of a non-empty boolean mask ``(H, W)``, as in ExtremeNet.

    Along the extreme column (or row) the middle pixel is taken (the lower median), so a
    flat edge gives its centre.

    Returns:
        int64 ``(4, 2)``: ``(x, y)`` of the left, top, right and bottom point.
    """
    mask = _checks.tensor("mask", mask, 2, "(H, W), a boolean mask", dtype="bool", hint="e.g. masks[i] == k + 1")
    if not mask.any():
        raise ValueError("the mask is empty: an empty mask has no extreme points")
    ys, xs = mask.nonzero(as_tuple=True)  # row-major order: ys ascending

    def middle(values: torch.Tensor) -> int:
        return int(values.sort().values[(len(values) - 1) // 2])

    left, right, top, bottom = xs.min(), xs.max(), ys.min(), ys.max()
    return torch.tensor([[int(left), middle(ys[xs == left])], [middle(xs[ys == top]), int(top)],
                         [int(right), middle(ys[xs == right])], [middle(xs[ys == bottom]), int(bottom)]])


def _draw_scene(rng: np.random.Generator, config: SceneConfig, silhouettes: torch.Tensor,
                pools: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, int]]]:
    """One scene: image (3, S, S) float, instance mask (S, S) uint8, [(class, source index)].

    Animals are placed one by one at random spots by rejection sampling; when the first
    ones left no room for the next, the scene is started again (the draws go on from the
    same generator, so the result is still a function of the seed).
    """
    for _restart in range(50):
        drawn = _try_scene(rng, config, silhouettes, pools)
        if drawn is not None:
            return drawn
    raise RuntimeError(f"could not place {config.animals[1]} animals on a {config.size}x{config.size} canvas "
                       "after 50 tries; lower SceneConfig.animals or scale, or raise size")


def _try_scene(rng: np.random.Generator, config: SceneConfig, silhouettes: torch.Tensor,
               pools: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, int]]] | None:
    s = config.size
    image = _background(rng, config)
    masks = torch.zeros(s, s, dtype=torch.uint8)
    placed: list[tuple[int, int, int, int]] = []  # tight boxes (r0, c0, r1, c1) on the canvas
    animals: list[tuple[int, int]] = []
    for _ in range(int(rng.integers(config.animals[0], config.animals[1] + 1))):
        for _attempt in range(100):  # rejection sampling of size and place
            cls = int(rng.integers(len(pools)))
            src = int(pools[cls][rng.integers(len(pools[cls]))])
            side = int(rng.integers(config.scale[0], config.scale[1] + 1))
            alpha = F.interpolate(silhouettes[src][None], size=(side, side), mode="bilinear",
                                  antialias=True, align_corners=False)[0, 0].clamp(0, 1)  # (28, 28) -> (side, side)
            if config.flip and rng.random() < 0.5:
                alpha = alpha.flip(-1)
            mask = alpha >= 0.5
            if not mask.any():
                continue
            r0, c0, r1, c1 = _tight_box(mask)
            top, left = int(rng.integers(s - side + 1)), int(rng.integers(s - side + 1))
            box = (top + r0, left + c0, top + r1, left + c1)
            g = config.min_gap
            if any(box[0] <= b[2] + g and b[0] <= box[2] + g and box[1] <= b[3] + g and b[1] <= box[3] + g
                   for b in placed):
                continue  # too close to an animal already there
            window = (slice(top, top + side), slice(left, left + side))
            colour = _animal_colour(rng)[:, None, None]
            image[(slice(None), *window)] = image[(slice(None), *window)] * (1 - alpha) + colour * alpha
            masks[window][mask] = len(placed) + 1
            placed.append(box)
            animals.append((cls, src))
            break
        else:
            return None  # no room left: start the scene again
    return image, masks, animals


# ----------------------------------------------------------------------------------------
# Sets of scenes, cached


def _generate(n: int, split: str, config: SceneConfig, seed: int) -> Scenes:
    x, y = data.load_tensors("animals", split)  # (M, 1, 28, 28), (M,)
    pools = [np.flatnonzero(y.numpy() == c) for c in config.classes]
    silhouettes = x  # indexed by source
    s, k_max = config.size, config.animals[1]
    images = torch.zeros(n, 3, s, s, dtype=torch.uint8)
    masks = torch.zeros(n, s, s, dtype=torch.uint8)
    labels = torch.full((n, k_max), -1, dtype=torch.long)
    sources = torch.full((n, k_max), -1, dtype=torch.long)
    boxes = torch.zeros(n, k_max, 4)
    keypoints = torch.zeros(n, k_max, 4, 2, dtype=torch.long)
    counts = torch.zeros(n, dtype=torch.long)
    for i in range(n):
        rng = np.random.default_rng([seed, i, _VERSION])  # scene i depends on (seed, i) only
        image, mask, animals = _draw_scene(rng, config, silhouettes, pools)
        images[i] = (image * 255).round().to(torch.uint8)
        masks[i] = mask
        counts[i] = len(animals)
        for k, (cls, src) in enumerate(animals):
            m = mask == k + 1
            r0, c0, r1, c1 = _tight_box(m)
            labels[i, k], sources[i, k] = cls, src
            boxes[i, k] = torch.tensor([c0, r0, c1 + 1, r1 + 1], dtype=torch.float32)
            keypoints[i, k] = extreme_points(m)
    names = data.class_names("animals")
    return Scenes(images, masks, labels, boxes, keypoints, counts, sources, split,
                  [names[c] for c in config.classes], config)


_ARRAYS = ("images", "masks", "labels", "boxes", "keypoints", "counts", "sources")


def _record(n: int, split: str, config: SceneConfig, seed: int) -> dict:
    """Everything a set of scenes is drawn from: the cache entry's record."""
    manifest = data._manifest()
    return {"what": "scenes", "version": _VERSION, "n": n, "split": split, "seed": seed, "config": asdict(config),
            "files": {f: manifest[f]["sha256"] for f in sorted(manifest)
                      if f == data.DATASETS["animals"] or f.startswith("photos/")}}


def _payload_check(n: int, config: SceneConfig):
    """What a cached set of scenes must be, checked by content before it is served: every array's shape, dtype
    and values (finite boxes inside the canvas, labels of the configured classes, counts in the configured
    range, masks and keypoints on the canvas)."""
    def check(payload) -> None:
        if not isinstance(payload, dict) or set(payload) != set(_ARRAYS):
            raise ValueError(f"expected a dict of {_ARRAYS}")
        s, k = config.size, config.animals[1]
        layout = {"images": ((n, 3, s, s), torch.uint8), "masks": ((n, s, s), torch.uint8),
                  "labels": ((n, k), torch.int64), "boxes": ((n, k, 4), torch.float32),
                  "keypoints": ((n, k, 4, 2), torch.int64), "counts": ((n,), torch.int64), "sources": ((n, k), torch.int64)}
        for name, (shape, dtype) in layout.items():
            _checks.tensor(name, payload[name], shape=shape, dtype=dtype, finite=True)
        counts, labels, boxes = payload["counts"], payload["labels"], payload["boxes"]
        if int(counts.min()) < config.animals[0] or int(counts.max()) > k:
            raise ValueError(f"counts must lie in {config.animals[0]}..{k}, got {int(counts.min())}..{int(counts.max())}")
        real = torch.arange(k)[None] < counts[:, None]  # (n, k): True for an animal, False for padding
        if not bool(torch.where(real, (labels >= 0) & (labels < len(config.classes)), labels == -1).all()):
            raise ValueError(f"labels must lie in 0..{len(config.classes) - 1} for animals and be -1 for padding")
        if not bool(((boxes >= 0) & (boxes <= s)).all()) or not bool((boxes[..., 2:] > boxes[..., :2])[real].all()):
            raise ValueError(f"boxes must lie on the {s}x{s} canvas with x2 > x1 and y2 > y1")
        if int(payload["masks"].max()) > k or not bool(((payload["keypoints"] >= 0) & (payload["keypoints"] < s)).all()):
            raise ValueError("masks or keypoints do not fit the canvas and the animal count")
        if not payload["images"].any() and config.background != "plain":
            raise ValueError("the images are all zeros")
    return check


def make_scenes(n: int, split: str = "train", config: SceneConfig | None = None, seed: int = 0,
                cache: bool = True) -> Scenes:
    """Draw ``n`` scenes from the silhouettes of one split (cached on disk).

    Args:
        n: number of scenes, >= 1.
        split: ``"train"``, ``"val"`` or ``"test"``: the Animal-MNIST split whose
            silhouettes are used (test scenes hold test silhouettes only).
        config: how to draw them (:class:`SceneConfig`); default one animal on 64x64.
        seed: scene ``i`` is drawn from ``(seed, i)`` only, so sets with the same seed
            share their first scenes. Use different seeds for train and test sets.
        cache: read/write the entry in ``settings.cache_dir("scenes")``
            (:func:`course_utils.cache.load_or_compute`); a damaged entry is redrawn.

    Returns:
        :class:`Scenes` with images, masks, labels, boxes, keypoints.

    Raises:
        ValueError: bad ``n``, ``split``, ``seed`` or configuration (the message says which).
    """
    config = SceneConfig() if config is None else config
    if not isinstance(config, SceneConfig):
        raise TypeError(f"config must be a SceneConfig, got {type(config).__name__}")
    config.validate()
    n = _checks.integer("n", n, 1, hint="the number of scenes")
    if not isinstance(split, str) or split not in data.SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {list(data.SPLITS)}")
    split = str(split)
    seed = _checks.integer("seed", seed, 0, 2**63 - 1)
    cache = _checks.flag("cache", cache)
    if not cache:
        return _generate(n, split, config, seed)

    def compute() -> dict[str, torch.Tensor]:
        drawn = _generate(n, split, config, seed)
        return {name: getattr(drawn, name) for name in _ARRAYS}

    payload, _ = load_or_compute("scenes", _record(n, split, config, seed), compute,
                                 check=_payload_check(n, config), prefix=f"{split}_{n}")
    names = data.class_names("animals")
    return Scenes(*(payload[name] for name in _ARRAYS), split=split,
                  class_names=[names[c] for c in config.classes], config=config)
