import matplotlib

matplotlib.use("Agg")

import pytest
import torch
from torch import nn
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from course_utils import augment, data


def test_random_affine_identity_and_flip_match_torch():
    x = torch.rand(6, 1, 28, 28)
    same = augment.random_affine_batch(x)  # no rotation, shift, zoom or flip
    assert torch.allclose(same, x, atol=1e-5)
    g = torch.Generator().manual_seed(0)
    out = augment.random_affine_batch(x, hflip=True, generator=g)
    flipped = [torch.allclose(o, xi.flip(-1), atol=1e-5) for o, xi in zip(out, x)]
    kept = [torch.allclose(o, xi, atol=1e-5) for o, xi in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept)), "each image is either flipped or untouched"
    assert any(flipped) and any(kept), "flips are drawn per image"


def test_random_affine_rotation_matches_torchvision():
    x = torch.zeros(1, 1, 32, 32)
    x[..., 8:24, 14:18] = 1  # a vertical bar
    out = augment.random_affine_batch(x, degrees=1e-9)  # ~no rotation: sanity of the grid
    assert torch.allclose(out, x, atol=1e-4)
    # a 90-degree rotation of a symmetric bar is the horizontal bar, as torchvision rotates it
    # 512 seeded draws in [-90, 90]: the closest to +90 is within a fraction of a degree
    theta90 = augment.random_affine_batch(x.expand(512, -1, -1, -1).clone(), degrees=90,
                                          generator=torch.Generator().manual_seed(0))
    ref = TF.rotate(x, 90)
    best = min((t - ref[0]).abs().max().item() for t in theta90)
    assert best < 0.1  # the closest draw to +90 degrees looks like torchvision's rotation


def test_random_affine_shift_is_per_image_and_repeatable():
    x = torch.rand(8, 3, 16, 16)
    a = augment.random_affine_batch(x, translate=0.2, generator=torch.Generator().manual_seed(1))
    b = augment.random_affine_batch(x, translate=0.2, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == x.shape
    assert not torch.allclose(a, x)


def test_random_affine_rejects_bad_input():
    with pytest.raises(ValueError, match="4D batch"):
        augment.random_affine_batch(torch.rand(1, 28, 28))
    with pytest.raises(TypeError, match="float"):
        augment.random_affine_batch(torch.zeros(1, 1, 4, 4, dtype=torch.uint8))
    with pytest.raises(ValueError, match="scale"):
        augment.random_affine_batch(torch.rand(1, 1, 4, 4), scale=(1.2, 0.8))


def test_augmented_loader_draws_new_views_each_epoch():
    x, y = torch.rand(10, 1, 8, 8), torch.arange(10)
    loader = augment.AugmentedLoader(data.make_loader((x, y), batch_size=5),
                                     lambda b: augment.random_affine_batch(b, translate=0.2))
    assert len(loader) == 2
    e1, e2 = torch.cat([b for b, _ in loader]), torch.cat([b for b, _ in loader])
    assert e1.shape == x.shape and not torch.equal(e1, e2)
    assert torch.equal(torch.cat([t for _, t in loader]), y), "labels pass through unchanged"
    with pytest.raises(TypeError, match="callable"):
        augment.AugmentedLoader(loader, augment=3)
    bad = augment.AugmentedLoader(data.make_loader((x, y), batch_size=5), lambda b: b[:, :, :4])
    with pytest.raises(ValueError, match="keep the batch shape"):
        list(bad)


def test_apply_params_matches_torchvision():
    img = data.load_photo("chelsea", size=64)[:, :, :64]  # (3, 64, 64)
    assert torch.equal(augment.apply_params(img), img.clamp(0, 1))
    assert torch.allclose(augment.apply_params(img, hflip=True), TF.horizontal_flip(img))
    assert torch.allclose(augment.apply_params(img, brightness=0.5), TF.adjust_brightness(img, 0.5))
    ref = TF.affine(img, angle=30, translate=[0, 0], scale=1.0, shear=[0.0, 0.0])
    assert torch.allclose(augment.apply_params(img, angle=30), ref)
    erased = augment.apply_params(img, erase=0.5)
    assert erased[:, 16:48, 16:48].abs().sum() == 0 and torch.equal(erased[:, :16], img[:, :16])
    gray = augment.apply_params(img[:1], saturation=0.0, hue=0.2)  # ignored for 1 channel
    assert torch.equal(gray, img[:1])
    with pytest.raises(ValueError, match="scale must be a finite number > 0"):
        augment.apply_params(img, scale=0)
    with pytest.raises(ValueError, match="image must have 1 or 3 channels"):
        augment.apply_params(torch.rand(4, 8, 8))
    with pytest.raises(TypeError, match="torch.Tensor"):
        augment.apply_params([[0.0]])


def test_gallery_and_explorer_draw():
    img = data.load_photo("chelsea", size=48)
    fig = augment.gallery(img, {"flip": v2.RandomHorizontalFlip(1.0), "crop": v2.RandomResizedCrop(32)}, samples=2)
    assert len(fig.axes) == 6
    fig, widget = augment.explorer(img, presets={"a": {}, "b": {"angle": 10}})
    assert fig is not None and widget is not None
    with pytest.raises(ValueError, match="non-empty dict"):
        augment.gallery(img, {})


def test_predict_tta_averages_probabilities():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    x = torch.rand(5, 1, 4, 4)
    probs = augment.predict_tta(model, x)
    ref = (model(x).softmax(1) + model(x.flip(-1)).softmax(1)) / 2
    assert torch.allclose(probs, ref, atol=1e-6)
    assert torch.allclose(augment.predict_tta(model, x.flip(-1)), probs, atol=1e-6), "flip TTA is flip-invariant"
    assert torch.allclose(augment.predict_tta(model, x, views=[lambda b: b]), model(x).softmax(1), atol=1e-6)
    with pytest.raises(ValueError, match="4D batch"):
        augment.predict_tta(model, x[0])
    with pytest.raises(ValueError, match="at least one"):
        augment.predict_tta(model, x, views=[])


def test_explorer_sliders_update_the_view():
    img = data.load_photo("chelsea", size=32)[:, :, :32]
    _, widget = augment.explorer(img, presets={"a": {}})
    sliders, _, (_label, view) = widget.children[0].children, widget.children[1], widget.children[2].children
    before = view.value
    sliders[3].value = True  # flip
    assert bytes(view.value) != bytes(before) and bytes(view.value).startswith(b"\x89PNG")
