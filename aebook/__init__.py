"""aebook: the shared code of "Why doesn't my autoencoder reach zero loss?".

Data generators, the autoencoder builder, the training core, analytic floors, diagnostics and
plots. Chapters import this package; nothing in a chapter trains a model by hand.
"""

from . import bce, data, diagnose, diagnostics, floors, grid, losses, monitor, plot, schedule, spectrum
from .device import pick_device
from .ensemble import fit_many
from .evaluate import Evaluation, evaluate, excess
from .models import Autoencoder
from .train import History, TrainingDiverged, fit

__all__ = [
    "Autoencoder",
    "Evaluation",
    "History",
    "TrainingDiverged",
    "bce",
    "data",
    "diagnose",
    "diagnostics",
    "evaluate",
    "excess",
    "fit",
    "fit_many",
    "floors",
    "grid",
    "losses",
    "monitor",
    "pick_device",
    "plot",
    "schedule",
    "spectrum",
]
__version__ = "0.1.0"
