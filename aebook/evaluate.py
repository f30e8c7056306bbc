"""Evaluate: a model's loss on data, the floor under it and the excess over the floor, now or as it trains.

Also the exact chance that one set of independent runs beats another by accident (``fully_above``,
``chance_of_separation``), which the chapters use to count evidence honestly.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from math import comb

import numpy as np
import torch

from .data import as_data_tensor, check_unit_interval, check_width
from .floors import loss_floor
from .losses import BCE_LOSSES, check_loss_name, loss_function
from .models import Autoencoder, dead_units
from .train import History, Recorder, fit


@dataclass(frozen=True)
class Evaluation:
    """A model's loss on data, split into what no model can remove and what this one could.

    Attributes:
        loss: mean loss on the data (nats per element for BCE, MSE per element otherwise).
        floor: the floor for this loss and data (see ``aebook.floors.loss_floor``).
        excess: ``loss - floor``: what a better model could still remove.
        mse: mean squared reconstruction error per element, whatever the loss.
    """

    loss: float
    floor: float
    excess: float
    mse: float


@torch.no_grad()
def evaluate(model: Autoencoder, x: torch.Tensor, loss: str = "bce", batch_size: int = 8192,
             floor: float | None = None) -> Evaluation:
    """Return the ``Evaluation`` of ``model`` on ``x`` for ``loss``, in float64 (``floor``: if already known)."""
    check_loss_name(loss, model.output)
    x = as_data_tensor(x)
    check_width(x, model.n_features)
    if loss in BCE_LOSSES:
        check_unit_interval(x)
    loss_fn = loss_function(loss, model.output)
    was_training = model.training
    model.eval()
    param = next(model.parameters())
    total_loss = torch.zeros((), dtype=torch.float64)
    total_sq = torch.zeros((), dtype=torch.float64)
    for begin in range(0, x.shape[0], batch_size):
        batch = x[begin : begin + batch_size].to(device=param.device, dtype=param.dtype)
        logits = model.logits(batch)
        total_loss += loss_fn(logits, batch).double().cpu() * batch.numel()
        recon = torch.sigmoid(logits) if model.output == "sigmoid" else logits
        total_sq += ((recon.double() - batch.double()) ** 2).sum().cpu()
    model.train(was_training)
    mean_loss = float(total_loss / x.numel())
    if floor is None:
        floor = loss_floor(x, loss, model.encoding_dim)
    return Evaluation(loss=mean_loss, floor=floor, excess=mean_loss - floor, mse=float(total_sq / x.numel()))


def excess(model: Autoencoder, x: torch.Tensor, loss: str = "bce") -> float:
    """Return the model's loss on ``x`` minus the floor for that loss (nats or MSE per element)."""
    return evaluate(model, x, loss).excess


class DeadUnitTracker(Recorder):
    """Count the dead ReLU units of each model at initialisation and after every ``every`` epochs.

    A ``Recorder`` of ``aebook.models.dead_units(model, x)``, to pass as ``on_epoch=``.

    Args:
        x: the data the units are judged on, shape ``(n_samples, n_features)``.
        models: as for ``Recorder``; each count is one forward pass over ``x``.

    Attributes:
        width: the number of units in each activation layer.
    """

    def __init__(self, x: torch.Tensor, models: Autoencoder | Sequence[Autoencoder], every: int = 1) -> None:
        self.x = as_data_tensor(x)
        for model in [models] if isinstance(models, Autoencoder) else list(models):
            if isinstance(model, Autoencoder):
                check_width(self.x, model.n_features)
                if model.activation == "linear":
                    raise ValueError("DeadUnitTracker needs models with activation='relu' or 'leaky_relu'; "
                                     "a linear model has no units that can die.")
        self.width: tuple[int, ...] = ()
        super().__init__(self._count, models, every)

    def _count(self, model: Autoencoder) -> tuple[int, ...]:
        counted = dead_units(model, self.x)
        self.width = counted.width
        return counted.dead

    @property
    def dead(self) -> np.ndarray:
        """Dead units per model, count and layer: an int array ``(n_models, n_counts, n_layers)``."""
        return np.array(self.values, dtype=np.int64).transpose(1, 0, 2)

    @property
    def total(self) -> np.ndarray:
        """Dead units over all layers per model and count: an int array ``(n_models, n_counts)``."""
        return self.dead.sum(axis=2)

    @property
    def fraction(self) -> np.ndarray:
        """Dead units as a fraction of all units per model and count, ``(n_models, n_counts)``."""
        return self.total / sum(self.width)

    def first_epoch_reaching(self, share: float) -> list[int | None]:
        """Return, per model, the first counted epoch by which ``share`` of its final dead units were dead (or None)."""
        if not 0.0 < share <= 1.0:
            raise ValueError(f"share must be in (0, 1], got {share!r}.")
        out: list[int | None] = []
        for totals in self.total:
            final = totals[-1]
            out.append(self.epochs[int(np.flatnonzero(totals >= share * final)[0])] if final else None)
        return out


@dataclass
class Trace:
    """A training run with the model evaluated after every epoch.

    Attributes:
        reported: the per-epoch mean training loss as ``fit`` reported it (``history.loss``).
        loss: the loss of the model at the end of each epoch on all of ``x`` (BCE on the logit scale).
        floor: the floor of that loss on ``x``, one number.
        mse: the reconstruction MSE per element at the end of each epoch.
        saturated: per epoch, the fraction of float32 predictions exactly 0.0 or 1.0 (NaN without ``saturation``).
        exact: whether ``loss`` was evaluated on a float64 copy of the model.
    """

    epoch: np.ndarray
    reported: np.ndarray
    loss: np.ndarray
    floor: float
    excess: np.ndarray
    mse: np.ndarray
    saturated: np.ndarray
    exact: bool
    history: History

    @property
    def final(self) -> float:
        """The loss of the trained model (last entry of ``loss``)."""
        return float(self.loss[-1])


def fit_traced(model: Autoencoder, x: torch.Tensor, loss: str = "bce", exact: bool = True, saturation: bool = False,
               **fit_kwargs) -> Trace:
    """Train ``model`` with ``aebook.fit`` and return a ``Trace`` of its loss, floor, excess and MSE per epoch.

    Args:
        loss: the training loss, ``"mse"``, ``"bce"`` or ``"bce_prob"``; BCE is traced on the logit scale.
        exact: evaluate a float64 copy of the model after every epoch (no float32 round-off).
        saturation: also record the fraction of predictions exactly 0.0 or 1.0 (one more forward pass).
        **fit_kwargs: passed to ``aebook.fit`` (``lr``, ``batch_size``, ``epochs``, ``seed``, ...).

    Returns:
        A ``Trace``; nats per element for BCE, MSE per element for ``"mse"``.

    Raises:
        ValueError: for anything ``aebook.fit`` refuses, or if ``fit_kwargs`` has ``on_epoch``.
    """
    check_loss_name(loss, model.output)
    if "on_epoch" in fit_kwargs:
        raise ValueError("fit_traced sets on_epoch itself; call aebook.fit directly to pass your own.")
    measured = "bce" if loss in BCE_LOSSES else loss
    floor = loss_floor(as_data_tensor(x), measured, model.encoding_dim)

    def measure(current: Autoencoder) -> tuple[float, float, float]:
        judged = copy.deepcopy(current).double() if exact else current
        result = evaluate(judged, x, measured, floor=floor)
        saturated = math.nan
        if saturation:
            with torch.no_grad():
                p = current(x) if current.output == "sigmoid" else None
            saturated = float(((p == 0) | (p == 1)).double().mean()) if p is not None else 0.0
        return result.loss, result.mse, saturated

    recorder = Recorder(measure, model, before_training=False)
    history = fit(model, x, loss=loss, on_epoch=recorder, **fit_kwargs)
    values = np.array([row[0] for row in recorder.values], dtype=np.float64).reshape(-1, 3)
    return Trace(epoch=np.arange(1, len(values) + 1), reported=history.loss.copy(), loss=values[:, 0], floor=floor,
                 excess=values[:, 0] - floor, mse=values[:, 1], saturated=values[:, 2], exact=bool(exact),
                 history=history)


# --- comparing independent runs --------------------------------------------------------------


def fully_above(a: Sequence[float], b: Sequence[float]) -> bool:
    """Return True if every value of ``a`` is larger than every value of ``b``. With K independent runs
    a side and no real difference, this happens with probability ``1 / C(2K, K)`` (1/70 for K = 4):
    the exact one-sided Mann-Whitney test at its most extreme value."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == 0 or b.size == 0:
        raise ValueError("fully_above needs at least one value on each side.")
    return bool(a.min() > b.max())


def chance_of_separation(k: int, m: int | None = None) -> float:
    """Return ``1 / C(k + m, k)``: the chance that k values all exceed m others when all orders are equally likely."""
    m = k if m is None else m
    if k < 1 or m < 1:
        raise ValueError(f"both groups need at least one value, got {k} and {m}.")
    return 1.0 / comb(k + m, k)
