"""Floors: the lowest loss a model can reach on given data, computed without training.

``bce_floor``: BCE(t, p) = H(t) + KL(Bern(t) || Bern(p)) >= H(t), so the mean binary entropy of the
targets bounds the mean BCE. ``pca_floor``: no linear autoencoder with a code of width k beats PCA
(Eckart-Young; Baldi & Hornik, 1989); ``marchenko_pastur_floor`` and ``population_floor`` predict it
for iid data. ``best_sigmoid_affine``: the lowest BCE excess of a per-feature ``sigmoid(a t + b)`` on U(0, 1) data.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .data import (
    as_data_tensor,
    as_float64,
    check_encoding_dim,
    check_more_rows_than_columns,
    check_positive_int,
    check_unit_interval,
)
from .losses import BCE_LOSSES, check_loss_name


def binary_entropy(t: torch.Tensor) -> torch.Tensor:
    """Return the elementwise binary entropy ``H(t)`` in nats, with ``0 log 0 = 0``."""
    t = t.to(torch.float64)
    return -(torch.special.xlogy(t, t) + torch.special.xlogy(1 - t, 1 - t))


def bce_floor(x: torch.Tensor) -> float:
    """Return the mean binary entropy of ``x`` in nats per element, the lowest mean BCE (ValueError outside [0, 1])."""
    x = as_data_tensor(x)
    check_unit_interval(x)
    return float(binary_entropy(x).mean())


def covariance_eigenvalues(x: torch.Tensor) -> torch.Tensor:
    """Return the eigenvalues of the 1/n covariance of ``x``, largest first (float64)."""
    x = as_data_tensor(x).to(torch.float64)
    centred = x - x.mean(dim=0, keepdim=True)
    cov = centred.T @ centred / x.shape[0]
    return torch.linalg.eigvalsh(cov).flip(0).clamp_min(0.0)


def pca_floor(x: torch.Tensor, k: int) -> float:
    """Return the best linear reconstruction MSE per element with encoding dim ``k``.

    The sum of the ``d - k`` smallest eigenvalues of the 1/n covariance over ``d``; ValueError unless n > d.
    """
    x = as_data_tensor(x)
    check_more_rows_than_columns(x)
    d = x.shape[1]
    k = check_encoding_dim(k, d)
    eigenvalues = covariance_eigenvalues(x)
    return float(eigenvalues[k:].sum() / d)


def loss_floor(x: torch.Tensor, loss: str, encoding_dim: int | None = None) -> float:
    """Return the floor for ``loss`` on data ``x``.

    BCE: ``bce_floor``. MSE: the PCA floor for an ``encoding_dim`` below the width of ``x``, else 0.
    """
    check_loss_name(loss)
    if loss in BCE_LOSSES:
        return bce_floor(x)
    x = as_data_tensor(x)
    if encoding_dim is None or encoding_dim >= x.shape[1]:
        return 0.0
    return pca_floor(x, encoding_dim)


# --- the best sigmoid(affine) reconstruction of U(0, 1) data ------------------------------------
def bce_logits64(t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Return ``t softplus(-z) + (1 - t) softplus(z)`` (= ``softplus(z) - t z``) without cancellation."""
    return t * F.softplus(-z) + (1 - t) * F.softplus(z)


def check_targets(t: torch.Tensor, name: str = "t") -> torch.Tensor:
    if t.numel() and (float(t.min()) < 0.0 or float(t.max()) > 1.0):
        raise ValueError(f"{name} must lie in [0, 1] (it is a BCE target), but it spans [{float(t.min()):.4g}, "
                         f"{float(t.max()):.4g}]; rescale the data to [0, 1] or use loss='mse'.")
    return t


@functools.lru_cache(maxsize=8)
def _uniform_nodes(nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the quadrature nodes ``t`` in (0, 1) and weights of ``expect_uniform`` (cached: costly to make)."""
    u, w = np.polynomial.legendre.leggauss(nodes)
    u = torch.tensor((u + 1) / 2, dtype=torch.float64)
    w = torch.tensor(w / 2, dtype=torch.float64)
    return torch.sin(math.pi * u / 2) ** 2, w * (math.pi / 2) * torch.sin(math.pi * u)


def expect_uniform(f: Callable[[torch.Tensor], torch.Tensor], nodes: int = 512) -> float:
    """Return ``E[f(t)]`` for ``t ~ U(0, 1)``, by Gauss-Legendre quadrature in float64.

    ``f`` maps a float64 tensor of nodes in (0, 1) to one value per node. The nodes cluster at both ends,
    so log end-point singularities converge fast (``E[H(t)] = 1/2`` to about 1e-12).
    """
    t, weights = _uniform_nodes(check_positive_int(nodes, "nodes"))
    t, weights = t.clone(), weights.clone()
    values = torch.as_tensor(f(t), dtype=torch.float64)
    if values.shape != t.shape:
        raise ValueError(f"f must return one value per node (shape {tuple(t.shape)}), got {tuple(values.shape)}.")
    return float((weights * values).sum())


def bernoulli_kl(t: object, logits: object) -> torch.Tensor:
    """Return ``KL(Bern(t) || Bern(sigmoid(logits)))`` elementwise, in nats, in float64.

    The excess of one BCE term over its floor ``H(t)``; zero exactly where ``sigmoid(logits) = t``.

    Raises:
        ValueError: if a target lies outside [0, 1] or a value is not finite.
    """
    t = check_targets(as_float64(t, "t"))
    z = as_float64(logits, "logits")
    return bce_logits64(t, z) - binary_entropy(t)


@dataclass(frozen=True)
class SigmoidAffineOptimum:
    """The best per-feature model ``p = sigmoid(slope * t + bias)`` for ``t ~ U(0, 1)`` under BCE.

    Attributes:
        slope: the optimal ``a`` (per unit of ``t``).
        bias: the optimal ``b``; it equals ``-slope / 2``.
        excess: the smallest expected excess ``E[BCE] - E[H(t)]`` of the class, nats per element.
        mse: the reconstruction MSE per element of that model, ``E[(p - t)^2]``.
        excess_sd: the standard deviation of the per-element excess, in nats.
        cross_weight_cost: second-order excess (nats) per unit of summed squared cross-weight, ``E[sigmoid'(z)] / 24``.
    """

    slope: float
    bias: float
    excess: float
    mse: float
    excess_sd: float
    cross_weight_cost: float


def best_sigmoid_affine(nodes: int = 512, tol: float = 1e-13) -> SigmoidAffineOptimum:
    """Return the ``SigmoidAffineOptimum``: the lowest BCE excess a per-feature sigmoid(affine) reaches.

    The expected BCE is convex in ``(a, b)`` and symmetric under ``t -> 1 - t``, so a minimiser lies
    on ``b = -a/2``; a 1-D Newton iteration in ``a`` finds it.
    """
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}.")

    def moments(a: float) -> tuple[float, float]:
        def grad(t: torch.Tensor) -> torch.Tensor:
            s = t - 0.5
            return s * (torch.sigmoid(a * s) - t)

        def curv(t: torch.Tensor) -> torch.Tensor:
            s = t - 0.5
            p = torch.sigmoid(a * s)
            return s * s * p * (1 - p)

        return expect_uniform(grad, nodes), expect_uniform(curv, nodes)

    a = 4.0  # the slope at which sigmoid(a (t - 1/2)) has slope 1 at t = 1/2
    for _ in range(100):
        g, h = moments(a)
        step = g / h
        a -= step
        if abs(step) < tol * max(1.0, abs(a)):
            break
    else:  # pragma: no cover - Newton on a smooth convex 1-D function converges in a few steps
        raise RuntimeError("Newton iteration for the best slope did not converge.")

    def kl(t: torch.Tensor) -> torch.Tensor:
        return bernoulli_kl(t, a * (t - 0.5))

    excess = expect_uniform(kl, nodes)
    second = expect_uniform(lambda t: kl(t) ** 2, nodes)
    mse = expect_uniform(lambda t: (torch.sigmoid(a * (t - 0.5)) - t) ** 2, nodes)
    slope_at = expect_uniform(lambda t: torch.sigmoid(a * (t - 0.5)) * (1 - torch.sigmoid(a * (t - 0.5))), nodes)
    return SigmoidAffineOptimum(slope=a, bias=-a / 2, excess=excess, mse=mse,
                                excess_sd=math.sqrt(max(second - excess**2, 0.0)), cross_weight_cost=slope_at / 24)


# --- the PCA floor of a finite sample of iid data (Marchenko-Pastur) ---------------------------
def _check_sample(n: int, d: int, variance: float) -> tuple[int, int, float]:
    n, d = check_positive_int(n, "n"), check_positive_int(d, "d")
    if n <= d + 1:
        raise ValueError(f"the Marchenko-Pastur prediction needs more rows than columns (n > d + 1), got n={n}, d={d}; "
                         "with n <= d the sample covariance is singular. Use more rows.")
    if not (np.isfinite(variance) and variance > 0):
        raise ValueError(f"variance must be a positive number, got {variance!r}.")
    return n, d, float(variance)


def _mp_centred(n: int, d: int, variance: float) -> tuple[float, float]:
    """Return the effective ``(g, scale)``: centring costs one row; the 1/n normalisation rescales."""
    n_eff = n - 1
    return d / n_eff, variance * n_eff / n


def marchenko_pastur_edges(n: int, d: int, variance: float) -> tuple[float, float]:
    """Return the ends ``(lowest, highest)`` of the predicted eigenvalue range of the 1/n covariance.

    ``variance`` is each iid feature's; the edges are in its units. ValueError unless ``n > d + 1``.
    """
    n, d, variance = _check_sample(n, d, variance)
    g, scale = _mp_centred(n, d, variance)
    return scale * (1 - np.sqrt(g)) ** 2, scale * (1 + np.sqrt(g)) ** 2


def marchenko_pastur_eigenvalues(n: int, d: int, variance: float, grid: int = 20_001) -> np.ndarray:
    """Return the ``d`` predicted eigenvalues (units of ``variance``) of iid data's 1/n covariance, largest first."""
    n, d, variance = _check_sample(n, d, variance)
    g, scale = _mp_centred(n, d, variance)
    lo, hi = marchenko_pastur_edges(n, d, variance)
    # lambda = lo + (hi - lo) (1 - cos t) / 2 turns the density's square-root edges into a smooth
    # integrand: density * dlambda = (hi - lo)**2 sin(t)**2 / (8 pi scale g lambda) dt.
    t = np.linspace(0.0, np.pi, grid)
    lam = lo + (hi - lo) * (1 - np.cos(t)) / 2
    integrand = (hi - lo) ** 2 * np.sin(t) ** 2 / (8 * np.pi * scale * g * lam)
    cdf = np.concatenate([[0.0], np.cumsum((integrand[1:] + integrand[:-1]) / 2 * np.diff(t))])
    cdf /= cdf[-1]  # equals 1 up to the quadrature error; normalise it away
    quantiles = (np.arange(d, 0, -1) - 0.5) / d  # largest eigenvalue first
    return np.interp(quantiles, cdf, lam)


def marchenko_pastur_floor(n: int, d: int, k: int, variance: float) -> float:
    """Return the Marchenko-Pastur PCA floor of ``n`` rows of iid data, MSE per element (below ``population_floor``)."""
    n, d, variance = _check_sample(n, d, variance)
    k = check_encoding_dim(k, d)
    return float(marchenko_pastur_eigenvalues(n, d, variance)[int(k):].sum() / d)


def population_floor(d: int, k: int, variance: float) -> float:
    """Return ``(d - k) * variance / d``: the PCA floor of iid features with this variance, MSE per element."""
    d = check_positive_int(d, "d")
    k = check_encoding_dim(k, d)
    if not (np.isfinite(variance) and variance > 0):
        raise ValueError(f"variance must be a positive number, got {variance!r}.")
    return (d - int(k)) * float(variance) / d
