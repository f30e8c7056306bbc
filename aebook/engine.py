"""Engine: the batched forward, backward and Adam step behind ``fit`` and ``fit_many``.

K same-shaped models share one ``(K, P)`` buffer; gradients are hand-written (tested against autograd) and
Adam updates the whole buffer at once. ``fit`` is K = 1, so a ``fit_many`` member follows ``fit``'s arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .models import Autoencoder

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8  # Adam's defaults in PyTorch


@dataclass
class _Layer:
    weight: torch.Tensor  # (K, out, in) view into the parameter buffer
    bias: torch.Tensor  # (K, out) view into the parameter buffer


class StackedAutoencoders:
    """The parameters of K same-shaped autoencoders in one buffer, with forward and backward."""

    def __init__(self, models: Sequence[Autoencoder], device: torch.device, dtype: torch.dtype) -> None:
        first = models[0]
        self.output = first.output
        self.activation = first.activation
        self.negative_slope = first.negative_slope
        self.shapes = [tuple(layer.weight.shape) for layer in first.linear_layers()]
        sizes = [o * i + o for o, i in self.shapes]
        self.k = len(models)
        self.params = torch.empty(self.k, sum(sizes), device=device, dtype=dtype)
        self.layers: list[_Layer] = []
        offset = 0
        for out_w, in_w in self.shapes:
            weight = self.params[:, offset : offset + out_w * in_w].view(self.k, out_w, in_w)
            offset += out_w * in_w
            bias = self.params[:, offset : offset + out_w]
            offset += out_w
            self.layers.append(_Layer(weight, bias))
        with torch.no_grad():
            for member, model in enumerate(models):
                for layer, linear in zip(self.layers, model.linear_layers(), strict=False):
                    layer.weight[member].copy_(linear.weight)
                    layer.bias[member].copy_(linear.bias)

    def write_back(self, models: Sequence[Autoencoder]) -> None:
        """Copy the trained parameters back into the models."""
        with torch.no_grad():
            for member, model in enumerate(models):
                for layer, linear in zip(self.layers, model.linear_layers(), strict=False):
                    linear.weight.copy_(layer.weight[member])
                    linear.bias.copy_(layer.bias[member])

    def _act(self, a: torch.Tensor) -> torch.Tensor:
        if self.activation == "relu":
            return torch.relu(a)
        if self.activation == "leaky_relu":
            return F.leaky_relu(a, self.negative_slope)
        return a

    def _act_grad(self, a: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        if self.activation == "relu":
            return grad * (a > 0)
        if self.activation == "leaky_relu":
            return torch.where(a > 0, grad, grad * self.negative_slope)
        return grad

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """Return the logits ``(K, B, d)``, each layer's input and each hidden pre-activation."""
        inputs, pre = [], []
        h = x
        for i, layer in enumerate(self.layers):
            inputs.append(h)
            a = torch.baddbmm(layer.bias.unsqueeze(1), h, layer.weight.transpose(1, 2))
            if i < len(self.layers) - 1:
                pre.append(a)
                h = self._act(a)
            else:
                h = a
        return h, inputs, pre

    def backward(self, grad_logits: torch.Tensor, inputs: list[torch.Tensor], pre: list[torch.Tensor]) -> torch.Tensor:
        """Return the gradient of the loss with respect to the parameter buffer, shape ``(K, P)``."""
        pieces: list[torch.Tensor] = []
        grad = grad_logits
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            pieces.append(grad.sum(dim=1))
            pieces.append(torch.bmm(grad.transpose(1, 2), inputs[i]).flatten(1))
            if i > 0:
                grad = self._act_grad(pre[i - 1], torch.bmm(grad, layer.weight))
        return torch.cat(pieces[::-1], dim=1)


class Adam:
    """Adam over the ``(K, P)`` buffer with one learning rate per member (0 freezes a member)."""

    def __init__(self, params: torch.Tensor, lr: torch.Tensor) -> None:
        self.params = params
        self.lr = lr.reshape(-1, 1).to(device=params.device, dtype=params.dtype)
        self.exp_avg = torch.zeros_like(params)
        self.exp_avg_sq = torch.zeros_like(params)
        self.step_count = 0

    def step(self, grad: torch.Tensor) -> None:
        self.step_count += 1
        bias1 = 1 - BETA1**self.step_count
        bias2_sqrt = (1 - BETA2**self.step_count) ** 0.5
        self.exp_avg.lerp_(grad, 1 - BETA1)
        self.exp_avg_sq.mul_(BETA2).addcmul_(grad, grad, value=1 - BETA2)
        denom = (self.exp_avg_sq.sqrt() / bias2_sqrt).add_(EPS)
        self.params.sub_(self.exp_avg / denom * (self.lr / bias1))

    def freeze(self, member: int) -> None:
        """Stop updating ``member`` (its parameters stay as they are)."""
        self.lr[member] = 0.0
