"""course_utils.claims (assert in a normal run, record in a claims run) and tools/claims.py (make claims).

The tool runs tiny fixture notebooks in quick mode, never a course notebook.
"""

import importlib.util
import json
import math
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from course_utils import claims

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("claims_tool", ROOT / "tools" / "claims.py")
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    """Every test starts as a fresh kernel would: no claims run, no seeds asked yet."""
    monkeypatch.delenv(claims.FOLDER_VARIABLE, raising=False)
    monkeypatch.delenv(claims.SEEDS_VARIABLE, raising=False)
    monkeypatch.setattr(claims, "_shown", [])
    monkeypatch.setattr(claims, "_held_out_asked", False)


@pytest.fixture
def claims_run(tmp_path, monkeypatch):
    monkeypatch.setenv(claims.FOLDER_VARIABLE, str(tmp_path / "records"))
    return tmp_path / "records"


# --------------------------------------------------------------------------- the module, normal run

def test_normal_run_shows_the_first_seeds_and_asserts():
    assert not claims.active()
    assert claims.seeds(3) == [0, 1, 2] and claims.seeds(1) == [0]
    assert claims.check("01-fine", [True, True, True], "It holds in every seed") is None
    assert claims.check("01-mean", np.bool_(True), "The mean is above 2 SE") is None
    cnn, mlp = torch.tensor([0.9, 0.8, 0.95]), np.array([0.7, 0.75, 0.8])
    claims.check("01-tensors", [c > m for c, m in zip(cnn, mlp)], "Comparisons of 0-d tensors and NumPy")
    claims.check("01-tensors", cnn > torch.from_numpy(mlp), "Comparisons of 0-d tensors and NumPy")
    claims.check("01-tensors", np.array(True), "Comparisons of 0-d tensors and NumPy")
    with pytest.raises(AssertionError) as err:
        claims.check("01-cnn-beats-mlp", [True, False, True], "The CNN beats the MLP in every seed",
                     values={"cnn": torch.tensor([0.9, 0.7, 0.95]), "mlp": [0.8, 0.8, 0.8]})
    message = str(err.value)
    assert "01-cnn-beats-mlp" in message and "held in 2 of 3 seeds" in message
    assert "The CNN beats the MLP in every seed" in message and '"cnn": [0.9, 0.7, 0.95]' in message
    with pytest.raises(AssertionError, match="claim 01-mean does not hold: The mean gain is above 2 SE"):
        claims.check("01-mean", torch.tensor(False), "The mean gain is above 2 SE")


def test_normal_run_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    claims.check("01-fine", True, "It holds")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("holds, error", [
    (1, TypeError), (0.9, TypeError), ("yes", TypeError), (None, TypeError), ([1, 0], TypeError),
    ([True, 1], TypeError), ([], ValueError), (torch.tensor([0.5]), TypeError),
    (torch.ones(2, 2, dtype=torch.bool), TypeError), (np.array([1, 0]), TypeError), ([torch.ones(2) > 0], TypeError),
    (torch.zeros(0, dtype=torch.bool), ValueError)])
def test_holds_must_be_booleans(holds, error):
    with pytest.raises(error, match="holds"):
        claims.check("01-x", holds, "A claim")


@pytest.mark.parametrize("claim_id", ["", "01 cnn", "01_cnn", "01-CNN", "-01", "01-", 1, None])
def test_claim_id_is_a_slug(claim_id):
    with pytest.raises(ValueError if isinstance(claim_id, str) else TypeError, match="claim_id must be lower-case"):
        claims.check(claim_id, True, "A claim")


@pytest.mark.parametrize("text", ["", "   ", None, 3])
def test_text_is_a_sentence(text):
    with pytest.raises(ValueError if isinstance(text, str) else TypeError, match="text must be the claim"):
        claims.check("01-x", True, text)


@pytest.mark.parametrize("values, error, match", [
    ({"model": torch.nn.Linear(2, 2)}, TypeError, r"values\['model'\]"),
    ({"accs": [0.5, object()]}, TypeError, r"values\['accs'\]\[1\]"),
    ([0.5, 0.6], TypeError, "values must be a dict"),
    ({"big": torch.zeros(1001)}, ValueError, "more than 1000 numbers"),
    ({"runs": {1: 0.5, "1": 0.6}}, ValueError, r"values\['runs'\] has keys that read the same")])
def test_values_must_be_plain_and_small(values, error, match):
    # refused in a normal run too, so `make test` (quick mode) finds it before a claims run does
    with pytest.raises(error, match=match):
        claims.check("01-x", True, "A claim", values=values)


def test_parse_seeds():
    assert claims.parse_seeds("3-9") == list(range(3, 10))
    assert claims.parse_seeds("3, 5,10-12") == [3, 5, 10, 11, 12]
    assert claims.parse_seeds("7") == [7]
    for bad, match in [("", "not a seed"), ("3-", "not a seed"), ("a", "not a seed"), ("-3", "not a seed"),
                       ("9-3", "backwards"), ("3-5,4", "twice"), ("0-99999999999", "more than 1000 seeds")]:
        with pytest.raises(ValueError, match=match):
            claims.parse_seeds(bad)


# --------------------------------------------------------------------------- the module, claims run

def test_claims_run_hands_out_held_out_seeds(claims_run, monkeypatch):
    assert claims.active()
    assert claims.seeds(3) == [3, 4, 5, 6, 7, 8, 9]  # the default: seven seeds nobody was shown
    assert claims.seeds(1) == [3, 4, 5, 6, 7, 8, 9]  # whatever n the notebook shows
    monkeypatch.setenv(claims.SEEDS_VARIABLE, "10,12-13")
    assert claims.seeds(2) == [10, 12, 13]
    monkeypatch.setenv(claims.SEEDS_VARIABLE, "2-8")
    with pytest.raises(ValueError, match=r"must not include the shown seeds 0-2, but \[2\]"):
        claims.seeds(3)
    monkeypatch.setenv(claims.SEEDS_VARIABLE, "3..9")
    with pytest.raises(ValueError, match="CONVNETS_CLAIMS_SEEDS"):
        claims.seeds(3)


def test_claims_run_records_and_never_raises(claims_run, capsys):
    seeds = claims.seeds(3)
    cnn, mlp = torch.tensor([0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.92]), np.full(7, 0.85, dtype=np.float32)
    claims.check("01-cnn-beats-mlp", [bool(c > m) for c, m in zip(cnn, mlp)], "The CNN beats the MLP in every seed",
                 values={"cnn": cnn, "mlp": mlp, ("gap", 3): np.float64(0.01), 7: float("nan")})
    claims.check("01-mean", False, "The mean gain is above 2 SE")  # does not hold: recorded, not raised
    assert "claim 01-mean: DOES NOT HOLD (0 of 1)" in capsys.readouterr().out
    first, second = claims.read_records(claims_run)
    assert first["id"] == "01-cnn-beats-mlp" and first["holds"] is False
    assert first["per_seed"] == [False, False, False, True, True, True, True]
    assert first["seeds"] == seeds and first["shown_seeds"] == [0, 1, 2] and first["mode"] == "quick"
    assert first["values"]["cnn"] == pytest.approx(cnn.tolist()) and first["values"]["gap, 3"] == 0.01
    assert first["values"]["7"] == "nan"  # JSON has no NaN
    assert second == {"id": "01-mean", "text": "The mean gain is above 2 SE", "holds": False, "per_seed": None,
                      "values": {}, "seeds": seeds, "shown_seeds": [0, 1, 2], "mode": "quick"}


def test_a_claim_without_seeds_says_so(claims_run):
    claims.check("02-sobel", True, "Gradient descent recovers the Sobel kernel")
    (record,) = claims.read_records(claims_run)
    assert record["seeds"] == [] and record["shown_seeds"] == []


def test_claims_run_still_refuses_malformed_claims(claims_run):
    with pytest.raises(TypeError, match="holds"):
        claims.check("01-x", 0.7, "A claim")
    assert claims.read_records(claims_run) == []


# --------------------------------------------------------------------------- the tool: pure parts

def test_merge_adds_up_calls_with_one_id_and_reports_reused_ids():
    base = {"values": {}, "seeds": [3, 4], "shown_seeds": [0, 1]}
    records = [{**base, "id": "a", "text": "A", "holds": True, "per_seed": None, "values": {"acc": 0.9}},
               {**base, "id": "a", "text": "A", "holds": False, "per_seed": None, "values": {"acc": 0.4}},
               {**base, "id": "b", "text": "B", "holds": False, "per_seed": [True, False, True]},
               {**base, "id": "a", "text": "Another claim", "holds": True, "per_seed": None}]
    rows, problems = tool.merge(records)
    assert [(r["id"], r["held"], r["total"]) for r in rows] == [("a", 1, 2), ("b", 2, 3)]
    assert tool.summarise(rows[0]["values"]) == "acc: 0.65 [0.4, 0.9]"
    assert len(problems) == 1 and "claim id a is used for two claims" in problems[0]


def test_summarise_and_seed_text():
    assert tool.summarise([{"cnn": [0.91, 0.93, 0.95], "n": 5, "by": {"x": [1, 3]}, "name": "sgd"}]) == \
        "cnn: 0.93 [0.91, 0.95]; n: 5; by.x: 2 [1, 3]; name: \"sgd\""
    assert tool.summarise([{}]) == "(none)"
    assert tool.seed_text(list(range(3, 10))) == "3-9"
    assert tool.seed_text([0, 1, 2]) == "0, 1, 2"
    assert tool.seed_text([3, 5, 10, 11, 12, 13]) == "3, 5, 10-13"
    assert tool.seed_text([]) == "none"


def test_claims_json_keeps_lists_on_one_line_and_strings_intact():
    data = {"format": 1, "notebooks": {"x": {"seeds": [3, 4], "values": {"s": ["a,\n  b [c", [1, [2, 3]]]}}}}
    text = tool.dumps(data)
    assert json.loads(text) == data and '"seeds": [3, 4]' in text and '[2, 3]' in text


def test_table_only_renders_an_empty_table(tmp_path):
    assert tool.main(["--table-only", "--out", str(tmp_path)]) == 0
    assert "No notebook has been measured yet" in (tmp_path / "CLAIMS.md").read_text()
    assert json.loads((tmp_path / "claims.json").read_text()) == {"format": 1, "notebooks": {}}


@pytest.mark.parametrize("damaged", ["{not json", "[1, 2]", '{"format": 2, "notebooks": {}}', '{"format": 1}'])
def test_damaged_table_is_refused_not_overwritten(tmp_path, damaged):
    (tmp_path / "claims.json").write_text(damaged)
    with pytest.raises(SystemExit, match="not a claims table"):
        tool.main(["--table-only", "--out", str(tmp_path)])
    assert (tmp_path / "claims.json").read_text() == damaged and not (tmp_path / "CLAIMS.md").exists()


@pytest.mark.parametrize("args, match", [(["--seeds", "3-5"], "at least 7 held-out seeds"),
                                         (["--seeds", "3-x"], "--seeds"),
                                         (["no_such.ipynb"], "is not a notebook file")])
def test_bad_arguments(tmp_path, capsys, args, match):
    with pytest.raises(SystemExit):
        tool.main([*args, "--out", str(tmp_path)])
    assert match in capsys.readouterr().err
    assert not (tmp_path / "claims.json").exists()


# --------------------------------------------------------------------------- the tool on fixture notebooks

HOLDS = """\
from course_utils import claims
SEEDS = claims.seeds(3)
scores = [10 + s for s in SEEDS]
claims.check("98-positive", [s > 0 for s in scores], "Every score is positive", values={"score": scores})
claims.check("98-mean", sum(scores) / len(scores) > 5, "The mean score is above 5")
"""

FAILS_HELD_OUT = """\
from course_utils import claims
SEEDS = claims.seeds(3)
for seed in SEEDS:  # checked seed by seed: the calls add up
    claims.check("97-small", seed < 3, "Every seed's result is below 3", values={"result": seed})
claims.check("97-fixed", True, "A fact that needs no seed")
"""

CRASHES = """\
from course_utils import claims
SEEDS = claims.seeds(3)
claims.check("96-before", True, "Checked before the crash", values={"seeds": len(SEEDS)})
"""


def write_notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_fixture_that_fails_on_held_out_seeds_passes_a_normal_run(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(write_notebook(tmp_path / "97_fails.ipynb", FAILS_HELD_OUT), as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()  # raises if a claim fails on seeds 0-2
    assert not (tmp_path / "records").exists()


def test_make_claims_on_fixtures_then_one_notebook_again(tmp_path, capsys):
    src = tmp_path / "nbs"
    src.mkdir()
    holds = write_notebook(src / "98_holds.ipynb", HOLDS)
    fails = write_notebook(src / "97_fails.ipynb", FAILS_HELD_OUT)
    crashes = write_notebook(src / "96_crashes.ipynb", CRASHES, "raise RuntimeError('boom')",
                             'claims.check("96-after", True, "Never reached")')
    out = tmp_path / "out"
    out.mkdir()
    code = tool.main([str(holds), str(fails), str(crashes), "--quick", "--out", str(out), "--timeout", "120"])
    assert code == 1  # one notebook failed
    assert "96_crashes: failed: cell 1: RuntimeError: boom" in capsys.readouterr().out

    data = json.loads((out / "claims.json").read_text())
    entries = data["notebooks"]
    assert sorted(entries) == ["96_crashes", "97_fails", "98_holds"]
    assert entries["98_holds"]["status"] == "ok" and entries["98_holds"]["seeds"] == list(range(3, 10))
    assert entries["96_crashes"]["status"] == "failed" and entries["96_crashes"]["error"] == "cell 1: RuntimeError: boom"
    assert [r["id"] for r in entries["96_crashes"]["records"]] == ["96-before"]  # kept, though the run failed
    assert {r["notebook"] for r in entries["97_fails"]["records"]} == {"97_fails"}
    assert entries["98_holds"]["machine"]["cores"] >= 1 and entries["98_holds"]["mode"] == "quick"
    assert (out / "build" / "claims" / "96_crashes.ipynb").exists()  # the executed notebook, to read the error

    table = (out / "CLAIMS.md").read_text()
    rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines() if line.startswith("| 9")}
    assert rows["98-positive"] == ("| 98-positive | 98_holds | Every score is positive | 0, 1, 2 | 3-9 | "
                                   "score: 16 [13, 19] | 7 of 7 | holds |")
    assert rows["98-mean"].endswith("| 1 of 1 | holds |")
    assert rows["97-small"].endswith("| result: 6 [3, 9] | 0 of 7 | **does not hold** |")
    assert rows["97-fixed"] == ("| 97-fixed | 97_fails | A fact that needs no seed | 0, 1, 2 | 3-9 | (none) | "
                                "1 of 1 | holds |")
    assert "96-after" not in rows
    assert "| 96_crashes | **failed**: cell 1: RuntimeError: boom (claims after it were not measured) | 1 of 1 |" \
        in table
    assert "| 97_fails | ok | 1 of 2 | 3-9 | quick |" in table
    assert "| 98_holds | ok | 2 of 2 | 3-9 | quick |" in table

    # Re-run one notebook, now claiming something else: only its rows change.
    write_notebook(holds, HOLDS.replace('"98-mean", sum(scores) / len(scores) > 5, "The mean score is above 5"',
                                        '"98-mean", sum(scores) / len(scores) > 50, "The mean score is above 50"'))
    assert tool.main([str(holds), "--quick", "--out", str(out), "--seeds", "20-26"]) == 0
    again = json.loads((out / "claims.json").read_text())["notebooks"]
    assert again["96_crashes"] == entries["96_crashes"] and again["97_fails"] == entries["97_fails"]
    assert again["98_holds"]["seeds"] == list(range(20, 27))
    table = (out / "CLAIMS.md").read_text()
    assert "| 98-mean | 98_holds | The mean score is above 50 | 0, 1, 2 | 20-26 | (none) | 0 of 1 | **does not hold** |" \
        in table
    assert "The mean score is above 5 " not in table and "| 97-small | 97_fails |" in table
    assert math.isfinite(again["98_holds"]["minutes"])


# --------------------------------------------------------------------------- generated inputs (Hypothesis)

def test_any_seed_list_survives_the_table_and_back():
    hypothesis = pytest.importorskip("hypothesis")  # in the test extra with the property tests (issue 22)
    st = hypothesis.strategies

    @hypothesis.given(st.sets(st.integers(0, 300), min_size=1, max_size=40))
    def prop(seeds):
        assert claims.parse_seeds(tool.seed_text(sorted(seeds))) == sorted(seeds)

    prop()


def test_any_seed_spec_is_parsed_or_refused_clearly():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.given(st.text(alphabet="0123456789-, x", max_size=12))
    def prop(spec):
        try:
            seeds = claims.parse_seeds(spec)
        except ValueError as err:
            assert f"seed spec {spec!r}" in str(err)
        else:
            assert seeds and len(set(seeds)) == len(seeds) and all(s >= 0 for s in seeds)

    prop()


def test_any_plain_values_are_recorded_as_json(tmp_path, monkeypatch):
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    leaves = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                       st.text(max_size=8), st.floats(width=32).map(np.float32),
                       st.lists(st.floats(-1, 1), max_size=5).map(torch.tensor))
    values = st.dictionaries(st.one_of(st.text(alphabet="abc", max_size=5), st.integers(),
                                       st.tuples(st.text(alphabet="xyz", max_size=3), st.integers())),
                             st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                                          | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=20),
                             max_size=4)
    monkeypatch.setenv(claims.FOLDER_VARIABLE, str(tmp_path))

    @hypothesis.settings(max_examples=60, deadline=None)
    @hypothesis.given(values, st.lists(st.booleans(), min_size=1, max_size=9))
    def prop(vals, per_seed):
        (tmp_path / claims.RECORDS_FILE).unlink(missing_ok=True)
        claims.check("01-generated", per_seed, "A generated claim", values=vals)
        (record,) = claims.read_records(tmp_path)
        assert record["per_seed"] == per_seed and record["holds"] == all(per_seed)
        assert json.loads(json.dumps(record, allow_nan=False)) == record  # strict JSON: no NaN, no objects
        assert tool.summarise([record["values"]])  # the table can always summarise it

    prop()


def test_a_hang_and_a_dead_kernel_are_rows_too(tmp_path):
    hangs = write_notebook(tmp_path / "95_hangs.ipynb", CRASHES, "import time\ntime.sleep(600)")
    dies = write_notebook(tmp_path / "94_dies.ipynb", CRASHES, "import os\nos._exit(1)")
    assert tool.main([str(hangs), str(dies), "--quick", "--out", str(tmp_path), "--timeout", "20"]) == 1
    entries = json.loads((tmp_path / "claims.json").read_text())["notebooks"]
    assert entries["95_hangs"]["error"] == "cell 1: ran longer than --timeout 20 s"
    assert entries["94_dies"]["error"] == "cell 1: the kernel died (out of memory?)"
    assert all([r["id"] for r in e["records"]] == ["96-before"] for e in entries.values())


# --------------------------------------------------------------------------- the committed table

def test_committed_table_has_a_full_mode_row_for_every_claim_of_every_notebook():
    """Issue 19: the held-out table covers all notebooks. A claim id in a notebook without a row
    (a new claim, or a notebook never run through make claims) fails here: run
    ``make claims NB=notebooks/NN_x.ipynb`` alone and commit claims.json and CLAIMS.md."""
    import re

    data = tool.load(ROOT / "claims.json")
    measured = {r["id"] for entry in data["notebooks"].values() if entry["mode"] == "full" for r in entry["records"]}
    assert all(len(entry["seeds"]) >= tool.MIN_SEEDS for entry in data["notebooks"].values())
    missing = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        ids = set(re.findall(r'claims\.check\(\s*"([a-z0-9-]+)"', source))
        ids = {i for i in ids if not i.endswith("-quick")}  # quick-mode regression checks: never in a full run
        if ids - measured:
            missing[path.stem] = sorted(ids - measured)
    assert not missing, f"claims without a row in CLAIMS.md (run make claims for these notebooks): {missing}"
    assert (ROOT / "CLAIMS.md").read_text(encoding="utf-8") == tool.render(data), "CLAIMS.md is not claims.json's table"
