"""Helpers for the convnets-course notebooks.

Import what you need from its module; ``import course_utils`` itself loads nothing heavy
(no timm, no widgets, no matplotlib) until a submodule is used:

* :mod:`course_utils.settings`   quick/full mode, online switch, cache folder, device, seeding
* :mod:`course_utils.data`       shipped datasets and photos (checksummed), online loaders
* :mod:`course_utils.train`      ``fit`` / ``evaluate`` / ``predict`` and ``History``
* :mod:`course_utils.plots`      image grids, loss curves, confusion matrix, filters
* :mod:`course_utils.shapes`     conv output-size formula, layer-by-layer shape tracer
* :mod:`course_utils.pretrained` EfficientNet-Lite0 offline, ResNet-18 online
* :mod:`course_utils.models`     classic CNN builder, the residual block (with a skip switch), counts
* :mod:`course_utils.augment`    augmentation gallery, explorer, on-the-fly batch augmentation, TTA
* :mod:`course_utils.transfer`   head replacement, parameter counts, cached backbone features
* :mod:`course_utils.cache`      derived data on disk with a record and a checksum (bad entries heal)
* :mod:`course_utils.kernels`    classic 3x3 image kernels, ``apply_kernel``, the kernel playground widget
* :mod:`course_utils.widgets`    the convolution visualizer (sliders for H, K, S, P, D) and its static drawings
* :mod:`course_utils.scenes`     animals on textured canvases with exact boxes, masks and keypoints
* :mod:`course_utils.heatmaps`   objects as points: centre heatmaps encoded from boxes, peaks decoded to boxes
* :mod:`course_utils.solutions`  reference solutions, hints and questionnaire answers, read from the instructor notebooks
* :mod:`course_utils.learner`    hint()/solution()/answer()/progress() in a learner copy, and the progress record
* :mod:`course_utils.claims`     claims on trained results: asserted normally, re-measured on held-out seeds (make claims)
* :mod:`course_utils.exercises`  rules an exercise's checks enforce ("do not call X" as code)
* :mod:`course_utils.diagrams`   network diagrams drawn from the model (torchview, Graphviz) beside the shape table
* :mod:`course_utils.wiring`     a block's stored numbers, receptive field and channel mixing, measured on its graph
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_SUBMODULES = ("settings", "data", "train", "plots", "shapes", "pretrained", "kernels", "augment", "transfer", "widgets", "models",
               "scenes", "heatmaps", "cache", "solutions", "learner", "claims", "exercises", "diagrams", "wiring")
__all__ = [*_SUBMODULES, "__version__"]

if TYPE_CHECKING:
    from . import (  # noqa: F401
        augment,
        cache,
        claims,
        data,
        diagrams,
        exercises,
        heatmaps,
        kernels,
        learner,
        models,
        plots,
        pretrained,
        scenes,
        settings,
        shapes,
        solutions,
        train,
        transfer,
        widgets,
        wiring,
    )


def __getattr__(name: str):
    """Load ``course_utils.<name>`` on first access (PEP 562)."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
