"""One Hypothesis spec per public function of course_utils: a valid call, a kind per argument, a check.

See ``tests/generated_inputs.py`` for the kinds and the rule every call must obey. Every
public function and class of every module has a spec here or a reason in :data:`EXEMPT`
(``tests/test_bad_inputs_generated.py`` fails for a new one without either). A spec's check
uses PyTorch as the reference where there is one (the shape formulas against real
``nn.Conv1d``/``nn.Conv2d`` layers, ``apply_kernel`` against ``F.conv2d``, the FLOP count
against ``torch.utils.flop_counter``), else an invariant (boxes survive encoding and
decoding, a flip flipped twice, rows of probabilities sum to 1, ...).
"""

from __future__ import annotations

import io
import math
import shutil
import tempfile
from functools import cache
from pathlib import Path

import bad_inputs as B
import hypothesis.strategies as st
import numpy as np
import torch
import torch.nn.functional as F
from generated_inputs import (
    BAD_OBJECTS,
    INF,
    NAN,
    SAME,
    Drawn,
    Lazy,
    Spec,
    bad,
    choices,
    fixed,
    flags,
    good,
    image_plain,
    images,
    ints,
    normal,
    numbers,
    optional,
    sequences,
    tensors,
    uniform,
)
from torch import nn

from course_utils import (
    augment,
    claims,
    data,
    diagrams,
    exercises,
    heatmaps,
    kernels,
    learner,
    models,
    plots,
    pretrained,
    scenes,
    settings,
    shapes,
    solutions,
    train,
    transfer,
    widgets,
    wiring,
)
from course_utils import cache as dcache

SCRATCH = Path(tempfile.mkdtemp(prefix="convnets-generated-"))  # removed by the test module / the probe
OFFLINE = {"CONVNETS_ONLINE": "0"}
SPECS: dict[str, Spec] = {}


def spec(name: str, fn, valid=None, args=None, **kw) -> None:
    assert name not in SPECS, name
    SPECS[name] = Spec(fn, valid or {}, args or {}, **kw)


def env_texts(legit: set[str]) -> st.SearchStrategy[Drawn]:
    """Values of a 1/0 environment variable: the documented words (any case, spaces) and anything else."""
    words = sorted(legit)
    forms = st.sampled_from(words).flatmap(lambda w: st.sampled_from([w, w.upper(), f" {w} "]))
    return st.one_of(forms.map(lambda w: good(repr(w), w)),
                     st.text(st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=6)
                     .filter(lambda s: s.strip().lower() not in legit).map(lambda s: bad(repr(s), s)))


def modules(**legit: object) -> st.SearchStrategy[Drawn]:
    """Models: the given legitimate ones (makers), and things that are not an nn.Module."""
    return st.one_of(st.sampled_from([good(k, Lazy(v, k)) for k, v in legit.items()]),
                     fixed(bad("'net'", "net"), bad("None", None), bad("a function", lambda x: x),
                           bad("the class nn.Conv2d", nn.Conv2d), bad("[conv]", Lazy(lambda: [nn.Conv2d(1, 1, 3)]))))


def folder_texts() -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=12)


def labels_of(n: int, classes: int, *, numpy_ok: bool = True, padding: bool = False,
              bounded: bool = True) -> st.SearchStrategy[Drawn]:
    """Integer labels (n,) in 0..classes-1 as a tensor, list, tuple, NumPy or int32; floats, one-hot, out of range are bad."""
    base = st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)

    def forms(v: list[int]) -> st.SearchStrategy[Drawn]:
        t = torch.tensor(v)
        out = [good("tensor", t), good("list", v, t), good("int32", t.int(), t), good("tuple", tuple(v), t)]
        if numpy_ok:
            out.append(good("numpy", np.array(v), t))
        out += [bad("float", t.float()), bad("one-hot", F.one_hot(t, classes)), bad("bool", t > 0),
                (bad if bounded else good)(f"label {classes}", torch.tensor([*v[:-1], classes])),
                (good if padding else bad)("label -1", torch.tensor([*v[:-1], -1])),
                bad("one short", t[:-1]), bad("2D", t[None]), bad("'y'", "y")]
        return st.sampled_from(out)

    return base.flatmap(forms)


# ---------------------------------------------------------------------------------------
# settings

spec("settings.quick_mode", settings.quick_mode, args={"$CONVNETS_QUICK": env_texts(settings._TRUE | settings._FALSE)},
     check=lambda kw, r: _assert(r == (kw["$CONVNETS_QUICK"].strip().lower() in settings._TRUE), r))
spec("settings.online", settings.online, args={"$CONVNETS_ONLINE": env_texts(settings._TRUE | settings._FALSE)},
     check=lambda kw, r: _assert(r == (kw["$CONVNETS_ONLINE"].strip().lower() in settings._TRUE), r))
spec("settings.mode_name", settings.mode_name, args={"$CONVNETS_QUICK": env_texts(settings._TRUE | settings._FALSE)},
     check=lambda kw, r: _assert(r == ("quick" if kw["$CONVNETS_QUICK"].strip().lower() in settings._TRUE else "full"), r))
spec("settings.pick", settings.pick, {"quick": 1, "full": 2},
     {"quick": st.one_of(st.integers(), st.text()).map(lambda v: good(repr(v), v))}, env={"CONVNETS_QUICK": "1"},
     check=lambda kw, r: _assert(r == kw["quick"], r))


def _assert(ok: bool, *what) -> None:
    assert ok, what


spec("settings.require_online", settings.require_online, {"what": "test data", "host": "localhost"},
     {"what": st.one_of(st.text(min_size=1, max_size=8).map(lambda s: good(repr(s), s)), fixed(bad("''", ""), bad("3", 3))),
      "host": st.one_of(st.text(min_size=1, max_size=8).map(lambda s: good(repr(s), s)), fixed(bad("''", ""), bad("None", None))),
      "timeout": numbers(0, low_open=True, practical=(0.01, 5))}, env=OFFLINE)


def _network_timeout(seconds):
    import socket

    with settings.network_timeout(seconds):
        return socket.getdefaulttimeout()


spec("settings.network_timeout", _network_timeout, {"seconds": 1.0}, {"seconds": numbers(0, low_open=True, practical=(0.01, 100))},
     check=lambda kw, r: _assert(math.isclose(r, float(kw["seconds"]), rel_tol=1e-6), r))
spec("settings.cache_root", settings.cache_root,
     args={"$CONVNETS_CACHE": folder_texts().filter(lambda s: "\x00" not in s).map(lambda s: good(repr(s), s))},
     check=lambda kw, r: _assert(isinstance(r, Path), r))


def _cache_parts(parts):
    return settings.cache_dir(*parts)


def _part_ok(p) -> bool:
    return (isinstance(p, str) and p != "" and "\x00" not in p and not Path(p).is_absolute() and ".." not in Path(p).parts
            and all(len(x.encode()) < 200 for x in p.split("/")))


spec("settings.cache_dir", _cache_parts, {"parts": ("x",)},
     {"parts": st.lists(st.one_of(folder_texts(), st.sampled_from(["..", "/abs", "a/../..", "a/b"]),
                                  st.sampled_from([3, None, b"x"])), max_size=2)
      .map(lambda ps: Drawn(repr(tuple(ps)), tuple(ps), all(_part_ok(p) for p in ps)))},
     env={"CONVNETS_CACHE": str(SCRATCH / "cache_dir")},
     check=lambda kw, r: _assert(r.is_dir() and str(r).startswith(str(SCRATCH / "cache_dir")), r))
spec("settings.get_device", settings.get_device, {"prefer": None},
     {"prefer": fixed(good("None", None), good("'cpu'", "cpu"), good("torch.device('cpu')", torch.device("cpu"), "cpu"),
                      good("'cpu:0'", "cpu:0"), *(
                          [good("'cuda'", "cuda")] if torch.cuda.is_available() else [bad("'cuda'", "cuda")]),
                      bad("'banana'", "banana"), bad("'cpu:1'", "cpu:1"), bad("3", 3), bad("'cuda:99'", "cuda:99"),
                      bad("'gpu'", "gpu"), bad("['cpu']", ["cpu"]), bad("'meta'", "meta")),
      "$CONVNETS_DEVICE": fixed(good("''", ""), good("'cpu'", "cpu"), bad("'banana'", "banana"), bad("'cpu:2'", "cpu:2"))},
     names={"prefer": ("CONVNETS_DEVICE",)},
     check=lambda kw, r: _assert(isinstance(r, torch.device), r))


def _seed(seed, deterministic):
    g = settings.seed_everything(seed, deterministic)
    return g.initial_seed(), torch.initial_seed()


spec("settings.seed_everything", _seed, {"seed": 0, "deterministic": True},
     {"seed": ints(0, 2**63 - 1, practical=(0, 2**62)), "deterministic": flags()},
     check=lambda kw, r: _assert(r == (kw["seed"], kw["seed"]), r, kw["seed"]))
spec("settings.environment_report", settings.environment_report,
     args={"$CONVNETS_DEVICE": fixed(good("''", ""), good("'cpu'", "cpu"), bad("'banana'", "banana"))},
     check=lambda kw, r: _assert(all(isinstance(v, str) for v in r.values()), r))

# ---------------------------------------------------------------------------------------
# data


@cache
def _manifest_names() -> tuple[str, ...]:
    return tuple(sorted(data._manifest()))


spec("data.data_dir", data.data_dir, check=lambda kw, r: _assert((r / "manifest.json").is_file(), r))
spec("data.verified_path", data.verified_path, {"rel": "animal_mnist.npz"},
     {"rel": st.one_of(st.sampled_from(_manifest_names()).flatmap(
         lambda n: st.sampled_from([good(repr(n), n), good(f"Path({n!r})", Path(n), n)])),
         folder_texts().filter(lambda s: s not in _manifest_names()).map(lambda s: bad(repr(s), s)),
         fixed(bad("3", 3), bad("None", None), bad("'../data/animal_mnist.npz'", "../data/animal_mnist.npz")))},
     check=lambda kw, r: _assert(r.is_file() and r.as_posix().endswith(str(kw["rel"])), r))
spec("data.class_names", data.class_names, {"name": "animals"}, {"name": choices(tuple(data.DATASETS), ("cifar",))},
     check=lambda kw, r: _assert(len(r) == 10 and all(isinstance(c, str) for c in r), r))


def _check_tensors(kw, r) -> None:
    x, y = r
    n_classes = len(kw["classes"]) if kw.get("classes") is not None else 10
    assert x.dtype == torch.float32 and x.ndim == 4 and x.shape[1:] == (1, 28, 28), x.shape
    assert 0 <= float(x.min()) and float(x.max()) <= 1
    assert y.dtype == torch.int64 and y.shape == (len(x),) and (len(y) == 0 or 0 <= int(y.min()) <= int(y.max()) < n_classes)
    if kw.get("limit") is not None:
        assert len(x) <= kw["limit"]
    if kw.get("per_class") is not None and kw.get("limit") is None:
        assert torch.bincount(y, minlength=n_classes).tolist() == [kw["per_class"]] * n_classes


CLASS_LISTS = sequences(ints(0, 9, practical=(0, 9), bad_types=False), 1, 4, unique=True,
                        extra_bad=(bad("[]", []), bad("'cat'", "cat"), bad("[2.5]", [2.5]), bad("[True, 2]", [True, 2]),
                                   bad("[2, 2]", [2, 2]), bad("[11]", [11])))
spec("data.load_tensors", data.load_tensors, {"name": "animals", "split": "val", "limit": 20},
     {"name": choices(tuple(data.DATASETS)), "split": choices(data.SPLITS), "classes": optional(CLASS_LISTS),
      "limit": optional(ints(1, practical=(1, 30))), "per_class": optional(ints(1, practical=(1, 3))),
      "seed": ints(0, practical=(0, 2**31))}, check=_check_tensors, examples=20)
spec("data.load_dataset", lambda name, split, limit: data.load_dataset(name, split, limit=limit),
     {"name": "mnist", "split": "val", "limit": 5},
     {"name": choices(tuple(data.DATASETS)), "split": choices(data.SPLITS), "limit": optional(ints(1, practical=(1, 30)))},
     check=lambda kw, r: _assert(len(r) <= (kw["limit"] or 10**6) and r[0][0].shape == (1, 28, 28), len(r)), examples=10)
spec("data.load_mnist1d", data.load_mnist1d, {"split": "train"},
     {"split": choices(("train", "test"), ("val",)), "shuffle_seq": flags()},
     check=lambda kw, r: _assert(r[0].shape[1:] == (1, 40) and len(r[0]) == len(r[1]), r[0].shape), examples=10)
spec("data.mnist1d_templates", data.mnist1d_templates, check=lambda kw, r: _assert(r.shape == (10, 12), r.shape))
spec("data.load_co2", data.load_co2, check=lambda kw, r: _assert(len(r.date) == len(r.values) == len(r.measured), r))


def _pairs(n_max: int = 12) -> st.SearchStrategy[Drawn]:
    """Datasets for make_loader: (x, y) as tensors or NumPy arrays, lists of pairs; and broken pairs."""

    @st.composite
    def draw(d) -> Drawn:
        n = d(st.integers(1, n_max))
        seed = d(st.integers(0, 2**16))
        x = torch.rand(n, 1, 3, 3, generator=torch.Generator().manual_seed(seed))
        y = torch.arange(n) % 3
        form = d(st.sampled_from(["tensors", "numpy", "numpy float32", "numpy int32 labels", "float labels",
                                  "list of pairs", "TensorDataset", "[x, y] list", "(x, y[:-1])", "(x,)", "(x, y, y)",
                                  "(x, 'y')", "empty", "x only", "(x list, y)"]))
        from torch.utils.data import TensorDataset

        out = {"tensors": good, "float labels": good}.get(form)
        if form == "tensors":
            return good("(x, y)", (x, y))
        if form == "numpy":
            return good("(x, y) NumPy float64/int64", (x.double().numpy(), y.numpy()), (x, y))
        if form == "numpy float32":
            return good("(x, y) NumPy float32", (x.numpy(), y.numpy()), (x, y))
        if form == "numpy int32 labels":
            return good("(x, y int32) NumPy", (x.numpy(), y.int().numpy()), (x, y))
        if form == "float labels":
            return good("(x, y float)", (x, y.float()))
        if form == "list of pairs":
            return good("a list of (x, y) pairs", list(zip(x, y.tolist())))
        if form == "TensorDataset":
            return good("TensorDataset", TensorDataset(x, y))
        del out
        if form == "x only":
            return good("x only (a dataset of inputs)", x)
        return bad(form, {"[x, y] list": [x, y], "(x, y[:-1])": (x, y[:-1]), "(x,)": (x,), "(x, y, y)": (x, y, y),
                          "(x, 'y')": (x, "y"), "empty": (x[:0], y[:0]), "(x list, y)": (list(x), y)}[form])

    return st.one_of(draw(), fixed(bad("3", 3), bad("'mnist'", "mnist"), bad("None", None)))


def _make_loader(dataset, batch_size, shuffle, seed):
    loader = data.make_loader(dataset, batch_size=batch_size, shuffle=shuffle, seed=seed)
    return [tuple(b) if isinstance(b, (list, tuple)) else b for b in loader]


def _check_loader(kw, batches) -> None:
    ds = kw["dataset"]
    n = len(ds[0]) if isinstance(ds, tuple) else len(ds)
    sizes = [len(b if isinstance(b, torch.Tensor) else b[0]) for b in batches]
    assert sum(sizes) == n, "every example once per pass"
    assert all(size <= kw["batch_size"] for size in sizes)
    if isinstance(ds, tuple) and not kw["shuffle"]:
        assert torch.equal(torch.cat([b[0] for b in batches]), ds[0]), "order kept without shuffle"
        assert torch.equal(torch.cat([b[1] for b in batches]), ds[1])


spec("data.make_loader", _make_loader, {"dataset": Lazy(B.xy), "batch_size": 8, "shuffle": False, "seed": None},
     {"dataset": _pairs(), "batch_size": ints(1, practical=(1, 20)), "shuffle": flags(),
      "seed": optional(ints(0, practical=(0, 2**31)))}, check=_check_loader)


def _check_image(kw, r) -> None:
    assert r.dtype == torch.float32 and r.ndim == 3 and r.shape[0] == (1 if kw.get("gray") else 3), r.shape
    assert 0 <= float(r.min()) and float(r.max()) <= 1
    if kw.get("size") is not None:
        assert min(r.shape[1:]) == kw["size"], r.shape


spec("data.load_photo", data.load_photo, {"name": "chelsea", "size": 16},
     {"name": choices(data.PHOTOS, ("cat",)), "size": optional(ints(1, 4096, practical=(1, 48))), "gray": flags()},
     check=_check_image, examples=15)


def _png_file() -> str:
    path = SCRATCH / "photo.png"
    if not path.exists():
        path.write_bytes(B._png_bytes())
    return str(path)


def _text_file() -> str:
    path = SCRATCH / "notes.txt"
    path.write_text("not an image")
    return str(path)


PATHS = st.one_of(fixed(good("a PNG file", Lazy(_png_file, "a PNG file")),
                        good("Path(a PNG file)", Lazy(lambda: Path(_png_file()), "Path(a PNG file)")),
                        bad("a folder", str(SCRATCH)), bad("a text file", Lazy(_text_file, "a text file")),
                        bad("None", None), bad("3", 3), bad("''", ""), bad("b'x.png'", b"x.png")),
                  folder_texts().map(lambda s: bad(f"missing {s!r}", str(SCRATCH / "missing" / s.replace("/", "_")))))
spec("data.load_image_file", data.load_image_file, {"path": Lazy(_png_file), "size": None},
     {"path": PATHS, "size": optional(ints(1, 4096, practical=(1, 32))), "gray": flags()}, check=_check_image, examples=15)
SOURCES = fixed(good("BytesIO(png)", Lazy(lambda: io.BytesIO(B._png_bytes()), "BytesIO(png)")),
                good("a PNG path", Lazy(lambda: Path(_png_file()), "a PNG path")),
                bad("BytesIO(garbage)", Lazy(lambda: io.BytesIO(b"garbage"), "BytesIO(garbage)")),
                bad("BytesIO(b'')", Lazy(lambda: io.BytesIO(b""), "BytesIO(b'')")), bad("3", 3), bad("None", None),
                bad("png bytes", Lazy(B._png_bytes, "png bytes")), bad("a folder", Lazy(lambda: SCRATCH, "a folder")),
                bad("a missing path", str(SCRATCH / "nope.png")))
spec("data.read_image", data.read_image, {"source": Lazy(lambda: io.BytesIO(B._png_bytes()))},
     {"source": SOURCES, "size": optional(ints(1, 4096, practical=(1, 32))), "gray": flags()}, check=_check_image,
     names={"source": ("the source",)})
ROOTS = fixed(good("an empty folder", Lazy(lambda: tempfile.mkdtemp(dir=SCRATCH), "an empty folder")),
              good("Path(empty folder)", Lazy(lambda: Path(tempfile.mkdtemp(dir=SCRATCH)), "Path(empty folder)")),
              bad("3", 3), bad("b'x'", b"x"), bad("a file", Lazy(_text_file, "a file")))
spec("data.load_cifar10", data.load_cifar10, {"split": "test", "root": Lazy(lambda: tempfile.mkdtemp(dir=SCRATCH))},
     {"split": choices(("train", "test"), ("val",)), "root": ROOTS}, env=OFFLINE, examples=10)
spec("data.load_pets_cats_vs_dogs", data.load_pets_cats_vs_dogs,
     {"split": "test", "root": Lazy(lambda: tempfile.mkdtemp(dir=SCRATCH))},
     {"split": choices(("trainval", "test"), ("train",)), "size": ints(1, 4096, practical=(1, 64)), "root": ROOTS},
     env=OFFLINE, examples=10)

# ---------------------------------------------------------------------------------------
# train


def _history(**lists):
    return train.History(**lists).best_epoch()


LOSS_LISTS = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=0, max_size=4)
    .map(lambda v: good(repr(v), v)),
    fixed(bad("'abc'", "abc"), bad("None", None), bad("3", 3), bad("['a']", ["a"]), bad("{1: 2.0}", {1: 2.0})))


def _check_best(kw, r) -> None:
    losses = kw.get("val_loss") or kw["train_loss"]
    finite = [v for v in losses if math.isfinite(v)]
    assert finite, "no finite loss, yet a best epoch"
    assert losses[r - 1] == min(finite), f"epoch {r} has loss {losses[r - 1]}, the lowest is {min(finite)}"


spec("train.History", _history, {"train_loss": [1.0, 0.5], "val_loss": [0.9, 0.7]},
     {"train_loss": LOSS_LISTS, "val_loss": LOSS_LISTS}, check=_check_best)


def _fit(model, train_loader, epochs=1, lr=1e-3, optimizer=None, loss_fn=None, scheduler=None, device="cpu",
         progress=False, verbose=False):
    if callable(optimizer) and getattr(optimizer, "of_model", False):
        optimizer = optimizer(model)
    if callable(scheduler) and getattr(scheduler, "of_model", False):
        optimizer, scheduler = scheduler(model)
    history = train.fit(model, train_loader, epochs=epochs, lr=lr, optimizer=optimizer, loss_fn=loss_fn,
                        scheduler=scheduler, device=device, progress=progress, verbose=verbose)
    return history


def of_model(make):
    make.of_model = True
    return make


def _sched(model):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    return opt, torch.optim.lr_scheduler.StepLR(opt, 1)


def _other_sched(model):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    other = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    return opt, torch.optim.lr_scheduler.StepLR(other, 1)


LOADERS = fixed(good("a loader", Lazy(B.loader, "a loader")),
                good("a list of (x, y) batches", Lazy(lambda: [B.xy()], "a list of (x, y) batches")),
                bad("(x, y)", Lazy(B.xy, "(x, y)")), bad("a tensor", Lazy(lambda: B.xy()[0], "a tensor")),
                bad("None", None), bad("[]", []), bad("float labels", Lazy(lambda: B.loader(y=B.xy()[1].float()), "float labels")),
                bad("labels out of range", Lazy(lambda: B.loader(y=B.xy()[1] + 10), "labels + 10")),
                bad("NaN images", Lazy(lambda: B.loader(x=torch.full((32, 1, 8, 8), math.nan)), "NaN images")),
                bad("one-hot labels", Lazy(lambda: B.loader(y=F.one_hot(B.xy()[1], 10)), "one-hot labels")))
spec("train.fit", _fit, {"model": Lazy(B.fresh_cnn), "train_loader": Lazy(B.loader)},
     {"model": modules(cnn=B.fresh_cnn), "train_loader": LOADERS, "epochs": ints(1, practical=(1, 2)),
      "lr": numbers(0, low_open=True, practical=(1e-5, 1.0)),
      "optimizer": fixed(good("None", None), good("SGD(model)", of_model(lambda m: torch.optim.SGD(m.parameters(), lr=0.1))),
                         bad("'adam'", "adam"), bad("the class Adam", torch.optim.Adam),
                         bad("SGD(other parameters)", of_model(lambda m: torch.optim.SGD(nn.Linear(2, 2).parameters(), 0.1)))),
      "loss_fn": fixed(good("None", None), good("CrossEntropyLoss()", Lazy(nn.CrossEntropyLoss, "CrossEntropyLoss()")),
                       good("F.cross_entropy", F.cross_entropy), bad("the class CrossEntropyLoss", nn.CrossEntropyLoss),
                       bad("'ce'", "ce"), bad("reduction='none'", Lazy(lambda: nn.CrossEntropyLoss(reduction="none"), "none"))),
      "scheduler": fixed(good("None", None), good("StepLR(optimizer)", of_model(_sched)), bad("the class StepLR",
                                                                                           torch.optim.lr_scheduler.StepLR),
                         bad("'cosine'", "cosine"), bad("3", 3), bad("StepLR(another optimizer)", of_model(_other_sched))),
      "device": fixed(good("'cpu'", "cpu"), good("torch.device('cpu')", torch.device("cpu"), "cpu"), bad("'banana'", "banana"),
                      bad("3", 3)),
      "progress": flags(), "verbose": flags()},
     names={"train_loader": ("train loader",)},
     check=lambda kw, r: _assert(r.epochs == kw.get("epochs", 1) and all(map(math.isfinite, r.train_loss)), r),
     examples=15)


def _check_evaluate(kw, r) -> None:
    loss, acc = r
    assert math.isfinite(loss) and 0 <= acc <= 1, r


spec("train.evaluate", train.evaluate, {"model": Lazy(B.tiny_cnn), "loader": Lazy(B.loader)},
     {"model": modules(cnn=B.tiny_cnn), "loader": LOADERS,
      "loss_fn": fixed(good("None", None), bad("the class CrossEntropyLoss", nn.CrossEntropyLoss), bad("'ce'", "ce")),
      "device": fixed(good("'cpu'", "cpu"), bad("'banana'", "banana"))}, check=_check_evaluate, examples=15)
MODEL_INPUT = frozenset({"numpy", "float64", "float16", "x255", "negative", "empty_batch_ok"})


def _batches(c: int = 1, side: int | tuple[int, int] = 8) -> st.SearchStrategy[torch.Tensor]:
    return uniform((1, 4), c, side, side)


def _check_predict(kw, r) -> None:
    x = kw["x"]
    ref = B.tiny_cnn()(x.float())
    assert torch.allclose(r, ref, atol=1e-5), "logits differ from model(x)"


spec("train.predict", train.predict, {"model": Lazy(B.tiny_cnn), "x": Lazy(lambda: B.xy()[0])},
     {"model": modules(cnn=B.tiny_cnn),
      "x": tensors(_batches(), {"numpy", "float64", "float16", "x255", "negative", "huge"}),
      "batch_size": ints(1, practical=(1, 8)), "device": fixed(good("'cpu'", "cpu"), bad("'banana'", "banana"))},
     check=_check_predict)


def _logits_plain(v):
    if isinstance(v, np.ndarray):
        v = torch.from_numpy(v)
    if not isinstance(v, torch.Tensor) or v.ndim != 2 or v.shape != (6, 3) or v.is_complex() or v.dtype == torch.bool:
        return None
    if v.is_floating_point() and not torch.isfinite(v).all():
        return None
    return v.detach()


spec("train.accuracy", train.accuracy, {"logits": Lazy(lambda: torch.randn(6, 3)), "y": torch.tensor([0, 1, 2, 0, 1, 2])},
     {"logits": tensors(normal(6, 3), accept=_logits_plain), "y": labels_of(6, 3)},
     check=lambda kw, r: _assert(math.isclose(r, (torch.as_tensor(kw["logits"]).argmax(1) == torch.as_tensor(kw["y"])
                                                  ).float().mean().item()), r))

# ---------------------------------------------------------------------------------------
# plots


def _shown(fig) -> int:
    return sum(len(ax.images) for ax in fig.axes)


TITLES4 = st.one_of(st.lists(st.text(max_size=5), min_size=4, max_size=4).map(lambda v: good(repr(v), v)),
                    fixed(bad("'abcd'", "abcd"), bad("2 for 4", ["a", "b"]), bad("3", 3)))
def _shown_images_plain(v):
    """show_images' forms: an image, a batch, or a stack of gray images (N, H, W) when no axis is 1 or 3 wide."""
    if isinstance(v, np.ndarray) and v.dtype.kind in "fub":
        v = torch.from_numpy(v)
    if isinstance(v, torch.Tensor) and v.ndim == 2:
        v = v[None]
    elif isinstance(v, torch.Tensor) and v.ndim == 3 and v.shape[0] not in (1, 3) and v.shape[-1] not in (1, 3):
        v = v[:, None]
    out = image_plain(v, None)
    return None if out is None else (out if out.ndim == 4 else out[None])


spec("plots.show_images", plots.show_images, {"images": Lazy(lambda: torch.rand(4, 1, 8, 8))},
     {"images": st.one_of(images(None, n=4).map(lambda d: d if d.legit or d.value is None or _shown_images_plain(d.value) is None
                                                  else Drawn(d.label, d.value, True, SAME))),
      "labels": optional(labels_of(4, 10, bounded=False)),  # no class_names: any label >= 0 is a title
      "ncols": ints(1, practical=(1, 10)), "size": numbers(0, low_open=True, practical=(0.3, 3)),
      "normalize": flags(), "cmap": choices(("gray", "viridis")), "titles": optional(TITLES4)},
     check=lambda kw, r: _assert(_shown(r) == len(_shown_images_plain(kw["images"])), _shown(r)), examples=10)


def _hist(epochs: int, val: bool = True):
    g = torch.Generator().manual_seed(epochs)
    v = lambda: torch.rand(epochs, generator=g).tolist()  # noqa: E731
    return train.History(v(), v(), v() if val else [], v() if val else [])


HISTORIES = fixed(good("History(3 epochs)", Lazy(lambda: _hist(3), "History(3)")),
                  good("History(1 epoch, no val)", Lazy(lambda: _hist(1, False), "History(1)")),
                  good("{'a': History, 'b': History}", Lazy(lambda: {"a": _hist(2), "b": _hist(3)}, "two runs")),
                  bad("'h'", "h"), bad("None", None), bad("{}", {}), bad("History()", Lazy(train.History, "History()")),
                  bad("{'a': 3}", {"a": 3}), bad("val shorter", Lazy(lambda: train.History([1.0, 0.5], [0.5, 0.7], [0.9], [0.6]),
                                                                      "val shorter")),
                  bad("[History]", Lazy(lambda: [_hist(2)], "[History]")))
spec("plots.plot_history", plots.plot_history, {"history": Lazy(lambda: _hist(2))}, {"history": HISTORIES},
     check=lambda kw, r: _assert(len(r.axes) == 2, r), examples=10)


def _check_cm(kw, r) -> None:
    yt, yp, k = (torch.as_tensor(np.asarray(kw[a])) for a in ("y_true", "y_pred", "num_classes"))
    ref = torch.zeros(int(k), int(k), dtype=torch.long)
    for a, b in zip(yt.tolist(), yp.tolist()):
        ref[a, b] += 1
    assert torch.equal(r, ref), (r, ref)


spec("plots.confusion_matrix", plots.confusion_matrix, {"y_true": [0, 1, 2, 0, 1, 2], "y_pred": [0, 1, 1, 0, 2, 2],
                                                        "num_classes": 3},
     {"y_true": labels_of(6, 3), "y_pred": labels_of(6, 3), "num_classes": ints(1, practical=(1, 6))}, check=_check_cm)
NAMES3 = st.one_of(st.lists(st.text(min_size=1, max_size=4), min_size=3, max_size=3).map(lambda v: good(repr(v), v)),
                   fixed(bad("'cdx'", "cdx"), bad("[]", []), bad("None", None), bad("3", 3), bad("2 names", ["a", "b"])))
spec("plots.plot_confusion_matrix", plots.plot_confusion_matrix,
     {"y_true": [0, 1, 2, 0, 1, 2], "y_pred": [0, 1, 1, 0, 2, 2], "class_names": ["a", "b", "c"]},
     {"y_true": labels_of(6, 3), "y_pred": labels_of(6, 3), "class_names": NAMES3},
     check=lambda kw, r: _assert(len(r.axes) == 1, r), examples=10)


def _weight_plain(v):
    if isinstance(v, nn.Conv2d):
        v = v.weight
    if isinstance(v, np.ndarray):
        v = torch.from_numpy(v)
    if not isinstance(v, torch.Tensor) or v.ndim != 4 or v.numel() == 0 or not v.is_floating_point():
        return None
    return v.detach().float() if torch.isfinite(v).all() else None


spec("plots.show_filters", plots.show_filters, {"weight": Lazy(lambda: torch.randn(4, 1, 3, 3))},
     {"weight": st.one_of(tensors(normal((1, 6), (1, 3), 3, 3),
                                  accept=_weight_plain),
                          fixed(good("a Conv2d layer", Lazy(lambda: nn.Conv2d(3, 4, 3), "Conv2d(3, 4, 3)")),
                                bad("a Linear layer", Lazy(lambda: nn.Linear(2, 2), "Linear(2, 2)")))),
      "ncols": ints(1, practical=(1, 10))},
     check=lambda kw, r: _assert(_shown(r) == len(_weight_plain(kw["weight"])), _shown(r)), examples=6)


def _maps_plain(v):
    if isinstance(v, np.ndarray):
        v = torch.from_numpy(v)
    if not isinstance(v, torch.Tensor) or v.ndim not in (3, 4) or (v.ndim == 4 and v.shape[0] != 1):
        return None
    if v.numel() == 0 or v.is_complex() or (v.is_floating_point() and not torch.isfinite(v).all()):
        return None
    return v.detach()


spec("plots.show_feature_maps", plots.show_feature_maps, {"maps": Lazy(lambda: torch.rand(1, 6, 5, 5))},
     {"maps": tensors(uniform((1, 1), (1, 6), (2, 6), (2, 6)), accept=_maps_plain),
      "limit": ints(1, practical=(1, 40)), "ncols": ints(1, practical=(1, 10))},
     check=lambda kw, r: _assert(_shown(r) == min(kw.get("limit", 32), _maps_plain(kw["maps"]).shape[-3]), _shown(r)),
     examples=10)

# ---------------------------------------------------------------------------------------
# shapes: PyTorch's own layers are the reference


def _torch_out(make, x) -> tuple[int, ...] | None:
    try:
        with torch.no_grad():
            return tuple(make()(x).shape)
    except (RuntimeError, ValueError, TypeError):
        return None


def _conv1d_len(kw) -> int | None:
    out = _torch_out(lambda: nn.Conv1d(1, 1, kw["kernel_size"], kw.get("stride", 1), kw.get("padding", 0),
                                       kw.get("dilation", 1)), torch.zeros(1, 1, kw["size"]))
    return out[-1] if out else None


SMALL = dict(practical=(0, 12))
spec("shapes.conv_output_size", shapes.conv_output_size, {"size": 28, "kernel_size": 3},
     {"size": ints(1, practical=(1, 40)), "kernel_size": ints(1, practical=(1, 12)), "stride": ints(1, practical=(1, 5)),
      "padding": ints(0, **SMALL), "dilation": ints(1, practical=(1, 4))},
     check=lambda kw, r: _assert(r == _conv1d_len(kw), r, _conv1d_len(kw)),
     refuses=lambda kw: _conv1d_len(kw) is None, examples=40)


def _convt_len(kw) -> int | None:
    try:
        layer = nn.ConvTranspose1d(1, 1, kw["kernel_size"], kw.get("stride", 1), kw.get("padding", 0),
                                   kw.get("output_padding", 0), dilation=kw.get("dilation", 1))
    except (RuntimeError, ValueError):
        return None
    out = _torch_out(lambda: layer, torch.zeros(1, 1, kw["size"]))
    return out[-1] if out else None


spec("shapes.conv_transpose_output_size", shapes.conv_transpose_output_size, {"size": 7, "kernel_size": 3, "stride": 2},
     {"size": ints(1, practical=(1, 20)), "kernel_size": ints(1, practical=(1, 6)), "stride": ints(1, practical=(1, 4)),
      "padding": ints(0, practical=(0, 6)), "output_padding": ints(0, practical=(0, 4)),
      "dilation": ints(1, practical=(1, 3))},
     check=lambda kw, r: _assert(r == _convt_len(kw), r, _convt_len(kw)), refuses=lambda kw: _convt_len(kw) is None,
     examples=40)


def _tuple_of(n: int | tuple[int, int], element) -> st.SearchStrategy[Drawn]:
    lo, hi = (n, n) if isinstance(n, int) else n
    return sequences(element, lo, hi)


def _conv_shape(dims: int):
    def reference(kw) -> tuple[int, ...] | None:
        shape = tuple(kw["input_shape"])
        c = shape[-dims - 1]
        conv = nn.Conv1d if dims == 1 else nn.Conv2d
        try:
            layer = conv(c, kw["out_channels"], kw["kernel_size"], kw.get("stride", 1), kw.get("padding", 0),
                         kw.get("dilation", 1), kw.get("groups", 1))
        except (RuntimeError, ValueError, TypeError):
            return None
        return _torch_out(lambda: layer, torch.zeros(shape))
    return reference


SIDE = ints(1, practical=(1, 12), bad_types=False)
NOT_INTS = fixed(bad("True", True), bad("2.0", 2.0), bad("'3'", "3"), bad("None", None), bad("nan", math.nan))


def _conv_arg(dims: int, low: int, high: int) -> st.SearchStrategy[Drawn]:
    """An int or a dims-tuple of ints (as nn.Conv1d/nn.Conv2d take them)."""
    one = ints(low, practical=(low, high), bad_types=False)
    return st.one_of(one, _tuple_of(dims, one), NOT_INTS)


for dims, valid_shape in ((1, (3, 12)), (2, (1, 3, 12, 12))):
    def pair(dims=dims):
        return _conv_arg(dims, 1, 5)
    ref = _conv_shape(dims)
    spec(f"shapes.conv{dims}d_output_shape", getattr(shapes, f"conv{dims}d_output_shape"),
         {"input_shape": valid_shape, "out_channels": 4, "kernel_size": 3},
         {"input_shape": _tuple_of((dims + 1, dims + 2), SIDE), "out_channels": ints(1, practical=(1, 6)),
          "kernel_size": pair(), "stride": pair(),
          "padding": st.one_of(_conv_arg(dims, 0, 3), choices(("same", "valid"), ("full",), generic=False)),
          "dilation": ints(1, practical=(1, 3)), "groups": ints(1, practical=(1, 3))},
         check=lambda kw, r, ref=ref: _assert(r == ref(kw), r, ref(kw)), refuses=lambda kw, ref=ref: ref(kw) is None,
         examples=40)
NOT_SHAPES = (bad("a tensor", torch.zeros(1, 1, 8, 8)), bad("'1,1,8,8'", "1,1,8,8"), bad("(1, 1, 2.5, 8)", (1, 1, 2.5, 8)),
              bad("(1, 1, True, 8)", (1, 1, True, 8)))
SHAPES4 = sequences(ints(1, practical=(1, 20), bad_types=False), 4, 4, extra_bad=NOT_SHAPES)


def _trace_ref(kw):
    return _torch_out(B.conv_stack, torch.zeros(tuple(kw["input_shape"])))


spec("shapes.trace", shapes.trace, {"model": Lazy(B.conv_stack), "input_shape": (1, 1, 12, 12)},
     {"model": modules(stack=B.conv_stack), "input_shape": SHAPES4},
     check=lambda kw, r: _assert(r[-1].output_shape == _trace_ref(kw), r[-1].output_shape),
     refuses=lambda kw: _trace_ref(kw) is None if isinstance(kw["model"], nn.Sequential) else None)
spec("shapes.conv_input_cells", shapes.conv_input_cells, {"out_index": 1, "kernel_size": 3},
     {"out_index": ints(0, **SMALL), "kernel_size": ints(1, practical=(1, 6)), "stride": ints(1, practical=(1, 4)),
      "padding": ints(0, **SMALL), "dilation": ints(1, practical=(1, 3))},
     check=lambda kw, r: _assert(r == [kw["out_index"] * kw.get("stride", 1) - kw.get("padding", 0) + m * kw.get("dilation", 1)
                                       for m in range(kw["kernel_size"])], r))


@st.composite
def _stacks(d) -> Drawn:
    """Sequential conv/pool stacks PyTorch can build (2D), as receptive_field takes them."""
    layers = []
    for _ in range(d(st.integers(1, 3))):
        k, s, dil = d(st.integers(1, 4)), d(st.integers(1, 3)), d(st.integers(1, 2))
        kind = d(st.sampled_from(["conv", "max", "avg", "relu"]))
        p = d(st.integers(0, (dil * (k - 1) + 1) // 2))
        layers.append({"conv": nn.Conv2d, "max": nn.MaxPool2d}[kind](*([1, 1] if kind == "conv" else []), k, s, p, dil)
                      if kind in ("conv", "max") else nn.AvgPool2d(k, s, min(p, k // 2)) if kind == "avg" else nn.ReLU())
    return good(f"Sequential({', '.join(type(m).__name__ for m in layers)})", nn.Sequential(*layers))


def _rf_ref(kw):
    size = kw.get("input_size")
    if size is None:
        return None
    h, w = (size, size) if not isinstance(size, tuple) else size
    return _torch_out(lambda: kw["model"], torch.zeros(1, 1, h, w))


def _check_rf(kw, r) -> None:
    assert len(r) == len(B.shapes._leaf_layers(kw["model"])) + 1, len(r)
    ref = _rf_ref(kw)
    if ref is not None:
        assert r[-1].output_size == ref[-2:], (r[-1].output_size, ref)


spec("shapes.receptive_field", shapes.receptive_field, {"model": Lazy(B.conv_stack)},
     {"model": st.one_of(_stacks(), fixed(bad("'net'", "net"), bad("None", None), bad("with Flatten", Lazy(
         lambda: nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten()), "with Flatten")), bad("empty Sequential", Lazy(nn.Sequential, "Sequential()")))),
      "input_size": optional(st.one_of(ints(1, practical=(1, 24)), _tuple_of(2, ints(1, practical=(1, 24)))))},
     check=_check_rf, refuses=lambda kw: (_rf_ref(kw) is None) if kw.get("input_size") is not None else None)
spec("shapes.measure_receptive_field", shapes.measure_receptive_field, {"model": Lazy(B.conv_stack),
                                                                        "input_shape": (1, 1, 16, 16)},
     {"model": modules(stack=B.conv_stack), "input_shape": SHAPES4,
      "position": optional(_tuple_of(2, ints(0, practical=(0, 4))))},
     check=lambda kw, r: _assert(tuple(r.mask.shape) == tuple(kw["input_shape"][-2:]) and r.mask.any(), r),
     examples=15)


def _check_erf(kw, r) -> None:
    x = image_plain(kw["images"], True) if not isinstance(kw["images"], torch.Tensor) else kw["images"]
    assert r.shape == tuple(torch.as_tensor(x).shape[-2:]) and float(r.max()) <= 1 and float(r.min()) >= 0, r.shape


spec("shapes.effective_receptive_field", shapes.effective_receptive_field,
     {"model": Lazy(B.conv_stack), "images": Lazy(lambda: torch.rand(2, 1, 12, 12))},
     {"model": modules(stack=B.conv_stack),
      "images": tensors(uniform((1, 3), 1, (8, 14), (8, 14)), {"numpy", "float64", "float16", "x255", "negative", "huge"}),
      "position": optional(_tuple_of(2, ints(0, practical=(0, 2)))), "channel": optional(ints(0, practical=(0, 3)))},
     check=_check_erf, examples=20)

# ---------------------------------------------------------------------------------------
# pretrained (a small classifier stands in for the 4.7 M-parameter network where the function allows)


@cache
def _lite0_keys() -> tuple[str, ...]:
    return tuple(B._lite0_checkpoint())


@cache
def _timm_lite0_names() -> frozenset[str]:
    return frozenset(pretrained.efficientnet_lite0(pretrained=False).state_dict())


spec("pretrained.map_efficientnet_lite0_keys", pretrained.map_efficientnet_lite0_keys, {"name": "_fc.bias"},
     {"name": st.one_of(st.sampled_from(_lite0_keys()).map(lambda k: good(repr(k), k)),
                        st.text(max_size=12).map(lambda s: bad(repr(s), s)),
                        fixed(bad("3", 3), bad("None", None), bad("'_blocks.16._bn0.weight'", "_blocks.16._bn0.weight")))},
     check=lambda kw, r: _assert(r in _timm_lite0_names(), r))


def _broken_checkpoint(change: str) -> dict:
    ckpt = dict(B._lite0_checkpoint())
    key = next(k for k in sorted(ckpt) if ckpt[k].ndim >= 2)
    if change == "missing":
        del ckpt[key]
    elif change == "reshaped":
        ckpt[key] = ckpt[key].flatten()
    return ckpt


spec("pretrained.load_lite0_state_dict", pretrained.load_lite0_state_dict,
     {"model": Lazy(lambda: pretrained.efficientnet_lite0(pretrained=False)), "checkpoint": Lazy(B._lite0_checkpoint)},
     {"model": modules(lite0=lambda: pretrained.efficientnet_lite0(pretrained=False)),
      "checkpoint": fixed(good("the checkpoint", Lazy(B._lite0_checkpoint, "the checkpoint")), bad("'ckpt'", "ckpt"),
                          bad("None", None), bad("{}", {}), bad("{'x': tensor}", {"x": torch.zeros(1)}),
                          bad("a key missing", Lazy(lambda: _broken_checkpoint("missing"), "a key missing")),
                          bad("a tensor reshaped", Lazy(lambda: _broken_checkpoint("reshaped"), "a tensor reshaped")))},
     examples=4)
spec("pretrained.efficientnet_lite0", pretrained.efficientnet_lite0, {"pretrained": False},
     {"pretrained": flags(), "num_classes": ints(1, practical=(1, 1000))},
     check=lambda kw, r: _assert(r.classifier.out_features == kw.get("num_classes", 1000), r.classifier), examples=3)
spec("pretrained.resnet18", pretrained.resnet18, {"pretrained": False}, {"pretrained": flags()}, env=OFFLINE,
     check=lambda kw, r: _assert(r.fc.out_features == 1000, r.fc), examples=5)


def _stats_kind(std: bool = False) -> st.SearchStrategy[Drawn]:
    low = dict(low=0, low_open=True) if std else {}
    one = numbers(**low, practical=(0.05, 1.0))
    return st.one_of(_tuple_of(3, one), _tuple_of(1, one),
                     fixed(bad("2 values", (0.5, 0.5)), bad("'m'", "m"), bad("4 values", (1, 1, 1, 1)), bad("None", None)),
                     st.lists(st.floats(0.05, 1.0), min_size=3, max_size=3).map(
                         lambda v: good(f"tensor({v})", torch.tensor(v), tuple(float(np.float32(x)) for x in v))))


def _check_preprocess(kw, r) -> None:
    x = image_plain(kw["images"], None)
    n = 1 if x.ndim == 3 else len(x)
    size = kw.get("size", 224)
    assert r.shape == (n, 3, size, size), r.shape
    mean, std = (torch.tensor(list(kw.get(k, (0.5,))) * (3 // len(kw.get(k, (0.5,)))))[:, None, None]
                 for k in ("mean", "std"))
    back = r * std + mean
    assert float(back.min()) > -1e-3 and float(back.max()) < 1 + 1e-3, "normalisation not undone by x * std + mean"


spec("pretrained.preprocess", pretrained.preprocess, {"images": Lazy(lambda: torch.rand(2, 3, 12, 12)), "size": 16},
     {"images": images(None), "size": ints(1, 4096, practical=(1, 32)), "mean": _stats_kind(), "std": _stats_kind(True)},
     check=_check_preprocess)


def _small_classifier() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))


NAMES10 = [f"class {i}" for i in range(10)]


def _check_top_k(kw, r) -> None:
    k = kw.get("k", 5)
    for row in r:
        probs = [p for _, p in row]
        assert len(row) == k and probs == sorted(probs, reverse=True) and 0 <= sum(probs) <= 1 + 1e-5, row
        assert all(name in kw["class_names"] for name, _ in row), row


def _model_batch_plain(v, c=3):
    """A model input: float (N, c, H, W) (or one (c, H, W) image), NumPy converted; finite."""
    if isinstance(v, np.ndarray):
        v = torch.from_numpy(v)
    if not isinstance(v, torch.Tensor) or v.ndim not in (3, 4) or not v.is_floating_point():
        return None
    if v.shape[-3] != c or v.numel() == 0 or not torch.isfinite(v).all():
        return None
    return v.detach().float()


spec("pretrained.top_k", pretrained.top_k, {"model": Lazy(_small_classifier), "batch": Lazy(lambda: torch.randn(2, 3, 8, 8)),
                                            "k": 3, "class_names": NAMES10},
     {"model": modules(classifier=_small_classifier),
      "batch": tensors(normal((1, 3), 3, (4, 10), (4, 10)), accept=_model_batch_plain),
      "k": ints(1, 10, practical=(1, 10)),
      "class_names": st.one_of(fixed(good("10 names", NAMES10), good("a tuple of 10", tuple(NAMES10), NAMES10),
                                     bad("9 names", NAMES10[:9]), bad("'abc'", "abc"), bad("None (ImageNet's 1000)", None)))},
     check=_check_top_k)

# ---------------------------------------------------------------------------------------
# models

POS_INTS = ints(1, practical=(1, 6))


def _config_model(**fields):
    return models.classic_cnn(models.ClassicCNNConfig(**fields))


def _check_config_model(kw, model) -> None:
    cfg = models.ClassicCNNConfig(**kw)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert convs[0].in_channels == cfg.in_channels, convs[0]
    assert [c.out_channels for c in convs[::cfg.convs_per_stage]] == list(cfg.channels), "a stage's width"
    x = torch.zeros(2, cfg.in_channels, cfg.image_size, cfg.image_size)
    assert model.eval()(x).shape == (2, cfg.num_classes)


WIDTHS = sequences(ints(1, practical=(1, 6), bad_types=False), 1, 3,
                   extra_bad=(bad("32", 32), bad("()", ()), bad("(4, '8')", (4, "8")), bad("(4, True)", (4, True)),
                              bad("(4, 2.0)", (4, 2.0)), bad("(4, 0)", (4, 0)), bad("'32'", "32")))
spec("models.ClassicCNNConfig", _config_model, {"image_size": 8, "channels": (4,), "hidden": (8,)},
     {"in_channels": ints(1, practical=(1, 3)), "image_size": ints(1, practical=(1, 16)), "num_classes": POS_INTS,
      "channels": WIDTHS, "convs_per_stage": ints(1, practical=(1, 2)),
      "kernel_size": st.one_of(fixed(good("1", 1), good("3", 3), good("np.int64(3)", np.int64(3), 3), bad("2", 2), bad("4", 4)),
                               ints(1, practical=(1, 1))),
      "pool": choices(models.POOLS), "hidden": sequences(ints(1, practical=(1, 6), bad_types=False), 0, 2,
                                                           extra_bad=(bad("128", 128), bad("(8, -1)", (8, -1)))),
      "batch_norm": flags(),
      "dropout": numbers(0, 1, high_open=True, practical=(0, 0.9))},
     check=_check_config_model, examples=30)
spec("models.classic_cnn", models.classic_cnn, {"config": None},
     {"config": fixed(good("None", None), good("ClassicCNNConfig()", models.ClassicCNNConfig()), bad("'small'", "small"),
                      bad("{}", {}), bad("3", 3), bad("the class", models.ClassicCNNConfig))},
     check=lambda kw, r: _assert(r(torch.zeros(1, 1, 28, 28)).shape == (1, 10), r), examples=8)


@cache
def _small_cnn() -> nn.Module:
    torch.manual_seed(0)
    return models.classic_cnn(image_size=8, channels=(4,), hidden=(8,), num_classes=3).eval()


def _forward(model, x):
    with torch.no_grad():
        return model(x)


def _course_batch_plain(c: int, side: int | None):
    def plain(v):
        if not isinstance(v, torch.Tensor) or v.ndim != 4 or v.dtype != torch.float32 or v.shape[1] != c or 0 in v.shape[2:]:
            return None
        if side is not None and v.shape[-2:] != (side, side):
            return None
        return v.detach()
    return plain


spec("models.ClassicCNN forward", _forward, {"model": Lazy(_small_cnn), "x": Lazy(lambda: torch.rand(2, 1, 8, 8))},
     {"x": tensors(uniform((0, 3), 1, 8, 8), accept=_course_batch_plain(1, 8))},
     check=lambda kw, r: _assert(r.shape == (len(kw["x"]), 3), r.shape), names={"x": ("input",)})
spec("models.ResidualBlock", lambda c_in, c_out, stride=1, skip=True: models.ResidualBlock(c_in, c_out, stride, skip),
     {"c_in": 2, "c_out": 3},
     {"c_in": POS_INTS, "c_out": POS_INTS, "stride": ints(1, practical=(1, 3)), "skip": flags()},
     check=lambda kw, r: _assert(r.eval()(torch.zeros(1, kw["c_in"], 8, 8)).shape == (1, kw["c_out"], *(
         [math.ceil(8 / kw.get("stride", 1))] * 2)), r))


@cache
def _block() -> nn.Module:
    torch.manual_seed(0)
    return models.ResidualBlock(2, 3).eval()


spec("models.ResidualBlock forward", _forward, {"model": Lazy(_block), "x": Lazy(lambda: torch.rand(1, 2, 6, 6))},
     {"x": tensors(uniform((0, 3), 2, (1, 8), (1, 8)), accept=_course_batch_plain(2, None))},
     check=lambda kw, r: _assert(r.shape == (len(kw["x"]), 3, *kw["x"].shape[-2:]), r.shape), names={"x": ("input",)})
spec("models.count_params", models.count_params, {"model": Lazy(B.fresh_cnn)},
     {"model": modules(cnn=B.fresh_cnn, frozen=lambda: transfer.freeze(B.fresh_cnn())), "trainable_only": flags()},
     check=lambda kw, r: _assert(r == sum(p.numel() for p in kw["model"].parameters()
                                          if p.requires_grad or not kw.get("trainable_only")), r))


def _flop_ref(kw) -> int | None:
    from torch.utils.flop_counter import FlopCounterMode

    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            B.tiny_cnn().eval()(torch.zeros(tuple(kw["input_shape"])))
    except (RuntimeError, ValueError, TypeError):
        return None
    return counter.get_total_flops()


spec("models.count_flops", models.count_flops, {"model": Lazy(B.tiny_cnn), "input_shape": (1, 1, 8, 8)},
     {"model": modules(cnn=B.tiny_cnn), "input_shape": sequences(ints(1, practical=(1, 12), bad_types=False), 4, 4,
                                                                 extra_bad=(bad("8", 8), bad("'x'", "x"), bad("(1, 1, -8, 8)", (1, 1, -8, 8)),
                                                                            bad("(1, 1, 8.0, 8)", (1, 1, 8.0, 8))))},
     check=lambda kw, r: _assert(r == _flop_ref(kw), r, _flop_ref(kw)),
     refuses=lambda kw: _flop_ref(kw) is None if isinstance(kw["model"], nn.Sequential) else None)

# ---------------------------------------------------------------------------------------
# augment

PHOTO = Lazy(lambda: torch.rand(3, 12, 10), "a photo (3, 12, 10)")
TRANSFORMS = fixed(good("{'flip': lambda}", {"flip": lambda im: im.flip(-1)}),
                   good("{'flip': v2.RandomHorizontalFlip()}", Lazy(lambda: {"flip": __import__(
                       "torchvision.transforms.v2", fromlist=["x"]).RandomHorizontalFlip()}, "v2 flip")),
                   bad("{}", {}), bad("a list", [lambda im: im]), bad("{'x': 3}", {"x": 3}),
                   bad("{'x': the class v2.RandomHorizontalFlip}", Lazy(lambda: {"x": __import__(
                       "torchvision.transforms.v2", fromlist=["x"]).RandomHorizontalFlip}, "a class")),
                   bad("returns 5 channels", {"bad": lambda im: torch.rand(5, 8, 8)}))
spec("augment.gallery", augment.gallery, {"image": PHOTO, "transforms": {"flip": lambda im: im.flip(-1)}},
     {"image": images(False), "transforms": TRANSFORMS, "samples": ints(1, 20, practical=(1, 2)),
      "size": numbers(0, low_open=True, practical=(0.5, 2)), "seed": ints(0, 2**63 - 1, practical=(0, 2**62))},
     check=lambda kw, r: _assert(_shown(r) == len(kw["transforms"]) * (kw.get("samples", 1) + 1), _shown(r)), examples=8)


def _check_params(kw, r) -> None:
    x = image_plain(kw["image"], False)
    assert r.shape == x.shape and float(r.min()) >= 0 and float(r.max()) <= 1, r.shape
    others = {k: v for k, v in kw.items() if k not in ("image", "hflip")}
    if not others:
        assert torch.allclose(r, x.flip(-1) if kw.get("hflip") else x, atol=1e-6), "hflip"


spec("augment.apply_params", augment.apply_params, {"image": PHOTO},
     {"image": images(False), "angle": numbers(practical=(-360, 360)),
      "scale": numbers(0, low_open=True, practical=(0.1, 3)),
      "translate": _tuple_of(2, numbers(practical=(-20, 20))), "hflip": flags(),
      "brightness": numbers(0, practical=(0, 3)), "contrast": numbers(0, practical=(0, 3)),
      "saturation": numbers(0, practical=(0, 3)), "hue": numbers(-0.5, 0.5), "blur_sigma": numbers(0, practical=(0, 1.2)),
      "erase": numbers(0, 1)},
     check=_check_params, examples=40)
spec("augment.explorer", augment.explorer, {"image": PHOTO, "presets": {"a": {"angle": 10}}},
     {"image": images(False),
      "presets": fixed(good("None (the defaults)", None), good("{'a': {'hflip': True}}", {"a": {"hflip": True}}),
                       bad("{}", {}), bad("{'x': {'angel': 3}}", {"x": {"angel": 3}}), bad("{'x': 3}", {"x": 3}),
                       bad("a list", ["original"])),
      "size": numbers(0, low_open=True, practical=(0.5, 2))},
     check=lambda kw, r: _assert(_shown(r[0]) == len(kw["presets"] or augment.EXPLORER_PRESETS), r), examples=5)


def _batch_plain(v):
    """A batch (N, C, H, W) of floats for random_affine_batch: NumPy converted; not channels-last, finite."""
    if isinstance(v, np.ndarray):
        v = torch.from_numpy(v)
    if not isinstance(v, torch.Tensor) or v.ndim != 4 or v.dtype not in (torch.float32, torch.float64, torch.float16):
        return None
    if v.shape[1] not in (1, 3) and v.shape[-1] in (1, 3):
        return None
    if not torch.isfinite(v).all() or 0 in v.shape[1:]:
        return None
    return v.detach()


def _check_affine(kw, r) -> None:
    x = kw["x"]
    assert r.shape == x.shape and r.dtype == x.dtype, (r.shape, r.dtype)
    moved = any(k in kw for k in ("degrees", "translate", "scale"))
    if not moved:
        ref = x if not kw.get("hflip") else None
        if ref is not None:
            assert torch.allclose(r, x, atol=1e-5), "no transform asked for, yet the batch changed"
        else:
            assert all(torch.allclose(a, b, atol=1e-5) or torch.allclose(a, b.flip(-1), atol=1e-5) for a, b in zip(r, x))


spec("augment.random_affine_batch", augment.random_affine_batch, {"x": Lazy(lambda: torch.rand(3, 1, 8, 8))},
     {"x": tensors(uniform((1, 4), (1, 3), (2, 10), (2, 10)),
                   accept=_batch_plain),
      "degrees": numbers(0, practical=(0, 180)), "translate": numbers(0, practical=(0, 0.5)),
      "scale": st.one_of(st.tuples(st.floats(0.5, 1.0), st.floats(1.0, 1.5)).map(lambda p: good(repr(p), p)),
                         fixed(bad("(1,)", (1.0,)), bad("(1.2, 0.8)", (1.2, 0.8)), bad("(nan, 1)", (math.nan, 1.0)),
                               bad("0.9", 0.9), bad("(0, 1)", (0.0, 1.0)))),
      "hflip": flags(),
      "generator": fixed(good("None", None), good("a Generator", Lazy(lambda: torch.Generator().manual_seed(0), "Generator")),
                         bad("'g'", "g"), bad("42", 42))},
     check=_check_affine, examples=40)


def _augmented(loader, augment_fn):
    return list(augment.AugmentedLoader(loader, augment_fn))


spec("augment.AugmentedLoader", _augmented, {"loader": Lazy(B.loader), "augment_fn": lambda x: x},
     {"loader": fixed(good("a loader", Lazy(B.loader, "a loader")), bad("3", 3), bad("None", None), bad("a tensor", torch.zeros(2))),
      "augment_fn": fixed(good("identity", lambda x: x), good("shift", lambda x: augment.random_affine_batch(x, translate=0.1)),
                          bad("'flip'", "flip"), bad("None", None), bad("changes the shape", lambda x: x[:, :, :4]),
                          bad("returns a tuple", lambda x: (x, x)),
                          bad("the class v2.RandomHorizontalFlip", __import__("torchvision.transforms.v2",
                                                                             fromlist=["x"]).RandomHorizontalFlip))},
     names={"augment_fn": ("augment",)},
     check=lambda kw, r: _assert(len(r) == 2 and all(b[0].shape == (16, 1, 8, 8) for b in r), len(r)))


def _check_tta(kw, r) -> None:
    x = kw["x"]
    assert r.shape == (len(x), 10) and torch.allclose(r.sum(1), torch.ones(len(x)), atol=1e-5), r.shape
    if kw.get("views") is not None and len(kw["views"]) == 1:
        assert torch.allclose(r, B.tiny_cnn()(x.float()).softmax(1), atol=1e-5), "one identity view"


spec("augment.predict_tta", augment.predict_tta, {"model": Lazy(B.tiny_cnn), "x": Lazy(lambda: torch.rand(4, 1, 8, 8))},
     {"model": modules(cnn=B.tiny_cnn),
      "x": tensors(uniform((1, 4), 1, 8, 8), accept=lambda v: _model_batch_plain(v, 1) if getattr(v, "ndim", 0) == 4 else None),
      "views": fixed(good("None", None), good("[identity]", [lambda b: b]), good("(identity, flip)", (lambda b: b, lambda b: b.flip(-1))),
                     bad("[]", []), bad("[3]", [3]), bad("a function", lambda b: b), bad("'flip'", "flip")),
      "batch_size": ints(1, practical=(1, 8))},
     check=_check_tta)

# ---------------------------------------------------------------------------------------
# transfer

for name in ("freeze", "unfreeze"):
    flag = name == "unfreeze"
    spec(f"transfer.{name}", getattr(transfer, name), {"module": Lazy(B.fresh_cnn)}, {"module": modules(cnn=B.fresh_cnn)},
         check=lambda kw, r, flag=flag: _assert(r is kw["module"] and all(p.requires_grad == flag for p in r.parameters()), r))
spec("transfer.last_linear", transfer.last_linear, {"model": Lazy(B.fresh_cnn)},
     {"model": st.one_of(modules(cnn=B.fresh_cnn), fixed(bad("no Linear", Lazy(lambda: nn.Conv2d(1, 1, 1), "Conv2d"))))},
     check=lambda kw, r: _assert(r[1] is [m for m in kw["model"].modules() if isinstance(m, nn.Linear)][-1], r))


def _replace_head(model, num_classes):
    head = transfer.replace_head(model, num_classes)
    return head, model(torch.zeros(1, 1, 8, 8))


spec("transfer.replace_head", _replace_head, {"model": Lazy(B.fresh_cnn), "num_classes": 2},
     {"model": modules(cnn=B.fresh_cnn), "num_classes": ints(1, practical=(1, 50))},
     check=lambda kw, r: _assert(r[0].out_features == kw["num_classes"] and r[1].shape == (1, kw["num_classes"]), r))


@cache
def _pg_model():
    return B.fresh_cnn()


def _check_groups(kw, r) -> None:
    ids = [id(p) for g in r for p in g["params"]]
    assert len(ids) == len(set(ids)) and set(ids) == {id(p) for p in kw["model"].parameters() if p.requires_grad}


spec("transfer.param_groups", transfer.param_groups, {"model": Lazy(_pg_model), "head": Lazy(lambda: _pg_model()[-1]),
                                                      "backbone_lr": 1e-3, "head_lr": 1e-2},
     {"head": fixed(good("the last layer", Lazy(lambda: _pg_model()[-1], "model[-1]")), bad("None", None),
                    bad("another Linear", Lazy(lambda: nn.Linear(2, 2), "Linear(2, 2)")), bad("'fc'", "fc")),
      "backbone_lr": numbers(0, practical=(0, 1)), "head_lr": numbers(0, low_open=True, practical=(1e-5, 1))},
     check=_check_groups)


def _check_per_class(kw, r) -> None:
    y = torch.as_tensor(np.asarray(kw["y"]))[r]
    assert r.tolist() == sorted(set(r.tolist())) and torch.bincount(y).tolist() == [kw["per_class"]] * 4, r


spec("transfer.per_class_indices", transfer.per_class_indices, {"y": Lazy(lambda: torch.arange(20) % 4), "per_class": 2},
     {"y": st.just(torch.arange(20) % 4).flatmap(lambda t: fixed(
         good("tensor", t), good("numpy", t.numpy(), t), good("int32", t.int(), t), good("list", t.tolist(), t),
         bad("float", t.float()), bad("2D", t.reshape(4, 5)), bad("'y'", "y"), bad("empty", t[:0]), bad("bool", t > 1))),
      "per_class": ints(1, practical=(1, 6)), "seed": ints(0, practical=(0, 2**31))},
     check=_check_per_class)
spec("transfer.model_key", transfer.model_key, {"model": Lazy(B.fresh_cnn)}, {"model": modules(cnn=B.fresh_cnn)},
     check=lambda kw, r: _assert(isinstance(r, str) and len(r) == 16 and r == transfer.model_key(kw["model"]), r))


def _backbone() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def _gray_backbone() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def _check_features(kw, r) -> None:
    x = image_plain(kw["images"], True)
    ref = kw["model"].eval()(pretrained.preprocess(x, size=kw["size"], mean=kw.get("mean", (0.5,) * 3),
                                                   std=kw.get("std", (0.5,) * 3)))
    if hasattr(kw["model"], "forward_head"):
        return
    assert r.shape == ref.flatten(1).shape and torch.allclose(r, ref.flatten(1), atol=1e-4), "features differ"


spec("transfer.extract_features", transfer.extract_features,
     {"model": Lazy(_backbone), "images": Lazy(lambda: torch.rand(2, 3, 10, 10)), "size": 16, "cache": False, "verbose": False},
     {"model": st.one_of(modules(backbone=_backbone), fixed(bad("a backbone for 1 channel", Lazy(_gray_backbone, "1-channel")))),
      "images": images(True), "size": ints(8, 4096, practical=(8, 24)), "mean": _stats_kind(), "std": _stats_kind(True),
      "batch_size": ints(1, practical=(1, 4)), "cache": flags(), "verbose": flags(),
      "device": fixed(good("'cpu'", "cpu"), bad("'banana'", "banana"), bad("3", 3))},
     check=_check_features, examples=30)

# ---------------------------------------------------------------------------------------
# kernels


def _kernel_plain(v):
    if isinstance(v, (str, bytes)) or v is None:
        return None
    try:
        k = torch.as_tensor(np.asarray(v) if isinstance(v, list) else v)
    except (TypeError, ValueError, RuntimeError):
        return None
    if k.ndim != 2 or k.numel() == 0 or k.is_complex() or not torch.isfinite(k.double()).all():
        return None
    return k.detach().float()


KERNELS = st.one_of(tensors(normal((1, 4), (1, 4)), accept=_kernel_plain),
                    fixed(bad("'sharpen'", "sharpen"), bad("ragged", [[1, 2, 3], [1, 2]]),
                          good("a preset", kernels.preset("sharpen")), good("nested ints", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
                                                                            kernels.preset("sharpen"))))


def _any_channels_plain(v, ranks=(2, 3, 4)):
    """apply_kernel's images: any channel count; channels-last photos and NaN refused."""
    if isinstance(v, np.ndarray):
        if v.dtype.kind not in "fub":
            return None
        v = torch.from_numpy(v)
    if not isinstance(v, torch.Tensor) or v.ndim not in ranks or v.numel() == 0:
        return None
    if v.ndim >= 3 and v.shape[-1] in (1, 3) and v.shape[-3] not in (1, 3):
        return None  # looks channels-last: refused (the axes are ambiguous)
    if v.dtype == torch.uint8:
        return v.float() / 255
    if v.dtype == torch.bool:
        return v.float()
    if not v.is_floating_point() or not torch.isfinite(v).all():
        return None
    return v.detach().float()


def _check_apply_kernel(kw, r) -> None:
    x = _any_channels_plain(kw["image"])
    k = _kernel_plain(kw["kernel"])
    padding = kw.get("padding", "same")
    x4 = x.reshape(-1, *x.shape[-3:]) if x.ndim >= 3 else x[None, None]
    c = x4.shape[1]
    ref = F.conv2d(x4, k.expand(c, 1, *k.shape), padding=int(padding) if not isinstance(padding, str) else padding, groups=c)
    ref = ref.reshape(*x.shape[:-2], *ref.shape[-2:])
    assert r.shape == ref.shape and torch.allclose(r, ref, atol=1e-4), (tuple(r.shape), tuple(ref.shape))


def _apply_kernel_ref(kw) -> bool | None:
    x, k = _any_channels_plain(kw["image"]), _kernel_plain(kw["kernel"])
    p = kw.get("padding", "same")
    if x is None or k is None:
        return None
    x4 = x.reshape(-1, *x.shape[-3:]) if x.ndim >= 3 else x[None, None]
    try:
        F.conv2d(x4, k.expand(x4.shape[1], 1, *k.shape), padding=p if isinstance(p, str) else int(p), groups=x4.shape[1])
    except RuntimeError:
        return True
    return None


spec("kernels.preset", kernels.preset, {"name": "sharpen"}, {"name": choices(kernels.PRESETS, ("blur",))},
     check=lambda kw, r: _assert(r.shape == (3, 3) and r.dtype == torch.float32, r))
spec("kernels.apply_kernel", kernels.apply_kernel, {"image": PHOTO, "kernel": Lazy(lambda: kernels.preset("sharpen"))},
     {"image": tensors(uniform((1, 4), (2, 12), (2, 12)), accept=_any_channels_plain),
      "kernel": KERNELS,
      "padding": st.one_of(choices(("same", "valid"), ("full",), generic=False), ints(0, practical=(0, 3)))},
     check=_check_apply_kernel, refuses=_apply_kernel_ref, examples=40)


def _any_real_plain(v):
    """Any non-empty tensor (or NumPy array) of finite real numbers: display_image takes any shape."""
    if isinstance(v, np.ndarray) and v.dtype.kind in "biuf":
        v = torch.from_numpy(v)
    if not isinstance(v, torch.Tensor) or v.numel() == 0 or v.is_complex() or not torch.isfinite(v.double()).all():
        return None
    return v.detach()


def _check_display(kw, r) -> None:
    out, how = r
    assert out.shape == torch.as_tensor(np.asarray(kw["out"].detach() if isinstance(kw["out"], torch.Tensor) else kw["out"])).shape
    assert float(out.min()) >= 0 and float(out.max()) <= 1, how


spec("kernels.display_image", kernels.display_image, {"out": Lazy(lambda: torch.rand(3, 8, 8)),
                                                      "kernel": Lazy(lambda: kernels.preset("sharpen"))},
     {"out": tensors(normal((1, 3), (1, 8), (1, 8)), accept=_any_real_plain),
      "kernel": KERNELS}, check=_check_display)
spec("kernels.kernel_figure", kernels.kernel_figure, {"image": PHOTO, "kernel": Lazy(lambda: kernels.preset("sharpen"))},
     {"image": images(False), "kernel": KERNELS}, check=lambda kw, r: _assert(len(r.axes) == 3, r), examples=6)
spec("kernels.decode_image", kernels.decode_image, {"content": Lazy(B._png_bytes)},
     {"content": fixed(good("PNG bytes", Lazy(B._png_bytes, "png")), good("bytearray", Lazy(lambda: bytearray(B._png_bytes()), "ba")),
                       bad("garbage", b"garbage"), bad("b''", b""), bad("'cat.png'", "cat.png"), bad("None", None)),
      "size": optional(ints(1, 4096, practical=(1, 16)))},
     check=lambda kw, r: _assert(r.shape[0] == 3 and r.dtype == torch.float32, r.shape), names={"content": ("uploaded",)})


def _playground(images=None, preset_name="sobel x", size=32):
    return kernels.KernelPlayground(images, preset_name=preset_name, size=size)


IMAGE_DICTS = st.one_of(images(False).map(lambda d: Drawn(f"{{'a': {d.label}}}", {"a": d.value}, d.legit,
                                                          {"a": d.canonical} if d.canonical is not SAME else SAME)),
                        fixed(bad("{}", {}), bad("a list", Lazy(lambda: [torch.rand(3, 8, 8)], "[image]")),
                              bad("{'a': 'x'}", {"a": "x"}), bad("{3: image}", Lazy(lambda: {3: torch.rand(3, 8, 8)}, "{3: img}"))))


def _check_playground(kw, r) -> None:
    assert torch.allclose(r.result, kernels.apply_kernel(r.image, kernels.preset(kw.get("preset_name", "sobel x"))), atol=1e-5)


for name, fn in (("kernels.KernelPlayground", _playground),
                 ("kernels.kernel_playground", lambda images=None, preset_name="sobel x", size=32:
                  kernels.kernel_playground(images, preset_name, size))):
    spec(name, fn, {"images": Lazy(lambda: {"a": torch.rand(3, 8, 8)})},
         {"images": IMAGE_DICTS, "preset_name": choices(kernels.PRESETS), "size": ints(1, 4096, practical=(1, 48))},
         check=_check_playground, examples=12)


def _method(name: str):
    def run(**kw):
        pg = _playground({"a": torch.rand(3, 8, 8)})
        out = getattr(pg, name)(**kw)
        return out, pg
    return run


spec("kernels.KernelPlayground.select", _method("select"), {},
     {"image": optional(choices(("a",))), "preset_name": optional(choices(kernels.PRESETS))},
     check=lambda kw, r: _assert(torch.equal(r[0], r[1].result), r))
spec("kernels.KernelPlayground.set_kernel", _method("set_kernel"), {"kernel": Lazy(lambda: torch.ones(3, 3))},
     {"kernel": st.one_of(tensors(normal(3, 3), accept=_kernel_plain), fixed(bad("5x5", torch.ones(5, 5))))},
     check=lambda kw, r: _assert(torch.equal(r[1].kernel, _kernel_plain(kw["kernel"])), r))
spec("kernels.KernelPlayground.add_image", _method("add_image"), {"name": "b", "image": PHOTO},
     {"name": st.one_of(st.text(min_size=1, max_size=5).map(lambda s: good(repr(s), s)), fixed(bad("''", ""), bad("3", 3))),
      "image": images(False), "select": flags()},
     check=lambda kw, r: _assert(kw["name"] in r[1].images, r))
spec("kernels.KernelPlayground.add_image_file", _method("add_image_file"), {"path": Lazy(_png_file)}, {"path": PATHS},
     check=lambda kw, r: _assert(r[0] in r[1].images, r))
spec("kernels.KernelPlayground.add_image_bytes", _method("add_image_bytes"), {"name": "up", "content": Lazy(B._png_bytes)},
     {"content": fixed(good("PNG bytes", Lazy(B._png_bytes, "png")), bad("garbage", b"garbage"), bad("'x'", "x")),
      "name": st.one_of(st.text(min_size=1, max_size=5).map(lambda s: good(repr(s), s)), fixed(bad("3", 3)))},
     check=lambda kw, r: _assert(r[0] in r[1].images, r))

# ---------------------------------------------------------------------------------------
# widgets

TINY = dict(practical=(1, 6))


def _check_drawing(kw, r) -> None:
    s = {"size": 5, "kernel_size": 3, "stride": 1, "padding": 0, "dilation": 1, **kw}
    try:
        out = shapes.conv_output_size(s["size"], s["kernel_size"], s["stride"], s["padding"], s["dilation"])
    except shapes.ShapeError:
        out = "less than 1"
    assert f"= {out}" in r._suptitle.get_text(), r._suptitle.get_text()


def _two_axes():
    import matplotlib.pyplot as plt

    return list(plt.subplots(1, 2)[1])


spec("widgets.draw_convolution", widgets.draw_convolution, {},
     {"size": ints(1, practical=(1, 8)), "kernel_size": ints(1, **TINY), "stride": ints(1, practical=(1, 3)),
      "padding": ints(0, practical=(0, 3)), "dilation": ints(1, practical=(1, 3)),
      "output_cell": _tuple_of(2, ints(practical=(-2, 6))),
      "axes": optional(fixed(good("two axes", Lazy(_two_axes, "two axes")), bad("'ax'", "ax"),
                             bad("one axis", Lazy(lambda: _two_axes()[:1], "one axis"))))},
     check=_check_drawing, examples=6)


def _figure():
    import matplotlib.pyplot as plt

    return plt.subplots()[0]


spec("widgets.figure_png", widgets.figure_png, {"figure": Lazy(_figure)},
     {"figure": fixed(good("a Figure", Lazy(_figure, "a Figure")), bad("None", None), bad("'fig'", "fig"),
                      bad("an Axes", Lazy(lambda: _figure().axes[0], "an Axes")))},
     check=lambda kw, r: _assert(r[:4] == b"\x89PNG", r[:8]), examples=6)


def _label():
    import ipywidgets as W

    return W.Label("x")


spec("widgets.static_view_box", widgets.static_view_box, {"children": [], "static": lambda: b"", "description": "a view"},
     {"children": fixed(good("[]", []), good("[Label]", Lazy(lambda: [_label()], "[Label]")), bad("3", 3), bad("'ab'", "ab"),
                        bad("[3]", [3])),
      "static": fixed(good("a function", lambda: b""), bad("None", None), bad("b'png'", b"png")),
      "description": st.one_of(st.text(min_size=1, max_size=8).filter(str.strip).map(lambda s: good(repr(s), s)),
                               fixed(bad("''", ""), bad("'  '", "  "), bad("None", None), bad("3", 3))),
      "kind": choices(("VBox", "HBox"), ("Grid",))},
     check=lambda kw, r: _assert(type(r).__name__ == f"StaticView{kw.get('kind', 'VBox')}", r), examples=15)
SETTINGS = fixed(good("[{'stride': 2}, {'padding': 1}]", [{"stride": 2}, {"padding": 1}]),
                 good("({},)", ({},)), bad("[]", []), bad("[3]", [3]), bad("{'stride': 2}", {"stride": 2}),
                 bad("[{'strid': 2}]", [{"strid": 2}]), bad("100 panels", [{}] * 100),
                 bad("[{'stride': 0}]", [{"stride": 0}]))
spec("widgets.draw_convolution_gallery", widgets.draw_convolution_gallery, {"settings": [{"stride": 2}, {"padding": 1}]},
     {"settings": SETTINGS, "ncols": ints(1, practical=(1, 3)),
      "titles": optional(fixed(good("['a', 'b']", ["a", "b"]), bad("'ab'", "ab"), bad("['a']", ["a"])))},
     check=lambda kw, r: _assert(len(r.axes) >= 2 * len(kw["settings"]), r), examples=5)


def _check_visualizer(kw, r) -> None:
    for k, v in kw.items():
        assert r.sliders[k].value == v, (k, r.sliders[k].value, v)


for name, fn in (("widgets.ConvVisualizer", widgets.ConvVisualizer), ("widgets.conv_visualizer", widgets.conv_visualizer)):
    spec(name, fn, {},
         {"size": ints(1, 12, practical=(1, 12)), "kernel_size": ints(1, 7, practical=(1, 7)),
          "stride": ints(1, 4, practical=(1, 4)), "padding": ints(0, 4, practical=(0, 4)),
          "dilation": ints(1, 4, practical=(1, 4))},
         check=_check_visualizer, examples=5)

# ---------------------------------------------------------------------------------------
# scenes


def _scene_from_config(**fields):
    cfg = scenes.SceneConfig(**fields)
    return scenes.make_scenes(1, config=cfg, cache=False)


def _check_scenes(kw, r) -> None:
    cfg = r.config
    n = kw.get("n", 1)
    s = cfg.size
    assert len(r) == n and r.images.shape == (n, 3, s, s) and r.images.dtype == torch.uint8
    for i in range(n):
        k = int(r.counts[i])
        assert cfg.animals[0] <= k <= cfg.animals[1]
        boxes = r.boxes[i, :k]
        assert bool(((boxes >= 0) & (boxes <= s)).all()), boxes
        assert set(r.labels[i, :k].tolist()) <= set(range(len(cfg.classes)))


spec("scenes.SceneConfig", _scene_from_config, {},
     {"size": ints(16, 512, practical=(16, 48)), "animals": _tuple_of(2, ints(1, 16, practical=(1, 3))),
      "scale": _tuple_of(2, ints(12, practical=(12, 24))),
      "classes": sequences(ints(0, 9, practical=(0, 9), bad_types=False), 1, 3, unique=True, list_ok=False),
      "background": choices(scenes.BACKGROUNDS), "background_brightness": numbers(0, 1, low_open=True),
      "flip": flags(), "min_gap": ints(0, practical=(0, 4))},
     check=_check_scenes, names={k: ("SceneConfig",) for k in ("animals", "scale", "size")}, examples=20)
spec("scenes.make_scenes", scenes.make_scenes, {"n": 2, "cache": False},
     {"n": ints(1, practical=(1, 3)), "split": choices(data.SPLITS, ("validation",)),
      "config": fixed(good("None", None), good("SceneConfig(size=32)", scenes.SceneConfig(size=32, scale=(12, 16))),
                      bad("'big'", "big"), bad("{}", {})),
      "seed": ints(0, practical=(0, 2**31)), "cache": flags()},
     check=_check_scenes, examples=15)


@cache
def _scene_set() -> scenes.Scenes:
    return scenes.make_scenes(4, "val", scenes.SceneConfig(size=32, scale=(12, 16), animals=(1, 2)), seed=5, cache=False)


spec("scenes.Scenes.targets", lambda i: _scene_set().targets(i), {"i": 0},
     {"i": ints(-4, 3, practical=(-4, 3))},
     check=lambda kw, r: _assert(r["boxes"].shape == (int(_scene_set().counts[kw["i"]]), 4), r["boxes"].shape),
     names={"i": ("index",)})


def _subset_plain(index):
    """What Scenes[index] picks from 4 scenes, as a list of scene numbers (None for an index it must refuse)."""
    if isinstance(index, slice):
        return list(range(4))[index]
    if isinstance(index, list):
        ok = all(isinstance(i, int) and not isinstance(i, bool) and -4 <= i < 4 for i in index)
        return [i % 4 for i in index] if ok else None
    if isinstance(index, torch.Tensor) and index.ndim == 1:
        if index.dtype == torch.bool:
            return index.nonzero().flatten().tolist() if len(index) == 4 else None
        return [i % 4 for i in index.tolist()] if not index.is_floating_point() and all(-4 <= i < 4 for i in index.tolist()) \
            else None
    return None


SUBSETS = st.one_of(ints(-4, 3, practical=(-4, 3), bad_types=False), NOT_INTS,
                    st.tuples(st.integers(-5, 5), st.integers(-5, 5), st.sampled_from([1, 2, -1])).map(
                        lambda t: good(f"slice{t}", slice(*t))),
                    st.lists(st.integers(-5, 4), max_size=3).map(lambda v: Drawn(repr(v), v, _subset_plain(v) is not None)),
                    st.lists(st.booleans(), min_size=3, max_size=5).map(
                        lambda v: Drawn(f"mask {v}", torch.tensor(v), len(v) == 4)),
                    st.lists(st.integers(-5, 4), min_size=1, max_size=3).map(
                        lambda v: Drawn(f"tensor({v})", torch.tensor(v), _subset_plain(torch.tensor(v)) is not None)),
                    fixed(bad("[0.5]", [0.5]), bad("a float tensor", torch.tensor([0.0, 1.0])), bad("2D", torch.zeros(2, 2,
                                                                                                           dtype=torch.long))))


def _check_subset(kw, r) -> None:
    want = _subset_plain(kw["index"]) if not isinstance(kw["index"], int) else [kw["index"] % 4]
    assert len(r) == len(want) and torch.equal(r.images, _scene_set().images[want]), (len(r), want)


spec("scenes.Scenes.__getitem__", lambda index: _scene_set()[index], {"index": 0}, {"index": SUBSETS},
     check=_check_subset)


def _mask_plain(v):
    if isinstance(v, np.ndarray):
        v = torch.from_numpy(v)
    if not isinstance(v, torch.Tensor) or v.ndim != 2 or v.dtype != torch.bool or not v.any():
        return None
    return v


def _check_extreme(kw, r) -> None:
    m = kw["mask"]
    ys, xs = m.nonzero(as_tuple=True)
    assert all(bool(m[y, x]) for x, y in r.tolist()), "a point outside the mask"
    assert (r[0, 0], r[1, 1], r[2, 0], r[3, 1]) == (xs.min(), ys.min(), xs.max(), ys.max())


spec("scenes.extreme_points", scenes.extreme_points, {"mask": Lazy(lambda: torch.ones(4, 4, dtype=torch.bool))},
     {"mask": tensors(uniform((1, 8), (1, 8)).map(lambda t: t > 0.3), accept=_mask_plain)},
     check=_check_extreme)

# ---------------------------------------------------------------------------------------
# heatmaps

HM = 8  # heatmap side in the specs


def _points_plain(v):
    try:
        t = torch.as_tensor(np.asarray(v) if isinstance(v, list) else v)
    except (TypeError, ValueError, RuntimeError):
        return None
    if not isinstance(t, torch.Tensor) or t.shape != (2, 2) or not (t.is_floating_point() or t.dtype == torch.int64):
        return None
    t = t.detach().float()
    if not torch.isfinite(t).all() or t.min() < -0.5 or t.max() > HM - 0.5:
        return None
    return t


def _check_gaussian(kw, r) -> None:
    pts, ch = _points_plain(kw["points"]), torch.as_tensor(np.asarray(kw["channels"]))
    assert r.shape == (kw["num_channels"], kw["height"], kw["width"]) and float(r.min()) >= 0 and float(r.max()) <= 1
    sigma = kw.get("sigma", 1.0)
    for (x, y), c in zip(pts.tolist(), ch.tolist()):
        cx, cy = min(max(round(x), 0), kw["width"] - 1), min(max(round(y), 0), kw["height"] - 1)
        s = float(torch.as_tensor(sigma).max())
        assert float(r[c, cy, cx]) >= math.exp(-0.5 / (2 * s * s)) - 1e-5, f"no bump at the point ({x}, {y})"


spec("heatmaps.gaussian_heatmaps", heatmaps.gaussian_heatmaps,
     {"points": torch.tensor([[2.0, 3.0], [5.0, 1.0]]), "channels": torch.tensor([0, 1]), "num_channels": 2,
      "height": HM, "width": HM},
     {"points": st.one_of(tensors(uniform(2, 2).map(lambda t: t * (HM - 1)), accept=_points_plain),
                          tensors(uniform(2, 2).map(lambda t: t * 40 - 20), accept=_points_plain)),
      "channels": labels_of(2, 2), "num_channels": ints(2, practical=(2, 4)),
      "height": ints(4, practical=(4, 12)), "width": ints(6, practical=(6, 12)),  # the valid points lie on 4x6
      "sigma": numbers(0, low_open=True, practical=(0.3, 3)).filter(  # one number (a list or tensor of P is fine too)
          lambda d: d.legit or not isinstance(d.value, (list, torch.Tensor)) or getattr(d.value, "ndim", 1) == 0)},
     check=_check_gaussian)


@st.composite
def _box_pairs(d) -> Drawn:
    """Two boxes of a 32x32 image (stride 4: an 8x8 map) with centres in different cells, then maybe broken."""
    cells = d(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), min_size=2, max_size=2, unique=True))
    boxes = []
    for cx, cy in cells:
        ox, oy = d(st.floats(0.05, 0.95)), d(st.floats(0.05, 0.95))
        w, h = d(st.floats(1, 20)), d(st.floats(1, 20))
        x, y = (cx + ox) * 4, (cy + oy) * 4
        boxes.append([x - w / 2, y - h / 2, x + w / 2, y + h / 2])
    t = torch.tensor(boxes)
    change = d(st.sampled_from(["none", "none", "numpy", "list", "outside", "one cell", "x2 < x1", "nan", "(2, 3)"]))
    if change == "none":
        return good("2 boxes", t)
    if change == "numpy":
        return good("2 boxes NumPy", t.numpy(), t)
    if change == "list":
        return good("2 boxes list", t.tolist(), t)
    if change == "outside":
        return bad("a box outside the image", t + torch.tensor([40.0, 0, 40.0, 0]))
    if change == "one cell":
        return bad("two boxes in one cell", torch.stack([t[0], t[0] + 0.01]))
    if change == "x2 < x1":
        return bad("x2 < x1", t[:, [2, 1, 0, 3]])
    if change == "nan":
        return bad("NaN", t * math.nan)
    return bad("(2, 3)", t[:, :3])


def _check_encode(kw, r) -> None:
    boxes = torch.as_tensor(np.asarray(kw["boxes"]), dtype=torch.float32)
    labels = torch.as_tensor(np.asarray(kw["labels"]))
    keep = labels >= 0
    assert int(r["mask"].sum()) == int(keep.sum()), f"{int(keep.sum())} boxes but {int(r['mask'].sum())} centres"
    dec = heatmaps.decode_centers(r["heatmap"][None], r["size"][None], kw["stride"], r["offset"][None], k=10,
                                  threshold=0.999)[0]
    assert len(dec["boxes"]) == int(keep.sum())
    for b in boxes[keep]:
        assert any(torch.allclose(b, d, atol=1e-3) for d in dec["boxes"]), f"box {b.tolist()} not recovered"


spec("heatmaps.encode_centers", heatmaps.encode_centers,
     {"boxes": torch.tensor([[4.0, 4.0, 12.0, 12.0], [18.0, 2.0, 30.0, 20.0]]), "labels": torch.tensor([0, 1]),
      "num_classes": 2, "image_size": 32, "stride": 4},
     {"boxes": st.one_of(_box_pairs(), fixed(*BAD_OBJECTS)),
      "labels": labels_of(2, 2, padding=True),
      "num_classes": ints(2, practical=(2, 4)), "image_size": st.one_of(fixed(good("32", 32), good("np.int64(32)", np.int64(32), 32)),
                                                                        ints(33, practical=(33, 40))),
      "stride": st.one_of(fixed(good("4", 4), good("np.int64(4)", np.int64(4), 4), good("tensor(4)", torch.tensor(4), 4),
                                bad("True", True), bad("4.0", 4.0), bad("'4'", "4"), bad("0", 0), bad("-4", -4))),
      "sigma_scale": numbers(0, low_open=True, practical=(0.01, 1))},
     check=_check_encode, examples=40)


def _check_peaks(kw, r) -> None:
    hm = torch.as_tensor(np.asarray(kw["heatmap"])).float()
    k, kernel = kw.get("k", 20), kw.get("kernel", 3)
    pooled = F.max_pool2d(hm, kernel, 1, kernel // 2)
    for n, p in enumerate(r):
        s = p["scores"]
        assert len(s) <= k and s.tolist() == sorted(s.tolist(), reverse=True) and bool((s >= kw.get("threshold", 0.1)).all())
        for c, y, x in zip(p["channels"], p["ys"], p["xs"]):
            assert hm[n, c, y, x] == pooled[n, c, y, x], "not a local maximum"


spec("heatmaps.find_peaks", heatmaps.find_peaks, {"heatmap": Lazy(lambda: torch.rand(1, 2, 8, 8))},
     {"heatmap": tensors(uniform((0, 2), (1, 3), (1, 8), (1, 8)), {"float64", "float16", "numpy", "x255", "negative",
                                                                   "empty_batch", "2_channels", "5_channels",
                                                                   "channels_last", "huge"}),
      "k": ints(1, practical=(1, 30)), "threshold": numbers(practical=(-1, 1)),
      "kernel": st.one_of(fixed(good("1", 1), good("3", 3), good("5", 5), good("np.int64(3)", np.int64(3), 3), bad("2", 2),
                                bad("True", True), bad("0", 0), bad("3.0", 3.0)))},
     check=_check_peaks)


def _check_decode(kw, r) -> None:
    peaks = heatmaps.find_peaks(torch.as_tensor(np.asarray(kw["heatmap"])).float(), kw.get("k", 20), kw.get("threshold", 0.1))
    assert [len(d["boxes"]) for d in r] == [len(p["scores"]) for p in peaks]
    assert all(bool((d["boxes"][:, 2:] >= d["boxes"][:, :2]).all()) for d in r), "a box with x2 < x1"


spec("heatmaps.decode_centers", heatmaps.decode_centers,
     {"heatmap": Lazy(lambda: torch.rand(1, 2, 8, 8)), "size": Lazy(lambda: torch.rand(1, 2, 8, 8) * 10), "stride": 4},
     {"heatmap": tensors(uniform(1, 2, 8, 8), {"float64", "float16", "numpy", "5_channels", "empty_batch", "huge",
                                                "x255", "negative"}),
      "size": tensors(uniform(1, 2, 8, 8).map(lambda t: t * 10), {"float64", "float16", "numpy", "x255", "huge"}),
      "offset": optional(tensors(uniform(1, 2, 8, 8), {"float64", "float16", "numpy", "x255", "negative", "huge"})),
      "stride": ints(1, practical=(1, 8)), "k": ints(1, practical=(1, 30)), "threshold": numbers(practical=(-1, 1))},
     check=_check_decode)

# ---------------------------------------------------------------------------------------
# cache

CACHE_ENV = {"CONVNETS_CACHE": str(SCRATCH / "cache")}
spec("cache.versions", dcache.versions, check=lambda kw, r: _assert(all(isinstance(v, str) for v in r.values()), r))


def _kind_ok(s) -> bool:
    return isinstance(s, str) and s != "" and "/" not in s and "\x00" not in s and not s.startswith(".") and len(s.encode()) < 100


KINDS = st.one_of(folder_texts().map(lambda s: Drawn(repr(s), s, _kind_ok(s))), fixed(bad("3", 3), bad("None", None)))
PREFIXES = st.one_of(folder_texts().map(lambda s: Drawn(repr(s), s, "/" not in s and "\x00" not in s and len(s.encode()) < 100)),
                     fixed(bad("3", 3)))
RECORDS = st.one_of(st.dictionaries(st.text(max_size=4), st.one_of(st.integers(), st.text(max_size=4), st.booleans(),
                                                                   st.lists(st.integers(), max_size=2)),
                                    min_size=1, max_size=3).map(lambda d: good(repr(d), d)),
                    fixed(bad("{}", {}), bad("'r'", "r"), bad("{'m': object()}", {"m": object()}),
                          bad("{'t': tensor}", {"t": torch.ones(1)}), bad("{1: 2, 'a': 3}", {1: 2, "a": 3})))


def _check_entry(kw, r) -> None:
    assert r.parent == Path(CACHE_ENV["CONVNETS_CACHE"]) / kw["kind"] and r.suffix == ".pt", r
    assert r.name.startswith(kw.get("prefix", "")), r


spec("cache.entry_path", dcache.entry_path, {"kind": "probe", "record": {"a": 1}},
     {"kind": KINDS, "record": RECORDS, "prefix": PREFIXES}, env=CACHE_ENV, check=_check_entry)
PAYLOADS = st.one_of(
    st.recursive(st.one_of(st.integers(), st.text(max_size=4), st.none(), st.booleans(),
                           normal((0, 3), (1, 3)), uniform((0, 3)).map(lambda t: (t > 0.5))),
                 lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=3), children, max_size=3)),
                 max_leaves=5).map(lambda p: good(type(p).__name__, p)),
    fixed(bad("object()", object()), bad("{1: tensor}", {1: torch.ones(1)}), bad("a set", {1, 2}),
          bad("a NumPy array", np.ones(2))))


def _check_checksum(kw, r) -> None:
    import copy

    assert isinstance(r, str) and len(r) == 64 and r == dcache.checksum(copy.deepcopy(kw["payload"]))


spec("cache.checksum", dcache.checksum, {"payload": torch.ones(2)}, {"payload": PAYLOADS}, check=_check_checksum)


def _tensor_check(t, shape=None, dtype=None, finite=True, all_zero_ok=False):
    return dcache.tensor_check(shape, dtype, finite, all_zero_ok)(t)


def _tensor_check_ref(kw) -> bool:
    t, shape, dtype = kw["t"], kw.get("shape"), kw.get("dtype")
    if not isinstance(t, torch.Tensor):
        return True
    if shape is not None and (t.ndim != len(shape) or any(e is not None and e != s for e, s in zip(shape, t.shape))):
        return True
    if dtype is not None and t.dtype != dtype:
        return True
    if kw.get("finite", True) and t.is_floating_point() and not torch.isfinite(t).all():
        return True
    return not kw.get("all_zero_ok", False) and t.numel() > 0 and not t.any()


spec("cache.tensor_check", _tensor_check, {"t": torch.ones(2, 3), "shape": (2, None), "dtype": torch.float32},
     {"t": tensors(uniform((0, 3), (1, 4)), keep=True, legit={"numpy", "float64", "float16", "uint8", "int64", "bool", "complex",
                                                                "nan", "inf", "-inf", "x255", "negative", "huge", "no_batch",
                                                                "add_batch", "extra_dim", "empty", "empty_batch", "list"}),
      "shape": st.one_of(st.lists(st.one_of(st.none(), st.integers(0, 4)), max_size=3).map(lambda s: good(repr(s), tuple(s))),
                         fixed(bad("3", 3), bad("'ab'", "ab"), bad("(2.5,)", (2.5,)), bad("(-1,)", (-1,)), bad("(True,)", (True,)))),
      "dtype": fixed(good("None", None), good("float32", torch.float32), good("int64", torch.int64), bad("'float'", "float"),
                     bad("float", float), bad("np.float32", np.float32)),
      "finite": flags(), "all_zero_ok": flags()},
     refuses=_tensor_check_ref)


def _compute_ones():
    return torch.ones(2)


spec("cache.load_or_compute", dcache.load_or_compute, {"kind": "probe", "record": {"a": 1}, "compute": _compute_ones},
     {"kind": KINDS, "record": RECORDS, "prefix": PREFIXES,
      "compute": fixed(good("a function", _compute_ones), bad("a tensor", torch.ones(2)), bad("None", None)),
      "check": fixed(good("None", None), good("tensor_check()", dcache.tensor_check(shape=(2,))), bad("'x'", "x"), bad("3", 3)),
      "use_cache": flags()},
     env=CACHE_ENV, check=lambda kw, r: _assert(torch.equal(r[0], torch.ones(2)) and r[1] in (
         "cache", "computed", "recomputed", "uncached"), r))

# ---------------------------------------------------------------------------------------
# solutions: the reference material, read from the course's instructor notebooks (never written)


@cache
def _exercise_ids() -> tuple[str, ...]:
    return tuple(i for nb in sorted(solutions.notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
                 for i in solutions.exercise_ids(solutions.read_cells(nb)))


@cache
def _question_ids() -> tuple[str, ...]:
    return tuple(q.id for nb in sorted(solutions.notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
                 for q in solutions.questionnaire(solutions.read_cells(nb), nb.name[:2]))


def ids_of(known, example: str, wrong: tuple[str, ...]) -> st.SearchStrategy[Drawn]:
    """Exercise or question ids: the course's own (also padded with spaces); other text, unknown ids, non-strings are bad."""
    return st.one_of(st.sampled_from(known() or (example,)).flatmap(
                         lambda s: fixed(good(repr(s), s), good(repr(f" {s} "), f" {s} ", s))),
                     st.text(max_size=8).filter(lambda s: s.strip() not in known()).map(lambda s: bad(repr(s), s)),
                     fixed(*(bad(repr(w), w) for w in wrong), bad("3", 3), bad("None", None), bad("b'03-ex1'", b"03-ex1")))


EXERCISES = ids_of(_exercise_ids, "03-ex1", ("99-ex1", "03-ex99", "03-ex0", "03-q1"))
QUESTIONS = ids_of(_question_ids, "03-q3", ("99-q1", "03-q99", "03-q0", "03-ex1"))
spec("solutions.notebooks_dir", solutions.notebooks_dir, check=lambda kw, r: _assert(r.is_dir(), r))
spec("solutions.solution", solutions.solution, {"exercise": "03-ex1"}, {"exercise": EXERCISES},
     check=lambda kw, r: _assert(r.exercise == kw["exercise"].strip() and r.code, r), examples=15)
spec("solutions.hints", solutions.hints, {"exercise": "03-ex1"}, {"exercise": EXERCISES},
     check=lambda kw, r: _assert(r.exercise == kw["exercise"].strip() and 1 <= len(r.hints) <= solutions.MAX_HINTS
                                 and all(isinstance(h, str) and h for h in r.hints), r), examples=15)
spec("solutions.reference_answer", solutions.reference_answer, {"question": "03-q3"}, {"question": QUESTIONS},
     check=lambda kw, r: _assert(r.question.id == kw["question"].strip() and r.text and r.question.text, r), examples=15)
spec("solutions.main", solutions.main, {"argv": ["03-ex1"]},
     {"argv": st.one_of(st.lists(st.text(max_size=6), max_size=2).map(lambda v: good(repr(v), v)),
                        fixed(good("[3]", [3]), good("['99-ex1']", ["99-ex1"])))},
     check=lambda kw, r: _assert(r in (0, 1, 2), r), examples=10)

# A learner's answer to a questionnaire question: anything they may type is an answer (right or wrong), never an error.
ANSWERS = st.one_of(
    st.one_of(st.integers(-100, 100), st.floats(), st.text(max_size=6),
              st.lists(st.integers(0, 20), max_size=3)).map(lambda v: good(repr(v), v)),
    fixed(good("(16, 1)", (16, 1), [16, 1]), good("torch.Size([16, 1])", torch.Size([16, 1]), [16, 1]),
          good("tensor([16, 1])", torch.tensor([16, 1]), [16, 1]), good("np.array([16, 1])", np.array([16, 1]), [16, 1]),
          good("np.int64(16)", np.int64(16), 16), good("tensor(16)", torch.tensor(16), 16), good("10**400", 10**400),
          good("-10**400", -10**400), good("nan", NAN), good("inf", INF), good("'16, 1'", "16, 1"), good("None", None),
          good("{'a': 1}", {"a": 1}), good("b'16'", b"16"), good("16+0j", 16 + 0j), good("tensor([nan])", torch.tensor([NAN])),
          good("[[16, 1]]", [[16, 1]]), good("'conv8'", "conv8"), good("object()", object())))
CHECKED = fixed(good("{'value': [16, 1]}", {"value": [16, 1]}), good("{'value': 9}", {"value": 9}),
                good("{'value': 2.303, 'rtol': 0.01}", {"value": 2.303, "rtol": 0.01}),
                good("{'value': 8.4, 'atol': 0.15}", {"value": 8.4, "atol": 0.15}),
                good("{'value': ['conv8', 'fc1']}", {"value": ["conv8", "fc1"]}),
                good("{'value': [4, [1, 2]], 'accept': [...]}", {"value": [4, [1, 2]], "accept": [[[4, 4], [1, 2]]]}),
                bad("None", None), bad("3", 3), bad("'x'", "x"), bad("{}", {}), bad("[16, 1]", [16, 1]),
                bad("{'value': 9, 'rtol': 'x'}", {"value": 9, "rtol": "x"}),
                bad("{'value': 9, 'rtol': -1}", {"value": 9, "rtol": -1}),
                bad("{'value': 9, 'atol': nan}", {"value": 9, "atol": NAN}),
                bad("{'value': 9, 'accept': 9}", {"value": 9, "accept": 9}),
                bad("{'value': object()}", {"value": object()}))


def _data(v):
    """An answer as the course compares it, written out independently: tuples as lists, strings folded."""
    if isinstance(v, (list, tuple)):
        return [_data(x) for x in v]
    return " ".join(v.split()).lower() if isinstance(v, str) else v


def _check_answer_check(kw, r) -> None:
    right, why = r
    assert isinstance(right, bool) and isinstance(why, str) and why, r
    wants = [kw["check"]["value"], *kw["check"].get("accept", [])]
    if _data(kw["value"]) in [_data(w) for w in wants]:
        assert right, f"{kw['value']!r} is {wants[0]!r} but judged wrong: {why}"
    if not right:
        assert repr(kw["check"]["value"]) not in why, f"the reason gives the answer away: {why}"


spec("solutions.check_answer", solutions.check_answer, {"value": 9, "check": {"value": 9, "accept": [[16, 1]]}},
     {"value": ANSWERS, "check": CHECKED}, check=_check_answer_check)


def _cells() -> list[dict]:
    return solutions.read_cells(sorted(solutions.notebooks_dir().glob("03_*.ipynb"))[0])


_QUIZ = "## Questionnaire\n\n1. How many pixels?\n2. Why pad?\n   In two lines.\n\n## What next\n\nMore."
_CELL_OK = ({"cell_type": "markdown", "source": _QUIZ, "metadata": {}},
            {"cell_type": "markdown", "source": ["## Questionnaire\n", "\n", "1. One?"]},
            {"cell_type": "code", "source": "x = 1", "metadata": {"nbgrader": {"solution": True, "grade_id": "97-ex1-code"},
                                                                   "course": {"hints": "97-ex1"}}},
            {"cell_type": "markdown", "source": "", "metadata": {"course": 3}}, {"cell_type": "code", "source": []})
_CELL_BAD = (bad("None", None), bad("'x'", "x"), bad("3", 3), bad("['x = 1']", ["x = 1"]),
             bad("{'source': 3}", {"cell_type": "code", "source": 3}),
             bad("{'source': [1, 2]}", {"cell_type": "code", "source": [1, 2]}),
             bad("{'metadata': 3}", {"cell_type": "code", "source": "", "metadata": 3}))
CELL = st.one_of(st.sampled_from([good(f"cell {i}", c) for i, c in enumerate(_CELL_OK)]), fixed(*_CELL_BAD))
CELLS = st.one_of(fixed(good("notebook 03's cells", Lazy(_cells, "notebook 03's cells")), good("[]", [])),
                  st.lists(CELL, max_size=3).map(lambda cs: Drawn(f"[{', '.join(c.label for c in cs)}]", [c.value for c in cs],
                                                                  all(c.legit for c in cs))),
                  fixed(bad("None", None), bad("3", 3), bad("'cells'", "cells"),
                        bad("a notebook (not its cells)", {"cells": list(_CELL_OK)}), good("(cell,)", tuple(_CELL_OK[:1]), list(_CELL_OK[:1]))))


def _check_source(kw, r) -> None:
    src = kw["cell"].get("source", "")
    assert r == ("".join(src) if isinstance(src, list) else src), r


spec("solutions.cell_source", solutions.cell_source, {"cell": _CELL_OK[0]}, {"cell": CELL}, check=_check_source)
spec("solutions.course_meta", solutions.course_meta, {"cell": _CELL_OK[2]}, {"cell": CELL},
     check=lambda kw, r: _assert(isinstance(r, dict) and (not r or r is kw["cell"]["metadata"]["course"]), r))
spec("solutions.exercise_ids", solutions.exercise_ids, {"cells": list(_CELL_OK)}, {"cells": CELLS},
     check=lambda kw, r: _assert(all(solutions._EXERCISE.match(i) for i in r) and len(r) <= len(kw["cells"]), r))
NUMBERS = st.one_of(st.integers(0, 99).map(lambda n: good(f"{n:02d}", f"{n:02d}")),
                    fixed(bad("3", 3), bad("'3'", "3"), bad("'003'", "003"), bad("'ab'", "ab"), bad("None", None),
                          bad("''", ""), bad("'03 '", "03 ")))


def _check_questionnaire(kw, r) -> None:
    first = next((p for c in kw["cells"] if c.get("cell_type") == "markdown"
                  and (p := solutions.split_questionnaire(solutions.cell_source(c)))), None)
    assert [q.number for q in r] == ([n for n, _ in first[1]] if first else []), r
    assert all(q.id == f"{kw['number']}-q{q.number}" and "\n" not in q.text for q in r), r


spec("solutions.questionnaire", solutions.questionnaire, {"cells": list(_CELL_OK), "number": "97"},
     {"cells": CELLS, "number": NUMBERS}, check=_check_questionnaire)
MARKDOWN = st.one_of(
    st.lists(st.sampled_from(["## Questionnaire", "### Questionnaire ", "1. One?", "2. Two", "   more", "10. Ten.", "",
                              "Text.", "# Next", "3.no space", "  4. indented", "01. zero-padded"]), max_size=8)
    .map(lambda ls: "\n".join(ls)).map(lambda s: good(repr(s), s)),
    st.text(max_size=20).map(lambda s: good(repr(s), s)),
    fixed(bad("None", None), bad("3", 3), bad("b'1. x'", b"1. x"), bad("['1. x']", ["1. x"])))


def _check_items(kw, r) -> None:
    import re

    starts = {int(m[1]) for line in kw["markdown"].split("\n") if (m := re.match(r"(\d+)\.\s", line))}
    assert isinstance(r, dict) and set(r) <= starts and all(isinstance(t, str) and "\n" not in t for t in r.values()), r


def _check_split(kw, r) -> None:
    import re

    md = kw["markdown"]
    assert (r is None) == (not re.search(r"^#{2,4}[ \t]+Questionnaire[ \t]*$", md, re.MULTILINE)), r
    if r is not None:
        head, questions, tail = r
        assert md.startswith(head) and md.endswith(tail) and len(head) + len(tail) <= len(md), r
        assert all(isinstance(n, int) and isinstance(t, str) for n, t in questions), r


spec("solutions.numbered_items", solutions.numbered_items, {"markdown": _QUIZ}, {"markdown": MARKDOWN}, check=_check_items)
spec("solutions.split_questionnaire", solutions.split_questionnaire, {"markdown": _QUIZ}, {"markdown": MARKDOWN},
     check=_check_split)


def _notebook_file(cells=_CELL_OK, name="97_fixture.ipynb") -> Path:
    import json

    path = SCRATCH / "notebooks" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def _scratch_file(name: str, text: str) -> Path:
    path = SCRATCH / "files" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


NOTEBOOK_PATHS = st.one_of(
    fixed(good("a notebook", Lazy(_notebook_file, "a notebook")),
          good("str(a notebook)", Lazy(lambda: str(_notebook_file()), "str(a notebook)"), Lazy(_notebook_file)),
          bad("a folder", Lazy(lambda: SCRATCH, "a folder")), bad("None", None), bad("3", 3), bad("''", ""),
          bad("b'x.ipynb'", b"x.ipynb"), bad("a text file", Lazy(lambda: _scratch_file("notes.ipynb", "not JSON"), "a text file")),
          bad("JSON without cells", Lazy(lambda: _scratch_file("nocells.ipynb", "{}"), "JSON without cells")),
          bad("cells: 3", Lazy(lambda: _scratch_file("cells3.ipynb", '{"cells": 3}'), "cells: 3")),
          bad("cells: [3]", Lazy(lambda: _scratch_file("cells_list.ipynb", '{"cells": [3]}'), "cells: [3]")),
          bad("a JSON list", Lazy(lambda: _scratch_file("list.ipynb", "[1, 2]"), "a JSON list"))),
    folder_texts().map(lambda s: bad(f"missing {s!r}", str(SCRATCH / "missing" / (s.replace("/", "_") + ".ipynb")))))
spec("solutions.read_cells", solutions.read_cells, {"path": Lazy(_notebook_file)}, {"path": NOTEBOOK_PATHS},
     check=lambda kw, r: _assert(r == list(_CELL_OK), r))

# ---------------------------------------------------------------------------------------
# learner: the self-study loop, recording into a workspace under SCRATCH (never the learner's or notebooks/)

WORKSPACE = SCRATCH / "workspace"
LEARNER_ENV = {"CONVNETS_WORKSPACE": str(WORKSPACE), "CONVNETS_NOTEBOOKS": None}


def _last_event() -> dict:
    return learner.Record(WORKSPACE).events()[-1]


def _hint_ref(kw) -> bool:
    return int(kw["n"]) > len(solutions.hints(kw["exercise"]).hints)


def _check_hint(kw, r) -> None:
    found = solutions.hints(kw["exercise"])
    assert isinstance(r, learner.Shown) and found.hints[kw["n"] - 1] in r.text and found.hints[kw["n"] - 1] in r.markdown, r
    event = _last_event()
    assert (event["kind"], event["item"], event["n"]) == ("hint", found.exercise, kw["n"]), event


spec("learner.hint", learner.hint, {"exercise": "03-ex1", "n": 1}, {"exercise": EXERCISES, "n": ints(1, 3, practical=(1, 3))},
     env=LEARNER_ENV, refuses=_hint_ref, check=_check_hint, examples=20)


def _check_learner_solution(kw, r) -> None:
    assert r.exercise == kw["exercise"].strip() and r.code and isinstance(r.note, str), r
    assert (_last_event()["kind"], _last_event()["item"]) == ("solution", r.exercise)


spec("learner.solution", learner.solution, {"exercise": "03-ex1"}, {"exercise": EXERCISES}, env=LEARNER_ENV,
     check=_check_learner_solution, examples=15)


def _check_compare(kw, r) -> None:
    ref = solutions.reference_answer(kw["question"])
    assert isinstance(r, learner.Shown) and r.markdown and r.text, r
    if "value" not in kw:
        assert ref.text in r.markdown, r
    elif ref.check is not None and kw["value"] is not Ellipsis:
        right = solutions.check_answer(kw["value"], ref.check)[0]
        assert ("**Reference answer:**" in r.markdown) == right, f"right={right} but shown: {r.markdown[:200]}"
        assert _last_event()["outcome"] == ("right" if right else "wrong"), _last_event()


spec("learner.compare_answer", learner.compare_answer, {"question": "03-q3"},
     {"question": QUESTIONS, "value": st.one_of(ANSWERS, fixed(good("...", Ellipsis)))}, env=LEARNER_ENV,
     check=_check_compare, examples=20)
# self_check records under any well-formed id (a copy without the instructor notebooks cannot tell more; the progress
# report lists ids of no notebook apart)
WELL_FORMED = st.one_of(st.sampled_from(["03-ex1", " 03-ex2 ", "99-ex7", "03-ex1-test", "03-ex0"]).map(lambda s: good(repr(s), s)),
                        st.text(max_size=8).filter(lambda s: not solutions._EXERCISE.match(s.strip())).map(lambda s: bad(repr(s), s)),
                        fixed(bad("'03-q1'", "03-q1"), bad("'3-ex1'", "3-ex1"), bad("3", 3), bad("None", None)))
spec("learner.self_check", learner.self_check, {"exercise": "03-ex1"}, {"exercise": WELL_FORMED},
     check=lambda kw, r: _assert(r is None, r), examples=10)
spec("learner.progress", learner.progress, {"reset": False}, {"reset": flags()}, env=LEARNER_ENV,
     check=lambda kw, r: _assert(isinstance(r, learner.Shown) and str(r).startswith("progress reset") if kw["reset"]
                                 else isinstance(r, learner.Report) and r.workspace == WORKSPACE.resolve(), r), examples=15)


def _a_workspace() -> Path:
    folder = Path(tempfile.mkdtemp(dir=SCRATCH, prefix="ws-"))
    (folder / ".course").mkdir()
    (folder / ".course" / learner.MARKER).write_text("{}")
    return folder


WORKSPACES = st.one_of(
    fixed(good("None", None), good("a workspace", Lazy(_a_workspace, "a workspace")),
          good("str(a workspace)", Lazy(lambda: str(_a_workspace()), "str(a workspace)")),
          bad("3", 3), bad("b'ws'", b"ws"), bad("''", ""), bad("a file", Lazy(lambda: _scratch_file("ws.txt", "x"), "a file")),
          bad("[folder]", Lazy(lambda: [str(_a_workspace())], "[folder]"))),
    folder_texts().map(lambda s: bad(f"missing {s!r}", str(SCRATCH / "missing" / s.replace("/", "_")))))


def _in_workspace(kw) -> Path:
    return Path(kw["workspace"]).resolve() if kw.get("workspace") is not None else WORKSPACE.resolve()


spec("learner.record", learner.record, {"workspace": None}, {"workspace": WORKSPACES}, env=LEARNER_ENV,
     check=lambda kw, r: _assert(isinstance(r, learner.Record) and r.workspace == _in_workspace(kw), r))
spec("learner.report", learner.report, {"workspace": None}, {"workspace": WORKSPACES}, env=LEARNER_ENV,
     check=lambda kw, r: _assert(isinstance(r, learner.Report) and r.workspace == _in_workspace(kw) and str(r), r))
spec("learner.reset_progress", learner.reset_progress, {"workspace": None}, {"workspace": WORKSPACES}, env=LEARNER_ENV,
     check=lambda kw, r: _assert(r.startswith("progress reset") and not (_in_workspace(kw) / ".course" / learner.RECORD).exists(),
                                 r))


def _check_find(kw, r) -> None:
    if kw["$CONVNETS_WORKSPACE"]:
        assert r == Path(kw["$CONVNETS_WORKSPACE"]).resolve(), r
    elif kw.get("start") is not None and (Path(kw["start"]) / ".course" / learner.MARKER).is_file():
        assert r == Path(kw["start"]).resolve(), r


spec("learner.find_workspace", learner.find_workspace, {"start": None, "$CONVNETS_WORKSPACE": ""},
     {"start": WORKSPACES, "$CONVNETS_WORKSPACE": fixed(good("''", ""), good("a folder", str(WORKSPACE)))},
     check=_check_find, names={"start": ("folder",)})

# ---------------------------------------------------------------------------------------
# claims: normal runs assert, claims runs (CONVNETS_CLAIMS) record into a folder under SCRATCH

CLAIMS_RUN = SCRATCH / "claims-run"


def _seed_spec_ref(text: str) -> list[int] | None:
    """The documented seed spec, parsed independently: ASCII ints and a-b ranges, spaces ignored, no repeats."""
    out = []
    for part in text.replace(" ", "").split(","):
        lo, sep, hi = part.partition("-")
        if not (lo.isascii() and lo.isdigit()) or (sep and not (hi.isascii() and hi.isdigit())) or int(hi or lo) < int(lo):
            return None
        out += range(int(lo), int(hi or lo) + 1)
    return out if len(set(out)) == len(out) and len(out) <= claims.MAX_SEEDS else None


SEED_SPECS = st.one_of(
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 4), st.booleans()), min_size=1, max_size=3).map(
        lambda parts: ",".join(f"{a}-{a + d}" if r else str(a) for a, d, r in parts)).map(
        lambda s: Drawn(repr(s), s, _seed_spec_ref(s) is not None)),
    st.text(max_size=8).filter(lambda s: "\x00" not in s and _seed_spec_ref(s) is None).map(lambda s: bad(repr(s), s)),
    fixed(bad("'9-3'", "9-3"), bad("'3,3'", "3,3"), bad("'0-5000'", "0-5000"), bad("'٣-٩'", "٣-٩"), bad("'3-'", "3-"),
          bad("'-3'", "-3"), bad("3", 3), bad("None", None), bad("['3-9']", ["3-9"])))
spec("claims.parse_seeds", claims.parse_seeds, {"spec": "3-9"}, {"spec": SEED_SPECS},
     check=lambda kw, r: _assert(r == _seed_spec_ref(kw["spec"]), r), names={"spec": ("seed spec",)})
spec("claims.held_out_seeds", claims.held_out_seeds, args={"$CONVNETS_CLAIMS_SEEDS": SEED_SPECS.filter(
        lambda d: isinstance(d.value, str) and d.value.strip())},
     check=lambda kw, r: _assert(r == _seed_spec_ref(kw["$CONVNETS_CLAIMS_SEEDS"]), r))
spec("claims.active", claims.active,
     args={"$CONVNETS_CLAIMS": folder_texts().filter(lambda s: "\x00" not in s).map(lambda s: good(repr(s), s))},
     check=lambda kw, r: _assert(r is bool(kw["$CONVNETS_CLAIMS"].strip()), r))


def _kept_claims_state(fn):
    """``fn`` with claims' per-process state (the shown seeds, seeds() asked) restored after the call."""
    def run(**kw):
        saved = claims._shown, claims._held_out_asked
        try:
            return fn(**kw)
        finally:
            claims._shown, claims._held_out_asked = saved
    return run


RUNS = fixed(good("a normal run", ""), good("a claims run", str(CLAIMS_RUN)))
spec("claims.seeds", _kept_claims_state(claims.seeds), {"n": 3, "$CONVNETS_CLAIMS": ""},
     {"n": ints(1, practical=(1, 8)), "$CONVNETS_CLAIMS": RUNS}, env={"CONVNETS_CLAIMS_SEEDS": "3-9"},
     refuses=lambda kw: bool(kw["$CONVNETS_CLAIMS"]) and kw["n"] > 3,
     check=lambda kw, r: _assert(r == (list(range(3, 10)) if kw["$CONVNETS_CLAIMS"] else list(range(kw["n"]))), r))


def _claim(claim_id, holds, text, values=None):
    """Whether the claim held: the record of a claims run, the AssertionError (or none) of a normal run."""
    if claims.active():
        claims.check(claim_id, holds, text, values)
        return claims.read_records(CLAIMS_RUN)[-1]["holds"]
    try:
        claims.check(claim_id, holds, text, values)
    except AssertionError as err:
        assert str(err).startswith(f"claim {claim_id} does not hold"), err
        return False
    return True


HOLDS = st.one_of(
    st.sampled_from([True, False]).flatmap(lambda b: fixed(good(repr(b), b), good(f"np.{b}_", np.bool_(b), b),
                                                           good(f"tensor({b})", torch.tensor(b), b))),
    st.lists(st.booleans(), min_size=1, max_size=4).flatmap(lambda v: fixed(
        good(repr(v), v), good(f"tuple {v}", tuple(v), v), good(f"tensor({v})", torch.tensor(v), v),
        good(f"np.array({v})", np.array(v), v), good(f"[np bools] {v}", [np.bool_(b) for b in v], v),
        good(f"[0-d tensors] {v}", [torch.tensor(b) for b in v], v),
        bad(f"ints {v}", [int(b) for b in v]), bad(f"float tensor {v}", torch.tensor(v, dtype=torch.float32)),
        bad(f"2-D {v}", torch.tensor([v])))),
    fixed(bad("1", 1), bad("0", 0), bad("[]", []), bad("'True'", "True"), bad("None", None), bad("0.5", 0.5),
          bad("tensor([])", torch.tensor([], dtype=torch.bool)), bad("[[True]]", [[True]])))
CLAIM_IDS = st.one_of(st.from_regex(r"\A[a-z0-9]{1,4}(-[a-z0-9]{1,4}){0,2}\Z").map(lambda s: good(repr(s), s)),
                      st.text(max_size=8).filter(lambda s: not claims._ID.fullmatch(s)).map(lambda s: bad(repr(s), s)),
                      fixed(bad("'01-CNN'", "01-CNN"), bad("'01 cnn'", "01 cnn"), bad("3", 3), bad("None", None)))
TEXTS = st.one_of(st.text(min_size=1, max_size=10).filter(str.strip).map(lambda s: good(repr(s), s)),
                  fixed(bad("''", ""), bad("'  '", "  "), bad("3", 3), bad("None", None), bad("['a']", ["a"])))
VALUES = st.one_of(
    st.dictionaries(st.text(max_size=3), st.one_of(st.integers(), st.floats(), st.booleans(), st.none(), st.text(max_size=3),
                                                   st.lists(st.floats(0, 1), max_size=3)), max_size=3).map(lambda d: good(repr(d), d)),
    fixed(good("None", None), good("{'acc': tensor}", {"acc": torch.rand(3)}), good("{'acc': np.array}", {"acc": np.ones(3)}),
          good("{('a', 1): np.float64}", {("a", 1): np.float64(0.5)}), good("{'m': {'x': [1]}}", {"m": {"x": [1]}}),
          bad("[1, 2]", [1, 2]), bad("3", 3), bad("'acc'", "acc"), bad("{'m': object()}", {"m": object()}),
          bad("{1: 2, '1': 3}", {1: 2, "1": 3}), bad("{'x': tensor(2000)}", {"x": torch.zeros(2000)}),
          bad("{'x': {1, 2}}", {"x": {1, 2}})))
spec("claims.check", _kept_claims_state(_claim),
     {"claim_id": "01-cnn-beats-mlp", "holds": [True, True], "text": "The CNN wins in every seed.", "values": None,
      "$CONVNETS_CLAIMS": ""},
     {"claim_id": CLAIM_IDS, "holds": HOLDS, "text": TEXTS, "values": VALUES, "$CONVNETS_CLAIMS": RUNS},
     check=lambda kw, r: _assert(r is (all(kw["holds"]) if isinstance(kw["holds"], list) else bool(kw["holds"])), r, kw["holds"]))


def _records_folder(lines: tuple[str, ...]) -> Path:
    folder = Path(tempfile.mkdtemp(dir=SCRATCH, prefix="claims-"))
    if lines:
        (folder / claims.RECORDS_FILE).write_text("".join(line + "\n" for line in lines))
    return folder


_RECORD = '{"id": "01-a", "holds": true}'
RECORD_FOLDERS = st.one_of(
    fixed(good("an empty folder", Lazy(lambda: _records_folder(()), "an empty folder")),
          good("a folder with records", Lazy(lambda: _records_folder((_RECORD, _RECORD)), "a folder with records")),
          good("str(folder)", Lazy(lambda: str(_records_folder((_RECORD,))), "str(folder)")),
          good("a missing folder", str(SCRATCH / "no-claims-run")),
          bad("a damaged record", Lazy(lambda: _records_folder((_RECORD, '{"id": ')), "a damaged record")),
          bad("a record that is a list", Lazy(lambda: _records_folder(("[1, 2]",)), "a record that is a list")),
          bad("a file", Lazy(lambda: _scratch_file("claims.txt", _RECORD), "a file")),
          bad("3", 3), bad("None", None), bad("b'x'", b"x"), bad("''", "")))


def _check_records(kw, r) -> None:
    import json

    path = Path(kw["folder"]) / claims.RECORDS_FILE
    assert r == ([json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []), r


spec("claims.read_records", claims.read_records, {"folder": Lazy(lambda: _records_folder((_RECORD,)))},
     {"folder": RECORD_FOLDERS}, check=_check_records)

# ---------------------------------------------------------------------------------------
# exercises


def _forbidden(targets, why=""):
    """Which of a convolution, torch.relu and F.relu ``forbidden(*targets)`` refuses in its block (all run after it)."""
    x = torch.ones(1, 1, 3, 3)
    probes = {"conv": lambda: F.conv2d(x, x), "relu": lambda: torch.relu(x), "F.relu": lambda: F.relu(x)}
    refused = []
    with exercises.forbidden(*targets, why=why):
        for name, run in probes.items():
            try:
                run()
            except exercises.ForbiddenCall as err:
                assert not why or why in str(err), err
                refused.append(name)
    for run in probes.values():
        run()  # everything works again after the block
    return tuple(refused)


def _check_forbidden(kw, r) -> None:
    t = set(kw["targets"])
    want = (["conv"] if "aten.convolution" in t else []) + (["relu"] if "aten.relu" in t else []) + (
        ["F.relu"] if t & {"aten.relu", "torch.nn.functional.relu"} else [])
    assert list(r) == want, (r, want)


TARGETS = sequences(st.one_of(
    fixed(good("'aten.convolution'", "aten.convolution"), good("'aten.relu'", "aten.relu"),
          good("'torch.nn.functional.relu'", "torch.nn.functional.relu"), good("'math.sqrt'", "math.sqrt"),
          bad("'aten.conv2d'", "aten.conv2d"), bad("'aten.no_such_op'", "aten.no_such_op"), bad("'conv2d'", "conv2d"),
          bad("'aten.'", "aten."), bad("'torch.nn.functional.no_such'", "torch.nn.functional.no_such"),
          bad("'no_such_module_q.f'", "no_such_module_q.f"), bad("'math'", "math"), bad("3", 3), bad("None", None),
          bad("''", "")),
    st.text(max_size=8).filter(lambda s: not exercises._NAME.match(s) and not exercises._ATEN.match(s)).map(
        lambda s: bad(repr(s), s))), min_size=1, max_size=3)
spec("exercises.forbidden", _forbidden, {"targets": ("aten.convolution",), "why": ""},
     {"targets": TARGETS, "why": st.one_of(st.text(max_size=10).map(lambda s: good(repr(s), s)),
                                           fixed(bad("3", 3), bad("None", None), bad("b'x'", b"x")))},
     check=_check_forbidden, names={"targets": ("target",)}, examples=40)

# ---------------------------------------------------------------------------------------
# wiring (torch.export takes a while: few examples) and diagrams

WIRED = (1, 2, 9, 10)  # the input shape the cached graph is exported for


def _wired_block() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU())


@cache
def _wired_graph() -> nn.Module:
    return wiring.export_block(_wired_block(), WIRED)[0]


def _wired_stored() -> int:
    block = _wired_block()
    return sum(t.numel() for t in (*block.parameters(), *block.buffers()))


def _wired_shapes(*good_shapes: tuple[int, ...]) -> st.SearchStrategy[Drawn]:
    """Any 4 positive ints (PyTorch decides), the shapes that fit the measurement in every form, and not shapes."""
    forms = [good(repr(v), v) for v in good_shapes] + [
        good(f"torch.Size({list(good_shapes[0])})", torch.Size(good_shapes[0]), good_shapes[0]),
        good(f"list {list(good_shapes[0])}", list(good_shapes[0]), good_shapes[0]),
        good("with np.int64", (np.int64(1), *good_shapes[0][1:]), good_shapes[0])]
    return st.one_of(SHAPES4, st.sampled_from(forms))


def _window_ok(shape, radius: int = 5, margin: int = 8) -> bool:
    """measure_wiring's documented rule: one image, both sides past the window and margin, one side past by more."""
    least = 2 * (radius + margin) + 1
    return shape[0] == 1 and min(shape[2:]) >= least and max(shape[2:]) >= least + 1


def _check_export(kw, r) -> None:
    graph, stored = r
    x = torch.rand(tuple(kw["input_shape"]))
    assert stored == _wired_stored(), stored
    assert torch.allclose(graph(x), _wired_block().eval()(x), atol=1e-6), "the graph computes something else"


def _check_wired(kw, r, radius: int = 5) -> None:
    assert r.out_shape == (1, 3, *kw["input_shape"][2:]), r.out_shape
    assert (r.receptive_field, r.mixes_channels, r.window) == ((3, 3), True, 2 * radius + 1), r


spec("wiring.export_block", wiring.export_block, {"block": Lazy(_wired_block), "input_shape": WIRED},
     {"block": modules(block=_wired_block), "input_shape": _wired_shapes(WIRED, (2, 2, 5, 4))},
     check=_check_export, refuses=lambda kw: _torch_out(_wired_block, torch.zeros(tuple(kw["input_shape"]))) is None
     if isinstance(kw["block"], nn.Sequential) else None, examples=8)
spec("wiring.measure_wiring", wiring.measure_wiring, {"module": Lazy(_wired_graph), "input_shape": WIRED, "radius": 2,
                                                      "margin": 2},
     {"module": st.one_of(modules(graph=_wired_graph), fixed(bad("the unexported block", Lazy(_wired_block)))),
      "input_shape": _wired_shapes(WIRED), "radius": ints(1, practical=(1, 3)), "margin": ints(1, practical=(1, 3))},
     check=lambda kw, r: _check_wired(kw, r, kw["radius"]),
     refuses=lambda kw: tuple(kw["input_shape"]) != WIRED or not _window_ok(WIRED, kw["radius"], kw["margin"]),
     examples=30)
spec("wiring.measure_block", wiring.measure_block, {"block": Lazy(_wired_block), "input_shape": (1, 2, 27, 28)},
     {"block": modules(block=_wired_block),
      "input_shape": _wired_shapes((1, 2, 27, 28), (1, 2, 29, 27), (2, 2, 27, 28), (1, 2, 27, 27), (1, 3, 27, 28))},
     check=lambda kw, r: _assert(r.stored_numbers == _wired_stored(), r) or _check_wired(kw, r),
     refuses=lambda kw: not (_window_ok(kw["input_shape"]) and kw["input_shape"][1] == 2), examples=8)


def _check_diagram(kw, r) -> None:
    out = _torch_out(B.conv_stack, torch.zeros(tuple(kw["input_shape"])))
    assert str(out) in r.table and (r.svg is None) == (shutil.which("dot") is None), (out, r.table)
    assert r.svg is None or r.svg.startswith("<svg"), r.svg[:20]


spec("diagrams.diagram", diagrams.diagram, {"model": Lazy(B.conv_stack), "input_shape": (1, 1, 12, 12)},
     {"model": modules(stack=B.conv_stack),
      "input_shape": sequences(ints(1, practical=(1, 14), bad_types=False), 2, 5, extra_bad=NOT_SHAPES),
      "depth": ints(1, practical=(1, 3))},
     check=_check_diagram, refuses=lambda kw: _torch_out(B.conv_stack, torch.zeros(tuple(kw["input_shape"]))) is None
     if isinstance(kw["model"], nn.Sequential) else None, examples=15)

# ---------------------------------------------------------------------------------------
# What needs no spec: exceptions, warnings and result types (their fields are checked through
# the functions that make them)

EXEMPT = {
    "settings.OfflineError", "settings.CacheDirError", "data.DataFileError", "data.WeeklySeries",
    "train.TrainingError", "shapes.ShapeError", "shapes.LayerRow", "shapes.Trace", "shapes.RFRow", "shapes.RFTable",
    "shapes.MeasuredRF", "cache.CacheWarning", "solutions.SolutionUnavailable", "solutions.Solution",
    "solutions.ReferenceUnavailable", "solutions.Hints", "solutions.Question", "solutions.ReferenceAnswer",
    "learner.ProgressWarning", "learner.Shown", "learner.ExerciseState", "learner.NotebookState", "learner.Report",
    "exercises.ForbiddenCall", "wiring.Wiring", "diagrams.Diagram",
    # made by learner.record() (spec'd); its add/events/reset run in the hint, solution, compare_answer, reset specs
    "learner.Record",
    # the command line: argparse's own usage errors and SystemExit; each command is one of the functions spec'd above
    "learner.main",
}
"""Public names without a spec (a spec of a method or a call, such as ``scenes.Scenes.targets`` or
``models.ClassicCNN forward``, covers its class)."""
