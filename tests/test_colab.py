"""The Colab setup cell (tools/colab.py): written idempotently as each notebook's first code cell,
a no-op outside Colab, and, on a simulated Colab (an empty folder, a fresh virtual environment, a
stand-in ``google.colab`` module, the course cloned from a local repository), a working setup."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import colab  # noqa: E402
import website  # noqa: E402
from homework_tools.present import is_colab_setup, public_notebook  # noqa: E402


def _notebook(cells: list[dict]) -> dict:
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}


def _md(text: str, cid: str) -> dict:
    return {"cell_type": "markdown", "id": cid, "metadata": {}, "source": text}


def _code(text: str, cid: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": cid, "metadata": {}, "outputs": [], "source": text}


def _codes(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_insert_is_idempotent_and_puts_the_cell_first(tmp_path):
    path = tmp_path / "96_x.ipynb"
    path.write_text(json.dumps(_notebook([_md("# 96 · title", "a"), _md("text", "b"), _code("x = 1", "c")])))
    assert colab.insert([path]) == [path]
    first = path.read_bytes()
    codes = _codes(path)
    assert is_colab_setup(codes[0]) and codes[1]["source"] == "x = 1" and len(codes) == 2
    course = website.read_course()
    assert course.url in "".join(codes[0]["source"]) and repr(course.branch)[1:-1] in "".join(codes[0]["source"])
    assert colab.insert([path]) == [] and path.read_bytes() == first, "a second run changed the notebook"
    assert colab.insert([path], check_only=True) == []

    # an old cell, moved down and outdated: brought back first and updated, never duplicated
    nb = json.loads(first)
    setup = nb["cells"].pop(2)
    setup["source"] = ["# an older version of the cell\n"]
    nb["cells"].append(setup)
    path.write_text(json.dumps(nb))
    assert colab.insert([path], check_only=True) == [path]
    colab.insert([path])
    assert path.read_bytes() == first


def test_insert_leaves_the_rest_of_a_real_notebook_byte_for_byte(tmp_path):
    source = ROOT / "notebooks" / "03_conv_hyperparameters.ipynb"
    copy = tmp_path / source.name
    original = json.loads(source.read_text(encoding="utf-8"))
    original["cells"] = [c for c in original["cells"] if not is_colab_setup(c)]  # the course's has one already
    copy.write_text(colab._dumps(original), encoding="utf-8")
    before = copy.read_text(encoding="utf-8")
    colab.insert([copy])
    nb = json.loads(copy.read_text(encoding="utf-8"))
    assert sum(map(is_colab_setup, nb["cells"])) == 1
    nb["cells"] = [c for c in nb["cells"] if not is_colab_setup(c)]
    assert colab._dumps(nb) == before
    assert copy.read_text(encoding="utf-8") == source.read_text(encoding="utf-8"), "the course's cell is this one"
    assert not [c for c in public_notebook(_nbformat(copy)).cells if is_colab_setup(c)], "shown on slides/site"


def _nbformat(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4)


def test_every_course_notebook_has_the_current_setup_cell_as_written():
    """A full-mode run executes the cell (tools/run_notebooks.py puts it back as written)."""
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(notebooks) >= 12 and colab.insert(notebooks, check_only=True) == []


def test_insert_refuses_what_is_not_a_notebook(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"bad\.ipynb is not a readable notebook"):
        colab.insert([bad])


def test_requirements_leave_colabs_own_jupyter_alone():
    wanted = colab.requirements()
    names = [w.split(">")[0].split("=")[0].split("<")[0].strip() for w in wanted]
    assert "torch" in names and "ipywidgets" in names and "captum" in names
    assert not {"jupyterlab", "ipykernel"} & set(names)


def _run_cell(python: str, folder: Path, env: dict, extra: str = "") -> subprocess.CompletedProcess:
    course = website.read_course()
    code = colab.cell_source(course.url, course.branch) + "\n" + extra
    return subprocess.run([python, "-c", code], cwd=folder, env=env, capture_output=True, text=True, timeout=600)


def _clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CONVNETS_REPOSITORY", "PIP_"))}
    env.update(extra)
    return env


def test_the_cell_does_nothing_outside_colab(tmp_path):
    done = _run_cell(sys.executable, tmp_path, _clean_env(), "import sys; print('google.colab' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False" and list(tmp_path.iterdir()) == [], "it acted outside Colab"


def test_the_cell_sets_up_a_fresh_colab_like_runtime(tmp_path):
    """The Colab branch, for real: no network (pip may not download anything), no course on the path."""
    if not shutil.which("git"):
        pytest.skip("needs git")
    # the course's repository: what a clone of it holds (the working tree's current files)
    origin = tmp_path / "origin"
    for part in ("course_utils", "data", "tools", "pyproject.toml"):
        src = ROOT / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, origin / part, **(
            {"ignore": shutil.ignore_patterns("__pycache__")} if src.is_dir() else {}))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "course"]):
        subprocess.run([*git, *cmd], cwd=origin, check=True, capture_output=True)
    # a fresh virtual environment that sees this environment's packages (as Colab has PyTorch
    # preinstalled) but not the course, plus a stand-in google.colab module
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "host.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # a path line: its .pth files stay off
    (site / "google" / "colab").mkdir(parents=True)
    (site / "google" / "colab" / "__init__.py").write_text("")
    content = tmp_path / "content"
    content.mkdir()
    env = _clean_env(CONVNETS_REPOSITORY=origin.as_uri(), CONVNETS_BRANCH="main", PIP_NO_INDEX="1",
                     PIP_DISABLE_PIP_VERSION_CHECK="1", CONVNETS_CACHE=str(tmp_path / "cache"))
    assert subprocess.run([python, "-c", "import course_utils"], cwd=content, env=env,
                          capture_output=True).returncode != 0, "the fresh environment already has the course"

    check = ("import course_utils; from course_utils import data; x, y = data.load_tensors('animals', 'test', "
             "limit=8); print(course_utils.__file__); print(tuple(x.shape))")
    done = _run_cell(python, content, env, check)
    assert done.returncode == 0, done.stdout + done.stderr
    clone = content / "convnets-course"
    assert (clone / ".git").is_dir() and (clone / "course_utils").is_dir()
    lines = done.stdout.strip().splitlines()
    assert Path(lines[-2]).resolve().is_relative_to(clone.resolve()), lines
    assert lines[-1] == "(8, 1, 28, 28)", lines
    assert "packages are installed" in done.stdout

    # run again (a learner re-runs the cell): the clone is re-used, not fetched again
    marker = clone / "course_utils" / "__init__.py"
    before = marker.stat().st_mtime_ns
    again = _run_cell(python, content, env, check)
    assert again.returncode == 0, again.stderr
    assert marker.stat().st_mtime_ns == before and sorted(p.name for p in content.iterdir()) == ["convnets-course"]
