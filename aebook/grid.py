"""The loss x data grid: {MSE, BCE} x {uniform, Bernoulli}, several seeds per cell, in one call.

``run_grid`` trains every cell with ``aebook.fit_many`` (all seeds of a cell in one batched pass)
and returns one ``Cell`` per (architecture, loss, data set). Each cell keeps its models, their
histories and their ``aebook.evaluate`` results, so a chapter can put every cell on one
"loss minus its floor" scale and compare reconstruction MSE across losses::

    cells = run_grid(2, ["leaky_relu", "linear"], epochs=100, seeds=range(4))
    markdown_table(cells)          # final loss, floor, excess and reconstruction MSE per cell

Architectures are named: ``"linear"`` is ``d -> d -> d`` with no activation; ``"relu"`` and
``"leaky_relu"`` have three hidden layers of width ``d`` (``d -> d -> d -> d -> d``, the code
layer in the middle), so none of them has a bottleneck. All have a sigmoid output, so the only
difference between the MSE and BCE cells is the loss.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from . import data as _data
from .ensemble import fit_many
from .evaluate import Evaluation, evaluate
from .losses import check_loss_name
from .models import ACTIVATIONS, Autoencoder
from .monitor import DeadUnitTracker
from .train import History

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
        dead: the dead-unit counts per epoch (``aebook.monitor.DeadUnitTracker``) when the grid
            was run with ``track_dead_units=True`` and the architecture has activations, else None.
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

    Seed ``s`` fixes both a model's initialisation and its batch order, and the same seeds are
    used in every cell, so cells differ only in what the grid varies. Each data set is drawn once
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
                models = [build_model(architecture, n_features, seed=s, init=init) for s in seeds]
                tracker = DeadUnitTracker(x, models) if track_dead_units and architecture != "linear" else None
                histories = fit_many(models, x, loss=loss, lr=lr, batch_size=batch_size, epochs=epochs,
                                     seeds=seeds, device=device, progress=progress, on_epoch=tracker)
                evaluations = [evaluate(m, x, loss) for m in models]
                cells.append(Cell(architecture, loss, name, x, models, histories, evaluations, tracker))
    return cells


def find(cells: Sequence[Cell], architecture: str, loss: str, data: str) -> Cell:
    """Return the cell of ``cells`` with this architecture, loss and data set."""
    for cell in cells:
        if (cell.architecture, cell.loss, cell.data) == (architecture, loss, data):
            return cell
    have = ", ".join(f"({c.architecture}, {c.loss}, {c.data})" for c in cells)
    raise ValueError(f"no cell ({architecture}, {loss}, {data}) in the grid; it has {have}.")


def fully_above(a: Sequence[float], b: Sequence[float]) -> bool:
    """Return True if every value of ``a`` is larger than every value of ``b``.

    With K seeds on each side and no real difference, every ordering of the 2K values is equally
    likely, so complete separation happens by chance with probability ``1 / C(2K, K)`` (1/70 for
    K = 4): the exact one-sided Mann-Whitney test at its most extreme value.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == 0 or b.size == 0:
        raise ValueError("fully_above needs at least one value on each side.")
    return bool(a.min() > b.max())


def chance_of_separation(k: int, m: int | None = None) -> float:
    """Return ``1 / C(k + m, k)``: the chance that k values all exceed m others when all orders are equally likely."""
    m = k if m is None else m
    if k < 1 or m < 1:
        raise ValueError(f"both groups need at least one value, got {k} and {m}.")
    from math import comb

    return 1.0 / comb(k + m, k)


def _span(values: np.ndarray, fmt: str) -> str:
    med = float(np.median(values))
    if len(values) == 1:
        return format(med, fmt)
    return f"{format(med, fmt)} [{format(float(values.min()), fmt)}, {format(float(values.max()), fmt)}]"


def markdown_table(cells: Sequence[Cell], fmt: str = ".3g") -> str:
    """Return a Markdown table: per cell the median [min, max] over seeds of loss, floor, excess and MSE.

    Losses are in MSE per element or nats per element (BCE); the reconstruction MSE is always
    MSE per element, so its column compares cells trained with different losses.
    """
    if not cells:
        raise ValueError("markdown_table needs at least one cell.")
    lines = [
        "| d | architecture | loss / data | final loss | floor | loss − floor | reconstruction MSE |",
        "| ---: | --- | --- | --- | ---: | --- | --- |",
    ]
    for c in cells:
        lines.append(
            f"| {c.n_features} | {c.architecture} | {c.label} | {_span(c.loss_values, fmt)} | {c.floor:.4f} "
            f"| {_span(c.excess, fmt)} | {_span(c.mse, fmt)} |"
        )
    return "\n".join(lines)


def html_table(cells: Sequence[Cell], fmt: str = ".3g") -> str:
    """Return the table of ``markdown_table`` as an HTML ``<table>`` (for notebook display).

    Jupyter Book renders notebook Markdown outputs as CommonMark, which has no tables; an HTML
    output renders everywhere. Same columns and units as ``markdown_table``.
    """
    rows = [line.strip("|").split("|") for line in markdown_table(cells, fmt).splitlines()]
    head = "".join(f"<th>{cell.strip()}</th>" for cell in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{cell.strip()}</td>" for cell in row) + "</tr>" for row in rows[2:]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
