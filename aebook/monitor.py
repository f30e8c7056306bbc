"""Watching models while they train: when do their ReLU units die, how close is the floor?

Both classes are ``on_epoch`` callbacks for ``aebook.fit`` and ``aebook.fit_many``, so a chapter
can follow a run without a training loop of its own:

* ``DeadUnitTracker`` counts the dead units of every model (``aebook.diagnostics.dead_units``)
  before training and after each epoch::

      tracker = DeadUnitTracker(x, models)          # counts at epoch 0 (the initialisation)
      aebook.fit_many(models, x, ..., on_epoch=tracker)
      tracker.total                                  # (n_models, n_epochs + 1) dead units

* ``EvaluationTracker`` evaluates every model (``aebook.evaluate``: loss, floor, excess) every
  few epochs, e.g. to watch the gap to the floor close.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ._validation import as_data_tensor, check_positive_int, check_width
from .diagnostics import dead_units
from .evaluate import evaluate
from .losses import check_loss_name
from .models import Autoencoder

__all__ = ["DeadUnitTracker", "EvaluationTracker"]


def _as_list(models: Autoencoder | Sequence[Autoencoder], who: str) -> list[Autoencoder]:
    listed = [models] if isinstance(models, Autoencoder) else list(models)
    if not listed or not all(isinstance(m, Autoencoder) for m in listed):
        raise ValueError(f"{who} needs an aebook.Autoencoder or a non-empty list of them.")
    return listed


def _called_models(tracker: object, models: Autoencoder | Sequence[Autoencoder], advice: str) -> list[Autoencoder]:
    """The models ``fit``/``fit_many`` passed to a tracker's ``__call__``: as many as it was made for."""
    who = type(tracker).__name__
    listed = _as_list(models, who)
    if len(listed) != len(tracker.models):
        raise ValueError(
            f"the tracker was made for {len(tracker.models)} model(s) but was called with {len(listed)}; {advice}"
        )
    return listed


class DeadUnitTracker:
    """Count the dead ReLU units of each model at initialisation and after every ``every`` epochs.

    Args:
        x: the data the units are judged on, shape ``(n_samples, n_features)``; a unit is dead
            when its pre-activation is <= 0 on every row (see ``aebook.diagnostics.dead_units``).
        models: the models that will be trained, in the order ``fit_many`` gets them (or one
            model for ``fit``). They are counted once now, as epoch 0.
        every: count after every ``every``-th epoch only (each count is one forward pass over ``x``).

    Pass the tracker as ``on_epoch=`` to ``aebook.fit`` or ``aebook.fit_many``.

    Attributes:
        epochs: the epochs at which counts were taken, starting with 0 (before training).
        width: the number of units in each activation layer.
    """

    def __init__(self, x: torch.Tensor, models: Autoencoder | Sequence[Autoencoder], every: int = 1) -> None:
        self.x = as_data_tensor(x)
        self.models = _as_list(models, "DeadUnitTracker")
        for model in self.models:
            check_width(self.x, model.n_features)
        if any(m.activation == "linear" for m in self.models):
            raise ValueError(
                "DeadUnitTracker needs models with activation='relu' or 'leaky_relu'; a linear model "
                "has no units that can die."
            )
        self.every = check_positive_int(every, "every")
        self.epochs: list[int] = []
        self._dead: list[list[tuple[int, ...]]] = []
        self.width: tuple[int, ...] = ()
        self._count(0, self.models)

    def _count(self, epoch: int, models: list[Autoencoder]) -> None:
        counts = [dead_units(model, self.x) for model in models]
        self.width = counts[0].width
        self.epochs.append(int(epoch))
        self._dead.append([c.dead for c in counts])

    def __call__(self, epoch: int, models: Autoencoder | Sequence[Autoencoder]) -> None:
        """Count dead units after ``epoch`` (called by ``fit``/``fit_many``)."""
        models = _called_models(self, models, "make one tracker per fit/fit_many call, with the same models.")
        if epoch % self.every == 0:
            self._count(epoch, models)

    @property
    def dead(self) -> np.ndarray:
        """Dead units per model, count and layer: an int array ``(n_models, n_counts, n_layers)``."""
        return np.array(self._dead, dtype=np.int64).transpose(1, 0, 2)

    @property
    def total(self) -> np.ndarray:
        """Dead units over all layers per model and count: an int array ``(n_models, n_counts)``."""
        return self.dead.sum(axis=2)

    @property
    def fraction(self) -> np.ndarray:
        """Dead units as a fraction of all units per model and count, ``(n_models, n_counts)``."""
        return self.total / sum(self.width)

    def first_epoch_reaching(self, share: float) -> list[int | None]:
        """Return, per model, the first counted epoch by which ``share`` of its final dead units were dead.

        ``share=0.5`` gives the epoch by which half of the units that end up dead had died; ``None``
        for a model with no dead units at the end.
        """
        if not 0.0 < share <= 1.0:
            raise ValueError(f"share must be in (0, 1], got {share!r}.")
        out: list[int | None] = []
        for totals in self.total:
            final = totals[-1]
            if final == 0:
                out.append(None)
                continue
            reached = np.flatnonzero(totals >= share * final)
            out.append(self.epochs[int(reached[0])])
        return out


class EvaluationTracker:
    """Evaluate each model on ``x`` (``aebook.evaluate``) now and after every ``every`` epochs.

    Args:
        x: the data to evaluate on, shape ``(n_samples, n_features)``.
        loss: the loss to evaluate (``"mse"``, ``"bce"`` or ``"bce_prob"``); its floor comes with it.
        models: the models that will be trained, in ``fit_many``'s order (or one model for ``fit``).
        every: evaluate after every ``every``-th epoch (each is one forward pass over ``x``).

    Pass the tracker as ``on_epoch=`` to ``aebook.fit`` or ``aebook.fit_many``. Passing the same
    tracker to a second call continues its record: its epochs count on from the last one.

    Attributes:
        epochs: the epochs at which the models were evaluated, starting with 0 (before training).
        evaluations: per count, one ``aebook.Evaluation`` per model.
    """

    def __init__(self, x: torch.Tensor, loss: str, models: Autoencoder | Sequence[Autoencoder],
                 every: int = 1) -> None:
        self.models = _as_list(models, "EvaluationTracker")
        self.loss = check_loss_name(loss, self.models[0].output)
        self.x = as_data_tensor(x)
        for model in self.models:
            check_width(self.x, model.n_features)
        self.every = check_positive_int(every, "every")
        self.epochs: list[int] = []
        self.evaluations: list[list] = []
        self._offset = 0  # epochs run by earlier fit calls with this tracker
        self._last = 0
        self._record(0, self.models)

    def _record(self, epoch: int, models: list[Autoencoder]) -> None:
        self.epochs.append(int(epoch))
        self.evaluations.append([evaluate(m, self.x, self.loss) for m in models])

    def __call__(self, epoch: int, models: Autoencoder | Sequence[Autoencoder]) -> None:
        """Evaluate after ``epoch`` of the current fit call (called by ``fit``/``fit_many``)."""
        models = _called_models(self, models, "pass the same models to every fit call that uses this tracker.")
        if epoch == 1:
            self._offset = self._last
        self._last = self._offset + epoch
        if epoch % self.every == 0:
            self._record(self._last, models)

    def _field(self, name: str) -> np.ndarray:
        return np.array([[getattr(e, name) for e in row] for row in self.evaluations]).T

    @property
    def loss_values(self) -> np.ndarray:
        """The evaluated loss per model and count, ``(n_models, n_counts)`` (units of the loss)."""
        return self._field("loss")

    @property
    def floor(self) -> np.ndarray:
        """The floor per model (it depends on the data and the encoding dim only), ``(n_models,)``."""
        return self._field("floor")[:, 0]

    @property
    def excess(self) -> np.ndarray:
        """Loss minus floor per model and count, ``(n_models, n_counts)`` (units of the loss)."""
        return self._field("excess")

    @property
    def relative_gap(self) -> np.ndarray:
        """Excess over floor per model and count, ``(n_models, n_counts)`` (dimensionless).

        Raises a ValueError if a floor is 0 (then only the absolute ``excess`` means anything).
        """
        floor = self.floor
        if np.any(floor <= 0):
            raise ValueError("a floor is 0, so the gap relative to it is undefined; use .excess instead.")
        return self.excess / floor[:, None]
