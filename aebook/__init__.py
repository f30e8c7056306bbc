"""aebook: the small training core of "Why doesn't my autoencoder reach zero loss?".

Layers, bottom to top (nothing imports upward):

* ``data``: seeded generators and the input checks; ``models``: the ``Autoencoder`` builder and
  looking inside a model; ``losses``: each loss's value and gradient; ``floors``: the lowest loss
  data allows.
* ``engine``: the batched forward/backward and Adam step; ``train``: ``fit``, ``fit_many``,
  ``History``, the per-epoch ``Recorder`` and the choice of device.
* ``evaluate``: loss, floor and excess of a model; ``diagnose``: the same for a reader's data,
  and ``python -m aebook diagnose``; ``plot``: the figure helpers several chapters share
  (loaded on first use, so ``import aebook`` does not import matplotlib); ``notebook``: what keeps
  the chapters' stored outputs stable.

Code that serves one chapter lives beside that chapter, under ``book/``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from . import data, diagnose, floors, losses, models, notebook
from .evaluate import DeadUnitTracker, Evaluation, Trace, evaluate, excess, fit_traced
from .models import Autoencoder
from .train import History, Recorder, TrainingDiverged, fit, fit_many, pick_device

__all__ = [
    "Autoencoder",
    "DeadUnitTracker",
    "Evaluation",
    "History",
    "Recorder",
    "Trace",
    "TrainingDiverged",
    "data",
    "diagnose",
    "evaluate",
    "excess",
    "fit",
    "fit_many",
    "fit_traced",
    "floors",
    "losses",
    "models",
    "notebook",
    "pick_device",
    "plot",
]
__version__ = "0.2.0"


def __getattr__(name: str) -> ModuleType:
    """Import ``aebook.plot`` (and with it matplotlib) only when it is first used."""
    if name == "plot":
        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
