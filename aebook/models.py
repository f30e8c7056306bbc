"""The autoencoder builder: widths, activation, output head, initialisation."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._validation import as_data_tensor, check_positive_int, check_width

ACTIVATIONS = ("linear", "relu", "leaky_relu")
OUTPUTS = ("linear", "sigmoid")
INITS = ("pytorch", "glorot")


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

    Every layer but the last is followed by ``activation``; the last one feeds the output head
    (``"sigmoid"`` or ``"linear"``). With ``hidden=()`` and ``activation="linear"`` the model is
    exactly ``x_hat = head(W_dec (W_enc x + b_enc) + b_dec)``.

    Args:
        n_features: width of the data.
        encoding_dim: width of the code layer (``< n_features`` makes a bottleneck).
        hidden: widths of the encoder's hidden layers; the decoder mirrors them.
        activation: ``"linear"``, ``"relu"`` or ``"leaky_relu"``.
        output: ``"sigmoid"`` (reconstruction in (0, 1)) or ``"linear"``.
        seed: fixes the initial weights; ``None`` draws them from torch's global RNG.
        init: ``"pytorch"`` (nn.Linear's default) or ``"glorot"`` (Keras's default:
            Glorot-uniform weights, zero biases).
        negative_slope: slope of leaky ReLU for negative inputs.
    """

    def __init__(
        self,
        n_features: int,
        encoding_dim: int,
        hidden: Sequence[int] = (),
        activation: str = "linear",
        output: str = "linear",
        seed: int | None = None,
        init: str = "pytorch",
        negative_slope: float = 0.01,
    ) -> None:
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
            if self.init == "glorot":
                for layer in layers:
                    if isinstance(layer, nn.Linear):
                        nn.init.xavier_uniform_(layer.weight)
                        nn.init.zeros_(layer.bias)
        n_encoder = 2 * (len(self.hidden) + 1)
        self.encoder = nn.Sequential(*layers[:n_encoder])
        self.decoder = nn.Sequential(*layers[n_encoder:])

    @property
    def architecture(self) -> dict:
        """The settings that define the model's shape (used to check that models can be batched)."""
        return {
            "n_features": self.n_features,
            "encoding_dim": self.encoding_dim,
            "hidden": self.hidden,
            "activation": self.activation,
            "output": self.output,
            "negative_slope": self.negative_slope,
        }

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
        return f"output={self.output!r}, init={self.init!r}"
