"""Bad inputs for every public function of course_utils, as a careless learner would type them.

Each :class:`Case` calls one function with one wrong argument (type, rank, dtype, range,
empty, NaN, unknown name...) and names the argument the error message must mention. The
``tests/test_bad_inputs.py`` asserts that every case ends in a clear
course error; ``tests/probe_bad_inputs.py`` runs them all and counts, per module, clear
course errors, raw library errors, silently wrong results and hangs.

:data:`ACCEPTED` lists the obvious forms that are converted instead of refused (uint8
0-255, channels-last, NumPy arrays, NumPy integers, a conv layer for its weight...), each
with a check that the result equals the one for the canonical form.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import shutil
import signal
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import course_utils
from course_utils import augment, data, kernels, models, plots, pretrained, settings, shapes, train, transfer, widgets
from course_utils import cache as dcache

NAN, INF = float("nan"), float("inf")
CLEAR_TYPES = (ValueError, TypeError, LookupError, RuntimeError, OSError)  # course errors subclass these
PACKAGE_DIR = str(Path(course_utils.__file__).resolve().parent)


@dataclass
class Case:
    module: str
    name: str  # e.g. "conv_output_size(size='3')"
    fn: Callable[[], Any]
    arg: str  # the argument the message must name
    expect: tuple[type[BaseException], ...] = CLEAR_TYPES

    @property
    def id(self) -> str:
        return self.name


CASES: list[Case] = []
_SCRATCH: list[Path] = []  # folders the cases' helpers made (_tmp_dir), removed after each case
# Per-user caches that libraries keep in the temporary folder on purpose (torch makes
# torchinductor_<user> on first use of some ops, e.g. image decoding): not a leak.
LIBRARY_CACHES = ("torchinductor_",)


@contextlib.contextmanager
def temp_guard() -> Iterator[list[str]]:
    """Run a case with the temporary folder pointed at a fresh private one, then remove it.

    Afterwards the case's own scratch folders are removed; whatever is still in the private
    folder was left behind by the code under test (or by a helper that forgot ``_tmp_dir``)
    and is listed in the yielded list. Nothing a case makes survives it in the real ``/tmp``.
    """
    private = Path(tempfile.mkdtemp(prefix="convnets-probe-"))
    old = tempfile.tempdir
    tempfile.tempdir = str(private)
    left: list[str] = []
    try:
        yield left
    finally:
        tempfile.tempdir = old
        while _SCRATCH:
            shutil.rmtree(_SCRATCH.pop(), ignore_errors=True)
        left.extend(sorted(p.name for p in private.iterdir() if not p.name.startswith(LIBRARY_CACHES)))
        shutil.rmtree(private, ignore_errors=True)


def bad(module: str, name: str, fn: Callable[[], Any], arg: str,
        expect: tuple[type[BaseException], ...] = CLEAR_TYPES) -> None:
    CASES.append(Case(module, name, fn, arg, expect))


def walk(module: str, func: Callable, valid: dict[str, Any], /, **bad_values: list[tuple[str, Any]]) -> None:
    """One case per (argument, bad value): ``func(**valid)`` with that one argument replaced."""
    for arg, values in bad_values.items():
        for label, value in values:
            def call(arg=arg, value=value):
                kwargs = {k: v() if isinstance(v, _Lazy) else v for k, v in {**valid, arg: value}.items()}
                return func(**kwargs)
            bad(module, f"{func.__name__}({arg}={label})", call, arg)


class _Lazy:
    """A value built when the case runs (models, tensors), not at import."""

    def __init__(self, make: Callable[[], Any]):
        self.make = make

    def __call__(self) -> Any:
        return self.make()


def lazy(make: Callable[[], Any]) -> _Lazy:
    return _Lazy(make)


# ---------------------------------------------------------------------------------------
# Families of bad values

POS_INT = [("'3'", "3"), ("2.5", 2.5), ("None", None), ("True", True), ("0", 0), ("-1", -1)]
NONNEG_INT = [("'1'", "1"), ("1.5", 1.5), ("None", None), ("-1", -1)]
POS_NUMBER = [("'0.1'", "0.1"), ("nan", NAN), ("inf", INF), ("0", 0.0), ("-1", -1.0), ("None", None)]
NUMBER = [("'1'", "1"), ("nan", NAN), ("inf", INF), ("None", None)]
MODULE = [("'net'", "net"), ("None", None), ("a function", lambda x: x)]
SEED = [("'x'", "x"), ("-1", -1), ("2.5", 2.5)]
STR_NAME = [("3", 3), ("None", None)]


def image_values(single: bool) -> list[tuple[str, Any]]:
    """Bad images: for a function taking ``(C, H, W)`` (single) or ``(N, C, H, W)``."""
    shape = (3, 16, 16) if single else (2, 3, 16, 16)
    values = [
        ("'cat.png'", "cat.png"), ("None", None), ("nested list", [[0.5, 0.5]]),
        ("rank 1", lazy(lambda: torch.rand(16))), ("rank 5", lazy(lambda: torch.rand(1, 1, 3, 16, 16))),
        ("5 channels", lazy(lambda: torch.rand(*shape[:-3], 5, 16, 16))),
        ("empty", lazy(lambda: torch.rand(*shape[:-2], 0, 0))),
        ("NaN pixels", lazy(lambda: torch.full(shape, NAN))),
        ("float 0-255", lazy(lambda: torch.rand(shape) * 255)),
        ("int64", lazy(lambda: torch.randint(0, 255, shape))),
        ("complex", lazy(lambda: torch.rand(shape, dtype=torch.complex64))),
    ]
    if not single:
        values.append(("one CHW image", lazy(lambda: torch.rand(3, 16, 16))))
    return values


@cache
def tiny_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                         nn.Linear(16, 10))


def fresh_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                         nn.Linear(16, 10))


@cache
def xy() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(32, 1, 8, 8, generator=g), torch.randint(0, 10, (32,), generator=g)


def loader(x=None, y=None, batch_size=16):
    x0, y0 = xy()
    return data.make_loader((x0 if x is None else x, y0 if y is None else y), batch_size=batch_size)


@cache
def lite0() -> nn.Module:
    return pretrained.efficientnet_lite0()


@cache
def photo() -> torch.Tensor:
    return data.load_photo("chelsea", size=32)


@cache
def conv_stack() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3))


@contextlib.contextmanager
def env(**values: str | None) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def with_env(fn: Callable[[], Any], **values: str | None) -> Callable[[], Any]:
    def call():
        with env(**values):
            return fn()
    return call


# ---------------------------------------------------------------------------------------
# settings

bad("settings", "quick_mode() with CONVNETS_QUICK=maybe", with_env(settings.quick_mode, CONVNETS_QUICK="maybe"),
    "CONVNETS_QUICK")
bad("settings", "online() with CONVNETS_ONLINE=2", with_env(settings.online, CONVNETS_ONLINE="2"), "CONVNETS_ONLINE")
bad("settings", "pick() with CONVNETS_QUICK=yes please",
    with_env(lambda: settings.pick(1, 2), CONVNETS_QUICK="yes please"), "CONVNETS_QUICK")
bad("settings", "get_device() with CONVNETS_DEVICE=banana", with_env(settings.get_device, CONVNETS_DEVICE="banana"),
    "CONVNETS_DEVICE")
bad("settings", "get_device() with CONVNETS_DEVICE=cpu:1", with_env(settings.get_device, CONVNETS_DEVICE="cpu:1"),
    "CONVNETS_DEVICE")
walk("settings", settings.get_device, {},
     prefer=[("'banana'", "banana"), ("'cpu:1'", "cpu:1"), ("3", 3), ("'cuda:99'", "cuda:99"), ("'gpu'", "gpu")])
walk("settings", settings.seed_everything, {}, seed=SEED + [("None", None), ("True", True), ("2**70", 2**70)])
bad("settings", "cache_dir(3)", lambda: settings.cache_dir(3), "parts")
bad("settings", "cache_dir('../up')", lambda: settings.cache_dir("../up"), "parts")
bad("settings", "cache_dir('/abs')", lambda: settings.cache_dir("/abs"), "parts")
bad("settings", "cache_dir() with CONVNETS_CACHE=a file",
    with_env(lambda: settings.cache_dir("x"), CONVNETS_CACHE=os.devnull), "CONVNETS_CACHE")
bad("settings", "environment_report() with CONVNETS_DEVICE=banana",
    with_env(settings.environment_report, CONVNETS_DEVICE="banana"), "CONVNETS_DEVICE")
walk("settings", settings.require_online, {"what": "test data", "host": "localhost"},
     timeout=[("'3'", "3"), ("nan", NAN), ("-1", -1.0), ("0", 0)], host=[("3", 3), ("''", "")])
bad("settings", "require_online() offline", with_env(lambda: settings.require_online("test data"), CONVNETS_ONLINE="0"),
    "CONVNETS_ONLINE")
bad("settings", "network_timeout(-1)", lambda: settings.network_timeout(-1).__enter__(), "seconds")
bad("settings", "network_timeout('x')", lambda: settings.network_timeout("x").__enter__(), "seconds")
bad("settings", "network_timeout(nan)", lambda: settings.network_timeout(NAN).__enter__(), "seconds")

# ---------------------------------------------------------------------------------------
# data

walk("data", data.verified_path, {}, rel=[("3", 3), ("'nope.npz'", "nope.npz"), ("None", None)])
walk("data", data.class_names, {}, name=[("3", 3), ("'cifar'", "cifar"), ("'Animals'", "Animals")])
walk("data", data.load_tensors, {"name": "mnist", "split": "val"},
     name=[("3", 3), ("'cifar'", "cifar")], split=[("'validation'", "validation"), ("0", 0)],
     classes=[("[]", []), ("[11]", [11]), ("[2, 2]", [2, 2]), ("'cat'", "cat"), ("[2.5]", [2.5]), ("3", 3),
              ("[-1]", [-1])],
     limit=[("0", 0), ("-1", -1), ("2.5", 2.5), ("'10'", "10"), ("True", True)],
     per_class=[("0", 0), ("'3'", "3"), ("10**6", 10**6), ("1.5", 1.5)],
     seed=SEED)
bad("data", "load_dataset(limt=5)", lambda: data.load_dataset("mnist", "val", limt=5), "limt")
walk("data", data.load_dataset, {"name": "mnist"}, split=[("'tset'", "tset")])
walk("data", data.make_loader, {"dataset": lazy(xy)},
     dataset=[("3", 3), ("'mnist'", "mnist"), ("(x,)", lazy(lambda: (xy()[0],))), ("(x, y, y)", lazy(lambda: (*xy(), xy()[1]))),
              ("(x, y[:5])", lazy(lambda: (xy()[0], xy()[1][:5]))), ("(x, 'y')", lazy(lambda: (xy()[0], "y"))),
              ("None", None), ("empty (x, y)", lazy(lambda: (torch.zeros(0, 1, 8, 8), torch.zeros(0, dtype=torch.long))))],
     batch_size=POS_INT, seed=SEED)
walk("data", data.load_photo, {"name": "chelsea"}, name=[("'cat'", "cat"), ("3", 3)],
     size=[("0", 0), ("-5", -5), ("'64'", "64"), ("2.5", 2.5), ("True", True), ("100000", 100000)])
walk("data", data.load_image_file, {"path": "data/photos/chelsea.png"},
     path=[("3", 3), ("None", None), ("missing file", "/nonexistent/cat.png"), ("a folder", "/tmp"),
           ("a text file", lazy(lambda: _text_file()))],
     size=[("0", 0), ("'64'", "64")])
walk("data", data.read_image, {"source": lazy(lambda: io.BytesIO(_png_bytes()))},
     source=[("3", 3), ("None", None), ("garbage bytes", lazy(lambda: io.BytesIO(b"garbage")))],
     size=[("0", 0), ("'x'", "x"), ("-1", -1)])
walk("data", data.load_cifar10, {"root": lazy(lambda: _tmp_dir("cifar"))},
     split=[("'val'", "val"), ("1", 1)], root=[("3", 3)])
walk("data", data.load_pets_cats_vs_dogs, {"root": lazy(lambda: _tmp_dir("pets"))},
     split=[("'train'", "train")], size=[("0", 0), ("'128'", "128")], root=[("3", 3)])
bad("data", "load_cifar10() offline", with_env(lambda: data.load_cifar10(root=_tmp_dir("cifar")), CONVNETS_ONLINE="0"),
    "CONVNETS_ONLINE")


def _broken_data_dir(manifest: str) -> str:
    root = _tmp_dir("data")
    shutil.copy(data.data_dir() / "mnist_5k.npz", root / "mnist_5k.npz")
    (root / "manifest.json").write_text(manifest)
    return str(root)


def _with_data_dir(make_manifest: Callable[[], str], fn: Callable[[], Any]) -> Callable[[], Any]:
    def call():
        with env(CONVNETS_DATA=_broken_data_dir(make_manifest())):
            data._manifest.cache_clear()
            data._load_npz.cache_clear()
            try:
                return fn()
            finally:
                data._manifest.cache_clear()
                data._load_npz.cache_clear()
    return call


def _manifest_without(field: str) -> str:
    import json

    m = json.loads((data.data_dir() / "manifest.json").read_text())
    del m["mnist_5k.npz"][field]
    return json.dumps(m)


bad("data", "load_tensors() with manifest.json not JSON",
    _with_data_dir(lambda: "{not json", lambda: data.load_tensors("mnist")), "manifest.json")
bad("data", "load_tensors() with manifest.json a list",
    _with_data_dir(lambda: "[1, 2]", lambda: data.load_tensors("mnist")), "manifest.json")
bad("data", "load_tensors() with an entry without sha256",
    _with_data_dir(lambda: _manifest_without("sha256"), lambda: data.load_tensors("mnist")), "sha256")
bad("data", "load_tensors() with CONVNETS_DATA=a file",
    with_env(lambda: (data._manifest.cache_clear(), data.load_tensors("mnist"))[1], CONVNETS_DATA=os.devnull),
    "CONVNETS_DATA")


def _tmp_dir(name: str) -> Path:
    """A scratch folder for one case; :func:`temp_guard` removes it when the case ends."""
    path = Path(tempfile.mkdtemp(prefix=f"convnets-{name}-"))
    _SCRATCH.append(path)
    return path


def _text_file() -> str:
    path = _tmp_dir("text") / "notes.txt"
    path.write_text("not an image")
    return str(path)


def _png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 20, 30)).save(buf, format="PNG")
    return buf.getvalue()


walk("data", data.load_mnist1d, {}, split=[("'val'", "val"), ("3", 3)], shuffle_seq=[("'yes'", "yes")])

# ---------------------------------------------------------------------------------------
# train

FIT = {"model": lazy(fresh_cnn), "train_loader": lazy(loader), "epochs": 1, "device": "cpu", "progress": False,
       "verbose": False}
walk("train", train.fit, FIT,
     model=MODULE + [("no parameters", lazy(lambda: nn.Sequential(nn.Flatten())))],
     train_loader=[("(x, y) tuple", lazy(xy)), ("a tensor", lazy(lambda: xy()[0])), ("None", None), ("[]", []),
                   ("3", 3),
                   ("float labels", lazy(lambda: loader(y=xy()[1].float()))),
                   ("one-hot labels", lazy(lambda: loader(y=nn.functional.one_hot(xy()[1], 10)))),
                   ("labels out of range", lazy(lambda: loader(y=xy()[1] + 10))),
                   ("negative labels", lazy(lambda: loader(y=-xy()[1] - 1))),
                   ("NaN images", lazy(lambda: loader(x=torch.full((32, 1, 8, 8), NAN)))),
                   ("3-channel images", lazy(lambda: loader(x=torch.rand(32, 3, 8, 8)))),
                   ("CHW images", lazy(lambda: [(torch.rand(1, 8, 8), torch.tensor([3]))])),
                   ("batches of 3", lazy(lambda: [(xy()[0][:4], xy()[1][:4], xy()[1][:4])])),
                   ("list of images", lazy(lambda: [xy()[0][:4]]))],
     val_loader=[("(x, y) tuple", lazy(xy)), ("float labels", lazy(lambda: loader(y=xy()[1].float()))), ("3", 3)],
     epochs=POS_INT[:4] + [("0", 0), ("-2", -2)],
     lr=POS_NUMBER[:-1],
     optimizer=[("'adam'", "adam"), ("over other parameters", lazy(lambda: torch.optim.SGD(nn.Linear(2, 2).parameters(), 0.1))),
                ("the class", torch.optim.Adam)],
     loss_fn=[("'ce'", "ce"), ("MSELoss (wrong target)", lazy(nn.MSELoss)),
              ("NaN loss", lambda logits, y: (logits * NAN).mean()),
              ("reduction='none'", lazy(lambda: nn.CrossEntropyLoss(reduction="none")))],
     scheduler=[("'cosine'", "cosine"), ("3", 3)],
     device=[("'banana'", "banana"), ("3", 3), ("'cuda:7'", "cuda:7")])
bad("train", "fit(model output (N, 1) for 10 classes)",
    lambda: train.fit(nn.Sequential(nn.Flatten(), nn.Linear(64, 1)), loader(), epochs=1, progress=False, verbose=False),
    "model")
bad("train", "fit(model output (N, C, H, W): no flatten)",
    lambda: train.fit(nn.Conv2d(1, 10, 3), loader(), epochs=1, progress=False, verbose=False), "model")
bad("train", "fit(model for 3 channels on 1-channel data)",
    lambda: train.fit(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(10)), loader(), epochs=1,
                      progress=False, verbose=False), "model")
bad("train", "fit(model returning a tuple)",
    lambda: train.fit(_TupleNet(), loader(), epochs=1, progress=False, verbose=False), "model")
bad("train", "fit(loss turns NaN in epoch 2)",
    lambda: train.fit(fresh_cnn(), loader(), epochs=3, loss_fn=_nan_from_second_call(), progress=False, verbose=False),
    "lr")
bad("train", "fit(frozen model, no optimizer)",
    lambda: train.fit(transfer.freeze(fresh_cnn()), loader(), epochs=1, progress=False, verbose=False), "model")


def _nan_from_second_call():
    calls = []

    def loss_fn(logits, y):
        calls.append(1)
        loss = nn.functional.cross_entropy(logits, y)
        return loss * NAN if len(calls) > 2 else loss  # finite for the first epoch (2 batches), then NaN

    return loss_fn


class _TupleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))

    def forward(self, x):
        return self.net(x), x


walk("train", train.evaluate, {"model": lazy(tiny_cnn), "loader": lazy(loader)},
     model=MODULE,
     loader=[("(x, y) tuple", lazy(xy)), ("None", None), ("[]", []), ("float labels", lazy(lambda: loader(y=xy()[1].float()))),
             ("labels out of range", lazy(lambda: loader(y=xy()[1] + 10)))],
     loss_fn=[("'ce'", "ce")], device=[("'banana'", "banana")])
walk("train", train.predict, {"model": lazy(tiny_cnn), "x": lazy(lambda: xy()[0])},
     model=MODULE, x=[("'img'", "img"), ("None", None), ("one CHW image", lazy(lambda: torch.rand(1, 8, 8))),
                      ("empty", lazy(lambda: torch.rand(0, 1, 8, 8))), ("list of tensors", lazy(lambda: [xy()[0][0]])),
                      ("3-channel", lazy(lambda: torch.rand(4, 3, 8, 8)))],
     batch_size=POS_INT, device=[("'banana'", "banana")])
walk("train", train.accuracy, {"logits": lazy(lambda: torch.randn(6, 3)), "y": lazy(lambda: torch.tensor([0, 1, 2, 0, 1, 2]))},
     logits=[("1D", lazy(lambda: torch.randn(6))), ("'x'", "x"), ("4D", lazy(lambda: torch.randn(6, 3, 2, 2))),
             ("5 rows", lazy(lambda: torch.randn(5, 3)))],
     y=[("float", lazy(lambda: torch.tensor([0.0, 1, 2, 0, 1, 2]))), ("2D one-hot", lazy(lambda: torch.eye(3)[[0, 1, 2, 0, 1, 2]])),
        ("'y'", "y"), ("out of range", lazy(lambda: torch.tensor([0, 1, 2, 0, 1, 7])))])
bad("train", "accuracy(empty)", lambda: train.accuracy(torch.randn(0, 3), torch.zeros(0, dtype=torch.long)), "logits")
bad("train", "History().best_epoch() empty", lambda: train.History().best_epoch(), "history")
bad("train", "History() + 3", lambda: train.History() + 3, "other")

# ---------------------------------------------------------------------------------------
# plots

walk("plots", plots.show_images, {"images": lazy(lambda: torch.rand(4, 1, 8, 8))},
     images=[("'x'", "x"), ("None", None), ("rank 5", lazy(lambda: torch.rand(1, 2, 1, 8, 8))),
             ("5 channels", lazy(lambda: torch.rand(2, 5, 8, 8))), ("empty batch", lazy(lambda: torch.rand(0, 1, 8, 8))),
             ("empty list", []), ("NaN", lazy(lambda: torch.full((2, 1, 8, 8), NAN))),
             ("float 0-255", lazy(lambda: torch.rand(2, 3, 8, 8) * 255)),
             ("ragged list", lazy(lambda: [torch.rand(1, 8, 8), torch.rand(1, 9, 9)])),
             ("10,000 images", lazy(lambda: torch.rand(10_000, 1, 2, 2))),
             ("int64 0-255", lazy(lambda: torch.randint(0, 255, (2, 1, 8, 8))))],
     labels=[("3 for 4 images", [0, 1, 2]), ("floats 2.7", [0.0, 1.0, 2.7, 3.0]), ("'abcd'", "abcd"),
             ("negative", [0, 1, -1, 2]), ("2D tensor", lazy(lambda: torch.zeros(4, 2)))],
     ncols=[("0", 0), ("-3", -3), ("'4'", "4"), ("2.5", 2.5)],
     size=[("0", 0), ("-1", -1.0), ("'big'", "big")],
     cmap=[("'nope'", "nope"), ("3", 3)],
     titles=[("'abcd'", "abcd"), ("2 for 4", ["a", "b"])])
bad("plots", "show_images(labels out of class_names)",
    lambda: plots.show_images(torch.rand(2, 1, 8, 8), labels=[0, 5], class_names=["a", "b"]), "labels")
bad("plots", "show_images(class_names='ab')",
    lambda: plots.show_images(torch.rand(2, 1, 8, 8), labels=[0, 1], class_names="ab"), "class_names")
walk("plots", plots.plot_history, {"history": lazy(lambda: train.History([1.0, 0.5], [0.5, 0.7]))},
     history=[("'h'", "h"), ("None", None), ("{}", {}), ("empty History", lazy(train.History)),
              ("{'a': 3}", {"a": 3}), ("val shorter than train", lazy(lambda: train.History([1.0, 0.5], [0.5, 0.7], [0.9], [0.6]))),
              ("a list of Histories", lazy(lambda: [train.History([1.0], [0.5])]))])
walk("plots", plots.confusion_matrix, {"y_true": [0, 1, 1], "y_pred": [0, 1, 0], "num_classes": 2},
     y_true=[("floats 0.9", lazy(lambda: torch.tensor([0.9, 1.0, 1.0]))), ("'abc'", "abc"), ("2D", lazy(lambda: torch.zeros(3, 2, dtype=torch.long))),
             ("negative", [0, -1, 1]), ("too large", [0, 1, 2])],
     y_pred=[("floats", lazy(lambda: torch.tensor([0.2, 1.0, 0.0]))), ("shorter", [0, 1]), ("None", None)],
     num_classes=POS_INT)
walk("plots", plots.plot_confusion_matrix, {"y_true": [0, 1, 1], "y_pred": [0, 1, 0], "class_names": ["cat", "dog"]},
     class_names=[("'cd'", "cd"), ("[]", []), ("None", None), ("3", 3)],
     y_true=[("floats", lazy(lambda: torch.tensor([0.5, 1.0, 1.0]))), ("labels beyond names", [0, 1, 2])])
walk("plots", plots.show_filters, {"weight": lazy(lambda: torch.rand(4, 3, 3, 3))},
     weight=[("3D", lazy(lambda: torch.rand(3, 3, 3))), ("'w'", "w"), ("None", None), ("empty", lazy(lambda: torch.rand(0, 3, 3, 3))),
             ("NaN", lazy(lambda: torch.full((4, 3, 3, 3), NAN))), ("a Linear layer", lazy(lambda: nn.Linear(2, 2)))],
     ncols=[("0", 0), ("'8'", "8")])
walk("plots", plots.show_feature_maps, {"maps": lazy(lambda: torch.rand(1, 6, 5, 5))},
     maps=[("batch of 2", lazy(lambda: torch.rand(2, 6, 5, 5))), ("2D", lazy(lambda: torch.rand(5, 5))), ("'m'", "m"),
           ("empty", lazy(lambda: torch.rand(0, 5, 5))), ("NaN", lazy(lambda: torch.full((6, 5, 5), NAN)))],
     limit=[("0", 0), ("-1", -1), ("'32'", "32")], ncols=[("0", 0)])

# ---------------------------------------------------------------------------------------
# shapes

walk("shapes", shapes.conv_output_size, {"size": 28, "kernel_size": 3},
     size=POS_INT, kernel_size=POS_INT, stride=POS_INT, padding=NONNEG_INT + [("True", True)],
     dilation=POS_INT[:4] + [("0", 0)])
bad("shapes", "conv_output_size(kernel larger than input)", lambda: shapes.conv_output_size(2, 5), "kernel_size")
walk("shapes", shapes.conv_transpose_output_size, {"size": 7, "kernel_size": 3, "stride": 2},
     size=POS_INT[:4], kernel_size=[("0", 0)], stride=[("0", 0)], padding=[("-1", -1)], output_padding=[("-1", -1), ("5", 5)],
     dilation=[("0", 0)])
walk("shapes", shapes.conv2d_output_shape, {"input_shape": (1, 3, 28, 28), "out_channels": 8, "kernel_size": 3},
     input_shape=[("28", 28), ("'1,3,28,28'", "1,3,28,28"), ("(28, 28)", (28, 28)), ("(1, 3, 0, 28)", (1, 3, 0, 28)),
                  ("(1, 3, 28.0, 28)", (1, 3, 28.0, 28)), ("None", None)],
     out_channels=POS_INT, kernel_size=[("(3,)", (3,)), ("0", 0), ("'3'", "3"), ("(3, 3, 3)", (3, 3, 3)), ("30", 30)],
     stride=[("0", 0), ("(1, 0)", (1, 0)), ("2.0", 2.0)], padding=[("-1", -1), ("'full'", "full"), ("(1,)", (1,))],
     dilation=[("0", 0)], groups=[("0", 0), ("2 (3 in)", 2), ("'1'", "1")])
bad("shapes", "conv2d_output_shape(padding='same', stride=2)",
    lambda: shapes.conv2d_output_shape((1, 3, 28, 28), 8, 3, stride=2, padding="same"), "padding")
walk("shapes", shapes.conv1d_output_shape, {"input_shape": (3, 40), "out_channels": 8, "kernel_size": 3},
     input_shape=[("(1, 3, 40, 40)", (1, 3, 40, 40)), ("40", 40), ("(3, 0)", (3, 0))], out_channels=[("0", 0)],
     kernel_size=[("(3, 3)", (3, 3)), ("50", 50)], stride=[("0", 0)], padding=[("'full'", "full")], groups=[("2", 2)])
bad("shapes", "receptive_field(Conv1d and Conv2d mixed)",
    lambda: shapes.receptive_field(nn.Sequential(nn.Conv1d(1, 1, 3), nn.Conv2d(1, 1, 3))), "model")
walk("shapes", shapes.trace, {"model": lazy(conv_stack), "input_shape": (1, 1, 28, 28)},
     model=MODULE, input_shape=[("'1,1,28,28'", "1,1,28,28"), ("(1, -1, 28, 28)", (1, -1, 28, 28)), ("28", 28),
                                ("a tensor", lazy(lambda: torch.rand(1, 1, 28, 28))), ("(1, 1, 2.5, 28)", (1, 1, 2.5, 28)),
                                ("3 channels", (1, 3, 28, 28)), ("too small", (1, 1, 3, 3))])
walk("shapes", shapes.conv_input_cells, {"out_index": 1, "kernel_size": 3},
     out_index=[("-1", -1), ("'1'", "1"), ("1.5", 1.5)], kernel_size=[("0", 0), ("None", None)], stride=[("0", 0)],
     padding=[("-1", -1)], dilation=[("0", 0)])
walk("shapes", shapes.receptive_field, {"model": lazy(conv_stack)},
     model=[("'net'", "net"), ("None", None), ("3", 3), ("[conv, 'relu']", lazy(lambda: [nn.Conv2d(1, 1, 3), "relu"])),
            ("with Flatten", lazy(lambda: nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten()))),
            ("a residual block", lazy(lambda: models.ResidualBlock(4, 4))),
            ("nested, bad layer 4.0", lazy(lambda: nn.Sequential(*[nn.ReLU()] * 4, nn.Sequential(nn.Linear(2, 2))))),
            ("empty Sequential", lazy(nn.Sequential))],
     input_size=[("0", 0), ("'28'", "28"), ("(28,)", (28,)), ("2.5", 2.5), ("-3", -3)])
bad("shapes", "receptive_field(pool padding > k/2, input_size=8)",
    lambda: shapes.receptive_field(nn.Sequential(nn.MaxPool2d(2, padding=2)), input_size=8), "padding")
bad("shapes", "receptive_field(reflect padding >= input, input_size=2)",
    lambda: shapes.receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3, padding=2, padding_mode="reflect")), input_size=2),
    "padding")
bad("shapes", "receptive_field(circular padding > input, input_size=2)",
    lambda: shapes.receptive_field(nn.Sequential(nn.Conv2d(1, 1, 5, padding=3, padding_mode="circular")), input_size=2),
    "padding")
walk("shapes", shapes.measure_receptive_field, {"model": lazy(conv_stack), "input_shape": (1, 1, 16, 16)},
     model=MODULE + [("a Linear model", lazy(lambda: nn.Sequential(nn.Flatten(), nn.Linear(256, 2))))],
     input_shape=[("(16, 16)", (16, 16)), ("'x'", "x"), ("(1, 1, 0, 16)", (1, 1, 0, 16)), ("3 channels", (1, 3, 16, 16)),
                  ("(1, 1, 16.0, 16)", (1, 1, 16.0, 16))],
     position=[("(99, 0)", (99, 0)), ("(1,)", (1,)), ("'c'", "c"), ("(1.5, 0)", (1.5, 0))])
walk("shapes", shapes.effective_receptive_field, {"model": lazy(conv_stack), "images": lazy(lambda: torch.rand(2, 1, 16, 16))},
     model=MODULE, images=[("3D", lazy(lambda: torch.rand(1, 16, 16))), ("'x'", "x"), ("empty", lazy(lambda: torch.rand(0, 1, 16, 16))),
                           ("NaN", lazy(lambda: torch.full((2, 1, 16, 16), NAN))), ("3 channels", lazy(lambda: torch.rand(2, 3, 16, 16)))],
     position=[("(99, 0)", (99, 0))], channel=[("'0'", "0"), ("99", 99), ("-1", -1), ("1.5", 1.5)])

# ---------------------------------------------------------------------------------------
# pretrained

walk("pretrained", pretrained.map_efficientnet_lite0_keys, {}, name=[("3", 3), ("'_blocks.99._bn0.weight'", "_blocks.99._bn0.weight"), ("''", "")])
@cache
def _lite0_checkpoint() -> dict:
    return torch.load(pretrained._lite0_checkpoint_path(), map_location="cpu", weights_only=True)


walk("pretrained", pretrained.load_lite0_state_dict, {"model": lazy(lambda: pretrained.efficientnet_lite0(pretrained=False)),
                                                      "checkpoint": lazy(_lite0_checkpoint)},
     model=[("'m'", "m")], checkpoint=[("'ckpt'", "ckpt"), ("None", None), ("{'x': 1}", {"x": torch.zeros(1)}),
                                       ("{}", {})])
walk("pretrained", pretrained.resnet18, {}, pretrained=[("'no'", "no"), ("None", None), ("0.5", 0.5)])
walk("pretrained", pretrained.efficientnet_lite0, {"pretrained": False},
     num_classes=POS_INT + [("2.0", 2.0)])
walk("pretrained", pretrained.preprocess, {"images": lazy(lambda: torch.rand(2, 3, 16, 16)), "size": 32},
     images=image_values(single=False)[:-1] + [("PIL-like list", [[[0.1, 0.2, 0.3]]])],
     size=POS_INT, mean=[("2 values", (0.5, 0.5)), ("'m'", "m"), ("NaN", (NAN, 0.5, 0.5))],
     std=[("zeros", (0.0, 0.0, 0.0)), ("negative", (-1.0, 1.0, 1.0)), ("4 values", (1, 1, 1, 1))])
walk("pretrained", pretrained.top_k, {"model": lazy(lite0), "batch": lazy(lambda: pretrained.preprocess(photo(), size=64))},
     model=MODULE + [("a 10-class model", lazy(lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 10))))],
     batch=[("'x'", "x"), ("2D", lazy(lambda: torch.rand(64, 64))), ("empty", lazy(lambda: torch.rand(0, 3, 64, 64))),
            ("NaN", lazy(lambda: torch.full((1, 3, 64, 64), NAN)))],
     k=[("0", 0), ("-1", -1), ("'5'", "5"), ("2000", 2000), ("2.5", 2.5)])

# ---------------------------------------------------------------------------------------
# models

walk("models", models.ClassicCNNConfig, {},
     in_channels=POS_INT, image_size=[("0", 0), ("'28'", "28")], num_classes=[("0", 0), ("2.0", 2.0)],
     channels=[("32", 32), ("()", ()), ("(32, '64')", (32, "64")), ("(32, 0)", (32, 0)), ("'32'", "32")],
     convs_per_stage=[("0", 0)], kernel_size=[("4 (even)", 4), ("0", 0)],
     pool=[("'MAX'", "MAX"), ("None", None)], hidden=[("128", 128), ("(128, -1)", (128, -1))],
     dropout=[("'0.5'", "0.5"), ("1.0", 1.0), ("-0.1", -0.1), ("nan", NAN)])
bad("models", "ClassicCNNConfig(image_size=2, 3 stages)", lambda: models.ClassicCNNConfig(image_size=2, channels=(4, 4, 4)).feature_size(),
    "image_size")
walk("models", models.classic_cnn, {}, config=[("'small'", "small"), ("{}", {}), ("3", 3)])
bad("models", "classic_cnn(chanels=(8,))", lambda: models.classic_cnn(chanels=(8,)), "chanels")
bad("models", "classic_cnn(image_size=4, channels=(8,)*4)", lambda: models.classic_cnn(image_size=4, channels=(8,) * 4),
    "image_size")
walk("models", models.ResidualBlock, {"c_in": 4, "c_out": 8}, c_in=POS_INT, stride=[("0", 0), ("'2'", "2")])
bad("models", "ResidualBlock(4, 8)(x with 3 channels)", lambda: models.ResidualBlock(4, 8)(torch.rand(1, 3, 8, 8)), "x")
walk("models", models.count_params, {"model": lazy(tiny_cnn)}, model=MODULE)
walk("models", models.count_flops, {"model": lazy(tiny_cnn), "input_shape": (1, 1, 8, 8)},
     model=MODULE, input_shape=[("(1, 1, -8, 8)", (1, 1, -8, 8)), ("'x'", "x"), ("3 channels", (1, 3, 8, 8)), ("8", 8)])

# ---------------------------------------------------------------------------------------
# augment

GALLERY = {"image": lazy(photo), "transforms": lazy(lambda: {"flip": lambda im: im.flip(-1)})}
walk("augment", augment.gallery, GALLERY,
     image=image_values(single=True),
     transforms=[("{}", {}), ("a list", lazy(lambda: [lambda im: im])), ("{'x': 3}", {"x": 3}),
                 ("returns a PIL image", lazy(lambda: {"pil": lambda im: __import__("PIL.Image").Image.new("RGB", (4, 4))})),
                 ("returns 5 channels", lazy(lambda: {"bad": lambda im: torch.rand(5, 8, 8)}))],
     samples=POS_INT, size=[("0", 0), ("'2'", "2")], seed=[("'x'", "x"), ("2.5", 2.5)])
walk("augment", augment.apply_params, {"image": lazy(photo)},
     image=image_values(single=True),
     angle=NUMBER, scale=POS_NUMBER, translate=[("(1,)", (1,)), ("'ab'", "ab"), ("(nan, 0)", (NAN, 0)), ("3", 3)],
     brightness=[("-1", -1.0), ("nan", NAN), ("'1'", "1")], contrast=[("-1", -1.0), ("nan", NAN)],
     saturation=[("-1", -1.0), ("inf", INF)], hue=[("0.7", 0.7), ("nan", NAN), ("'0.1'", "0.1")],
     blur_sigma=[("-1", -1.0), ("nan", NAN), ("1000", 1000.0), ("'2'", "2")],
     erase=[("1.5", 1.5), ("-0.1", -0.1), ("nan", NAN)])
walk("augment", augment.explorer, {"image": lazy(photo)},
     image=image_values(single=True)[:6],
     presets=[("{}", {}), ("{'x': {'angel': 3}}", {"x": {"angel": 3}}), ("{'x': 3}", {"x": 3}), ("a list", ["original"])],
     size=[("0", 0), ("-1", -1.0)])
walk("augment", augment.random_affine_batch, {"x": lazy(lambda: torch.rand(4, 1, 8, 8))},
     x=image_values(single=False)[:4] + [("one CHW image", lazy(lambda: torch.rand(1, 8, 8))),
                                         ("uint8 batch", lazy(lambda: torch.zeros(4, 1, 8, 8, dtype=torch.uint8)))],
     degrees=[("nan", NAN), ("-5", -5.0), ("'10'", "10")], translate=[("nan", NAN), ("-0.1", -0.1), ("inf", INF)],
     scale=[("(1,)", (1.0,)), ("(1.2, 0.8)", (1.2, 0.8)), ("(nan, 1)", (NAN, 1.0)), ("0.9", 0.9), ("(0, 1)", (0.0, 1.0))],
     generator=[("'g'", "g"), ("42", 42)])
walk("augment", augment.AugmentedLoader, {"loader": lazy(loader), "augment": lambda x: x},
     loader=[("3", 3), ("None", None)], augment=[("'flip'", "flip"), ("None", None)])
bad("augment", "AugmentedLoader(augment changes shape)",
    lambda: list(augment.AugmentedLoader(loader(), lambda x: x[:, :, :4])), "augment")
bad("augment", "AugmentedLoader(augment returns a tuple)",
    lambda: list(augment.AugmentedLoader(loader(), lambda x: (x, x))), "augment")
bad("augment", "len(AugmentedLoader(generator))",
    lambda: len(augment.AugmentedLoader((b for b in loader()), lambda x: x)), "loader")
walk("augment", augment.predict_tta, {"model": lazy(tiny_cnn), "x": lazy(lambda: torch.rand(4, 1, 8, 8))},
     model=MODULE,
     x=[("'x'", "x"), ("3D", lazy(lambda: torch.rand(1, 8, 8))), ("empty", lazy(lambda: torch.rand(0, 1, 8, 8)))],
     views=[("[]", []), ("[3]", [3]), ("a function", lambda b: b)],
     batch_size=POS_INT)

# ---------------------------------------------------------------------------------------
# transfer

walk("transfer", transfer.freeze, {}, module=MODULE)
walk("transfer", transfer.unfreeze, {}, module=MODULE)
walk("transfer", transfer.last_linear, {}, model=MODULE + [("no Linear", lazy(lambda: nn.Conv2d(1, 1, 1)))])
walk("transfer", transfer.replace_head, {"model": lazy(fresh_cnn), "num_classes": 2},
     model=MODULE, num_classes=POS_INT + [("2.0", 2.0)])
_pg_model = cache(fresh_cnn)
walk("transfer", transfer.param_groups, {"model": lazy(_pg_model), "head": lazy(lambda: _pg_model()[-1]), "backbone_lr": 1e-3,
                                         "head_lr": 1e-2},
     model=[("'m'", "m")], head=[("None", None), ("another Linear", lazy(lambda: nn.Linear(2, 2))), ("'fc'", "fc")],
     backbone_lr=[("'1e-3'", "1e-3"), ("nan", NAN), ("-1", -1.0)], head_lr=[("0", 0.0), ("nan", NAN), ("None", None)])
walk("transfer", transfer.per_class_indices, {"y": lazy(lambda: torch.arange(20) % 4), "per_class": 2},
     y=[("float", lazy(lambda: (torch.arange(20) % 4).float())), ("2D", lazy(lambda: torch.zeros(4, 5, dtype=torch.long))),
        ("'y'", "y"), ("empty", lazy(lambda: torch.zeros(0, dtype=torch.long)))],
     per_class=POS_INT + [("6 (> 5 per class)", 6)], seed=SEED)
walk("transfer", transfer.model_key, {}, model=MODULE)
EXTRACT = {"model": lazy(lite0), "images": lazy(lambda: torch.rand(2, 3, 16, 16)), "size": 32, "cache": False,
           "verbose": False}
walk("transfer", transfer.extract_features, EXTRACT,
     model=MODULE, images=image_values(single=False),
     size=[("2", 2), ("'96'", "96"), ("96.0", 96.0), ("None", None)],
     mean=[("2 values", (0.5, 0.5)), ("'m'", "m")], std=[("zeros", (0.0, 0.0, 0.0))],
     batch_size=POS_INT, device=[("'banana'", "banana"), ("3", 3)])

# ---------------------------------------------------------------------------------------
# kernels

walk("kernels", kernels.preset, {}, name=[("3", 3), ("'blur'", "blur"), ("None", None)])
walk("kernels", kernels.apply_kernel, {"image": lazy(photo), "kernel": lazy(lambda: kernels.preset("sharpen"))},
     image=[("'x'", "x"), ("None", None), ("rank 1", lazy(lambda: torch.rand(16))),
            ("rank 5", lazy(lambda: torch.rand(1, 1, 3, 8, 8))), ("empty", lazy(lambda: torch.rand(3, 0, 0))),
            ("NaN", lazy(lambda: torch.full((3, 8, 8), NAN))), ("complex", lazy(lambda: torch.rand(3, 8, 8, dtype=torch.complex64)))],
     kernel=[("[]", []), ("3D", lazy(lambda: torch.rand(3, 3, 3))), ("'sharpen'", "sharpen"), ("NaN", lazy(lambda: torch.full((3, 3), NAN))),
             ("ragged list", [[1, 2, 3], [1, 2]]), ("None", None)],
     padding=[("'full'", "full"), ("-1", -1), ("1.5", 1.5), ("10**6", 10**6)])
bad("kernels", "apply_kernel(kernel larger than the image, padding='valid')",
    lambda: kernels.apply_kernel(photo(), torch.rand(64, 64), padding="valid"), "kernel")
walk("kernels", kernels.kernel_figure, {"image": lazy(photo), "kernel": lazy(lambda: kernels.preset("sharpen"))},
     image=image_values(single=True), kernel=[("[]", []), ("NaN", lazy(lambda: torch.full((3, 3), NAN))), ("'k'", "k")])
walk("kernels", kernels.display_image, {"out": lazy(lambda: torch.rand(3, 8, 8)), "kernel": lazy(lambda: kernels.preset("sharpen"))},
     out=[("None", None), ("'img'", "img"), ("empty", lazy(lambda: torch.rand(3, 0, 0))), ("NaN", lazy(lambda: torch.full((3, 8, 8), NAN))),
          ("complex", lazy(lambda: torch.rand(3, 8, 8, dtype=torch.complex64)))],
     kernel=[("'blur'", "blur"), ("None", None), ("3x3x3", lazy(lambda: torch.rand(3, 3, 3)))])
walk("kernels", kernels.decode_image, {"content": lazy(_png_bytes)},
     content=[("'cat.png'", "cat.png"), ("None", None), ("garbage", b"garbage"), ("empty", b"")], size=[("0", 0), ("'x'", "x")])
walk("kernels", kernels.KernelPlayground, {"images": lazy(lambda: {"cat": photo()})},
     images=[("{}", {}), ("a list", lazy(lambda: [photo()])), ("{'cat': 'x'}", {"cat": "x"}),
             ("{'cat': 5 channels}", lazy(lambda: {"cat": torch.rand(5, 8, 8)})), ("{'cat': NaN}", lazy(lambda: {"cat": torch.full((3, 8, 8), NAN)}))],
     preset_name=[("'blur'", "blur"), ("3", 3)], size=[("0", 0), ("'192'", "192")])
bad("kernels", "KernelPlayground().select(image='nope')",
    lambda: kernels.KernelPlayground({"cat": photo()}).select(image="nope"), "image")
bad("kernels", "KernelPlayground().select(preset_name='nope')",
    lambda: kernels.KernelPlayground({"cat": photo()}).select(preset_name="nope"), "preset_name")
bad("kernels", "KernelPlayground().set_kernel(5x5)",
    lambda: kernels.KernelPlayground({"cat": photo()}).set_kernel(torch.rand(5, 5)), "kernel")
bad("kernels", "KernelPlayground().set_kernel(NaN)",
    lambda: kernels.KernelPlayground({"cat": photo()}).set_kernel(torch.full((3, 3), NAN)), "kernel")
bad("kernels", "KernelPlayground().add_image('x', 'img')",
    lambda: kernels.KernelPlayground({"cat": photo()}).add_image("x", "img"), "image")
bad("kernels", "KernelPlayground().add_image(3, image)",
    lambda: kernels.KernelPlayground({"cat": photo()}).add_image(3, photo()), "name")
bad("kernels", "KernelPlayground().add_image_file('/nonexistent.png')",
    lambda: kernels.KernelPlayground({"cat": photo()}).add_image_file("/nonexistent.png"), "path")
bad("kernels", "KernelPlayground().add_image_bytes('x', b'garbage')",
    lambda: kernels.KernelPlayground({"cat": photo()}).add_image_bytes("x", b"garbage"), "content")
walk("kernels", kernels.kernel_playground, {"images": lazy(lambda: {"cat": photo()})},
     images=[("{}", {}), ("'cat'", "cat")], preset_name=[("'nope'", "nope")])

# ---------------------------------------------------------------------------------------
# widgets

walk("widgets", widgets.draw_convolution, {},
     size=[("150", 150), ("0", 0), ("'5'", "5"), ("2.5", 2.5)], kernel_size=[("0", 0), ("1000", 1000)], stride=[("0", 0), ("'1'", "1")],
     padding=[("-1", -1), ("50", 50)], dilation=[("0", 0)],
     output_cell=[("(nan, 0)", (NAN, 0)), ("('a', 0)", ("a", 0)), ("(1,)", (1,)), ("3", 3)],
     axes=[("one axis", lazy(lambda: [__import__("matplotlib.pyplot").pyplot.subplots()[1]])), ("'ax'", "ax")])
walk("widgets", widgets.draw_convolution_gallery, {"settings": [{"stride": 2}, {"padding": 1}]},
     settings=[("[]", []), ("[3]", [3]), ("{'stride': 2}", {"stride": 2}), ("[{'strid': 2}]", [{"strid": 2}]),
               ("100 panels", [{}] * 100)],
     ncols=[("0", 0), ("-1", -1), ("'2'", "2")], titles=[("1 for 2", ["a"]), ("'ab'", "ab")])
walk("widgets", widgets.figure_png, {}, figure=[("None", None), ("'fig'", "fig"), ("an Axes", lazy(lambda: __import__("matplotlib.pyplot").pyplot.subplots()[1]))])
walk("widgets", widgets.static_view_box, {"children": [], "static": lambda: b"", "description": "a view"},
     children=[("3", 3), ("'ab'", "ab"), ("[3]", [3])], static=[("None", None), ("b'png'", b"png")],
     description=[("None", None), ("3", 3)], kind=[("'Grid'", "Grid"), ("3", 3)])
walk("widgets", widgets.conv_visualizer, {},
     size=[("0", 0), ("13", 13), ("'5'", "5")], kernel_size=[("8", 8)], stride=[("0", 0)], padding=[("-1", -1)],
     dilation=[("5", 5)])

# ---------------------------------------------------------------------------------------
# cache

walk("cache", dcache.load_or_compute, {"kind": "probe", "record": {"a": 1}, "compute": lambda: torch.ones(2)},
     kind=[("''", ""), ("'../x'", "../x"), ("3", 3)], record=[("{}", {}), ("{'m': object}", {"m": object()}), ("'r'", "r")],
     compute=[("a tensor", lazy(lambda: torch.ones(2))), ("None", None)], prefix=[("'a/b'", "a/b"), ("3", 3)])
walk("cache", dcache.entry_path, {"kind": "probe", "record": {"a": 1}},
     kind=[("''", ""), ("'../x'", "../x"), ("None", None)], record=[("'r'", "r"), ("{'m': object}", {"m": object()})],
     prefix=[("'a/b'", "a/b"), ("3", 3)])
walk("cache", dcache.tensor_check, {}, shape=[("3", 3)], dtype=[("'float'", "float")])
walk("cache", dcache.checksum, {}, payload=[("an object", object()), ("{1: tensor}", lazy(lambda: {1: torch.ones(1)}))])


# ---------------------------------------------------------------------------------------
# scenes and heatmaps (notebooks 09-10)

from course_utils import heatmaps, scenes  # noqa: E402 - grouped with their cases

walk("scenes", scenes.make_scenes, {"n": 2, "cache": False},
     n=POS_INT, split=[("'validation'", "validation"), ("3", 3)], config=[("'big'", "big"), ("{}", {})],
     seed=SEED)
bad("scenes", "SceneConfig(size=8)", lambda: scenes.make_scenes(2, config=scenes.SceneConfig(size=8), cache=False),
    "size")
bad("scenes", "SceneConfig(animals=(3, 1))",
    lambda: scenes.make_scenes(2, config=scenes.SceneConfig(animals=(3, 1)), cache=False), "animals")
walk("scenes", scenes.extreme_points, {"mask": lazy(lambda: torch.ones(8, 8, dtype=torch.bool))},
     mask=[("'m'", "m"), ("3D", lazy(lambda: torch.ones(2, 8, 8, dtype=torch.bool))),
           ("all False", lazy(lambda: torch.zeros(8, 8, dtype=torch.bool))), ("empty", lazy(lambda: torch.ones(0, 0)))])
_PTS = {"points": lazy(lambda: torch.tensor([[2.0, 3.0]])), "channels": lazy(lambda: torch.tensor([0])),
        "num_channels": 2, "height": 8, "width": 8}
walk("heatmaps", heatmaps.gaussian_heatmaps, _PTS,
     points=[("(1, 3)", lazy(lambda: torch.zeros(1, 3))), ("'p'", "p"), ("NaN", lazy(lambda: torch.full((1, 2), NAN)))],
     channels=[("out of range", lazy(lambda: torch.tensor([5]))), ("-1", lazy(lambda: torch.tensor([-1])))],
     num_channels=[("0", 0), ("'2'", "2")], height=[("0", 0), ("-8", -8)], width=[("2.5", 2.5)],
     sigma=[("0", 0.0), ("-1", -1.0), ("nan", NAN)])
_BOX = {"boxes": lazy(lambda: torch.tensor([[4.0, 4.0, 20.0, 20.0]])), "labels": lazy(lambda: torch.tensor([1])),
        "num_classes": 2, "image_size": 32, "stride": 4}
walk("heatmaps", heatmaps.encode_centers, _BOX,
     boxes=[("(1, 3)", lazy(lambda: torch.zeros(1, 3))), ("x2 < x1", lazy(lambda: torch.tensor([[20.0, 4.0, 4.0, 20.0]]))),
            ("NaN", lazy(lambda: torch.full((1, 4), NAN)))],
     labels=[("float", lazy(lambda: torch.tensor([1.0]))), ("out of range", lazy(lambda: torch.tensor([7])))],
     num_classes=[("0", 0)], image_size=[("0", 0), ("30 (not a multiple of 4)", 30)], stride=[("0", 0), ("'4'", "4")],
     sigma_scale=[("-1", -1.0), ("nan", NAN)])
walk("heatmaps", heatmaps.find_peaks, {"heatmap": lazy(lambda: torch.rand(1, 2, 8, 8))},
     heatmap=[("3D", lazy(lambda: torch.rand(2, 8, 8))), ("'h'", "h"), ("NaN", lazy(lambda: torch.full((1, 2, 8, 8), NAN)))],
     k=[("0", 0), ("-1", -1), ("'5'", "5")], threshold=[("nan", NAN), ("'0.1'", "0.1")], kernel=[("2", 2), ("0", 0)])
walk("heatmaps", heatmaps.decode_centers, {"heatmap": lazy(lambda: torch.rand(1, 2, 8, 8)),
                                           "size": lazy(lambda: torch.rand(1, 2, 8, 8)), "stride": 4},
     size=[("(1, 3, 8, 8)", lazy(lambda: torch.rand(1, 3, 8, 8))), ("(1, 2, 4, 4)", lazy(lambda: torch.rand(1, 2, 4, 4)))],
     stride=[("0", 0), ("2.5", 2.5)], offset=[("(1, 2, 4, 4)", lazy(lambda: torch.rand(1, 2, 4, 4)))])


# ---------------------------------------------------------------------------------------
# Issue 22: what an independent probe found beyond this list (one case per example it named)

def _classic() -> nn.Module:
    torch.manual_seed(0)
    return models.classic_cnn(channels=(4,), hidden=(8,))


def _rgb_classifier() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))


def _gray_backbone() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())


bad("models", "classic_cnn()(one CHW image)", lambda: _classic()(torch.rand(1, 28, 28)), "x")
bad("models", "classic_cnn()(3 channels for 1)", lambda: _classic()(torch.rand(2, 3, 28, 28)), "x")
bad("models", "classic_cnn()(32x32 for 28x28)", lambda: _classic()(torch.rand(2, 1, 32, 32)), "x")
bad("models", "classic_cnn()(uint8 batch)", lambda: _classic()(torch.zeros(2, 1, 28, 28, dtype=torch.uint8)), "x")
bad("models", "classic_cnn()(channels-last batch)", lambda: _classic()(torch.rand(2, 28, 28, 1)), "x")
bad("augment", "predict_tta(uint8 batch)",
    lambda: augment.predict_tta(tiny_cnn(), torch.zeros(2, 1, 8, 8, dtype=torch.uint8)), "x")
bad("augment", "predict_tta(1-channel batch, RGB model)", lambda: augment.predict_tta(_rgb_classifier(), torch.rand(2, 1, 8, 8)),
    "x")
bad("augment", "predict_tta(NaN batch)", lambda: augment.predict_tta(tiny_cnn(), torch.full((2, 1, 8, 8), NAN)), "x")
bad("augment", "predict_tta(model returning NaN)",
    lambda: augment.predict_tta(nn.Sequential(nn.Flatten(), nn.Linear(64, 3), _Times(NAN)), torch.rand(2, 1, 8, 8)), "model")
bad("pretrained", "top_k(uint8 batch)", lambda: pretrained.top_k(_rgb_classifier(), torch.zeros(1, 3, 8, 8, dtype=torch.uint8),
                                                                  class_names=[str(i) for i in range(10)]), "batch")
bad("pretrained", "top_k(1-channel batch)", lambda: pretrained.top_k(_rgb_classifier(), torch.rand(1, 1, 8, 8),
                                                                      class_names=[str(i) for i in range(10)]), "batch")
bad("transfer", "extract_features(1-channel backbone)",
    lambda: transfer.extract_features(_gray_backbone(), torch.rand(2, 1, 8, 8), size=16, cache=False, verbose=False), "model")
bad("augment", "apply_params(hflip='no')", lambda: augment.apply_params(photo(), hflip="no"), "hflip")
bad("augment", "random_affine_batch(hflip='no')", lambda: augment.random_affine_batch(torch.rand(2, 1, 8, 8), hflip="no"),
    "hflip")
bad("data", "make_loader(shuffle='yes')", lambda: data.make_loader(xy(), shuffle="yes"), "shuffle")
bad("models", "ClassicCNNConfig(channels=(32, True))", lambda: models.ClassicCNNConfig(channels=(32, True)), "channels")
bad("models", "ResidualBlock(skip='no')", lambda: models.ResidualBlock(4, 4, skip="no"), "skip")
bad("train", "fit(verbose='no')", lambda: train.fit(fresh_cnn(), loader(), epochs=1, progress=False, verbose="no"), "verbose")
bad("kernels", "apply_kernel(channels-last (H, W, 3) photo)",
    lambda: kernels.apply_kernel(photo().permute(1, 2, 0), kernels.preset("sharpen")), "image")
bad("augment", "random_affine_batch((N, 28, 28, 1))", lambda: augment.random_affine_batch(torch.rand(4, 28, 28, 1)), "x")
bad("train", "accuracy(NaN logits)", lambda: train.accuracy(torch.full((2, 2), NAN), torch.tensor([0, 1])), "logits")
bad("train", "fit(scheduler=StepLR, the class)",
    lambda: train.fit(fresh_cnn(), loader(), epochs=1, scheduler=torch.optim.lr_scheduler.StepLR, progress=False, verbose=False),
    "scheduler")
bad("train", "fit(loss_fn=CrossEntropyLoss, the class)",
    lambda: train.fit(fresh_cnn(), loader(), epochs=1, loss_fn=nn.CrossEntropyLoss, progress=False, verbose=False), "loss_fn")
bad("train", "fit(scheduler of another optimizer)",
    lambda: train.fit(fresh_cnn(), loader(), epochs=1, progress=False, verbose=False, scheduler=torch.optim.lr_scheduler.StepLR(
        torch.optim.SGD(nn.Linear(2, 2).parameters(), 0.1), 1)), "scheduler")
bad("augment", "AugmentedLoader(augment=the class v2.RandomHorizontalFlip)",
    lambda: augment.AugmentedLoader(loader(), __import__("torchvision.transforms.v2", fromlist=["x"]).RandomHorizontalFlip),
    "augment")
bad("data", "load_tensors() with the entry of mnist_5k.npz removed from the manifest",
    _with_data_dir(lambda: _manifest_without_entry("mnist_5k.npz"), lambda: data.load_tensors("mnist")), "manifest")


def _manifest_without_entry(rel: str) -> str:
    import json

    m = json.loads((data.data_dir() / "manifest.json").read_text())
    del m[rel]
    return json.dumps(m)


class _Times(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


from course_utils import heatmaps as _hm  # noqa: E402 - used by the cases below
from course_utils import scenes as _scenes  # noqa: E402

bad("heatmaps", "gaussian_heatmaps(a point outside the map)",
    lambda: _hm.gaussian_heatmaps(torch.tensor([[100.0, 100.0]]), torch.tensor([0]), 1, 8, 8), "points")
bad("heatmaps", "encode_centers(a box outside the image)",
    lambda: _hm.encode_centers(torch.tensor([[40.0, 40.0, 60.0, 60.0]]), torch.tensor([0]), 1, 32, 4), "boxes")
bad("heatmaps", "encode_centers(two boxes in one cell)",
    lambda: _hm.encode_centers(torch.tensor([[4.0, 4.0, 8.0, 8.0], [5.0, 5.0, 7.0, 7.0]]), torch.tensor([0, 0]), 1, 32, 4),
    "boxes")
bad("heatmaps", "encode_centers(stride=True)",
    lambda: _hm.encode_centers(torch.tensor([[4.0, 4.0, 20.0, 20.0]]), torch.tensor([0]), 1, 32, True), "stride")
bad("scenes", "make_scenes(SceneConfig(flip='no'))",
    lambda: _scenes.make_scenes(1, config=_scenes.SceneConfig(flip="no"), cache=False), "flip")


# ---------------------------------------------------------------------------------------
# Obvious forms that are converted, not refused: (module, name, call, check(result) -> bool)

@dataclass
class Accepted:
    module: str
    name: str
    fn: Callable[[], Any]
    check: Callable[[Any], bool]


ACCEPTED: list[Accepted] = []


def accepted(module: str, name: str, fn: Callable[[], Any], check: Callable[[Any], bool]) -> None:
    ACCEPTED.append(Accepted(module, name, fn, check))


def _image_shown(fig) -> np.ndarray:
    """The array drawn in the first axes of a figure (H, W) or (H, W, 3)."""
    return np.asarray(fig.axes[0].images[0].get_array())


def _u8(x: torch.Tensor) -> torch.Tensor:
    return (x * 255).round().to(torch.uint8)


_P = lambda: _u8(photo()).float() / 255  # noqa: E731 - the photo at uint8 precision, the reference
accepted("plots", "show_images(uint8 0-255)",
         lambda: plots.show_images(_u8(photo())), lambda fig: np.allclose(_image_shown(fig), _P().permute(1, 2, 0).numpy(), atol=1e-6))
accepted("plots", "show_images(HWC float)",
         lambda: plots.show_images(photo().permute(1, 2, 0)), lambda fig: np.allclose(_image_shown(fig), photo().permute(1, 2, 0).numpy()))
accepted("plots", "show_images(NHWC uint8 NumPy)",
         lambda: plots.show_images(_u8(photo()).permute(1, 2, 0)[None].numpy()),
         lambda fig: np.allclose(_image_shown(fig), _P().permute(1, 2, 0).numpy(), atol=1e-6))
accepted("plots", "show_filters(a Conv2d layer)",
         lambda: plots.show_filters(nn.Conv2d(3, 4, 3)), lambda fig: len([a for a in fig.axes if a.images]) == 4)
accepted("plots", "confusion_matrix(NumPy int labels)",
         lambda: plots.confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), 2), lambda cm: cm.tolist() == [[1, 0], [1, 1]])
accepted("pretrained", "preprocess(uint8 photo)",
         lambda: pretrained.preprocess(_u8(photo()), size=32),
         lambda out: torch.allclose(out, pretrained.preprocess(_P(), size=32), atol=1e-5))
accepted("pretrained", "preprocess(HWC photo)",
         lambda: pretrained.preprocess(photo().permute(1, 2, 0), size=32),
         lambda out: torch.allclose(out, pretrained.preprocess(photo(), size=32)))
accepted("augment", "apply_params(uint8 photo)",
         lambda: augment.apply_params(_u8(photo()), angle=10), lambda out: torch.allclose(out, augment.apply_params(_P(), angle=10)))
accepted("augment", "apply_params(HWC photo)",
         lambda: augment.apply_params(photo().permute(1, 2, 0), hflip=True),
         lambda out: torch.allclose(out, augment.apply_params(photo(), hflip=True)))
accepted("kernels", "apply_kernel(uint8 photo)",
         lambda: kernels.apply_kernel(_u8(photo()), kernels.preset("sharpen")),
         lambda out: torch.allclose(out, kernels.apply_kernel(_P(), kernels.preset("sharpen")), atol=1e-5))
accepted("kernels", "apply_kernel(gray (H, W))",
         lambda: kernels.apply_kernel(photo()[0], kernels.preset("box blur")),
         lambda out: out.shape == photo().shape[1:] and torch.allclose(out, kernels.apply_kernel(photo()[:1], kernels.preset("box blur"))[0]))
accepted("shapes", "conv_output_size(np.int64(28), 3)",
         lambda: shapes.conv_output_size(np.int64(28), 3), lambda out: out == 26 and type(out) is int)
accepted("shapes", "conv2d_output_shape(torch.Size)",
         lambda: shapes.conv2d_output_shape(torch.Size([1, 3, 28, 28]), 8, 3), lambda out: out == (1, 8, 26, 26))
accepted("models", "count_flops(input_shape as a list)",
         lambda: models.count_flops(tiny_cnn(), [1, 1, 8, 8]), lambda out: out == models.count_flops(tiny_cnn(), (1, 1, 8, 8)))
accepted("transfer", "replace_head(num_classes=np.int64(3))",
         lambda: transfer.replace_head(fresh_cnn(), np.int64(3)), lambda head: head.out_features == 3)
accepted("train", "evaluate(a model without parameters)",
         lambda: train.evaluate(nn.Sequential(nn.Flatten(), nn.Unflatten(1, (16, 4)), nn.Flatten(), nn.Identity()), loader()),
         lambda out: len(out) == 2 and all(math.isfinite(v) for v in out))
accepted("augment", "predict_tta(a model without parameters)",
         lambda: augment.predict_tta(nn.Flatten(), torch.rand(4, 1, 8, 8)),
         lambda out: out.shape == (4, 64) and torch.allclose(out.sum(1), torch.ones(4)))
accepted("settings", "get_device(torch.device('cpu'))",
         lambda: settings.get_device(torch.device("cpu")), lambda out: out == torch.device("cpu"))
accepted("settings", "seed_everything(np.int64(3))",
         lambda: (settings.seed_everything(np.int64(3)), torch.rand(3))[1],
         lambda out: torch.equal(out, (settings.seed_everything(3), torch.rand(3))[1]))
accepted("data", "load_tensors(classes=tensor([2, 4]), limit=np.int64(5))",
         lambda: data.load_tensors("animals", "val", classes=torch.tensor([2, 4]), limit=np.int64(5)),
         lambda out: all(torch.equal(a, b) for a, b in zip(out, data.load_tensors("animals", "val", classes=[2, 4],
                                                                                  limit=5))))
accepted("data", "make_loader(a list of (x, y) pairs)",
         lambda: next(iter(data.make_loader([(torch.ones(2), 1), (torch.zeros(2), 0)], batch_size=2))),
         lambda out: out[0].shape == (2, 2) and out[1].tolist() == [1, 0])
accepted("widgets", "draw_convolution(np.int64 sizes)",
         lambda: widgets.draw_convolution(np.int64(5), np.int64(3), output_cell=(np.int64(1), 1)),
         lambda fig: "K=3" in fig._suptitle.get_text() and "(1, 1)" in fig.axes[1].get_title())
accepted("train", "accuracy(list labels)",
         lambda: train.accuracy(torch.eye(3), [0, 1, 2]), lambda out: out == 1.0)
accepted("pretrained", "top_k(one CHW image)",
         lambda: pretrained.top_k(lite0(), pretrained.preprocess(photo(), size=64)[0], k=1),
         lambda out: len(out) == 1 and out == pretrained.top_k(lite0(), pretrained.preprocess(photo(), size=64), k=1))
accepted("pretrained", "top_k(10-class model with class_names)",
         lambda: pretrained.top_k(nn.Sequential(nn.Flatten(), nn.LazyLinear(10)), torch.rand(2, 3, 4, 4), k=2,
                                  class_names=[f"c{i}" for i in range(10)]),
         lambda out: len(out) == 2 and all(name.startswith("c") for name, _ in out[0]))

accepted("shapes", "conv_output_size(torch.tensor(28), 3)",
         lambda: shapes.conv_output_size(torch.tensor(28), 3), lambda out: out == 26 and type(out) is int)
accepted("scenes", "make_scenes(np.int64(2))",
         lambda: _scenes.make_scenes(np.int64(2), config=_scenes.SceneConfig(size=32, scale=(12, 16)), cache=False),
         lambda out: len(out) == 2)
accepted("scenes", "Scenes.targets(np.int64(1)) and targets(torch.tensor(1))",
         lambda: _small_scenes().targets(np.int64(1)),
         lambda out: torch.equal(out["boxes"], _small_scenes().targets(1)["boxes"])
         and torch.equal(_small_scenes().targets(torch.tensor(1))["boxes"], out["boxes"]))
accepted("models", "count_flops(input_shape with NumPy and 0-d tensor sizes)",
         lambda: models.count_flops(tiny_cnn(), (np.int64(1), torch.tensor(1), 8, 8)),
         lambda out: out == models.count_flops(tiny_cnn(), (1, 1, 8, 8)))
accepted("widgets", "conv_visualizer(size=np.int64(5))",
         lambda: widgets.conv_visualizer(size=np.int64(5), stride=torch.tensor(2)),
         lambda out: out.sliders["size"].value == 5 and out.sliders["stride"].value == 2)
accepted("data", "make_loader((NumPy x, NumPy y))",
         lambda: next(iter(data.make_loader((xy()[0].double().numpy(), xy()[1].numpy()), batch_size=32))),
         lambda out: out[0].dtype == torch.float32 and out[1].dtype == torch.int64 and torch.equal(out[0], xy()[0])
         and torch.equal(out[1], xy()[1]))
accepted("augment", "random_affine_batch(an empty batch)",
         lambda: augment.random_affine_batch(torch.rand(0, 1, 8, 8), degrees=10), lambda out: out.shape == (0, 1, 8, 8))
accepted("heatmaps", "encode_centers(stride=np.int64(4))",
         lambda: _hm.encode_centers(torch.tensor([[4.0, 4.0, 20.0, 20.0]]), torch.tensor([0]), 1, 32, np.int64(4)),
         lambda out: int(out["mask"].sum()) == 1)
accepted("kernels", "apply_kernel(padding=np.int64(1))",
         lambda: kernels.apply_kernel(photo(), kernels.preset("sharpen"), padding=np.int64(1)),
         lambda out: torch.allclose(out, kernels.apply_kernel(photo(), kernels.preset("sharpen"), padding=1)))


@cache
def _small_scenes():
    return _scenes.make_scenes(3, "val", _scenes.SceneConfig(size=32, scale=(12, 16)), seed=1, cache=False)


accepted("heatmaps", "find_peaks(threshold=-1): only local maxima",
         lambda: _hm.find_peaks(torch.tensor([[[[0.2, 0.9, 0.1]]]]), threshold=-1.0),
         lambda out: out[0]["xs"].tolist() == [1] and out[0]["scores"].tolist() == [0.8999999761581421])


# ---------------------------------------------------------------------------------------
# Running and classifying

class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def outcome(case: Case, timeout: float = 20.0) -> tuple[str, str]:
    """Run one case: ("clear" | "unclear" | "raw" | "silent" | "hang" | "leak", detail).

    "leak": the case left files or folders in the temporary folder (see :func:`temp_guard`).
    """
    with temp_guard() as left:
        kind, detail = _outcome(case, timeout)
    return ("leak", f"left {left} in the temporary folder; {kind}: {detail}") if left else (kind, detail)


def _outcome(case: Case, timeout: float) -> tuple[str, str]:
    import matplotlib.pyplot as plt

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        result = case.fn()
        if isinstance(result, Iterator):  # a generator: errors come on iteration
            list(result)
    except Hang:
        return "hang", f"still running after {timeout:g} s"
    except BaseException as err:  # noqa: BLE001 - classifying every failure is the point
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        frames = traceback.extract_tb(err.__traceback__)
        where = frames[-1].filename if frames else ""
        # ours: a `raise` statement in course_utils (an error from a torch C function also ends
        # in a course frame, on the line that called it), or Python naming an unknown keyword
        ours = where.startswith(PACKAGE_DIR) and (frames[-1].line or "").lstrip().startswith("raise")
        ours = ours or (isinstance(err, TypeError) and "unexpected keyword argument" in str(err))
        message = str(err)
        names_arg = case.arg in message or case.arg.replace("_", " ") in message
        detail = f"{type(err).__name__}: {message.splitlines()[0][:160] if message else ''}"
        if not ours or not isinstance(err, case.expect):
            return "raw", detail + f"  [raised in {Path(where).name}]"
        return ("clear" if names_arg else "unclear"), detail
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        plt.close("all")
    return "silent", f"returned {_short(result)}"


def accepted_outcome(case: Accepted) -> tuple[str, str]:
    """("converted", "") when the obvious form gives the canonical result, else what happened."""
    with temp_guard() as left:
        kind, detail = _accepted_outcome(case)
    return ("leak", f"left {left} in the temporary folder; {kind}: {detail}") if left else (kind, detail)


def _accepted_outcome(case: Accepted) -> tuple[str, str]:
    import matplotlib.pyplot as plt

    try:
        result = case.fn()
        ok = bool(case.check(result))
    except Exception as err:  # noqa: BLE001
        return "refused", f"{type(err).__name__}: {str(err)[:160]}"
    finally:
        plt.close("all")
    return ("converted", "") if ok else ("silent", f"returned {_short(result)}")


def _short(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor {tuple(value.shape)}"
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


def cases(module: str) -> list[Case]:
    return [c for c in CASES if c.module == module]


def accepted_cases(module: str) -> list[Accepted]:
    return [c for c in ACCEPTED if c.module == module]


def assert_converted(case: Accepted) -> None:
    kind, detail = accepted_outcome(case)
    assert kind == "converted", f"{case.name}: {kind}: {detail}"


def assert_clear(case: Case) -> None:
    """The check of the test modules: a clear course error that names the argument."""
    kind, detail = outcome(case)
    assert kind == "clear", f"{case.name}: {kind}: {detail}"


MODULES = ("settings", "data", "train", "plots", "shapes", "pretrained", "models", "augment", "transfer",
           "kernels", "widgets", "cache", "scenes", "heatmaps")
OTHER_MODULES = ()
assert {c.module for c in CASES} <= set(MODULES + OTHER_MODULES)
assert len({c.name for c in CASES}) == len(CASES), "case names must be unique"
