"""Reconstruction losses by name, all computed from the model's logits.

* ``"mse"``: mean squared error per element between the reconstruction and the target.
* ``"bce"``: binary cross-entropy in nats per element, computed on the logit scale
  (``binary_cross_entropy_with_logits``): numerically stable.
* ``"bce_prob"``: the same quantity computed on the probability scale, ``sigmoid`` first and
  then ``binary_cross_entropy`` (as Keras does); kept for the round-off comparison. PyTorch
  clamps each log at -100, so a prediction rounded to exactly 0 or 1 costs at most 100 nats.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

LOSSES = ("mse", "bce", "bce_prob")
BCE_LOSSES = ("bce", "bce_prob")


def check_loss_name(name: str, output: str | None = None) -> str:
    """Return ``name`` if it is a known loss that fits a model with this output head."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(map(repr, LOSSES))}.")
    if name in BCE_LOSSES and output is not None and output != "sigmoid":
        raise ValueError(
            f"loss={name!r} needs a model with output='sigmoid' (BCE compares probabilities); "
            "build the model with output='sigmoid' or use loss='mse'."
        )
    return name


def loss_function(name: str, output: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Return ``f(logits, target) -> mean loss per element`` for loss ``name`` and head ``output``."""
    check_loss_name(name, output)
    if name == "bce":
        return F.binary_cross_entropy_with_logits
    if name == "bce_prob":
        return lambda z, t: F.binary_cross_entropy(torch.sigmoid(z), t)
    if output == "sigmoid":
        return lambda z, t: F.mse_loss(torch.sigmoid(z), t)
    return F.mse_loss
