"""Bad cache entries beyond ``tests/test_cache.py``: entries that pass their checksum but hold the wrong content.

Issue 22: cached features with extra columns, scenes with NaN boxes or float32 images were served (the
payload check looked at the row count only). A payload is now checked by content, with the same tensor
check the functions use on their arguments (every dimension's size, dtype, finite values, ranges).
"""

import math
import warnings

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from course_utils import cache, scenes, transfer


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVNETS_CACHE", str(tmp_path))
    return tmp_path


def reseal(path, change) -> None:
    """Replace an entry's payload by ``change(payload)`` with a valid checksum (so only a content check can tell)."""
    entry = torch.load(path, weights_only=True)
    entry["payload"] = change(entry["payload"])
    entry["checksum"] = cache.checksum(entry["payload"])
    torch.save(entry, path)


def backbone() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    nn.init.constant_(net[0].bias, 0.5)  # features > 0: never all zeros
    return net


IMAGES = torch.rand(5, 3, 12, 12, generator=torch.Generator().manual_seed(1))


def features(**kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = transfer.extract_features(backbone(), IMAGES, size=16, verbose=False, **kwargs)
    return out, [str(w.message) for w in caught if issubclass(w.category, cache.CacheWarning)]


FEATURE_FAULTS = {
    "an extra column": lambda f: torch.cat([f, f[:, :1]], 1),
    "a column missing": lambda f: f[:, :-1],
    "a row missing": lambda f: f[:-1],
    "NaN": lambda f: f.index_put((torch.tensor([2]), torch.tensor([1])), torch.tensor(math.nan)),
    "float64": lambda f: f.double(),
    "another model's features": lambda f: f + 1,
    "rows swapped": lambda f: f.flip(0),
}


@pytest.mark.parametrize("fault", sorted(FEATURE_FAULTS))
def test_cached_features_with_the_wrong_content_are_recomputed(cache_root, fault):
    fresh, warned = features()
    assert not warned
    (path,) = (cache_root / "features").glob("*.pt")
    reseal(path, FEATURE_FAULTS[fault])
    again, warned = features()
    assert torch.equal(again, fresh) and len(warned) == 1 and "is bad" in warned[0], warned
    assert torch.equal(features()[0], fresh) and not features()[1], "healed: served from the cache again"


@settings(max_examples=15, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=st.integers(0, 7), cols=st.integers(0, 6), dtype=st.sampled_from([torch.float32, torch.float64, torch.float16]),
       poke=st.sampled_from([None, math.nan, math.inf, 0.0]), same=st.booleans())
def test_a_cached_feature_entry_is_served_only_if_it_is_the_features(tmp_path_factory, rows, cols, dtype, poke, same):
    """Generated replacement payloads: whatever a sealed entry holds, extract_features returns the true features."""
    import os

    root = tmp_path_factory.mktemp("features")
    old = os.environ.get("CONVNETS_CACHE")
    os.environ["CONVNETS_CACHE"] = str(root)
    try:
        fresh, _ = features()
        (path,) = (root / "features").glob("*.pt")

        def change(f):
            if same:
                return f
            g = torch.rand(rows, cols, generator=torch.Generator().manual_seed(rows * 7 + cols)).to(dtype)
            if poke is not None and g.numel():
                g.view(-1)[0] = poke
            return g

        reseal(path, change)
        served, _ = features()
        assert torch.equal(served, fresh)
    finally:
        if old is None:
            os.environ.pop("CONVNETS_CACHE", None)
        else:
            os.environ["CONVNETS_CACHE"] = old


CONFIG = scenes.SceneConfig(size=32, scale=(12, 16), animals=(1, 2))


def scene_set():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = scenes.make_scenes(3, "val", CONFIG, seed=4)
    return s, [str(w.message) for w in caught if issubclass(w.category, cache.CacheWarning)]


def _set(payload, name, value):
    return {**payload, name: value}


SCENE_FAULTS = {
    "float32 images": lambda p: _set(p, "images", p["images"].float() / 255),
    "NaN boxes": lambda p: _set(p, "boxes", p["boxes"] * math.nan),
    "a box off the canvas": lambda p: _set(p, "boxes", p["boxes"] + 100),
    "labels out of range": lambda p: _set(p, "labels", p["labels"] + 20),
    "counts above animals[1]": lambda p: _set(p, "counts", p["counts"] + 5),
    "an extra box column": lambda p: _set(p, "boxes", torch.cat([p["boxes"], p["boxes"][..., :1]], -1)),
    "int32 labels": lambda p: _set(p, "labels", p["labels"].int()),
    "an array missing": lambda p: {k: v for k, v in p.items() if k != "sources"},
}


@pytest.mark.parametrize("fault", sorted(SCENE_FAULTS))
def test_cached_scenes_with_the_wrong_content_are_redrawn(cache_root, fault):
    fresh, warned = scene_set()
    assert not warned
    (path,) = (cache_root / "scenes").glob("*.pt")
    reseal(path, SCENE_FAULTS[fault])
    again, warned = scene_set()
    assert len(warned) == 1 and "is bad" in warned[0], warned
    assert torch.equal(again.images, fresh.images) and torch.equal(again.boxes, fresh.boxes)
    assert torch.equal(again.labels, fresh.labels) and torch.equal(again.counts, fresh.counts)


def test_a_folder_in_place_of_an_entry_is_left_alone_and_said_so(cache_root):
    """Issue 22: a folder where the entry file goes was reported as an unwritable cache ("set CONVNETS_CACHE")."""
    path = cache.entry_path("unit", {"a": 1})
    path.mkdir()
    (path / "mine.txt").write_text("a file of the user's")
    with pytest.warns(cache.CacheWarning, match="is a folder, not a cache file; it is left alone") as caught:
        value, source = cache.load_or_compute("unit", {"a": 1}, lambda: torch.ones(2))
    assert not any("CONVNETS_CACHE" in str(w.message) for w in caught)
    assert source == "uncached" and torch.equal(value, torch.ones(2))
    assert (path / "mine.txt").read_text() == "a file of the user's"


def test_check_and_use_cache_are_checked():
    with pytest.raises(TypeError, match="check must be a function"):
        cache.load_or_compute("unit", {"a": 1}, lambda: torch.ones(2), check="shape")
    with pytest.raises(TypeError, match="use_cache must be True or False"):
        cache.load_or_compute("unit", {"a": 1}, lambda: torch.ones(2), use_cache="no")
