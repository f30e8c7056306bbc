"""Diagnose: data (and a trained model) before blaming the optimiser, in Python and from the command line.

``diagnose`` gives data's lowest reachable loss, with readings; ``diagnose_model`` splits a trained
model's loss into floor and excess. ``main`` (``python -m aebook diagnose``) exits with status 2 on bad input.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .data import as_data_tensor, check_unit_interval
from .evaluate import evaluate
from .floors import bce_floor, covariance_eigenvalues, marchenko_pastur_floor
from .losses import BCE_LOSSES, check_loss_name
from .models import Autoencoder, dead_units

__all__ = ["Diagnosis", "ModelDiagnosis", "diagnose", "diagnose_model", "load_array", "main", "markdown_table"]

SUFFIXES = (".npy", ".csv")


def _read_csv(path: Path) -> np.ndarray:
    """Parse a comma-separated file of numbers; a first row that is not numeric is taken as a header."""
    with path.open(newline="") as handle:
        rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"{path}: the file has no data rows.")

    def parse(row: list[str], line: int) -> list[float]:
        values = []
        for column, cell in enumerate(row, start=1):
            text = cell.strip()
            if not text:
                raise ValueError(f"{path}: row {line}, column {column} is empty; fill in or drop missing values first.")
            try:
                values.append(float(text))
            except ValueError:
                raise ValueError(f"{path}: row {line}, column {column} holds {text[:30]!r}, which is not a number; "
                                 "the file must hold numbers only (one optional header row is allowed).") from None
        return values

    start = 0
    try:
        parse(rows[0], 1)
    except ValueError:
        start = 1  # a header row
        if len(rows) == 1:
            raise ValueError(f"{path}: the file has a header row but no data rows.") from None
    width = len(rows[start])
    data = []
    for line, row in enumerate(rows[start:], start=start + 1):
        if len(row) != width:
            raise ValueError(f"{path}: row {line} has {len(row)} fields but row {start + 1} has {width}; "
                             "every row must have the same number of columns.")
        data.append(parse(row, line))
    return np.asarray(data, dtype=np.float64)


def load_array(path: str) -> np.ndarray:
    """Read a ``.npy`` or ``.csv`` file (one header row allowed) as a 2-D float64 array; ValueError if it is bad."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{path}: unsupported file type {suffix or '(no extension)'!r}; give a .npy file "
                         "(numpy.save) or a .csv file of numbers.")
    if not path.is_file():
        raise ValueError(f"{path}: no such file.")
    if suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise ValueError(f"{path}: could not read it as a .npy array ({err}); save the data with numpy.save "
                             "as a numeric array.") from None
    else:
        try:
            array = _read_csv(path)
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a text file; a .csv file must be plain text.") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        kind = getattr(array, "dtype", type(array).__name__)
        raise ValueError(f"{path}: the array has dtype {kind}; the data must be numbers (int, float or bool).")
    if array.ndim != 2:
        hint = " If it is one feature, save it as x.reshape(-1, 1)." if array.ndim == 1 else ""
        raise ValueError(f"{path}: the array has shape {array.shape}, but the data must be a 2-D table "
                         f"(rows = samples, columns = features).{hint}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{path}: the array is empty (shape {array.shape}).")
    bad = int((~np.isfinite(array)).sum())
    if bad:
        raise ValueError(f"{path}: {bad} value(s) are NaN or infinite; drop or impute them first.")
    return array.astype(np.float64)


@dataclass(frozen=True)
class Diagnosis:
    """What the lowest reachable loss is for some data, with a one-line reading of each fact.

    Attributes:
        bce_floor: mean binary entropy of the data in nats per element (``None`` outside [0, 1]).
        variance: total variance per element (MSE per element of predicting each feature's mean).
        pca_floors: encoding dim ``k`` -> best linear reconstruction MSE per element.
        k99: the fewest principal directions that hold 99% of the variance (``None`` if unknown).
        readings: the one-line readings, in the order ``report`` prints them.
    """

    n_rows: int
    n_features: int
    minimum: float
    maximum: float
    loss: str
    binary: bool
    in_unit_interval: bool
    bce_floor: float | None
    variance: float
    pca_floors: dict[int, float] = field(default_factory=dict)
    k99: int | None = None
    readings: tuple[str, ...] = ()

    def report(self) -> str:
        """Return the diagnosis as text: one reading per line."""
        return "\n".join(self.readings)


def _check_dims(encoding_dims: int | Sequence[int] | None, d: int) -> list[int]:
    if encoding_dims is None:
        return sorted({k for k in (1, d // 10, d // 4, d // 2, (3 * d) // 4, d - 1) if 1 <= k < d})
    dims = [encoding_dims] if isinstance(encoding_dims, (int, np.integer)) else list(encoding_dims)
    for k in dims:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"each encoding dim must be a positive integer, got {k!r}.")
    return sorted({int(k) for k in dims})


def _pca_reading(k: int, n: int, d: int, floor: float, variance: float) -> str:
    if k >= d:
        return (f"k = {k} >= d = {d}: no bottleneck; a linear model can copy the data, floor 0 "
                "(the loss can go to 0 with MSE).")
    if variance <= 0:
        return f"k = {k}: the data is constant; floor 0."
    kept = 1 - floor / variance
    # What n rows of iid features with this variance would keep: k/d in the population, a little
    # more in a finite sample (its largest eigenvalues spread upwards, Marchenko-Pastur).
    iid_kept = 1 - marchenko_pastur_floor(n, d, k, variance) / variance if n > d + 1 else k / d
    line = f"k = {k}: best linear MSE {floor:.4g} per element; keeps {100 * kept:.1f}% of the variance"
    if floor <= 1e-3 * variance:
        return line + " -- the data is (nearly) this low-dimensional: the loss can get close to 0."
    if kept <= iid_kept + 0.1 * (1 - iid_kept):
        return (line + f", about what iid noise keeps ({100 * iid_kept:.0f}%): little linear structure to "
                "compress; expect the MSE to stall near this floor.")
    return line + f" (iid noise would keep {100 * iid_kept:.0f}%): the data has structure a code can use."


def diagnose(x: object, loss: str = "mse", encoding_dims: int | Sequence[int] | None = None) -> Diagnosis:
    """Return a ``Diagnosis`` of data ``x``: the floors under ``loss`` and what they mean.

    Args:
        encoding_dims: the encoding dim(s) to give the PCA floor for; by default a few in ``[1, d - 1]``.

    Returns:
        A ``Diagnosis``; floors in nats per element (BCE) and MSE per element (PCA).

    Raises:
        ValueError: for bad data (not 2-D, empty, NaN/inf, outside [0, 1] for BCE), loss or encoding dim.
    """
    check_loss_name(loss)
    if loss == "bce_prob":
        loss = "bce"
    x = as_data_tensor(x).to(torch.float64)
    n, d = x.shape
    dims = _check_dims(encoding_dims, d)
    lo, hi = float(x.min()), float(x.max())
    in_unit = lo >= 0.0 and hi <= 1.0
    binary = bool(((x == 0) | (x == 1)).all())
    if loss in BCE_LOSSES:
        check_unit_interval(x)
    readings = [f"data: {n} rows x {d} features, values in [{lo:.6g}, {hi:.6g}]"]
    floor_bce = bce_floor(x) if in_unit else None
    if not in_unit:
        readings.append("BCE: does not apply -- values lie outside [0, 1]; use MSE (or rescale to [0, 1]).")
    elif binary:
        readings.append("BCE: applies -- the data is binary (0/1), so the entropy floor is 0 and BCE can go to 0.")
    else:
        readings.append(f"BCE: entropy floor {floor_bce:.4f} nats per element -- values in [0, 1] but not binary, "
                        "so no model gets BCE below this, even one that reconstructs perfectly; watch BCE minus "
                        "this floor.")
    variance = float(x.var(dim=0, unbiased=False).mean())
    readings.append(f"variance: {variance:.4g} per element (the MSE of always predicting each feature's mean)")
    floors: dict[int, float] = {}
    k99 = None
    if n <= d:
        readings.append(f"PCA: not computed -- {n} rows <= {d} features: too few rows for a covariance that says "
                        "anything beyond these rows; pass more rows than features.")
    else:
        eigenvalues = covariance_eigenvalues(x)
        total = float(eigenvalues.sum())
        if total > 0:
            cumulative = torch.cumsum(eigenvalues, 0) / total
            k99 = int(torch.searchsorted(cumulative, torch.tensor(0.99, dtype=cumulative.dtype))) + 1
            k99 = min(k99, d)
            readings.append(f"spectrum: 99% of the variance lies in the top {k99} of {d} principal directions")
        for k in dims:
            floors[k] = float(eigenvalues[k:].sum() / d) if k < d else 0.0
            readings.append("PCA " + _pca_reading(k, n, d, floors[k], variance))
        readings.append("PCA floors bound linear autoencoders exactly (with MSE); a non-linear one can go below "
                        "them, e.g. where the data has curved, low-dimensional structure, where its values are "
                        "bounded (a sigmoid output stays in [0, 1], PCA does not), or by memorising the rows.")
    if loss == "bce" and floor_bce is not None and floor_bce > 0:
        readings.append(f"so: your BCE cannot go below {floor_bce:.4f}; a loss that stalls above it is "
                        "the floor plus what the model has not learnt (the excess).")
    return Diagnosis(n_rows=n, n_features=d, minimum=lo, maximum=hi, loss=loss, binary=binary, in_unit_interval=in_unit,
                     bce_floor=floor_bce, variance=variance, pca_floors=floors, k99=k99, readings=tuple(readings))


@dataclass(frozen=True)
class ModelDiagnosis:
    """A trained model on its data: what is floor, what is excess, how much it reconstructs.

    Attributes:
        loss: mean loss (nats per element for BCE, MSE per element for MSE).
        floor: the floor for that loss and data (``aebook.floors.loss_floor``).
        mse: reconstruction MSE per element, whatever the loss.
        explained_variance: ``1 - mse / variance``: 1 for a perfect copy, 0 for predicting the mean.
        dead: dead units over all layers, of ``units`` (both ``None`` for a linear model; see ``dead_units``).
    """

    loss_name: str
    loss: float
    floor: float
    excess: float
    mse: float
    explained_variance: float
    dead: int | None
    units: int | None
    activation: str = "relu"


def diagnose_model(model: Autoencoder, x: torch.Tensor, loss: str) -> ModelDiagnosis:
    """Return the ``ModelDiagnosis`` of a trained ``model`` on data ``x`` under ``loss`` (ValueError for bad data)."""
    ev = evaluate(model, x, loss)
    x = as_data_tensor(x)
    variance = float(x.double().var(dim=0, unbiased=False).mean())
    explained = 1.0 - ev.mse / variance if variance > 0 else float("nan")
    dead = units = None
    if model.activation != "linear":
        counted = dead_units(model, x)
        dead, units = counted.total, sum(counted.width)
    return ModelDiagnosis(loss_name=loss, loss=ev.loss, floor=ev.floor, excess=ev.excess, mse=ev.mse,
                          explained_variance=explained, dead=dead, units=units, activation=model.activation)


def markdown_table(rows: Mapping[str, ModelDiagnosis], digits: int = 4) -> str:
    """Return a Markdown table with one row per labelled ``ModelDiagnosis`` (values rounded to ``digits``)."""
    if not rows:
        raise ValueError("markdown_table needs at least one labelled ModelDiagnosis.")
    head = "| model | loss | value | floor | excess | MSE | explained variance | dead units |"
    lines = [head, "|" + "---|" * 8]
    for label, r in rows.items():
        dead = "--" if r.dead is None else f"{r.dead} of {r.units}"
        if r.dead is not None and r.activation == "leaky_relu":
            dead += " (never positive; leaky units still learn)"
        values = " | ".join(f"{v:.{digits}f}" for v in (r.loss, r.floor, r.excess, r.mse))
        lines.append(f"| {label} | {r.loss_name.upper()} | {values} | {100 * r.explained_variance:.1f}% | {dead} |")
    return "\n".join(lines)


# --- the command line ----------------------------------------------------------------------------
PROG = "python -m aebook"


def _build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m aebook``."""
    parser = argparse.ArgumentParser(prog=PROG,
                                     description="Tools from the book 'Why doesn't my autoencoder reach zero loss?'.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    diag = commands.add_parser(
        "diagnose", help="print the lowest loss an autoencoder can reach on your data, and what it means",
        description=("Print, for the data in FILE: its shape and value range, whether BCE applies (values in "
                     "[0, 1]? binary?), the BCE entropy floor, the PCA floor for a few encoding dims (or the one "
                     "given), and a one-line reading of each."))
    diag.add_argument("file", metavar="FILE", help="a .npy file (numpy.save) or a .csv file of numbers, "
                      "rows = samples, columns = features; one header row is allowed in a .csv")
    diag.add_argument("--loss", required=True, choices=("bce", "mse"), help="the loss your model is trained with")
    diag.add_argument("--encoding-dim", type=int, metavar="K", action="append", dest="encoding_dims",
                      help="width of your code layer (repeat for several); default: a few between 1 and d - 1")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args = _build_parser().parse_args(argv)
    try:
        data = load_array(args.file)
        report = diagnose(data, loss=args.loss, encoding_dims=args.encoding_dims).report()
    except ValueError as err:
        print(f"{PROG} {args.command}: error: {err}", file=sys.stderr)
        return 2
    print(report)
    return 0
