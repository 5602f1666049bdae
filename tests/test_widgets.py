import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from torch import nn  # noqa: E402

from course_utils import widgets  # noqa: E402
from course_utils.shapes import ShapeError  # noqa: E402

READ = matplotlib.colors.to_rgba(widgets._READ, 0.85)


def _read_cells(fig) -> set[tuple[int, int]]:
    """(row, col) of the dark-blue cells drawn on the input panel."""
    ax = fig.axes[0]
    return {(int(p.get_y()), int(p.get_x())) for p in ax.patches
            if isinstance(p, Rectangle) and p.get_facecolor() == pytest.approx(READ)}


@pytest.mark.parametrize("size, k, s, p, d, cell", [(5, 3, 1, 0, 1, (1, 2)), (6, 3, 2, 1, 1, (2, 0)),
                                                    (7, 3, 1, 2, 2, (0, 3)), (7, 2, 3, 0, 1, (1, 1))])
def test_draw_convolution_marks_the_cells_torch_reads(size, k, s, p, d, cell):
    fig = widgets.draw_convolution(size, k, s, p, d, output_cell=cell)
    conv = nn.Conv2d(1, 1, k, s, p, d, bias=False)
    nn.init.ones_(conv.weight)
    x = torch.zeros(1, 1, size, size, requires_grad=True)
    conv(x)[0, 0, cell[0], cell[1]].backward()
    in_image = {(r, c) for r, c in _read_cells(fig) if 0 <= r < size and 0 <= c < size}
    assert in_image == {tuple(rc) for rc in x.grad[0, 0].nonzero().tolist()}
    assert len(_read_cells(fig)) == k * k  # padding cells included
    plt.close(fig)


def test_draw_convolution_shows_impossible_settings_and_rejects_bad_arguments():
    fig = widgets.draw_convolution(3, 5)
    assert any("impossible setting" in t.get_text() for t in fig.axes[1].texts)
    plt.close(fig)
    with pytest.raises(ShapeError, match="stride must be an int >= 1"):
        widgets.draw_convolution(5, 3, stride=0)
    with pytest.raises(TypeError, match="output_cell must be a"):
        widgets.draw_convolution(5, 3, output_cell=3)


def test_gallery():
    fig = widgets.draw_convolution_gallery([{}, {"stride": 2}, {"dilation": 2, "size": 7}], ncols=2,
                                           titles=["a", "b", "c"])
    assert len(fig.axes) == 8
    plt.close(fig)
    with pytest.raises(TypeError, match="non-empty list of dicts"):
        widgets.draw_convolution_gallery([])
    with pytest.raises(ValueError, match="2 settings but 1 titles"):
        widgets.draw_convolution_gallery([{}, {}], titles=["a"])


def test_visualizer_follows_its_sliders():
    viz = widgets.conv_visualizer(size=6)
    assert viz.sliders["row"].max == 3 and viz.error is None
    viz.sliders["row"].value = 3
    viz.sliders["stride"].value = 2  # output 2x2: the row slider is clipped to 1
    assert viz.sliders["row"].max == 1 and viz.settings()["output_cell"] == (1, 0)
    assert viz.figure.axes[1].get_title() == "output 2x2, cell (1, 0)"
    viz.sliders["kernel_size"].value = 7
    assert viz.error and "kernel spans 7 cells" in viz.error and "impossible" in viz.message.value
    viz.sliders["padding"].value = 1
    assert viz.error is None and viz.settings()["output_cell"] == (0, 0)
    with pytest.raises(ValueError, match="kernel_size must be an int in 1..7"):
        widgets.conv_visualizer(kernel_size=9)
    plt.close("all")
