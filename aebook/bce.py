"""Analysis for the two BCE chapters: why sigmoid + BCE stalls on uniform data, and what float32
does to it on binary data.

Uniform targets (chapter "Sigmoid + BCE on uniform data"):

* ``bernoulli_kl``: the excess of one prediction, ``BCE(t, p) - H(t) = KL(Bern(t) || Bern(p))``.
* ``best_sigmoid_affine``: the best a per-feature ``sigmoid(a t + b)`` can do for ``t ~ U(0, 1)``,
  computed in float64 by quadrature; ``sigmoid_affine_autoencoder`` builds that model as an
  ``aebook.Autoencoder`` so it can be evaluated like a trained one.
* ``fit_traced``: ``aebook.fit`` that also records, after every epoch, the model's BCE, the
  entropy floor, the excess over it and the reconstruction MSE (via ``aebook.evaluate``).
* ``continuous_bernoulli_nll``, ``continuous_bernoulli_best``, ``beta_nll``, ``loss_minima``:
  what the minimum of a properly normalised likelihood for [0, 1] data means.

Binary targets (chapter "Bernoulli data"):

* ``sigmoid_saturation_logit``: the smallest logit whose sigmoid rounds to exactly 1.0.
* ``logit_sweep``: loss and gradient of both BCE forms, in float32, against the float64 truth.
* ``bce_parts``: a trained model's BCE split by target value, as float64 truth and as each
  float32 form reports it.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ._validation import as_data_tensor, check_positive_int, check_unit_interval
from .diagnostics import end_to_end_map
from .engine import loss_and_grad
from .evaluate import evaluate
from .floors import binary_entropy
from .losses import BCE_LOSSES, check_loss_name
from .models import Autoencoder
from .train import History, fit

__all__ = [
    "BCEParts",
    "LogitSweep",
    "SigmoidAffineOptimum",
    "Trace",
    "bce_parts",
    "bernoulli_kl",
    "best_sigmoid_affine",
    "beta_nll",
    "continuous_bernoulli_best",
    "continuous_bernoulli_mean",
    "continuous_bernoulli_nll",
    "cross_weight_energy",
    "expect_uniform",
    "fit_traced",
    "logit_sweep",
    "loss_minima",
    "sigmoid_affine_autoencoder",
    "sigmoid_affine_excess",
    "sigmoid_saturation_logit",
]

_F64 = torch.float64


def _bce_logits64(t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Return ``t softplus(-z) + (1 - t) softplus(z)`` (= ``softplus(z) - t z``) without cancellation."""
    return t * F.softplus(-z) + (1 - t) * F.softplus(z)


def _as_float64(value: object, name: str) -> torch.Tensor:
    """Return ``value`` as a finite float64 tensor, or raise a ValueError that says what is wrong."""
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(np.ascontiguousarray(value))
    if not isinstance(value, torch.Tensor):
        if isinstance(value, bool) or not isinstance(value, (int, float, list, tuple)):
            raise ValueError(f"{name} must be a number, list, numpy array or tensor, got {type(value).__name__}.")
        value = torch.tensor(value, dtype=_F64)
    if value.is_complex() or not (value.is_floating_point() or value.dtype in (torch.int32, torch.int64)):
        raise ValueError(f"{name} must be real-valued, got dtype {value.dtype}.")
    value = value.to(_F64)
    if not torch.isfinite(value).all():
        raise ValueError(f"{name} contains NaN or infinite values; pass finite numbers.")
    return value


def _check_targets(t: torch.Tensor, name: str = "t") -> torch.Tensor:
    if t.numel() and (float(t.min()) < 0.0 or float(t.max()) > 1.0):
        raise ValueError(
            f"{name} must lie in [0, 1] (it is a BCE target), but it spans [{float(t.min()):.4g}, "
            f"{float(t.max()):.4g}]; rescale the data to [0, 1] or use loss='mse'."
        )
    return t


# --------------------------------------------------------------------------------------------
# Uniform targets: the excess over the entropy floor, and the best a sigmoid(affine) can do
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _uniform_nodes(nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the quadrature nodes ``t`` in (0, 1) and weights of ``expect_uniform`` (cached: costly to make)."""
    u, w = np.polynomial.legendre.leggauss(nodes)
    u = torch.tensor((u + 1) / 2, dtype=_F64)
    w = torch.tensor(w / 2, dtype=_F64)
    return torch.sin(math.pi * u / 2) ** 2, w * (math.pi / 2) * torch.sin(math.pi * u)


def expect_uniform(f: Callable[[torch.Tensor], torch.Tensor], nodes: int = 512) -> float:
    """Return ``E[f(t)]`` for ``t ~ U(0, 1)``, by Gauss-Legendre quadrature in float64.

    The substitution ``t = sin(pi u / 2)**2`` clusters the nodes at both ends, so integrands
    with logarithmic end-point singularities (entropies, log densities) converge fast: with
    the default 512 nodes, ``E[H(t)] = 1/2`` comes out exact to about 1e-12. ``f`` receives a
    float64 tensor of ``nodes`` values strictly inside (0, 1) and must return one value per node.
    """
    t, weights = _uniform_nodes(check_positive_int(nodes, "nodes"))
    t, weights = t.clone(), weights.clone()
    values = torch.as_tensor(f(t), dtype=_F64)
    if values.shape != t.shape:
        raise ValueError(f"f must return one value per node (shape {tuple(t.shape)}), got {tuple(values.shape)}.")
    return float((weights * values).sum())


def bernoulli_kl(t: object, logits: object) -> torch.Tensor:
    """Return ``KL(Bern(t) || Bern(sigmoid(logits)))`` elementwise, in nats, in float64.

    This is the excess of one BCE term over its floor: ``BCE(t, p) = H(t) + KL(Bern(t) || Bern(p))``
    with ``p = sigmoid(logits)``. It is computed in float64 as ``t softplus(-z) + (1 - t) softplus(z)
    - H(t)``, and is zero exactly where ``sigmoid(z) = t``. ``t`` and ``logits`` broadcast.

    Raises:
        ValueError: if a target lies outside [0, 1] or a value is not finite.
    """
    t = _check_targets(_as_float64(t, "t"))
    z = _as_float64(logits, "logits")
    return _bce_logits64(t, z) - binary_entropy(t)


def sigmoid_affine_excess(slope: float, bias: float | None = None, nodes: int = 512) -> float:
    """Return ``E[KL(Bern(t) || Bern(sigmoid(slope * t + bias)))]`` for ``t ~ U(0, 1)``, in nats.

    That is the expected BCE of the one-feature model ``sigmoid(slope * t + bias)`` minus the
    entropy floor ``E[H(t)] = 1/2``. ``bias`` defaults to ``-slope / 2``, the symmetric choice
    (see ``best_sigmoid_affine``).
    """
    a = float(_as_float64(slope, "slope"))
    b = -a / 2 if bias is None else float(_as_float64(bias, "bias"))
    return expect_uniform(lambda t: bernoulli_kl(t, a * t + b), nodes)


@dataclass(frozen=True)
class SigmoidAffineOptimum:
    """The best per-feature model ``p = sigmoid(slope * t + bias)`` for ``t ~ U(0, 1)`` under BCE.

    Attributes:
        slope: the optimal ``a`` (per unit of ``t``).
        bias: the optimal ``b``; it equals ``-slope / 2``.
        excess: the smallest expected excess ``E[BCE] - E[H(t)]`` of the class, nats per element.
        mse: the reconstruction MSE per element of that model, ``E[(p - t)^2]``.
        excess_sd: the standard deviation of the per-element excess under that model, in nats;
            divided by ``sqrt(n_elements)`` it is the sampling error of a measured mean excess.
        cross_weight_cost: the second-order increase of the excess, in nats, per unit of summed
            squared cross-feature weight (``sum_k c_k**2``): ``E[sigmoid'(z)] / 24``.
    """

    slope: float
    bias: float
    excess: float
    mse: float
    excess_sd: float
    cross_weight_cost: float


def best_sigmoid_affine(nodes: int = 512, tol: float = 1e-13) -> SigmoidAffineOptimum:
    """Return the ``SigmoidAffineOptimum``: the lowest BCE excess a per-feature sigmoid(affine) reaches.

    The expected BCE ``E[softplus(z) - t z]`` with ``z = a t + b`` is convex in ``(a, b)``, and the
    problem is symmetric under ``t -> 1 - t, z -> -z``, which maps ``(a, b)`` to ``(a, -a - b)``. The
    average of a minimiser and its mirror image is again a minimiser, so one lies on ``b = -a/2``,
    and a 1-D Newton iteration in ``a`` (float64, expectations by ``expect_uniform``) finds it.
    """
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}.")

    def moments(a: float) -> tuple[float, float]:
        def grad(t: torch.Tensor) -> torch.Tensor:
            s = t - 0.5
            return s * (torch.sigmoid(a * s) - t)

        def curv(t: torch.Tensor) -> torch.Tensor:
            s = t - 0.5
            p = torch.sigmoid(a * s)
            return s * s * p * (1 - p)

        return expect_uniform(grad, nodes), expect_uniform(curv, nodes)

    a = 4.0  # the slope at which sigmoid(a (t - 1/2)) has slope 1 at t = 1/2
    for _ in range(100):
        g, h = moments(a)
        step = g / h
        a -= step
        if abs(step) < tol * max(1.0, abs(a)):
            break
    else:  # pragma: no cover - Newton on a smooth convex 1-D function converges in a few steps
        raise RuntimeError("Newton iteration for the best slope did not converge.")

    def kl(t: torch.Tensor) -> torch.Tensor:
        return bernoulli_kl(t, a * (t - 0.5))

    excess = expect_uniform(kl, nodes)
    second = expect_uniform(lambda t: kl(t) ** 2, nodes)
    mse = expect_uniform(lambda t: (torch.sigmoid(a * (t - 0.5)) - t) ** 2, nodes)
    slope_at = expect_uniform(lambda t: torch.sigmoid(a * (t - 0.5)) * (1 - torch.sigmoid(a * (t - 0.5))), nodes)
    return SigmoidAffineOptimum(
        slope=a,
        bias=-a / 2,
        excess=excess,
        mse=mse,
        excess_sd=math.sqrt(max(second - excess**2, 0.0)),
        cross_weight_cost=slope_at / 24,
    )


def sigmoid_affine_autoencoder(n_features: int, slope: float, bias: float) -> Autoencoder:
    """Return a linear sigmoid ``Autoencoder`` whose every output is ``sigmoid(slope * x_j + bias)``.

    The encoder is the identity and the decoder is ``slope * I`` with bias ``bias``, so the model
    belongs to the same class as ``Autoencoder(n_features, n_features, output="sigmoid")`` and can
    be passed to ``aebook.evaluate`` like a trained one (float32 parameters).
    """
    n_features = check_positive_int(n_features, "n_features")
    a = float(_as_float64(slope, "slope"))
    b = float(_as_float64(bias, "bias"))
    model = Autoencoder(n_features, n_features, output="sigmoid", seed=0)
    encoder, decoder = model.linear_layers()
    with torch.no_grad():
        encoder.weight.copy_(torch.eye(n_features))
        encoder.bias.zero_()
        decoder.weight.copy_(a * torch.eye(n_features))
        decoder.bias.fill_(b)
    return model.eval()


def cross_weight_energy(model: Autoencoder) -> float:
    """Return the mean over outputs of the summed squared cross-feature weights of a linear model.

    With ``logits = W x + c`` (``aebook.diagnostics.end_to_end_map``) this is
    ``mean_j sum_{k != j} W_jk**2``. For independent features, the cross terms only add noise to
    each logit; to second order they raise the BCE excess by ``cross_weight_cost`` times this
    value (see ``SigmoidAffineOptimum``). Raises a ValueError for a model with a non-linear activation.
    """
    weight, _ = end_to_end_map(model)
    off = weight - np.diag(np.diag(weight))
    return float((off**2).sum(axis=1).mean())


@dataclass
class Trace:
    """A training run with the model evaluated after every epoch.

    Attributes:
        epoch: epochs 1, 2, ..., n (int array).
        reported: the per-epoch mean training loss as ``fit`` reported it (``history.loss``):
            float32 arithmetic, averaged over the epoch's batches while the model changed.
        loss: the loss of the model at the end of each epoch on all of ``x`` (``aebook.evaluate``;
            BCE in nats per element on the logit scale for ``"bce"``/``"bce_prob"`` runs).
        floor: the floor of that loss on ``x`` (the entropy floor for BCE), one number.
        excess: ``loss - floor`` per epoch.
        mse: the reconstruction MSE per element at the end of each epoch.
        saturated: per epoch, the fraction of elements whose float32 prediction is exactly 0.0
            or 1.0 (the sigmoid has rounded to its limit); NaN unless traced with ``saturation=True``.
        exact: whether ``loss`` was evaluated on a float64 copy of the model.
        history: the ``History`` that ``fit`` returned.
    """

    epoch: np.ndarray
    reported: np.ndarray
    loss: np.ndarray
    floor: float
    excess: np.ndarray
    mse: np.ndarray
    saturated: np.ndarray
    exact: bool
    history: History

    @property
    def final(self) -> float:
        """The loss of the trained model (last entry of ``loss``)."""
        return float(self.loss[-1])


def fit_traced(
    model: Autoencoder,
    x: torch.Tensor,
    loss: str = "bce",
    exact: bool = True,
    saturation: bool = False,
    **fit_kwargs,
) -> Trace:
    """Train ``model`` with ``aebook.fit`` and return a ``Trace`` of its loss, floor, excess and MSE per epoch.

    Args:
        model: the autoencoder; trained in place.
        x: the data (input and target).
        loss: the training loss, ``"mse"``, ``"bce"`` or ``"bce_prob"``. The traced ``loss`` is the
            same quantity, except that both BCE forms are evaluated on the logit scale (``"bce"``),
            which is the exact value of the BCE.
        exact: evaluate a float64 copy of the model after every epoch (the true loss of the
            float32 weights, without float32 round-off); ``False`` evaluates the float32 model,
            which is faster and loses only round-off of order 1e-7 relative.
        saturation: also record, per epoch, the fraction of float32 predictions that are exactly
            0.0 or 1.0 (one more forward pass per epoch); otherwise ``Trace.saturated`` is all NaN.
        **fit_kwargs: passed to ``aebook.fit`` (``lr``, ``batch_size``, ``epochs``, ``seed``, ...).

    Returns:
        A ``Trace``; nats per element for BCE, MSE per element for ``"mse"``.

    Raises:
        ValueError: for anything ``aebook.fit`` refuses, or if ``fit_kwargs`` has ``on_epoch``.
    """
    check_loss_name(loss, model.output)
    if "on_epoch" in fit_kwargs:
        raise ValueError("fit_traced sets on_epoch itself; call aebook.fit directly to pass your own.")
    measured = "bce" if loss in BCE_LOSSES else loss
    rows: list[tuple[float, float, float]] = []

    def record(epoch: int, current: Autoencoder) -> None:
        judged = copy.deepcopy(current).double() if exact else current
        result = evaluate(judged, x, measured)
        saturated = math.nan
        if saturation:
            with torch.no_grad():
                p = current(x) if current.output == "sigmoid" else None
            saturated = float(((p == 0) | (p == 1)).double().mean()) if p is not None else 0.0
        rows.append((result.loss, result.mse, saturated))

    history = fit(model, x, loss=loss, on_epoch=record, **fit_kwargs)
    floor = evaluate(model, x, measured).floor
    values = np.array(rows, dtype=np.float64).reshape(-1, 3)
    return Trace(
        epoch=np.arange(1, len(values) + 1),
        reported=history.loss.copy(),
        loss=values[:, 0],
        floor=floor,
        excess=values[:, 0] - floor,
        mse=values[:, 1],
        saturated=values[:, 2],
        exact=bool(exact),
        history=history,
    )


# --------------------------------------------------------------------------------------------
# Continuous targets: properly normalised likelihoods and what their minimum means
# --------------------------------------------------------------------------------------------


def _log_expm1_over(eta: torch.Tensor) -> torch.Tensor:
    """Return ``log((exp(eta) - 1) / eta)`` (the log normaliser of the continuous Bernoulli), stably."""
    small = eta.abs() < 1e-4
    safe = torch.where(small, torch.ones_like(eta), eta)
    pos = safe + torch.log(-torch.expm1(-safe)) - torch.log(safe)  # for eta > 0
    neg = torch.log(-torch.expm1(safe)) - torch.log(-safe)  # for eta < 0
    large = torch.where(safe > 0, pos, neg)
    series = eta / 2 + eta**2 / 24
    return torch.where(small, series, large)


def continuous_bernoulli_nll(t: object, logits: object) -> torch.Tensor:
    """Return ``-log p(t)`` elementwise under the continuous Bernoulli with these logits, in nats (float64).

    The continuous Bernoulli (Loaiza-Ganem & Cunningham, 2019) is the density
    ``p(t) = C(lam) lam^t (1 - lam)^(1 - t)`` on [0, 1], ``lam = sigmoid(logits)``; with ``eta = logits``
    it is ``exp(eta t) eta / (exp(eta) - 1)``. Its NLL is BCE minus ``log C(lam)``, computed here
    stably for any finite ``eta``; it matches ``-torch.distributions.ContinuousBernoulli(logits=eta)
    .log_prob(t)``. Being a density, it can be negative.

    Raises:
        ValueError: if a target lies outside [0, 1] or a value is not finite.
    """
    t = _check_targets(_as_float64(t, "t"))
    eta = _as_float64(logits, "logits")
    return _log_expm1_over(eta) - eta * t


def continuous_bernoulli_mean(logits: object) -> torch.Tensor:
    """Return the mean of the continuous Bernoulli with these logits (float64, in (0, 1)).

    ``E[t] = 1 / (1 - exp(-eta)) - 1 / eta``, which is 1/2 at ``eta = 0`` and increases with ``eta``.
    """
    eta = _as_float64(logits, "logits")
    small = eta.abs() < 1e-4
    safe = torch.where(small, torch.ones_like(eta), eta)
    large = -1 / torch.expm1(-safe) - 1 / safe
    return torch.where(small, 0.5 + eta / 12, large)


def continuous_bernoulli_best(t: object, iterations: int = 200) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(logits, nll)``: for each target, the continuous Bernoulli that fits it best, and its NLL.

    The NLL ``log((e^eta - 1)/eta) - eta t`` is convex in ``eta`` with derivative ``mean(eta) - t``,
    so the best fit is the distribution whose *mean* equals the target (found by bisection in
    float64). Its parameter ``lam = sigmoid(eta)`` is not ``t``: it lies further from 1/2. The NLL
    there is 0 at ``t = 1/2`` and negative elsewhere, going to minus infinity as ``t`` approaches
    0 or 1, where the density can concentrate. Targets must lie strictly inside (0, 1).

    Raises:
        ValueError: if a target is not strictly inside (0, 1).
    """
    t = _as_float64(t, "t")
    iterations = check_positive_int(iterations, "iterations")
    if t.numel() and (float(t.min()) <= 0.0 or float(t.max()) >= 1.0):
        raise ValueError(
            "continuous_bernoulli_best needs targets strictly inside (0, 1): at 0 or 1 the NLL has no "
            "minimum (it goes to minus infinity); clip the targets, e.g. to [1e-6, 1 - 1e-6]."
        )
    lo = -(1 / t + 2)  # mean(lo) < 1 / (1/t + 2) < t
    hi = 1 / (1 - t) + 2  # by symmetry mean(hi) > t
    for _ in range(iterations):
        mid = (lo + hi) / 2
        below = continuous_bernoulli_mean(mid) < t
        lo = torch.where(below, mid, lo)
        hi = torch.where(below, hi, mid)
    eta = (lo + hi) / 2
    return eta, continuous_bernoulli_nll(t, eta)


def beta_nll(t: object, mean: object, concentration: float) -> torch.Tensor:
    """Return ``-log p(t)`` under ``Beta(concentration * mean, concentration * (1 - mean))``, in nats (float64).

    A Beta likelihood is the other properly normalised choice for targets in (0, 1). With the
    mean set to the target, the NLL decreases without bound as ``concentration`` grows: a model
    that reconstructs exactly can always claim more confidence, so this loss has no floor.

    Raises:
        ValueError: if ``concentration`` is not positive, or ``t`` or ``mean`` are not strictly inside (0, 1).
    """
    t = _as_float64(t, "t")
    mean = _as_float64(mean, "mean")
    if not (isinstance(concentration, (int, float)) and not isinstance(concentration, bool) and concentration > 0):
        raise ValueError(f"concentration must be a positive number, got {concentration!r}.")
    for name, value in (("t", t), ("mean", mean)):
        if value.numel() and (float(value.min()) <= 0.0 or float(value.max()) >= 1.0):
            raise ValueError(f"{name} must lie strictly inside (0, 1) for a Beta likelihood; clip it first.")
    kappa = float(concentration)
    dist = torch.distributions.Beta(kappa * mean, kappa * (1 - mean))
    return -dist.log_prob(t)


def loss_minima(t: object, concentrations: Sequence[float] = (10.0, 100.0)) -> dict[str, torch.Tensor]:
    """Return, per target value ``t``, the minimum of each loss over the prediction (float64, nats or MSE).

    Keys: ``"BCE"`` (``H(t)``, at ``p = t``), ``"continuous Bernoulli"`` (at the distribution whose
    mean is ``t``), ``"MSE"`` (0, at ``p = t``) and ``"Beta, concentration k"`` (the NLL with the mean at
    ``t`` and that fixed concentration; it has no minimum when the concentration is free).
    Targets must lie strictly inside (0, 1).
    """
    t = _as_float64(t, "t")
    out = {
        "BCE": binary_entropy(_check_targets(t)),
        "continuous Bernoulli": continuous_bernoulli_best(t)[1],
        "MSE": torch.zeros_like(t),
    }
    for kappa in concentrations:
        out[f"Beta, concentration {kappa:g}"] = beta_nll(t, t, kappa)
    return out


# --------------------------------------------------------------------------------------------
# Binary targets: where float32 sigmoid saturates, and what each BCE form reports
# --------------------------------------------------------------------------------------------


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
            it (``aebook.engine.loss_and_grad``, which matches autograd).
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
    z32 = _as_float64(logits, "logits").reshape(-1).to(torch.float32)
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
        true_loss=_bce_logits64(torch.full_like(z64, float(target)), z64).numpy(),
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
        max_logit_zeros: the largest logit over the target-0 elements.
        saturated_ones: fraction of target-1 elements whose float32 sigmoid is exactly 1.0.
        true: ``{"ones": ..., "zeros": ..., "total": ...}`` in float64.
        bce: the same split for the logit-scale form in float32.
        bce_prob: the same split for the probability-scale form in float32.
    """

    ones_fraction: float
    min_logit_ones: float
    max_logit_zeros: float
    saturated_ones: float
    true: dict[str, float]
    bce: dict[str, float]
    bce_prob: dict[str, float]


@torch.no_grad()
def bce_parts(model: Autoencoder, x: torch.Tensor) -> BCEParts:
    """Return the ``BCEParts`` of a sigmoid ``model`` on binary data ``x`` (values in {0, 1}).

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
        max_logit_zeros=float(z64[~ones].max()) if (~ones).any() else -math.inf,
        saturated_ones=float((p32[ones] == 1.0).double().mean()) if ones.any() else 0.0,
        true=split(_bce_logits64(t64, z64)),
        bce=split(F.binary_cross_entropy_with_logits(z32, t32, reduction="none")),
        bce_prob=split(F.binary_cross_entropy(p32, t32, reduction="none")),
    )
