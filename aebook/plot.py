"""Plot: the figure helpers that several chapters share. Each draws what it is given on an Axes and returns it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes


class LossSeries(Protocol):
    """Anything with a per-epoch ``loss`` array and the ``loss_name`` it measures (e.g. ``aebook.History``)."""

    loss: np.ndarray
    loss_name: str


LOSS_UNITS = {"mse": "MSE per element", "bce": "BCE (nats per element)", "bce_prob": "BCE (nats per element)"}


def new_axes(width: float = 6.0, height: float = 3.8) -> Axes:
    """Return a fresh Axes of the book's default size."""
    _, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return ax


def finish_axes(ax: Axes, xlabel: str | None, ylabel: str, title: str | None = None, logy: bool = False,
                grid_axis: str = "both", legend: Mapping[str, object] | None = None) -> Axes:
    """Give ``ax`` the book's labels, title, log y scale, legend (``legend``: extra options) and grid; return it."""
    if logy:
        ax.set_yscale("log")
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(**{"fontsize": "small", **(legend or {})})
    ax.grid(True, axis=grid_axis, alpha=0.3)
    return ax


def loss_curves(histories: Mapping[str, LossSeries], floor: float | None = None, floor_label: str = "floor",
                ax: Axes | None = None, logy: bool = True, title: str | None = None) -> Axes:
    """Plot each labelled ``History``'s per-epoch training loss (log y unless ``logy=False``) and an optional floor."""
    ax = ax or new_axes()
    units = "loss"
    for label, history in histories.items():
        epochs = np.arange(1, len(history.loss) + 1)
        ax.plot(epochs, history.loss, label=label)
        units = LOSS_UNITS.get(history.loss_name, units)
    if floor is not None:
        floor_line(ax, floor, floor_label)
    return finish_axes(ax, "epoch", f"training {units}", title, logy=logy)


def floor_line(ax: Axes, floor: float, label: str = "floor", **style: object) -> None:
    """Draw the horizontal dashed line of a floor on ``ax``, labelled with its value."""
    ax.axhline(floor, **{"color": "black", "linestyle": "--", "linewidth": 1, **style}, label=f"{label} = {floor:.4f}")
