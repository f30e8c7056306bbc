"""aebook: the shared code of "Why doesn't my autoencoder reach zero loss?".

Data generators, the autoencoder builder, the training core, analytic floors, diagnostics and
plots. Chapters import this package; nothing in a chapter trains a model by hand.
"""

from . import data, diagnostics, floors, losses, plot
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
    "data",
    "diagnostics",
    "evaluate",
    "excess",
    "fit",
    "fit_many",
    "floors",
    "losses",
    "pick_device",
    "plot",
]
__version__ = "0.1.0"
