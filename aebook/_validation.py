"""Input checks shared by the public API: every failure is a ValueError that says what to do."""

from __future__ import annotations

import numpy as np
import torch


def as_data_tensor(x: object, name: str = "x") -> torch.Tensor:
    """Return ``x`` as a 2-D, finite, float32 tensor, or raise a ValueError that says why not."""
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.number) and x.dtype != np.bool_:
            raise ValueError(f"{name} has dtype {x.dtype}; pass a numeric array.")
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise ValueError(
            f"{name} must be a torch.Tensor or numpy array of shape (n_samples, n_features), "
            f"got {type(x).__name__}."
        )
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got shape {tuple(x.shape)}; "
            "reshape it, e.g. x.reshape(len(x), -1)."
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}); pass at least one row and column.")
    if x.is_complex():
        raise ValueError(f"{name} is complex; pass real-valued data.")
    x = x.to(torch.float32) if x.dtype != torch.float64 else x
    if not torch.isfinite(x).all():
        n_bad = int((~torch.isfinite(x)).sum())
        raise ValueError(
            f"{name} contains {n_bad} NaN or infinite value(s); drop or impute them before training."
        )
    return x


def check_unit_interval(x: torch.Tensor, name: str = "x") -> None:
    """Raise a ValueError unless every value of ``x`` lies in [0, 1] (needed for BCE targets)."""
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(
            f"BCE targets must lie in [0, 1], but {name} spans [{lo:.4g}, {hi:.4g}]; "
            "rescale the data (e.g. min-max to [0, 1]) or use loss='mse'."
        )


def check_width(x: torch.Tensor, n_features: int, name: str = "x") -> None:
    """Raise a ValueError if ``x`` does not have ``n_features`` columns."""
    if x.shape[1] != n_features:
        raise ValueError(
            f"{name} has {x.shape[1]} features but the model expects {n_features}; "
            f"build the model with n_features={x.shape[1]} or pass matching data."
        )


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int if it is a positive integer, else raise a ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def check_more_rows_than_columns(x: torch.Tensor, name: str = "x") -> None:
    """Raise a ValueError if ``x`` has no more rows than columns (its sample covariance is then degenerate).

    With ``n <= d`` rows the centred data has rank at most ``n - 1 < d``: a linear code of width
    ``n - 1`` reproduces these rows exactly, so a PCA floor computed from them is 0 for every
    ``k >= n - 1`` and says nothing about data the model has not seen.
    """
    n, d = x.shape
    if n <= d:
        raise ValueError(
            f"{name} has {n} rows and {d} columns; the PCA floor needs more rows than columns. With n <= d "
            f"the centred rows span at most n - 1 = {n - 1} directions, so any code of width >= {n - 1} "
            "reproduces them exactly and the floor would be 0: a statement about these few rows, not "
            "about the data. Pass more rows (many more than d for a floor near the population value)."
        )
