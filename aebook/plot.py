"""Plots shared by the chapters. Every function draws on an Axes and returns it."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from .train import History

LOSS_UNITS = {"mse": "MSE per element", "bce": "BCE (nats per element)", "bce_prob": "BCE (nats per element)"}


def new_axes(width: float = 6.0, height: float = 3.8) -> Axes:
    """Return a fresh Axes of the book's default size."""
    _, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return ax


def loss_curves(
    histories: Mapping[str, History],
    floor: float | None = None,
    floor_label: str = "floor",
    ax: Axes | None = None,
    logy: bool = True,
    title: str | None = None,
) -> Axes:
    """Plot per-epoch training loss for each labelled ``History``, with an optional floor line."""
    ax = ax or new_axes()
    units = "loss"
    for label, history in histories.items():
        epochs = np.arange(1, len(history.loss) + 1)
        ax.plot(epochs, history.loss, label=label)
        units = LOSS_UNITS.get(history.loss_name, units)
    if floor is not None:
        ax.axhline(floor, color="black", linestyle="--", linewidth=1, label=f"{floor_label} = {floor:.4f}")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"training {units}")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    ax.grid(True, which="major", alpha=0.3)
    return ax


def singular_value_plot(values: Mapping[str, np.ndarray], ax: Axes | None = None) -> Axes:
    """Plot sorted singular values (largest first) of several end-to-end maps on a log scale."""
    ax = ax or new_axes()
    for label, s in values.items():
        ax.plot(np.arange(1, len(s) + 1), s, marker=".", label=label)
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="identity (all 1)")
    ax.set_yscale("log")
    ax.set_xlabel("index (largest first)")
    ax.set_ylabel("singular value of end-to-end map")
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    return ax
