import pytest
import torch
from torch import nn

from course_utils import models
from course_utils.shapes import trace


def test_classic_cnn_default_shapes_and_names():
    model = models.classic_cnn()
    out = model(torch.zeros(2, 1, 28, 28))
    assert out.shape == (2, 10)
    names = [r.name for r in trace(model, (1, 1, 28, 28))]
    assert names[0] == "features.stage1.conv1" and names[-1] == "classifier.out"
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(convs) == 4 and len(linears) == 2  # N=2 x M=2 convs, K=1 hidden + output
    assert linears[0].in_features == 64 * 7 * 7  # 28 -> 14 -> 7


@pytest.mark.parametrize("kw", [dict(channels=(8, 16, 32), pool="avg", hidden=()),
                                dict(channels=(8,), convs_per_stage=3, pool="none", kernel_size=5),
                                dict(in_channels=3, image_size=32, num_classes=4, batch_norm=True, dropout=0.5),
                                dict(image_size=29, channels=(4, 4, 4))])
def test_classic_cnn_flatten_size_matches_torch(kw):
    cfg = models.ClassicCNNConfig(**kw)
    model = models.classic_cnn(cfg).eval()
    x = torch.rand(3, cfg.in_channels, cfg.image_size, cfg.image_size)
    feats = model.features(x)
    assert feats.shape[-1] == cfg.feature_size()  # formula vs what PyTorch computes
    assert model(x).shape == (3, cfg.num_classes)
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == cfg.batch_norm
    assert any(isinstance(m, nn.Dropout) for m in model.modules()) == (cfg.dropout > 0)


def test_classic_cnn_overrides_and_bad_input():
    base = models.ClassicCNNConfig(channels=(8,))
    model = models.classic_cnn(base, num_classes=3)
    assert model(torch.zeros(1, 1, 28, 28)).shape == (1, 3)
    assert base.num_classes == 10  # the config passed in is not changed
    with pytest.raises(ValueError, match="too small for 5 pooled stages"):
        models.classic_cnn(channels=(4,) * 5)
    with pytest.raises(ValueError, match="pool='min' is not a known pool"):
        models.ClassicCNNConfig(pool="min")
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        models.ClassicCNNConfig(kernel_size=4)
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        models.ClassicCNNConfig(num_classes=0)
    with pytest.raises(ValueError, match="channels must be a tuple of positive ints"):
        models.ClassicCNNConfig(channels=(8, -1))
    with pytest.raises(ValueError, match="dropout"):
        models.ClassicCNNConfig(dropout=1.0)
    with pytest.raises(TypeError, match="ClassicCNNConfig"):
        models.classic_cnn({"channels": (8,)})


def test_residual_block_shapes_and_skip():
    x = torch.rand(2, 8, 12, 12)
    assert models.ResidualBlock(8, 8)(x).shape == (2, 8, 12, 12)
    assert models.ResidualBlock(8, 16, stride=2)(x).shape == (2, 16, 6, 6)
    block = models.ResidualBlock(8, 8).eval()
    for p in block.body.parameters():  # zero every BN scale and shift: F(x) = 0, the block is ReLU(x)
        if p.ndim == 1:
            nn.init.zeros_(p)
    assert torch.allclose(block(x), torch.relu(x))
    plain = models.ResidualBlock(8, 8, skip=False)
    assert isinstance(plain.shortcut, nn.Identity)
    with pytest.raises(ValueError, match=r"x has 3 channels \(shape \(2, 3, 12, 12\)\) but this ResidualBlock \(c_in=8\) takes a batch "
                       r"\(N, 8, H, W\)"):
        block(torch.rand(2, 3, 12, 12))
    with pytest.raises(ValueError, match="stride must be a positive int"):
        models.ResidualBlock(8, 8, stride=0)


def test_count_params_matches_torch():
    lin = nn.Linear(10, 5)
    assert models.count_params(lin) == 55
    lin.bias.requires_grad_(False)
    assert models.count_params(lin, trainable_only=True) == 50
    with pytest.raises(TypeError, match="nn.Module"):
        models.count_params([lin])


def test_count_flops_by_hand():
    conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
    # one multiply-add per weight per output pixel, 2 FLOPs each
    assert models.count_flops(conv, (1, 3, 10, 10)) == 2 * 8 * 10 * 10 * 3 * 3 * 3
    assert models.count_flops(nn.Linear(10, 5), (4, 10)) == 2 * 4 * 10 * 5
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()).train()
    models.count_flops(model, (1, 1, 5, 5))
    assert model.training  # mode restored
    assert models.count_flops(conv, [1, 3, 10, 10]) == models.count_flops(conv, (1, 3, 10, 10))  # a list is fine
    with pytest.raises(ValueError, match="input_shape must be a tuple"):
        models.count_flops(conv, (1, 3, -10, 10))
