"""Code for the chapter "Bernoulli data" (bernoulli.ipynb): where float32 slows BCE on binary targets, and its figures.

The chapter trains with ``aebook.fit``/``aebook.fit_traced`` and compares with
``aebook.floors.best_sigmoid_affine``; this module adds what it alone uses:

* ``sigmoid_saturation_logit``: the smallest logit whose sigmoid rounds to exactly 1.0.
* ``logit_sweep``: loss and gradient of both BCE forms, in float32, against the float64 truth.
* ``bce_parts``: a trained model's BCE split by target value, as float64 truth and as each
  float32 form reports it.
* The chapter's figures: ``logit_sweeps``, ``reported_vs_true``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.axes import Axes

from aebook import Autoencoder, Trace
from aebook.data import as_data_tensor, as_float64, check_unit_interval
from aebook.floors import bce_logits64
from aebook.losses import BCE_LOSSES, check_loss_name, loss_and_grad
from aebook.plot import finish_axes, new_axes

__all__ = [
    "BCEParts",
    "LogitSweep",
    "bce_parts",
    "logit_sweep",
    "logit_sweeps",
    "reported_vs_true",
    "sigmoid_saturation_logit",
]


def sigmoid_saturation_logit(dtype: torch.dtype = torch.float32) -> float:
    """Return the smallest logit ``z`` of ``dtype`` with ``torch.sigmoid(z) == 1.0`` exactly.

    Found by bisection over the (ordered) bit patterns of the positive floats of ``dtype``. For
    float32 it is about ``24 ln 2 = 16.636``: ``1 + exp(-z)`` rounds to 1 once ``exp(-z) <= 2**-24``,
    half the spacing of float32 numbers just above 1. Above it, the prediction is exactly 1, so
    ``sigmoid(z) - 1``, the BCE gradient for a target 1, is exactly 0 on either scale.

    Raises:
        ValueError: for a dtype other than float16, bfloat16, float32 or float64.
    """
    ints = {torch.float16: torch.int16, torch.bfloat16: torch.int16, torch.float32: torch.int32,
            torch.float64: torch.int64}
    if dtype not in ints:
        raise ValueError(f"dtype must be one of {', '.join(map(str, ints))}, got {dtype!r}.")

    def as_float(bits: int) -> torch.Tensor:
        return torch.tensor([bits], dtype=ints[dtype]).view(dtype)

    def bits_of(value: float) -> int:
        return int(torch.tensor([value], dtype=dtype).view(ints[dtype])[0])

    lo, hi = bits_of(1.0), bits_of(60.0)  # sigmoid(1) < 1 and sigmoid(60) == 1 in every such dtype
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if torch.sigmoid(as_float(mid))[0] == 1.0:
            hi = mid
        else:
            lo = mid
    return float(as_float(hi)[0])


@dataclass(frozen=True)
class LogitSweep:
    """The BCE of one target over a range of logits: float32 as training computes it, and float64 truth.

    Attributes:
        logits: the logits ``z`` (float64 array).
        target: the target, 0 or 1.
        loss: ``{"bce": ..., "bce_prob": ...}``: the float32 loss per element of each form, in nats.
        grad: the float32 gradient of each form with respect to the logit, as ``aebook`` trains with
            it (``aebook.losses.loss_and_grad``, which matches autograd).
        true_loss: ``softplus(z) - t z`` in float64 (computed without cancellation).
        true_grad: ``sigmoid(z) - t`` in float64 (as ``-sigmoid(-z)`` for ``t = 1``, without cancellation).
    """

    logits: np.ndarray
    target: float
    loss: dict[str, np.ndarray]
    grad: dict[str, np.ndarray]
    true_loss: np.ndarray
    true_grad: np.ndarray


def logit_sweep(logits: object, target: float) -> LogitSweep:
    """Return a ``LogitSweep``: both BCE forms' float32 loss and gradient at each logit, and the float64 truth.

    ``"bce"`` is the logit scale (``binary_cross_entropy_with_logits``, as ``aebook`` trains with
    ``loss="bce"``); ``"bce_prob"`` is the probability scale (sigmoid, then ``binary_cross_entropy``,
    whose log is clamped at -100). The logits are rounded to float32 first, and the truth is
    computed from those rounded values.

    Raises:
        ValueError: if ``target`` is not 0 or 1, or a logit is not finite.
    """
    if target not in (0, 1):
        raise ValueError(f"target must be 0 or 1 (a binary BCE target), got {target!r}.")
    z32 = as_float64(logits, "logits").reshape(-1).to(torch.float32)
    # one "member" per logit, one element each: loss_and_grad returns per-element values
    z = z32.reshape(-1, 1, 1)
    t = torch.full_like(z, float(target))
    loss: dict[str, np.ndarray] = {}
    grad: dict[str, np.ndarray] = {}
    for name in BCE_LOSSES:
        value, g = loss_and_grad(name, "sigmoid", z, t)
        loss[name] = value.double().numpy()
        grad[name] = g.reshape(-1).double().numpy()
    z64 = z32.double()
    return LogitSweep(
        logits=z64.numpy(),
        target=float(target),
        loss=loss,
        grad=grad,
        true_loss=bce_logits64(torch.full_like(z64, float(target)), z64).numpy(),
        true_grad=((1 - float(target)) * torch.sigmoid(z64) - float(target) * torch.sigmoid(-z64)).numpy(),
    )


@dataclass(frozen=True)
class BCEParts:
    """A model's mean BCE on binary data, split into the elements with target 1 and with target 0.

    Every part is a sum over those elements divided by the total number of elements, in nats, so
    ``ones + zeros`` is the mean BCE. ``true`` is computed in float64 from the model's float32
    weights; ``bce`` and ``bce_prob`` are the per-element losses each form computes in float32
    (summed in float64, so only the per-element round-off shows).

    Attributes:
        ones_fraction: fraction of elements with target 1.
        min_logit_ones: the smallest logit over the target-1 elements.
        max_logit_ones: the largest logit over the target-1 elements.
        min_logit_zeros: the smallest logit over the target-0 elements.
        max_logit_zeros: the largest logit over the target-0 elements.
        saturated_ones: fraction of target-1 elements whose float32 sigmoid is exactly 1.0.
        true: ``{"ones": ..., "zeros": ..., "total": ...}`` in float64.
        bce: the same split for the logit-scale form in float32.
        bce_prob: the same split for the probability-scale form in float32.
    """

    ones_fraction: float
    min_logit_ones: float
    max_logit_ones: float
    min_logit_zeros: float
    max_logit_zeros: float
    saturated_ones: float
    true: dict[str, float]
    bce: dict[str, float]
    bce_prob: dict[str, float]


@torch.no_grad()
def bce_parts(model: Autoencoder, x: torch.Tensor) -> BCEParts:
    """Return the ``BCEParts`` of a sigmoid ``model`` on binary data ``x`` (values in {0, 1}), in nats per element.

    Raises:
        ValueError: if ``x`` is not binary, or the model has no sigmoid output.
    """
    x = as_data_tensor(x)
    check_unit_interval(x)
    if not bool(((x == 0) | (x == 1)).all()):
        raise ValueError("bce_parts needs binary data (every value 0 or 1); use aebook.evaluate for other targets.")
    check_loss_name("bce", model.output)
    was_training = model.training
    model.eval()
    z32 = model.logits(x.to(next(model.parameters()).dtype)).float()
    z64 = copy.deepcopy(model).double().logits(x.double())
    model.train(was_training)
    t32, t64 = x.float(), x.double()
    ones = t64 == 1
    n = x.numel()

    def split(per_element: torch.Tensor) -> dict[str, float]:
        per_element = per_element.double()
        a, b = float(per_element[ones].sum() / n), float(per_element[~ones].sum() / n)
        return {"ones": a, "zeros": b, "total": a + b}

    p32 = torch.sigmoid(z32)
    return BCEParts(
        ones_fraction=float(ones.double().mean()),
        min_logit_ones=float(z64[ones].min()) if ones.any() else math.inf,
        max_logit_ones=float(z64[ones].max()) if ones.any() else -math.inf,
        min_logit_zeros=float(z64[~ones].min()) if (~ones).any() else math.inf,
        max_logit_zeros=float(z64[~ones].max()) if (~ones).any() else -math.inf,
        saturated_ones=float((p32[ones] == 1.0).double().mean()) if ones.any() else 0.0,
        true=split(bce_logits64(t64, z64)),
        bce=split(F.binary_cross_entropy_with_logits(z32, t32, reduction="none")),
        bce_prob=split(F.binary_cross_entropy(p32, t32, reduction="none")),
    )


# --------------------------------------------------------------------------------------------
# The chapter's figures
# --------------------------------------------------------------------------------------------


def logit_sweeps(sweeps: Sequence[LogitSweep], threshold: float | None = None) -> np.ndarray:
    """Plot, for each ``LogitSweep`` (one column per target), the loss and gradient size of both BCE forms.

    Top row: loss per element in nats; bottom row: the absolute gradient with respect to the
    logit; both on a log scale, float32 forms against the float64 truth. Where a form's float32
    value is exactly 0 its curve has a gap (log scale) and the region is shaded in its colour.
    ``threshold`` draws the logit above which float32 ``sigmoid`` returns exactly 1.0. Returns the
    2 x n array of Axes.
    """
    names = {"bce": "logit scale (float32)", "bce_prob": "probability scale (float32)"}
    fig, axes = plt.subplots(2, len(sweeps), figsize=(5.4 * len(sweeps), 6.8), layout="constrained",
                             sharex=True, squeeze=False)
    for col, sweep in enumerate(sweeps):
        z = sweep.logits
        rows = ((axes[0, col], sweep.true_loss, sweep.loss), (axes[1, col], sweep.true_grad, sweep.grad))
        for ax, truth, values in rows:
            ax.plot(z, np.abs(truth), color="black", linewidth=3, alpha=0.3, label="true (float64)")
            for i, (name, label) in enumerate(names.items()):
                v = np.abs(values[name])
                ax.plot(z, np.where(v > 0, v, np.nan), color=f"C{i}", linestyle="-" if i == 0 else "--", label=label)
                if (v == 0).any():
                    ax.fill_between(z, 0, 1, where=v == 0, transform=ax.get_xaxis_transform(), color=f"C{i}",
                                    alpha=0.15, label=f"{label} exactly 0")
            ax.set_yscale("log")
            ax.grid(True, which="major", alpha=0.3)
            if threshold is not None:
                ax.axvline(threshold, color="gray", linestyle=":", linewidth=1, label="float32 sigmoid = 1 from here")
        axes[0, col].set_title(f"target t = {sweep.target:g}")
        axes[0, col].set_ylabel("loss per element (nats)")
        axes[1, col].set_ylabel("|d loss / d logit|")
        axes[1, col].set_xlabel("logit z")
    handles: dict[str, object] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncol=3, fontsize="small")
    return axes


def reported_vs_true(traces: Mapping[str, Trace], wall: float | None = None, ax: Axes | None = None) -> Axes:
    """Plot per epoch, for each labelled ``Trace``, the loss training reported and the true loss; return the Axes.

    Reported: ``trace.reported`` (dashed); true: ``trace.loss`` (solid, float64 when the trace is
    exact). ``wall`` draws the loss at which the float32 gradient of the target-1 elements vanishes.
    Both in nats per element.
    """
    ax = ax or new_axes()
    for i, (label, trace) in enumerate(traces.items()):
        ax.plot(trace.epoch, trace.loss, color=f"C{i}", label=f"{label}: true loss (float64)")
        reported = np.where(trace.reported > 0, trace.reported, np.nan)
        ax.plot(trace.epoch, reported, color=f"C{i}", linestyle="--", label=f"{label}: reported in training")
    if wall is not None:
        ax.axhline(wall, color="black", linestyle=":", linewidth=1, label=f"float32 gradient wall = {wall:.3g}")
    return finish_axes(ax, "epoch", "BCE (nats per element)", logy=True)
