"""``fit``: the training core, and the ``History`` it returns.

Performance rules (see design.md): the data is moved to the training device once; batches are
drawn from a seeded ``randperm`` on that device; the loss is accumulated on the device and read
back once per epoch; gradients are computed by hand into one buffer and Adam updates that buffer
in a few tensor ops (``aebook.engine``), so no per-parameter ``zero_grad`` or optimizer loop runs.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ._validation import as_data_tensor, check_positive_int, check_unit_interval, check_width
from .device import pick_device
from .engine import Adam, StackedAutoencoders, loss_and_grad
from .losses import BCE_LOSSES, check_loss_name
from .models import Autoencoder

EpochCallback = Callable[[int, "list[Autoencoder]"], None]


class TrainingDiverged(ValueError):
    """Raised when the training loss becomes NaN or infinite."""


@dataclass
class History:
    """What a training run did.

    Attributes:
        loss: per-epoch mean training loss (MSE per element, or BCE in nats per element).
        loss_name: the loss that was minimised.
        lr: the learning rate.
        epochs: the number of epochs run.
        steps: the number of optimiser steps taken.
        seconds: wall-clock training time in seconds.
        converged: whether the loss fell below ``tol`` (always False when no ``tol`` was given).
        interrupted: whether the run was stopped early with Ctrl-C.
        device: the device the model trained on.
    """

    loss: np.ndarray
    loss_name: str
    lr: float
    epochs: int
    steps: int
    seconds: float
    converged: bool = False
    interrupted: bool = False
    device: str = "cpu"
    tol: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def final(self) -> float:
        """The last per-epoch loss (NaN if no epoch completed)."""
        return float(self.loss[-1]) if len(self.loss) else float("nan")

    def epochs_to(self, threshold: float) -> int | None:
        """Return the first epoch (1-based) whose loss is below ``threshold``, or None."""
        below = np.flatnonzero(self.loss < threshold)
        return int(below[0]) + 1 if len(below) else None

    def __repr__(self) -> str:
        return (
            f"History(loss={self.loss_name!r}, epochs={self.epochs}, final={self.final:.4g}, "
            f"converged={self.converged})"
        )


def progress_enabled(progress: bool | None) -> bool:
    """Resolve ``progress=None`` from the ``AEBOOK_PROGRESS`` environment variable (default on).

    The test suite and ``make execute`` set ``AEBOOK_PROGRESS=0`` so that progress bars never
    reach the stored, compared notebook outputs.
    """
    if progress is not None:
        return bool(progress)
    return os.environ.get("AEBOOK_PROGRESS", "1").lower() not in ("0", "false", "no", "off")


def prepare_training_data(x: object, loss: str, n_features: int) -> torch.Tensor:
    """Validate training data for ``loss`` and a model of width ``n_features``; return a tensor."""
    x = as_data_tensor(x)
    check_width(x, n_features)
    if loss in BCE_LOSSES:
        check_unit_interval(x)
    return x


def check_hyperparameters(lr: float, batch_size: int, epochs: int, tol: float | None) -> None:
    """Raise a ValueError for a learning rate, batch size, epoch count or tolerance that cannot work."""
    if not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}.")
    check_positive_int(batch_size, "batch_size")
    check_positive_int(epochs, "epochs")
    if tol is not None and not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number or None, got {tol!r}.")


def diverged_message(epoch: int, lr: float) -> str:
    return (
        f"training diverged: the loss became NaN or infinite in epoch {epoch}. "
        f"Try a lower learning rate than lr={lr:g} (e.g. lr={lr / 10:g})."
    )


def run_training(
    models: Sequence[Autoencoder],
    x: torch.Tensor,
    loss: str,
    lrs: Sequence[float],
    seeds: Sequence[int],
    batch_size: int,
    epochs: int,
    device: str | torch.device | None,
    tol: float | None,
    progress: bool | None,
    label: str,
    on_epoch: EpochCallback | None = None,
) -> list[History]:
    """Train same-shaped ``models`` side by side (see ``aebook.engine``); return one History each.

    Inputs are assumed validated by the caller (``fit`` or ``fit_many``).
    """
    dev = pick_device(device)
    first = next(models[0].parameters())
    home, dtype = first.device, first.dtype
    k = len(models)
    stack = StackedAutoencoders(models, dev, dtype)
    optimizer = Adam(stack.params, torch.tensor([float(lr) for lr in lrs]))
    data = x.to(device=dev, dtype=dtype)
    n = data.shape[0]
    generators = [torch.Generator(device=dev).manual_seed(int(s)) for s in seeds]

    per_epoch: list[torch.Tensor] = []
    finished_at = [0] * k  # epochs run by each member; 0 while it is still training
    steps, interrupted = 0, False
    bar = None
    if progress_enabled(progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, desc=label, unit="epoch", leave=False)
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            orders = torch.stack([torch.randperm(n, generator=g, device=dev) for g in generators])
            total = torch.zeros(k, device=dev, dtype=torch.float64)
            for begin in range(0, n, batch_size):
                batch = data[orders[:, begin : begin + batch_size]]
                logits, inputs, pre = stack.forward(batch)
                batch_loss, grad_logits = loss_and_grad(loss, stack.output, logits, batch)
                optimizer.step(stack.backward(grad_logits, inputs, pre))
                total += batch_loss * batch.shape[1]
                steps += 1
            epoch_loss = (total / n).cpu()  # the one host sync per epoch
            per_epoch.append(epoch_loss)
            active = [m for m in range(k) if not finished_at[m]]
            bad = [m for m in active if not torch.isfinite(epoch_loss[m])]
            if bad:
                which = "" if k == 1 else f" (member {bad[0]}, lr={lrs[bad[0]]:g})"
                raise TrainingDiverged(diverged_message(epoch, lrs[bad[0]]) + which)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{float(epoch_loss[active].min()):.3g}")
            for m in active:
                if tol is not None and epoch_loss[m] < tol:
                    finished_at[m] = epoch
                    optimizer.freeze(m)
            if on_epoch is not None:
                stack.write_back(models)
                on_epoch(epoch, models)
            if all(finished_at):
                break
    except KeyboardInterrupt:
        interrupted = True
        warnings.warn(
            f"training interrupted after {len(per_epoch)} complete epoch(s); "
            "returning the history so far.",
            stacklevel=3,
        )
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start
    stack.write_back(models)
    for model in models:
        model.to(home).eval()
    losses = torch.stack(per_epoch).numpy() if per_epoch else torch.zeros((0, k), dtype=torch.float64).numpy()
    histories = []
    for m in range(k):
        run = finished_at[m] or len(per_epoch)
        histories.append(
            History(
                loss=losses[:run, m].copy(),
                loss_name=loss,
                lr=float(lrs[m]),
                epochs=run,
                steps=steps if not finished_at[m] else run * -(-n // batch_size),
                seconds=seconds,
                converged=bool(finished_at[m]),
                interrupted=interrupted,
                device=str(dev),
                tol=tol,
            )
        )
    return histories


def fit(
    model: Autoencoder,
    x: torch.Tensor,
    loss: str = "mse",
    lr: float = 1e-3,
    batch_size: int = 128,
    epochs: int = 100,
    seed: int = 0,
    device: str | torch.device | None = None,
    tol: float | None = None,
    progress: bool | None = None,
    on_epoch: Callable[[int, Autoencoder], None] | None = None,
) -> History:
    """Train ``model`` to reconstruct ``x`` with Adam and return its ``History``.

    Args:
        model: the autoencoder; it is trained in place and left on its original device.
        x: data, shape ``(n_samples, n_features)``; it is both input and target.
        loss: ``"mse"``, ``"bce"`` (logit scale) or ``"bce_prob"`` (probability scale).
        lr: Adam's learning rate.
        batch_size: rows per optimiser step; the last batch of an epoch may be smaller.
        epochs: the maximum number of passes over the data.
        seed: fixes the batch order (the initialisation is fixed by the model's own ``seed``).
        device: where to train; ``None`` picks CUDA, then MPS, then CPU.
        tol: stop at the end of the first epoch whose mean loss is below ``tol``.
        progress: show a tqdm bar over epochs; ``None`` follows ``AEBOOK_PROGRESS`` (default on).
        on_epoch: called as ``on_epoch(epoch, model)`` after each epoch (1-based) with the
            model's current weights, e.g. to count dead units as training goes. It costs one copy
            of the weights per epoch.

    Returns:
        A ``History`` whose ``loss`` is the per-epoch mean training loss (MSE per element, or
        nats per element for BCE). Ctrl-C (or the notebook's "interrupt kernel") stops training
        cleanly: the model keeps the weights of the last optimiser step that finished, and the
        History holds the epochs completed so far, with ``interrupted=True``.

    Raises:
        ValueError: for bad data, an unknown loss or device, or bad hyperparameters;
            ``TrainingDiverged`` (a ValueError) if the loss becomes NaN or infinite.
    """
    check_loss_name(loss, model.output)
    check_hyperparameters(lr, batch_size, epochs, tol)
    x = prepare_training_data(x, loss, model.n_features)
    pick_device(device)  # validate before any work
    callback = None if on_epoch is None else (lambda epoch, models: on_epoch(epoch, models[0]))
    (history,) = run_training(
        [model], x, loss, [lr], [seed], batch_size, epochs, device, tol, progress,
        label=f"fit {loss} lr={lr:g}", on_epoch=callback,
    )
    return history
