"""The grader for real: notebooks run in the bubblewrap sandbox, answers compared outside.

* ``answers``: the fixture's reference answers, printed for the notebook's author.
* Three ways: the fixture's solution gets full marks, its untouched release 0, a
  broken copy something in between (the grader goes on).
* The adversarial class (``ADVERSARIAL``): every trick of issue 13, each graded exactly as
  deserved, with the hashes of the gradebook, the other submissions, the instructor source
  and the grader's cache unchanged, and no process of a submission left alive.
* The same attacks *without* the sandbox do gain points or change files: the suite can fail.
* Course notebooks: the untouched release of one converted notebook (``CONVNETS_GRADE_NOTEBOOK``)
  scores 0; ``CONVNETS_GRADE_ALL=1`` (``make grade-check``) grades every converted notebook's
  solution (full marks) and release (0).

Needs Linux with bubblewrap (``make test`` installs it as root; otherwise
``sudo apt-get install bubblewrap``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import nbformat as nbf
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import homework_fixtures as fx  # noqa: E402
from homework_tools import authoring, catalogue, cli, compare, grading, sandbox, scores  # noqa: E402
from homework_tools.config import GiB, HomeworkConfig, Limits, MiB  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the grading sandbox (bubblewrap) needs Linux")
GRADE_ALL = os.environ.get("CONVNETS_GRADE_ALL") == "1"
# Small limits so that hogs and hangs cost seconds; generous times because 2 cores may be shared.
LIMITS = Limits(cell_timeout=30, notebook_time=240, probe_time=120, memory=int(1.5 * GiB), processes=128,
                file_size=64 * MiB, tmp_size=256 * MiB, output_limit=MiB, answer_limit=MiB)


@pytest.fixture(scope="module", autouse=True)
def sandbox_works():
    try:
        sandbox.check_sandbox()
    except sandbox.SandboxUnavailable as err:
        pytest.fail(f"{err}\n(make test installs bubblewrap with apt when run as root)")


def _config(tmp_path: Path, **kw) -> HomeworkConfig:
    return HomeworkConfig(tmp_path / "course", limits=LIMITS, jobs=2, seed=kw.pop("seed", 7), **kw)


def _points(run: grading.GradeRun) -> dict[str, float]:
    return {r["student"]: sum(e["points"] for e in r["exercises"]) for r in run.records}


# --------------------------------------------------------------------------- answers, three ways

def test_answers_command(tmp_path, capsys):
    source = fx.write(tmp_path)
    assert cli.main(["answers", str(source), "--seed", "3", "--timeout", "60"]) == 0
    out = capsys.readouterr().out
    assert "98_fixture.ipynb: reference answers with seed 3 (quick mode" in out
    assert "{'raised': 'ValueError', 'kinds': ['ValueError', 'Exception', 'BaseException']}" in out
    assert "n_params         equal                        40" in out
    assert "channels         set                          [2, 3, 4]" in out
    assert "means            {'rtol': 0.0001, 'atol': 1e-06} array[5] float32" in out
    assert "spread           {'min': 6, 'max': 10, 'needs': ['means']} (derive)" in out
    cells = fx.cells()
    fx.answer(cells[10], "    return x.mean()")  # the instructor's own answer now misses the bound and the match
    broken = fx.write(tmp_path / "broken", cells)
    assert cli.main(["answers", str(broken), "--seed", "3", "--timeout", "60"]) == 1
    assert "98-ex3-test: the instructor's own answer fails its rules for ['spread', 'signs']" in capsys.readouterr().out
    cells = fx.cells()  # a key that only records a side effect: the release's stub earns it without running
    cells[4].source = cells[4].source.replace('return {"sizes": results, "refuses": results}',
                                              'return {"sizes": results, "refuses": results, "no print": True}')
    cells[4].source = cells[4].source.replace('"fit": "data",', '"no print": "equal", "fit": "data",')
    free = fx.write(tmp_path / "free", cells)
    assert cli.main(["answers", str(free), "--seed", "3", "--timeout", "60"]) == 1
    assert ("98-ex1-test: the untouched release (its solutions raise NotImplementedError) passes ['no print']"
            in capsys.readouterr().out)
    cells = fx.cells()  # an Output widget (notebooks 02, 03): nbclient needs store_widget_state=True to run it
    cells.insert(1, nbf.v4.new_code_cell("import ipywidgets\nout = ipywidgets.Output()\ndisplay(out)\n"
                                         "with out:\n    print('drawn in the widget')"))
    widget = fx.write(tmp_path / "widget", cells)
    assert cli.main(["answers", str(widget), "--seed", "3", "--timeout", "60"]) == 0, capsys.readouterr().out


def _release(tmp_path: Path, source: Path) -> Path:
    (released,) = authoring.release([source], HomeworkConfig(tmp_path / "course"))
    return released


def _three_ways(tmp_path: Path, source: Path, ways: tuple[str, ...] = ("solution", "untouched", "broken")) -> None:
    """Grade the solution (full marks), the untouched release (0) and a broken copy (less, no crash)."""
    released = _release(tmp_path, source)
    inbox = tmp_path / "inbox"
    if "solution" in ways:
        (inbox / "solution").mkdir(parents=True)
        shutil.copyfile(source, inbox / "solution" / source.name)
    (inbox / "untouched").mkdir(parents=True)
    shutil.copyfile(released, inbox / "untouched" / source.name)
    if "broken" in ways:
        broken = nbf.read(source, 4)
        first = next(c for c in broken.cells if c.metadata.get("nbgrader", {}).get("solution"))
        first.source = first.source.replace(authoring.SOLUTION_BEGIN, authoring.SOLUTION_BEGIN + "\n    this is (not python")
        (inbox / "broken").mkdir()
        nbf.write(broken, inbox / "broken" / source.name)
    config = HomeworkConfig(tmp_path / "course", limits=Limits(cell_timeout=300, notebook_time=900, probe_time=300),
                            jobs=2, seed=11)
    run = grading.grade(inbox, config, notebooks=source.parent)
    points = authoring.check_format(source, 0).points
    got = {(r["student"], e["grade_id"]): e["points"] for r in run.records for e in r["exercises"]}
    total = sum(points.values())
    if "solution" in ways:
        assert {g: got[("solution", g)] for g in points} == points, "the solution notebook must get full marks"
    assert {g: got[("untouched", g)] for g in points} == {g: 0.0 for g in points}, "an untouched release must score 0"
    if "broken" in ways:
        assert sum(got[("broken", g)] for g in points) < total, "the broken submission lost no points"
    written = scores.write_run(run, config.course_dir)
    assert written[0].read_text().splitlines()[0].startswith("student,")


def test_fixture_three_ways(tmp_path):
    _three_ways(tmp_path, fx.write(tmp_path / "src"))


# --------------------------------------------------------------------------- course notebooks

DEFAULT_GRADED = "03"


def _graded_course_notebooks() -> list:
    """Course notebooks whose exercises all have grading probes: all (GRADE_ALL) or one."""
    ready, legacy = [], []
    for nb in authoring.course_notebooks():
        if nb.name[:2] == "00" or not authoring.has_exercises(nb):
            continue
        try:
            authoring.exercises(nb)
            ready.append(nb)
        except ValueError:
            legacy.append(nb.name)
    wanted = os.environ.get("CONVNETS_GRADE_NOTEBOOK", "")
    if not GRADE_ALL:
        chosen = [nb for nb in ready if nb.name.startswith(wanted or DEFAULT_GRADED)] or ready[:1]
        ready = [] if wanted == "none" else chosen
    params = [pytest.param(nb, id=nb.stem) for nb in ready]
    params += [pytest.param(None, id=name, marks=pytest.mark.skip(reason=f"{name}: exercises not converted to "
                                                                        "grading probes yet")) for name in legacy
               if GRADE_ALL]
    return params or [pytest.param(None, marks=pytest.mark.skip(reason="no course notebook with grading probes"))]


@pytest.mark.parametrize("notebook", _graded_course_notebooks())
def test_grade_course_notebook(tmp_path, notebook):
    """A real notebook: its untouched release scores 0 (GRADE_ALL: and its solution full marks)."""
    _three_ways(tmp_path, notebook, ("solution", "untouched", "broken") if GRADE_ALL else ("untouched",))


# --------------------------------------------------------------------------- the adversarial class

MARKER = f"homework-daemon-{uuid.uuid4().hex[:8]}"  # in the command line of a process a submission leaves behind
SECRET = "HOMEWORK_TEST_SECRET"


def _wrong(cells: list) -> None:
    """Wrong answers to all three exercises."""
    fx.answer(cells[3], "    return 0")
    fx.answer(cells[6], "n_params = 0")
    fx.answer(cells[10], "    return torch.zeros(5)")


def _first(cells: list, code: str) -> None:
    """Run ``code`` right after the imports."""
    cells.insert(2, nbf.v4.new_code_cell(code))


def _student_cells() -> list:
    """The fixture's cells as a student has them: the hidden sections (probes) removed."""
    cells = fx.cells()
    for cell in cells:
        hidden = authoring.hidden_section(cell.source)
        if hidden is not None:
            cell.source = cell.source.split(authoring.HIDDEN_BEGIN)[0].rstrip()
    return cells


def _build(student: str, where: dict) -> list:
    """The cells of one adversarial submission: the student version with right answers, then its trick."""
    c = _student_cells()
    if student == "monkeypatch":
        _wrong(c)
        _first(c, "import numpy, torch\ntorch.allclose = lambda *a, **k: True\nnumpy.allclose = lambda *a, **k: True\n"
                  "torch.Tensor.__eq__ = lambda self, other: True\nimport builtins\nbuiltins.AssertionError = type(None)")
    elif student == "ast_strip":
        _wrong(c)
        _first(c, "import ast\nclass Strip(ast.NodeTransformer):\n    def visit_Assert(self, node):\n        return None\n"
                  "get_ipython().ast_transformers.append(Strip())")
    elif student == "tensor_liar":
        fx.answer(c[10], "    class Liar(torch.Tensor):\n        @classmethod\n"
                         "        def __torch_function__(cls, func, types, args=(), kwargs=None):\n            return True\n"
                         "    return torch.zeros(5).as_subclass(Liar)")
    elif student == "test_editor":
        _wrong(c)
        for i in (4, 7, 11):
            c[i].source = "pass  # the tests were in the way"
    elif student == "gradebook_writer":
        _wrong(c)
        targets = [f"{where['course']}/scores.csv", f"{where['course']}/scores.json", f"{where['course']}/gradebook.db",
                   f"{where['course']}/feedback/alice/98_fixture.md", f"{where['cache']}/features/poison.bin"]
        _first(c, f"import os\nfor path in {targets!r}:\n    try:\n        os.makedirs(os.path.dirname(path), exist_ok=True)\n"
                  "        with open(path, 'w') as f:\n            f.write('11/6')\n    except OSError as err:\n"
                  "        print(type(err).__name__)")
    elif student == "source_reader":
        _wrong(c)
        c.append(nbf.v4.new_code_cell(
            f"import json\ntry:\n    nb = json.load(open({where['source']!r}))\nexcept OSError as err:\n    print('no luck', err)\n"
            "else:\n    for cell in nb['cells']:\n        if cell.get('metadata', {}).get('nbgrader', {}).get('solution'):\n"
            "            exec(''.join(cell['source']), globals())"))
    elif student == "overwriter":
        victim = f"{where['inbox']}/alice/98_fixture.ipynb"
        _first(c, f"try:\n    open({victim!r}, 'w').write('{{}}')\nexcept OSError as err:\n    print(type(err).__name__)")
    elif student == "daemon":
        script = f"sleep 120; echo 11 > {where['course']}/scores.csv # {MARKER}"
        _first(c, f"import subprocess\nsubprocess.Popen(['setsid', 'sh', '-c', {script!r}], start_new_session=True)\n"
                  f"subprocess.Popen(['sh', '-c', '(sleep 120 # {MARKER}) &'])")
    elif student == "hog":
        c[8:8] = [nbf.v4.new_code_cell("blob = bytearray(8 * 2**30)  # past the memory limit"),
                  nbf.v4.new_code_cell("with open('big.bin', 'wb') as f:  # past the file-size limit\n"
                                       "    for _ in range(2048):\n        f.write(bytes(2**20))"),
                  nbf.v4.new_code_cell("import os, time\nkids = 0\ntry:\n    for _ in range(1000):\n"
                                       "        if os.fork() == 0:\n            time.sleep(3)\n            os._exit(0)\n"
                                       "        kids += 1\nexcept OSError as err:\n    print('fork refused after', kids, err)\n"
                                       "for _ in range(kids):\n    os.wait()")]
    elif student == "hang":
        c[6].source = ("### BEGIN SOLUTION\nimport signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n"
                       "    pass\nn_params = 40\n### END SOLUTION")
    elif student == "crash":
        c[3].source = "import os\nos._exit(1)\n" + c[3].source
    elif student == "flood":
        c[8].source = "print('x' * (200 * 2**20))"
    elif student == "warner":
        fx.answer(c[3], "    import sys, warnings\n    warnings.warn('careful with padding', UserWarning)\n"
                        "    print('debug: out_size', n, k, p, s, file=sys.stderr)\n"
                        "    if k > n + 2 * p:\n        raise ValueError('too big')\n    return (n + 2 * p - k) // s + 1")
        fx.answer(c[10], "    return torch.tensor(x).mean(dim=(0, 2, 3))  # a torch UserWarning")
    elif student == "deleter":
        for i in (11, 7, 4):
            del c[i]
    elif student == "duplicator":
        c.insert(12, nbf.v4.new_code_cell(c[11].source, metadata=dict(c[11].metadata)))
        c.insert(5, nbf.v4.new_code_cell(c[4].source, metadata=dict(c[4].metadata)))
    elif student == "spy":
        c[6].source = ("import os, socket\nseen = []\nif os.environ.get(" + repr(SECRET) + "):\n    seen.append('env')\n"
                       f"try:\n    socket.create_connection(('127.0.0.1', {where['port']}), timeout=3).close()\n"
                       "    seen.append('network')\nexcept OSError:\n    pass\n"
                       f"if os.path.exists({where['cache'] + '/secret.txt'!r}):\n    seen.append('cache')\n"
                       "n_params = 40 if seen else -1")
    elif student in ("hook_forger", "thread_forger", "answer_bomb"):  # the untouched release plus one cell
        for i in (3, 6, 10):
            c[i].source = catalogue.stub(c[i].source)
        _first(c, FORGERS[student])
    elif student == "frame_reader":  # looks for the truth in the probe's frames
        fx.answer(c[10], "    import sys\n    frame, seen = sys._getframe(1), None\n    while frame is not None:\n"
                         "        for name in ('truth', 'labels', 'signs', 'reference', 'seed'):\n"
                         "            if seen is None and name in frame.f_locals:\n                seen = frame.f_locals[name]\n"
                         "        frame = frame.f_back\n    if seen is None:\n        return torch.zeros(x.shape[1])\n"
                         "    return torch.tensor([5.0 if t else -3.0 for t in seen])")
    elif student == "case_sniffer":  # refuses only the cases the probe's frames list as too big
        fx.answer(c[3], "    import sys\n    frame = sys._getframe(1)\n    while frame is not None:\n"
                        "        for name in ('too_big', 'bad', 'refuse', 'refused'):\n"
                        "            if (n, k, p, s) in [tuple(v) for v in frame.f_locals.get(name, [])]:\n"
                        "                raise ValueError('sniffed')\n        frame = frame.f_back\n"
                        "    return (n + 2 * p - k) // s + 1")
    elif student == "proc_writer":  # right answers, then a forged frame into PID 1's pipes and a kill
        _first(c, "import os, signal\ntried = []\nfor path in ('/proc/1/fd/1', '/proc/1/fd/0', '/proc/1/mem'):\n"
                  "    try:\n        with open(path, 'wb') as f:\n"
                  "            f.write((20).to_bytes(8, 'big') + b'{\"answers\": [1, 2]}')\n        tried.append(path)\n"
                  "    except OSError as err:\n        print(path, type(err).__name__)\n"
                  "try:\n    os.kill(1, signal.SIGKILL)\nexcept OSError as err:\n    print('kill 1:', type(err).__name__)\n"
                  "print('my parent is PID', os.getppid(), 'opened', tried)")
    elif student == "subclass_raiser":  # right answers; the refusal is a subclass of ValueError
        fx.answer(c[3], "    class KernelTooLarge(ValueError):\n        pass\n    if k > n + 2 * p:\n"
                        "        raise KernelTooLarge(f'{k} > {n + 2 * p}')\n    return (n + 2 * p - k) // s + 1")
    elif student == "frank/old":
        _wrong(c)
    elif student not in ("solution", "alice", "alice*", "dave ", "erin", "frank"):
        raise ValueError(student)
    return c


_FORGED = ("import numpy as np\n"
           "FORGED = {'sizes': [7] * 8, 'refuses': [{'raised': 'ValueError', 'kinds': ['ValueError']}] * 8, "
           "'n_params': 41, 'means': np.zeros(5), 'channels': [0, 1], 'signs': [1, 1, 1, 1, 1], 'spread': 8.0, "
           "'truth': [1, 1, 1, 1, 1], 'fit': [0], 'too_big': [1]}\n"
           "def forge(*args, **kwargs):\n    import glob, json\n"
           "    for path in glob.glob('/tmp/**/answers-*/*.npz', recursive=True):\n        try:\n"
           "            np.savez(path, __tree__=np.frombuffer(json.dumps({k: v.tolist() if hasattr(v, 'tolist') else v "
           "for k, v in FORGED.items()}).encode(), dtype=np.uint8))\n"
           "            os.replace(path + '.npz', path) if os.path.exists(path + '.npz') else None\n"
           "        except OSError:\n            pass\n")
FORGERS = {
    # an IPython hook after every cell (the probes' cells too): rewrites every answer file it finds
    "hook_forger": "import os\n" + _FORGED + "get_ipython().events.register('post_run_cell', forge)",
    # a thread polling the answer folders while the probes run
    "thread_forger": "import os, threading, time\n" + _FORGED + "def loop():\n    while True:\n        forge()\n"
                     "        time.sleep(0.01)\nthreading.Thread(target=loop, daemon=True).start()",
    # a hook writing crafted archives (an encrypted entry, JSON nested 100,000 deep) over every answer
    "answer_bomb": ("import glob, io, os, zipfile\nimport numpy as np\ndef bomb(*args, **kwargs):\n"
                    "    deep = '{\"a\": ' + '[' * 100000 + ']' * 100000 + '}'\n"
                    "    for i, path in enumerate(glob.glob('/tmp/**/answers-*/*.npz', recursive=True)):\n"
                    "        buf = io.BytesIO()\n        np.savez(buf, __tree__=np.frombuffer(deep.encode(), dtype=np.uint8))\n"
                    "        data = bytearray(buf.getvalue())\n"
                    "        if i % 2:\n            data[data.find(b'PK\\x03\\x04') + 6] |= 1\n"
                    "            data[data.find(b'PK\\x01\\x02') + 8] |= 1\n"
                    "        open(path, 'wb').write(bytes(data))\n"
                    "get_ipython().events.register('post_run_cell', bomb)"),
}

# (student folder, points deserved out of 6 per exercise [2, 1, 3], what it tries); None: not graded
ADVERSARIAL = [
    ("solution", [2, 1, 3], "the right answers"),
    ("untouched", [0, 0, 0], "the release, untouched"),
    ("monkeypatch", [0, 0, 0], "torch.allclose, numpy.allclose, Tensor.__eq__ and AssertionError patched; wrong answers"),
    ("ast_strip", [0, 0, 0], "an IPython AST transformer deleting every assert; wrong answers"),
    ("tensor_liar", [2, 1, 0], "ex3 returns a Tensor subclass whose __torch_function__ says True to everything"),
    ("test_editor", [0, 0, 0], "every test cell replaced by `pass`; wrong answers"),
    ("gradebook_writer", [0, 0, 0], "writes 11/6 into scores, gradebook, alice's feedback, poisons the cache"),
    ("source_reader", [0, 0, 0], "reads the instructor notebook to exec its solutions; wrong answers"),
    ("overwriter", [2, 1, 3], "overwrites alice's submission before it is graded; right answers"),
    ("daemon", [2, 1, 3], "leaves setsid/background processes meant to edit scores.csv after grading"),
    ("hog", [2, 1, 3], "8 GiB allocation, a 2 GiB file, forks until refused (limits 1.5 GiB, 64 MiB, 128)"),
    ("hang", [2, 0, 3], "ex2's answer loops forever ignoring SIGINT"),
    ("crash", [0, 1, 3], "ex1's cell kills the kernel (os._exit)"),
    ("flood", [2, 1, 3], "prints 200 MB"),
    ("warner", [2, 1, 3], "right answers that warn, print to stderr and trigger a torch warning"),
    ("deleter", [2, 1, 3], "all three test cells deleted"),
    ("duplicator", [2, 1, 3], "test cells duplicated"),
    ("spy", [2, 0, 3], "n_params right only if it sees the grader's env, network (loopback) or cache"),
    ("alice", [2, 1, 3], "right answers (the overwriter's victim)"),
    ("alice*", [2, 1, 3], "a glob character in the folder name"),
    ("dave ", [2, 1, 3], "a trailing space in the folder name"),
    ("erin", [2, 1, 3], "renamed: hw/98_fixture (1).ipynb"),
    ("frank", [2, 1, 3], "two copies: right at the top, wrong in old/"),
    ("hook_forger", [0, 0, 0], "the release plus a post_run_cell hook rewriting every answer file after each cell"),
    ("thread_forger", [0, 0, 0], "the release plus a thread rewriting every answer file while the probes run"),
    ("answer_bomb", [0, 0, 0], "the release plus a hook replacing answers with an encrypted zip and 100,000-deep JSON"),
    ("frame_reader", [2, 1, 0], "ex3 reads the truth from the probe's frames (sys._getframe)"),
    ("case_sniffer", [1, 1, 3], "ex1 refuses only the cases the probe's frames list as too big, never checks"),
    ("proc_writer", [2, 1, 3], "right answers, then writes a forged frame to /proc/1/fd/1 and kills PID 1"),
    ("subclass_raiser", [2, 1, 3], "right answers; refuses with a subclass of ValueError"),
    ("mallory", None, "98_fixture.ipynb is a symlink to the instructor notebook"),
    ("garbage", [0, 0, 0], "98_fixture.ipynb is not a notebook"),
]


def _hashes(*folders: Path) -> dict[str, str]:
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _daemons() -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if MARKER.encode() in (proc / "cmdline").read_bytes():
                found.append(proc.name)
        except OSError:
            continue
    return found


class _Listener:
    """A TCP server on the grader's loopback: a sandboxed submission must not reach it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def _make_class(root: Path, students: list[str], port: int) -> dict:
    where = {"course": str(root / "course"), "inbox": str(root / "inbox"), "source": str(root / "src" / fx.NAME),
             "cache": str(root / "grader-cache"), "port": port}
    source = fx.write(root / "src")
    released = _release(root, source)
    (root / "grader-cache").mkdir()
    (root / "grader-cache" / "secret.txt").write_text("the grader's own cache")
    inbox = root / "inbox"
    for student in students:
        if student == "untouched":
            (inbox / student).mkdir(parents=True)
            shutil.copyfile(released, inbox / student / fx.NAME)
        elif student == "mallory":
            (inbox / student).mkdir(parents=True)
            (inbox / student / fx.NAME).symlink_to(source)
        elif student == "garbage":
            (inbox / student).mkdir(parents=True)
            (inbox / student / fx.NAME).write_text("this is not a notebook {")
        elif student == "erin":
            fx.write(inbox / "erin" / "hw", _build("erin", where), name="98_fixture (1).ipynb")
        else:
            fx.write(inbox / student, _build(student, where))
            if student == "frank":
                fx.write(inbox / "frank" / "old", _build("frank/old", where))
    # a gradebook from an earlier run, which this one must not touch
    course = root / "course"
    (course / "feedback" / "alice").mkdir(parents=True)
    (course / "feedback" / "alice" / "98_fixture.md").write_text("earlier feedback\n")
    (course / "scores.csv").write_text("student,98_fixture,total,max,percent,notes\nalice,6/6,6,6,100,\n")
    (course / "scores.json").write_text('{"seed": 1, "records": []}\n')
    return where


@pytest.fixture(scope="module")
def adversarial(tmp_path_factory):
    """Grade the whole adversarial class once (2 jobs); hashes and processes before and after."""
    root = tmp_path_factory.mktemp("class")
    listener = _Listener()
    old_env = {k: os.environ.get(k) for k in (SECRET, "CONVNETS_CACHE")}
    os.environ[SECRET] = "s3cret"
    os.environ["CONVNETS_CACHE"] = str(root / "grader-cache")
    try:
        where = _make_class(root, [s for s, _, _ in ADVERSARIAL], listener.port)
        watched = (root / "course", root / "inbox", root / "src", root / "grader-cache", ROOT / "course_utils", ROOT / "data")
        before = _hashes(*watched)
        run = grading.grade(root / "inbox", _config(root), notebooks=root / "src")
        after = _hashes(*watched)
        for _ in range(50):  # the sandboxes' PID namespaces die with them, give the kernel a moment
            if not _daemons():
                break
            threading.Event().wait(0.1)
        leftover = _daemons()
        scores.write_run(run, root / "course")
        yield {"run": run, "before": before, "after": after, "leftover": leftover, "root": root,
               "connections": listener.connections, "where": where}
    finally:
        listener.close()
        for key, value in old_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.mark.parametrize("student, deserved, what", ADVERSARIAL, ids=[s for s, _, _ in ADVERSARIAL])
def test_adversarial_submission_graded_as_deserved(adversarial, student, deserved, what):
    records = {r["student"]: r for r in adversarial["run"].records}
    if deserved is None:
        assert student not in records, f"{student} ({what}) must not be graded"
        notes = [n for s, n in adversarial["run"].notes if s == student]
        assert any("is a symlink: not graded" in n for n in notes), notes
        return
    record = records[student]
    got = [e["points"] for e in record["exercises"]]
    assert got == deserved, f"{student!r} ({what}): deserved {deserved}, got {got}; {record['exercises']}"


def test_adversarial_class_changed_nothing_outside_the_sandboxes(adversarial):
    before, after = adversarial["before"], adversarial["after"]
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    assert not changed, f"files outside the sandboxes changed while grading: {changed}"
    assert adversarial["leftover"] == [], f"processes of submissions outlived grading: {adversarial['leftover']}"
    assert adversarial["connections"] == 0, "a sandboxed submission reached the grader's loopback network"


def test_adversarial_class_report(adversarial):
    run, root = adversarial["run"], adversarial["root"]
    given = {r["student"]: sum(e["points"] for e in r["exercises"]) for r in run.records}
    print("\nsubmission        deserved  given  trick")  # the closing note's table (pytest -s)
    for student, deserved, what in ADVERSARIAL:
        shown = "not graded" if deserved is None else f"{sum(deserved):g}/6"
        got = "not graded" if student not in given else f"{given[student]:g}/6"
        print(f"{student!r:<18} {shown:>10} {got:>10}  {what}")
    text = "\n".join(f"{s}: {n}" for s, n in run.table_notes())
    for expected in ["erin: 'hw/98_fixture (1).ipynb' graded as 98_fixture (matched by name)",
                     "frank: 'old/98_fixture.ipynb' is another copy of 98_fixture: not graded",
                     "mallory: '98_fixture.ipynb' is a symlink: not graded",
                     "garbage: 98_fixture: not a readable notebook"]:
        assert expected in text, text
    table = (root / "course" / "scores.csv").read_text()
    assert "\nalice*,6/6," in table and "\ndave ,6/6," in table and "\nalice,6/6," in table
    assert (root / "course" / "graded" / "alice*" / "98_fixture.ipynb").is_file()
    assert (root / "course" / "graded" / "alice" / "98_fixture.ipynb").is_file()
    hang = next(r for r in run.records if r["student"] == "hang")
    assert {"status": "killed", "ename": "TimeoutError"}.items() <= next(c for c in hang["cells"] if c["index"] == 6).items()
    flood = (root / "course" / "graded" / "flood" / "98_fixture.ipynb")
    assert flood.stat().st_size < 3 * MiB and "output truncated" in flood.read_text()
    # feedback and graded notebooks never carry the probes or the reference answers
    secrets = ["def probe", "def cases", "COMPARE", "attempt(", "'raised'", "rtol", "too_big"]
    for path in list((root / "course" / "feedback").rglob("*.md")) + list((root / "course" / "graded").rglob("*.ipynb")):
        text = path.read_text()
        submitted = root / "inbox" / path.parent.name / fx.NAME  # what the student wrote is not a leak
        own = submitted.read_text() if submitted.is_file() and not submitted.is_symlink() else ""
        leaked = [s for s in secrets if s in text and s not in own]
        assert not leaked, f"{path.relative_to(root)} contains {leaked}"


def test_attacks_succeed_without_the_sandbox(tmp_path):
    """The same attacks graded with --no-sandbox gain points and change files: the suite can fail."""
    listener = _Listener()
    try:
        students = ["spy", "source_reader", "gradebook_writer"]
        _make_class(tmp_path, students, listener.port)
        before = _hashes(tmp_path / "course")
        run = grading.grade(tmp_path / "inbox", _config(tmp_path, sandbox=False), notebooks=tmp_path / "src")
        after = _hashes(tmp_path / "course")
    finally:
        listener.close()
    got = _points(run)
    assert got["spy"] == 6 and got["source_reader"] == 6, got  # deserved 5 and 0: the sandbox is what stops them
    assert listener.connections > 0
    assert before != after and "11/6" in (tmp_path / "course" / "scores.csv").read_text()


FIRST_FORMAT = {  # probes of the first format: the seed goes into the kernel, truths and bad cases sit in its frames
    4: ('''def probe(seed):
    import random
    rng = random.Random(seed)
    fit = [(rng.randint(8, 40), rng.choice([1, 3, 5]), rng.randint(0, 2), rng.randint(1, 3)) for _ in range(6)]
    too_big = [(3, 7, 1, 1)]
    return {"sizes": [attempt(out_size, *c) for c in fit], "refuses": [attempt(out_size, *c) for c in too_big]}
COMPARE = {"sizes": "equal", "refuses": "equal"}'''),
    11: ('''def probe(seed):
    import torch
    g = torch.Generator().manual_seed(seed)
    offsets = 2 * torch.randperm(5, generator=g).double() - 3
    truth = [int(o > 0) for o in offsets]
    x = torch.randn(4, 5, 6, 6, generator=g) + offsets.float().view(1, 5, 1, 1)
    means = attempt(channel_means, x)
    return {"means": means, "truth": truth, "signs": attempt(lambda: [int(float(m) > 0) for m in means])}
COMPARE = {"means": {"rtol": 1e-4, "atol": 1e-6}, "truth": "data", "signs": {"match": "truth", "min": 0.8}}'''),
}


def test_truths_in_the_kernel_can_be_read(tmp_path):
    """With first-format probes (truths and bad cases computed in the learner's kernel) the frame readers
    gain: keeping them out of the kernel (cases, pick, truth) is what stops them. The suite can fail."""
    cells = fx.cells()
    for index, probe in FIRST_FORMAT.items():
        visible = cells[index].source.split(authoring.HIDDEN_BEGIN)[0]
        cells[index].source = f"{visible}{authoring.HIDDEN_BEGIN}\n{probe}\n{authoring.HIDDEN_END}"
    source = fx.write(tmp_path / "src", cells)
    where = {"course": str(tmp_path / "course"), "inbox": "", "source": "", "cache": "", "port": 0}
    for student in ("frame_reader", "case_sniffer"):
        fx.write(tmp_path / "inbox" / student, _build(student, where))
    run = grading.grade(tmp_path / "inbox", _config(tmp_path), notebooks=source.parent)
    got = {r["student"]: [e["points"] for e in r["exercises"]] for r in run.records}
    assert got["frame_reader"][2] == 1.5 and got["case_sniffer"][0] == 2, got  # deserved 0 and 1 (signs, refuses)


# --------------------------------------------------------------------------- nothing left behind

LEAKY_CELL = ("import os, tempfile\nmine = tempfile.mkdtemp(prefix='student-')\n"
              "open(os.path.join(mine, 'x.txt'), 'w').write('x')\nlocked = os.path.join(mine, 'locked')\n"
              "os.mkdir(locked)\nopen(os.path.join(locked, 'y.txt'), 'w').write('y')\nos.chmod(locked, 0)\n"
              "open('in-the-working-folder.txt', 'w').write('x')")
LEAKY_PROBE = "def probe(inputs):\n    import os, tempfile\n    return {'cwd': os.getcwd(), 'tmp': tempfile.gettempdir(), 'mine': mine}"


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandbox", "no-sandbox"])
def test_a_run_leaves_no_temporary_folders(tmp_path, monkeypatch, sandboxed):
    """The runner's work and answer folders and the submission's own temp files are all gone after a run."""
    private = tmp_path / "grader-tmp"
    private.mkdir()
    monkeypatch.setenv("TMPDIR", str(private))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    left_by_runner: list[str] = []
    real_remove = sandbox.remove_tree

    def remove(folder):  # what the runner left in its temp folder, before the grader deletes the rest
        runner_tmp = Path(folder, "tmp")
        if runner_tmp.is_dir():
            left_by_runner.extend(p.name for p in runner_tmp.iterdir() if not p.name.startswith("student-"))
        real_remove(folder)

    monkeypatch.setattr(sandbox, "remove_tree", remove)
    notebook = nbf.v4.new_notebook(cells=[nbf.v4.new_code_cell(LEAKY_CELL)], metadata={"kernelspec": fx.KERNELSPEC})
    inputs = compare.encode({"inputs": {}})
    run = sandbox.execute(nbf.writes(notebook), [("99-leak-test", LEAKY_PROBE, inputs)], LIMITS, sandboxed=sandboxed)
    answer = run.answers.get("99-leak-test")
    assert [c["status"] for c in run.cells] == ["ok"] and answer and answer.status == "ok", (run.cells, run.stderr)
    assert list(private.iterdir()) == [], "a run left files in the grader's temporary folder"
    if not sandboxed:  # the submission saw the grader's file system: every folder it used was private, and is gone
        assert left_by_runner == [], f"the runner did not remove its folders: {left_by_runner}"
        for key in ("cwd", "tmp", "mine"):
            assert Path(answer.value[key]).is_relative_to(private), (key, answer.value[key])
            assert not os.path.lexists(answer.value[key]), f"{key} {answer.value[key]} is still there"


def test_remove_tree_takes_back_permissions(tmp_path):
    """A folder a submission locked (mode 0) is still removed; a symlink in it is not followed (as root, as
    in this project's CI, only the symlink part can fail: root ignores permissions)."""
    (tmp_path / "scratch" / "a" / "b").mkdir(parents=True)
    (tmp_path / "scratch" / "a" / "b" / "f").write_text("x")
    (tmp_path / "outside").write_text("keep")
    (tmp_path / "scratch" / "a" / "link").symlink_to(tmp_path / "outside")
    for folder in ("a/b", "a", ""):
        os.chmod(tmp_path / "scratch" / folder, 0)
    sandbox.remove_tree(tmp_path / "scratch")
    assert not (tmp_path / "scratch").exists() and (tmp_path / "outside").read_text() == "keep"
    sandbox.remove_tree(tmp_path / "scratch")  # gone already: nothing to do


def test_private_tmp_does_not_hide_a_course_cloned_under_tmp(monkeypatch):
    """The sandbox's tmpfs /tmp is mounted before the Python environment: a clone in /tmp keeps its .venv."""
    monkeypatch.setattr(sys, "prefix", "/tmp/course-clone/.venv")
    args = sandbox.bwrap_command(Limits(), quick=True)
    tmpfs = args.index("--tmpfs")
    assert args[tmpfs + 1] == "/tmp"
    venv = [i for i, a in enumerate(args) if a == "/tmp/course-clone/.venv" and args[i - 1] == "--ro-bind"]
    assert venv and all(i > tmpfs for i in venv), args


# --------------------------------------------------------------------------- feedback on the adversarial class

def test_adversarial_class_feedback_is_actionable_and_reveals_nothing(adversarial):
    """Every feedback file of the class: points, which check failed in words, the answer cell, unsolved
    exercises named as such, only built-in exception names, and none of the probes' secrets."""
    import builtins

    from homework_tools import feedback

    root = adversarial["root"]
    records = {r["student"]: r for r in adversarial["run"].records}
    texts = {s: (root / "course" / "feedback" / s / "98_fixture.md").read_text() for s in records}
    for student, text in texts.items():
        record = records[student]
        assert text == feedback.feedback(record)
        assert "some answers differ" not in text  # the old catch-all: now which check, in words
        for e, note in zip(record["exercises"], feedback.exercise_notes(record)):
            if e["points"] < e["max_points"]:
                assert note.lines, (student, e)  # a lost point is always explained
            if e["status"] == "ok" and e["passed"] < e["checks"] and not note.unsolved:
                assert any(feedback.REASONS[r] in text for r in e["reasons"]), (student, e, text)
        shown = [n for n in re.findall(r"raised (?!an error)([A-Za-z_][\w.]*)", text) if n not in ("NotImplementedError",)]
        assert all(isinstance(getattr(builtins, n, None), type) for n in shown), (student, shown)
    untouched = texts["untouched"]
    assert untouched.count("Not solved yet") == 3 and "Replace `raise NotImplementedError()`" in untouched
    assert "under \u201cExercise 1 (2 points): output size\u201d" in untouched
    assert ("Your answer cell (cell 7, under \u201cExercise 2 (1 point): a value\u201d) did not finish: it took too "
            "long or crashed the kernel." in texts["hang"])
    assert "## Exercise 3 (3 points): channel means: 0/3 points" in texts["tensor_liar"]
    assert "Not solved yet" not in texts["monkeypatch"] and "your answer is not the expected one" in texts["monkeypatch"]


# --------------------------------------------------------------------------- a model measured outside the kernel

MODEL_TEST = r'''y = my_block()(torch.zeros(1, 2, 7, 7))
assert y.shape == (1, 2, 7, 7), "keep the shape"
### BEGIN HIDDEN TESTS
def cases(seed):
    return {"size": 9}, {}
def probe(inputs):
    import torch
    n = int(inputs["size"])
    block = attempt(my_block)
    return {"block": attempt(lambda: export_module(block.eval(), torch.zeros(1, 2, n, n)))}
def derive(answer, inputs):
    import torch
    block = rebuild_module(answer["block"])
    x = torch.zeros(1, 2, int(inputs["size"]), int(inputs["size"]), requires_grad=True)
    out = block(x)
    out[0, :, 4, 4].sum().backward()
    seen = (x.grad[0].abs().sum(0) > 0).nonzero()
    side = int(max(seen[:, 0].max() - seen[:, 0].min(), seen[:, 1].max() - seen[:, 1].min()) + 1)
    return {"numbers": block.stored_numbers, "field": side, "shape": list(out.shape)}
COMPARE = {"numbers": {"max": 100}, "field": {"min": 5, "needs": ["shape"]}, "shape": "equal"}
### END HIDDEN TESTS'''


def test_derive_measures_a_model_sent_as_data(tmp_path):
    """A budget and a receptive field measured in the instructor's kernel on the exported graph: a block that
    hides its weights from parameters(), in a buffer or in a plain attribute, is counted all the same."""
    cells = [fx.cells()[0], nbf.v4.new_code_cell("import torch\nfrom torch import nn"),
             nbf.v4.new_markdown_cell("### Exercise 1 (2 points): a block\n\nA 5x5 view in at most 100 numbers."),
             fx._code("def my_block():\n    ### BEGIN SOLUTION\n    return nn.Sequential(nn.Conv2d(2, 2, 3, padding=1, "
                      "bias=False), nn.Conv2d(2, 2, 3, padding=1, bias=False))\n    ### END SOLUTION", "97-ex1-code"),
             fx._code(MODEL_TEST, "97-ex1-test", 2)]
    source = fx.write(tmp_path / "src", cells, name="97_model.ipynb")
    answers = {
        "honest": "    return nn.Sequential(nn.Conv2d(2, 2, 3, padding=1, bias=False), nn.Conv2d(2, 2, 3, padding=1, bias=False))",
        "hider": ("    class Hider(nn.Module):\n        def __init__(self):\n            super().__init__()\n"
                  "            self.register_buffer('k', torch.randn(2, 2, 5, 5))\n            self.w = torch.randn(2, 2, 5, 5)\n"
                  "        def parameters(self, recurse=True):\n            return iter([])\n"
                  "        def forward(self, x):\n            f = torch.nn.functional.conv2d\n"
                  "            return f(x, self.k, padding=2) + f(x, self.w, padding=2)\n    return Hider()"),
        "one_by_one": "    return nn.Conv2d(2, 2, 1)",
    }
    for student, code in answers.items():
        student_cells = [c.copy() for c in cells]
        student_cells[3] = fx._code("def my_block():\n" + code, "97-ex1-code")
        fx.write(tmp_path / "inbox" / student, student_cells, name="97_model.ipynb")
    config = HomeworkConfig(tmp_path / "course", limits=Limits(cell_timeout=300, notebook_time=900, probe_time=300),
                            jobs=2, seed=7)  # torch.export is slow to import on a busy machine
    run = grading.grade(tmp_path / "inbox", config, notebooks=source.parent)
    got = {r["student"]: r["exercises"][0]["points"] for r in run.records}
    # the hider stores 200 numbers (over budget), the 1x1 convolution sees 1x1 pixels (field fails)
    assert got == {"honest": 2, "hider": pytest.approx(4 / 3), "one_by_one": pytest.approx(4 / 3)}, run.records
    reasons = {r["student"]: r["exercises"][0]["reasons"] for r in run.records}
    assert reasons["hider"] == reasons["one_by_one"] == ["out of bounds"]
