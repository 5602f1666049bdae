"""Generated inputs for the public functions of course_utils: Hypothesis strategies and the rule every call must obey.

``tests/bad_inputs.py`` lists inputs someone thought of; this module draws them. Each argument
of a public function has a *kind* (an int, a number, a flag, a choice, an image, a model, ...)
whose strategy draws :class:`Drawn` values of every sort: legitimate ones in every form the
course accepts (``np.int64(3)``, ``torch.tensor(3)``, uint8 or channels-last images, NumPy
arrays, empty batches where they are meaningful), and bad ones (bools for ints, ``'no'`` for
flags, NaN and inf, wrong ranks, dtypes and layouts, empty tensors, huge values, strings,
``None``). Each drawn value knows whether it is legitimate and, if so, its plain form.

:func:`judge` calls the function with one argument replaced and decides how the call ended:

* a **bad** value must end in a course error (raised by course_utils, a ``ValueError``/
  ``TypeError``/... subclass) whose message names the argument: ``clear``; otherwise
  ``unclear`` (a course error that does not name it), ``raw`` (an error from inside torch,
  NumPy, matplotlib or Python), ``silent`` (no error: a wrong result) or ``hang``;
* a **legitimate** value must give the result of its plain form (``np.int64(3)`` the result
  of ``3``), and that result must pass the spec's check (PyTorch as the reference where
  there is one, else an invariant): ``ok``; a course error is fine only where the plain form
  gets one too (a cross-argument constraint such as a kernel larger than the input) and the
  reference agrees; otherwise ``refused`` (a legitimate input refused), ``silent``, ``raw``
  or ``hang``.

The specs (one per public function) live in ``tests/generated_specs.py``;
``tests/test_bad_inputs_generated.py`` runs them under Hypothesis and
``tests/probe_bad_inputs.py --generated`` counts the outcomes.
"""

from __future__ import annotations

import contextlib
import io
import math
import random
import signal
import traceback
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bad_inputs
import hypothesis.strategies as st
import numpy as np
import torch
from torch import nn

import course_utils

PACKAGE_DIR = str(Path(course_utils.__file__).resolve().parent)
COURSE_ERRORS = (ValueError, TypeError, LookupError, RuntimeError, OSError)
NAN, INF = float("nan"), float("inf")
TIMEOUT = 20.0  # seconds before a call counts as a hang


class _Same:
    def __repr__(self) -> str:
        return "SAME"


SAME = _Same()  # a legitimate value that is its own plain form


@dataclass
class Drawn:
    """One drawn value: what to pass, whether the function must accept it, and its plain form."""

    label: str
    value: Any
    legit: bool
    canonical: Any = SAME

    def __repr__(self) -> str:
        return f"{self.label}{'' if self.legit else ' (bad)'}"


class Lazy:
    """A value made afresh for each call (models, loaders: functions may change them)."""

    def __init__(self, make: Callable[[], Any], label: str = ""):
        self.make, self.label = make, label

    def __repr__(self) -> str:
        return self.label or "<lazy>"


def materialize(value: Any) -> Any:
    return value.make() if isinstance(value, Lazy) else value


def good(label: str, value: Any, canonical: Any = SAME) -> Drawn:
    return Drawn(label, value, True, canonical)


def bad(label: str, value: Any) -> Drawn:
    return Drawn(label, value, False)


def fixed(*drawn: Drawn) -> st.SearchStrategy[Drawn]:
    return st.sampled_from(drawn)


# ---------------------------------------------------------------------------------------
# Scalar kinds


def mostly(usual: st.SearchStrategy[Drawn], other: st.SearchStrategy[Drawn], share: int = 7) -> st.SearchStrategy[Drawn]:
    """``usual`` about ``share`` times in 10, else ``other`` (Hypothesis' one_of splits evenly between branches)."""
    return st.integers(0, 9).flatmap(lambda r: usual if r < share else other)


BAD_OBJECTS = (bad("None", None), bad("'x'", "x"), bad("[1]", [1]), bad("object()", object()))


def _int_forms(v: int) -> list[Drawn]:
    forms = [good(repr(v), v), good(f"np.int64({v})", np.int64(v), v), good(f"tensor({v})", torch.tensor(v), v)]
    if -2**31 <= v < 2**31:
        forms += [good(f"np.int32({v})", np.int32(v), v), good(f"tensor({v}, int32)", torch.tensor(v, dtype=torch.int32), v)]
    if 0 <= v < 256:
        forms.append(good(f"np.uint8({v})", np.uint8(v), v))
    return forms


def ints(low: int | None = None, high: int | None = None, practical: tuple[int, int] = (0, 40),
         bad_types: bool = True) -> st.SearchStrategy[Drawn]:
    """Integers in ``[low, high]`` in every form (int, NumPy, 0-d tensor); below, above and non-ints are bad.

    ``practical`` bounds the legitimate values drawn (a legitimate 10**9 epochs would just take long).
    """
    lo = practical[0] if low is None else max(low, practical[0])
    hi = practical[1] if high is None else min(high, practical[1])
    legit = st.integers(lo, hi).flatmap(lambda v: st.sampled_from(_int_forms(v)))
    parts = []
    if low is not None:
        parts.append(st.integers(low - 1000, low - 1).flatmap(
            lambda v: st.sampled_from([bad(repr(v), v), bad(f"np.int64({v})", np.int64(v)),
                                       bad(f"tensor({v})", torch.tensor(v))])))
    if high is not None:
        parts.append(st.sampled_from([bad(repr(high + 1), high + 1), bad(repr(high + 10**6), high + 10**6)]))
    if bad_types:
        v = max(lo, 1) if hi >= 1 else lo
        parts.append(fixed(bad("True", True), bad("False", False), bad("np.True_", np.True_), bad(f"{v + 0.5}", v + 0.5),
                           bad(f"{float(v)}", float(v)), bad("nan", NAN), bad("inf", INF), bad(repr(str(v)), str(v)),
                           bad("None", None), bad(f"[{v}]", [v]), bad(f"tensor([{v}])", torch.tensor([v])),
                           bad(f"tensor({float(v)})", torch.tensor(float(v))), bad(f"{v}+0j", complex(v)),
                           bad("tensor(True)", torch.tensor(True)), bad(f"np.float64({v})", np.float64(v))))
    return mostly(legit, st.one_of(*parts)) if parts else legit


def _number_forms(v: float) -> list[Drawn]:
    forms = [good(repr(v), v), good(f"np.float64({v!r})", np.float64(v), v)]
    f32 = float(np.float32(v))
    if math.isfinite(f32):
        forms += [good(f"np.float32({v!r})", np.float32(v), f32), good(f"tensor({v!r})", torch.tensor(v), f32)]
    if float(v).is_integer() and abs(v) < 2**53:
        forms += [good(repr(int(v)), int(v), float(v)), good(f"np.int64({int(v)})", np.int64(int(v)), float(v))]
    return forms


def numbers(low: float | None = None, high: float | None = None, *, low_open: bool = False, high_open: bool = False,
            practical: tuple[float, float] = (-10.0, 10.0)) -> st.SearchStrategy[Drawn]:
    """Finite numbers in the range in every form (float, int, NumPy, 0-d tensor); NaN, inf, outside and non-numbers are bad."""
    lo = practical[0] if low is None else max(low, practical[0])
    hi = practical[1] if high is None else min(high, practical[1])

    def inside(v: float) -> bool:
        return ((low is None or (v > low if low_open else v >= low))
                and (high is None or (v < high if high_open else v <= high)))

    def forms(v: float) -> st.SearchStrategy[Drawn]:
        return st.sampled_from([d for d in _number_forms(v) if inside(float(d.canonical if d.canonical is not SAME
                                                                                   else d.value))])

    legit = st.floats(lo, hi, allow_nan=False, allow_infinity=False).filter(inside).flatmap(forms)
    outside = []
    if low is not None:
        outside += [bad(repr(low - 1.0), low - 1.0), bad(repr(low - 1e-3), low - 1e-3)]
        if low_open:
            outside.append(bad(repr(float(low)), float(low)))
    if high is not None:
        outside += [bad(repr(high + 1.0), high + 1.0), bad(repr(high * 1e6 + 1), high * 1e6 + 1)]
        if high_open:
            outside.append(bad(repr(float(high)), float(high)))
    return mostly(legit, fixed(bad("nan", NAN), bad("inf", INF), bad("-inf", -INF), bad("np.nan", np.float64(NAN)),
                                  bad("tensor(nan)", torch.tensor(NAN)), bad("True", True), bad("'0.5'", "0.5"),
                                  bad("None", None), bad("[0.5]", [0.5]), bad("0.5+0j", 0.5 + 0j),
                                  bad("tensor([0.5])", torch.tensor([0.5])), *outside))


def flags() -> st.SearchStrategy[Drawn]:
    """True/False in every form (bool, NumPy bool, 0-d bool tensor, the ints 0 and 1); truthy strings and others are bad."""
    return fixed(good("True", True), good("False", False), good("np.True_", np.True_, True),
                 good("np.False_", np.False_, False), good("tensor(True)", torch.tensor(True), True),
                 good("1", 1, True), good("0", 0, False), good("np.int64(1)", np.int64(1), True),
                 bad("'no'", "no"), bad("'yes'", "yes"), bad("'False'", "False"), bad("'true'", "true"), bad("''", ""),
                 bad("None", None), bad("2", 2), bad("-1", -1), bad("0.5", 0.5), bad("1.0", 1.0), bad("[]", []),
                 bad("[False]", [False]), bad("tensor([True])", torch.tensor([True])), bad("'off'", "off"))


def choices(options: tuple[str, ...], more_bad: tuple[Any, ...] = (), generic: bool = True) -> st.SearchStrategy[Drawn]:
    """One of ``options`` (also as ``np.str_``); other strings, near misses and (``generic``) non-strings are bad."""
    legit = [good(repr(o), o) for o in options] + [good(f"np.str_({options[0]!r})", np.str_(options[0]), options[0])]
    near = [bad(repr(o.upper()), o.upper()) for o in options if o.upper() != o][:2]
    near += [bad(repr(options[0] + " "), options[0] + " "), bad("''", ""), bad(f"b{options[0]!r}", options[0].encode())]
    if generic:
        near += [bad("3", 3), bad("None", None), bad(f"[{options[0]!r}]", [options[0]])]
    near += [bad(repr(v), v) for v in more_bad]
    texts = st.text(max_size=8).filter(lambda s: s not in options).map(lambda s: bad(repr(s), s))
    return st.one_of(st.sampled_from(legit), st.sampled_from(near), texts)


def optional(kind: st.SearchStrategy[Drawn]) -> st.SearchStrategy[Drawn]:
    """``kind`` or None (legitimate)."""
    return st.one_of(fixed(good("None", None)), kind.filter(lambda d: d.value is not None))


def sequences(element: st.SearchStrategy[Drawn], min_size: int = 1, max_size: int = 3, *, list_ok: bool = True,
              unique: bool = False, extra_bad: tuple[Drawn, ...] = ()) -> st.SearchStrategy[Drawn]:
    """Tuples (and lists) of drawn elements: legitimate when every element is and the length fits."""

    @st.composite
    def draw(d) -> Drawn:
        size = d(mostly(st.integers(min_size, max_size), st.integers(0, max_size + 1)))
        items = d(st.lists(element, min_size=size, max_size=size))
        as_list = list_ok and d(st.booleans())
        values = [i.value for i in items]
        plain = [i.value if i.canonical is SAME else i.canonical for i in items]
        legit = (all(i.legit for i in items) and min_size <= len(items) <= max_size
                 and (not unique or len({repr(p) for p in plain}) == len(plain)))
        label = ("[" if as_list else "(") + ", ".join(i.label for i in items) + ("]" if as_list else ",)" if len(items) == 1 else ")")
        value = values if as_list else tuple(values)
        return Drawn(label, value, legit, tuple(plain) if legit else SAME)

    return mostly(draw(), fixed(bad("'ab'", "ab"), *extra_bad), 8)


# ---------------------------------------------------------------------------------------
# Tensor kinds: a legitimate base tensor, then zero to two changes (dtype, layout, NaN, rank...)

@dataclass(frozen=True)
class Change:
    """One change of a tensor, and how to undo it where the result is legitimate."""

    name: str
    apply: Callable[[torch.Tensor], Any]  # the changed value, or None where it does not apply
    undo: Callable[[Any], Any] | None = None


def _poke(t: torch.Tensor, value: float) -> torch.Tensor | None:
    if not t.is_floating_point() or t.numel() == 0:
        return None
    t = t.clone(memory_format=torch.contiguous_format)
    t.view(-1)[t.numel() // 2] = value
    return t


def _channels(t: torch.Tensor, c: int) -> torch.Tensor | None:
    if t.ndim < 3 or t.shape[-3] == c:
        return None
    return t.narrow(-3, 0, 1).expand(*t.shape[:-3], c, *t.shape[-2:]).clone()


CHANGES = {c.name: c for c in [
    Change("numpy", lambda t: t.detach().numpy(), torch.from_numpy),
    Change("float64", lambda t: t.double() if t.is_floating_point() else None, lambda v: v.float()),
    Change("float16", lambda t: t.half() if t.is_floating_point() else None, lambda v: v.float()),
    Change("uint8", lambda t: (t.clamp(0, 1) * 255).round().to(torch.uint8) if t.is_floating_point() else None,
           lambda v: v.float() / 255),
    Change("int64", lambda t: t.round().long() if t.is_floating_point() else None, lambda v: v.float()),
    Change("bool", lambda t: t > 0.5 if t.is_floating_point() else None, lambda v: v.float()),
    Change("complex", lambda t: t.to(torch.complex64) if t.is_floating_point() else None),
    Change("nan", lambda t: _poke(t, NAN)),
    Change("inf", lambda t: _poke(t, INF)),
    Change("-inf", lambda t: _poke(t, -INF)),
    Change("x255", lambda t: t * 255 if t.is_floating_point() else None, lambda v: v),
    Change("negative", lambda t: t - 2 if t.is_floating_point() else None, lambda v: v),
    Change("huge", lambda t: t * 1e30 if t.is_floating_point() else None, lambda v: v),
    Change("channels_last", lambda t: t.movedim(-3, -1) if t.ndim >= 3 and t.shape[-3] != t.shape[-1] else None,
           lambda v: v.movedim(-1, -3)),
    Change("no_batch", lambda t: t[0] if t.ndim >= 2 and len(t) else None, lambda v: v),
    Change("add_batch", lambda t: t[None], lambda v: v),
    Change("extra_dim", lambda t: t[..., None]),
    Change("empty", lambda t: t.narrow(-1, 0, 0) if t.ndim and t.shape[-1] else None),
    Change("empty_batch", lambda t: t[:0] if t.ndim and len(t) else None, lambda v: v),
    Change("2_channels", lambda t: _channels(t, 2)),
    Change("5_channels", lambda t: _channels(t, 5)),
    Change("list", lambda t: t.tolist() if t.ndim else None, lambda v: torch.tensor(v)),
    Change("requires_grad", lambda t: t.detach().clone().requires_grad_() if t.is_floating_point() else None,
           lambda v: v.detach()),
    Change("channels_last_memory", lambda t: t.contiguous(memory_format=torch.channels_last) if t.ndim == 4 else None,
           lambda v: v.contiguous()),
    Change("noncontiguous", lambda t: t.transpose(-1, -2).contiguous().transpose(-1, -2) if t.ndim >= 2 else None,
           lambda v: v.contiguous()),
]}
ALWAYS_LEGIT = frozenset({"requires_grad", "channels_last_memory", "noncontiguous"})
_LAST = ("numpy", "list")  # containers: applied after every other change


def tensors(base: st.SearchStrategy[torch.Tensor], legit: frozenset[str] | set[str] = frozenset(), *,
            accept: Callable[[Any], Any] | None = None, changes: tuple[str, ...] | None = None,
            extra: tuple[Drawn, ...] = (), keep: bool = False) -> st.SearchStrategy[Drawn]:
    """A legitimate base tensor with zero to two :data:`CHANGES`.

    ``legit`` names the changes that keep it legitimate (with :data:`ALWAYS_LEGIT`). ``accept``
    decides by value instead: it returns the plain form of a legitimate value, or None.
    ``keep``: a legitimate value is its own plain form (nothing is converted back).
    """
    names = sorted(changes if changes is not None else CHANGES)

    @st.composite
    def draw(d) -> Drawn:
        t = d(base)
        chosen = d(st.lists(st.sampled_from(names), max_size=2, unique=True))
        chosen = sorted(chosen, key=lambda n: n in _LAST)
        value, applied = t, []
        for name in chosen:
            if name in _LAST and applied and applied[-1] in _LAST:
                continue
            new = CHANGES[name].apply(value)
            if new is not None:
                value, applied = new, [*applied, name]
        label = f"{'x'.join(map(str, t.shape)) or 'scalar'} {str(t.dtype).replace('torch.', '')}" + (
            f" + {' + '.join(applied)}" if applied else "")
        if accept is not None:
            plain = accept(value)
            return Drawn(label, value, plain is not None, plain if plain is not None else SAME)
        ok = all(n in legit or n in ALWAYS_LEGIT for n in applied)
        plain = value
        if ok:
            for name in reversed(applied):
                undo = CHANGES[name].undo
                plain = undo(plain) if undo is not None else plain
        return Drawn(label, value, ok, plain if applied and ok and not keep else SAME)

    return st.one_of(draw(), fixed(*BAD_OBJECTS, *extra))


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def uniform(*shape: int | tuple[int, int]) -> st.SearchStrategy[torch.Tensor]:
    """Tensors in [0, 1) of a shape whose sizes are fixed ints or drawn from (low, high) ranges."""
    dims = [st.just(s) if isinstance(s, int) else st.integers(*s) for s in shape]
    return st.tuples(st.tuples(*dims), st.integers(0, 2**16)).map(lambda a: torch.rand(a[0], generator=_gen(a[1])))


def normal(*shape: int | tuple[int, int]) -> st.SearchStrategy[torch.Tensor]:
    dims = [st.just(s) if isinstance(s, int) else st.integers(*s) for s in shape]
    return st.tuples(st.tuples(*dims), st.integers(0, 2**16)).map(lambda a: torch.randn(a[0], generator=_gen(a[1])))


def image_plain(value: Any, batch: bool | None, channels: tuple[int, ...] = (1, 3)) -> torch.Tensor | None:
    """The course's rule for images (``_checks.images``' docstring), written out independently: the plain
    float ``(C, H, W)``/``(N, C, H, W)`` image in [0, 1] for a legitimate value, else None."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "fiub":
            return None
        value = torch.from_numpy(np.ascontiguousarray(value))
    if not isinstance(value, torch.Tensor) or value.ndim not in {True: (4,), False: (3,), None: (3, 4)}[batch]:
        return None
    value = value.detach()
    c = value.ndim - 3
    if value.shape[c] not in channels:
        if value.shape[-1] not in channels:
            return None
        value = value.movedim(-1, c)
    if value.numel() == 0:
        return None
    if value.dtype == torch.uint8:
        return value.float() / 255
    if value.dtype == torch.bool:
        return value.float()
    if not value.is_floating_point():
        return None
    value = value.float()
    if not torch.isfinite(value).all() or value.min() < -0.05 or value.max() > 1.05:
        return None
    return value.clamp(0, 1).contiguous()


def images(batch: bool | None, channels: tuple[int, ...] = (1, 3), n: tuple[int, int] | int = (1, 3),
           side: tuple[int, int] = (4, 16)) -> st.SearchStrategy[Drawn]:
    """Images for the course's image helpers: legitimate exactly when :func:`image_plain` says so."""
    c = st.sampled_from(channels)
    shape = st.tuples(st.just(n) if isinstance(n, int) else st.integers(*n), c, st.integers(*side), st.integers(*side))
    base = st.tuples(shape, st.integers(0, 2**16)).map(lambda a: torch.rand(a[0] if batch else a[0][1:], generator=_gen(a[1])))
    if batch is None:
        base = st.one_of(base, base.map(lambda t: t[0] if t.ndim == 4 else t))
    return tensors(base, accept=lambda v: image_plain(v, batch, channels),
                   extra=(bad("nested list", [[0.5, 0.5]]), bad("'cat.png'", "cat.png")))


# ---------------------------------------------------------------------------------------
# Calling and judging

class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


@dataclass
class Ended:
    """How one call ended."""

    result: Any = None
    error: BaseException | None = None
    ours: bool = False  # raised by a `raise` statement of course_utils
    hang: bool = False
    changed_input: str = ""  # a tensor argument the call changed in place
    kwargs: dict[str, Any] = field(default_factory=dict)  # what it was called with

    @property
    def course_error(self) -> bool:
        return self.error is not None and self.ours and isinstance(self.error, COURSE_ERRORS)

    def describe(self) -> str:
        if self.hang:
            return f"still running after {TIMEOUT:g} s"
        if self.error is not None:
            frames = traceback.extract_tb(self.error.__traceback__)
            where = f"  [raised in {Path(frames[-1].filename).name}:{frames[-1].lineno}]" if frames else ""
            text = str(self.error).splitlines()[0][:200] if str(self.error) else ""
            return f"{type(self.error).__name__}: {text}{where}"
        return f"returned {short(self.result)}"


def short(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).replace('torch.', '')} tensor {tuple(value.shape)}"
    text = repr(value)
    return text if len(text) < 100 else text[:97] + "..."


def seed_all(seed: int = 0) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def call(fn: Callable[..., Any], kwargs: dict[str, Any], env: Mapping[str, str | None] | None = None) -> Ended:
    """``fn(**kwargs)`` with environment variables (arguments named ``$NAME``), a time limit, quiet output."""
    import matplotlib.pyplot as plt

    given = dict(kwargs)
    env = dict(env or {})
    env.update({k[1:]: v for k, v in kwargs.items() if k.startswith("$")})
    kwargs = {k: v for k, v in kwargs.items() if not k.startswith("$")}
    before = {k: v.detach().clone() for k, v in kwargs.items() if isinstance(v, torch.Tensor)}
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIMEOUT)
    seed_all()
    try:
        with bad_inputs.env(**env), warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            result = fn(**kwargs)
        ended = Ended(result=result)
    except Hang:
        ended = Ended(hang=True)
    except BaseException as err:  # noqa: BLE001 - classifying every failure is the point
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        frames = traceback.extract_tb(err.__traceback__)
        ours = bool(frames) and frames[-1].filename.startswith(PACKAGE_DIR) and (
            frames[-1].line or "").lstrip().startswith("raise")
        ours = ours or (isinstance(err, TypeError) and "unexpected keyword argument" in str(err))
        ended = Ended(error=err, ours=ours)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        plt.close("all")
    ended.kwargs = given
    for k, t in before.items():
        now = kwargs[k]
        if now.shape != t.shape or not torch.equal(torch.nan_to_num(now.detach()), torch.nan_to_num(t)):
            ended.changed_input = k
    return ended


@dataclass
class Spec:
    """How to call one public function with generated inputs, and how to tell a right result.

    Args:
        fn: the callable (a wrapper where the function returns something to consume).
        valid: a call that works; values may be :class:`Lazy`.
        args: argument -> strategy of :class:`Drawn` values (``$NAME``: an environment variable).
        check: ``check(kwargs, result)`` raises AssertionError when a legitimate call's result
            is wrong (kwargs hold the plain forms).
        refuses: ``refuses(kwargs) -> bool | None``: whether a reference (PyTorch, or the
            documented rule) refuses a legitimate call; None when it cannot tell.
        names: other words that count as naming an argument, {arg: (alias, ...)}.
        examples: Hypothesis examples in the default profile (fewer for slow functions).
        env: environment variables for every call.
    """

    fn: Callable[..., Any]
    valid: dict[str, Any]
    args: dict[str, st.SearchStrategy[Drawn]]
    check: Callable[[dict[str, Any], Any], None] | None = None
    refuses: Callable[[dict[str, Any]], bool | None] | None = None
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    examples: int = 25
    env: dict[str, str | None] | None = None


def _names(spec: Spec, arg: str) -> tuple[str, ...]:
    arg = arg.lstrip("$")
    return (arg, arg.replace("_", " "), *spec.names.get(arg, ()))


def _kwargs(spec: Spec, arg: str | None, value: Any) -> dict[str, Any]:
    seed_all()  # random valid values (Lazy(torch.randn...)) are the same for every call
    out = {k: materialize(v) for k, v in spec.valid.items()}
    if arg is not None:
        out[arg] = materialize(value)
    return out


def judge(spec: Spec, arg: str | None, drawn: Drawn | None) -> tuple[str, str]:
    """Call ``spec.fn`` with ``arg`` replaced by the drawn value: (outcome, detail).

    Outcomes: ``ok`` and ``clear`` are right; ``unclear``, ``raw``, ``silent``, ``hang`` and
    ``refused`` are failures (see the module docstring).
    """
    what = f"{arg}={drawn!r}" if arg is not None else "no arguments"
    ended = call(spec.fn, _kwargs(spec, arg, drawn.value if drawn else None), spec.env)
    if ended.hang:
        return "hang", f"{what}: {ended.describe()}"
    if ended.changed_input:
        return "silent", f"{what}: changed its argument {ended.changed_input} in place"
    if drawn is not None and not drawn.legit:
        if ended.error is None:
            return "silent", f"{what}: a bad value was accepted and {ended.describe()}"
        if not ended.course_error:
            return "raw", f"{what}: {ended.describe()}"
        message = str(ended.error)
        named = any(n in message for n in _names(spec, arg))
        return ("clear" if named else "unclear"), f"{what}: {ended.describe()}"
    plain = None
    if drawn is not None and drawn.canonical is not SAME:
        plain = call(spec.fn, _kwargs(spec, arg, drawn.canonical), spec.env)
        if plain.error is None and ended.error is not None:
            return ("refused" if ended.course_error else "raw"), f"{what}: {ended.describe()}, but its plain form " \
                                                                 f"{drawn.canonical!r} {plain.describe()}"
        if plain.error is not None and ended.error is None:
            return "silent", f"{what}: {ended.describe()}, but its plain form {plain.describe()}"
        if plain.error is None and not same(ended.result, plain.result):
            return "silent", f"{what}: {ended.describe()}, not what its plain form {drawn.canonical!r} gives " \
                             f"({plain.describe()})"
    kwargs, result = (plain.kwargs, plain.result) if plain is not None else (ended.kwargs, ended.result)
    if ended.error is not None:
        if not ended.course_error:
            return "raw", f"{what}: {ended.describe()}"
        reference = spec.refuses(kwargs) if spec.refuses else None
        if reference is False:
            return "refused", f"{what}: {ended.describe()}, but the reference accepts it"
        message = str(ended.error)
        named = (any(n in message for a in spec.args for n in _names(spec, a)) or not spec.args
                 or any(k in message for k in (spec.env or {})))
        return ("ok" if named else "unclear"), f"{what}: {ended.describe()}"
    if spec.refuses is not None and spec.refuses(kwargs) is True:
        return "silent", f"{what}: {ended.describe()}, but the reference refuses it"
    if spec.check is not None:
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                spec.check(kwargs, result)
        except AssertionError as err:
            return "silent", f"{what}: wrong result: {err}"
    return "ok", f"{what}: {ended.describe()}"


def same(a: Any, b: Any) -> bool:
    """Whether two results are the same (tensors to 1e-5, figures by what they show, modules by structure)."""
    from matplotlib.figure import Figure

    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or a.shape != b.shape:
            return False
        if a.is_floating_point() and b.is_floating_point():  # float64 in, float64 out: compare the values
            a, b = a.double(), b.double()
        if a.dtype != b.dtype:
            return False
        if a.is_floating_point() or a.is_complex():
            return bool(torch.allclose(a.detach().cpu(), b.detach().cpu(), atol=1e-5, rtol=1e-4, equal_nan=True))
        return bool(torch.equal(a.cpu(), b.cpu()))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return same(torch.as_tensor(np.asarray(a)), torch.as_tensor(np.asarray(b)))
    if isinstance(a, Figure) and isinstance(b, Figure):
        if len(a.axes) != len(b.axes):
            return False
        return all(len(x.images) == len(y.images) and all(
            same(np.asarray(i.get_array()), np.asarray(j.get_array())) for i, j in zip(x.images, y.images))
            for x, y in zip(a.axes, b.axes))
    if isinstance(a, nn.Module) and isinstance(b, nn.Module):
        return repr(a) == repr(b)
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.utils.data.TensorDataset) and isinstance(b, torch.utils.data.TensorDataset):
        return same(a.tensors, b.tensors)
    if hasattr(a, "__dataclass_fields__") and type(a) is type(b):
        return all(same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__ if f != "seconds")  # timings differ
    if type(a).__module__.startswith(("ipywidgets", "course_utils")) and type(a) is type(b):
        return True  # widgets and playgrounds: compared through their checks
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - incomparable results are different
        return False


# ---------------------------------------------------------------------------------------
# Running a spec under Hypothesis

def draws(spec: Spec) -> st.SearchStrategy[tuple[str | None, Drawn | None]]:
    """(argument, drawn value) pairs for one spec; (None, None) for a function without arguments."""
    if not spec.args:
        return st.just((None, None))
    return st.sampled_from(sorted(spec.args)).flatmap(lambda a: st.tuples(st.just(a), spec.args[a]))


FAILURES = ("unclear", "raw", "silent", "hang", "refused")


def explore(spec: Spec, examples: int, record: Callable[[str, str | None, Drawn | None, str], None],
            derandomize: bool = True) -> None:
    """Run ``examples`` generated calls of ``spec`` and pass every outcome to ``record`` (never fails)."""
    from hypothesis import HealthCheck, Phase, given, settings

    @settings(max_examples=examples, derandomize=derandomize, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(draws(spec))
    def run(pair):
        arg, drawn = pair
        kind, detail = judge(spec, arg, drawn)
        record(kind, arg, drawn, detail)

    run()
