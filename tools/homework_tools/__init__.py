"""Homework tooling for the course notebooks: one job per module, each readable alone.

* :mod:`.config`    paths, ``HomeworkConfig`` (course folder, mode, jobs, seed) and ``Limits``
* :mod:`.authoring` read notebooks, check their exercise format and grading probes
  (notebooks/AUTHORING.md), build the student versions (nbgrader) and the student bundle
* :mod:`.sandbox`   run one notebook and its probes in a bubblewrap sandbox with limits;
  only plain data comes back
* :mod:`.runner`    the program that runs *inside* the sandbox (nbclient, then the probes)
* :mod:`.compare`   the ``COMPARE`` rules, reading answers without trusting them, scoring
* :mod:`.grading`   find submissions (literal names, odd files reported), reference answers,
  grade in parallel or in shards
* :mod:`.scores`    score table, CSV/JSON files, feedback, merging shards
* :mod:`.present`   what an audience sees of a notebook (slides and website): no probes, no markers
* :mod:`.slides`    slide-ready lecture copies of notebooks and offline reveal.js slides
* :mod:`.slidefit`  slides cut to fit a 1280x720 screen (estimated heights)
* :mod:`.cli`       the command line (``python tools/homework.py ...``)
"""
