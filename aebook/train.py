"""Train: the one training loop (``fit_many``; ``fit`` is ``fit_many`` of one model), the
``History`` it returns, the per-epoch callback mechanism (``Recorder``) and the choice of device.

Data moves to the device once; batches come from a seeded on-device ``randperm``; one host sync per epoch.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .data import as_data_tensor, check_positive_int, check_unit_interval, check_width
from .engine import Adam, StackedAutoencoders
from .losses import BCE_LOSSES, check_loss_name, loss_and_grad
from .models import Autoencoder

EpochCallback = Callable[[int, "list[Autoencoder]"], None]
_ACCEPTED = "None, 'auto', 'cpu', 'cuda', 'cuda:N', 'mps', or a torch.device"


class TrainingDiverged(ValueError):
    """Raised when the training loss becomes NaN or infinite."""


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """Return the training device: ``device`` if given (ValueError if unknown or unavailable), else CUDA, MPS or CPU."""
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"unknown device {device!r}; use {_ACCEPTED}.") from err
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} was requested but CUDA is not available here; "
                             "use device='cpu' or install the CUDA build of torch.")
        if chosen.index is not None and chosen.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r} does not exist: this machine has "
                             f"{torch.cuda.device_count()} CUDA device(s).")
    elif chosen.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"device {device!r} was requested but MPS is not available; use 'cpu'.")
    elif chosen.type != "cpu":
        raise ValueError(f"unsupported device {device!r}; use {_ACCEPTED}.")
    return chosen


@dataclass
class History:
    """What a training run did.

    Attributes:
        loss: per-epoch mean training loss (MSE per element, or BCE in nats per element).
        converged: whether the loss fell below ``tol`` (always False without ``tol``).
        interrupted: whether the run was stopped early with Ctrl-C.
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
        return (f"History(loss={self.loss_name!r}, epochs={self.epochs}, final={self.final:.4g}, "
                f"converged={self.converged})")


def progress_enabled(progress: bool | None) -> bool:
    """Resolve ``progress=None`` from the ``AEBOOK_PROGRESS`` environment variable (default on)."""
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
    return (f"training diverged: the loss became NaN or infinite in epoch {epoch}. "
            f"Try a lower learning rate than lr={lr:g} (e.g. lr={lr / 10:g}).")


def run_training(models: Sequence[Autoencoder], x: torch.Tensor, loss: str, lrs: Sequence[float],
                 seeds: Sequence[int], batch_size: int, epochs: int, device: str | torch.device | None,
                 tol: float | None, progress: bool | None, label: str,
                 on_epoch: EpochCallback | None = None) -> list[History]:
    """Train validated, same-shaped ``models`` side by side (``aebook.engine``); return one History each."""
    dev = pick_device(device)
    first = next(models[0].parameters())
    home, dtype = first.device, first.dtype
    k = len(models)
    stack = StackedAutoencoders(models, dev, dtype)
    optimizer = Adam(stack.params, torch.tensor([float(lr) for lr in lrs], dtype=torch.float64))
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
        warnings.warn(f"training interrupted after {len(per_epoch)} complete epoch(s); "
                      "returning the history so far.", stacklevel=3)
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
        histories.append(History(loss=losses[:run, m].copy(), loss_name=loss, lr=float(lrs[m]), epochs=run,
                                 steps=steps if not finished_at[m] else run * -(-n // batch_size),
                                 seconds=seconds, converged=bool(finished_at[m]), interrupted=interrupted,
                                 device=str(dev), tol=tol))
    return histories


def fit(model: Autoencoder, x: torch.Tensor, loss: str = "mse", lr: float = 1e-3, batch_size: int = 128,
        epochs: int = 100, seed: int = 0, device: str | torch.device | None = None, tol: float | None = None,
        progress: bool | None = None, on_epoch: Callable[[int, Autoencoder], None] | None = None) -> History:
    """Train ``model`` to reconstruct ``x`` with Adam and return its ``History``.

    Args:
        model: trained in place and left on its original device.
        x: data, shape ``(n_samples, n_features)``; it is both input and target.
        loss: ``"mse"``, ``"bce"`` (logit scale) or ``"bce_prob"`` (probability scale).
        seed: fixes the batch order (the model's own ``seed`` fixes the initialisation).
        device: where to train; ``None`` picks CUDA, then MPS, then CPU.
        tol: stop after the first epoch whose mean loss is below ``tol``.
        progress: show a tqdm bar; ``None`` follows ``AEBOOK_PROGRESS`` (default on).
        on_epoch: called as ``on_epoch(epoch, model)`` after each epoch (1-based).

    Returns:
        A ``History`` of per-epoch mean training loss (MSE, or BCE nats, per element). Ctrl-C stops
        cleanly with ``interrupted=True``; the model keeps the last finished step's weights.

    Raises:
        ValueError: for bad data, loss, device or hyperparameters; ``TrainingDiverged`` (a
            ValueError) if the loss becomes NaN or infinite.
    """
    callback = None if on_epoch is None else (lambda epoch, models: on_epoch(epoch, models[0]))
    (history,) = _checked_training([model], x, loss, [lr], batch_size, epochs, [seed], device, tol, progress,
                                   callback, caller="fit")
    return history


def _per_member(value: object, k: int, name: str) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != k:
            raise ValueError(f"{name} has {len(value)} entries but there are {k} models; give one per model.")
        return list(value)
    return [value] * k


def fit_many(models: Sequence[Autoencoder], x: torch.Tensor, loss: str = "mse", lr: float | Sequence[float] = 1e-3,
             batch_size: int = 128, epochs: int = 100, seeds: Sequence[int] | None = None,
             device: str | torch.device | None = None, tol: float | None = None, progress: bool | None = None,
             on_epoch: Callable[[int, list[Autoencoder]], None] | None = None) -> list[History]:
    """Train K same-architecture ``models`` on ``x`` at once; return one ``History`` per model.

    Member ``i`` gets what ``fit(models[i], x, lr=lr[i], seed=seeds[i], ...)`` would give it, up to
    float round-off, as one batched computation. ``lr`` is one value or one per model; ``seeds``
    defaults to ``0, 1, ..., K-1``. With ``tol``, a member that reaches it stops while the others
    go on. ``on_epoch(epoch, models)`` is called after each epoch.

    Raises:
        ValueError: if the models differ in architecture, dtype or device, or for any input ``fit`` refuses.
    """
    return _checked_training(models, x, loss, lr, batch_size, epochs, seeds, device, tol, progress, on_epoch,
                             caller="fit_many")


def _checked_training(models: Sequence[Autoencoder], x: object, loss: str, lr: float | Sequence[float],
                      batch_size: int, epochs: int, seeds: Sequence[int] | None, device: str | torch.device | None,
                      tol: float | None, progress: bool | None, on_epoch: EpochCallback | None,
                      caller: str) -> list[History]:
    """Check every input of ``fit``/``fit_many`` (``caller``) once, then run ``run_training``."""
    models = list(models)
    if not models or not all(isinstance(m, Autoencoder) for m in models):
        raise ValueError(f"{caller} needs a non-empty list of aebook.Autoencoder models.")
    k = len(models)
    reference = models[0].architecture
    for i, model in enumerate(models[1:], start=1):
        if model.architecture != reference:
            different = {key: (reference[key], model.architecture[key])
                         for key in reference if reference[key] != model.architecture[key]}
            raise ValueError(f"fit_many trains models of one architecture together, but model {i} differs from "
                             f"model 0 in {different}; group the models by architecture and call fit_many per group.")
    params = [next(m.parameters()) for m in models]
    if len({(p.dtype, p.device) for p in params}) != 1:
        raise ValueError("all models must share one dtype and device; move them with .to(...) first.")
    check_loss_name(loss, models[0].output)
    lrs = _per_member(lr, k, "lr")
    for value in lrs:
        check_hyperparameters(value, batch_size, epochs, tol)
    lrs = [float(v) for v in lrs]
    seeds = list(range(k)) if seeds is None else _per_member(list(seeds), k, "seeds")
    x = prepare_training_data(x, loss, models[0].n_features)
    pick_device(device)  # validate before any work
    label = f"fit {loss} lr={lrs[0]:g}" if caller == "fit" else f"fit_many K={k} {loss}"
    return run_training(models, x, loss, lrs, seeds, batch_size, epochs, device, tol, progress,
                        label=label, on_epoch=on_epoch)


class Recorder:
    """An ``on_epoch`` callback that measures every model before training and after every ``every`` epochs.

    ``measure(model)`` may return anything; results are kept in ``values[count][member]``. A second
    ``fit`` call with the same recorder continues its record, counting epochs on from the last one.

    Args:
        measure: called as ``measure(model)`` with each model holding its current weights.
        models: the models that will be trained, in ``fit_many``'s order (or one model for ``fit``).
        before_training: also measure the models as they are now, recorded as epoch 0.

    Attributes:
        epochs: the epochs at which the models were measured (0: before training).
        values: per measured epoch, one result per model.
    """

    def __init__(self, measure: Callable[[Autoencoder], object], models: Autoencoder | Sequence[Autoencoder],
                 every: int = 1, before_training: bool = True) -> None:
        self.models = _model_list(models, type(self).__name__)
        self.measure = measure
        self.every = check_positive_int(every, "every")
        self.epochs: list[int] = []
        self.values: list[list] = []
        self._offset = 0  # epochs run by earlier fit calls with this recorder
        self._last = 0
        if before_training:
            self._record(0, self.models)

    def _record(self, epoch: int, models: list[Autoencoder]) -> None:
        self.epochs.append(int(epoch))
        self.values.append([self.measure(m) for m in models])

    def __call__(self, epoch: int, models: Autoencoder | Sequence[Autoencoder]) -> None:
        """Measure after ``epoch`` (1-based, of the current fit call); called by ``fit``/``fit_many``."""
        models = _model_list(models, type(self).__name__)
        if len(models) != len(self.models):
            raise ValueError(f"the recorder was made for {len(self.models)} model(s) but was called with "
                             f"{len(models)}; make one recorder per fit/fit_many call, with the same models.")
        if epoch == 1:
            self._offset = self._last
        self._last = self._offset + epoch
        if epoch % self.every == 0:
            self._record(self._last, models)

    def array(self, field: str | None = None) -> np.ndarray:
        """Return the measured values as an array ``(n_models, n_counts, ...)``; ``field`` picks an attribute."""
        rows = self.values if field is None else [[getattr(v, field) for v in row] for row in self.values]
        return np.moveaxis(np.array(rows), 0, 1)


def _model_list(models: Autoencoder | Sequence[Autoencoder], who: str) -> list[Autoencoder]:
    listed = [models] if isinstance(models, Autoencoder) else list(models)
    if not listed or not all(isinstance(m, Autoencoder) for m in listed):
        raise ValueError(f"{who} needs an aebook.Autoencoder or a non-empty list of them.")
    return listed
