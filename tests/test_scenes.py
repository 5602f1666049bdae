import dataclasses

import pytest
import torch

from course_utils import data, scenes
from course_utils.scenes import SceneConfig, extreme_points, make_scenes

MULTI = SceneConfig(size=64, animals=(2, 4), scale=(16, 28))


@pytest.fixture(scope="module")
def multi():
    return make_scenes(40, "test", MULTI, seed=3, cache=False)


def test_same_seed_same_scenes_and_prefix_property(multi):
    again = make_scenes(40, "test", MULTI, seed=3, cache=False)
    for name in ("images", "masks", "labels", "boxes", "keypoints", "counts", "sources"):
        assert torch.equal(getattr(multi, name), getattr(again, name)), name
    prefix = make_scenes(10, "test", MULTI, seed=3, cache=False)
    assert torch.equal(prefix.images, multi.images[:10]) and torch.equal(prefix.boxes, multi.boxes[:10])
    other = make_scenes(10, "test", MULTI, seed=4, cache=False)
    assert not torch.equal(other.images, prefix.images)


def test_shapes_dtypes_and_counts(multi):
    n, k = 40, 4
    assert multi.images.shape == (n, 3, 64, 64) and multi.images.dtype == torch.uint8
    assert multi.masks.shape == (n, 64, 64) and multi.labels.shape == (n, k)
    assert multi.boxes.shape == (n, k, 4) and multi.keypoints.shape == (n, k, 4, 2)
    assert multi.counts.min() >= 2 and multi.counts.max() <= 4 and len(set(multi.counts.tolist())) > 1
    for i in range(n):
        c = int(multi.counts[i])
        assert (multi.labels[i, :c] >= 0).all() and (multi.labels[i, c:] == -1).all()
        assert (multi.sources[i, c:] == -1).all()


def test_boxes_masks_and_keypoints_agree(multi):
    for i in range(len(multi)):
        t = multi.targets(i)
        assert int(multi.masks[i].max()) == len(t["boxes"])  # one instance id per animal, nothing else
        for box, mask, kp in zip(t["boxes"], t["masks"], t["keypoints"]):
            ys, xs = mask.nonzero(as_tuple=True)
            assert box.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]  # tight box, pixel edges
            (lx, ly), (tx, ty), (rx, ry), (bx, by) = kp.tolist()
            assert (lx, ty, rx + 1, by + 1) == tuple(int(v) for v in box)  # extreme points touch the box
            for x, y in kp.tolist():
                assert mask[y, x], "each keypoint lies on its animal"
        # boxes of one scene do not overlap (no occlusion): masks, boxes and keypoints stay exact
        b = t["boxes"]
        inter = (torch.minimum(b[:, None, 2:], b[None, :, 2:]) - torch.maximum(b[:, None, :2], b[None, :, :2])).clamp(min=0)
        overlap = inter.prod(-1) - torch.diag(inter.prod(-1).diag())
        assert overlap.sum() == 0


def test_semantic_masks_carry_the_class(multi):
    sem = multi.semantic_masks()
    for i in range(len(multi)):
        for k in range(int(multi.counts[i])):
            assert (sem[i][multi.masks[i] == k + 1] == multi.labels[i, k] + 1).all()
        assert (sem[i][multi.masks[i] == 0] == 0).all()


def test_animals_are_drawn_from_their_silhouettes(multi):
    # the instance mask of each animal is the scaled silhouette: a test-split silhouette, of the labelled class
    x_test, y_test = data.load_tensors("animals", "test")
    for i in range(5):
        for k in range(int(multi.counts[i])):
            src = int(multi.sources[i, k])
            assert int(y_test[src]) == MULTI.classes[int(multi.labels[i, k])]


def test_splits_use_only_their_own_silhouettes():
    cfg = SceneConfig(classes=(data.CAT, data.DOG))
    test = make_scenes(200, "test", cfg, seed=0, cache=False)
    x_test, y_test = data.load_tensors("animals", "test")
    x_train, _ = data.load_tensors("animals", "train")
    used = test.sources[:, 0]
    assert int(used.max()) < len(x_test)
    assert set(y_test[used].tolist()) == {data.CAT, data.DOG}
    assert test.class_names == ["cat", "dog"] and set(test.labels[:, 0].tolist()) == {0, 1}
    # no training silhouette is pixel-identical to a test silhouette used here (the splits are disjoint)
    train_set = {bytes(v) for v in (x_train * 255).round().to(torch.uint8).flatten(1).numpy()}
    assert not any(bytes(v) in train_set for v in (x_test[used] * 255).round().to(torch.uint8).flatten(1).numpy())


def test_backgrounds_and_class_subset():
    for bg in scenes.BACKGROUNDS:
        s = make_scenes(4, "val", SceneConfig(background=bg), seed=1, cache=False)
        away = torch.ones(4, 64, 64, dtype=torch.bool)  # pixels 2 or more away from every box (no soft edges)
        for i in range(4):
            x1, y1, x2, y2 = s.boxes[i, 0].int().tolist()
            away[i, max(y1 - 2, 0):y2 + 2, max(x1 - 2, 0):x2 + 2] = False
        outside = s.images.float().permute(1, 0, 2, 3)[:, away]  # (3, background pixels)
        assert outside.max() <= 0.6 * 255 + 1, bg  # the background is dimmed
        if bg == "plain":
            assert outside.max() == 0


def test_extreme_points_on_a_small_mask():
    mask = torch.zeros(6, 7, dtype=torch.bool)
    mask[1:4, 2:6] = True  # a 3x4 rectangle: flat edges give their middle pixel
    mask[4, 3] = True
    assert extreme_points(mask).tolist() == [[2, 2], [3, 1], [5, 2], [3, 4]]
    with pytest.raises(ValueError, match="empty"):
        extreme_points(torch.zeros(3, 3, dtype=torch.bool))
    with pytest.raises(TypeError, match="mask must hold booleans"):
        extreme_points(torch.zeros(3, 3))


@pytest.mark.parametrize("change, message", [
    ({"size": 8}, "size must be an int in 16..512"),
    ({"animals": (3, 2)}, "animals must be"),
    ({"animals": (1, 2.5)}, "animals"),
    ({"animals": (1, 2, 3)}, "tuple of 2 ints"),
    ({"flip": "no"}, "flip must be True or False"),
    ({"scale": (8, 20)}, "12 <= min"),
    ({"scale": (20, 80)}, "<= size=64"),
    ({"classes": (2, 2)}, "distinct"),
    ({"classes": (11,)}, "in 0..9"),
    ({"background": "sky"}, "background must be one of"),
    ({"background_brightness": 0}, "background_brightness"),
    ({"min_gap": -1}, "min_gap"),
    ({"animals": (8, 8), "scale": (30, 40)}, "do not fit"),
])
def test_bad_config_is_refused(change, message):
    with pytest.raises((ValueError, TypeError), match=message):  # when the config is made, before any drawing
        dataclasses.replace(SceneConfig(), **change)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        make_scenes(0)
    with pytest.raises(ValueError, match="unknown split 'testing'"):
        make_scenes(2, "testing")
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        make_scenes(2, seed=-1)
    with pytest.raises(TypeError, match="config must be a SceneConfig"):
        make_scenes(2, config={"size": 64})
    s = make_scenes(2, cache=False)
    with pytest.raises(IndexError, match="scene index"):
        s.targets(5)


def test_cache_round_trip_and_self_healing(tmp_path, monkeypatch):
    from course_utils.cache import CacheWarning

    monkeypatch.setenv("CONVNETS_CACHE", str(tmp_path))
    first = make_scenes(6, "val", seed=2)
    files = list((tmp_path / "scenes").glob("*.pt"))
    assert len(files) == 1 and files[0].name.startswith("val_6_")
    cached = make_scenes(6, "val", seed=2)
    assert torch.equal(cached.images, first.images) and cached.class_names == first.class_names
    files[0].write_bytes(files[0].read_bytes()[:100])  # damage it: truncated
    with pytest.warns(CacheWarning, match="recomputing"):
        healed = make_scenes(6, "val", seed=2)
    assert torch.equal(healed.images, first.images) and files[0].stat().st_size > 100  # rewritten
    make_scenes(6, "val", seed=3)
    assert len(list((tmp_path / "scenes").glob("*.pt"))) == 2  # another seed: another entry


def test_subset_indexing(multi):
    sub = multi[torch.tensor([3, 5])]
    assert len(sub) == 2 and torch.equal(sub.boxes[1], multi.boxes[5])
    assert len(multi[7]) == 1 and torch.equal(multi[7].images[0], multi.images[7])
