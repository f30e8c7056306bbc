"""Chapter "Linear model, uniform data, MSE" (linear_mse.ipynb): how far a linear model's map is from the identity.

``identity_gap`` splits a linear model's MSE into the covariance and mean terms of the chapter's
equation and bounds the cost of its collapsed directions; ``singular_value_plot`` and
``epoch_series`` draw the chapter's figures of the end-to-end map (its singular values come from
``aebook.models.singular_values``) and of values recorded once per epoch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.axes import Axes

from aebook import Autoencoder
from aebook.data import as_data_tensor, check_width
from aebook.models import end_to_end_map
from aebook.plot import finish_axes, new_axes


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
