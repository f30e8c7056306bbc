"""Chapter "Back to the question" (original_question.ipynb): the reader's model, its figures and its full-scale record.

* ``readers_model`` builds the reader's Keras autoencoder with ``aebook``.
* ``run_full_scale`` makes the record ``records/original_question_full.json``
  (``python records/make.py original_question_full``): the chapter's models at the reader's
  scale, 30,000 rows of ``U(0, 1)`` data, 100 features, 50 epochs.
* The figures ``dead_units_over_training`` and ``excess_curves`` draw what they are given and
  never train.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from matplotlib.axes import Axes

import aebook
from aebook import Autoencoder, DeadUnitTracker, History
from aebook.data import check_positive_int
from aebook.plot import finish_axes, new_axes

__all__ = ["BATCH_SIZE", "LR", "N_FEATURES", "N_ROWS", "dead_units_over_training", "excess_curves",
           "readers_model", "run_full_scale"]

N_ROWS, N_FEATURES, BATCH_SIZE, LR = 30_000, 100, 32, 1e-3  # the reader's data; Keras's defaults


def readers_model(activation: str = "relu", init: str = "glorot", output: str = "sigmoid") -> Autoencoder:
    """Return the reader's architecture, seeded: 3 encoder layers of width 100 (code included), 2 decoder layers
    and an output layer, with ``activation`` between them and Keras's initialisation by default."""
    return aebook.Autoencoder(N_FEATURES, N_FEATURES, hidden=(N_FEATURES, N_FEATURES), activation=activation,
                              output=output, init=init, seed=0)


# --- the record records/original_question_full.json -------------------------------------------------


def _summary(model: Autoencoder, history: History, x: torch.Tensor, tracker: DeadUnitTracker | None,
             member: int) -> dict:
    ev = aebook.evaluate(model, x, history.loss_name)
    out = {
        "loss_per_epoch": [round(float(v), 6) for v in history.loss],
        "loss": round(ev.loss, 6), "floor": round(ev.floor, 6), "excess": round(ev.excess, 6),
        "mse": round(ev.mse, 6), "seconds": round(history.seconds, 1), "device": history.device,
    }
    if tracker is not None:
        out["dead_epochs"] = tracker.epochs
        out["dead_total"] = [int(v) for v in tracker.total[member]]
        out["dead_final_per_layer"] = [int(v) for v in tracker.dead[member, -1]]
        out["width"] = list(tracker.width)
    return out


def run_full_scale(
    epochs: int = 50,
    n_rows: int = N_ROWS,
    log: Callable[[str], None] | None = None,
    save: Callable[[dict], None] | None = None,
) -> dict:
    """Train the chapter's five models at the reader's scale and return the record.

    The chapter runs the same models at a size that executes in well under a minute on two CPU
    cores; this runs them on ``n_rows`` rows of ``U(0, 1)`` data with 100 features for ``epochs``
    epochs (the recorded run: 30,000 rows, 50 epochs; minutes on an idle 2-core CPU, much less on
    a GPU). Every model is seeded, so a rerun on the same machine and torch version gives the same
    numbers. ``log(line)`` (if given) gets a line of results per model; ``save(record)`` (if given)
    is called with the record so far after each group of models, so a long run that stops keeps
    what it finished.

    Returns:
        The record (a JSON-ready dict): ``made_by``, ``settings``, ``torch``, ``machine`` and, per
        model, the per-epoch training loss, the final loss, floor and excess (nats per element for
        BCE, MSE per element for MSE), the reconstruction MSE, seconds and device, and for ReLU
        models the dead-unit counts per epoch (epoch 0 = initialisation).
    """
    epochs = check_positive_int(epochs, "epochs")
    n_rows = check_positive_int(n_rows, "n_rows")
    x = aebook.data.uniform(n_rows, N_FEATURES, seed=0)
    record: dict = {
        "made_by": "book/original_question.py:run_full_scale",
        "settings": {"n_rows": n_rows, "n_features": N_FEATURES, "batch_size": BATCH_SIZE, "lr": LR,
                     "epochs": epochs, "data_seed": 0, "model_seed": 0, "fit_seed": 0},
        "torch": torch.__version__, "machine": platform.machine(), "models": {},
    }
    fit = {"lr": LR, "batch_size": BATCH_SIZE, "epochs": epochs}
    runs = [
        ("relu, Glorot init (the reader's)", ["relu glorot", "relu pytorch"], "bce",
         [readers_model(), readers_model(init="pytorch")]),
        ("leaky ReLU", ["leaky_relu glorot"], "bce", [readers_model("leaky_relu")]),
        ("linear, sigmoid, BCE", ["linear glorot bce"], "bce", [readers_model("linear")]),
        ("linear, linear output, MSE", ["linear glorot mse"], "mse", [readers_model("linear", output="linear")]),
    ]
    for title, names, loss, models in runs:
        start = time.perf_counter()
        tracker = DeadUnitTracker(x, models) if models[0].activation != "linear" else None
        histories = aebook.fit_many(models, x, loss=loss, seeds=[0] * len(models), on_epoch=tracker, **fit)
        for member, (name, model, history) in enumerate(zip(names, models, histories, strict=True)):
            record["models"][name] = _summary(model, history, x, tracker, member)
            if log is not None:
                r = record["models"][name]
                log(f"{name:20s} loss {r['loss']:.4f} excess {r['excess']:.4f} mse {r['mse']:.4f}")
        if log is not None:
            log(f"  ({title}: {time.perf_counter() - start:.0f} s)")
        if save is not None:
            save(record)
    return record


# --- figures ---------------------------------------------------------------------------------------


def dead_units_over_training(
    epochs: Sequence[int],
    totals: Mapping[str, Sequence[int]],
    units: int,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Plot the number of dead units against epoch (0 = at initialisation) for each label; return the Axes.

    ``units`` is the number of units in all activation layers; it sets the right-hand axis in %.
    """
    ax = ax or new_axes()
    for label, total in totals.items():
        ax.plot(np.asarray(epochs), np.asarray(total), marker=".", label=label)
    ax.set_ylim(bottom=0)
    right = ax.secondary_yaxis("right", functions=(lambda v: 100 * v / units, lambda p: p * units / 100))
    right.set_ylabel("dead units (%)")
    return finish_axes(ax, "epoch (0 = initialisation)", f"dead units (of {units})", title)


def excess_curves(
    excess: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Plot per-epoch training loss minus its floor for each label, on a log scale; return the Axes.

    Values are in the units of each run's loss (nats per element for BCE, MSE per element for
    MSE); put the loss in the label when runs with different losses share the plot.
    """
    ax = ax or new_axes()
    for label, values in excess.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
    return finish_axes(ax, "epoch", "training loss − floor\n(nats per element for BCE, MSE per element)", title,
                       logy=True)
