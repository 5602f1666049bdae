"""Datasets the course ships (checksummed, offline) and the real online ones behind a switch.

Shipped, offline (``data/``, verified against ``data/manifest.json`` on every load):

* ``"animals"``: Animal-MNIST, 10,000 28x28 silhouettes in 10 classes (cat = 2, dog = 4).
* ``"mnist"``: a 5,000-image subset of MNIST digits.
* photos: ``chelsea`` (a cat), ``astronaut``, ``coffee``, ``camera``, ``brick``, ``horse``.
* 1D series (notebook 08): MNIST-1D (:func:`load_mnist1d`, 5,000 series of length 40 in 10
  classes) and the Mauna Loa weekly CO2 record 1958-2001 (:func:`load_co2`).

Online (only with ``CONVNETS_ONLINE=1``): CIFAR-10 and Oxford-IIIT Pet cats vs dogs via
torchvision. Offline they raise :class:`OfflineError` at once instead of hanging.

Images come back as float tensors in ``[0, 1]`` with shape ``(N, 1, 28, 28)`` and labels as
int64 tensors of shape ``(N,)``.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from . import _checks, settings
from .settings import OfflineError, require_online  # noqa: F401 - the online gate lives in settings; re-exported

DATASETS = {"animals": "animal_mnist.npz", "mnist": "mnist_5k.npz"}
SPLITS = ("train", "val", "test")
PHOTOS = ("chelsea", "astronaut", "coffee", "camera", "brick", "horse")
_SHIPPED = {*DATASETS.values(), "mnist1d.npz", "co2_weekly.npz", *(f"photos/{p}.png" for p in PHOTOS)}  # what the course reads
CAT, DOG = 2, 4  # Animal-MNIST labels of the course's running example
_RESTORE = ("restore it with `git checkout -- data/{rel}` (or re-clone the course), "
            "or rebuild it with `python data/build_data.py`")


class DataFileError(RuntimeError):
    """A shipped data file is missing or does not match its checksum."""


def data_dir() -> Path:
    """The folder with the shipped data: ``$CONVNETS_DATA`` or ``data/`` next to the package."""
    return Path(os.environ.get("CONVNETS_DATA") or Path(__file__).resolve().parent.parent / "data")


@lru_cache(maxsize=1)
def _manifest() -> dict[str, dict[str, str]]:
    path = data_dir() / "manifest.json"
    restore = _RESTORE.format(rel="manifest.json")
    if not path.is_file():
        where = f" (CONVNETS_DATA is {os.environ['CONVNETS_DATA']!r})" if os.environ.get("CONVNETS_DATA") else ""
        raise DataFileError(f"data manifest not found at {path}{where}; " + restore)
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise DataFileError(f"data manifest {path} is not valid JSON ({err}); " + restore) from err
    if not isinstance(manifest, dict):
        raise DataFileError(f"data manifest {path} must map file names to entries, got {type(manifest).__name__}; "
                            + restore)
    for rel, entry in manifest.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str) or len(entry["sha256"]) != 64:
            raise DataFileError(f"data manifest {path}: the entry for {rel!r} has no sha256 (64 hex digits); " + restore)
    return manifest


def verified_path(rel: str) -> Path:
    """Return the path of a shipped file after checking its size and sha256.

    Args:
        rel: path relative to ``data/`` as listed in ``data/manifest.json``,
            e.g. ``"animal_mnist.npz"`` or ``"photos/chelsea.png"``.

    Raises:
        KeyError: ``rel`` is not a shipped file.
        DataFileError: the file is missing or its checksum does not match, or the manifest has
            lost the entry of a file the course ships.
    """
    if not isinstance(rel, (str, os.PathLike)):
        raise TypeError(f"rel must be a path relative to data/ (a str), got {_checks.describe(rel)}")
    rel = Path(rel).as_posix()
    manifest = _manifest()
    if rel not in manifest:
        if rel in _SHIPPED:  # the course asked for one of its own files: the manifest is damaged
            raise DataFileError(f"data manifest {data_dir() / 'manifest.json'} has no entry for {rel!r}, a file the "
                                "course ships (the manifest was edited or is from another version); "
                                + _RESTORE.format(rel="manifest.json"))
        raise KeyError(f"rel={rel!r} is not a shipped data file; known files: {sorted(manifest)}")
    path = data_dir() / rel
    if not path.is_file():
        raise DataFileError(f"data file {path} is missing; " + _RESTORE.format(rel=rel))
    digest = _sha256(path, path.stat().st_mtime_ns, path.stat().st_size)
    if digest != manifest[rel]["sha256"]:
        raise DataFileError(
            f"data file {path} is corrupted: sha256 {digest[:12]}... does not match the manifest "
            f"({manifest[rel]['sha256'][:12]}...); " + _RESTORE.format(rel=rel)
        )
    return path


@lru_cache(maxsize=32)
def _sha256(path: Path, mtime_ns: int, size: int) -> str:  # cached per (file, mtime, size)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _size(size: int | None) -> int | None:
    """An image size in pixels (1 to 4096), or None."""
    return None if size is None else _checks.integer("size", size, 1, 4096, hint="the shorter side in pixels")


def _folder(name: str, root: str | os.PathLike | None) -> Path | None:
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"{name} must be a folder path (str or Path) or None, got {_checks.describe(root)}")
    if root and Path(root).exists() and not Path(root).is_dir():
        raise NotADirectoryError(f"{name}={str(root)!r} is a file, not a folder; give a folder to download into")
    return Path(root) if root else None


@lru_cache(maxsize=4)
def _load_npz(name: str) -> dict[str, np.ndarray]:
    with np.load(verified_path(DATASETS[name]), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def class_names(name: str) -> list[str]:
    """Class names of a shipped dataset, index = label (``"animals"`` or ``"mnist"``)."""
    _checks.choice("name", name, tuple(DATASETS), "dataset")
    return [str(c) for c in _load_npz(name)["classes"]]


def load_tensors(
    name: str,
    split: str = "train",
    classes: list[int] | None = None,
    limit: int | None = None,
    per_class: int | None = None,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load a split of a shipped dataset as tensors.

    Args:
        name: ``"animals"`` (Animal-MNIST) or ``"mnist"`` (5,000 digits).
        split: ``"train"``, ``"val"`` or ``"test"`` (fixed, seeded, stratified splits).
        classes: keep only these labels and renumber them 0..len(classes)-1 in the given
            order, e.g. ``[CAT, DOG]`` gives cat = 0, dog = 1. Default: all classes.
        limit: keep at most this many images (the first ones of the fixed shuffled split).
        per_class: keep this many images of each class (seeded choice), for
            few-label experiments. Raises if a class has fewer.
        seed: seed for the ``per_class`` choice.

    Returns:
        ``x`` float32 ``(N, 1, 28, 28)`` in ``[0, 1]`` and ``y`` int64 ``(N,)``.
    """
    _checks.choice("name", name, tuple(DATASETS), "dataset")
    _checks.choice("split", split, SPLITS)
    if classes is not None:
        if isinstance(classes, (torch.Tensor, np.ndarray)):
            classes = classes.tolist()
        if isinstance(classes, (str, bytes)) or not isinstance(classes, (list, tuple)):
            raise TypeError(f"classes must be a list of labels such as [CAT, DOG], got {_checks.describe(classes)}")
        classes = [_checks.integer("classes", c, hint="a list of integer labels") for c in classes]
    limit = None if limit is None else _checks.integer("limit", limit, 1)
    per_class = None if per_class is None else _checks.integer("per_class", per_class, 1)
    seed = _checks.integer("seed", seed, 0)
    arrays = _load_npz(name)
    x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
    if classes is not None:
        n_classes = len(arrays["classes"])
        bad = [c for c in classes if not 0 <= c < n_classes]
        if bad or len(set(classes)) != len(classes) or not classes:
            raise ValueError(f"classes must be distinct labels in 0..{n_classes - 1} (at least one), got {classes}")
        remap = np.full(n_classes, -1)
        remap[list(classes)] = np.arange(len(classes))  # old label -> new label
        keep = remap[y] >= 0
        x, y = x[keep], remap[y[keep]]
    if per_class is not None:
        rng = np.random.default_rng(seed)
        picks = []
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            if len(idx) < per_class:
                raise ValueError(f"split {split!r} has only {len(idx)} images of class {c}, "
                                 f"cannot take per_class={per_class}")
            picks.append(rng.choice(idx, per_class, replace=False))
        sel = rng.permutation(np.concatenate(picks))
        x, y = x[sel], y[sel]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    xt = torch.from_numpy(np.ascontiguousarray(x)).float().div_(255).unsqueeze(1)  # (N, 28, 28) -> (N, 1, 28, 28)
    return xt, torch.from_numpy(np.asarray(y, dtype=np.int64))


@lru_cache(maxsize=2)
def _load_series_npz(rel: str) -> dict[str, np.ndarray]:
    with np.load(verified_path(rel), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def load_mnist1d(split: str = "train", shuffle_seq: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST-1D (Greydanus 2020): 1D "digits" of length 40, as generated by ``mnist1d.make_dataset``.

    The shipped file holds the package's default dataset (seed 42): 4,000 training and
    1,000 test series, built from 10 digit templates by padding, shifting, scaling, shearing
    and adding noise (``data/README.md``).

    Args:
        split: ``"train"`` (4,000 series) or ``"test"`` (1,000 series): the package's own split.
        shuffle_seq: apply mnist1d's ``shuffle_seq``: one fixed permutation of the 40 positions,
            the same for every series of both splits (what ``make_dataset`` gives with
            ``shuffle_seq=True``).

    Returns:
        ``x`` float32 ``(N, 1, 40)`` (batch, channel, position; mean 0, std 1 over the
        dataset) and ``y`` int64 ``(N,)`` with digits 0-9.

    Raises:
        ValueError: unknown ``split``.
        TypeError: ``shuffle_seq`` is not a bool.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test' (MNIST-1D has no validation split), got {split!r}; "
                         "hold out part of 'train' if you need one")
    shuffle_seq = _checks.flag("shuffle_seq", shuffle_seq)
    arrays = _load_series_npz("mnist1d.npz")
    x = arrays[f"x_{split}"]
    if shuffle_seq:
        x = x[:, arrays["shuffle_seq_permutation"]]
    xt = torch.from_numpy(np.ascontiguousarray(x)).unsqueeze(1)  # (N, 40) -> (N, 1, 40)
    return xt, torch.from_numpy(arrays[f"y_{split}"].copy())


def mnist1d_templates() -> torch.Tensor:
    """The 10 digit templates of MNIST-1D before any transformation: float32 ``(10, 12)``, row = digit."""
    return torch.from_numpy(_load_series_npz("mnist1d.npz")["templates"].copy())


class WeeklySeries(NamedTuple):
    """A weekly time series: one entry per week, no week skipped."""

    date: np.ndarray  # (T,) numpy datetime64[D], consecutive weeks (matplotlib plots it as dates)
    values: torch.Tensor  # (T,) float32; a week without a measurement repeats the last measured value
    measured: torch.Tensor  # (T,) bool; False where the value was carried forward


def load_co2() -> WeeklySeries:
    """Weekly mean atmospheric CO2 (ppm) at Mauna Loa, 1958-03-29 to 2001-12-29 (2,284 weeks).

    Keeling & Whorf (2004), as shipped in statsmodels (``datasets/co2``; public domain).
    59 weeks have no measurement; they are filled with the last measured value (a *causal*
    fill: unlike interpolation it never uses a later measurement), and ``measured`` marks
    them, so that errors can be computed on measured weeks only.

    Returns:
        A :class:`WeeklySeries` ``(date, values, measured)``.
    """
    arrays = _load_series_npz("co2_weekly.npz")
    d = arrays["date"].astype(np.int64)
    date = np.array([f"{v // 10000}-{v // 100 % 100:02d}-{v % 100:02d}" for v in d], dtype="datetime64[D]")
    ppm = arrays["co2"]
    measured = ~np.isnan(ppm)
    last = np.maximum.accumulate(np.where(measured, np.arange(len(ppm)), 0))  # index of the last measured week
    return WeeklySeries(date, torch.from_numpy(ppm[last].astype(np.float32)), torch.from_numpy(measured))


def load_dataset(name: str, split: str = "train", **kwargs) -> TensorDataset:
    """Like :func:`load_tensors` but wrapped in a ``TensorDataset`` of ``(image, label)``."""
    return TensorDataset(*load_tensors(name, split, **kwargs))


def make_loader(
    dataset: Dataset | tuple[torch.Tensor, torch.Tensor],
    batch_size: int = 128,
    shuffle: bool = False,
    seed: int | None = None,
) -> DataLoader:
    """A ``DataLoader`` over tensors or a dataset, shuffled reproducibly.

    Args:
        dataset: a ``Dataset`` or an ``(x, y)`` tuple of tensors or NumPy arrays (NumPy floats
            become float32, NumPy integers int64, as PyTorch's layers and losses want them).
        batch_size: images per batch.
        shuffle: reshuffle every epoch (use for training).
        seed: give the shuffle its own generator with this seed. By default the shuffle
            draws from PyTorch's global generator, so ``seed_everything(s)`` right before
            training makes the whole run (init and batch order) repeatable.
    """
    if isinstance(dataset, tuple):
        if len(dataset) != 2 or not all(isinstance(t, (torch.Tensor, np.ndarray)) for t in dataset):
            raise TypeError(f"dataset as a tuple must be a pair of tensors (x, y), got a tuple of "
                            f"{[type(t).__name__ for t in dataset]}")
        x, y = (_from_numpy(f"dataset[{i}]", t) for i, t in enumerate(dataset))
        if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
            raise ValueError(f"dataset (x, y): x and y must have the same length, got shapes {tuple(x.shape)} and "
                             f"{tuple(y.shape)}")
        dataset = TensorDataset(x, y)
    elif (isinstance(dataset, list) and len(dataset) == 2 and all(isinstance(t, torch.Tensor) for t in dataset)
          and dataset[0].shape != dataset[1].shape):
        raise TypeError(f"dataset is a list of two tensors of different shapes {tuple(dataset[0].shape)} and "
                        f"{tuple(dataset[1].shape)}: a pair (x, y)? pass it as a tuple, make_loader((x, y)); a list is "
                        "taken as a dataset of examples")
    if isinstance(dataset, (str, bytes)) or not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
        raise TypeError(f"dataset must be a torch Dataset or a pair of tensors (x, y), got {_checks.describe(dataset)}")
    if len(dataset) == 0:
        raise ValueError("dataset is empty: a loader over no examples would train on nothing")
    batch_size = _checks.integer("batch_size", batch_size, 1)
    shuffle = _checks.flag("shuffle", shuffle)
    seed = None if seed is None else _checks.integer("seed", seed, 0, 2**63 - 1)
    generator = torch.Generator().manual_seed(seed) if shuffle and seed is not None else None
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)


def _from_numpy(name: str, value: torch.Tensor | np.ndarray) -> torch.Tensor:
    """A tensor as is; a NumPy array as a tensor, floats as float32 and integers as int64."""
    if isinstance(value, torch.Tensor):
        return value
    t = _checks.tensor(name, value, empty=True)
    if t.is_floating_point():
        return t.float()
    if not (t.is_complex() or t.dtype == torch.bool):
        return t.long()
    return t


def load_photo(name: str, size: int | None = None, gray: bool = False) -> torch.Tensor:
    """Load a shipped photo as a float tensor ``(C, H, W)`` in ``[0, 1]``.

    Args:
        name: one of ``chelsea``, ``astronaut``, ``coffee``, ``camera``, ``brick``, ``horse``.
        size: resize so the shorter side is ``size`` pixels (aspect ratio kept).
        gray: return one channel (luminance) instead of RGB.

    Returns:
        ``(3, H, W)`` for colour, ``(1, H, W)`` for gray (``camera``, ``brick`` and
        ``horse`` are gray photos: they come back with 3 equal channels unless ``gray``).
    """
    _checks.choice("name", name, PHOTOS, "photo")
    return read_image(verified_path(f"photos/{name}.png"), _size(size), _checks.flag("gray", gray))


def load_image_file(path: str | Path, size: int | None = None, gray: bool = False) -> torch.Tensor:
    """Load *your own* image file (PNG/JPEG) like :func:`load_photo`: ``(C, H, W)`` in ``[0, 1]``."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or Path), got {_checks.describe(path)}")
    path = Path(path).expanduser()
    if path.is_dir():
        raise IsADirectoryError(f"path {str(path)!r} is a folder; give the path of an image file inside it")
    if not path.is_file():
        raise FileNotFoundError(f"path {str(path)!r}: no image file there (check the spelling and the folder)")
    return read_image(path, _size(size), _checks.flag("gray", gray), name=f"path {str(path)!r}")


def read_image(source: Path | BinaryIO, size: int | None = None, gray: bool = False,
               name: str | None = None) -> torch.Tensor:
    """Decode an image file or an open binary stream (e.g. an upload's bytes in ``io.BytesIO``).

    Args:
        source: a path, or a binary file-like object.
        size: resize so the shorter side is ``size`` pixels (aspect ratio kept).
        gray: one channel (luminance) instead of RGB.
        name: what to call the source in error messages (default: the path).

    Returns:
        ``(3, H, W)`` or ``(1, H, W)`` float in ``[0, 1]``.
    """
    from PIL import Image, UnidentifiedImageError
    from torchvision.transforms.v2 import functional as TF

    size = _size(size)
    gray = _checks.flag("gray", gray)
    if not isinstance(source, (str, os.PathLike)) and not hasattr(source, "read"):
        raise TypeError(f"source must be a file path or a binary stream (io.BytesIO), got {_checks.describe(source)}")
    try:
        with Image.open(source) as im:
            img = TF.pil_to_tensor(im.convert("L" if gray else "RGB"))  # (C, H, W) uint8
    except (UnidentifiedImageError, OSError) as err:
        what = name or (f"source {str(source)!r}" if isinstance(source, (str, os.PathLike)) else "the source stream")
        raise ValueError(f"could not decode {what} as an image (PNG, JPEG, GIF, WEBP...): {err}") from err
    if size is not None:
        img = TF.resize(img, size, antialias=True)
    return img.float().div_(255)


# ----------------------------------------------------------------------------------------
# Online datasets (real downloads, behind CONVNETS_ONLINE=1)

def load_cifar10(split: str = "train", root: str | Path | None = None):
    """CIFAR-10 from torchvision (online; cached under the course cache folder).

    A complete download is used offline; a missing or incomplete one (torchvision's
    checksums fail) is downloaded again only with ``CONVNETS_ONLINE=1``, else
    :class:`OfflineError` says so at once.

    Args:
        split: ``"train"`` or ``"test"``.
        root: download folder; default ``cache_dir("cifar10")``.

    Returns:
        A ``torchvision.datasets.CIFAR10`` yielding ``(3, 32, 32)`` float tensors and int labels.
    """
    from torchvision import datasets
    from torchvision.transforms import v2

    _checks.choice("split", split, ("train", "test"))
    root = _folder("root", root) or settings.cache_dir("cifar10")
    tf = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
    try:  # download=False: torchvision only checks the files' md5 sums, never touches the network
        return datasets.CIFAR10(str(root), train=split == "train", download=False, transform=tf)
    except RuntimeError:
        pass
    folder = root / "cifar-10-batches-py"
    reason = f"{folder} is incomplete or corrupted" if folder.exists() else ""
    require_online("CIFAR-10", host="www.cs.toronto.edu", reason=reason)
    with settings.network_timeout():
        return datasets.CIFAR10(str(root), train=split == "train", download=True, transform=tf)


def _missing_pets_files(folder: Path, split: str) -> list[str]:
    """Files of one Oxford-IIIT Pet split that are not in ``folder`` (all of them if it is absent)."""
    listing = folder / "annotations" / f"{split}.txt"
    if not listing.is_file():
        return [str(listing)]
    names = [line.split()[0] for line in listing.read_text().splitlines() if line.strip()]
    return [str(folder / "images" / f"{n}.jpg") for n in names if not (folder / "images" / f"{n}.jpg").is_file()]


def load_pets_cats_vs_dogs(split: str = "trainval", size: int = 128, root: str | Path | None = None):
    """Oxford-IIIT Pet photos labelled cat (0) or dog (1) (online; cached).

    A complete download is used offline. A missing one is downloaded only with
    ``CONVNETS_ONLINE=1``; an incomplete one in the course cache folder is deleted and
    downloaded again (with ``CONVNETS_ONLINE=1``); in a ``root`` of yours it is left alone
    and the error says what is missing and what to delete.

    Args:
        split: ``"trainval"`` or ``"test"``.
        size: images are resized and centre-cropped to ``size x size``.
        root: download folder; default ``cache_dir("oxford_pets")``.
    """
    import shutil
    import warnings

    from torchvision import datasets
    from torchvision.transforms import v2

    _checks.choice("split", split, ("trainval", "test"))
    size = _checks.integer("size", size, 1, 4096, hint="the side in pixels")
    ours = not root
    root = _folder("root", root) or settings.cache_dir("oxford_pets")
    folder = root / "oxford-iiit-pet"
    tf = v2.Compose([v2.ToImage(), v2.Resize(size, antialias=True), v2.CenterCrop(size),
                     v2.ToDtype(torch.float32, scale=True)])
    missing = _missing_pets_files(folder, split)
    if missing:
        reason = ""
        if folder.exists():
            reason = f"{folder} is incomplete: {len(missing)} files missing, e.g. {missing[0]}"
            if not ours:
                raise DataFileError(f"Oxford-IIIT Pet: {reason}. Delete {folder} and call the loader again with "
                                    "CONVNETS_ONLINE=1 to download it afresh.")
        require_online("Oxford-IIIT Pet", host="thor.robots.ox.ac.uk", reason=reason)
        if folder.exists():  # torchvision would see the folders and skip the download: start afresh
            warnings.warn(f"{reason}; deleting it and downloading again", stacklevel=2)
            for sub in ("images", "annotations"):
                shutil.rmtree(folder / sub, ignore_errors=True)
        with settings.network_timeout():
            return datasets.OxfordIIITPet(str(root), split=split, target_types="binary-category",
                                          transform=tf, download=True)
    return datasets.OxfordIIITPet(str(root), split=split, target_types="binary-category",
                                  transform=tf, download=False)
