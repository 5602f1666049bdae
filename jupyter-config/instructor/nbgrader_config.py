# nbgrader's course folder for the instructor view (the Formgrader panel, `nbgrader` commands
# run with this folder on JUPYTER_CONFIG_PATH): homework/ in the repository, as `make release`.
import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)
c.CourseDirectory.root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "homework"))
