"""Course-wide switches: quick/full mode, online access, cache folder, device, seeding.

Every notebook reads its mode from here, so a single environment variable changes the
whole course:

=====================  ======================================================  =========
variable               meaning                                                 default
=====================  ======================================================  =========
``CONVNETS_QUICK``     ``1``: quick mode (small data, few epochs; the tests)   ``0``
``CONVNETS_ONLINE``    ``1``: allow downloads (torchvision datasets/weights)   ``0``
``CONVNETS_CACHE``     folder for everything the course writes                 ``~/.cache/convnets-course``
``CONVNETS_DEVICE``    force a device (``cpu``, ``cuda``, ``cuda:1``, ``mps``) auto
=====================  ======================================================  =========
"""

from __future__ import annotations

import os
import random
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

from . import _checks

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"environment variable {name} must be 1/0 (or true/false), got {value!r}")


def quick_mode() -> bool:
    """Return True when ``CONVNETS_QUICK=1``: notebooks use small data and few epochs."""
    return _flag("CONVNETS_QUICK")


def online() -> bool:
    """Return True when ``CONVNETS_ONLINE=1``: loaders may download from the internet."""
    return _flag("CONVNETS_ONLINE")


class OfflineError(RuntimeError):
    """A download was needed without network access or without ``CONVNETS_ONLINE=1``."""


def _resolve(host: str, port: int, timeout: float) -> list:
    """``socket.getaddrinfo`` bounded by ``timeout`` seconds (a hanging DNS server cannot block us)."""
    result: dict = {}

    def lookup() -> None:
        try:
            result["addresses"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as err:
            result["error"] = err

    thread = threading.Thread(target=lookup, name=f"dns {host}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"the DNS lookup of {host} took longer than {timeout:g} s")
    if "error" in result:
        raise result["error"]
    return result["addresses"]


def require_online(what: str, host: str = "download.pytorch.org", timeout: float = 3.0, reason: str = "") -> None:
    """The one gate in front of every download: raise :class:`OfflineError` unless allowed and reachable.

    Args:
        what: what the caller wants to download, for the message (e.g. ``"CIFAR-10"``).
        host: a host to test with a short TCP connection (port 443).
        timeout: seconds for the DNS lookup and for the connection each; never hangs longer.
        reason: why a download is needed, added to the message (e.g. an incomplete folder).

    Raises:
        OfflineError: ``CONVNETS_ONLINE`` is not 1, or ``host`` cannot be resolved or reached in time.
    """
    for name, value in (("what", what), ("host", host)):
        if not isinstance(value, str) or not value:
            raise TypeError(f"{name} must be a non-empty str, got {_checks.describe(value)}")
    timeout = _checks.number("timeout", timeout, 0, low_open=True, hint="seconds to wait for the host")
    why = f" ({reason})" if reason else ""
    if not online():
        raise OfflineError(
            f"{what} needs the internet, and online loaders are switched off{why}. "
            "Set CONVNETS_ONLINE=1 (e.g. `CONVNETS_ONLINE=1 jupyter lab`) to allow downloads, "
            "or use the shipped offline data (load_tensors('animals'))."
        )
    try:
        family, kind, proto, _, address = _resolve(host, 443, timeout)[0]
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
    except OSError as err:  # includes TimeoutError and socket.gaierror
        raise OfflineError(
            f"{what} needs the internet{why}, but {host} cannot be reached ({err}). "
            "Check your connection, or use the shipped offline data."
        ) from err


@contextmanager
def network_timeout(seconds: float = 60.0) -> Iterator[None]:
    """Bound every socket operation of a download (torchvision and torch.hub set none) to ``seconds``."""
    seconds = _checks.number("seconds", seconds, 0, low_open=True)
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def pick(quick: T, full: T) -> T:
    """Return ``quick`` in quick mode and ``full`` otherwise.

    Args:
        quick: value used when ``CONVNETS_QUICK=1`` (e.g. 2 epochs).
        full: value used in full mode (e.g. 15 epochs).

    Example:
        >>> epochs = pick(quick=2, full=15)
    """
    return quick if quick_mode() else full


def mode_name() -> str:
    """``"quick"`` or ``"full"``, for printing at the top of a notebook."""
    return "quick" if quick_mode() else "full"


class CacheDirError(OSError):
    """The cache folder (``$CONVNETS_CACHE``) cannot be created or is not a folder."""


def cache_root() -> Path:
    """The cache folder's path, ``$CONVNETS_CACHE`` or ``~/.cache/convnets-course`` (not created)."""
    return Path(os.environ.get("CONVNETS_CACHE") or Path.home() / ".cache" / "convnets-course").expanduser()


def cache_dir(*parts: str) -> Path:
    """The folder the course writes to (created on demand); never inside ``data/``.

    Args:
        *parts: optional sub-folders, e.g. ``cache_dir("features")``.

    Returns:
        An existing directory: ``$CONVNETS_CACHE/<parts>`` or
        ``~/.cache/convnets-course/<parts>``.

    Raises:
        CacheDirError: the folder cannot be created (a file in its way, no permission,
            disk full); the message names the folder and what to do.
    """
    for part in parts:
        if (not isinstance(part, str) or not part or "\x00" in part or Path(part).is_absolute()
                or ".." in Path(part).parts):
            raise ValueError(f"cache_dir parts must be relative folder names such as 'features', got {part!r}")
    root = cache_root()
    path = root.joinpath(*parts)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        where = "$CONVNETS_CACHE" if os.environ.get("CONVNETS_CACHE") else "the default cache folder"
        raise CacheDirError(
            err.errno, f"cannot use {path} as a cache folder ({err.strerror or err}; {where} is {root}); "
            "set CONVNETS_CACHE to a folder you can write to, e.g. `export CONVNETS_CACHE=/tmp/convnets-cache`"
        ) from err
    if not path.is_dir():
        raise CacheDirError(f"cache folder {path} exists but is not a folder; set CONVNETS_CACHE to a folder")
    return path


def get_device(prefer: str | None = None) -> torch.device:
    """Pick the device to train on: CUDA if present, then Apple MPS, else CPU.

    Args:
        prefer: explicit choice (``"cpu"``, ``"cuda"``, ``"cuda:0"``, ``"mps"``).
            Defaults to ``$CONVNETS_DEVICE`` or automatic choice.

    Raises:
        ValueError: the requested device is not a device name, or is not available on
            this machine (the message names ``prefer`` or ``CONVNETS_DEVICE``).
    """
    name = "prefer" if prefer not in (None, "") else "CONVNETS_DEVICE"
    choice = prefer if prefer not in (None, "") else (os.environ.get("CONVNETS_DEVICE", "").strip() or None)
    if choice is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return _checks.device(name, choice)


def seed_everything(seed: int = 0, deterministic: bool = True) -> torch.Generator:
    """Make a run repeatable: seed Python, NumPy and PyTorch (CPU and CUDA).

    Args:
        seed: any non-negative integer.
        deterministic: also ask cuDNN for deterministic kernels (slightly slower on GPU).

    Returns:
        A ``torch.Generator`` seeded with ``seed``, handy for ``DataLoader(generator=...)``.
    """
    seed = _checks.integer("seed", seed, 0, 2**63 - 1)
    deterministic = _checks.flag("deterministic", deterministic)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


def environment_report() -> dict[str, str]:
    """Versions and device of this environment, as a dict of printable strings."""
    import platform

    import torchvision

    report = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "device": str(get_device()),
        "cpu threads": str(torch.get_num_threads()),
        "mode": mode_name(),
        "online": str(online()),
        "cache": str(cache_root()),  # reported, not created
    }
    if torch.cuda.is_available():
        report["gpu"] = torch.cuda.get_device_name(0)
    return report
