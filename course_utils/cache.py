"""The derived-data cache: tensors computed once, stored with what they came from, healed when bad.

Backbone features (:func:`course_utils.transfer.extract_features`), generated scenes and
anything else a notebook can recompute but would rather not, live under
``settings.cache_dir(<kind>)``. One entry is one ``.pt`` file holding

* ``record``: what the data was computed from (model, preprocessing, data, library
  versions), as JSON; the file name is a hash of it, so another input is another entry;
* ``checksum``: sha256 of every tensor (dtype, shape and bytes) and value in the payload;
* ``payload``: a tensor, or a dict / list / tuple of tensors and plain values.

:func:`load_or_compute` returns the stored payload when the entry is sound, and otherwise
computes it, with a one-line :class:`CacheWarning` naming the file when an existing entry
was bad (truncated, empty, random bytes, another format, a record or checksum that does not
match, a payload the caller's ``check`` refuses: wrong shape or dtype, NaN, all zeros).
Writes go to a uniquely named temporary file in the same folder and are renamed into place
(atomic), so concurrent writers of one entry never see each other's half-written files.
A cache folder that cannot be created or written (read-only, a file in its place, a full
disk) is not an error: the value is computed and returned without the cache, with a warning.

Example:
    >>> feats = load_or_compute("features", {"model": key, "size": 96}, lambda: slow_features(),
    ...                         check=tensor_check(shape=(n, None), dtype=torch.float32))
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import torch

from . import _checks, settings

T = TypeVar("T")
FORMAT = 1  # bump when the layout of an entry changes: older entries are then recomputed


class CacheWarning(UserWarning):
    """A cache entry was bad and is recomputed, or the cache folder cannot be used."""


def _warn(message: str) -> None:
    warnings.warn(message, CacheWarning, stacklevel=3)


def versions() -> dict[str, str]:
    """Library versions that can change a computed result: torch, torchvision, the cache format."""
    import torchvision

    return {"torch": torch.__version__, "torchvision": torchvision.__version__, "cache format": str(FORMAT)}


def _canonical(record: Mapping[str, Any]) -> str:
    if not isinstance(record, Mapping) or not record:
        raise TypeError(f"record must be a non-empty dict of what the data is computed from, got {record!r}")
    try:
        return json.dumps(record, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as err:
        raise TypeError(f"record must hold only JSON values (str, int, float, bool, None, lists, dicts), "
                        f"got {record!r}: {err}") from err


def _full(record: Mapping[str, Any]) -> str:
    """Canonical JSON of ``record`` plus :func:`versions`: what an entry stores and is named after."""
    _canonical(record)  # the caller's part alone first, for a clear error
    return _canonical({**record, "versions": versions()})


def entry_path(kind: str, record: Mapping[str, Any], prefix: str = "") -> Path:
    """Where the entry for ``record`` lives: ``cache_dir(kind)/<prefix>_<key>.pt`` (folder created).

    ``key`` is 16 hex digits of the sha256 of the record (with :func:`versions`) as canonical JSON.

    Raises:
        OSError: the cache folder cannot be created (see :func:`course_utils.settings.cache_dir`).
    """
    _check_names(kind, prefix)
    key = hashlib.sha256(_full(record).encode()).hexdigest()[:16]
    return settings.cache_dir(kind) / (f"{prefix}_{key}.pt" if prefix else f"{key}.pt")


def _check_names(kind: Any, prefix: Any) -> None:
    if not isinstance(kind, str) or not kind or os.sep in kind or kind.startswith(".") or "\x00" in kind:
        raise ValueError(f"kind must be a plain folder name such as 'features', got {kind!r}")
    if not isinstance(prefix, str) or os.sep in prefix or "\x00" in prefix:
        raise ValueError(f"prefix must be a plain file-name start (a str without {os.sep!r}), got {prefix!r}")


def _items(obj: Any, path: str = "payload"):
    """Yield (path, leaf) for every tensor or plain value of a payload, in a fixed order."""
    if isinstance(obj, torch.Tensor):
        yield path, obj
    elif isinstance(obj, Mapping):
        for k in sorted(obj, key=str):
            if not isinstance(k, str):
                raise TypeError(f"payload dict keys must be str, got {k!r} at {path}")
            yield from _items(obj[k], f"{path}[{k!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _items(v, f"{path}[{i}]")
    elif obj is None or isinstance(obj, (bool, int, float, str)):
        yield path, obj
    else:
        raise TypeError(f"a cache payload holds tensors, dicts, lists, tuples and plain values; "
                        f"got {type(obj).__name__} at {path}")


def checksum(payload: Any) -> str:
    """sha256 over every tensor (dtype, shape, bytes) and plain value of ``payload``."""
    h = hashlib.sha256()
    for path, leaf in _items(payload):
        h.update(path.encode())
        if isinstance(leaf, torch.Tensor):
            t = leaf.detach().cpu().contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy())  # the raw bytes, whatever the dtype
        else:
            h.update(repr(leaf).encode())
    return h.hexdigest()


def tensor_check(shape: Sequence[int | None] | None = None, dtype: torch.dtype | None = None,
                 finite: bool = True, all_zero_ok: bool = False) -> Callable[[Any], None]:
    """A ``check`` for :func:`load_or_compute` when the payload is one tensor.

    The payload is checked by :func:`course_utils._checks.tensor` (the same check the
    functions use on their arguments); every problem is reported as a ``ValueError``.

    Args:
        shape: expected shape; ``None`` in a position accepts any size there.
        dtype: expected dtype.
        finite: refuse NaN or infinity (floating tensors).
        all_zero_ok: accept a tensor that is all zeros (off by default: for features,
            images or scenes all zeros means something went wrong).
    """
    if shape is not None:
        if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence):
            raise TypeError(f"shape must be a sequence of sizes (ints, or None for any), got {_checks.describe(shape)}")
        shape = tuple(None if e is None else _checks.integer("shape", e, 0, hint="a size, or None for any")
                      for e in shape)
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be a torch.dtype such as torch.float32, got {_checks.describe(dtype)}")
    finite, all_zero_ok = _checks.flag("finite", finite), _checks.flag("all_zero_ok", all_zero_ok)

    def check(t: Any) -> None:
        if not isinstance(t, torch.Tensor):  # a NumPy array too: it is not what was stored
            raise ValueError(f"expected a tensor, got {_checks.describe(t)}")
        try:
            _checks.tensor("the payload", t, shape=shape, dtype=dtype, finite=finite, empty=True)
        except TypeError as err:
            raise ValueError(str(err)) from None
        if not all_zero_ok and t.numel() and not t.any():
            raise ValueError("it is all zeros")

    return check


def _read(path: Path, canonical: str, check: Callable[[Any], None] | None) -> Any:
    """The payload of a sound entry; raises ValueError saying what is wrong otherwise."""
    size = path.stat().st_size
    if size == 0:
        raise ValueError("empty file")
    try:
        entry = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, random bytes, pickle of another kind: all mean "rebuild"
        raise ValueError(f"unreadable ({type(err).__name__}: {str(err).splitlines()[0][:80] if str(err) else ''})") from err
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or not {"record", "checksum", "payload"} <= set(entry):
        raise ValueError("not a course cache entry of this format")
    if entry["record"] != canonical:
        raise ValueError("its record (what it was computed from) does not match")
    payload = entry["payload"]
    try:
        digest = checksum(payload)
    except TypeError as err:
        raise ValueError(str(err)) from err
    if digest != entry["checksum"]:
        raise ValueError("checksum mismatch (the data changed after it was written)")
    if check is not None:
        try:
            check(payload)
        except TypeError as err:  # a check that says "wrong type" means the same as "wrong value": rebuild
            raise ValueError(str(err)) from err
    return payload


def _write(path: Path, canonical: str, payload: Any) -> None:
    """Write an entry atomically: a unique temporary file in the same folder, then rename."""
    entry = {"format": FORMAT, "record": canonical, "checksum": checksum(payload), "payload": payload}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(entry, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows: readers see the old or the new file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_or_compute(
    kind: str,
    record: Mapping[str, Any],
    compute: Callable[[], T],
    *,
    check: Callable[[Any], None] | None = None,
    prefix: str = "",
    use_cache: bool = True,
) -> tuple[T, str]:
    """The cached payload for ``record``, or ``compute()``'s result (then stored).

    Args:
        kind: sub-folder of the cache, e.g. ``"features"`` or ``"scenes"``.
        record: JSON-able dict of everything the result depends on (model hash,
            preprocessing, data hash or indices, ...); :func:`versions` is added to it.
        compute: makes the payload (a tensor, or dicts / lists / tuples of tensors and plain values).
        check: raises ``ValueError`` for a payload that cannot be right (wrong shape, dtype,
            all zeros...), e.g. :func:`tensor_check`; run on loaded entries and on fresh
            results (a fresh result it refuses is returned but not stored).
        prefix: readable start of the file name, e.g. the model name.
        use_cache: ``False`` just computes.

    Returns:
        ``(payload, source)`` with ``source`` one of ``"cache"``, ``"computed"`` (and
        stored), ``"recomputed"`` (a bad entry was replaced), ``"uncached"`` (no usable
        cache folder, or ``use_cache=False``).
    """
    _check_names(kind, prefix)
    _checks.function("compute", compute, "lambda: slow_features() (returns the payload)")
    if check is not None:
        _checks.function("check", check, "tensor_check(shape=(n, None)) (raises ValueError for a bad payload)")
    use_cache = _checks.flag("use_cache", use_cache)
    canonical = _full(record)
    if not use_cache:
        return compute(), "uncached"
    try:
        path = entry_path(kind, record, prefix)
    except OSError as err:
        _warn(f"cache folder unusable ({err}); computing without the cache")
        return compute(), "uncached"
    source = "computed"
    if path.is_file():
        try:
            return _read(path, canonical, check), "cache"
        except (ValueError, OSError) as err:
            _warn(f"cache entry {path} is bad ({err}); recomputing it")
            source = "recomputed"
    elif path.exists():  # a folder (or a socket...) where the entry file goes: not ours to delete
        _warn(f"cache entry {path} is a {'folder' if path.is_dir() else 'special file'}, not a cache file; it is left "
              "alone and the result is computed without the cache: remove it to cache this result again")
        return compute(), "uncached"
    payload = compute()
    if check is not None:
        try:
            check(payload)
        except (ValueError, TypeError) as err:
            _warn(f"freshly computed {kind} look wrong ({err}); not storing them in {path}")
            return payload, "uncached"
    try:
        _write(path, canonical, payload)
    except OSError as err:
        _warn(f"cannot write the cache entry {path} ({err.strerror or err}); "
              "computing without the cache (set CONVNETS_CACHE to a writable folder to keep results)")
        return payload, "uncached"
    return payload, source
