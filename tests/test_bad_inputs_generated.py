"""Generated inputs for every public function of course_utils (Hypothesis): a right result or a clear error.

``tests/generated_specs.py`` holds one spec per public function (a valid call, a kind per
argument, a check of the result); ``tests/generated_inputs.py`` draws the values (ints as
NumPy and 0-d tensors, flags as ``'no'``, images uint8 or channels-last, NaN, empty, huge...)
and judges each call: a bad value must end in a course error naming the argument, a
legitimate one must give the result of its plain form, checked against PyTorch or an
invariant. Never a raw library error, a silent wrong result or a hang.

Profiles (``HYPOTHESIS_PROFILE``): ``course`` (the default) runs each spec's own example count,
derandomized, so every run (and CI) draws the same inputs; ``long`` runs ten times as many,
with a new seed each time (Hypothesis prints the seed and the smallest failing input to
reproduce a failure).
"""

import importlib
import inspect
import os
import shutil

import generated_specs
import pytest
from generated_inputs import draws, judge
from hypothesis import HealthCheck, Phase, given, settings

import course_utils

settings.register_profile("course", derandomize=True, database=None, deadline=None, print_blob=True,
                          phases=(Phase.explicit, Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck))
settings.register_profile("long", derandomize=False, database=None, deadline=None, print_blob=True,
                          phases=(Phase.explicit, Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck))
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "course")
settings.load_profile(PROFILE)
SCALE = 10 if PROFILE == "long" else 1


@pytest.fixture(scope="module", autouse=True)
def _scratch():
    yield
    shutil.rmtree(generated_specs.SCRATCH, ignore_errors=True)


@pytest.mark.parametrize("name", sorted(generated_specs.SPECS))
def test_generated_inputs_get_a_right_result_or_a_clear_error(name):
    spec = generated_specs.SPECS[name]

    @settings(max_examples=max(1, spec.examples * SCALE))
    @given(draws(spec))
    def run(pair):
        arg, drawn = pair
        kind, detail = judge(spec, arg, drawn)
        assert kind in ("ok", "clear"), f"{name}: {kind}: {detail}"

    run()


def public_names() -> set[str]:
    """``module.name`` of every public function and class defined in a course_utils module."""
    names = set()
    for module_name in course_utils._SUBMODULES:
        module = importlib.import_module(f"course_utils.{module_name}")
        public = getattr(module, "__all__", None) or [
            n for n, v in vars(module).items() if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))
            and v.__module__ == module.__name__]
        names |= {f"{module_name}.{n}" for n in public}
    return names


def base(spec_name: str) -> str:
    """``module.name`` of a spec's name: "kernels.KernelPlayground.select" and "models.ClassicCNN forward" too."""
    return ".".join(spec_name.split(" ")[0].split(".")[:2])


def test_every_public_function_has_a_spec():
    """A new public function needs a spec in tests/generated_specs.py (or a reason in EXEMPT)."""
    public = public_names()
    covered = {base(n) for n in generated_specs.SPECS}  # "scenes.Scenes.targets" covers scenes.Scenes
    missing = sorted(public - covered - generated_specs.EXEMPT)
    assert not missing, f"public functions without a Hypothesis spec in tests/generated_specs.py: {missing}"
    stale = sorted(n for n in {*generated_specs.SPECS, *generated_specs.EXEMPT} if base(n) not in public)
    assert not stale, f"specs or exemptions of names that are no longer public: {stale}"


def test_the_judge_catches_each_kind_of_failure():
    """The rule itself: a bad value accepted is silent, a library error is raw, a plain form refused is refused."""
    from generated_inputs import Spec, bad, good

    def lenient(n):
        return int(n) + 1  # takes '3' and 2.5 without a word

    def picky(n):
        if type(n) is not int:
            raise TypeError(f"n must be an int, got {n!r}")
        return n + 1

    assert judge(Spec(lenient, {}, {}), "n", bad("'3'", "3"))[0] == "silent"
    assert judge(Spec(lambda n: [][n], {}, {}), "n", bad("5", 5))[0] == "raw"
    assert judge(Spec(picky, {}, {}), "n", good("np.int64(3)", __import__("numpy").int64(3), 3))[0] == "raw"
    assert judge(Spec(lenient, {}, {}, check=lambda kw, r: None), "n", good("3", 3))[0] == "ok"
    wrong = Spec(lambda n: n, {}, {}, check=lambda kw, r: (_ for _ in ()).throw(AssertionError("off by one")))
    assert judge(wrong, "n", good("3", 3)) == ("silent", "n=3: wrong result: off by one")
