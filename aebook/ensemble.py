"""``fit_many``: many independent autoencoders trained in one batched pass."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from .device import pick_device
from .losses import check_loss_name
from .models import Autoencoder
from .train import History, check_hyperparameters, prepare_training_data, run_training


def _per_member(value: object, k: int, name: str) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != k:
            raise ValueError(f"{name} has {len(value)} entries but there are {k} models; give one per model.")
        return list(value)
    return [value] * k


def fit_many(
    models: Sequence[Autoencoder],
    x: torch.Tensor,
    loss: str = "mse",
    lr: float | Sequence[float] = 1e-3,
    batch_size: int = 128,
    epochs: int = 100,
    seeds: Sequence[int] | None = None,
    device: str | torch.device | None = None,
    tol: float | None = None,
    progress: bool | None = None,
    on_epoch: Callable[[int, list[Autoencoder]], None] | None = None,
) -> list[History]:
    """Train K same-architecture ``models`` on ``x`` at once; return one ``History`` per model.

    Member ``i`` gets what ``fit(models[i], x, lr=lr[i], seed=seeds[i], ...)`` would give it, up to
    float round-off, but all K train as one batched computation, which is much faster than K
    separate runs for small models. ``lr`` is one value or one per model; ``seeds`` (the batch
    order of each member) defaults to ``0, 1, ..., K-1``. With ``tol``, a member that reaches it
    stops updating while the others go on. ``on_epoch(epoch, models)`` is called after each
    epoch with every model holding its current weights.

    Raises:
        ValueError: if the models differ in architecture, dtype or device, or for any input
            ``fit`` would refuse.
    """
    models = list(models)
    if not models or not all(isinstance(m, Autoencoder) for m in models):
        raise ValueError("fit_many needs a non-empty list of aebook.Autoencoder models.")
    k = len(models)
    reference = models[0].architecture
    for i, model in enumerate(models[1:], start=1):
        if model.architecture != reference:
            different = {key: (reference[key], model.architecture[key])
                         for key in reference if reference[key] != model.architecture[key]}
            raise ValueError(
                f"fit_many trains models of one architecture together, but model {i} differs from "
                f"model 0 in {different}; group the models by architecture and call fit_many per group."
            )
    params = [next(m.parameters()) for m in models]
    if len({(p.dtype, p.device) for p in params}) != 1:
        raise ValueError("all models must share one dtype and device; move them with .to(...) first.")
    check_loss_name(loss, models[0].output)
    lrs = [float(v) for v in _per_member(lr, k, "lr")]
    seeds = list(range(k)) if seeds is None else _per_member(list(seeds), k, "seeds")
    for value in lrs:
        check_hyperparameters(value, batch_size, epochs, tol)
    x = prepare_training_data(x, loss, models[0].n_features)
    pick_device(device)
    return run_training(models, x, loss, lrs, seeds, batch_size, epochs, device, tol, progress,
                        label=f"fit_many K={k} {loss}", on_epoch=on_epoch)
