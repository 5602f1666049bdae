# Server settings of both views (tools/lab.py puts this folder on JUPYTER_CONFIG_PATH after the view's own).
import importlib.util
import os
import sys
import warnings

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

# Saved notebooks keep the state of every widget their outputs show (jupyter-config/common/widget_state.py).
if "course_widget_state" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "course_widget_state", os.path.join(os.path.dirname(os.path.abspath(__file__)), "widget_state.py"))
    sys.modules["course_widget_state"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["course_widget_state"])
c.FileContentsManager.pre_save_hook = sys.modules["course_widget_state"].keep_widget_state
# the server applies its configuration twice; the same hook "overriding" itself is not news
warnings.filterwarnings("ignore", message=r"Overriding existing pre_save_hook \(keep_widget_state\)")

# The course's JupyterLab plugin (labextensions/convnets-course-lab, prebuilt by hand): a notebook opened and
# not changed is not marked modified when jupyter-widgets restores its saved widget state.
c.LabApp.extra_labextensions_path = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "labextensions")]
