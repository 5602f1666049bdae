"""A tiny course notebook in the exercise format (notebooks/AUTHORING.md) for the grader's tests.

``98_fixture.ipynb`` has three exercises (6 points) whose probes use every kind of rule:

* Exercise 1 (2 points): ``out_size(n, k, p, s)``; keys ``sizes`` ("equal") and ``refuses``
  ("equal": a kernel larger than the padded input must raise ValueError).
* Exercise 2 (1 point): the value ``n_params``; key ``n_params`` ("equal").
* Exercise 3 (3 points): ``channel_means(x)`` for an (N, C, H, W) tensor; keys ``means``
  (rtol/atol), ``channels`` ("set": the channels whose mean is positive), ``spread``
  ({"min", "max"}: max - min of the means), ``signs`` ("match" against ``truth``, a
  "data" key): 4 scored keys, 0.75 points each.

Submissions are built from it by :func:`submission` with small, named edits.
"""

from __future__ import annotations

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

EX1_TEST = '''assert out_size(28, 5) == 24, "a 5x5 kernel without padding trims 2 pixels on each side"
### BEGIN HIDDEN TESTS
def probe(seed):
    import random
    rng = random.Random(seed)
    cases = [(rng.randint(8, 40), rng.choice([1, 3, 5]), rng.randint(0, 2), rng.randint(1, 3)) for _ in range(6)]
    return {"sizes": [attempt(out_size, *c) for c in cases], "refuses": attempt(out_size, 3, 7, 1, 1)}
COMPARE = {"sizes": "equal", "refuses": "equal"}
### END HIDDEN TESTS'''

EX2_SOLUTION = '''### BEGIN SOLUTION
n_params = 4 * 1 * 3 * 3 + 4
### END SOLUTION'''

EX2_TEST = '''assert isinstance(n_params, int) and n_params > 36, "count the biases too"
### BEGIN HIDDEN TESTS
def probe(seed):
    return {"n_params": attempt(lambda: n_params)}
COMPARE = {"n_params": "equal"}
### END HIDDEN TESTS'''

EX3_SOLUTION = '''def channel_means(x):
    ### BEGIN SOLUTION
    return x.mean(dim=(0, 2, 3))
    ### END SOLUTION'''

EX3_TEST = '''x = torch.ones(2, 3, 4, 4)
assert torch.allclose(channel_means(x), torch.ones(3)), "the mean over N, H and W of ones is 1"
### BEGIN HIDDEN TESTS
def probe(seed):
    import torch
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 5, 6, 6, generator=g) + (2 * torch.arange(5.0) - 3).view(1, 5, 1, 1)
    means = attempt(channel_means, x)
    return {"means": means,
            "channels": attempt(lambda: [c for c in range(5) if float(means[c]) > 0]),
            "spread": attempt(lambda: float(means.max() - means.min())),
            "truth": [0, 0, 1, 1, 1],
            "signs": attempt(lambda: [int(float(m) > 0) for m in means])}
COMPARE = {"means": {"rtol": 1e-4, "atol": 1e-6}, "channels": "set", "spread": {"min": 6, "max": 10},
           "truth": "data", "signs": {"match": "truth", "min": 0.8}}
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
