"""Bad inputs to course_utils.data: each one ends in a clear course error that names the argument.

The cases (wrong types, ranks, dtypes, ranges, empty inputs, NaN...) live in ``tests/bad_inputs.py``,
shared with ``tests/probe_bad_inputs.py``; the obvious forms that are converted instead of refused
(uint8 0-255, channels-last, NumPy...) are checked against the canonical form's result.
"""

import bad_inputs
import pytest

CASES = bad_inputs.cases("data")
ACCEPTED = bad_inputs.accepted_cases("data")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_a_clear_error(case):
    bad_inputs.assert_clear(case)


@pytest.mark.parametrize("case", ACCEPTED, ids=[c.name for c in ACCEPTED])
def test_obvious_form_is_converted(case):
    bad_inputs.assert_converted(case)


def test_cases_leave_nothing_in_the_temporary_folder():
    """Every case runs under ``bad_inputs.temp_guard``: its scratch folders (empty dataset roots,
    broken data folders) are removed when it ends, and a case that leaves anything behind in the
    temporary folder is a "leak", which fails its test."""
    import tempfile
    from pathlib import Path

    from course_utils import data

    before = tempfile.gettempdir()
    made = []

    def leaky():
        made.append(tempfile.mkdtemp(prefix="convnets-cifar-"))  # not through _tmp_dir: never removed
        return data.load_cifar10(root=made[-1], split="val")

    def tidy():
        made.append(bad_inputs._tmp_dir("cifar"))
        return data.load_cifar10(root=made[-1], split="val")

    kind, detail = bad_inputs.outcome(bad_inputs.Case("data", "leaky", leaky, "split"))
    assert kind == "leak" and "convnets-cifar-" in detail, (kind, detail)
    assert bad_inputs.outcome(bad_inputs.Case("data", "tidy", tidy, "split"))[0] == "clear"
    assert len(made) == 2 and not any(Path(p).exists() for p in made)
    assert tempfile.gettempdir() == before
