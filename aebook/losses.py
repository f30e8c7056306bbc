"""Losses: one table of each reconstruction loss's per-element value and its gradient in the logits.

``"mse"``: squared error per element; ``"bce"``: binary cross-entropy in nats per element on the logit
scale; ``"bce_prob"``: the same on the probability scale (sigmoid, then PyTorch's ``binary_cross_entropy``,
which clamps each log at -100). Training, ``evaluate`` and the chapters all read ``LOSS_TABLE``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

LOSSES = ("mse", "bce", "bce_prob")
BCE_LOSSES = ("bce", "bce_prob")
BCE_EPSILON = 1e-12  # the clamp in PyTorch's binary_cross_entropy backward

Tensor = torch.Tensor


@dataclass(frozen=True)
class Loss:
    """One loss for one output head.

    Attributes:
        elementwise: ``f(logits, target)``: the loss of each element (nats for BCE).
        grad: ``g(logits, target, n)``: the gradient of the mean over ``n`` elements in each logit.
    """

    elementwise: Callable[[Tensor, Tensor], Tensor]
    grad: Callable[[Tensor, Tensor, int], Tensor]


def _bce_prob_grad(z: Tensor, t: Tensor, n: int) -> Tensor:
    p = torch.sigmoid(z)
    slope = p * (1 - p)
    return (p - t) / slope.clamp_min(BCE_EPSILON) * slope / n


def _sigmoid_mse_grad(z: Tensor, t: Tensor, n: int) -> Tensor:
    p = torch.sigmoid(z)
    return (p - t) * (2.0 / n) * p * (1 - p)


#: (loss name, output head) -> its ``Loss``. The written forms fix the float32 arithmetic that
#: every stored output was made with; change them only with a re-execution of the book.
LOSS_TABLE: dict[tuple[str, str], Loss] = {
    ("bce", "sigmoid"): Loss(
        lambda z, t: F.binary_cross_entropy_with_logits(z, t, reduction="none"),
        lambda z, t, n: (torch.sigmoid(z) - t) / n,
    ),
    ("bce_prob", "sigmoid"): Loss(
        lambda z, t: F.binary_cross_entropy(torch.sigmoid(z), t, reduction="none"), _bce_prob_grad
    ),
    ("mse", "sigmoid"): Loss(lambda z, t: (torch.sigmoid(z) - t).square(), _sigmoid_mse_grad),
    ("mse", "linear"): Loss(lambda z, t: (z - t).square(), lambda z, t, n: (z - t) * (2.0 / n)),
}


def check_loss_name(name: str, output: str | None = None) -> str:
    """Return ``name`` if it is a known loss that fits a model with this output head."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(map(repr, LOSSES))}.")
    if name in BCE_LOSSES and output is not None and output != "sigmoid":
        raise ValueError(f"loss={name!r} needs a model with output='sigmoid' (BCE compares probabilities); "
                         "build the model with output='sigmoid' or use loss='mse'.")
    return name


def loss_for(name: str, output: str) -> Loss:
    """Return the ``Loss`` of ``name`` for a model with this output head (ValueError if it does not fit)."""
    check_loss_name(name, output)
    return LOSS_TABLE[(name, output)]


def loss_function(name: str, output: str) -> Callable[[Tensor, Tensor], Tensor]:
    """Return ``f(logits, target) -> mean loss per element`` for loss ``name`` and head ``output``."""
    elementwise = loss_for(name, output).elementwise
    return lambda z, t: elementwise(z, t).mean()


def loss_and_grad(name: str, output: str, logits: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """Return each member's mean loss per element ``(K,)`` and its logit gradient, for ``(K, B, d)`` inputs."""
    loss = loss_for(name, output)
    per_member = target[0].numel()
    return loss.elementwise(logits, target).mean(dim=(1, 2)), loss.grad(logits, target, per_member)
