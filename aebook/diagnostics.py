"""Looking inside a trained model: its end-to-end linear map and its dead ReLU units."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._validation import as_data_tensor, check_width
from .models import Autoencoder


def end_to_end_map(model: Autoencoder) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(W, b)`` with ``logits(x) = x @ W.T + b`` for a model with linear activation.

    Raises a ValueError for models with a non-linear activation: they have no single map.
    """
    if model.activation != "linear":
        raise ValueError(
            f"end_to_end_map needs activation='linear', this model uses {model.activation!r}."
        )
    d = model.n_features
    weight = torch.eye(d, dtype=torch.float64)
    bias = torch.zeros(d, dtype=torch.float64)
    with torch.no_grad():
        for layer in model.linear_layers():
            w, c = layer.weight.double().cpu(), layer.bias.double().cpu()
            weight, bias = w @ weight, w @ bias + c
    return weight.numpy(), bias.numpy()


def singular_values(model: Autoencoder) -> np.ndarray:
    """Return the singular values of the end-to-end linear map, largest first."""
    weight, _ = end_to_end_map(model)
    return np.linalg.svd(weight, compute_uv=False)


@dataclass(frozen=True)
class DeadUnits:
    """Dead ReLU units per activation layer.

    Attributes:
        dead: number of units in each layer whose pre-activation is <= 0 on every row of the data.
        width: number of units in each layer.
    """

    dead: tuple[int, ...]
    width: tuple[int, ...]

    @property
    def total(self) -> int:
        """Dead units over all layers."""
        return sum(self.dead)

    @property
    def fraction(self) -> float:
        """Dead units over all units in activation layers (0 when there are none)."""
        return self.total / sum(self.width) if self.width else 0.0


@torch.no_grad()
def dead_units(model: Autoencoder, x: torch.Tensor, batch_size: int = 8192) -> DeadUnits:
    """Count units after each activation layer that are zero for every row of ``x``.

    Only layers followed by ReLU or leaky ReLU are counted (a linear model has none). For ReLU a
    dead unit outputs 0 and passes no gradient, so it never recovers. For leaky ReLU the count
    is of units whose pre-activation is never positive: they still pass gradient, so read it
    as "would be dead under ReLU".
    """
    x = as_data_tensor(x)
    check_width(x, model.n_features)
    layers = list(model.encoder) + list(model.decoder)
    param = next(model.parameters())
    ever_positive: dict[int, torch.Tensor] = {}
    for begin in range(0, x.shape[0], batch_size):
        h = x[begin : begin + batch_size].to(device=param.device, dtype=param.dtype)
        for i, layer in enumerate(layers):
            followed_by_unit = i + 1 < len(layers) and isinstance(layers[i + 1], (nn.ReLU, nn.LeakyReLU))
            if isinstance(layer, nn.Linear) and followed_by_unit:
                positive = (layer(h) > 0).any(dim=0).cpu()
                ever_positive[i] = ever_positive.get(i, torch.zeros_like(positive)) | positive
            h = layer(h)
    dead = tuple(int((~p).sum()) for _, p in sorted(ever_positive.items()))
    width = tuple(int(p.numel()) for _, p in sorted(ever_positive.items()))
    return DeadUnits(dead=dead, width=width)


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
