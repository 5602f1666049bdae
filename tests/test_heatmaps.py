import pytest
import torch

from course_utils.heatmaps import decode_centers, encode_centers, find_peaks, gaussian_heatmaps


def test_gaussian_heatmaps_peaks_are_one_and_channels_separate():
    hm = gaussian_heatmaps(torch.tensor([[2.0, 3.0], [6.0, 1.0], [2.0, 3.0]]), torch.tensor([0, 0, 1]), 2, 8, 10, 1.0)
    assert hm.shape == (2, 8, 10)
    assert hm[0, 3, 2] == 1 and hm[0, 1, 6] == 1 and hm[1, 3, 2] == 1 and hm[1, 1, 6] < 0.01
    assert hm.max() == 1 and hm.min() >= 0
    assert torch.isclose(hm[0, 3, 3], torch.exp(torch.tensor(-0.5)))  # one cell away, sigma 1
    with pytest.raises(ValueError, match="channels must lie in 0..1"):
        gaussian_heatmaps(torch.zeros(1, 2), torch.tensor([2]), 2, 4, 4)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        gaussian_heatmaps(torch.zeros(1, 2), torch.tensor([0]), 1, 4, 4, sigma=0.0)


def test_find_peaks_uses_the_maxpool_rule():
    hm = torch.zeros(1, 2, 6, 6)
    hm[0, 0, 1, 1], hm[0, 0, 1, 2] = 0.9, 0.8  # neighbours: only the larger one is a peak
    hm[0, 0, 4, 4] = 0.5
    hm[0, 1, 1, 2] = 0.7  # other channel: not suppressed by channel 0
    hm[0, 1, 5, 0] = 0.05  # below the threshold
    (p,) = find_peaks(hm, k=10, threshold=0.1)
    assert p["scores"].tolist() == pytest.approx([0.9, 0.7, 0.5])
    assert p["channels"].tolist() == [0, 1, 0] and p["ys"].tolist() == [1, 1, 4] and p["xs"].tolist() == [1, 2, 4]
    assert len(find_peaks(hm, k=2)[0]["scores"]) == 2
    with pytest.raises(ValueError, match="kernel must be an odd int"):
        find_peaks(hm, kernel=2)
    with pytest.raises(ValueError, match=r"heatmap must be a 4D batch \(N, C, H, W\) of maps, got shape \(2, 6, 6\)"):
        find_peaks(hm[0])


def test_encode_then_decode_gives_the_boxes_back():
    boxes = torch.tensor([[3.0, 5.0, 20.0, 17.0], [30.0, 33.0, 61.0, 60.0], [40.0, 2.0, 47.0, 25.0]])
    labels = torch.tensor([2, 0, 2])
    t = encode_centers(boxes, labels, num_classes=3, image_size=64, stride=4)
    assert t["heatmap"].shape == (3, 16, 16) and t["mask"].sum() == 3
    assert t["heatmap"].amax((1, 2)).tolist() == [1.0, 0.0, 1.0]
    (d,) = decode_centers(t["heatmap"][None], t["size"][None], stride=4, offset=t["offset"][None], threshold=0.5)
    order = d["boxes"][:, 0].argsort()
    assert torch.allclose(d["boxes"][order], boxes, atol=1e-4)
    assert d["labels"][order].tolist() == [2, 0, 2] and (d["scores"] == 1).all()
    # without offsets the centre snaps to the middle of its cell: off by at most half a cell (2 pixels)
    (d0,) = decode_centers(t["heatmap"][None], t["size"][None], stride=4, threshold=0.5)
    assert (d0["boxes"][d0["boxes"][:, 0].argsort()] - boxes).abs().max() <= 2


def test_encode_skips_padding_and_refuses_bad_input():
    t = encode_centers(torch.tensor([[0.0, 0, 8, 8], [0, 0, 0, 0]]), torch.tensor([1, -1]), 2, 32, 8)
    assert t["mask"].sum() == 1 and t["heatmap"][1, 0, 0] == 1
    with pytest.raises(ValueError, match="stride must be a positive int dividing image_size=30"):
        encode_centers(torch.zeros(0, 4), torch.zeros(0), 2, 30, 4)
    with pytest.raises(ValueError, match="x2 > x1"):
        encode_centers(torch.tensor([[5.0, 5, 5, 9]]), torch.tensor([0]), 1, 32, 4)
    with pytest.raises(ValueError, match=r"size must have shape \(any, 2, any, any\), got \(1, 3, 4, 4\)"):
        decode_centers(torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 4, 4), stride=4)
