"""Callbacks: a Keras 3 callback that logs the data's loss floor and each epoch's excess over it.

``import aebook`` imports neither this module nor Keras; ``import aebook.callbacks`` imports Keras on the
backend the reader chose (``KERAS_BACKEND`` or ``~/.keras/keras.json``): aebook never sets it.
"""

from __future__ import annotations

from collections.abc import MutableMapping

import numpy as np
import torch

try:
    import keras
except ImportError as err:  # e.g. Keras's default backend, TensorFlow, is not installed
    message = f"importing keras failed ({err}); choose an installed backend with KERAS_BACKEND, e.g. torch."
    raise ImportError(f"aebook.callbacks needs Keras 3 on a backend that is installed: {message}") from err

from .data import as_data_tensor, check_encoding_dim, check_positive_int
from .floors import loss_floor
from .losses import check_loss_name

__all__ = ["KerasExcess"]


class KerasExcess(keras.callbacks.Callback):
    """Add the floor of ``x`` and each epoch's excess over it to Keras's logs, in the loss's units.

    The floor is computed once, here, by :func:`aebook.floors.loss_floor`. At the end of each epoch the
    logs, and so ``History.history`` and the progress output, gain ``floor``, ``excess = loss - floor``
    and, when Keras validated, ``val_excess = val_loss - floor`` (the floor of ``x``, not of the
    validation data: for data drawn like ``x`` they differ by sampling error).

    * ``loss="bce"``: the floor is the mean binary entropy of the targets (:func:`aebook.floors.bce_floor`),
      in nats per element, the units of Keras's ``binary_crossentropy`` (natural logs, averaged over elements).
    * ``loss="mse"``: squared error per element; the floor is the PCA floor (:func:`aebook.floors.pca_floor`)
      with ``encoding_dim=k``, else 0. The PCA floor bounds linear codes only: a non-linear model can go
      below it, so its excess can be negative.

    Args:
        x: the targets the model is fitted to (an autoencoder's inputs), numpy array or tensor (n_samples, n_features).
        loss: the loss the model is compiled with: ``"bce"`` (Keras's ``"binary_crossentropy"``) or ``"mse"``.
        encoding_dim: the width of the model's code, a positive integer at most n_features; only ``"mse"`` uses it.

    Attributes:
        floor: the floor, in the loss's units (nats per element for BCE).
        excess: ``loss - floor`` of every epoch this callback has seen, in order.
        val_excess: ``val_loss - floor`` of every epoch that Keras validated.

    Raises:
        ValueError: an unknown loss, ``x`` not 2-D and finite, BCE targets outside [0, 1], or a bad ``encoding_dim``.
    """

    def __init__(self, x: np.ndarray | torch.Tensor, loss: str = "bce", encoding_dim: int | None = None) -> None:
        super().__init__()
        check_loss_name(loss)
        data = as_data_tensor(x)
        if encoding_dim is not None:
            check_encoding_dim(check_positive_int(encoding_dim, "encoding_dim"), data.shape[1])
        self.floor = loss_floor(data, loss, encoding_dim)
        self.excess: list[float] = []
        self.val_excess: list[float] = []

    def on_epoch_end(self, epoch: int, logs: MutableMapping[str, float] | None = None) -> None:
        """Add ``floor``, ``excess`` and (if ``val_loss`` is there) ``val_excess`` to the epoch's ``logs``."""
        if logs is None or "loss" not in logs:
            keys = sorted(logs or {})
            raise ValueError(
                f"KerasExcess needs the training loss, but the logs of epoch {epoch} have no 'loss' "
                f"(keys: {keys}); pass it to model.fit(..., callbacks=[...]) of a compiled model."
            )
        logs["floor"] = self.floor
        logs["excess"] = float(logs["loss"]) - self.floor
        self.excess.append(logs["excess"])
        if "val_loss" in logs:
            logs["val_excess"] = float(logs["val_loss"]) - self.floor
            self.val_excess.append(logs["val_excess"])
