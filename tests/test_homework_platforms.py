"""Gradescope and PrairieLearn autograders, run as the platforms run them, checked against their specs.

The autograder zip (``tools/homework.py gradescope``) is unpacked into a simulated
``/autograder`` tree (a bubblewrap mount namespace: ``/autograder`` exists only inside) and
its ``run_autograder`` runs for three submissions of a tiny notebook: the instructor's
notebook (full marks), the untouched release (0, "not solved yet") and a partial one
handed in one second late (the late policy's penalty). PrairieLearn's grader
(``tools/homework.py prairielearn``) runs the same way in a simulated ``/grade`` tree, for
a partial submission and for an upload without the notebook (not gradable). Every
``results.json`` is checked field by field against the documented formats
(gradescope/autograder_samples docs/specs.md; PrairieLearn docs/externalGrading.md).

Needs Linux with bubblewrap, like the grader's adversarial suite.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat as nbf
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import homework_fixtures as fx  # noqa: E402
from homework_tools import cli, sandbox  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the grading sandbox (bubblewrap) needs Linux")
NAME = "97_tiny.ipynb"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
SECRET = "Seed_COMPARE_words_equal"  # an exception class named after what the probe hides: never shown


def tiny_cells() -> list[nbf.NotebookNode]:
    """A two-exercise notebook (3 points) that needs no torch: seconds per sandboxed run."""
    md = nbf.v4.new_markdown_cell
    return [
        md("# 97 · Tiny\n\nTwo exercises in the course's format."),
        md("### Exercise 1 (2 points): double\n\nWrite `double(x)`."),
        fx._code("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", "97-ex1-code"),
        fx._code('assert double(2) == 4, "two times two"\n### BEGIN HIDDEN TESTS\ndef probe(seed):\n    import random\n'
              '    r = random.Random(seed)\n    return {"values": [attempt(double, r.randint(-50, 50)) for _ in range(5)]}\n'
              'COMPARE = {"values": "equal"}\n### END HIDDEN TESTS', "97-ex1-test", 2),
        md("### Exercise 2 (1 point): shout\n\nWrite `shout(s)`: upper case and an exclamation mark."),
        fx._code('def shout(s):\n    ### BEGIN SOLUTION\n    return s.upper() + "!"\n    ### END SOLUTION', "97-ex2-code"),
        fx._code('assert shout("hi") == "HI!"\n### BEGIN HIDDEN TESTS\ndef probe(seed):\n'
              '    return {"words": [attempt(shout, w) for w in ["conv", "pool", str(seed)]]}\n'
              'COMPARE = {"words": "equal"}\n### END HIDDEN TESTS', "97-ex2-test", 1),
    ]


def _write(folder: Path, cells: list) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nbf.write(nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC}), folder / NAME)
    return folder / NAME


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The instructor notebook, its release, and the three submissions."""
    try:
        sandbox.check_sandbox()
    except sandbox.SandboxUnavailable as err:
        pytest.fail(f"{err}\n(make test installs bubblewrap with apt when run as root)")
    if os.path.exists("/autograder") or os.path.exists("/grade"):
        pytest.fail("/autograder or /grade exists on this machine: the simulated trees would hide it")
    root = tmp_path_factory.mktemp("platforms")
    source = _write(root / "src", tiny_cells())
    released = _write(root / "release", fx.released(tiny_cells()))  # as nbgrader writes it (fx.released)
    partial = nbf.read(released, 4)
    partial.cells[2].source = "def double(x):\n    return x + x"
    partial.cells[5].source = (f"class {SECRET}(Exception):\n    pass\n\ndef shout(s):\n"
                               f"    raise {SECRET}('no')")
    nbf.write(partial, root / "partial.ipynb")
    return {"root": root, "source": source, "released": released, "partial": root / "partial.ipynb"}


def _simulated(tree: Path, at: str, command: list[str]) -> subprocess.Popen:
    """Run ``command`` with ``tree`` mounted at ``at`` (``/autograder``, ``/grade``) and the host as it is."""
    args = ["bwrap"]
    for entry in sorted(os.listdir("/")):
        path = f"/{entry}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--dev-bind", path, path]  # /proc and /dev as they are: the grader's sandbox nests in this one
    args += ["--bind", str(tree), at, "--chdir", at, *command]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CONVNETS_CACHE")}
    env["CONVNETS_PYTHON"] = sys.executable
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def _unzip(archive: Path, target: Path) -> None:
    """Unpack like ``unzip``: the executable bits kept."""
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            path = Path(z.extract(info, target))
            os.chmod(path, (info.external_attr >> 16) & 0o777 or 0o644)


# --------------------------------------------------------------------------- the documented formats

FORMATS = {"text", "html", "simple_format", "md", "ansi"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def check_gradescope(results: dict) -> None:
    """results.json against gradescope/autograder_samples docs/specs.md, field by field."""
    top = {"score": _number, "execution_time": _number, "output": lambda x: isinstance(x, str),
           "output_format": FORMATS.__contains__, "test_output_format": FORMATS.__contains__,
           "test_name_format": FORMATS.__contains__, "visibility": VISIBILITY.__contains__,
           "stdout_visibility": VISIBILITY.__contains__, "extra_data": lambda x: isinstance(x, dict),
           "tests": lambda x: isinstance(x, list), "leaderboard": lambda x: isinstance(x, list)}
    test = {"score": _number, "max_score": _number, "status": {"passed", "failed"}.__contains__,
            "name": lambda x: isinstance(x, str), "name_format": FORMATS.__contains__,
            "number": lambda x: isinstance(x, str), "output": lambda x: isinstance(x, str),
            "output_format": FORMATS.__contains__, "tags": lambda x: isinstance(x, list),
            "visibility": VISIBILITY.__contains__, "extra_data": lambda x: isinstance(x, dict)}
    assert set(results) <= set(top), set(results) - set(top)
    assert {"score", "execution_time", "output", "tests"} <= set(results)
    for key, ok in top.items():
        assert key not in results or ok(results[key]), (key, results[key])
    for item in results["tests"]:
        assert set(item) <= set(test) and {"name", "score", "max_score", "status", "output", "visibility"} <= set(item)
        for key, ok in test.items():
            assert key not in item or ok(item[key]), (key, item[key])
        assert 0 <= item["score"] <= item["max_score"]
        assert item["status"] == ("passed" if item["score"] == item["max_score"] else "failed")


def check_prairielearn(results: dict) -> None:
    """results.json against PrairieLearn's docs/externalGrading.md, field by field."""
    assert len(json.dumps(results).encode()) < 2**20, "PrairieLearn reads at most 1 MB"
    allowed = {"gradable", "score", "message", "output", "images", "format_errors", "tests"}
    assert set(results) <= allowed, set(results) - allowed
    assert isinstance(results.get("gradable", True), bool) and isinstance(results["message"], str)
    if results.get("gradable", True):
        assert _number(results["score"]) and 0 <= results["score"] <= 1
    else:
        assert isinstance(results["format_errors"], (str, list))
    for item in results.get("tests", []):
        assert set(item) <= {"name", "description", "points", "max_points", "message", "output", "images"}
        assert isinstance(item["name"], str) and isinstance(item["message"], str)
        assert _number(item["points"]) and _number(item["max_points"]) and 0 <= item["points"] <= item["max_points"]
    if results.get("tests"):
        got, out_of = (sum(t[k] for t in results["tests"]) for k in ("points", "max_points"))
        assert abs(results["score"] - got / out_of) < 1e-6


# --------------------------------------------------------------------------- the tests

def test_gradescope_zip_layout(course):
    late = course["root"] / "late.json"
    late.write_text(json.dumps({"penalty": {"percent": 10, "per": "day"}}))
    assert cli.main(["--course-dir", str(course["root"] / "course"), "gradescope", str(course["source"]),
                     "--late", str(late), "--timeout", "60"]) == 0
    archive = course["root"] / "course" / "gradescope" / "autograder.zip"
    with zipfile.ZipFile(archive) as z:
        names = {i.filename: i for i in z.infolist()}
        settings = json.loads(z.read("autograder.json"))
    for name in ("setup.sh", "run_autograder"):  # at the root of the zip, executable
        assert stat.S_IMODE(names[name].external_attr >> 16) == 0o755, name
    for needed in ("tools/homework.py", "tools/homework_tools/runner.py", "tools/homework_tools/sandbox.py",
                   "course_utils/__init__.py", "data/manifest.json", f"notebooks/{NAME}", "pyproject.toml", "README.md"):
        assert needed in names, needed
    assert [n for n in names if n.endswith(".ipynb")] == [f"notebooks/{NAME}"]  # no other notebook, no student's
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert settings["assignments"] == ["97_tiny"] and settings["limits"]["cell_timeout"] == 60
    assert settings["late"]["penalty"]["percent"] == 10 and settings["visibility"] == "visible"
    course["zip"] = archive
    (late.parent / "bad.json").write_text('{"penalty": {"percent": 500}}')
    assert cli.main(["--course-dir", str(course["root"] / "course"), "gradescope", str(course["source"]),
                     "--late", str(late.parent / "bad.json")]) == 1


def _metadata(created: str) -> dict:
    return {"id": 1, "created_at": created, "submission_method": "upload", "previous_submissions": [],
            "assignment": {"due_date": "2026-03-02T23:59:00.000000+01:00", "late_due_date": None, "title": "Tiny",
                           "total_points": "3.0", "release_date": "2026-02-20T00:00:00.000000+01:00"},
            "users": [{"email": "student@example.org", "id": 7, "name": "A Student"}]}


def test_gradescope_and_prairielearn_run_as_on_the_platforms(course):
    if "zip" not in course:
        pytest.skip("needs test_gradescope_zip_layout's zip")
    root = course["root"]
    submissions = {"reference": (course["source"], "2026-03-02T23:59:00.000000+01:00"),  # exactly on time
                   "untouched": (course["released"], "2026-03-01T10:00:00.000000+01:00"),
                   "partial": (course["partial"], "2026-03-02T23:59:01.000000+01:00")}  # one second late
    running = {}
    for who, (notebook, created) in submissions.items():
        tree = root / "gradescope" / who
        _unzip(course["zip"], tree / "source")
        shutil.copy2(tree / "source" / "run_autograder", tree / "run_autograder")  # as Gradescope's harness does
        (tree / "submission").mkdir()
        shutil.copyfile(notebook, tree / "submission" / NAME)
        (tree / "submission_metadata.json").write_text(json.dumps(_metadata(created)))
        running[who] = _simulated(tree, "/autograder", ["/autograder/run_autograder"])
    assert cli.main(["--course-dir", str(root / "course"), "prairielearn", str(course["source"]),
                     "--timeout", "60"]) == 0
    kit = root / "course" / "prairielearn"
    for who, notebook in (("pl-partial", course["partial"]), ("pl-nothing", None)):
        tree = root / who
        shutil.copytree(kit / "serverFilesCourse", tree / "serverFilesCourse")
        (tree / "student").mkdir()
        if notebook:
            shutil.copyfile(notebook, tree / "student" / NAME)
        else:
            (tree / "student" / "notes.txt").write_text("I forgot the notebook")
        running[who] = _simulated(tree, "/grade", ["/grade/serverFilesCourse/convnets_grader/run.sh", "97_tiny"])
    logs = {who: proc.communicate(timeout=600)[0] for who, proc in running.items()}
    assert all(proc.returncode == 0 for proc in running.values()), logs

    results = {who: json.loads((root / "gradescope" / who / "results" / "results.json").read_text())
               for who in submissions}
    for who, got in results.items():
        check_gradescope(got)
        assert SECRET not in json.dumps(got) and "def probe" not in json.dumps(got), who
    scores = {who: ([t["score"] for t in got["tests"]], got["score"]) for who, got in results.items()}
    assert scores == {"reference": ([2, 1], 3), "untouched": ([0, 0], 0), "partial": ([2, 0], 1.7)}, (scores, logs)
    assert [t["name"] for t in results["reference"]["tests"]] == ["97_tiny: Exercise 1 (2 points): double",
                                                                  "97_tiny: Exercise 2 (1 point): shout"]
    assert all(t["status"] == "passed" for t in results["reference"]["tests"])
    assert all("Not solved yet" in t["output"] and "NotImplementedError" in t["output"]
               for t in results["untouched"]["tests"])
    partial = results["partial"]
    assert "The check failed: your answer is not the expected one" in partial["tests"][1]["output"]
    assert ("Submitted 1 second after the due date: 1 day late: -10% of the points possible; 2 - 0.3 = 1.7 points."
            in partial["output"])
    assert "after the due date" not in results["reference"]["output"]  # exactly on time

    pl = json.loads((root / "pl-partial" / "results" / "results.json").read_text())
    check_prairielearn(pl)
    assert pl["gradable"] is True and abs(pl["score"] - 2 / 3) < 1e-6 and SECRET not in json.dumps(pl)
    assert [(t["name"], t["points"], t["max_points"]) for t in pl["tests"]] == [
        ("Exercise 1 (2 points): double", 2, 2), ("Exercise 2 (1 point): shout", 0, 1)]
    nothing = json.loads((root / "pl-nothing" / "results" / "results.json").read_text())
    check_prairielearn(nothing)
    assert nothing["gradable"] is False and "upload your notebook 97_tiny.ipynb" in nothing["message"]


def test_prairielearn_kit_layout(course):
    kit = course["root"] / "course" / "prairielearn"
    if not kit.is_dir():
        assert cli.main(["--course-dir", str(course["root"] / "course"), "prairielearn", str(course["source"])]) == 0
    info = json.loads((kit / "questions" / "97_tiny" / "info.json").read_text())
    options = info["externalGradingOptions"]
    assert options["enabled"] is True and options["serverFilesCourse"] == ["convnets_grader/"]
    assert options["entrypoint"] == "/grade/serverFilesCourse/convnets_grader/run.sh 97_tiny"
    assert 1 <= options["timeout"] <= 600 and info["gradingMethod"] == "External"
    assert '<pl-file-upload file-names="97_tiny.ipynb">' in (kit / "questions" / "97_tiny" / "question.html").read_text()
    assert "<pl-external-grader-results>" in (kit / "questions" / "97_tiny" / "question.html").read_text()
    assert os.access(kit / "serverFilesCourse" / "convnets_grader" / "run.sh", os.X_OK)
    assert "bubblewrap" in (kit / "Dockerfile").read_text()
    assert cli.main(["--course-dir", str(course["root"] / "course"), "prairielearn", str(course["source"]),
                     "--job-timeout", "900"]) == 1  # PrairieLearn allows at most 600 s


# --------------------------------------------------------------------------- batch systems (README)

def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)


def test_readme_batch_recipes_run_as_written(tmp_path):
    """The README's Slurm array, its dependent merge job and its Kubernetes Job, with its paths moved here:
    every array task on a bare PATH (a cluster's python is not the course's), then the merge."""
    script = next(b for b in _blocks("bash") if "#SBATCH" in b and "--array=" in b)
    submit = next(b for b in _blocks("bash") if "--dependency=afterok" in b)
    subs, hw = tmp_path / "submissions", tmp_path / "hw3"
    for student in ("kim", "lee", "max", "=1+2"):  # folders without a notebook: no notebook runs, all noted
        (subs / student).mkdir(parents=True)
        (subs / student / "notes.txt").write_text("hello")

    def here(text: str) -> str:
        return (text.replace("/shared/convnets-course", str(ROOT)).replace("/shared/hw3-submissions", str(subs))
                .replace("/shared/hw3", str(hw)))

    count = int(re.search(r"--array=0-(\d+)", script).group(1)) + 1
    assert f'--shard "$SLURM_ARRAY_TASK_ID/{count}"' in script and '--jobs "$SLURM_CPUS_PER_TASK"' in script
    assert re.search(r"^cd /shared/convnets-course", script, re.M) and "source .venv/bin/activate" in script
    (tmp_path / "grade.sbatch").write_text(here(script))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "SLURM_CPUS_PER_TASK": "1", "LANG": "C.UTF-8"}
    tasks = [subprocess.Popen(["bash", str(tmp_path / "grade.sbatch")], env={**env, "SLURM_ARRAY_TASK_ID": str(i)},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(count)]
    logs = [t.communicate(timeout=300)[0] for t in tasks]
    assert [t.returncode for t in tasks] == [0] * count, logs
    assert 'sbatch --dependency=afterok:"$job"' in submit and "job=$(sbatch --parsable grade-hw3.sbatch)" in submit
    merge = re.search(r"--wrap \\\n\s*'([^']*)'", submit).group(1)
    done = subprocess.run(["bash", "-c", here(merge)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"merged {count} shards (seed 20261125)" in done.stdout
    table = (hw / "scores.csv").read_text()
    assert all(f"\n{s},0,0,-,no notebook found" in table for s in ("kim", "lee", "max", "'=1+2")), table

    yaml = pytest.importorskip("yaml")
    (manifest,) = [b for b in _blocks("yaml") if "completionMode" in b]
    job = yaml.safe_load(manifest)
    assert job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == count
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:2] == ["bash", "-c"] and "cd /course && source .venv/bin/activate" in command[2]
    assert f'--shard "$JOB_COMPLETION_INDEX/{count}"' in command[2] and "--seed 20261125" in command[2]
    assert subprocess.run(["bash", "-n", "-c", command[2]]).returncode == 0


def test_a_python_without_the_course_packages_says_what_to_do(tmp_path, monkeypatch, capsys):
    """A cluster's bare python: one clear line naming the interpreter and the course environment."""
    bare = Path(sys.base_prefix) / "bin" / "python3"
    done = subprocess.run([str(bare), "-I", "-S", str(ROOT / "tools" / "homework.py"), "grade", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"error: this Python ({bare}) cannot load the homework tools" in done.stderr
    assert ".venv/bin/python tools/homework.py" in done.stderr and "in a batch job too" in done.stderr
    # numpy there, torch missing: before, the sandbox's reference run failed with "something unreadable"
    real = cli.importlib.util.find_spec
    monkeypatch.setattr(cli.importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    assert cli.main(["grade", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"this Python ({sys.executable}) lacks torch (the notebooks)" in err
    assert cli.main(["merge", str(tmp_path / "none.json")]) == 1  # merge runs no notebook: no check, its own error


def test_a_grader_failure_records_no_score(tmp_path, monkeypatch, capsys):
    """No sandbox in the platform's container (or a broken reference): no invented 0 for the student."""
    from homework_tools import autograders

    def broken(upload, source):
        raise sandbox.SandboxUnavailable("bubblewrap cannot create a sandbox here (no user namespaces)")

    monkeypatch.setattr(autograders, "grade_upload", broken)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "results.json").write_text('{"score": 3}')  # left by an earlier run
    assert autograders.run_gradescope(tmp_path) == 1
    assert not (tmp_path / "results" / "results.json").exists()  # Gradescope: "failed to execute", no score
    assert "SandboxUnavailable: bubblewrap cannot create a sandbox here" in capsys.readouterr().out
    assert autograders.run_prairielearn("97_tiny", tmp_path, source=tmp_path) == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    check_prairielearn(results)
    assert results["gradable"] is False and "not your fault" in results["message"] and "score" not in results
