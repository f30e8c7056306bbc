"""Evaluate a trained model on data: its loss, the floor under it and the excess over the floor."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .floors import loss_floor
from .losses import check_loss_name, loss_function
from .models import Autoencoder
from .train import prepare_training_data


@dataclass(frozen=True)
class Evaluation:
    """A model's loss on data, split into what no model can remove and what this one could.

    Attributes:
        loss: mean loss on the data (nats per element for BCE, MSE per element otherwise).
        floor: the floor for this loss and data (see ``aebook.floors.loss_floor``).
        excess: ``loss - floor``: what a better model could still remove.
        mse: mean squared reconstruction error per element, whatever the loss.
    """

    loss: float
    floor: float
    excess: float
    mse: float


@torch.no_grad()
def evaluate(model: Autoencoder, x: torch.Tensor, loss: str = "bce", batch_size: int = 8192) -> Evaluation:
    """Return the ``Evaluation`` of ``model`` on ``x`` for ``loss``, accumulated in float64."""
    check_loss_name(loss, model.output)
    x = prepare_training_data(x, loss, model.n_features)
    loss_fn = loss_function(loss, model.output)
    was_training = model.training
    model.eval()
    param = next(model.parameters())
    total_loss = torch.zeros((), dtype=torch.float64)
    total_sq = torch.zeros((), dtype=torch.float64)
    for begin in range(0, x.shape[0], batch_size):
        batch = x[begin : begin + batch_size].to(device=param.device, dtype=param.dtype)
        logits = model.logits(batch)
        total_loss += loss_fn(logits, batch).double().cpu() * batch.numel()
        recon = torch.sigmoid(logits) if model.output == "sigmoid" else logits
        total_sq += ((recon.double() - batch.double()) ** 2).sum().cpu()
    model.train(was_training)
    mean_loss = float(total_loss / x.numel())
    floor = loss_floor(x, loss, model.encoding_dim)
    return Evaluation(loss=mean_loss, floor=floor, excess=mean_loss - floor, mse=float(total_sq / x.numel()))


def excess(model: Autoencoder, x: torch.Tensor, loss: str = "bce") -> float:
    """Return the model's loss on ``x`` minus the floor for that loss (nats or MSE per element)."""
    return evaluate(model, x, loss).excess
