"""Data: the seeded generators the chapters train on, and the checks every public function runs on its input.

Generators use their own ``torch.Generator`` (never the global RNG) and return float32 ``(n, d)``
tensors. Every check raises a ``ValueError`` that says what is wrong and what to do.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["uniform", "bernoulli", "redundant"]


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def uniform(n: int, d: int, seed: int = 0) -> torch.Tensor:
    """Return ``n`` rows of ``d`` iid ``U(0, 1)`` features, values in [0, 1)."""
    n, d = check_positive_int(n, "n"), check_positive_int(d, "d")
    return torch.rand(n, d, generator=_generator(seed))


def bernoulli(n: int, d: int, p: float = 0.5, seed: int = 0) -> torch.Tensor:
    """Return ``n`` rows of ``d`` iid Bernoulli(``p``) features, values in {0, 1}."""
    n, d = check_positive_int(n, "n"), check_positive_int(d, "d")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}.")
    return (torch.rand(n, d, generator=_generator(seed)) < p).to(torch.float32)


def redundant(n: int, d: int, rank: int = 1, noise: float = 0.0, seed: int = 0) -> torch.Tensor:
    """Return ``n`` rows of ``d`` features that live on a ``rank``-dimensional subspace, plus noise.

    Rows are ``z @ B + noise * e`` (``z``, ``e`` standard normal; ``B`` all ones for ``rank=1``, else
    orthonormal rows times ``sqrt(d)``). For ``rank <= k < d`` the population PCA floor is
    ``(d - k) * noise**2 / d`` per element.
    """
    n, d, rank = check_positive_int(n, "n"), check_positive_int(d, "d"), check_positive_int(rank, "rank")
    if rank > d:
        raise ValueError(f"rank must be at most d={d}, got rank={rank}.")
    if noise < 0:
        raise ValueError(f"noise is a standard deviation and must be >= 0, got {noise!r}.")
    gen = _generator(seed)
    if rank == 1:
        basis = torch.ones(1, d)
    else:
        q, _ = torch.linalg.qr(torch.randn(d, rank, generator=gen))
        basis = q.T * d**0.5
    z = torch.randn(n, rank, generator=gen)
    x = z @ basis
    if noise > 0:
        x = x + noise * torch.randn(n, d, generator=gen)
    return x.to(torch.float32)


# --- input checks --------------------------------------------------------------------------------
def as_data_tensor(x: object, name: str = "x") -> torch.Tensor:
    """Return ``x`` as a 2-D, finite, float32 tensor, or raise a ValueError that says why not."""
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.number) and x.dtype != np.bool_:
            raise ValueError(f"{name} has dtype {x.dtype}; pass a numeric array.")
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor or numpy array of shape (n_samples, n_features), "
                         f"got {type(x).__name__}.")
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {tuple(x.shape)}; "
                         "reshape it, e.g. x.reshape(len(x), -1).")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}); pass at least one row and column.")
    if x.is_complex():
        raise ValueError(f"{name} is complex; pass real-valued data.")
    x = x.to(torch.float32) if x.dtype != torch.float64 else x
    if not torch.isfinite(x).all():
        n_bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{name} contains {n_bad} NaN or infinite value(s); drop or impute them before training.")
    return x


def check_unit_interval(x: torch.Tensor, name: str = "x") -> None:
    """Raise a ValueError unless every value of ``x`` lies in [0, 1] (needed for BCE targets)."""
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"BCE targets must lie in [0, 1], but {name} spans [{lo:.4g}, {hi:.4g}]; "
                         "rescale the data (e.g. min-max to [0, 1]) or use loss='mse'.")


def check_width(x: torch.Tensor, n_features: int, name: str = "x") -> None:
    """Raise a ValueError if ``x`` does not have ``n_features`` columns."""
    if x.shape[1] != n_features:
        raise ValueError(f"{name} has {x.shape[1]} features but the model expects {n_features}; "
                         f"build the model with n_features={x.shape[1]} or pass matching data.")


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int if it is a positive integer, else raise a ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def check_more_rows_than_columns(x: torch.Tensor, name: str = "x") -> None:
    """Raise a ValueError if ``x`` has no more rows than columns (its sample covariance is then degenerate)."""
    n, d = x.shape
    if n <= d:
        raise ValueError(f"{name} has {n} rows and {d} columns; the PCA floor needs more rows than columns. "
                         f"With n <= d the centred rows span at most n - 1 = {n - 1} directions, so any code of "
                         f"width >= {n - 1} reproduces them exactly and the floor would be 0: a statement about "
                         "these few rows, not about the data. Pass more rows (many more than d for a floor near "
                         "the population value).")


def check_encoding_dim(k: object, d: int) -> int:
    """Return ``k`` as an int if it is an encoding dim in ``[0, d]``, else raise a ValueError."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= d:
        raise ValueError(f"encoding dim k must be an integer in [0, d] = [0, {d}], got {k!r}; "
                         "a code wider than the data cannot lose anything, so its floor is pca_floor(x, d) = 0.")
    return int(k)


def as_float64(value: object, name: str) -> torch.Tensor:
    """Return a number, list, array or tensor as a finite float64 tensor, or raise a ValueError."""
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(np.ascontiguousarray(value))
    if not isinstance(value, torch.Tensor):
        if isinstance(value, bool) or not isinstance(value, (int, float, list, tuple)):
            raise ValueError(f"{name} must be a number, list, numpy array or tensor, got {type(value).__name__}.")
        value = torch.tensor(value, dtype=torch.float64)
    if value.is_complex() or not (value.is_floating_point() or value.dtype in (torch.int32, torch.int64)):
        raise ValueError(f"{name} must be real-valued, got dtype {value.dtype}.")
    value = value.to(torch.float64)
    if not torch.isfinite(value).all():
        raise ValueError(f"{name} contains NaN or infinite values; pass finite numbers.")
    return value
