"""Chapter "Deep leaky-ReLU models" (deep_grid.ipynb): the loss x data grid, its table and its figures.

The grid is {MSE, BCE} x {uniform, Bernoulli}, several seeds per cell, in one call. ``run_grid``
trains every cell with ``aebook.fit_many`` (all seeds of a cell in one batched pass) and returns
one ``Cell`` per (architecture, loss, data set). Each cell keeps its models, their histories and
their ``aebook.evaluate`` results, so the chapter can put every cell on one "loss minus its floor"
scale and compare reconstruction MSE across losses::

    cells = run_grid(2, ["leaky_relu", "linear"], epochs=100, seeds=range(4))
    markdown_table(cells)          # final loss, floor, excess and reconstruction MSE per cell

Architectures are named: ``"linear"`` is ``d -> d -> d`` with no activation; ``"relu"`` and
``"leaky_relu"`` have three hidden layers of width ``d`` (``d -> d -> d -> d -> d``, the code
layer in the middle), so none of them has a bottleneck. All have a sigmoid output, so the only
difference between the MSE and BCE cells is the loss.

The figures (``grid_excess_curves``, ``grid_strip``, ``dead_unit_curves``, side by side with
``grid_panels``) draw what a grid gives them and never train.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

from aebook import Autoencoder, DeadUnitTracker, Evaluation, History, evaluate, fit_many, notebook
from aebook import data as _data
from aebook.losses import check_loss_name
from aebook.models import ACTIVATIONS
from aebook.plot import finish_axes, new_axes
from aebook.records import make_record

DATASETS: dict[str, Callable[..., torch.Tensor]] = {"uniform": _data.uniform, "bernoulli": _data.bernoulli}
ARCHITECTURES = ACTIVATIONS  # "linear", "relu", "leaky_relu"


def make_data(name: str, n_samples: int, n_features: int, seed: int = 0) -> torch.Tensor:
    """Return ``n_samples`` rows of data set ``name`` (``"uniform"`` or ``"bernoulli"``, p = 1/2)."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(map(repr, DATASETS))}.")
    return DATASETS[name](n_samples, n_features, seed=seed)


def build_model(architecture: str, n_features: int, seed: int, init: str = "pytorch") -> Autoencoder:
    """Return the grid's autoencoder for ``architecture`` at width ``n_features`` (sigmoid output).

    ``"linear"``: no hidden layer, linear code of width ``n_features``. ``"relu"`` /
    ``"leaky_relu"``: three hidden layers of width ``n_features`` with that activation.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {architecture!r}; choose one of {', '.join(map(repr, ARCHITECTURES))}."
        )
    hidden = () if architecture == "linear" else (n_features,)
    return Autoencoder(n_features, n_features, hidden=hidden, activation=architecture, output="sigmoid",
                       seed=seed, init=init)


_CELL_ORDER = [(a, loss, d) for a in ARCHITECTURES for loss in ("mse", "bce") for d in DATASETS]


def cell_seed(architecture: str, loss: str, data: str, seed: int) -> int:
    """Return the torch seed of run ``seed`` in cell (architecture, loss, data): ``1000 * cell index + seed``.

    Every cell of the grid gets its own seeds (for ``seed < 1000``), so no two runs of the grid
    share an initialisation or a batch order: the runs of different cells are independent.
    """
    if (architecture, loss, data) not in _CELL_ORDER:
        raise ValueError(f"no grid cell ({architecture}, {loss}, {data}); architectures {ARCHITECTURES}, "
                         f"losses ('mse', 'bce'), data sets {tuple(DATASETS)}.")
    if not 0 <= int(seed) < 1000:
        raise ValueError(f"grid seeds must lie in 0..999 so that cells never share one; got {seed}.")
    return 1000 * _CELL_ORDER.index((architecture, loss, data)) + int(seed)


@dataclass
class Cell:
    """One cell of the grid: K seeds of one architecture trained with one loss on one data set.

    Attributes:
        architecture: ``"linear"``, ``"relu"`` or ``"leaky_relu"``.
        loss: the loss that was minimised (``"mse"`` or ``"bce"``).
        data: the data set's name (``"uniform"`` or ``"bernoulli"``).
        x: the training data (the models are evaluated on it too).
        models: the trained models, one per seed.
        histories: their training histories.
        evaluations: ``aebook.evaluate(model, x, loss)`` for each model.
        dead: the dead-unit counts per epoch (``aebook.DeadUnitTracker``) when the grid was run
            with ``track_dead_units=True`` and the architecture has activations, else None.
    """

    architecture: str
    loss: str
    data: str
    x: torch.Tensor
    models: list[Autoencoder]
    histories: list[History]
    evaluations: list[Evaluation]
    dead: DeadUnitTracker | None = None

    @property
    def n_features(self) -> int:
        """Width of the data."""
        return int(self.x.shape[1])

    @property
    def n_elements(self) -> int:
        """Rows times features of the data the cell was trained and evaluated on."""
        return int(self.x.numel())

    @property
    def label(self) -> str:
        """A short name of the cell, e.g. ``"BCE / uniform"``."""
        return f"{self.loss.upper()} / {self.data}"

    @property
    def floor(self) -> float:
        """The floor under this cell's loss on its data (the same for every seed)."""
        return self.evaluations[0].floor

    @property
    def loss_values(self) -> np.ndarray:
        """Final loss of each seed on the whole data (MSE per element or nats per element)."""
        return np.array([e.loss for e in self.evaluations])

    @property
    def excess(self) -> np.ndarray:
        """Final loss minus the floor, per seed (same units as the loss)."""
        return np.array([e.excess for e in self.evaluations])

    @property
    def mse(self) -> np.ndarray:
        """Reconstruction MSE per element of each seed, whatever loss it was trained with."""
        return np.array([e.mse for e in self.evaluations])

    @property
    def curves(self) -> np.ndarray:
        """Per-epoch training loss minus the floor, shape ``(K, epochs)``.

        An epoch visits every row once, so the epoch's mean loss minus the floor of the whole
        data is the mean excess during that epoch: never negative, for BCE as for MSE.
        """
        return np.stack([h.loss for h in self.histories]) - self.floor


def run_grid(
    n_features: int,
    architectures: Sequence[str] = ("leaky_relu",),
    losses: Sequence[str] = ("mse", "bce"),
    datasets: Sequence[str] = ("uniform", "bernoulli"),
    seeds: Iterable[int] = (0, 1, 2, 3),
    n_samples: int = 1024,
    epochs: int = 100,
    lr: float = 3e-3,
    batch_size: int = 128,
    data_seed: int = 0,
    init: str = "pytorch",
    device: str | torch.device | None = None,
    progress: bool | None = None,
    track_dead_units: bool = False,
) -> list[Cell]:
    """Train every (architecture, loss, data set) cell with one ``fit_many`` call per cell.

    Seed ``s`` of a cell becomes ``cell_seed(architecture, loss, data, s)``, which fixes both the
    model's initialisation and its batch order and differs from cell to cell: every
    (architecture, loss, data set, seed) is an independent run. Each data set is drawn once
    (``data_seed``) and shared by the cells that use it. With ``track_dead_units``, the dead
    units of every ReLU / leaky-ReLU model are counted before training and after each epoch.

    Returns:
        One ``Cell`` per combination, in the order architecture, loss, data set.

    Raises:
        ValueError: for an unknown architecture, loss or data set, no seeds, or any input
            ``fit_many`` refuses.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("run_grid needs at least one seed, e.g. seeds=range(4).")
    for loss in losses:
        check_loss_name(loss, "sigmoid")
    for architecture in architectures:
        if architecture not in ARCHITECTURES:
            raise ValueError(
                f"unknown architecture {architecture!r}; choose one of {', '.join(map(repr, ARCHITECTURES))}."
            )
    if not architectures or not losses or not datasets:
        raise ValueError("run_grid needs at least one architecture, one loss and one data set.")
    data = {name: make_data(name, n_samples, n_features, seed=data_seed) for name in datasets}
    cells = []
    for architecture in architectures:
        for loss in losses:
            for name, x in data.items():
                own = [cell_seed(architecture, loss, name, s) for s in seeds]
                models = [build_model(architecture, n_features, seed=s, init=init) for s in own]
                tracker = DeadUnitTracker(x, models) if track_dead_units and architecture != "linear" else None
                histories = fit_many(models, x, loss=loss, lr=lr, batch_size=batch_size, epochs=epochs,
                                     seeds=own, device=device, progress=progress, on_epoch=tracker)
                evaluations = [evaluate(m, x, loss) for m in models]
                cells.append(Cell(architecture, loss, name, x, models, histories, evaluations, tracker))
    return cells


# --- the grid at the reader's scale: records/deep_grid_<architecture>.json -------------------------

#: The record's fixed budget and settings, chosen before the runs: the reader's 30,000 rows of 100
#: features, Adam at Keras's default learning rate, 100 epochs of 235 steps.
READER_SCALE = {"n_features": 100, "n_samples": 30_000, "epochs": 100, "lr": 1e-3, "batch_size": 128,
                "init": "glorot", "seeds": 5}


def run_reader_scale(architecture: str, epochs: int = READER_SCALE["epochs"], n_seeds: int = READER_SCALE["seeds"],
                     n_samples: int = READER_SCALE["n_samples"], log: Callable[[str], None] | None = None) -> dict:
    """Run the grid for one architecture at the reader's scale (``READER_SCALE``); return the record.

    ``"linear"`` and ``"leaky_relu"`` run all four (loss, data) cells, ``"relu"`` the uniform data
    only (the original question's), ``n_seeds`` independent runs per cell (``cell_seed``). Series
    per run ``"<loss> <data> s<seed>"``: ``"... loss"`` (per epoch, in the loss's units) and, for
    ReLU and leaky ReLU, ``"... dead"`` (units that never fire, epoch 0 first). Results per run:
    the final loss, floor, excess and reconstruction MSE on the whole data (``aebook.evaluate``),
    and the dead units per layer at the end.
    """
    start = time.perf_counter()
    datasets = ["uniform"] if architecture == "relu" else list(DATASETS)
    cells = run_grid(READER_SCALE["n_features"], [architecture], datasets=datasets, seeds=range(n_seeds),
                     n_samples=n_samples, epochs=epochs, lr=READER_SCALE["lr"],
                     batch_size=READER_SCALE["batch_size"], init=READER_SCALE["init"], progress=False,
                     track_dead_units=architecture != "linear")
    series: dict[str, list] = {}
    results: dict[str, dict] = {}
    for cell in cells:
        for i, (h, ev) in enumerate(zip(cell.histories, cell.evaluations, strict=True)):
            name = f"{cell.loss} {cell.data} s{i}"
            series[f"{name} loss"] = h.loss.tolist()
            results[name] = {"seed": cell_seed(architecture, cell.loss, cell.data, i), "loss": ev.loss,
                             "floor": ev.floor, "excess": ev.excess, "mse": ev.mse}
            if cell.dead is not None:
                series[f"{name} dead"] = cell.dead.total[i].tolist()
                results[name]["dead_per_layer"] = [int(v) for v in cell.dead.dead[i, -1]]
                results[name]["layer_widths"] = list(cell.dead.width)
        if log is not None:
            log(f"{architecture} {cell.label}: median excess {np.median(cell.excess):.3g}, "
                f"MSE {np.median(cell.mse):.3g} ({time.perf_counter() - start:.0f} s so far)")
    settings = {**READER_SCALE, "architecture": architecture, "datasets": datasets, "losses": ["mse", "bce"],
                "epochs": epochs, "seeds": n_seeds, "n_samples": n_samples, "data_seed": 0,
                "seed_rule": "cell_seed(architecture, loss, data, s) = 1000 * cell index + s"}
    made_by = "book/deep_grid.py:run_reader_scale"
    check = {"made_by": made_by, "kwargs": {"architecture": architecture, "epochs": 1, "n_seeds": n_seeds},
             "values": {k: v[:1] for k, v in series.items() if k.endswith("loss")}, "rtol": 1e-5}
    return make_record(made_by, settings, series, time.perf_counter() - start, check, results)


@dataclass
class RecordedDeadUnits:
    """Dead-unit counts read from a record, with the attributes of ``DeadUnitTracker`` the figures use."""

    epochs: np.ndarray  # epochs counted, 0 = initialisation
    total: np.ndarray  # (runs, epochs counted): units that never fire, all layers together
    width: tuple[int, ...]  # units per activation layer

    @property
    def fraction(self) -> np.ndarray:
        """``total`` as a fraction of each model's hidden units."""
        return self.total / sum(self.width)


@dataclass
class RecordedCell:
    """One grid cell read from a reader-scale record: the values ``Cell`` offers, without the models.

    Works with ``table_rows``, ``html_table``, ``grid_excess_curves``, ``grid_strip``,
    ``dead_unit_curves`` (and ``aebook.evaluate.fully_above``) like a ``Cell``.
    """

    architecture: str
    loss: str
    data: str
    n_features: int
    n_samples: int
    loss_values: np.ndarray  # final loss per run on the whole data (MSE or nats per element)
    floor: float
    excess: np.ndarray
    mse: np.ndarray  # reconstruction MSE per element, per run
    curves: np.ndarray  # (runs, epochs): per-epoch training loss minus the floor
    seeds: list[int]
    dead: RecordedDeadUnits | None = None

    @property
    def label(self) -> str:
        """A short name of the cell, e.g. ``"BCE / uniform"``."""
        return f"{self.loss.upper()} / {self.data}"

    @property
    def n_elements(self) -> int:
        """Rows times features of the data the cell was trained and evaluated on."""
        return self.n_samples * self.n_features


def cells_from_record(record: Mapping) -> list[RecordedCell]:
    """Return the cells of a ``run_reader_scale`` record, in the order loss, data set."""
    settings, series, results = record["settings"], record["series"], record["results"]
    cells = []
    for loss in settings["losses"]:
        for data in settings["datasets"]:
            names = [f"{loss} {data} s{i}" for i in range(settings["seeds"])]
            runs = [results[n] for n in names]
            floor = runs[0]["floor"]
            dead = None
            if f"{names[0]} dead" in series:
                total = np.array([series[f"{n} dead"] for n in names], dtype=float)
                dead = RecordedDeadUnits(np.arange(total.shape[1]), total, tuple(runs[0]["layer_widths"]))
            cells.append(RecordedCell(
                settings["architecture"], loss, data, settings["n_features"], settings["n_samples"],
                np.array([r["loss"] for r in runs]), floor, np.array([r["excess"] for r in runs]),
                np.array([r["mse"] for r in runs]), np.array([series[f"{n} loss"] for n in names]) - floor,
                [r["seed"] for r in runs], dead))
    return cells


def find(cells: Sequence[Cell], architecture: str, loss: str, data: str) -> Cell:
    """Return the cell of ``cells`` with this architecture, loss and data set."""
    for cell in cells:
        if (cell.architecture, cell.loss, cell.data) == (architecture, loss, data):
            return cell
    have = ", ".join(f"({c.architecture}, {c.loss}, {c.data})" for c in cells)
    raise ValueError(f"no cell ({architecture}, {loss}, {data}) in the grid; it has {have}.")


# --- The table of the grid ---------------------------------------------------------------------

TABLE_HEADER = ("d", "architecture", "loss / data", "final loss", "floor", "loss − floor", "reconstruction MSE")
_MARKDOWN_ALIGN = "| ---: | --- | --- | --- | ---: | --- | --- |"


def _span(values: np.ndarray, fmt: str) -> str:
    med = float(np.median(values))
    if len(values) == 1:
        return format(med, fmt)
    return f"{format(med, fmt)} [{format(float(values.min()), fmt)}, {format(float(values.max()), fmt)}]"


def table_rows(cells: Sequence[Cell], fmt: str = ".3g") -> list[tuple[str, ...]]:
    """Return the grid table's body: per cell, the texts of the columns of ``TABLE_HEADER``.

    Loss, excess and MSE columns are the median [min, max] over seeds (``fmt`` formats each number);
    losses are in MSE per element or nats per element (BCE), the floor has 4 decimals, and the
    reconstruction MSE is always MSE per element, so its column compares cells trained with
    different losses.
    """
    if not cells:
        raise ValueError("the grid table needs at least one cell; pass the list run_grid returned.")
    return [
        (str(c.n_features), c.architecture, c.label, _span(c.loss_values, fmt), f"{c.floor:.4f}",
         _span(c.excess, fmt), _span(c.mse, fmt))
        for c in cells
    ]


def markdown_table(cells: Sequence[Cell], fmt: str = ".3g") -> str:
    """Return the grid table (see ``table_rows``) as Markdown, one line per cell under a header."""
    lines = ["| " + " | ".join(TABLE_HEADER) + " |", _MARKDOWN_ALIGN]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(cells, fmt)]
    return "\n".join(lines)


def html_table(cells: Sequence[Cell], fmt: str = ".3g") -> str:
    """Return the grid table (see ``table_rows``) as an HTML ``<table>``, for notebook display
    (same columns, texts and units as ``markdown_table``)."""
    return notebook.html_table(TABLE_HEADER, table_rows(cells, fmt))


# --- The figures ---------------------------------------------------------------------------------

_CELL_COLOURS = {("mse", "uniform"): "C0", ("mse", "bernoulli"): "C1", ("bce", "uniform"): "C2",
                 ("bce", "bernoulli"): "C3"}
_ARCH_STYLES = {"linear": ("--", "s"), "leaky_relu": ("-", "o"), "relu": (":", "^")}
_CELL_STYLES = {("mse", "uniform"): "-", ("mse", "bernoulli"): "--", ("bce", "uniform"): ":",
                ("bce", "bernoulli"): "-."}


def grid_excess_curves(cells: Sequence[Cell], ax: Axes | None = None, title: str | None = None) -> Axes:
    """Plot each grid cell's training loss minus its floor per epoch: median over seeds, min-max band.

    The colour is the (loss, data) cell, the line style the architecture. The y axis is in the
    loss's own units (MSE per element, or nats per element for BCE), on a log scale. Returns the Axes.
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


def grid_strip(cells: Sequence[Cell], value: str = "excess", ax: Axes | None = None,
               title: str | None = None) -> Axes:
    """Plot one value per seed for every grid cell, grouped by (loss, data), one marker per architecture.

    ``value`` is ``"excess"`` (final loss minus floor, in the loss's units) or ``"mse"``
    (reconstruction MSE per element, comparable across losses). Log scale. Returns the Axes.
    """
    if value not in ("excess", "mse"):
        raise ValueError(f"value must be 'excess' or 'mse', got {value!r}.")
    ax = ax or new_axes()
    groups = list(dict.fromkeys((c.loss, c.data) for c in cells))
    archs = list(dict.fromkeys(c.architecture for c in cells))
    width = 0.7 / max(len(archs), 1)
    for cell in cells:
        g, a = groups.index((cell.loss, cell.data)), archs.index(cell.architecture)
        values = np.clip(getattr(cell, value), 1e-18, None)  # > 0 for a log scale; real values reach ~1e-14
        xs = g - 0.35 + width * (a + 0.5) + np.linspace(-0.25, 0.25, len(values)) * width
        marker = _ARCH_STYLES.get(cell.architecture, ("-", "o"))[1]
        ax.scatter(xs, values, marker=marker, color=f"C{a}", s=22, label=cell.architecture if g == 0 else None)
    ax.set_xticks(range(len(groups)), [f"{loss.upper()} / {data}" for loss, data in groups])
    ylabel = "final loss − floor\n(MSE or nats per element)" if value == "excess" else "reconstruction MSE per element"
    return finish_axes(ax, None, ylabel, title, logy=True, grid_axis="y",
                       legend={"title": "architecture", "title_fontsize": "small"})


def dead_unit_curves(cells: Sequence[Cell], ax: Axes | None = None, title: str | None = None) -> Axes:
    """Plot the percentage of dead units per epoch (epoch 0 = initialisation), one line per seed.

    Only cells trained with ``track_dead_units=True`` are drawn; the colour is the architecture,
    the line style the (loss, data) cell. For leaky ReLU the count is of units that never fire
    positive ("would be dead under ReLU"). Returns the Axes.
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


def grid_panels(draw: Callable[..., Axes], panels: Mapping[str, Sequence[Cell]], width: float = 5.5,
                height: float = 4.0, **kwargs: object) -> np.ndarray:
    """Draw ``draw(cells, ax=..., title=...)`` once per entry of ``panels``, side by side; return the Axes.

    ``draw`` is one of ``grid_excess_curves``, ``grid_strip`` or ``dead_unit_curves``; the keys of
    ``panels`` become the panel titles (e.g. ``{"d = 2": small, "d = 100": large}``). ``width`` and
    ``height`` are one panel's size in inches.
    """
    if not panels:
        raise ValueError("grid_panels needs at least one panel, e.g. {'d = 2': cells}.")
    _, axes = plt.subplots(1, len(panels), figsize=(width * len(panels), height), layout="constrained",
                           squeeze=False)
    for ax, (title, cells) in zip(axes[0], panels.items(), strict=True):
        draw(cells, ax=ax, title=title, **kwargs)
    return axes[0]
