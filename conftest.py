"""Suite-wide checks: quick mode is on, and no notebook kernel grows past the memory budget."""

import os
import resource
import sys

import pytest

# A free Colab or an 8 GB laptop must cope with every notebook.
PEAK_MEMORY_BUDGET_GIB = 4.0


def pytest_addoption(parser):
    parser.addoption("--browser", action="store_true",
                     help="run the real-browser suite in tests/browser (what `make test-browser` does)")


def pytest_ignore_collect(collection_path, config):
    # tests/browser drives JupyterLab in Chromium: only with --browser (make test-browser)
    if collection_path.name == "browser" and collection_path.parent.name == "tests":
        return not config.getoption("--browser")
    return None


def pytest_configure(config):
    if os.environ.get("CONVNETS_QUICK") != "1":
        print("note: CONVNETS_QUICK is not 1; notebooks run in FULL mode (slow). Use `make test`.", file=sys.stderr)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    terminalreporter.write_line(f"peak memory: notebook kernels {peak:.2f} GiB, pytest process {own:.2f} GiB "
                                f"(budget {PEAK_MEMORY_BUDGET_GIB} GiB)")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    if peak > PEAK_MEMORY_BUDGET_GIB:
        print(f"\nFAILED: a notebook kernel peaked at {peak:.2f} GiB > {PEAK_MEMORY_BUDGET_GIB} GiB", file=sys.stderr)
        session.exitstatus = 1
