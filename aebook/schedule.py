"""``fit_schedule``: train one model through a piecewise-constant learning-rate schedule."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from ._validation import check_positive_int
from .models import Autoencoder
from .train import History, fit

__all__ = ["fit_schedule"]


def _shifted(on_epoch: Callable[[int, Autoencoder], None], offset: int) -> Callable[[int, Autoencoder], None]:
    def callback(epoch: int, model: Autoencoder) -> None:
        on_epoch(offset + epoch, model)

    return callback


def fit_schedule(
    model: Autoencoder,
    x: torch.Tensor,
    loss: str,
    schedule: Sequence[tuple[float, int]],
    batch_size: int = 128,
    seed: int = 0,
    on_epoch: Callable[[int, Autoencoder], None] | None = None,
    **kwargs: object,
) -> History:
    """Train ``model`` with ``aebook.fit`` once per ``(lr, epochs)`` phase of ``schedule``; return one ``History``.

    A falling learning rate lets Adam settle closer to a minimum than one constant rate does:
    e.g. ``[(1e-2, 60), (1e-3, 40)]`` runs 60 epochs at 1e-2, then 40 at 1e-3. Phase ``i`` uses
    batch-order seed ``seed + i``; Adam's moment estimates start afresh in each phase.
    ``on_epoch(epoch, model)`` sees the epoch counted over the whole schedule (1-based).
    Other keyword arguments (``device``, ``progress``, ...) go to every ``fit`` call.

    Returns:
        A ``History`` whose ``loss`` is the per-epoch mean training loss over all phases (MSE
        per element, or nats per element for BCE), ``lr`` the last phase's rate and
        ``extra["schedule"]`` the schedule as run.

    Raises:
        ValueError: for an empty schedule or a phase that is not ``(positive lr, positive epochs)``,
            and for anything ``fit`` refuses.
    """
    phases = list(schedule)
    if not phases:
        raise ValueError("schedule is empty; give at least one (lr, epochs) phase, e.g. [(1e-3, 100)].")
    for phase in phases:
        if not (isinstance(phase, (tuple, list)) and len(phase) == 2):
            raise ValueError(f"each schedule phase must be a pair (lr, epochs), got {phase!r}.")
        check_positive_int(phase[1], "the epochs of each schedule phase")
    for key in ("lr", "epochs", "tol"):
        if key in kwargs:
            raise ValueError(f"fit_schedule takes no {key!r}: the schedule sets the rates and the epochs.")
    histories: list[History] = []
    done = 0
    for i, (lr, epochs) in enumerate(phases):
        callback = None if on_epoch is None else _shifted(on_epoch, done)
        histories.append(fit(model, x, loss=loss, lr=lr, batch_size=batch_size, epochs=int(epochs),
                             seed=seed + i, on_epoch=callback, **kwargs))
        done += histories[-1].epochs
        if histories[-1].interrupted:  # Ctrl-C: stop the whole schedule, keep what ran
            break
    last = histories[-1]
    return History(
        loss=np.concatenate([h.loss for h in histories]),
        loss_name=loss,
        lr=last.lr,
        epochs=done,
        steps=sum(h.steps for h in histories),
        seconds=sum(h.seconds for h in histories),
        interrupted=any(h.interrupted for h in histories),
        device=last.device,
        extra={"schedule": [(float(lr), int(e)) for lr, e in phases]},
    )
