"""Plots shared by the chapters. Every function draws on an Axes and returns it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from .bce import LogitSweep, Trace
from .grid import Cell as GridCell
from .models import Autoencoder
from .train import History

LOSS_UNITS = {"mse": "MSE per element", "bce": "BCE (nats per element)", "bce_prob": "BCE (nats per element)"}


def new_axes(width: float = 6.0, height: float = 3.8) -> Axes:
    """Return a fresh Axes of the book's default size."""
    _, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return ax


def finish_axes(
    ax: Axes,
    xlabel: str | None,
    ylabel: str,
    title: str | None = None,
    logy: bool = False,
    grid_axis: str = "both",
    legend: Mapping[str, object] | None = None,
) -> Axes:
    """Give ``ax`` the book's finish and return it: axis labels (with units), an optional title,
    an optional log y scale, a small legend (``legend`` adds or overrides its options) and a
    light grid (on ``grid_axis``).
    """
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
    return finish_axes(ax, "epoch", f"training {units}", title, logy=logy)


def singular_value_plot(values: Mapping[str, np.ndarray], ax: Axes | None = None) -> Axes:
    """Plot sorted singular values (largest first) of several end-to-end maps on a log scale."""
    ax = ax or new_axes()
    for label, s in values.items():
        ax.plot(np.arange(1, len(s) + 1), s, marker=".", label=label)
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="identity (all 1)")
    return finish_axes(ax, "index (largest first)", "singular value of end-to-end map", logy=True)


# --- The BCE chapters (aebook.bce) ---------------------------------------------------------


def bce_traces(traces: Mapping[str, Trace], best_excess: float | None = None) -> np.ndarray:
    """Plot, one panel per labelled ``Trace``, the BCE, its entropy floor, the excess and the MSE per epoch.

    Log scale; the floor and (if given) the best excess a model class can reach are drawn as
    lines. Returns the array of Axes.
    """
    fig, axes = plt.subplots(1, len(traces), figsize=(5.2 * len(traces), 3.8), layout="constrained",
                             sharey=True, squeeze=False)
    for ax, (label, trace) in zip(axes[0], traces.items(), strict=True):
        ax.plot(trace.epoch, trace.loss, color="C0", label="BCE")
        ax.axhline(trace.floor, color="black", linestyle="--", linewidth=1, label="entropy floor")
        ax.plot(trace.epoch, trace.excess, color="C1", label="excess = BCE - floor")
        ax.plot(trace.epoch, trace.mse, color="C2", linestyle=":", label="reconstruction MSE")
        if best_excess is not None:
            ax.axhline(best_excess, color="C1", linestyle="-.", linewidth=1,
                       label=f"best excess of sigmoid(affine) = {best_excess:.5f}")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(f"{label} (floor {trace.floor:.4f})")
        ax.grid(True, which="major", alpha=0.3)
    axes[0, 0].set_ylabel("nats per element (MSE: per element)")
    axes[0, -1].legend(fontsize="small")
    return axes[0]


def sigmoid_fits(
    x: np.ndarray,
    models: Mapping[str, Autoencoder],
    slope: float | None = None,
    bias: float | None = None,
    feature: int = 0,
    n_points: int = 1500,
    ax: Axes | None = None,
) -> Axes:
    """Plot each model's reconstruction of one feature against its target, with the identity line.

    ``x`` are the inputs (also the targets); ``n_points`` of its rows are drawn. With ``slope`` and
    ``bias``, the curve ``sigmoid(slope * t + bias)`` is drawn too.
    """
    import torch

    ax = ax or new_axes(5.0, 4.0)
    rows = torch.as_tensor(x)[:n_points]
    grid = np.linspace(0, 1, 201)
    ax.plot(grid, grid, color="black", linestyle="--", linewidth=1, label="identity p = t")
    if slope is not None and bias is not None:
        ax.plot(grid, 1 / (1 + np.exp(-(slope * grid + bias))), color="gray", linewidth=2,
                label=f"sigmoid({slope:.2f} t {bias:+.2f})")
    for i, (label, model) in enumerate(models.items()):
        with torch.no_grad():
            p = model(rows.to(next(model.parameters()).dtype))[:, feature].double().numpy()
        ax.scatter(rows[:, feature].double().numpy(), p, s=3, color=f"C{i}", alpha=0.5, label=label)
    return finish_axes(ax, f"target t (feature {feature})", "reconstruction p", legend={"markerscale": 3})


def minima_per_target(t: np.ndarray, minima: Mapping[str, np.ndarray], ax: Axes | None = None) -> Axes:
    """Plot, against the target value ``t``, the minimum of each loss over the prediction."""
    ax = ax or new_axes()
    t = np.asarray(t, dtype=np.float64)
    for label, values in minima.items():
        ax.plot(t, np.asarray(values, dtype=np.float64), label=label)
    ax.axhline(0.0, color="black", linewidth=0.8)
    return finish_axes(ax, "target t", "minimum loss per element (nats; MSE: per element)")


def logit_sweeps(sweeps: Sequence[LogitSweep], threshold: float | None = None) -> np.ndarray:
    """Plot, for each ``LogitSweep`` (one column per target), the loss and gradient size of both BCE forms.

    Top row: loss per element in nats; bottom row: the absolute gradient with respect to the
    logit; both on a log scale, float32 forms against the float64 truth. Where a form's float32
    value is exactly 0 its curve has a gap (log scale) and the region is shaded in its colour.
    ``threshold`` draws the logit above which float32 ``sigmoid`` returns exactly 1.0. Returns the
    2 x n array of Axes.
    """
    names = {"bce": "logit scale (float32)", "bce_prob": "probability scale (float32)"}
    fig, axes = plt.subplots(2, len(sweeps), figsize=(5.4 * len(sweeps), 6.8), layout="constrained",
                             sharex=True, squeeze=False)
    for col, sweep in enumerate(sweeps):
        z = sweep.logits
        rows = ((axes[0, col], sweep.true_loss, sweep.loss), (axes[1, col], sweep.true_grad, sweep.grad))
        for ax, truth, values in rows:
            ax.plot(z, np.abs(truth), color="black", linewidth=3, alpha=0.3, label="true (float64)")
            for i, (name, label) in enumerate(names.items()):
                v = np.abs(values[name])
                ax.plot(z, np.where(v > 0, v, np.nan), color=f"C{i}", linestyle="-" if i == 0 else "--", label=label)
                if (v == 0).any():
                    ax.fill_between(z, 0, 1, where=v == 0, transform=ax.get_xaxis_transform(), color=f"C{i}",
                                    alpha=0.15, label=f"{label} exactly 0")
            ax.set_yscale("log")
            ax.grid(True, which="major", alpha=0.3)
            if threshold is not None:
                ax.axvline(threshold, color="gray", linestyle=":", linewidth=1, label="float32 sigmoid = 1 from here")
        axes[0, col].set_title(f"target t = {sweep.target:g}")
        axes[0, col].set_ylabel("loss per element (nats)")
        axes[1, col].set_ylabel("|d loss / d logit|")
        axes[1, col].set_xlabel("logit z")
    handles: dict[str, object] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncol=3, fontsize="small")
    return axes


def reported_vs_true(traces: Mapping[str, Trace], wall: float | None = None, ax: Axes | None = None) -> Axes:
    """Plot per epoch, for each labelled ``Trace``, the loss training reported and the true loss.

    Reported: ``trace.reported`` (dashed); true: ``trace.loss`` (solid, float64 when the trace is
    exact). ``wall`` draws the loss at which the float32 gradient of the target-1 elements vanishes.
    """
    ax = ax or new_axes()
    for i, (label, trace) in enumerate(traces.items()):
        ax.plot(trace.epoch, trace.loss, color=f"C{i}", label=f"{label}: true loss (float64)")
        reported = np.where(trace.reported > 0, trace.reported, np.nan)
        ax.plot(trace.epoch, reported, color=f"C{i}", linestyle="--", label=f"{label}: reported in training")
    if wall is not None:
        ax.axhline(wall, color="black", linestyle=":", linewidth=1, label=f"float32 gradient wall = {wall:.3g}")
    return finish_axes(ax, "epoch", "BCE (nats per element)", logy=True)


# --- The deep leaky-ReLU grid (aebook.grid) --------------------------------------------------

_CELL_COLOURS = {("mse", "uniform"): "C0", ("mse", "bernoulli"): "C1", ("bce", "uniform"): "C2",
                 ("bce", "bernoulli"): "C3"}
_ARCH_STYLES = {"linear": ("--", "s"), "leaky_relu": ("-", "o"), "relu": (":", "^")}
_CELL_STYLES = {("mse", "uniform"): "-", ("mse", "bernoulli"): "--", ("bce", "uniform"): ":",
                ("bce", "bernoulli"): "-."}


def grid_excess_curves(cells: Sequence[GridCell], ax: Axes | None = None, title: str | None = None) -> Axes:
    """Plot each grid cell's training loss minus its floor per epoch: median over seeds, min-max band.

    The colour is the (loss, data) cell, the line style the architecture. The y axis is in the
    loss's own units (MSE per element, or nats per element for BCE), on a log scale.
    """
    ax = ax or new_axes()
    for cell in cells:
        curves = np.clip(cell.curves, 1e-12, None)  # >= 0 in exact arithmetic; clip float32 round-off for the log
        epochs = np.arange(1, curves.shape[1] + 1)
        colour = _CELL_COLOURS.get((cell.loss, cell.data), "C7")
        style = _ARCH_STYLES.get(cell.architecture, ("-", "o"))[0]
        ax.plot(epochs, np.median(curves, axis=0), color=colour, linestyle=style,
                label=f"{cell.label}, {cell.architecture}")
        if curves.shape[0] > 1:
            ax.fill_between(epochs, curves.min(axis=0), curves.max(axis=0), color=colour, alpha=0.12, linewidth=0)
    return finish_axes(ax, "epoch", "training loss − floor\n(MSE per element, or nats per element)", title,
                       logy=True, legend={"fontsize": "x-small", "ncol": 2})


def grid_strip(cells: Sequence[GridCell], value: str = "excess", ax: Axes | None = None,
               title: str | None = None) -> Axes:
    """Plot one value per seed for every grid cell, grouped by (loss, data), one marker per architecture.

    ``value`` is ``"excess"`` (final loss minus floor, in the loss's units) or ``"mse"``
    (reconstruction MSE per element, comparable across losses). Log scale.
    """
    if value not in ("excess", "mse"):
        raise ValueError(f"value must be 'excess' or 'mse', got {value!r}.")
    ax = ax or new_axes()
    groups = list(dict.fromkeys((c.loss, c.data) for c in cells))
    archs = list(dict.fromkeys(c.architecture for c in cells))
    width = 0.7 / max(len(archs), 1)
    for cell in cells:
        g, a = groups.index((cell.loss, cell.data)), archs.index(cell.architecture)
        values = np.clip(getattr(cell, value), 1e-12, None)
        xs = g - 0.35 + width * (a + 0.5) + np.linspace(-0.25, 0.25, len(values)) * width
        marker = _ARCH_STYLES.get(cell.architecture, ("-", "o"))[1]
        ax.scatter(xs, values, marker=marker, color=f"C{a}", s=22, label=cell.architecture if g == 0 else None)
    ax.set_xticks(range(len(groups)), [f"{loss.upper()} / {data}" for loss, data in groups])
    ylabel = "final loss − floor\n(MSE or nats per element)" if value == "excess" else "reconstruction MSE per element"
    return finish_axes(ax, None, ylabel, title, logy=True, grid_axis="y",
                       legend={"title": "architecture", "title_fontsize": "small"})


def dead_unit_curves(cells: Sequence[GridCell], ax: Axes | None = None, title: str | None = None) -> Axes:
    """Plot the fraction of dead units per epoch (epoch 0 = initialisation), one line per seed.

    Only cells trained with ``track_dead_units=True`` are drawn; the colour is the architecture.
    For leaky ReLU the count is of units that never fire positive ("would be dead under ReLU").
    The line style is the (loss, data) cell.
    """
    ax = ax or new_axes()
    drawn = [c for c in cells if c.dead is not None]
    if not drawn:
        raise ValueError("no cell has dead-unit counts; run the grid with track_dead_units=True.")
    archs = list(dict.fromkeys(c.architecture for c in drawn))
    for cell in drawn:
        colour = f"C{archs.index(cell.architecture)}"
        style = _CELL_STYLES.get((cell.loss, cell.data), "-")
        for i, fraction in enumerate(cell.dead.fraction):
            ax.plot(cell.dead.epochs, 100 * fraction, color=colour, linestyle=style, alpha=0.7, linewidth=1,
                    label=f"{cell.architecture}, {cell.label}" if i == 0 else None)
    return finish_axes(ax, "epoch (0 = initialisation)", "units that never fire (% of hidden units)", title,
                       legend={"fontsize": "x-small"})


def grid_panels(draw: Callable[..., Axes], panels: Mapping[str, Sequence[GridCell]], width: float = 5.5,
                height: float = 4.0, **kwargs: object) -> np.ndarray:
    """Draw ``draw(cells, ax=..., title=...)`` once per entry of ``panels``, side by side; return the Axes.

    ``draw`` is one of ``grid_excess_curves``, ``grid_strip`` or ``dead_unit_curves``; the keys of
    ``panels`` become the panel titles (e.g. ``{"d = 2": small, "d = 100": large}``).
    """
    if not panels:
        raise ValueError("grid_panels needs at least one panel, e.g. {'d = 2': cells}.")
    _, axes = plt.subplots(1, len(panels), figsize=(width * len(panels), height), layout="constrained",
                           squeeze=False)
    for ax, (title, cells) in zip(axes[0], panels.items(), strict=True):
        draw(cells, ax=ax, title=title, **kwargs)
    return axes[0]


# --- bottlenecks, spectra, dead units (chapters bottleneck and original_question) ---


def floors_vs_k(
    floors: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    trained: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None = None,
    ax: Axes | None = None,
    logy: bool = True,
    title: str | None = None,
) -> Axes:
    """Plot floors as lines and trained losses as markers against the encoding dim ``k``.

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
    """Scree plot: covariance eigenvalues, largest first, against their index.

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
    """Plot ``(loss - floor) / floor`` against epoch for each label, on a log scale.

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


def dead_units_over_training(
    epochs: Sequence[int],
    totals: Mapping[str, Sequence[int]],
    units: int,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Plot the number of dead units against epoch (0 = at initialisation) for each label.

    ``units`` is the number of units in all activation layers; it sets the right-hand axis in %.
    """
    ax = ax or new_axes()
    for label, total in totals.items():
        ax.plot(np.asarray(epochs), np.asarray(total), marker=".", label=label)
    ax.set_ylim(bottom=0)
    right = ax.secondary_yaxis("right", functions=(lambda v: 100 * v / units, lambda p: p * units / 100))
    right.set_ylabel("dead units (%)")
    return finish_axes(ax, "epoch (0 = initialisation)", f"dead units (of {units})", title)


def reconstruction_map(
    x: np.ndarray,
    reconstructions: Mapping[str, np.ndarray],
    ax: Axes | None = None,
    max_points: int = 2000,
    title: str | None = None,
) -> Axes:
    """For 2-D data: draw the data points and where each model sends them (its reconstructions).

    A model with a code of width 1 maps the plane onto a curve; the plot shows that curve.
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


def excess_curves(
    excess: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Plot per-epoch training loss minus its floor for each label, on a log scale.

    Values are in the units of each run's loss (nats per element for BCE, MSE per element for
    MSE); put the loss in the label when runs with different losses share the plot.
    """
    ax = ax or new_axes()
    for label, values in excess.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
    return finish_axes(ax, "epoch", "training loss − floor\n(nats per element for BCE, MSE per element)", title,
                       logy=True)
