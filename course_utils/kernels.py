"""Classic 3x3 image kernels, applying them with ``F.conv2d``, and the kernel playground.

* :data:`PRESETS` / :func:`preset`: identity, box and Gaussian blur, sharpen, outline
  (edge), Sobel x/y and emboss, as ``(3, 3)`` float tensors.
* :func:`apply_kernel`: one 2D kernel applied to every channel of an image with
  ``F.conv2d`` (a depthwise convolution, ``groups = C``).
* :func:`kernel_figure`: input, kernel values and output side by side (a static figure).
* :class:`KernelPlayground` / :func:`kernel_playground`: pick an image and a preset, edit
  the 3x3 values live, upload your own photo or give its path. Without a widget frontend
  (nbval, a rendered page) use :meth:`KernelPlayground.figure` for the same picture.

Note that ``F.conv2d`` computes a cross-correlation (the kernel is not flipped), like
every deep-learning library; the presets are written for that convention.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping

import torch
import torch.nn.functional as F

from . import _checks
from .data import read_image

_PRESETS: dict[str, list[list[float]]] = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "box blur": [[1 / 9] * 3] * 3,
    "gaussian blur": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "sobel x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],  # responds to vertical edges (change along x)
    "sobel y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],  # responds to horizontal edges (change along y)
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}
PRESETS: tuple[str, ...] = tuple(_PRESETS)
"""Names of the classic kernels, in display order."""


def preset(name: str) -> torch.Tensor:
    """A classic 3x3 kernel by name (a fresh copy you may change).

    Args:
        name: one of :data:`PRESETS` (``"identity"``, ``"box blur"``, ``"gaussian blur"``,
            ``"sharpen"``, ``"outline"``, ``"sobel x"``, ``"sobel y"``, ``"emboss"``).

    Returns:
        float32 tensor of shape ``(3, 3)``.
    """
    return _preset(name, "name")


def _preset(name: str, arg: str) -> torch.Tensor:
    """:func:`preset`, with errors naming the caller's argument ``arg``."""
    return torch.tensor(_PRESETS[_checks.choice(arg, name, PRESETS, "preset")], dtype=torch.float32)


def _as_kernel(kernel: torch.Tensor | list, arg: str = "kernel") -> torch.Tensor:
    """A 2D float kernel of finite numbers from a tensor or a nested list."""
    if isinstance(kernel, (str, bytes)) or kernel is None:
        raise TypeError(f"{arg} must be a 2D tensor or a nested list of numbers (kH, kW), e.g. preset('sharpen'), "
                        f"got {_checks.describe(kernel)}")
    try:
        k = torch.as_tensor(kernel, dtype=torch.float32) if not isinstance(kernel, torch.Tensor) else kernel
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{arg} must be a 2D tensor or a nested list of numbers with rows of one length, "
                        f"got {_checks.describe(kernel)} ({err})") from err
    if k.ndim != 2 or k.shape[0] < 1 or k.shape[1] < 1:
        raise ValueError(f"expected a 2D {arg} (kH, kW), got shape {tuple(k.shape)}")
    if k.is_complex():
        raise TypeError(f"{arg} must hold real numbers, got dtype {k.dtype}")
    return _checks.finite(arg, k.float())


def apply_kernel(image: torch.Tensor, kernel: torch.Tensor | list, padding: str | int = "same") -> torch.Tensor:
    """Apply one 2D kernel to every channel of an image with ``F.conv2d``.

    Each channel is filtered on its own with the same kernel (a depthwise convolution:
    weight ``(C, 1, kH, kW)``, ``groups=C``), so an RGB photo stays an RGB photo.

    Args:
        image: float tensor ``(C, H, W)`` or a batch ``(N, C, H, W)`` with any number of
            channels, or a gray ``(H, W)`` (uint8 0-255 and NumPy arrays are converted).
            A channels-last photo ``(H, W, 3)`` is refused (its axes would be filtered
            wrongly): pass ``image.permute(2, 0, 1)``.
        kernel: ``(kH, kW)`` tensor or nested list, e.g. ``preset("sharpen")``.
        padding: ``"same"`` (default: output as large as the input, zeros outside),
            ``"valid"`` (no padding) or a non-negative int, as in ``F.conv2d``.

    Returns:
        ``(C, H', W')`` or ``(N, C, H', W')``, same layout as ``image``; not clipped
        (edge kernels give negative values).
    """
    image = _checks.tensor("image", image, (2, 3, 4), "(C, H, W), a batch (N, C, H, W) or a gray (H, W)",
                           channels_first=True, dtype=("float", torch.uint8, "bool"), finite=True)
    if image.ndim == 2:  # a gray image (H, W): filter it as (1, H, W) and give back (H', W')
        return apply_kernel(image[None], kernel, padding)[0]
    if image.dtype == torch.uint8:
        image = image.float() / 255  # 0-255 -> [0, 1], as everywhere in the course
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same', 'valid' or an int >= 0, got {padding!r}")
        padding = str(padding)
    else:
        padding = _checks.integer("padding", padding, 0, hint="or 'same' / 'valid'")
    k = _as_kernel(kernel).to(image.device)
    h, w = image.shape[-2:]
    if isinstance(padding, int) and padding > max(h, w, *k.shape):
        raise ValueError(f"padding={padding} is more than the image side and the kernel side ({max(h, w, *k.shape)}); "
                         "only zeros lie that far out")
    pad = 0 if padding == "valid" else padding
    if isinstance(pad, int) and (k.shape[0] > h + 2 * pad or k.shape[1] > w + 2 * pad):
        raise ValueError(f"kernel {tuple(k.shape)} is larger than the image {(h, w)} with padding={padding!r}; "
                         "use a smaller kernel, more padding or padding='same'")
    x = image[None] if image.ndim == 3 else image  # (C, H, W) -> (1, C, H, W)
    x = x.float()
    c = x.shape[1]
    weight = k.expand(c, 1, *k.shape)  # (kH, kW) -> (C, 1, kH, kW): one copy per channel
    if isinstance(padding, str) and padding == "valid":
        padding = 0
    out = F.conv2d(x, weight, padding=padding, groups=c)  # (N, C, H, W) -> (N, C, H', W')
    return out[0] if image.ndim == 3 else out


def _image_for_display(img: torch.Tensor) -> tuple[torch.Tensor, dict]:
    """(C, H, W) -> an imshow-able array and its keyword arguments."""
    img = img.detach().cpu()
    if img.shape[0] == 1:
        return img[0], {"cmap": "gray"}
    return img.permute(1, 2, 0), {}


def display_image(out: torch.Tensor, kernel: torch.Tensor | list) -> tuple[torch.Tensor, str]:
    """A filtered image made displayable in ``[0, 1]``, and a few words saying how.

    One rule for every figure of the course, decided by the kernel, not by the output:

    * weights summing to 0 (edge kernels: outline, Sobel): the response is signed and
      centred on 0, so show its strength ``|out| / max |out|`` (black = no edge);
    * any other kernel (blur, sharpen, emboss, a shift): the output is an image of the
      same brightness scale as the input, so show it as is, clamped to ``[0, 1]``
      (rescaling it would make a sharpened photo look duller than its input).

    Args:
        out: the filtered image ``(C, H, W)`` (or any shape), e.g. from :func:`apply_kernel`.
        kernel: the ``(kH, kW)`` kernel that made it.

    Returns:
        ``(image, how)``: ``image`` in ``[0, 1]``, same shape as ``out``; ``how`` is
        ``"|output| / max"``, ``"clamped to [0, 1]"`` or ``"as is"`` (nothing was outside).
    """
    k = _as_kernel(kernel)
    out = _checks.tensor("out", out, layout="(C, H, W), e.g. from apply_kernel")
    if out.is_complex():
        raise TypeError(f"out must hold real numbers, got dtype {out.dtype}")
    out = _checks.finite("out", out.detach().float(), hint="check the image and the kernel")
    if abs(float(k.sum())) < 1e-6 * max(1.0, float(k.abs().sum())):
        mag = out.abs()
        return mag / (mag.max() + 1e-12), "|output| / max"
    outside = bool((out < 0).any() or (out > 1).any())
    return out.clamp(0, 1), "clamped to [0, 1]" if outside else "as is"


@torch.no_grad()
def kernel_figure(image: torch.Tensor, kernel: torch.Tensor | list, title: str | None = None):
    """Input, kernel values and filtered output side by side; returns the matplotlib figure.

    Args:
        image: ``(C, H, W)`` float tensor in ``[0, 1]`` (1 or 3 channels).
        kernel: ``(kH, kW)`` tensor or nested list.
        title: figure title (default: none).

    The output is shown by the rule of :func:`display_image` (clamped to ``[0, 1]``, or
    ``|output| / max`` for kernels whose weights sum to 0), as the subplot title says.
    """
    import matplotlib.pyplot as plt

    image = _checks.images("image", image, batch=False)  # uint8 and channels-last converted
    k = _as_kernel(kernel)
    out = apply_kernel(image, k)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), gridspec_kw={"width_ratios": [3, 2, 3]})
    arr, kw = _image_for_display(image.clamp(0, 1))
    axes[0].imshow(arr, **kw, **({"vmin": 0, "vmax": 1} if kw else {}))
    axes[0].set_title(f"input {tuple(image.shape)}")
    lim = float(k.abs().max()) or 1.0
    axes[1].imshow(k, cmap="coolwarm", vmin=-lim, vmax=lim)
    for i in range(k.shape[0]):
        for j in range(k.shape[1]):
            axes[1].text(j, i, f"{float(k[i, j]):.3g}", ha="center", va="center", fontsize=10)
    axes[1].set_title(f"kernel {tuple(k.shape)}")
    axes[1].set_xticks(range(k.shape[1]))
    axes[1].set_yticks(range(k.shape[0]))
    axes[1].set_xlabel("column")
    axes[1].set_ylabel("row")
    shown, how = display_image(out, k)
    arr, kw = _image_for_display(shown)
    axes[2].imshow(arr, **kw, **({"vmin": 0, "vmax": 1} if kw else {}))
    axes[2].set_title(f"output ({how})")
    for ax in (axes[0], axes[2]):
        ax.set_xlabel("x (pixels)")
        ax.set_ylabel("y (pixels)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def decode_image(content: bytes, size: int | None = None) -> torch.Tensor:
    """Decode image bytes (PNG, JPEG, ...) into an RGB float tensor ``(3, H, W)`` in ``[0, 1]``.

    Args:
        content: the raw file content, e.g. from an ``ipywidgets.FileUpload``.
        size: resize so the shorter side is ``size`` pixels (aspect ratio kept).
    """
    if not isinstance(content, (bytes, bytearray, memoryview)):
        raise TypeError(f"content must be bytes, got {type(content).__name__}")
    return read_image(io.BytesIO(bytes(content)), size, name="the uploaded content")


class KernelPlayground:
    """Pick an image and a preset, edit the 3x3 kernel live, see the filtered image.

    Holds its state in plain attributes (``image_name``, ``kernel``, ``result``) so it
    works and can be tested without a browser; :attr:`widget` builds the ipywidgets UI
    (image and preset menus, a 3x3 grid of numbers, a file upload and a path box for
    your own image), and :meth:`figure` draws the same picture as a static figure.

    Args:
        images: ``{name: (C, H, W) tensor}``; default: the shipped photos at ``size``.
        preset_name: the preset to start with.
        size: shorter side in pixels of the default and of uploaded images.
    """

    def __init__(self, images: Mapping[str, torch.Tensor] | None = None, preset_name: str = "sobel x",
                 size: int = 192) -> None:
        size = _checks.integer("size", size, 1, 4096, hint="the shorter side in pixels")
        _checks.choice("preset_name", preset_name, PRESETS, "preset")
        if images is None:
            from . import data

            images = {name: data.load_photo(name, size=size) for name in data.PHOTOS}
        if not isinstance(images, Mapping):
            raise TypeError(f"images must be a dict {{name: (C, H, W) tensor}}, got {_checks.describe(images)}")
        if not images:
            raise ValueError("images must hold at least one (C, H, W) image")
        names = [k for k in images if not isinstance(k, str) or not k]
        if names:
            raise TypeError(f"images must be a dict {{name: (C, H, W) tensor}} with names (non-empty str) as keys, "
                            f"got the key {_checks.describe(names[0])}")
        self.size = size
        self.images: dict[str, torch.Tensor] = {}
        for name, img in images.items():
            self.add_image(name, _checks.images(f"images[{name!r}]", img, batch=False), select=False)
        self.image_name = next(iter(self.images))
        self.kernel = preset(preset_name)
        self.preset_name = preset_name
        self.result = apply_kernel(self.image, self.kernel)
        self._widget = None

    @property
    def image(self) -> torch.Tensor:
        """The selected image ``(C, H, W)``."""
        return self.images[self.image_name]

    def add_image(self, name: str, image: torch.Tensor, select: bool = True) -> None:
        """Add (or replace) an image ``(C, H, W)`` with C = 1 or 3, and select it by default."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str (shown in the image menu), got {_checks.describe(name)}")
        select = _checks.flag("select", select)
        self.images[name] = _checks.images(f"image {name!r}", image, batch=False)
        if select:
            self.image_name = name
            self._refresh()

    def add_image_file(self, path: str) -> str:
        """Load *your own* image from a file path (PNG/JPEG), add and select it; returns its name."""
        from pathlib import Path

        from . import data

        img = data.load_image_file(path, size=self.size)
        name = f"yours: {Path(path).name}"
        self.add_image(name, img)
        return name

    def add_image_bytes(self, name: str, content: bytes) -> str:
        """Add an uploaded image (raw bytes, e.g. from a FileUpload), select it; returns its name."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str (the file name), got {_checks.describe(name)}")
        name = f"yours: {name}"
        self.add_image(name, decode_image(content, size=self.size))
        return name

    def select(self, image: str | None = None, preset_name: str | None = None) -> torch.Tensor:
        """Choose an image and/or a preset kernel; returns the new filtered image."""
        if image is not None:
            self.image_name = _checks.choice("image", image, list(self.images), "image of this playground")
        if preset_name is not None:
            self.kernel = _preset(preset_name, "preset_name")
            self.preset_name = preset_name
        self._refresh()
        return self.result

    def set_kernel(self, kernel: torch.Tensor | list) -> torch.Tensor:
        """Use your own 3x3 kernel; returns the new filtered image."""
        k = _as_kernel(kernel)
        if k.shape != (3, 3):
            raise ValueError(f"the playground edits 3x3 kernels, got shape {tuple(k.shape)}")
        self.kernel = k.clone()
        self.preset_name = None
        self._refresh()
        return self.result

    def figure(self):
        """The current image, kernel and result as a static matplotlib figure."""
        name = self.preset_name or "custom kernel"
        return kernel_figure(self.image, self.kernel, title=f"{self.image_name}  *  {name}")

    def _refresh(self) -> None:
        self.result = apply_kernel(self.image, self.kernel)
        if self._widget is not None:
            self._sync_widgets()
            self._redraw()

    # --- the ipywidgets user interface -------------------------------------------------
    @property
    def widget(self):
        """The interactive UI (an ``ipywidgets.VBox``), built on first access."""
        if self._widget is None:
            self._build()
        return self._widget

    def _build(self) -> None:
        import ipywidgets as W

        self._busy = False
        self._image_menu = W.Dropdown(options=list(self.images), value=self.image_name, description="image")
        self._preset_menu = W.Dropdown(options=["(custom)", *PRESETS], value=self.preset_name or "(custom)",
                                       description="preset")
        # Every cell gets a named grid area: on a saved page without a kernel, ipywidgets marks the
        # grid "disconnected" with a ::before icon, which would otherwise take the first grid slot
        # and shift every entry one cell.
        self._cells = [W.FloatText(value=float(self.kernel[i, j]), step=0.1,
                                   layout=W.Layout(width="70px", grid_area=f"k{i}{j}"))
                       for i in range(3) for j in range(3)]
        areas = "\n".join('"' + " ".join(f"k{i}{j}" for j in range(3)) + '"' for i in range(3))
        grid = W.GridBox(self._cells, layout=W.Layout(grid_template_columns="repeat(3, 75px)",
                                                      grid_template_areas=areas))
        self._upload = W.FileUpload(accept="image/*", multiple=False, description="your image")
        self._path = W.Text(placeholder="or a path: /home/me/cat.jpg", description="path")
        self._load = W.Button(description="load path")
        self._message = W.HTML()
        self._out = W.Output()
        self._image_menu.observe(lambda ch: self._on_image(ch["new"]), names="value")
        self._preset_menu.observe(lambda ch: self._on_preset(ch["new"]), names="value")
        for cell in self._cells:
            cell.observe(lambda ch: self._on_cell(), names="value")
        self._upload.observe(lambda ch: self._on_upload(ch["new"]), names="value")
        self._load.on_click(lambda _: self._on_path())
        controls = W.VBox([self._image_menu, self._preset_menu, W.HTML("<b>kernel</b> (edit me)"), grid,
                           self._upload, W.HBox([self._path, self._load]), self._message])
        from .widgets import static_view_box

        self._widget = static_view_box(
            [controls, self._out], self.figure,
            "Kernel playground (image and preset menus, an editable 3x3 kernel; interactive with a running "
            "kernel). The picture shows the current image, kernel and result.")
        self._redraw()

    def _sync_widgets(self) -> None:
        self._busy = True  # programmatic changes must not trigger the handlers again
        try:
            self._image_menu.options = list(self.images)
            self._image_menu.value = self.image_name
            self._preset_menu.value = self.preset_name or "(custom)"
            for idx, cell in enumerate(self._cells):
                cell.value = float(self.kernel.flatten()[idx])
        finally:
            self._busy = False

    def _redraw(self) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import display

        self._out.clear_output(wait=True)
        with self._out:
            fig = self.figure()
            display(fig)
            plt.close(fig)

    def _on_image(self, name: str) -> None:
        if not self._busy:
            self.select(image=name)

    def _on_preset(self, name: str) -> None:
        if not self._busy and name != "(custom)":
            self.select(preset_name=name)

    def _on_cell(self) -> None:
        if not self._busy:
            self.set_kernel(torch.tensor([c.value for c in self._cells]).reshape(3, 3))

    def _on_upload(self, files) -> None:
        if self._busy or not files:
            return
        item = files[0] if isinstance(files, (tuple, list)) else next(iter(files.values()))
        try:
            self.add_image_bytes(item["name"], item["content"])
            self._message.value = f"added {item['name']}"
        except (OSError, ValueError, TypeError) as err:  # shown in the widget: an error here would reach no one
            self._message.value = f"<span style='color:red'>{html.escape(str(err))}</span>"

    def _on_path(self) -> None:
        try:
            name = self.add_image_file(self._path.value.strip())
            self._message.value = f"added {html.escape(name)}"
        except (OSError, ValueError, TypeError) as err:  # a folder, no permission, not an image: shown in the widget
            self._message.value = f"<span style='color:red'>{html.escape(str(err))}</span>"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def kernel_playground(images: Mapping[str, torch.Tensor] | None = None, preset_name: str = "sobel x",
                      size: int = 192) -> KernelPlayground:
    """Create a :class:`KernelPlayground` (shown as a widget when it is a cell's last value).

    Args:
        images: ``{name: (C, H, W) tensor}``; default: the shipped photos.
        preset_name: the preset to start with (one of :data:`PRESETS`).
        size: shorter side in pixels of the default and uploaded images.

    Example:
        >>> pg = kernel_playground()      # in JupyterLab: menus, a 3x3 grid, an upload button
        >>> pg.select("coffee", "sharpen")
        >>> pg.figure()                   # the same picture, static
    """
    return KernelPlayground(images, preset_name=preset_name, size=size)
