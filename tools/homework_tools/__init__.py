"""Homework tooling for the course notebooks: one job per module.

* :mod:`.config`    where the course folder is and how grading runs (``HomeworkConfig``)
* :mod:`.authoring` read notebooks, check their exercise format (notebooks/AUTHORING.md),
  build the student versions (nbgrader's ``generate_assignment``)
* :mod:`.grading`   grade a folder of submissions
* :mod:`.scores`    cell scores, the score table and its CSV files
* :mod:`.slides`    slide-ready lecture copies of notebooks
* :mod:`.cli`       the command line (``python tools/homework.py ...``)
"""
