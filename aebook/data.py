"""Seeded data generators. Each uses its own ``torch.Generator``; the global RNG is never touched.

All return float32 tensors of shape ``(n, d)``.
"""

from __future__ import annotations

import torch

from ._validation import check_positive_int

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

    Each row is ``z @ B + noise * e`` with ``z ~ N(0, I_rank)``, ``e ~ N(0, I_d)`` and a fixed
    basis ``B`` (``rank x d``). With ``rank=1`` the basis is the all-ones row, so rows look like
    ``[a, a, ..., a]``; for ``rank > 1`` it has orthonormal rows scaled by ``sqrt(d)``, so every
    latent direction carries the same variance per feature as in the rank-1 case. The noise
    variance per feature is ``noise**2``, which is also the PCA floor for ``k >= rank``.
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
