import hashlib
import json
import shutil

import numpy as np
import pytest
import torch

from course_utils import data


def test_every_shipped_file_matches_manifest():
    manifest = json.loads((data.data_dir() / "manifest.json").read_text())
    assert {"animal_mnist.npz", "mnist_5k.npz", "photos/chelsea.png"} <= set(manifest)
    for rel, entry in manifest.items():
        blob = (data.data_dir() / rel).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == entry["sha256"] and len(blob) == entry["bytes"], rel
        assert entry["source"] and entry["licence"], f"{rel} needs a source and licence"


def test_readme_lists_every_file_with_checksum():
    readme = (data.data_dir() / "README.md").read_text()
    manifest = json.loads((data.data_dir() / "manifest.json").read_text())
    for rel, entry in manifest.items():
        assert rel in readme and entry["sha256"] in readme, f"data/README.md must list {rel} and its sha256"


@pytest.mark.parametrize("name,sizes", [("animals", (6998, 1001, 2001)), ("mnist", (3500, 500, 1000))])
def test_splits_are_fixed_disjoint_and_balanced(name, sizes):
    parts = [data.load_tensors(name, s) for s in data.SPLITS]
    assert tuple(len(y) for _, y in parts) == sizes
    x, y = parts[0]
    assert x.shape[1:] == (1, 28, 28) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert y.dtype == torch.int64 and set(y.tolist()) == set(range(10))
    # no image appears in two splits, not even as an exact duplicate
    seen = [{hash(row.numpy().tobytes()) for row in (p[0] * 255).to(torch.uint8).flatten(1)} for p in parts]
    assert not seen[0] & seen[1] and not seen[0] & seen[2] and not seen[1] & seen[2]
    counts = torch.bincount(parts[2][1]).tolist()
    assert max(counts) - min(counts) <= 1, counts


def test_class_subset_is_renumbered_in_given_order():
    x, y = data.load_tensors("animals", "test", classes=[data.DOG, data.CAT])
    assert len(y) == 400 and set(y.tolist()) == {0, 1}
    full_x, full_y = data.load_tensors("animals", "test")
    assert torch.equal(x[y == 0], full_x[full_y == data.DOG])  # dog listed first -> label 0


def test_per_class_and_limit():
    x, y = data.load_tensors("animals", "train", per_class=5, seed=1)
    assert torch.bincount(y).tolist() == [5] * 10
    x2, y2 = data.load_tensors("animals", "train", per_class=5, seed=1)
    assert torch.equal(x, x2)
    assert len(data.load_tensors("mnist", "val", limit=7)[1]) == 7


@pytest.mark.parametrize("kwargs,match", [
    (dict(name="cifar"), "name='cifar' is not a known dataset"),
    (dict(name="animals", split="training"), "split='training' is not a known split"),
    (dict(name="animals", classes=[2, 2]), "distinct labels"),
    (dict(name="animals", classes=[11]), "distinct labels"),
    (dict(name="animals", split="val", per_class=101), "only 100 images of class"),
    (dict(name="animals", limit=0), "limit must be an int >= 1"),
])
def test_bad_requests_are_explained(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.load_tensors(**kwargs)


def test_photos_are_float_chw():
    cat = data.load_photo("chelsea")
    assert cat.shape == (3, 300, 451) and cat.dtype == torch.float32
    assert data.load_photo("camera", size=64, gray=True).shape == (1, 64, 64)
    with pytest.raises(ValueError, match="name='dog' is not a known photo"):
        data.load_photo("dog")


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A private copy of data/ so tests can damage it without touching the real one."""
    copy = tmp_path / "data"
    shutil.copytree(data.data_dir(), copy, ignore=shutil.ignore_patterns("*.py"))
    monkeypatch.setenv("CONVNETS_DATA", str(copy))
    data._manifest.cache_clear()
    data._load_npz.cache_clear()
    data._load_series_npz.cache_clear()
    yield copy
    data._manifest.cache_clear()
    data._load_npz.cache_clear()
    data._load_series_npz.cache_clear()


def test_corrupted_file_raises_checksum_error(data_copy):
    target = data_copy / "animal_mnist.npz"
    blob = bytearray(target.read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # flip one byte
    target.write_bytes(bytes(blob))
    with pytest.raises(data.DataFileError, match=r"animal_mnist\.npz is corrupted.*git checkout -- data/animal_mnist\.npz"):
        data.load_tensors("animals")


def test_missing_file_says_how_to_restore(data_copy):
    (data_copy / "photos" / "chelsea.png").unlink()
    with pytest.raises(data.DataFileError, match=r"chelsea\.png is missing.*build_data\.py"):
        data.load_photo("chelsea")


def test_user_image_file(tmp_path):
    from torchvision.io import write_png

    path = tmp_path / "mine.png"
    write_png((torch.rand(3, 20, 30) * 255).to(torch.uint8), str(path))
    assert data.load_image_file(path, size=10).shape == (3, 10, 15)
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="could not decode"):
        data.load_image_file(tmp_path / "bad.png")
    with pytest.raises(FileNotFoundError):
        data.load_image_file(tmp_path / "nope.png")


def test_online_loaders_fail_fast_when_switched_off(monkeypatch, tmp_path):
    monkeypatch.delenv("CONVNETS_ONLINE", raising=False)
    with pytest.raises(data.OfflineError, match="CONVNETS_ONLINE=1"):
        data.load_cifar10(root=tmp_path)
    with pytest.raises(data.OfflineError, match="CONVNETS_ONLINE=1"):
        data.load_pets_cats_vs_dogs(root=tmp_path)


def test_online_switch_without_network_fails_fast(monkeypatch):
    import socket
    import time

    def unreachable(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setenv("CONVNETS_ONLINE", "1")
    monkeypatch.setattr(socket, "getaddrinfo", unreachable)
    start = time.perf_counter()
    with pytest.raises(data.OfflineError, match="cannot be reached"):
        data.require_online("CIFAR-10")
    assert time.perf_counter() - start < 5


def test_make_loader_checks_lengths():
    with pytest.raises(ValueError, match="same length"):
        data.make_loader((torch.zeros(3, 1), torch.zeros(2)))


# ---------------------------------------------------------------------------------------
# 1D series (notebook 08): MNIST-1D and the Mauna Loa CO2 record

def test_mnist1d_is_the_package_split_with_balanced_digits():
    x, y = data.load_mnist1d("train")
    xt, yt = data.load_mnist1d("test")
    assert x.shape == (4000, 1, 40) and xt.shape == (1000, 1, 40) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and set(y.tolist()) == set(range(10)) and min(torch.bincount(yt).tolist()) > 80
    both = torch.cat([x, xt])
    assert abs(both.mean()) < 1e-3 and abs(both.std() - 1) < 1e-3  # make_dataset standardises the whole set
    assert data.mnist1d_templates().shape == (10, 12)


def test_mnist1d_shuffle_seq_is_one_fixed_permutation_of_positions():
    x, y = data.load_mnist1d("test")
    xs, ys = data.load_mnist1d("test", shuffle_seq=True)
    assert torch.equal(y, ys) and not torch.equal(x, xs)
    # every shuffled position is one original position, the same for all series
    match = [(x[:, 0, :] == xs[:, 0, [j]]).all(0).nonzero()[:, 0].tolist() for j in range(40)]
    assert sorted(m[0] for m in match) == list(range(40))
    xtr, _ = data.load_mnist1d("train", shuffle_seq=True)
    perm = torch.tensor([m[0] for m in match])
    assert torch.equal(xtr, data.load_mnist1d("train")[0][:, :, perm])  # the same permutation for train


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(split="val"), ValueError, "split must be 'train' or 'test'.*got 'val'"),
    (dict(shuffle_seq="yes"), TypeError, "shuffle_seq must be True or False, got 'yes'"),
])
def test_mnist1d_bad_requests_are_explained(kwargs, error, match):
    with pytest.raises(error, match=match):
        data.load_mnist1d(**kwargs)


def test_co2_is_weekly_and_filled_causally():
    s = data.load_co2()
    assert len(s.date) == len(s.values) == len(s.measured) == 2284
    assert str(s.date[0]) == "1958-03-29" and str(s.date[-1]) == "2001-12-29"
    assert (np.diff(s.date) == np.timedelta64(7, "D")).all()
    assert int((~s.measured).sum()) == 59 and not s.values.isnan().any()
    assert 310 < s.values.min() and s.values.max() < 375 and s.values.dtype == torch.float32
    gaps = (~s.measured).nonzero()[:, 0]
    assert torch.equal(s.values[gaps], s.values[gaps - 1])  # a missing week repeats the week before
    assert bool(s.measured[0])


def test_corrupted_series_file_is_refused(data_copy):
    target = data_copy / "co2_weekly.npz"
    target.write_bytes(target.read_bytes()[:-10])
    with pytest.raises(data.DataFileError, match=r"co2_weekly\.npz is corrupted"):
        data.load_co2()
    (data_copy / "mnist1d.npz").unlink()
    with pytest.raises(data.DataFileError, match=r"mnist1d\.npz is missing"):
        data.load_mnist1d()
