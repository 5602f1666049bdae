"""Bad inputs to course_utils.data beyond the shared cases of ``tests/bad_inputs.py`` (run by
``tests/test_bad_inputs.py``): checks that need more than "a clear error naming the argument".
"""

import bad_inputs


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


def test_a_manifest_that_lost_an_entry_is_named_with_the_fix():
    """Issue 22: a removed manifest entry raised `KeyError: rel='mnist_5k.npz' is not a shipped data file`, as if
    the learner had asked for a file that does not exist."""
    import pytest

    from course_utils import data

    case = next(c for c in bad_inputs.CASES if "removed from the manifest" in c.name)
    with pytest.raises(data.DataFileError, match=r"manifest.json has no entry for 'mnist_5k.npz'.*git checkout"):
        case.fn()
    with pytest.raises(KeyError, match="is not a shipped data file"):  # a name the learner typed: still KeyError
        data.verified_path("nope.npz")
