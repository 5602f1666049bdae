import pytest
import torch
from torch import nn

from course_utils import pretrained, transfer


def small_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 10)))


def test_count_freeze_unfreeze():
    net = small_net()
    total = sum(p.numel() for p in net.parameters())
    assert transfer.count_params(net) == total == 4 * 27 + 4 + 4 * 6 + 6 + 6 * 10 + 10
    transfer.freeze(net)
    assert transfer.count_params(net, trainable_only=True) == 0
    assert transfer.count_params(net) == total
    transfer.unfreeze(net[4])
    assert transfer.count_params(net, trainable_only=True) == 4 * 6 + 6 + 6 * 10 + 10
    with pytest.raises(TypeError, match="nn.Module"):
        transfer.count_params("net")
    with pytest.raises(TypeError, match="nn.Module"):
        transfer.freeze(None)


def test_replace_head_nested_and_torchvision():
    net = small_net()
    name, layer = transfer.last_linear(net)
    assert name == "4.2" and layer.out_features == 10
    head = transfer.replace_head(net, 2)
    assert net[4][2] is head and head.in_features == 6 and net(torch.rand(1, 3, 8, 8)).shape == (1, 2)
    resnet = pretrained.resnet18(pretrained=False)
    head = transfer.replace_head(resnet, 5)
    assert resnet.fc is head and head.in_features == 512
    with pytest.raises(ValueError, match="no nn.Linear"):
        transfer.last_linear(nn.Conv2d(1, 1, 1))
    with pytest.raises(ValueError, match="positive int"):
        transfer.replace_head(small_net(), 0)


def test_param_groups_split_backbone_and_head():
    net = small_net()
    head = transfer.replace_head(net, 2)
    groups = transfer.param_groups(net, head, backbone_lr=1e-3, head_lr=1e-2)
    ids = [id(p) for g in groups for p in g["params"]]
    assert sorted(ids) == sorted(id(p) for p in net.parameters()), "every parameter exactly once"
    assert [g["lr"] for g in groups] == [1e-3, 1e-2]
    assert {id(p) for p in groups[1]["params"]} == {id(p) for p in head.parameters()}
    opt = torch.optim.Adam(groups)
    assert len(opt.param_groups) == 2
    with pytest.raises(ValueError, match="submodule"):
        transfer.param_groups(net, nn.Linear(2, 2), 1e-3, 1e-2)


def test_per_class_indices_nested_and_balanced():
    y = torch.arange(100) % 4
    small, big = transfer.per_class_indices(y, 3, seed=1), transfer.per_class_indices(y, 10, seed=1)
    assert torch.bincount(y[small]).tolist() == [3] * 4 and torch.bincount(y[big]).tolist() == [10] * 4
    assert set(small.tolist()) <= set(big.tolist())
    assert torch.equal(small, transfer.per_class_indices(y, 3, seed=1))
    assert not torch.equal(small, transfer.per_class_indices(y, 3, seed=2))
    with pytest.raises(ValueError, match="only 25"):
        transfer.per_class_indices(y, 26)
    with pytest.raises(TypeError, match="integer class labels"):
        transfer.per_class_indices(y.float(), 2)


def test_extract_features_matches_model_and_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVNETS_CACHE", str(tmp_path))
    net = pretrained.efficientnet_lite0()
    x = torch.rand(3, 1, 28, 28)
    feats = transfer.extract_features(net, x, size=64, verbose=False)
    assert feats.shape == (3, 1280)
    with torch.no_grad():  # the classifier applied to the features gives the network's logits
        logits = net(pretrained.preprocess(x, size=64))
    assert torch.allclose(net.classifier(feats), logits, atol=1e-3)
    files = list((tmp_path / "features").glob("*.pt"))
    assert len(files) == 1
    again = transfer.extract_features(net, x, size=64, verbose=False)
    assert torch.equal(again, feats)
    transfer.extract_features(net, x, size=72, verbose=False)  # another size: another key
    transfer.extract_features(net, 1 - x, size=64, verbose=False)  # other images: another key
    assert len(list((tmp_path / "features").glob("*.pt"))) == 3
    with pytest.raises(ValueError, match=r"images must be \(N, C, H, W\)"):
        transfer.extract_features(net, torch.rand(2, 28, 28))
    with pytest.raises(ValueError, match="images must be floats in"):
        transfer.extract_features(net, x * 255)
    u8 = (x * 255).round().to(torch.uint8)  # uint8 0-255 is converted, as everywhere in the course
    assert torch.allclose(transfer.extract_features(net, u8, size=64, cache=False, verbose=False),
                          transfer.extract_features(net, u8.float() / 255, size=64, cache=False, verbose=False))
    with pytest.raises(ValueError, match="size"):
        transfer.extract_features(net, x, size=2)


def test_extract_features_plain_module(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVNETS_CACHE", str(tmp_path))
    net = small_net()
    net[4] = nn.Identity()
    feats = transfer.extract_features(net, torch.rand(2, 3, 10, 10), size=16, cache=False, verbose=False)
    assert feats.shape == (2, 4)
    assert not (tmp_path / "features").exists() or not list((tmp_path / "features").glob("*.pt"))
