"""Fault tests for the derived-data cache: every kind of bad entry heals, writers never collide."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from course_utils import cache, transfer

RECORD = {"what": "test data", "n": 4}
GOOD = torch.arange(1, 9, dtype=torch.float32).reshape(4, 2)
CHECK = cache.tensor_check(shape=(4, None), dtype=torch.float32)


def compute_counter():
    calls = []

    def compute():
        calls.append(1)
        return GOOD.clone()

    return compute, calls


def load(check=CHECK, record=RECORD, **kwargs):
    compute, calls = compute_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value, source = cache.load_or_compute("unit", record, compute, check=check, **kwargs)
    return value, source, len(calls), [str(w.message) for w in caught if issubclass(w.category, cache.CacheWarning)]


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVNETS_CACHE", str(tmp_path))
    return tmp_path


def entry(cache_root) -> Path:
    (path,) = (cache_root / "unit").glob("*.pt")
    return path


def test_round_trip_and_record_keys(cache_root):
    value, source, calls, warned = load()
    assert (source, calls, warned) == ("computed", 1, []) and torch.equal(value, GOOD)
    value, source, calls, warned = load()
    assert (source, calls, warned) == ("cache", 0, []) and torch.equal(value, GOOD)
    path = entry(cache_root)
    assert path == cache.entry_path("unit", RECORD)
    stored = torch.load(path, weights_only=True)
    assert '"n":4' in stored["record"] and '"torch"' in stored["record"]  # what it came from, with versions
    assert stored["checksum"] == cache.checksum(GOOD)
    _, source, calls, _ = load(record={**RECORD, "n": 5})  # another record: another entry
    assert (source, calls) == ("computed", 1) and len(list((cache_root / "unit").glob("*.pt"))) == 2


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty(path):
    path.write_bytes(b"")


def _random_bytes(path):
    path.write_bytes(os.urandom(3000))


def _raw_tensor(path):  # the old format: a bare tensor, no record, no checksum
    torch.save(GOOD, path)


def _all_zeros_raw(path):
    torch.save(torch.zeros(4, 2), path)


def _flip_payload(path):  # a valid file whose data changed after the checksum was taken
    e = torch.load(path, weights_only=True)
    e["payload"][0, 0] += 1
    torch.save(e, path)


def _other_record(path):  # an entry of another record copied over this one
    e = torch.load(path, weights_only=True)
    e["record"] = e["record"].replace('"n":4', '"n":7')
    torch.save(e, path)


def _wrong_shape(path):  # consistent entry (checksum fits) whose payload has the wrong shape
    e = torch.load(path, weights_only=True)
    e["payload"] = torch.ones(3, 2)
    e["checksum"] = cache.checksum(e["payload"])
    torch.save(e, path)


def _wrong_dtype(path):
    e = torch.load(path, weights_only=True)
    e["payload"] = GOOD.double()
    e["checksum"] = cache.checksum(e["payload"])
    torch.save(e, path)


def _all_zeros_sealed(path):  # consistent entry, but all zeros cannot be real features
    e = torch.load(path, weights_only=True)
    e["payload"] = torch.zeros(4, 2)
    e["checksum"] = cache.checksum(e["payload"])
    torch.save(e, path)


def _nan(path):
    e = torch.load(path, weights_only=True)
    e["payload"] = GOOD.clone()
    e["payload"][1, 1] = float("nan")
    e["checksum"] = cache.checksum(e["payload"])
    torch.save(e, path)


FAULTS = {"truncated": (_truncate, "unreadable"), "empty": (_empty, "empty file"),
          "random bytes": (_random_bytes, "unreadable"), "bare tensor": (_raw_tensor, "not a course cache entry"),
          "bare zeros": (_all_zeros_raw, "not a course cache entry"), "checksum": (_flip_payload, "checksum mismatch"),
          "other record": (_other_record, "record"), "wrong shape": (_wrong_shape, "must have shape"),
          "wrong dtype": (_wrong_dtype, "must hold float32"), "all zeros": (_all_zeros_sealed, "all zeros"),
          "nan": (_nan, "NaN")}


@pytest.mark.parametrize("fault", FAULTS)
def test_bad_entry_is_recomputed_with_one_warning_and_healed(cache_root, fault):
    damage, reason = FAULTS[fault]
    load()
    path = entry(cache_root)
    damage(path)
    value, source, calls, warned = load()
    assert torch.equal(value, GOOD) and (source, calls) == ("recomputed", 1)
    assert len(warned) == 1 and str(path) in warned[0] and reason in warned[0] and "\n" not in warned[0], warned
    value, source, calls, warned = load()  # healed: the next read is a clean hit
    assert (source, calls, warned) == ("cache", 0, []) and torch.equal(value, GOOD)
    assert not list(path.parent.glob("*.tmp")), "no temporary file left behind"


def test_fresh_result_that_fails_the_check_is_not_stored(cache_root):
    with pytest.warns(cache.CacheWarning, match="all zeros.*not storing"):
        value, source = cache.load_or_compute("unit", RECORD, lambda: torch.zeros(4, 2), check=CHECK)
    assert source == "uncached" and not value.any()
    assert not list((cache_root / "unit").glob("*.pt"))


# Children are fresh interpreters (subprocess), never forks: a fork of a process whose torch thread pool
# has run can deadlock inside OpenMP, and a stuck child would hang pytest at exit.
RACER = """
import json, os, sys, time, warnings
from pathlib import Path
import torch
from course_utils import cache
go = Path(sys.argv[1])
deadline = time.monotonic() + 60
while not go.exists() and time.monotonic() < deadline:  # a file barrier: all start writing together
    time.sleep(0.005)
big = torch.arange(200_000, dtype=torch.float32).reshape(1000, 200) + 1  # ~0.8 MB: writes take a while
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    value, source = cache.load_or_compute("race", {"what": "race"}, lambda: big.clone())
print(json.dumps(["ok", source, bool(torch.equal(value, big)), [str(w.message) for w in caught]]))
"""


def run_children(script, args_list, env, timeout=180, **popen):
    """Start one `python -c script` per args, wait for all (killing stragglers), return (returncode, stdout, stderr)s."""
    procs = [subprocess.Popen([sys.executable, "-c", script, *args], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, **popen) for args in args_list]
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            results.append((proc.returncode, out, err))
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    return results


def child_env(root):
    return {**os.environ, "CONVNETS_CACHE": str(root), "OMP_NUM_THREADS": "1"}


def test_concurrent_writers_of_one_entry(cache_root, tmp_path):
    go = tmp_path / "go"
    procs_args = [[str(go)]] * 12
    env = child_env(cache_root)
    threading.Timer(3.0, go.touch).start()  # every child has imported torch by then (or waits up to 60 s)
    results = run_children(RACER, procs_args, env)
    assert all(code == 0 for code, _, _ in results), [err[-2000:] for _, _, err in results]
    reports = [json.loads(out.strip().splitlines()[-1]) for _, out, _ in results]
    assert all(r[0] == "ok" and r[1] in ("computed", "cache") and r[2] and not r[3] for r in reports), reports
    files = sorted(p.name for p in (cache_root / "race").iterdir())
    assert len(files) == 1 and files[0].endswith(".pt"), files  # one entry, no temporary files left
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, source = cache.load_or_compute("race", {"what": "race"}, lambda: pytest.fail("should be cached"))
    assert source == "cache" and value.shape == (1000, 200)


def test_cache_folder_that_is_a_file_falls_back(cache_root, monkeypatch):
    blocker = cache_root / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CONVNETS_CACHE", str(blocker))
    value, source, calls, warned = load()
    assert torch.equal(value, GOOD) and (source, calls) == ("uncached", 1)
    assert len(warned) == 1 and "cache folder unusable" in warned[0] and str(blocker) in warned[0]


READ_ONLY_CHILD = """
import json, os, warnings
import torch
from course_utils import cache
cache.versions()  # imports what a cache record names
if os.geteuid() == 0:  # root ignores file modes: drop to 'nobody' once everything is imported
    os.setgid(65534)
    os.setuid(65534)
GOOD = torch.arange(1, 9, dtype=torch.float32).reshape(4, 2)
check = cache.tensor_check(shape=(4, None), dtype=torch.float32)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    value, source = cache.load_or_compute("unit", {"what": "read-only"}, lambda: GOOD.clone(), check=check)
print(json.dumps([source, bool(torch.equal(value, GOOD)), [str(w.message) for w in caught]]))
"""


def test_read_only_cache_folder_falls_back():
    root = Path(tempfile.mkdtemp(prefix="convnets-ro-"))  # not under pytest's tmp (0700: 'nobody' cannot enter)
    (root / "unit").mkdir()
    for folder in (root / "unit", root):
        folder.chmod(0o555)
    try:
        ((code, out, err),) = run_children(READ_ONLY_CHILD, [[]], child_env(root), timeout=120)
        assert code == 0, err[-2000:]
        source, correct, warned = json.loads(out.strip().splitlines()[-1])
        assert (source, correct) == ("uncached", True), (source, correct, warned)
        assert len(warned) == 1 and "cannot write the cache entry" in warned[0] and str(root) in warned[0], warned
        assert not list((root / "unit").iterdir())
    finally:
        for folder in (root, root / "unit"):
            folder.chmod(0o755)
        shutil.rmtree(root)


def test_payload_and_record_are_checked():
    with pytest.raises(TypeError, match="record"):
        cache.load_or_compute("unit", {}, lambda: GOOD)
    with pytest.raises(TypeError, match="JSON"):
        cache.load_or_compute("unit", {"model": nn.Linear(1, 1)}, lambda: GOOD)
    with pytest.raises(ValueError, match="kind"):
        cache.load_or_compute("../escape", RECORD, lambda: GOOD)
    with pytest.raises(TypeError, match="compute"):
        cache.load_or_compute("unit", RECORD, GOOD)
    with pytest.raises(TypeError, match="payload"):
        cache.checksum({"a": object()})
    assert cache.checksum({"a": GOOD, "b": [1, "x"]}) != cache.checksum({"a": GOOD, "b": [2, "x"]})
    assert cache.checksum(GOOD) != cache.checksum(GOOD.double())  # the dtype counts, not only the values


def test_extract_features_heals_a_truncated_entry(cache_root):
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    nn.init.constant_(net[0].bias, 0.5)  # features > 0: never all zeros
    x = torch.rand(5, 1, 12, 12)
    feats = transfer.extract_features(net, x, size=16, verbose=False)
    (path,) = (cache_root / "features").glob("Sequential_16px_*.pt")
    _truncate(path)
    with pytest.warns(cache.CacheWarning, match=f"cache entry {path} is bad"):
        again = transfer.extract_features(net, x, size=16, verbose=False)
    assert torch.equal(again, feats)
    torch.save(torch.zeros(5, 4), path)  # the old bare-tensor format, all zeros: refused, recomputed
    with pytest.warns(cache.CacheWarning, match="recomputing"):
        assert torch.equal(transfer.extract_features(net, x, size=16, verbose=False), feats)
