"""aebook: the small training core of "Why doesn't my autoencoder reach zero loss?".

Stack, bottom to top (nothing imports upward): data, losses, models, floors; engine; train; evaluate;
diagnose. Apart, importing nothing from aebook: plot (loaded on first use: ``import aebook`` does not
import matplotlib), notebook, records. Code for one chapter lives beside it, under ``book/``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from . import data, diagnose, floors, losses, models, notebook
from .evaluate import DeadUnitTracker, Evaluation, Trace, evaluate, excess, fit_traced
from .models import Autoencoder
from .train import History, Recorder, TrainingDiverged, fit, fit_many, pick_device

__all__ = [
    "Autoencoder", "DeadUnitTracker", "Evaluation", "History", "Recorder", "Trace", "TrainingDiverged",
    "data", "diagnose", "evaluate", "excess", "fit", "fit_many", "fit_traced", "floors", "losses", "models",
    "notebook", "pick_device", "plot",
]
__version__ = "0.2.0"


def __getattr__(name: str) -> ModuleType:
    """Import ``aebook.plot`` (and with it matplotlib) only when it is first used."""
    if name == "plot":
        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
