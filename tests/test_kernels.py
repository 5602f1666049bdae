import io

import pytest
import torch
import torch.nn.functional as F

from course_utils import kernels


def test_presets_are_3x3_fresh_copies():
    assert len(kernels.PRESETS) >= 6
    for name in kernels.PRESETS:
        k = kernels.preset(name)
        assert k.shape == (3, 3) and k.dtype == torch.float32, name
    k = kernels.preset("identity")
    k[1, 1] = 7
    assert kernels.preset("identity")[1, 1] == 1, "preset() must return a copy"
    assert torch.isclose(kernels.preset("box blur").sum(), torch.tensor(1.0))
    assert torch.isclose(kernels.preset("gaussian blur").sum(), torch.tensor(1.0))
    assert kernels.preset("outline").sum() == 0 and kernels.preset("sobel x").sum() == 0


def test_preset_bad_names():
    with pytest.raises(ValueError, match="name='blurr' is not a known preset; choose one of"):
        kernels.preset("blurr")
    with pytest.raises(TypeError, match="name must be a str.*got 3 \\(int\\)"):
        kernels.preset(3)


@pytest.mark.parametrize("padding", ["same", "valid", 0, 2])
@pytest.mark.parametrize("shape", [(3, 12, 10), (1, 9, 9), (2, 3, 8, 11)])
def test_apply_kernel_matches_conv2d_per_channel(shape, padding):
    torch.manual_seed(0)
    x = torch.rand(shape)
    k = torch.randn(3, 3)
    out = kernels.apply_kernel(x, k, padding=padding)
    batch = x if x.ndim == 4 else x[None]
    # reference: every channel on its own through a 1-in, 1-out Conv2d
    ref = torch.cat([F.conv2d(batch[:, c:c + 1], k[None, None], padding=padding) for c in range(batch.shape[1])], 1)
    ref = ref if x.ndim == 4 else ref[0]
    assert out.shape == ref.shape
    assert torch.allclose(out, ref, atol=1e-6)


def test_apply_kernel_identity_and_list_kernel():
    x = torch.rand(3, 7, 7)
    assert torch.allclose(kernels.apply_kernel(x, kernels.preset("identity")), x)
    assert torch.allclose(kernels.apply_kernel(x, [[0, 0, 0], [0, 1, 0], [0, 0, 0]]), x)
    # a non-square kernel keeps 'same' size
    assert kernels.apply_kernel(x, torch.ones(1, 3) / 3).shape == x.shape


def test_apply_kernel_bad_inputs():
    gray = torch.rand(5, 5)  # a gray (H, W) image is filtered as (1, H, W) and keeps its layout
    assert torch.equal(kernels.apply_kernel(gray, kernels.preset("sharpen")),
                       kernels.apply_kernel(gray[None], kernels.preset("sharpen"))[0])
    with pytest.raises(ValueError, match=r"image must be a 2D, 3D or 4D tensor \(C, H, W\), a batch \(N, C, H, W\) or a gray "
                       r"\(H, W\), got shape \(5,\)"):
        kernels.apply_kernel(torch.rand(5), kernels.preset("identity"))
    with pytest.raises(ValueError, match=r"expected a 2D kernel \(kH, kW\), got shape \(1, 3, 3\)"):
        kernels.apply_kernel(torch.rand(1, 5, 5), torch.rand(1, 3, 3))
    with pytest.raises(TypeError, match=r"image must be a torch.Tensor .*got \[\[1.0\]\] \(list\)"):
        kernels.apply_kernel([[1.0]], kernels.preset("identity"))
    with pytest.raises(ValueError, match="padding must be"):
        kernels.apply_kernel(torch.rand(1, 5, 5), kernels.preset("identity"), padding="full")
    with pytest.raises(ValueError, match="padding must be"):
        kernels.apply_kernel(torch.rand(1, 5, 5), kernels.preset("identity"), padding=-1)


def test_kernel_figure():
    import matplotlib.pyplot as plt

    fig = kernels.kernel_figure(torch.rand(3, 16, 16), kernels.preset("sobel x"), title="t")
    assert len(fig.axes) == 3 and fig.axes[2].get_title() == "output (|output| / max)"
    plt.close(fig)
    fig = kernels.kernel_figure(torch.rand(1, 16, 16), kernels.preset("gaussian blur"))
    assert fig.axes[2].get_title() == "output (as is)"
    plt.close(fig)
    fig = kernels.kernel_figure(torch.rand(1, 16, 16), kernels.preset("sharpen"))
    assert fig.axes[2].get_title() == "output (clamped to [0, 1])"
    plt.close(fig)
    with pytest.raises(ValueError, match=r"image must have 1 or 3 channels in \(C, H, W\)"):
        kernels.kernel_figure(torch.rand(2, 16, 16), kernels.preset("identity"))


def test_display_image_clamps_unless_the_kernel_sums_to_zero():
    torch.manual_seed(0)
    img = 0.25 + 0.5 * torch.rand(1, 32, 32)
    sharp = kernels.apply_kernel(img, kernels.preset("sharpen"))
    shown, how = kernels.display_image(sharp, kernels.preset("sharpen"))
    assert how == "clamped to [0, 1]" and torch.equal(shown, sharp.clamp(0, 1))
    assert shown.std() > img.std()  # sharpening shows more contrast than its input, never less
    edges = kernels.apply_kernel(img, kernels.preset("sobel x"))
    shown, how = kernels.display_image(edges, kernels.preset("sobel x"))
    assert how == "|output| / max" and shown.min() >= 0 and shown.max() == 1
    assert torch.allclose(shown, edges.abs() / edges.abs().max())
    assert kernels.display_image(img, kernels.preset("identity"))[1] == "as is"


def _png_bytes(h=20, w=30) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), (255, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


def test_decode_image():
    img = kernels.decode_image(_png_bytes(), size=10)
    assert img.shape == (3, 10, 15) and torch.allclose(img[0], torch.ones(10, 15))
    with pytest.raises(ValueError, match="could not decode"):
        kernels.decode_image(b"not an image")
    with pytest.raises(TypeError, match="content must be bytes, got str"):
        kernels.decode_image("x.png")


def test_playground_state_without_frontend(tmp_path):
    import matplotlib.pyplot as plt

    imgs = {"a": torch.rand(3, 12, 12), "b": torch.rand(1, 10, 10)}
    pg = kernels.kernel_playground(imgs, preset_name="identity")
    assert torch.allclose(pg.result, imgs["a"])
    out = pg.select("b", "box blur")
    assert torch.allclose(out, kernels.apply_kernel(imgs["b"], kernels.preset("box blur")))
    pg.set_kernel([[0, 0, 0], [0, 2, 0], [0, 0, 0]])
    assert pg.preset_name is None and torch.allclose(pg.result, 2 * imgs["b"])
    plt.close(pg.figure())
    # your own image: as bytes (an upload) and as a path
    name = pg.add_image_bytes("red.png", _png_bytes())
    assert pg.image_name == name and pg.image.shape == (3, 192, 288)
    path = tmp_path / "mine.png"
    path.write_bytes(_png_bytes())
    assert pg.add_image_file(str(path)) == "yours: mine.png"
    with pytest.raises(ValueError, match="image='c' is not a known image"):
        pg.select("c")
    with pytest.raises(ValueError, match="edits 3x3 kernels, got shape"):
        pg.set_kernel(torch.ones(5, 5))
    with pytest.raises(ValueError, match=r"image 'bad' must have 1 or 3 channels in \(C, H, W\)"):
        pg.add_image("bad", torch.rand(4, 5, 5))
    with pytest.raises(FileNotFoundError):
        pg.add_image_file(str(tmp_path / "missing.png"))
    with pytest.raises(ValueError, match="at least one"):
        kernels.kernel_playground({})


def test_playground_widget_reacts_to_edits():
    pytest.importorskip("ipywidgets")
    imgs = {"a": torch.rand(3, 12, 12), "b": torch.rand(3, 8, 8)}
    pg = kernels.kernel_playground(imgs, preset_name="identity")
    box = pg.widget
    assert box is pg.widget  # built once
    pg._cells[4].value = 3.0  # the learner edits the centre value
    assert pg.preset_name is None and torch.allclose(pg.result, 3 * imgs["a"])
    pg._preset_menu.value = "sharpen"
    assert torch.allclose(pg.kernel, kernels.preset("sharpen"))
    assert [c.value for c in pg._cells] == kernels.preset("sharpen").flatten().tolist()
    pg._image_menu.value = "b"
    assert pg.result.shape == (3, 8, 8)
    pg._on_upload(({"name": "up.png", "content": memoryview(_png_bytes())},))
    assert pg.image_name == "yours: up.png" and "yours: up.png" in pg._image_menu.options
    pg._path.value = "/nonexistent/file.png"
    pg._on_path()
    assert "no image file" in pg._message.value
    areas = {c.layout.grid_area for c in pg._cells}  # placed by name: a disconnected icon cannot shift them
    assert len(areas) == 9 and all(a in box.children[0].children[3].layout.grid_template_areas for a in areas)


def test_default_playground_uses_shipped_photos():
    from course_utils import data

    pg = kernels.kernel_playground(size=32)
    assert list(pg.images) == list(data.PHOTOS) and min(pg.image.shape[1:]) == 32
