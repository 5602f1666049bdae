"""A tiny course notebook in the exercise format (notebooks/AUTHORING.md) for the grader's tests.

``98_fixture.ipynb`` has three exercises (6 points) whose probes use every kind of rule and
every part of a probe (``cases`` with a truth, ``probe``, ``derive``, ``needs``, a catalogue):

* Exercise 1 (2 points): ``out_size(n, k, p, s)`` on cases that fit and cases that must be
  refused, mixed in one list; keys ``sizes`` and ``refuses`` ("equal", each on the cases
  ``cases`` picked for it: a kernel larger than the padded input must raise ValueError, any
  subclass too; ``refuses`` counts only with right ``sizes``).
* Exercise 2 (1 point): the value ``n_params``; key ``n_params`` ("equal").
* Exercise 3 (3 points): ``channel_means(x)`` for an (N, C, H, W) tensor; keys ``means``
  (rtol/atol), ``channels`` ("set": the channels whose mean is positive), ``spread``
  ({"min", "max"}: max - min of the means, measured by ``derive`` in the instructor's run),
  ``signs`` ("match" against ``truth``, a "data" key that ``cases`` keeps outside the
  learner's kernel): 4 scored keys, 0.75 points each.

Submissions are built from it by :func:`submission` with small, named edits.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat as nbf

NAME = "98_fixture.ipynb"
POINTS = {"98-ex1-test": 2.0, "98-ex2-test": 1.0, "98-ex3-test": 3.0}
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

EX1_SOLUTION = '''def out_size(n, k, p=0, s=1):
    ### BEGIN SOLUTION
    if k > n + 2 * p:
        raise ValueError(f"kernel {k} larger than the padded input {n + 2 * p}")
    return (n + 2 * p - k) // s + 1
    ### END SOLUTION'''

EX1_TEST = r'''assert out_size(28, 5) == 24, "a 5x5 kernel without padding trims 2 pixels on each side"
assert out_size(27, 3, 1, 2) == 14, "padding 1 on each side, then stride 2"
try:
    out_size(3, 7)
except ValueError:
    pass
else:
    raise AssertionError("a 7x7 kernel does not fit a 3x3 input: raise ValueError")
### BEGIN HIDDEN TESTS
def cases(seed):
    import random
    rng = random.Random(seed)
    fit = [(rng.randint(8, 40), rng.choice([1, 3, 5]), rng.randint(0, 2), rng.randint(1, 3)) for _ in range(6)]
    too_big = [(3, 7, 1, 1), (rng.randint(2, 5), 9, 1, rng.randint(1, 3))]
    order = list(range(len(fit) + len(too_big)))
    rng.shuffle(order)  # good and bad cases mixed: the learner's kernel cannot tell which must be refused
    shapes = [(fit + too_big)[i] for i in order]
    return {"cases": shapes}, {"fit": [j for j, i in enumerate(order) if i < len(fit)],
                               "too_big": [j for j, i in enumerate(order) if i >= len(fit)]}
def probe(inputs):
    results = [attempt(out_size, *c) for c in inputs["cases"]]
    return {"sizes": results, "refuses": results}
COMPARE = {"sizes": {"rule": "equal", "pick": "fit"}, "refuses": {"rule": "equal", "pick": "too_big", "needs": ["sizes"]},
           "fit": "data", "too_big": "data"}
WRONG = {
    "no stride": ("def out_size(n, k, p=0, s=1):\n    if k > n + 2 * p:\n        raise ValueError(k)\n    return n + 2 * p - k + 1", ["sizes", "refuses"]),
    "refuses with the wrong kind": ("def out_size(n, k, p=0, s=1):\n    if k > n + 2 * p:\n        raise TypeError(k)\n    return (n + 2 * p - k) // s + 1", ["refuses"]),
    "padding once": ("def out_size(n, k, p=0, s=1):\n    if k > n + p:\n        raise ValueError(k)\n    return (n + p - k) // s + 1", ["sizes", "refuses"]),
    "never refuses": ("def out_size(n, k, p=0, s=1):\n    return (n + 2 * p - k) // s + 1", ["refuses"]),
}
RIGHT = {
    "a ValueError subclass": ("class SizeError(ValueError):\n    pass\n\n\ndef out_size(n, k, p=0, s=1):\n"
                              "    if n + 2 * p < k:\n        raise SizeError(k)\n    return 1 + (n + 2 * p - k) // s"),
    "math.floor": ("def out_size(n, k, p=0, s=1):\n    import math\n    if k > n + 2 * p:\n        raise ValueError('too big')\n"
                   "    return math.floor((n + 2 * p - k) / s + 1)"),
}
### END HIDDEN TESTS'''

EX2_SOLUTION = '''### BEGIN SOLUTION
n_params = 4 * 1 * 3 * 3 + 4
### END SOLUTION'''

EX2_TEST = r'''assert int(n_params) == n_params and n_params > 36, "count the biases too"
### BEGIN HIDDEN TESTS
def cases(seed):
    return {}, {}
def probe(inputs):
    return {"n_params": attempt(lambda: n_params)}
COMPARE = {"n_params": "equal"}
WRONG = {
    "no biases": ("n_params = 4 * 3 * 3", ["n_params"]),
    "one bias": ("n_params = 4 * 3 * 3 + 1", ["n_params"], "37 > 36: the self-check only asks for the biases to count"),
    "a float": ("n_params = 40.5", ["n_params"]),
    "not set": ("pass", ["n_params"]),
}
RIGHT = {"a NumPy integer": "import numpy as np\nn_params = np.int64(40)", "a sum": "n_params = sum([36, 4])"}
### END HIDDEN TESTS'''

EX3_SOLUTION = '''def channel_means(x):
    ### BEGIN SOLUTION
    return x.mean(dim=(0, 2, 3))
    ### END SOLUTION'''

EX3_TEST = r'''x = torch.arange(3.0).view(1, 3, 1, 1).expand(2, 3, 4, 4)
got = torch.as_tensor(channel_means(x)).float()
assert got.shape == (3,) and torch.allclose(got, torch.arange(3.0)), "channel c of this batch is c everywhere"
### BEGIN HIDDEN TESTS
def cases(seed):
    import torch
    g = torch.Generator().manual_seed(seed)
    offsets = 2 * torch.randperm(5, generator=g).double() - 3  # -3, -1, 1, 3, 5 in an order drawn now
    x = torch.randn(4, 5, 6, 6, generator=g) + offsets.float().view(1, 5, 1, 1)
    return {"x": x}, {"truth": [int(o > 0) for o in offsets]}
def probe(inputs):
    means = attempt(channel_means, inputs["x"])
    return {"means": means,
            "channels": attempt(lambda: [c for c in range(5) if float(means[c]) > 0]),
            "signs": attempt(lambda: [int(float(m) > 0) for m in means])}
def derive(answer, inputs):
    import torch
    means = torch.as_tensor(answer["means"], dtype=torch.float64)
    return {"spread": float(means.max() - means.min())}
COMPARE = {"means": {"rtol": 1e-4, "atol": 1e-6}, "channels": "set", "spread": {"min": 6, "max": 10, "needs": ["means"]},
           "truth": "data", "signs": {"match": "truth", "min": 0.8}}
WRONG = {
    "mean over everything": ("def channel_means(x):\n    return x.mean().repeat(x.shape[1])", ["means", "channels", "spread", "signs"]),
    "mean over the batch only": ("def channel_means(x):\n    return x.mean(dim=0)", ["means", "channels", "spread", "signs"]),
    "sum, not mean": ("def channel_means(x):\n    return x.sum(dim=(0, 2, 3))", ["means", "spread"]),
    "the last axis kept": ("def channel_means(x):\n    return x.mean(dim=(0, 2))", ["means", "channels", "spread", "signs"]),
}
RIGHT = {
    "NumPy": "def channel_means(x):\n    import numpy as np\n    return np.asarray(x).mean(axis=(0, 2, 3))",
    "a loop": "def channel_means(x):\n    return [float(x[:, c].mean()) for c in range(x.shape[1])]",
}
### END HIDDEN TESTS'''


def _code(text: str, grade_id: str | None = None, points: float | None = None) -> nbf.NotebookNode:
    cell = nbf.v4.new_code_cell(text)
    if grade_id:
        graded = points is not None
        cell.metadata["nbgrader"] = {"grade": graded, "grade_id": grade_id, "locked": graded,
                                     "schema_version": 3, "solution": not graded, "task": False}
        if graded:
            cell.metadata["nbgrader"]["points"] = points
    return cell


def cells() -> list[nbf.NotebookNode]:
    """The instructor version's cells (index: 0 title, 1 imports, 2-4 ex1, 5-7 ex2, 8 free, 9-11 ex3)."""
    md = nbf.v4.new_markdown_cell
    return [
        md("# 98 · Fixture\n\nA tiny notebook in the course's exercise format."),
        _code("import math\nimport torch\nprint('setup ok')"),
        md("### Exercise 1 (2 points): output size\n\nWrite `out_size(n, k, p, s)`; refuse a kernel larger than the padded input."),
        _code(EX1_SOLUTION, "98-ex1-code"),
        _code(EX1_TEST, "98-ex1-test", 2),
        md("### Exercise 2 (1 point): a value\n\nSet `n_params` to the weights of a 3x3 conv, 1 -> 4 channels, with bias."),
        _code(EX2_SOLUTION, "98-ex2-code"),
        _code(EX2_TEST, "98-ex2-test", 1),
        _code("print('independent', math.sqrt(16))"),
        md("### Exercise 3 (3 points): channel means\n\nReturn the mean of each channel of an (N, C, H, W) tensor."),
        _code(EX3_SOLUTION, "98-ex3-code"),
        _code(EX3_TEST, "98-ex3-test", 3),
    ]


def with_hints(cell_list: list) -> list:
    """``cell_list`` with a hints cell (AUTHORING.md) after every graded test cell that has none."""
    out = []
    for i, cell in enumerate(cell_list):
        out.append(cell)
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        following = cell_list[i + 1].get("metadata", {}).get("course", {}) if i + 1 < len(cell_list) else {}
        if grade_id.endswith("-test") and cell["metadata"]["nbgrader"].get("grade") and "hints" not in following:
            exercise = grade_id[: -len("-test")]
            hint = nbf.v4.new_markdown_cell(f"#### Hints for exercise {exercise.split('-ex')[1]}\n\n"
                                            "1. Read the task again, slowly.")
            hint.metadata["course"] = {"hints": exercise}
            out.append(hint)
    return out


def write(folder: Path, cell_list: list | None = None, name: str = NAME) -> Path:
    """Write a notebook of ``cell_list`` (default: the instructor version, with hints) to ``folder/name``."""
    cell_list = cell_list if cell_list is not None else with_hints(cells())
    nb = nbf.v4.new_notebook(cells=cell_list, metadata={"kernelspec": KERNELSPEC})
    folder.mkdir(parents=True, exist_ok=True)
    nbf.write(nb, folder / name)
    return folder / name


def answer(cell: nbf.NotebookNode, code: str) -> None:
    """Replace a solution cell's answer (what a student writes) keeping the signature line."""
    head = cell.source.split("\n", 1)[0]
    cell.source = f"{head}\n{code}" if head.startswith("def ") else code


def released(cell_list: list[nbf.NotebookNode]) -> list[nbf.NotebookNode]:
    """The student version of instructor cells as nbgrader writes it, without running nbgrader (fast):
    each solution region becomes ``# YOUR CODE HERE`` + ``raise NotImplementedError()``, hidden tests go."""
    out = []
    for cell in cell_list:
        cell = nbf.from_dict(dict(cell))
        cell.source = re.sub(r"( *)### BEGIN SOLUTION.*?### END SOLUTION",
                             r"\1# YOUR CODE HERE\n\1raise NotImplementedError()", cell.source, flags=re.S)
        cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0].rstrip()
        out.append(cell)
    return out
