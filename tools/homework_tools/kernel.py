"""What grading runs *inside* a notebook kernel: ``attempt``, plain data in and out, modules as data.

The grader loads this file by path into every kernel it grades with (the student's, the
instructor's reference run and the test harness), as a fresh module under a private name,
after the notebook's own cells have run, so no cell can have replaced it. It imports nothing
from the course or the grader; torch and NumPy are imported where needed.

* :func:`attempt` calls a learner's function and turns an exception into plain data
  (``{"raised": name, "kinds": [the class and its bases]}``), so "must raise ValueError"
  is an answer like any other and a subclass of ValueError counts as a ValueError.
* :func:`save` / :func:`load`: plain data as ``.npz`` (``__tree__`` JSON plus one entry per
  array). What crosses a kernel's boundary is only this.
* :func:`export_module` (in the learner's kernel) writes an ``nn.Module`` as plain data: its
  ``torch.export`` graph (ATen operator names and arguments) and every tensor it holds;
  :func:`rebuild_module` (only in a trusted kernel) makes a module of that data again, so a
  property of a learner's model (parameter count, receptive field, FLOPs) is measured on
  what the model computes, not on what its methods say about themselves.
"""

from __future__ import annotations

import json
import math
import operator
import re
import sys
from typing import Any

MAX_DEPTH = 64  # nesting of lists and dicts in plain data


# --------------------------------------------------------------------------- calling learners' code

def attempt(f: Any, *args: Any, **kwargs: Any) -> Any:
    """Return ``f(*args, **kwargs)``, or ``{"raised": name, "kinds": [...]}`` if it raised.

    ``kinds`` lists the exception's class and its base classes by name, so that a rule can
    accept any subclass of the expected exception. KeyboardInterrupt (the grader's timeout)
    is not caught.
    """
    try:
        return f(*args, **kwargs)
    except (Exception, SystemExit) as err:
        return {"raised": type(err).__name__, "kinds": exception_kinds(err)}


def exception_kinds(err: BaseException) -> list[str]:
    """The names of an exception's class and of its bases (method resolution order), without ``object``."""
    names = []
    for cls in type(err).__mro__:
        if cls is object:
            break
        name = getattr(cls, "__name__", "")
        names.append(name if isinstance(name, str) else "")
    return names[:32]


# --------------------------------------------------------------------------- plain data

def plain(value: Any, arrays: dict[str, Any], depth: int = 0) -> Any:
    """``value`` as JSON-able data; arrays and tensors go into ``arrays`` and leave a reference.

    Numbers, strings, bools, None, lists/tuples (as lists), dicts with string keys, NumPy
    scalars (as Python numbers), NumPy arrays and torch tensors of plain dtypes.

    Raises:
        TypeError: anything else, or nesting deeper than :data:`MAX_DEPTH`.
    """
    import numpy as np

    if depth > MAX_DEPTH:
        raise TypeError("nested too deeply")
    if value is None or type(value) in (bool, int, float, str):
        return value
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, np.generic) and not isinstance(value, np.ndarray):
        return plain(value.item(), arrays, depth + 1)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        if t.is_sparse:
            t = t.to_dense()
        try:
            value = t.resolve_conj().resolve_neg().numpy()
        except (TypeError, RuntimeError):  # bfloat16 and other dtypes NumPy lacks
            value = t.float().numpy()
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject or value.dtype.kind not in "biufcUS" or value.dtype.itemsize == 0:
            raise TypeError(f"cannot send an array of dtype {value.dtype}")
        name = f"a{len(arrays)}"
        arrays[name] = np.ascontiguousarray(value)
        return {"__ndarray__": name}
    if isinstance(value, (list, tuple)):
        return [plain(x, arrays, depth + 1) for x in value]
    if isinstance(value, dict):
        if any(not isinstance(k, str) for k in value):
            raise TypeError("dict keys must be strings")
        if set(value) == {"__ndarray__"}:
            raise TypeError("a dict whose only key is '__ndarray__'")
        return {str(k): plain(x, arrays, depth + 1) for k, x in value.items()}
    raise TypeError(f"cannot send a {type(value).__name__}")


def save(answer: Any, path: str) -> None:
    """Write a dict of plain data as ``.npz``; a key whose value cannot be sent becomes ``{"unsendable": type}``."""
    import numpy as np

    arrays: dict[str, Any] = {}
    if not isinstance(answer, dict):
        tree: dict[str, Any] = {"__not_a_dict__": type(answer).__name__}
    else:
        tree = {}
        for key, value in list(answer.items()):
            if not isinstance(key, str):
                continue
            mark = len(arrays)
            try:
                tree[str(key)] = plain(value, arrays)
            except Exception:  # whatever the value does when converted, only this key is lost
                for name in [f"a{i}" for i in range(mark, len(arrays))]:
                    arrays.pop(name, None)
                tree[str(key)] = {"unsendable": type(value).__name__}
    arrays["__tree__"] = np.frombuffer(json.dumps(tree).encode("utf-8"), dtype=np.uint8)
    np.savez(path, **arrays)


def load(path: str) -> Any:
    """Read plain data written by :func:`save` (or by the grader); arrays come back as torch tensors.

    Only for data the grader wrote or checked (it decodes a learner's answer with
    ``compare.decode_answer`` before it sends it anywhere): ``allow_pickle=False`` all the same.
    """
    import numpy as np
    import torch

    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    tree = json.loads(arrays.pop("__tree__").tobytes().decode("utf-8"))

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"__ndarray__"}:
                array = arrays[node["__ndarray__"]]
                return torch.from_numpy(array.copy()) if array.dtype.kind in "biuf" else array
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(tree)


# --------------------------------------------------------------------------- modules as data

_OP = re.compile(r"^aten\.[a-z_][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
# ATen operators a rebuilt module may not call: they touch files or change tensors in place outside the graph.
_DENIED = {"from_file", "set_", "resize_", "_local_scalar_dense", "item", "copy_", "storage_offset"}
MAX_NODES = 2000
MAX_STORED = 50_000_000  # numbers a rebuilt module may hold


def export_module(module: Any, *inputs: Any) -> dict:
    """A module as plain data: its ``torch.export`` graph for these example inputs and every tensor it holds.

    Args:
        module: an ``nn.Module`` (exported as it is: call ``.eval()`` first for inference behaviour).
        inputs: example inputs (tensors); the graph is specialised to their shapes.

    Returns:
        ``{"nodes": [...]}``: one entry per graph node, ``{"name", "op": "input"}``,
        ``{"name", "op": "tensor", "kind": "parameter" | "buffer" | "constant", "value": tensor}``,
        ``{"name", "op": "call", "target": "aten.<op>.<overload>" | "operator.getitem", "args", "kwargs"}``
        or ``{"op": "output", "args"}``.
    """
    import torch

    program = torch.export.export(module, tuple(inputs))
    signature = {spec.arg.name: spec for spec in program.graph_signature.input_specs if hasattr(spec.arg, "name")}
    state, constants = program.state_dict, program.constants
    nodes = []
    for node in program.graph.nodes:
        if node.op == "placeholder":
            spec = signature[node.name]
            kind = spec.kind.name.lower()
            if kind == "user_input":
                nodes.append({"name": node.name, "op": "input"})
                continue
            target = spec.target
            value = state[target] if target in state else constants[target]
            nodes.append({"name": node.name, "op": "tensor", "kind": {"constant_tensor": "constant"}.get(kind, kind),
                          "value": value.detach().clone()})
        elif node.op == "call_function":
            nodes.append({"name": node.name, "op": "call", "target": _op_name(node.target),
                          "args": _encode(node.args), "kwargs": _encode(dict(node.kwargs))})
        elif node.op == "output":
            nodes.append({"name": node.name, "op": "output", "args": _encode(node.args)})
        else:
            raise TypeError(f"cannot export a graph node of kind {node.op!r}")
    return {"nodes": nodes}


def _op_name(target: Any) -> str:
    if target is operator.getitem:
        return "operator.getitem"
    name = str(target)
    if not _OP.match(name):
        raise TypeError(f"cannot export a call to {name!r} (only ATen operators)")
    return name


def _encode(value: Any) -> Any:
    import torch

    if isinstance(value, torch.fx.Node):
        return {"node": value.name}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, torch.dtype):
        return {"dtype": str(value).removeprefix("torch.")}
    if isinstance(value, torch.device):
        return {"device": "cpu"}
    if isinstance(value, (torch.memory_format, torch.layout)):
        return {"enum": str(value).removeprefix("torch.")}
    raise TypeError(f"cannot export an argument of type {type(value).__name__}")


def rebuild_module(data: Any) -> Any:
    """The module that :func:`export_module` described, as a ``torch.fx.GraphModule`` (trusted side).

    The result has ``stored_numbers`` (every number of every tensor the graph holds: parameters,
    buffers and constants) and ``stored_tensors`` (``{kind: numbers}``). Only ATen operators
    (and ``operator.getitem``) are called; names are checked before they are looked up.

    Raises:
        ValueError: data that is not an exported module (a learner's answer can be anything).
    """
    import torch

    nodes = data.get("nodes") if isinstance(data, dict) else None
    if not isinstance(nodes, list) or not nodes or len(nodes) > MAX_NODES:
        raise ValueError("not an exported module (no nodes, or too many)")
    graph = torch.fx.Graph()
    root = torch.nn.Module()
    made: dict[str, Any] = {}
    stored: dict[str, int] = {}
    output_seen = False

    def decode(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"node"}:
                if value["node"] not in made:
                    raise ValueError(f"argument refers to an unknown node {value['node']!r}")
                return made[value["node"]]
            if set(value) == {"dtype"}:
                dtype = getattr(torch, str(value["dtype"]), None)
                if not isinstance(dtype, torch.dtype):
                    raise ValueError(f"unknown dtype {value['dtype']!r}")
                return dtype
            if set(value) == {"device"}:
                return torch.device("cpu")
            if set(value) == {"enum"}:
                enum = getattr(torch, str(value["enum"]), None)
                if not isinstance(enum, (torch.memory_format, torch.layout)):
                    raise ValueError(f"unknown enum {value['enum']!r}")
                return enum
            return {str(k): decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise ValueError(f"unexpected argument {type(value).__name__}")

    for index, entry in enumerate(nodes):
        if not isinstance(entry, dict) or output_seen:
            raise ValueError("malformed node list")
        op = entry.get("op")
        name = f"n{index}"
        if op == "input":
            made[str(entry.get("name"))] = graph.placeholder(name)
        elif op == "tensor":
            value = entry.get("value")
            if not isinstance(value, torch.Tensor):
                raise ValueError("a tensor node without a tensor")
            kind = str(entry.get("kind"))
            stored[kind] = stored.get(kind, 0) + value.numel()
            if sum(stored.values()) > MAX_STORED:
                raise ValueError(f"the module holds more than {MAX_STORED} numbers")
            root.register_buffer(name, value.float() if value.is_floating_point() else value)
            made[str(entry.get("name"))] = graph.get_attr(name)
        elif op == "call":
            target = str(entry.get("target"))
            if target == "operator.getitem":
                function: Any = operator.getitem
            else:
                if not _OP.match(target) or target.split(".")[1] in _DENIED:
                    raise ValueError(f"a call to {target!r} is not allowed")
                _, opname, overload = target.split(".")
                packet = getattr(torch.ops.aten, opname, None)
                function = getattr(packet, overload, None) if packet is not None else None
                if function is None:
                    raise ValueError(f"unknown operator {target!r}")
            args, kwargs = decode(entry.get("args", [])), decode(entry.get("kwargs", {}))
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise ValueError("malformed call")
            made[str(entry.get("name"))] = graph.call_function(function, tuple(args), kwargs)
        elif op == "output":
            args = decode(entry.get("args", []))
            result = args[0] if isinstance(args, list) and len(args) == 1 else args
            if isinstance(result, (list, tuple)) and len(result) == 1:
                result = result[0]
            graph.output(result)
            output_seen = True
        else:
            raise ValueError(f"unknown node kind {op!r}")
    if not output_seen:
        raise ValueError("the exported module has no output")
    module = torch.fx.GraphModule(root, graph)
    module.stored_tensors = dict(stored)
    module.stored_numbers = int(sum(stored.values()))
    return module


def forbidden(*targets: str) -> Any:
    """``course_utils.exercises.forbidden``, loaded fresh from the course's file (see that function)."""
    return _exercises().forbidden(*targets)


def _exercises() -> Any:
    import importlib.util

    spec = importlib.util.find_spec("course_utils")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("course_utils is not importable in this kernel")
    path = f"{list(spec.submodule_search_locations)[0]}/exercises.py"
    module_spec = importlib.util.spec_from_file_location("_homework_exercises", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def finite_or_none(x: Any) -> Any:
    """A float, or None for NaN/inf and what is not a number (for probes that report one number)."""
    try:
        value = float(x)
    except (TypeError, ValueError, OverflowError, RuntimeError):
        return None
    return value if math.isfinite(value) else None
