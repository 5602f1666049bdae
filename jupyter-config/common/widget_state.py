"""Keep every widget an output shows in the notebook's saved widget state (a Jupyter server pre-save hook).

With ``saveState`` on, JupyterLab writes into a saved notebook the state of the widgets that
are *live* in its kernel, and only those. Widgets restored from the saved state (the stored
outputs of a notebook opened but not re-run) are not live, so opening a notebook and saving
it, or letting autosave do it, deletes their state; on the next opening every such output
shows "Error displaying widget: model not found". The hook below runs on the server before
each save: the state of a widget that an output still shows (directly, or as a child, layout
or style of one) and that the browser did not send is taken from the file on disk. Widgets no
output shows any more are dropped, so the state does not grow run after run. An output whose
widget is gone from both (closed by its kernel, like a progress bar with ``leave=False``, which
JupyterLab already stopped showing) would read "model not found" when reopened: it keeps its
static picture if it has one, and is dropped otherwise (its text is the widget's stale repr).
A notebook left with no widget to keep is saved with no widget state (JupyterLab would write
an empty one), so saving a notebook without widgets leaves its file as it was.

Used by both views' ``jupyter_server_config.py`` (``c.FileContentsManager.pre_save_hook``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

STATE = "application/vnd.jupyter.widget-state+json"
VIEW = "application/vnd.jupyter.widget-view+json"
_REFERENCE = re.compile(r'IPY_MODEL_([A-Za-z0-9_-]+)|"model_id":\s*"([A-Za-z0-9_-]+)"')


def _references(value) -> set[str]:
    """Model ids a JSON value mentions (``IPY_MODEL_<id>`` references and ``model_id`` fields)."""
    return {a or b for a, b in _REFERENCE.findall(json.dumps(value))}


def shown_models(cells: list, state: dict) -> set[str]:
    """Ids of the widget models the outputs of ``cells`` show, with every model they reference."""
    todo = set()
    for cell in cells:
        for output in cell.get("outputs", []) or []:
            view = (output.get("data") or {}).get(VIEW)
            if isinstance(view, dict) and view.get("model_id"):
                todo.add(view["model_id"])
    seen: set[str] = set()
    while todo:
        model_id = todo.pop()
        if model_id in seen:
            continue
        seen.add(model_id)
        if model_id in state:
            todo |= _references(state[model_id].get("state", {})) - seen
    return seen


def _drop_views_of_gone_widgets(cells: list, state: dict) -> None:
    """Outputs showing a widget missing from ``state``: keep a static picture, else drop the output."""
    for cell in cells:
        outputs = cell.get("outputs")
        if not outputs:
            continue
        kept = []
        for output in outputs:
            data = output.get("data") or {}
            view = data.get(VIEW)
            if isinstance(view, dict) and view.get("model_id") and view["model_id"] not in state:
                del data[VIEW]
                if not any(key.startswith("image/") for key in data):
                    continue
            kept.append(output)
        cell["outputs"] = kept


def merge_widget_state(new: dict, old: dict | None) -> dict:
    """The widget state to save: ``new`` (the browser's) plus, from ``old`` (on disk), every model
    the outputs of ``new`` show that ``new`` lacks; models no output shows are left out. When the
    browser sent a state, outputs of widgets found in neither are dropped (or keep their picture).

    Args:
        new: the notebook being saved (nbformat JSON as a dict); changed in place and returned.
        old: the notebook currently on disk, or None.
    """
    metadata = new.setdefault("metadata", {})
    saved = (metadata.get("widgets") or {}).get(STATE)
    if saved is None and not old:
        return new
    state = dict((saved or {}).get("state") or {})
    old_state = (((old or {}).get("metadata") or {}).get("widgets") or {}).get(STATE, {}).get("state") or {}
    union = {**old_state, **state}  # the browser's state wins for a live widget
    if saved is not None:
        _drop_views_of_gone_widgets(new.get("cells", []), union)
    keep = shown_models(new.get("cells", []), union)
    kept = {model_id: union[model_id] for model_id in union if model_id in keep}
    if not kept:  # no widget to keep: no widget state at all, as in a file nbclient wrote (no noise in git diffs)
        widgets = metadata.get("widgets")
        if isinstance(widgets, dict):
            widgets.pop(STATE, None)
            if not widgets:
                del metadata["widgets"]
        return new
    widgets = metadata.setdefault("widgets", {}).setdefault(STATE, {"version_major": 2, "version_minor": 0})
    widgets["state"] = kept
    return new


def keep_widget_state(model: dict, path: str, contents_manager, **kwargs) -> None:
    """Jupyter server pre-save hook: see the module docstring."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    old = None
    try:
        os_path = Path(contents_manager._get_os_path(path))
        if os_path.is_file():
            old = json.loads(os_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, AttributeError):
        old = None  # no readable previous version: save what the browser sent
    merge_widget_state(model["content"], old)
