"""Chapter "Bottlenecks and compressibility" (bottleneck.ipynb): its training schedule, its tracker, its figures
and the convergence record behind its tolerances.

* ``fit_schedule`` trains one model through a piecewise-constant learning-rate schedule
  (``[(1e-2, 60), (1e-3, 40)]``: 60 epochs at 1e-2, then 40 at 1e-3).
* ``EvaluationTracker`` is an ``aebook.Recorder`` that evaluates every model (loss, floor,
  excess) every few epochs, to watch the gap to the PCA floor close.
* ``mse_with_error`` gives a model's reconstruction MSE on held-out rows with its standard error;
  ``paired_mse_difference`` the difference between two models on the same rows, with its own.
* ``run_convergence`` makes the record ``records/bottleneck_convergence.json``
  (``python records/make.py bottleneck_convergence``): how close the chapter's schedule gets to
  the floor from other seeds, and how the gap keeps closing with more epochs.
* The figures ``floors_vs_k``, ``scree``, ``relative_gap_curves`` and ``reconstruction_map``
  draw what they are given and never train.

The Marchenko-Pastur and population floors the chapter compares with are in ``aebook.floors``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

import aebook
from aebook import Autoencoder, History, Recorder, evaluate, fit
from aebook.data import as_data_tensor, check_positive_int, check_width
from aebook.floors import loss_floor, pca_floor
from aebook.losses import check_loss_name
from aebook.plot import finish_axes, new_axes
from aebook.records import make_record

__all__ = [
    "BATCH_SIZE",
    "CASES",
    "EXTENSION",
    "SCHEDULE",
    "SEEDS",
    "EvaluationTracker",
    "fit_schedule",
    "floors_vs_k",
    "make_data",
    "mse_with_error",
    "paired_mse_difference",
    "reconstruction_map",
    "relative_gap",
    "relative_gap_curves",
    "run_convergence",
    "scree",
]

# --- training through a learning-rate schedule ---------------------------------------------------


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


# --- watching the gap to the floor close ---------------------------------------------------------


class EvaluationTracker(Recorder):
    """Evaluate each model on ``x`` (``aebook.evaluate``) now and after every ``every`` epochs.

    An ``aebook.Recorder`` whose measure is ``aebook.evaluate(model, x, loss, floor=...)``. The
    floor depends on the data and the code width only, so it is computed once per code width,
    here, with ``aebook.floors.loss_floor``, not at every evaluation.

    Args:
        x: the data to evaluate on, shape ``(n_samples, n_features)``.
        loss: the loss to evaluate (``"mse"``, ``"bce"`` or ``"bce_prob"``); its floor comes with it.
        models: the models that will be trained, in ``fit_many``'s order (or one model for ``fit``).
        every: evaluate after every ``every``-th epoch (each is one forward pass over ``x``).

    Pass the tracker as ``on_epoch=`` to ``aebook.fit``, ``aebook.fit_many`` or ``fit_schedule``.
    Passing the same tracker to a second call continues its record: its epochs count on from the
    last one.

    Attributes:
        epochs: the epochs at which the models were evaluated, starting with 0 (before training).
        values: per count, one ``aebook.Evaluation`` per model (also named ``evaluations``).
    """

    def __init__(self, x: torch.Tensor, loss: str, models: Autoencoder | Sequence[Autoencoder],
                 every: int = 1) -> None:
        listed = [models] if isinstance(models, Autoencoder) else list(models)
        if not listed or not all(isinstance(m, Autoencoder) for m in listed):
            raise ValueError("EvaluationTracker needs an aebook.Autoencoder or a non-empty list of them.")
        self.loss = check_loss_name(loss, listed[0].output)
        self.x = as_data_tensor(x)
        for model in listed:
            check_width(self.x, model.n_features)
        self._floors = {k: loss_floor(self.x, self.loss, k) for k in sorted({m.encoding_dim for m in listed})}
        super().__init__(self._evaluate, listed, every)

    def _evaluate(self, model: Autoencoder) -> aebook.Evaluation:
        return evaluate(model, self.x, self.loss, floor=self._floors[model.encoding_dim])

    @property
    def evaluations(self) -> list[list[aebook.Evaluation]]:
        """Per count, one ``aebook.Evaluation`` per model (the recorder's ``values``)."""
        return self.values

    @property
    def loss_values(self) -> np.ndarray:
        """The evaluated loss per model and count, ``(n_models, n_counts)`` (units of the loss)."""
        return self.array("loss")

    @property
    def floor(self) -> np.ndarray:
        """The floor per model (it depends on the data and the encoding dim only), ``(n_models,)``."""
        return self.array("floor")[:, 0]

    @property
    def excess(self) -> np.ndarray:
        """Loss minus floor per model and count, ``(n_models, n_counts)`` (units of the loss)."""
        return self.array("excess")

    @property
    def relative_gap(self) -> np.ndarray:
        """Excess over floor per model and count, ``(n_models, n_counts)`` (dimensionless).

        Raises a ValueError if a floor is 0 (then only the absolute ``excess`` means anything).
        """
        floor = self.floor
        if np.any(floor <= 0):
            raise ValueError("a floor is 0, so the gap relative to it is undefined; use .excess instead.")
        return self.excess / floor[:, None]


# --- held-out error --------------------------------------------------------------------------------


def _per_row_mse(model: Autoencoder, x: torch.Tensor) -> torch.Tensor:
    """Return the reconstruction MSE per element of each row of ``x`` (float64, on the CPU)."""
    if x.shape[1] != model.n_features:
        raise ValueError(f"x has {x.shape[1]} features but the model expects {model.n_features}.")
    if x.shape[0] < 2:
        raise ValueError("a standard error needs at least 2 rows.")
    param = next(model.parameters())
    recon = model(x.to(device=param.device, dtype=param.dtype)).double().cpu()
    return ((recon - x.double()) ** 2).mean(dim=1)


@torch.no_grad()
def mse_with_error(model: Autoencoder, x: torch.Tensor) -> tuple[float, float]:
    """Return the reconstruction MSE per element of ``model`` on ``x`` and its standard error.

    The rows are taken as independent draws: the standard error is the standard deviation of the
    per-row mean squared error divided by ``sqrt(n_rows)``. Use it on held-out data to tell a
    real difference between two models from sampling noise. Both values are in MSE per element.
    """
    per_row = _per_row_mse(model, as_data_tensor(x))
    return float(per_row.mean()), float(per_row.std() / per_row.shape[0] ** 0.5)


@torch.no_grad()
def paired_mse_difference(model_a: Autoencoder, model_b: Autoencoder, x: torch.Tensor) -> tuple[float, float]:
    """Return ``model_a``'s MSE per element on ``x`` minus ``model_b``'s, and its standard error.

    Both models reconstruct the same rows, so the difference is taken row by row: the standard error
    is the standard deviation of the per-row differences over ``sqrt(n_rows)``. Where the rows that
    are hard for one model are hard for the other too, it is smaller than the standard errors of two
    separate ``mse_with_error`` results combined. Negative: ``model_a`` is better. Both values are in
    MSE per element.
    """
    x = as_data_tensor(x)
    diff = _per_row_mse(model_a, x) - _per_row_mse(model_b, x)
    return float(diff.mean()), float(diff.std() / diff.shape[0] ** 0.5)


# --- the record records/bottleneck_convergence.json --------------------------------------------------

BATCH_SIZE = 50
SCHEDULE = [(1e-2, 60), (1e-3, 40)]  # the chapter's schedule
EXTENSION = [(1e-2, 300), (1e-3, 100), (1e-4, 100)]  # the long continuation of the check
SEEDS = (1, 2, 3, 4, 5)

# name -> (data settings, encoding dim); the chapter builds the same data with the same seeds
CASES: dict[str, tuple[dict, int]] = {
    "iid d=100 k=10": ({"kind": "uniform", "n": 1000, "d": 100, "seed": 0}, 10),
    "iid d=100 k=50": ({"kind": "uniform", "n": 1000, "d": 100, "seed": 0}, 50),
    "iid d=100 k=90": ({"kind": "uniform", "n": 1000, "d": 100, "seed": 0}, 90),
    "iid d=2 k=1": ({"kind": "uniform", "n": 2000, "d": 2, "seed": 0}, 1),
    "rank 3 + noise d=20 k=3": ({"kind": "redundant", "n": 2000, "d": 20, "rank": 3, "noise": 0.1, "seed": 0}, 3),
}


def make_data(settings: Mapping[str, object]) -> torch.Tensor:
    """Return a case's training data from its settings: ``aebook.data.uniform`` or ``aebook.data.redundant`` rows."""
    if settings["kind"] == "uniform":
        return aebook.data.uniform(settings["n"], settings["d"], seed=settings["seed"])
    if settings["kind"] == "redundant":
        return aebook.data.redundant(settings["n"], settings["d"], rank=settings["rank"], noise=settings["noise"],
                                     seed=settings["seed"])
    raise ValueError(f"unknown data kind {settings['kind']!r}; use 'uniform' or 'redundant'.")


def relative_gap(model: Autoencoder, x: torch.Tensor) -> float:
    """Return the model's MSE on ``x`` minus the PCA floor, over the floor (dimensionless)."""
    ev = evaluate(model, x, "mse")
    return ev.excess / ev.floor


def run_convergence(
    cases: Mapping[str, tuple[Mapping[str, object], int]] = CASES,
    seeds: Sequence[int] = SEEDS,
    schedule: Sequence[tuple[float, int]] = SCHEDULE,
    extension: Sequence[tuple[float, int]] = EXTENSION,
    batch_size: int = BATCH_SIZE,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Measure how close the chapter's schedule gets to the PCA floor from other seeds; return the record.

    The chapter trains one linear autoencoder per case (data set, encoding dim ``k``) through
    ``SCHEDULE`` with model seed 0 and asserts that each ends within a relative gap ``delta`` of
    the sample PCA floor of its training data. This trains the same cases from other
    initialisations and batch orders (``seeds``), then keeps training each model through
    ``extension`` (500 more epochs by default) to show that the gap keeps closing: what is left at
    the end of the schedule is optimisation that has not finished, not a different floor. The
    chapter sets each case's ``delta`` to twice the largest gap recorded after the schedule.
    ``log(line)`` (if given) gets one line of results per case.

    Returns:
        An ``aebook.records`` record. Series: ``"<case> s<seed> loss"``, the training MSE per element
        of every epoch of the schedule and then the extension. Results: ``cases``, per case its
        ``data`` settings, ``k``, the PCA ``floor`` (MSE per element) and the relative gaps
        ``gap_after_schedule`` and ``gap_after_extension``, one per seed (dimensionless).
    """
    start = time.perf_counter()
    series: dict[str, list[float]] = {}
    results: dict[str, dict] = {}
    for name, (settings, k) in cases.items():
        x = make_data(settings)
        after, extended = [], []
        for seed in seeds:
            model = Autoencoder(settings["d"], k, seed=seed)
            first = fit_schedule(model, x, "mse", schedule, batch_size=batch_size, seed=seed, progress=False)
            after.append(round(relative_gap(model, x), 6))
            more = fit_schedule(model, x, "mse", extension, batch_size=batch_size, seed=seed + 100, progress=False)
            extended.append(round(relative_gap(model, x), 6))
            series[f"{name} s{seed} loss"] = [*first.loss.tolist(), *more.loss.tolist()]
        results[name] = {"data": dict(settings), "k": k, "floor": round(pca_floor(x, k), 8),
                         "gap_after_schedule": after, "gap_after_extension": extended}
        if log is not None:
            log(f"{name}: relative gap after the schedule {max(after):.4f} (max over seeds), "
                f"after the extension {max(extended):.4f}")
    settings = {"batch_size": batch_size, "schedule": [list(p) for p in schedule],
                "extension": [list(p) for p in extension], "seeds": list(seeds),
                "cases": {name: {"data": dict(d), "k": k} for name, (d, k) in cases.items()}}
    first_seed = list(seeds)[:1]
    check = {"made_by": "book/bottleneck.py:run_convergence",
             "kwargs": {"seeds": first_seed, "schedule": [[schedule[0][0], 1]], "extension": [[extension[0][0], 1]]},
             "values": {n: v[:1] for n, v in series.items() if n.endswith(f" s{first_seed[0]} loss")},
             "rtol": 1e-5}
    return make_record("book/bottleneck.py:run_convergence", settings, series, time.perf_counter() - start, check,
                       {"cases": results})


# --- figures ---------------------------------------------------------------------------------------


def floors_vs_k(
    floors: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    trained: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None = None,
    ax: Axes | None = None,
    logy: bool = True,
    title: str | None = None,
) -> Axes:
    """Plot floors as lines and trained losses as markers against the encoding dim ``k``; return the Axes.

    ``floors`` and ``trained`` map a label to ``(ks, values)``, values in MSE per element.
    """
    ax = ax or new_axes()
    styles = ["-", "--", ":", "-."]
    for i, (label, (ks, values)) in enumerate(floors.items()):
        ax.plot(np.asarray(ks), np.asarray(values), linestyle=styles[i % len(styles)], color=f"C{i}", label=label)
    for j, (label, (ks, values)) in enumerate((trained or {}).items()):
        ax.plot(np.asarray(ks), np.asarray(values), linestyle="none", marker="o", markersize=7,
                markerfacecolor="none", color=f"C{len(floors) + j}", label=label)
    if logy:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return finish_axes(ax, "encoding dim k", "reconstruction MSE per element", title)


def scree(
    spectra: Mapping[str, Sequence[float]],
    lines: Mapping[str, float] | None = None,
    band: tuple[float, float] | None = None,
    band_label: str = "predicted range",
    ax: Axes | None = None,
    logy: bool = True,
    title: str | None = None,
) -> Axes:
    """Scree plot: covariance eigenvalues, largest first, against their index; return the Axes.

    ``lines`` draws labelled horizontal reference values; ``band`` shades a predicted range
    (e.g. the Marchenko-Pastur edges). Eigenvalues are in squared data units (variance).
    """
    ax = ax or new_axes()
    for label, values in spectra.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, marker=".", label=label)
    if band is not None:
        ax.axhspan(band[0], band[1], color="grey", alpha=0.2, label=band_label)
    for i, (label, value) in enumerate((lines or {}).items()):
        ax.axhline(value, color="black", linestyle=["--", ":", "-."][i % 3], linewidth=1, label=label)
    return finish_axes(ax, "principal direction (largest variance first)", "covariance eigenvalue (variance)", title,
                       logy=logy)


def relative_gap_curves(
    epochs: Mapping[str, Sequence[int]],
    gaps: Mapping[str, Sequence[float]],
    tolerances: Mapping[str, float] | None = None,
    phase_ends: Sequence[int] = (),
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Plot ``(loss - floor) / floor`` (dimensionless) against epoch for each label, on a log scale; return the Axes.

    ``tolerances`` draws each label's allowed gap as a dotted line in its colour; ``phase_ends``
    marks the epochs where the learning rate changed.
    """
    ax = ax or new_axes()
    for i, (label, gap) in enumerate(gaps.items()):
        ax.plot(np.asarray(epochs[label]), np.asarray(gap), marker=".", color=f"C{i}", label=label)
        if tolerances and label in tolerances:
            ax.axhline(tolerances[label], color=f"C{i}", linestyle=":", linewidth=1)
    for end in phase_ends:
        ax.axvline(end, color="grey", linestyle="--", linewidth=0.8)
    return finish_axes(ax, "epoch", "(loss - floor) / floor", title, logy=True)


def reconstruction_map(
    x: np.ndarray,
    reconstructions: Mapping[str, np.ndarray],
    ax: Axes | None = None,
    max_points: int = 2000,
    title: str | None = None,
) -> Axes:
    """For 2-D data: draw the data points and where each model sends them (its reconstructions); return the Axes.

    A model with a code of width 1 maps the plane onto a curve; the plot shows that curve.
    Both axes are in data units.
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"reconstruction_map needs 2-D data of shape (n, 2), got shape {x.shape}.")
    ax = ax or new_axes(4.8, 4.6)
    ax.scatter(x[:max_points, 0], x[:max_points, 1], s=3, color="lightgrey", label="data")
    for i, (label, recon) in enumerate(reconstructions.items()):
        recon = np.asarray(recon)
        ax.scatter(recon[:max_points, 0], recon[:max_points, 1], s=4, color=f"C{i}", label=label)
    ax.set_xlabel("feature 1")
    ax.set_ylabel("feature 2")
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small", markerscale=3)
    return ax
