import pytest
import torch

from course_utils import settings


def test_pick_follows_quick_switch(monkeypatch):
    monkeypatch.setenv("CONVNETS_QUICK", "1")
    assert settings.quick_mode() and settings.pick(1, 2) == 1 and settings.mode_name() == "quick"
    monkeypatch.setenv("CONVNETS_QUICK", "0")
    assert not settings.quick_mode() and settings.pick(1, 2) == 2


def test_bad_flag_value_is_explained(monkeypatch):
    monkeypatch.setenv("CONVNETS_QUICK", "maybe")
    with pytest.raises(ValueError, match="CONVNETS_QUICK must be 1/0"):
        settings.quick_mode()


def test_cache_dir_is_created_under_env(monkeypatch, tmp_path):
    monkeypatch.setenv("CONVNETS_CACHE", str(tmp_path / "c"))
    path = settings.cache_dir("features", "x")
    assert path == tmp_path / "c" / "features" / "x" and path.is_dir()


def test_seed_makes_runs_repeatable():
    settings.seed_everything(3)
    a = torch.randn(5), torch.nn.Linear(4, 2).weight.clone()
    settings.seed_everything(3)
    b = torch.randn(5), torch.nn.Linear(4, 2).weight.clone()
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        settings.seed_everything(-1)


def test_device(monkeypatch):
    monkeypatch.delenv("CONVNETS_DEVICE", raising=False)
    assert settings.get_device().type in {"cpu", "cuda", "mps"}
    assert settings.get_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            settings.get_device("cuda")


def test_unusable_cache_folder_is_explained(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("CONVNETS_CACHE", str(blocker))
    with pytest.raises(settings.CacheDirError, match=f"cannot use {blocker}.*set CONVNETS_CACHE"):
        settings.cache_dir("features")
    with pytest.raises(ValueError, match="relative folder names"):
        settings.cache_dir("../outside")


def test_environment_report_creates_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("CONVNETS_CACHE", str(tmp_path / "not-yet"))
    report = settings.environment_report()
    assert report["cache"] == str(tmp_path / "not-yet") and not (tmp_path / "not-yet").exists()
