"""Analytic floors: the lowest loss any model can reach on given data.

* ``bce_floor``: BCE(t, p) = H(t) + KL(Bern(t) || Bern(p)) >= H(t), so the mean binary entropy
  of the targets is the minimum of the mean BCE, reached only when the prediction equals the target.
* ``pca_floor``: with an encoding of width k, no linear autoencoder can beat the PCA
  reconstruction error (Eckart-Young; Baldi & Hornik, 1989).
"""

from __future__ import annotations

import torch

from ._validation import as_data_tensor, check_more_rows_than_columns, check_unit_interval


def binary_entropy(t: torch.Tensor) -> torch.Tensor:
    """Return the elementwise binary entropy ``H(t)`` in nats, with ``0 log 0 = 0``."""
    t = t.to(torch.float64)
    return -(torch.special.xlogy(t, t) + torch.special.xlogy(1 - t, 1 - t))


def bce_floor(x: torch.Tensor) -> float:
    """Return the mean binary entropy of the targets ``x`` in nats per element.

    This is the minimum of the mean BCE over all predictions: 0 for binary data, 1/2 in
    expectation for ``U(0, 1)`` data. Raises a ValueError if ``x`` has values outside [0, 1].
    """
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

    That is the sum of the ``d - k`` smallest eigenvalues of the 1/n covariance of ``x``,
    divided by ``d``. For iid ``U(0, 1)`` data it is close to ``(d - k) / (12 d)``. Data with no
    more rows than columns is refused (ValueError): its floor would be 0 for ``k >= n - 1``.
    """
    x = as_data_tensor(x)
    check_more_rows_than_columns(x)
    d = x.shape[1]
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= d:
        raise ValueError(
            f"encoding dim k must be an integer in [0, d] = [0, {d}], got {k!r}; "
            "a code wider than the data cannot lose anything, so its floor is pca_floor(x, d) = 0."
        )
    eigenvalues = covariance_eigenvalues(x)
    return float(eigenvalues[k:].sum() / d)


def loss_floor(x: torch.Tensor, loss: str, encoding_dim: int | None = None) -> float:
    """Return the floor for ``loss`` on data ``x``.

    For ``"bce"``/``"bce_prob"`` it is the entropy floor (``bce_floor``). For ``"mse"`` it is the
    PCA floor when ``encoding_dim`` is given and smaller than the width of ``x``, else 0. The
    PCA floor bounds linear models exactly; for non-linear ones it is the linear benchmark.
    """
    from .losses import BCE_LOSSES, check_loss_name

    check_loss_name(loss)
    if loss in BCE_LOSSES:
        return bce_floor(x)
    x = as_data_tensor(x)
    if encoding_dim is None or encoding_dim >= x.shape[1]:
        return 0.0
    return pca_floor(x, encoding_dim)
