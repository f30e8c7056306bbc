"""Chapter "Beyond noise: real images" (digits.ipynb): scikit-learn's 8x8 handwritten digits scaled to [0, 1],
autoencoders trained on them with BCE and with MSE, and the table and figures that show the results.

* ``load_digits01`` reads scikit-learn's bundled copy of the UCI digits (nothing is downloaded) and
  ``scale_intensities`` maps its ink counts 0-16 to [0, 1]; ``binarise`` thresholds them at 0.5.
* ``value_shares`` gives the share of pixels at each intensity, ``exact_shares`` the shares exactly
  0, exactly 1 and in between: the pixels that set the BCE floor.
* ``train_widths`` trains one ``aebook.fit_many`` group of seeds per (loss, code width), each group
  with its own seeds (``run_seeds``), and evaluates every model with ``aebook.evaluate``; ``pick``
  selects runs and ``summary_rows``/``html_table`` tabulate them.
* ``pca_reconstruction`` gives the best linear reconstruction at a code width (its MSE is the PCA floor).
* ``one_per_class``, ``image_grid``, ``value_share_bars``, ``excess_curves`` and ``training_curves``
  choose and draw what they are given and never train.

Every intensity is in [0, 1] (1 = a 4x4 block of the original bitmap fully inked); losses are per
pixel: BCE in nats, MSE in squared intensity units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

import aebook
from aebook import Autoencoder, Evaluation, History, notebook
from aebook.data import (
    as_data_tensor,
    check_encoding_dim,
    check_more_rows_than_columns,
    check_positive_int,
    check_unit_interval,
    check_width,
)
from aebook.floors import binary_entropy
from aebook.losses import check_loss_name
from aebook.plot import finish_axes, new_axes

__all__ = [
    "MAX_INTENSITY",
    "ExactShares",
    "Run",
    "binarise",
    "excess_curves",
    "exact_shares",
    "html_table",
    "image_grid",
    "load_digits01",
    "one_per_class",
    "pca_reconstruction",
    "pick",
    "reconstruct",
    "run_seeds",
    "scale_intensities",
    "summary_rows",
    "train_widths",
    "training_curves",
    "value_share_bars",
    "value_shares",
]

#: The colour between the images of ``image_grid``: light, so that blank (white) pixels stay visible.
GAP_COLOUR = "#c9d6e3"

#: The largest ink count of a pixel of the digits: the number of pixels of a 4x4 block.
MAX_INTENSITY = 16


# --- the data --------------------------------------------------------------------------------------


def scale_intensities(counts: np.ndarray, max_value: float = MAX_INTENSITY) -> torch.Tensor:
    """Return ``counts / max_value`` as a float32 tensor ``(n, d)`` with values in [0, 1].

    Args:
        counts: pixel intensities in ``[0, max_value]``, shape ``(n_images, n_pixels)``
            (the digits: ink counts 0-16 per 4x4 block).
        max_value: the intensity that maps to 1.

    Raises:
        ValueError: if ``max_value`` is not positive, or ``counts`` is not a finite 2-D table in ``[0, max_value]``.
    """
    if isinstance(max_value, bool) or not (isinstance(max_value, (int, float)) and np.isfinite(max_value)
                                           and max_value > 0):
        raise ValueError(f"max_value must be a positive number (the intensity that maps to 1), got {max_value!r}.")
    x = as_data_tensor(np.asarray(counts, dtype=np.float64), "counts")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0 or hi > max_value:
        raise ValueError(f"counts must lie in [0, {max_value:g}], but they span [{lo:g}, {hi:g}]; "
                         "pass the raw intensities and the largest possible one as max_value.")
    return (x / float(max_value)).to(torch.float32)


def load_digits01() -> tuple[torch.Tensor, np.ndarray]:
    """Return scikit-learn's 1,797 digits as ``(x, labels)``: ``x`` float32 ``(1797, 64)`` in [0, 1], row-major 8x8.

    The images are the test set of the UCI "Optical Recognition of Handwritten Digits" data, bundled
    with scikit-learn (read from disk, nothing is downloaded); ``labels`` holds the digit (0-9) of each row.
    """
    from sklearn.datasets import load_digits  # imported here: only this chapter needs scikit-learn

    digits = load_digits()
    return scale_intensities(digits.data), np.asarray(digits.target, dtype=np.int64)


def binarise(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Return ``x`` with every value ``>= threshold`` set to 1 and every other to 0 (float32, same shape).

    Raises:
        ValueError: if ``threshold`` is not in (0, 1] or ``x`` has values outside [0, 1].
    """
    if isinstance(threshold, bool) or not (isinstance(threshold, (int, float)) and 0 < threshold <= 1):
        raise ValueError(f"threshold must be a number in (0, 1], got {threshold!r}.")
    x = as_data_tensor(x)
    check_unit_interval(x)
    return (x >= threshold).to(torch.float32)


def value_shares(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(values, shares)``: the distinct values of ``x``, ascending, and the fraction of elements at each."""
    x = as_data_tensor(x)
    values, counts = np.unique(x.double().numpy(), return_counts=True)
    return values, counts / x.numel()


@dataclass(frozen=True)
class ExactShares:
    """The shares of the pixels of some data that are exactly 0, exactly 1, and strictly in between.

    Attributes:
        zero: fraction of pixels exactly 0 (blank); their binary entropy is 0.
        one: fraction of pixels exactly 1 (fully inked); their binary entropy is 0.
        between: fraction strictly inside (0, 1): only these add to the BCE floor.
        floor_between: the mean binary entropy of those pixels, nats (NaN if there are none).
    """

    zero: float
    one: float
    between: float
    floor_between: float


def exact_shares(x: torch.Tensor) -> ExactShares:
    """Return the ``ExactShares`` of data ``x`` (ValueError outside [0, 1])."""
    x = as_data_tensor(x)
    check_unit_interval(x)
    x = x.double()
    inside = (x > 0) & (x < 1)
    entropy = binary_entropy(x[inside])
    return ExactShares(zero=float((x == 0).double().mean()), one=float((x == 1).double().mean()),
                       between=float(inside.double().mean()),
                       floor_between=float(entropy.mean()) if entropy.numel() else float("nan"))


def one_per_class(labels: Sequence[int] | np.ndarray, classes: Sequence[int] = tuple(range(10))) -> np.ndarray:
    """Return the index of the first row of each class in ``classes``, in that order (ValueError if one is missing)."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}.")
    picked = []
    for c in classes:
        where = np.flatnonzero(labels == c)
        if not where.size:
            raise ValueError(f"no row has label {c!r}; the labels present are {sorted(set(labels.tolist()))}.")
        picked.append(int(where[0]))
    return np.asarray(picked, dtype=np.int64)


def pca_reconstruction(x: torch.Tensor, k: int, fit_on: torch.Tensor | None = None) -> torch.Tensor:
    """Return the rank-``k`` PCA reconstruction of the rows of ``x``, float64, in the units of ``x``.

    The mean and the top ``k`` principal directions come from the rows of ``fit_on`` (default ``x``):
    on those rows the MSE per element is ``aebook.floors.pca_floor(fit_on, k)``, the best of any linear
    code of width ``k``. Nothing keeps the values inside [0, 1].

    Raises:
        ValueError: if ``k`` is not in [0, d], the widths differ, or ``fit_on`` has no more rows than columns.
    """
    x = as_data_tensor(x)
    basis = x if fit_on is None else as_data_tensor(fit_on, "fit_on")
    check_width(x, basis.shape[1])
    check_more_rows_than_columns(basis, "fit_on")
    k = check_encoding_dim(k, basis.shape[1])
    basis = basis.double()
    mean = basis.mean(dim=0)
    centred = basis - mean
    _, vectors = torch.linalg.eigh(centred.T @ centred / basis.shape[0])  # ascending eigenvalues
    top = vectors[:, vectors.shape[1] - k:]
    return (x.double() - mean) @ top @ top.T + mean


# --- training and evaluating ---------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One trained model.

    Attributes:
        loss: the loss it was trained with, ``"bce"`` or ``"mse"``.
        width: its code width ``k``.
        seed: the seed of its initial weights and batch order (``run_seeds``: its own, no other run's).
        evaluation: ``aebook.evaluate`` on the training data for ``loss``: loss, floor (the BCE floor,
            or for MSE the PCA floor at ``k``, 0 at full width), excess and reconstruction MSE, per pixel.
    """

    loss: str
    width: int
    seed: int
    model: Autoencoder
    history: History
    evaluation: Evaluation


#: The seed of a run is ``offset + LOSS_SEED_STEP * i + WIDTH_SEED_STEP * j + s`` for base seed ``s``,
#: the ``i``-th loss and the ``j``-th width of a ``train_widths`` call: every (loss, width) pair gets
#: its own block of seeds, so no two runs share initial weights or a batch order.
LOSS_SEED_STEP = 1000
WIDTH_SEED_STEP = 100


def run_seeds(seeds: Sequence[int], loss_index: int, width_index: int, offset: int = 0) -> list[int]:
    """Return the seeds of the runs of the ``loss_index``-th loss at the ``width_index``-th width.

    Each is ``offset + LOSS_SEED_STEP * loss_index + WIDTH_SEED_STEP * width_index + s`` for the base
    seeds ``s`` in ``seeds``, which must lie in ``[0, WIDTH_SEED_STEP)`` so that the blocks of two pairs
    never overlap (with at most ``LOSS_SEED_STEP // WIDTH_SEED_STEP`` widths).

    Raises:
        ValueError: if a base seed or an index is out of its range.
    """
    seeds = [int(s) for s in seeds]
    if any(not 0 <= s < WIDTH_SEED_STEP for s in seeds):
        raise ValueError(f"base seeds must lie in [0, {WIDTH_SEED_STEP}), got {seeds}.")
    if not 0 <= width_index < LOSS_SEED_STEP // WIDTH_SEED_STEP or loss_index < 0:
        raise ValueError(f"at most {LOSS_SEED_STEP // WIDTH_SEED_STEP} widths per call, got width index "
                         f"{width_index} (loss index {loss_index}).")
    return [offset + LOSS_SEED_STEP * loss_index + WIDTH_SEED_STEP * width_index + s for s in seeds]


def train_widths(x: torch.Tensor, widths: Sequence[int], losses: Sequence[str] = ("bce", "mse"),
                 seeds: Sequence[int] = (0, 1, 2, 3), epochs: int = 60, lr: float = 1e-2, batch_size: int = 128,
                 seed_offset: int = 0, **model_kwargs: object) -> list[Run]:
    """Train one autoencoder with a sigmoid output per (loss, width, seed) on ``x``; return the ``Run`` of each.

    Each (loss, width) pair is one ``aebook.fit_many`` call with its own seeds, ``run_seeds(seeds, i, j,
    seed_offset)`` for the ``i``-th loss and ``j``-th width. A run's seed fixes its initial weights and
    its batch order, so no two runs of one call share either; give another call (other data, say) a
    ``seed_offset`` beyond this call's seeds to keep its runs apart too. ``model_kwargs`` go to
    ``aebook.Autoencoder`` (``hidden``, ``activation``, ``init``).

    Raises:
        ValueError: for an unknown loss, no widths or seeds, a width outside [1, d], a base seed outside
            [0, 100), more than 10 widths, or anything ``fit_many`` refuses.
    """
    x = as_data_tensor(x)
    d = x.shape[1]
    widths, seeds = [check_positive_int(k, "each width") for k in widths], [int(s) for s in seeds]
    if not widths or not seeds:
        raise ValueError("train_widths needs at least one width and one seed.")
    if max(widths) > d:
        raise ValueError(f"a code width must be at most the {d} features of x, got {max(widths)}.")
    if "output" in model_kwargs:
        raise ValueError("train_widths always builds a sigmoid output (so BCE and MSE train the same model).")
    for loss in losses:
        check_loss_name(loss, "sigmoid")
    own_seeds = {(i, j): run_seeds(seeds, i, j, seed_offset)  # checked before any training
                 for i in range(len(losses)) for j in range(len(widths))}
    runs = []
    for i, loss in enumerate(losses):
        for j, k in enumerate(widths):
            own = own_seeds[i, j]
            models = [Autoencoder(d, k, output="sigmoid", seed=s, **model_kwargs) for s in own]
            histories = aebook.fit_many(models, x, loss=loss, lr=lr, batch_size=batch_size, epochs=epochs,
                                        seeds=own, progress=False)
            runs += [Run(loss, k, s, m, h, aebook.evaluate(m, x, loss))
                     for s, m, h in zip(own, models, histories, strict=True)]
    return runs


def pick(runs: Sequence[Run], loss: str, width: int) -> list[Run]:
    """Return the runs trained with ``loss`` at code width ``width``, in seed order (ValueError if none)."""
    chosen = sorted((r for r in runs if r.loss == loss and r.width == width), key=lambda r: r.seed)
    if not chosen:
        have = sorted({(r.loss, r.width) for r in runs})
        raise ValueError(f"no run has loss={loss!r} and width={width!r}; the runs have {have}.")
    return chosen


@torch.no_grad()
def reconstruct(model: Autoencoder, x: torch.Tensor) -> np.ndarray:
    """Return the model's reconstruction of ``x`` as a float64 array (intensities in [0, 1] for a sigmoid output)."""
    return model(as_data_tensor(x)).double().numpy()


# --- the table -------------------------------------------------------------------------------------

TABLE_HEADER = ("trained with", "code width k", "loss", "floor", "loss − floor", "reconstruction MSE",
                "PCA floor at k")


def summary_rows(runs: Sequence[Run], pca_floors: Mapping[int, float]) -> list[tuple[str, ...]]:
    """Return one row of texts per (loss, width) of ``runs``, in the columns of ``TABLE_HEADER``.

    Loss, floor and excess are means over the seeds (4 decimals; nats per pixel for BCE, MSE per
    pixel for MSE). The reconstruction MSE, comparable across losses, is the mean with the lowest
    and highest seed in brackets. ``pca_floors`` maps each width to its PCA floor (MSE per pixel).
    """
    if not runs:
        raise ValueError("the table needs at least one run; pass what train_widths returned.")
    rows = []
    for loss, k in sorted({(r.loss, r.width) for r in runs}, key=lambda lk: (lk[0] != "bce", lk[1])):
        if k not in pca_floors:
            raise ValueError(f"pca_floors has no entry for width {k}; give the PCA floor of every width.")
        evs = [r.evaluation for r in pick(runs, loss, k)]
        mse = np.array([e.mse for e in evs])
        units = "nats" if loss == "bce" else "MSE"
        rows.append((loss.upper(), str(k), f"{np.mean([e.loss for e in evs]):.4f} {units}",
                     f"{np.mean([e.floor for e in evs]):.4f}", f"{np.mean([e.excess for e in evs]):.4f}",
                     f"{mse.mean():.4f} [{mse.min():.4f}, {mse.max():.4f}]", f"{pca_floors[k]:.4f}"))
    return rows


def html_table(runs: Sequence[Run], pca_floors: Mapping[int, float]) -> str:
    """Return ``summary_rows`` as an HTML ``<table>`` (notebook Markdown outputs render without tables)."""
    return notebook.html_table(TABLE_HEADER, summary_rows(runs, pca_floors))


# --- the figures -----------------------------------------------------------------------------------


def image_grid(rows: Mapping[str, np.ndarray | torch.Tensor], shape: tuple[int, int] = (8, 8),
               column_labels: Sequence[str] | None = None, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Draw each labelled row of flattened images side by side, one image row per label; return the Axes.

    Every array in ``rows`` has shape ``(n_images, shape[0] * shape[1])`` with the same ``n_images``,
    intensities in [0, 1] (0 white, 1 black; values outside are clipped). A colour bar gives the scale;
    the images are framed by a thin light-blue gap.

    Raises:
        ValueError: if ``rows`` is empty, an array has the wrong shape, or ``column_labels`` has the wrong length.
    """
    if not rows:
        raise ValueError("image_grid needs at least one labelled row of images.")
    height, width = shape
    arrays = {}
    for label, images in rows.items():
        images = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
        if images.ndim != 2 or images.shape[1] != height * width:
            raise ValueError(f"row {label!r} has shape {images.shape}; each row must be (n_images, "
                             f"{height * width}) for {height}x{width} images.")
        arrays[label] = images.astype(np.float64)
    counts = {a.shape[0] for a in arrays.values()}
    if len(counts) != 1:
        raise ValueError(f"every row must hold the same number of images, got {sorted(counts)}.")
    n = counts.pop()
    if column_labels is not None and len(column_labels) != n:
        raise ValueError(f"column_labels has {len(column_labels)} entries for {n} images per row.")
    gap = 1
    mosaic = np.full((len(arrays) * (height + gap) - gap, n * (width + gap) - gap), np.nan)
    for i, images in enumerate(arrays.values()):
        for j, image in enumerate(images):
            top, left = i * (height + gap), j * (width + gap)
            mosaic[top:top + height, left:left + width] = np.clip(image.reshape(height, width), 0.0, 1.0)
    ax = ax or new_axes(0.62 * n + 2.6, 0.62 * len(arrays) + 0.9)
    cmap = plt.get_cmap("gray_r").with_extremes(bad=GAP_COLOUR)  # the gaps: NaN in the mosaic
    shown = ax.imshow(mosaic, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_yticks([i * (height + gap) + (height - 1) / 2 for i in range(len(arrays))], list(arrays))
    if column_labels is not None:
        ax.set_xticks([j * (width + gap) + (width - 1) / 2 for j in range(n)], list(column_labels))
    else:
        ax.set_xticks([])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.figure.colorbar(shown, ax=ax, fraction=0.025, pad=0.01, label="intensity (0 = blank, 1 = fully inked)")
    if title:
        ax.set_title(title)
    return ax


def value_share_bars(values: np.ndarray, shares: np.ndarray, ax: Axes | None = None,
                     title: str | None = None) -> Axes:
    """Bar chart of the share of pixels (%) at each intensity, with each intensity's binary entropy; return the Axes.

    The entropy ``H(t)`` (nats, right axis) is what a pixel of intensity ``t`` adds to the BCE floor;
    the floor is the share-weighted sum of it.
    """
    values, shares = np.asarray(values, dtype=float), np.asarray(shares, dtype=float)
    if values.shape != shares.shape or values.ndim != 1 or not values.size:
        raise ValueError(f"values and shares must be 1-D of one length, got shapes {values.shape} and {shares.shape}.")
    ax = ax or new_axes()
    step = float(np.min(np.diff(values))) if values.size > 1 else 0.1
    ax.bar(values, 100 * shares, width=0.8 * step, color="C0", label="share of pixels (left)")
    ax.set_xlabel("pixel intensity (ink count / 16)")
    ax.set_ylabel("share of pixels (%)")
    right = ax.twinx()
    t = np.linspace(0.0, 1.0, 201)
    right.plot(t, binary_entropy(torch.from_numpy(t)).numpy(), color="C3", label="binary entropy H(t) (right)")
    right.set_ylabel("H(t), nats per pixel")
    right.set_ylim(0.0, 0.75)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, fontsize="small", loc="upper center")
    ax.grid(True, axis="y", alpha=0.3)
    if title:
        ax.set_title(title)
    return ax


def excess_curves(curves: Mapping[str, Sequence[float]], references: Mapping[str, float] | None = None,
                  ax: Axes | None = None, title: str | None = None) -> Axes:
    """Plot each labelled per-epoch BCE minus its floor (nats per pixel) against the epoch, log y; return the Axes.

    ``references`` draws labelled horizontal dashed lines at other excesses (nats per pixel) to compare with.
    """
    if not curves:
        raise ValueError("excess_curves needs at least one labelled curve.")
    ax = ax or new_axes()
    for i, (label, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, marker=".", color=f"C{i}", label=label)
    for j, (label, value) in enumerate((references or {}).items()):
        ax.axhline(value, color="black", linestyle=["--", ":", "-."][j % 3], linewidth=1, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return finish_axes(ax, "epoch", "BCE − floor (nats per pixel)", title, logy=True)


def training_curves(groups: Mapping[str, Sequence[Sequence[float]]], floors: Mapping[str, float] | None = None,
                    ax: Axes | None = None, ylabel: str = "training loss", title: str | None = None) -> Axes:
    """Plot every run's per-epoch values against the epoch, log y, one colour per labelled group; return the Axes.

    ``groups`` maps a label to the curves of its runs (one sequence per run, all positive); each group
    is drawn in one colour and labelled once. ``floors`` draws a dashed horizontal line, in the colour
    of the group of the same label, at the value given for it (a floor to read the curves against).

    Raises:
        ValueError: if there is no group, a group has no curve, a value is not positive, or a floor's
            label names no group.
    """
    if not groups or not all(len(curves) for curves in groups.values()):
        raise ValueError("training_curves needs at least one labelled group with at least one curve.")
    unknown = sorted(set(floors or {}) - set(groups))
    if unknown:
        raise ValueError(f"floors {unknown} name no group; the groups are {list(groups)}.")
    ax = ax or new_axes()
    for i, (label, curves) in enumerate(groups.items()):
        for j, values in enumerate(curves):
            values = np.asarray(values, dtype=float)
            if not (values > 0).all():
                raise ValueError(f"group {label!r} has values <= 0, which a log scale cannot show.")
            ax.plot(np.arange(1, len(values) + 1), values, color=f"C{i}", linewidth=1,
                    label=label if j == 0 else None)
        if floors and label in floors:
            ax.axhline(floors[label], color=f"C{i}", linestyle="--", linewidth=1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return finish_axes(ax, "epoch", ylabel, title, logy=True)
