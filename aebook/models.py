"""Models: the autoencoder builder (widths, activation, output head, initialisation) and looking inside one
(its end-to-end linear map, its dead units)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .data import as_data_tensor, check_positive_int, check_width

ACTIVATIONS = ("linear", "relu", "leaky_relu")
OUTPUTS = ("linear", "sigmoid")
INITS = ("pytorch", "glorot", "orthogonal")


def _activation(name: str, negative_slope: float) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    return nn.Identity()


def _choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(map(repr, allowed))}.")
    return value


class Autoencoder(nn.Module):
    """A fully connected autoencoder ``n_features -> *hidden -> encoding_dim -> *reversed(hidden) -> n_features``.

    Every layer but the last is followed by ``activation``; the last feeds the output head.

    Args:
        hidden: widths of the encoder's hidden layers; the decoder mirrors them.
        activation: ``"linear"``, ``"relu"`` or ``"leaky_relu"``.
        output: ``"sigmoid"`` (reconstruction in (0, 1)) or ``"linear"``.
        seed: fixes the initial weights; ``None`` draws them from torch's global RNG.
        init: ``"pytorch"`` (nn.Linear's default), ``"glorot"`` (Keras's: Glorot-uniform weights, zero
            biases) or ``"orthogonal"`` (a random (semi-)orthogonal matrix per layer, gain 1, zero biases).
    """

    def __init__(self, n_features: int, encoding_dim: int, hidden: Sequence[int] = (), activation: str = "linear",
                 output: str = "linear", seed: int | None = None, init: str = "pytorch",
                 negative_slope: float = 0.01) -> None:
        super().__init__()
        self.n_features = check_positive_int(n_features, "n_features")
        self.encoding_dim = check_positive_int(encoding_dim, "encoding_dim")
        self.hidden = tuple(check_positive_int(h, "each hidden width") for h in hidden)
        self.activation = _choice(activation, ACTIVATIONS, "activation")
        self.output = _choice(output, OUTPUTS, "output")
        self.init = _choice(init, INITS, "init")
        self.negative_slope = float(negative_slope)
        self.seed = seed
        widths = [self.n_features, *self.hidden, self.encoding_dim, *reversed(self.hidden), self.n_features]
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(int(seed))
            layers: list[nn.Module] = []
            for i, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:], strict=False)):
                layers.append(nn.Linear(w_in, w_out))
                if i < len(widths) - 2:
                    layers.append(_activation(self.activation, self.negative_slope))
            if self.init != "pytorch":
                for layer in layers:
                    if isinstance(layer, nn.Linear):
                        (nn.init.xavier_uniform_ if self.init == "glorot" else nn.init.orthogonal_)(layer.weight)
                        nn.init.zeros_(layer.bias)
        n_encoder = 2 * (len(self.hidden) + 1)
        self.encoder = nn.Sequential(*layers[:n_encoder])
        self.decoder = nn.Sequential(*layers[n_encoder:])

    @property
    def architecture(self) -> dict:
        """The settings that define the model's shape (used to check that models can be batched)."""
        return {"n_features": self.n_features, "encoding_dim": self.encoding_dim, "hidden": self.hidden,
                "activation": self.activation, "output": self.output, "negative_slope": self.negative_slope}

    def linear_layers(self) -> list[nn.Linear]:
        """Return the model's ``nn.Linear`` layers, input to output."""
        return [m for m in self.modules() if isinstance(m, nn.Linear)]

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        x = as_data_tensor(x)
        check_width(x, self.n_features)
        return x.to(self.encoder[0].weight.dtype)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Return the code, shape ``(n, encoding_dim)``."""
        return self.encoder(self._check(x))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Return the output before the head (the logits when ``output="sigmoid"``)."""
        return self.decoder(self.encoder(self._check(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the reconstruction (after the sigmoid when the model has one)."""
        z = self.logits(x)
        return torch.sigmoid(z) if self.output == "sigmoid" else z

    def extra_repr(self) -> str:
        """Return the settings ``print(model)`` shows beside the layers (output head and init)."""
        return f"output={self.output!r}, init={self.init!r}"


# --- looking inside a model ----------------------------------------------------------------------
def end_to_end_map(model: Autoencoder) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(W, b)`` with ``logits(x) = x @ W.T + b`` for a model with linear activation (else ValueError)."""
    if model.activation != "linear":
        raise ValueError(f"end_to_end_map needs activation='linear', this model uses {model.activation!r}.")
    d = model.n_features
    weight = torch.eye(d, dtype=torch.float64)
    bias = torch.zeros(d, dtype=torch.float64)
    with torch.no_grad():
        for layer in model.linear_layers():
            w, c = layer.weight.double().cpu(), layer.bias.double().cpu()
            weight, bias = w @ weight, w @ bias + c
    return weight.numpy(), bias.numpy()


def singular_values(model: Autoencoder) -> np.ndarray:
    """Return the singular values of the end-to-end linear map, largest first."""
    weight, _ = end_to_end_map(model)
    return np.linalg.svd(weight, compute_uv=False)


@dataclass(frozen=True)
class DeadUnits:
    """Dead ReLU units per activation layer.

    Attributes:
        dead: number of units in each layer whose pre-activation is <= 0 on every row of the data.
        width: number of units in each layer.
    """

    dead: tuple[int, ...]
    width: tuple[int, ...]

    @property
    def total(self) -> int:
        """Dead units over all layers."""
        return sum(self.dead)

    @property
    def fraction(self) -> float:
        """Dead units over all units in activation layers (0 when there are none)."""
        return self.total / sum(self.width) if self.width else 0.0


@torch.no_grad()
def dead_units(model: Autoencoder, x: torch.Tensor, batch_size: int = 8192) -> DeadUnits:
    """Count units after each activation layer that are zero for every row of ``x``.

    A dead ReLU unit passes no gradient to its own weights; it can come back only if the layers
    below it change. For leaky ReLU the count is of units
    whose pre-activation is never positive ("would be dead under ReLU"); they still learn.
    """
    x = as_data_tensor(x)
    check_width(x, model.n_features)
    layers = list(model.encoder) + list(model.decoder)
    param = next(model.parameters())
    ever_positive: dict[int, torch.Tensor] = {}
    for begin in range(0, x.shape[0], batch_size):
        h = x[begin : begin + batch_size].to(device=param.device, dtype=param.dtype)
        for i, layer in enumerate(layers):
            followed_by_unit = i + 1 < len(layers) and isinstance(layers[i + 1], (nn.ReLU, nn.LeakyReLU))
            if isinstance(layer, nn.Linear) and followed_by_unit:
                positive = (layer(h) > 0).any(dim=0).cpu()
                ever_positive[i] = ever_positive.get(i, torch.zeros_like(positive)) | positive
            h = layer(h)
    return DeadUnits(dead=tuple(int((~p).sum()) for _, p in sorted(ever_positive.items())),
                     width=tuple(int(p.numel()) for _, p in sorted(ever_positive.items())))
