"""Chapter "Linear model, uniform data, MSE" (linear_mse.ipynb): how far a linear model's map is from the identity.

``identity_gap`` splits a linear model's MSE into the covariance and mean terms of the chapter's
equation and bounds the cost of its collapsed directions; ``singular_value_plot`` and
``epoch_series`` draw the chapter's figures of the end-to-end map (its singular values come from
``aebook.models.singular_values``) and of values recorded once per epoch (the prose's bounds are
rounded outwards by ``aebook.notebook.round_out``); ``run_slow_lr`` makes the record
``records/linear_mse_slow_lr.json`` (the answer's 2-feature model at ``lr = 1e-5``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.axes import Axes

import aebook
from aebook import Autoencoder
from aebook.data import as_data_tensor, check_positive_int, check_width
from aebook.models import end_to_end_map
from aebook.plot import finish_axes, new_axes
from aebook.records import make_record


@dataclass(frozen=True)
class IdentityGap:
    """How far a linear model's end-to-end map ``x -> W x + b`` is from the identity, and what it costs.

    Attributes:
        singular_values: singular values of ``W``, largest first (all 1 for the identity).
        covariance_term: ``tr((W - I) C (W - I)^T) / d``, ``C`` the 1/n covariance of the data (MSE per element).
        mean_term: ``||(W - I) mu + b||^2 / d``, ``mu`` the mean of the data (MSE per element).
        collapsed: how many singular values of ``W`` lie below the threshold.
        collapsed_bound: ``lambda_min(C) * sum((1 - s)^2) / d`` over those collapsed singular values ``s``:
            a lower bound on ``loss`` (MSE per element) that no other part of the map can cancel.
    """

    singular_values: np.ndarray
    covariance_term: float
    mean_term: float
    collapsed: int
    collapsed_bound: float

    @property
    def loss(self) -> float:
        """The model's MSE per element on the data, ``mean ||(W - I) x + b||^2 / d``, computed exactly."""
        return self.covariance_term + self.mean_term


def identity_gap(model: Autoencoder, x: torch.Tensor, threshold: float = 0.5) -> IdentityGap:
    """Return the ``IdentityGap`` of a linear, linear-output ``model`` on data ``x`` (float64 throughout).

    The MSE splits exactly as ``tr((W - I) C (W - I)^T) / d + ||(W - I) mu + b||^2 / d``. For a
    right singular vector ``v`` of ``W`` with singular value ``s``, ``||(W - I) v|| >= 1 - s``, so the
    directions with ``s < threshold`` cost at least ``lambda_min(C) * sum((1 - s)^2) / d`` together.
    """
    if model.output != "linear":
        raise ValueError(
            f"identity_gap gives the MSE of a model with output='linear'; this one has output={model.output!r}."
        )
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must lie in (0, 1), got {threshold!r}; 0.5 is a sensible default.")
    weight, bias = end_to_end_map(model)
    x = as_data_tensor(x)
    check_width(x, model.n_features)
    data = x.double().cpu().numpy()
    d = data.shape[1]
    mu = data.mean(axis=0)
    centred = data - mu
    cov = centred.T @ centred / data.shape[0]
    gap = weight - np.eye(d)
    _, s, vt = np.linalg.svd(weight)
    low = s < threshold
    lam_min = max(float(np.linalg.eigvalsh(cov)[0]), 0.0)
    return IdentityGap(
        singular_values=s,
        covariance_term=float(np.trace(gap @ cov @ gap.T) / d),
        mean_term=float(np.sum((gap @ mu + bias) ** 2) / d),
        collapsed=int(low.sum()),
        collapsed_bound=lam_min * float(np.sum((1.0 - s[low]) ** 2)) / d,
    )


def singular_value_plot(values: Mapping[str, np.ndarray], ax: Axes | None = None) -> Axes:
    """Plot sorted singular values (largest first) of several end-to-end maps on a log scale; return the Axes.

    ``values`` maps a label to the singular values of one map (``aebook.models.singular_values``,
    or ``IdentityGap.singular_values``); a dashed line marks the identity's (all 1).
    """
    ax = ax or new_axes()
    for label, s in values.items():
        ax.plot(np.arange(1, len(s) + 1), s, marker=".", label=label)
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="identity (all 1)")
    return finish_axes(ax, "index (largest first)", "singular value of end-to-end map", logy=True)


def epoch_series(
    series: Mapping[str, Sequence[float]],
    ylabel: str,
    ax: Axes | None = None,
    logy: bool = False,
    title: str | None = None,
) -> Axes:
    """Plot one value per epoch (epochs 1, 2, ...) for each labelled series and return the Axes.

    For quantities recorded during training with ``on_epoch``, such as the number of collapsed
    directions of a linear model's end-to-end map. ``ylabel`` should name the quantity and its unit.
    """
    if not series:
        raise ValueError("epoch_series needs at least one labelled series, e.g. {'seed 0': [3, 2, 1]}.")
    ax = ax or new_axes()
    for label, values in series.items():
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or len(values) == 0:
            raise ValueError(f"series {label!r} must be a non-empty 1-D sequence with one value per epoch.")
        ax.plot(np.arange(1, len(values) + 1), values, marker=".", label=label)
    return finish_axes(ax, "epoch", ylabel, title, logy=logy)


# --- the record records/linear_mse_slow_lr.json ----------------------------------------------------

SLOW_LR, SLOW_SEEDS, SLOW_BATCH = 1e-5, (0, 1, 2, 3, 4), 128


def run_slow_lr(epochs: int = 1500, seeds: Sequence[int] = SLOW_SEEDS, n_rows: int = 30_000,
                log: Callable[[str], None] | None = None) -> dict:
    """Train the original answer's 2-feature linear autoencoder at ``lr = 1e-5`` until its loss is below 1e-5.

    One model per seed and initialisation (PyTorch's default and Glorot's, the Keras default the
    answer used): the seed sets a model's batch order and, with the initialisation, its initial
    weights, so the two models of one seed share their batch order. Data: ``n_rows`` rows of 2
    ``U(0, 1)`` features (seed 0), batch 128, Adam. Each model stops at the end of the first epoch
    whose mean loss is below 1e-5, or after ``epochs``.
    Series: ``"<init> s<seed> loss"``, MSE per element per epoch. Results: per model, the epoch
    and the optimiser step count at which it reached 1e-5 (``None`` if it did not).
    """
    epochs = check_positive_int(epochs, "epochs")
    start = time.perf_counter()
    x = aebook.data.uniform(n_rows, 2, seed=0)
    steps_per_epoch = -(-n_rows // SLOW_BATCH)
    names = [f"{init} s{seed}" for init in ("pytorch", "glorot") for seed in seeds]
    models = [aebook.Autoencoder(2, 2, hidden=(), activation="linear", output="linear", init=init, seed=seed)
              for init in ("pytorch", "glorot") for seed in seeds]
    histories = aebook.fit_many(models, x, loss="mse", lr=SLOW_LR, batch_size=SLOW_BATCH, epochs=epochs,
                                seeds=[int(n.split(" s")[1]) for n in names], tol=1e-5, progress=False)
    series = {f"{n} loss": h.loss.tolist() for n, h in zip(names, histories, strict=True)}
    results = {}
    for name, h in zip(names, histories, strict=True):
        reached = h.epochs_to(1e-5)
        results[name] = {"epochs_to_1e-5": reached, "steps_to_1e-5": reached * steps_per_epoch if reached else None}
        if log is not None:
            log(f"{name}: {reached} epochs to 1e-5")
    settings = {"n_rows": n_rows, "n_features": 2, "lr": SLOW_LR, "batch_size": SLOW_BATCH, "epochs": epochs,
                "seeds": list(seeds), "inits": ["pytorch", "glorot"], "tol": 1e-5, "data_seed": 0,
                "steps_per_epoch": steps_per_epoch}
    check = {"made_by": "book/linear_mse.py:run_slow_lr", "kwargs": {"epochs": 1},
             "values": {k: v[:1] for k, v in series.items()}, "rtol": 1e-5}
    return make_record("book/linear_mse.py:run_slow_lr", settings, series, time.perf_counter() - start, check,
                       results)


# --- the record records/linear_mse_deep_stack.json -------------------------------------------------

STACK_LR, STACK_SEEDS, STACK_BATCH, STACK_EPOCHS = 1e-3, (0, 1, 2, 3, 4), 128, 600
STACK_SV_EVERY = 25  # epochs between the full spectra the record keeps


def run_deep_stack(epochs: int = STACK_EPOCHS, seeds: Sequence[int] = STACK_SEEDS, n_rows: int = 30_000,
                   log: Callable[[str], None] | None = None) -> dict:
    """Train the 100-feature stack of two linear layers each way until its loss is below 1e-5, or ``epochs``.

    The chapter's deep linear model (``hidden=(100,)``, linear activation and output, PyTorch's
    default initialisation), one model per seed (the seed sets its initial weights and its batch
    order), on ``n_rows`` rows of 100 ``U(0, 1)`` features (seed 0): Adam, ``lr = 1e-3``, batch 128.
    Each model stops at the end of the first epoch whose mean loss is below 1e-5.
    Series per seed: ``"s<seed> loss"`` (MSE per element, per epoch); ``"s<seed> small sv"`` (singular
    values of the end-to-end map below 0.5) and ``"s<seed> min sv"`` (its smallest singular value),
    both with epoch 0 (initialisation) first. Results per seed: the epoch at which it reached 1e-5
    (``None`` if it did not), its final MSE, and the full singular values every ``STACK_SV_EVERY``
    epochs and at the end.
    """
    epochs = check_positive_int(epochs, "epochs")
    seeds = [int(s) for s in seeds]
    start = time.perf_counter()
    x = aebook.data.uniform(n_rows, 100, seed=0)
    models = [aebook.Autoencoder(100, 100, hidden=(100,), activation="linear", output="linear", seed=s)
              for s in seeds]
    spectra = aebook.Recorder(lambda m: aebook.models.singular_values(m).tolist(), models)

    def on_epoch(epoch: int, ms: Sequence[Autoencoder]) -> None:
        spectra(epoch, ms)
        if log is not None and epoch % 50 == 0:
            log(f"epoch {epoch}: {time.perf_counter() - start:.0f} s")

    histories = aebook.fit_many(models, x, loss="mse", lr=STACK_LR, batch_size=STACK_BATCH, epochs=epochs,
                                seeds=seeds, tol=1e-5, on_epoch=on_epoch, progress=False)
    series: dict[str, list] = {}
    results: dict[str, dict] = {}
    for member, (seed, model, h) in enumerate(zip(seeds, models, histories, strict=True)):
        s = np.array([row[member] for row in spectra.values])  # (epochs measured, 100), epoch 0 first
        series[f"s{seed} loss"] = h.loss.tolist()
        series[f"s{seed} small sv"] = (s < 0.5).sum(axis=1).tolist()
        series[f"s{seed} min sv"] = s[:, -1].tolist()
        kept = sorted({*range(0, len(s), STACK_SV_EVERY), len(s) - 1})
        results[f"s{seed}"] = {"epochs_to_1e-5": h.epochs_to(1e-5), "epochs": h.epochs,
                               "mse": identity_gap(model, x).loss,
                               "singular_values": {str(e): [round(v, 6) for v in s[e]] for e in kept}}
        if log is not None:
            log(f"s{seed}: {h.epochs_to(1e-5)} epochs to 1e-5, final loss {h.final:.3g}")
    eigenvalues = aebook.floors.covariance_eigenvalues(x)
    results["data"] = {"covariance_eigenvalues": [float(v) for v in eigenvalues]}
    settings = {"n_rows": n_rows, "n_features": 100, "hidden": [100], "activation": "linear", "output": "linear",
                "init": "pytorch", "lr": STACK_LR, "batch_size": STACK_BATCH, "epochs": epochs, "seeds": seeds,
                "tol": 1e-5, "data_seed": 0, "sv_every": STACK_SV_EVERY}
    check = {"made_by": "book/linear_mse.py:run_deep_stack", "kwargs": {"epochs": 1},
             "values": {k: v[:1] for k, v in series.items() if k.endswith("loss")}, "rtol": 1e-5}
    return make_record("book/linear_mse.py:run_deep_stack", settings, series, time.perf_counter() - start, check,
                       results)
