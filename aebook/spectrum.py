"""The spectrum of a sample covariance of iid data (Marchenko-Pastur), and the PCA floor it implies.

For ``n`` rows of ``d`` iid features of variance ``s2`` the population covariance is ``s2 * I``:
every eigenvalue is ``s2`` and the PCA floor with encoding dim ``k`` is ``(d - k) s2 / d``. The
covariance of the *sample* is not ``s2 * I``: for large ``n`` and ``d`` with ``d / n = g`` fixed, its
eigenvalues spread over ``[s2 (1 - sqrt(g))**2, s2 (1 + sqrt(g))**2]`` with the Marchenko-Pastur
density. The floor of the training set is the sum of its ``d - k`` *smallest* eigenvalues over
``d``, so it sits below the population value; this module predicts by how much.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_positive_int

__all__ = ["marchenko_pastur_edges", "marchenko_pastur_eigenvalues", "marchenko_pastur_floor", "population_floor"]


def _check(n: int, d: int, variance: float) -> tuple[int, int, float]:
    n, d = check_positive_int(n, "n"), check_positive_int(d, "d")
    if n <= d + 1:
        raise ValueError(
            f"the Marchenko-Pastur prediction needs more rows than columns (n > d + 1), got n={n}, d={d}; "
            "with n <= d the sample covariance is singular. Use more rows."
        )
    if not (np.isfinite(variance) and variance > 0):
        raise ValueError(f"variance must be a positive number, got {variance!r}.")
    return n, d, float(variance)


def _centred(n: int, d: int, variance: float) -> tuple[float, float]:
    """Return the effective ``(g, scale)``: centring costs one row; the 1/n normalisation rescales."""
    n_eff = n - 1
    return d / n_eff, variance * n_eff / n


def marchenko_pastur_edges(n: int, d: int, variance: float) -> tuple[float, float]:
    """Return the ends ``(lowest, highest)`` of the predicted eigenvalue range of the 1/n covariance.

    ``variance`` is the variance of each iid feature (1/12 for ``U(0, 1)``); the edges are in the
    same units: ``variance * (1 -/+ sqrt(d / n))**2``, with ``n - 1`` for ``n`` because the data
    is centred. Raises a ValueError unless ``n > d + 1`` and ``variance > 0``.
    """
    n, d, variance = _check(n, d, variance)
    g, scale = _centred(n, d, variance)
    return scale * (1 - np.sqrt(g)) ** 2, scale * (1 + np.sqrt(g)) ** 2


def marchenko_pastur_eigenvalues(n: int, d: int, variance: float, grid: int = 20_001) -> np.ndarray:
    """Return the ``d`` predicted eigenvalues of the 1/n sample covariance, largest first.

    They are the Marchenko-Pastur quantiles at ``(i - 1/2) / d``, ``i = 1..d``: where the ``d``
    sample eigenvalues of iid data with per-feature ``variance`` fall on average, for large ``n``
    and ``d``. Units: those of ``variance`` (e.g. squared data units).
    """
    n, d, variance = _check(n, d, variance)
    g, scale = _centred(n, d, variance)
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
    """Return the predicted PCA floor of a sample of ``n`` rows of iid data: MSE per element.

    It is the sum of the ``d - k`` smallest predicted eigenvalues (``marchenko_pastur_eigenvalues``)
    over ``d``, to compare with ``aebook.floors.pca_floor`` of the sample and with the population
    value ``population_floor(d, k, variance)``, which it undercuts.
    """
    n, d, variance = _check(n, d, variance)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= d:
        raise ValueError(f"encoding dim k must be an integer in [0, d] = [0, {d}], got {k!r}.")
    return float(marchenko_pastur_eigenvalues(n, d, variance)[int(k):].sum() / d)


def population_floor(d: int, k: int, variance: float) -> float:
    """Return ``(d - k) * variance / d``: the PCA floor of iid features with this variance, MSE per element.

    For ``U(0, 1)`` features (variance 1/12) it is ``(d - k) / (12 d)``.
    """
    d = check_positive_int(d, "d")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= d:
        raise ValueError(f"encoding dim k must be an integer in [0, d] = [0, {d}], got {k!r}.")
    if not (np.isfinite(variance) and variance > 0):
        raise ValueError(f"variance must be a positive number, got {variance!r}.")
    return (d - int(k)) * float(variance) / d
