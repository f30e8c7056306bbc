"""Code for the chapter "Sigmoid + BCE on uniform data" (bce_uniform.ipynb): the analysis and figures it alone uses.

The core (``aebook``) holds what the BCE chapters share: ``aebook.floors.expect_uniform``,
``bernoulli_kl`` and ``best_sigmoid_affine`` (the least excess of a per-feature sigmoid(affine)
on ``U(0, 1)`` data), and ``aebook.fit_traced``. This module adds:

* ``sigmoid_affine_excess``: the expected excess of one ``sigmoid(a t + b)``, nats per element;
  ``sigmoid_affine_autoencoder`` builds that model as an ``aebook.Autoencoder`` so it can be
  evaluated like a trained one; ``cross_weight_energy`` measures a trained model's cross weights
  and ``diagonal_excess`` the cost of its per-feature slopes and biases; ``in_sample_optimism``
  says how much better a fitted model looks on its training data than on fresh data;
  ``paired_bce_gap`` compares two models on the same data, with the standard error of the gap;
  ``best_logit_excess`` gives the least expected excess of a sigmoid whose logit is any linear
  combination of given functions of the target (the chapter's third exercise).
* ``continuous_bernoulli_nll``, ``continuous_bernoulli_mean``, ``continuous_bernoulli_best``,
  ``beta_nll``, ``loss_minima``: what the minimum of a properly normalised likelihood for [0, 1]
  data means.
* The chapter's figures: ``bce_traces``, ``sigmoid_fits``, ``minima_per_target``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

from aebook import Autoencoder, Trace
from aebook.data import as_data_tensor, as_float64, check_positive_int
from aebook.floors import bernoulli_kl, binary_entropy, check_targets, expect_uniform
from aebook.losses import loss_for
from aebook.models import end_to_end_map
from aebook.plot import finish_axes, new_axes

__all__ = [
    "bce_traces",
    "best_logit_excess",
    "beta_nll",
    "continuous_bernoulli_best",
    "continuous_bernoulli_mean",
    "continuous_bernoulli_nll",
    "cross_weight_energy",
    "diagonal_excess",
    "in_sample_optimism",
    "loss_minima",
    "minima_per_target",
    "paired_bce_gap",
    "sigmoid_affine_autoencoder",
    "sigmoid_affine_excess",
    "sigmoid_fits",
]


# --------------------------------------------------------------------------------------------
# The sigmoid(affine) model class on uniform targets
# --------------------------------------------------------------------------------------------


def sigmoid_affine_excess(slope: float, bias: float | None = None, nodes: int = 512) -> float:
    """Return ``E[KL(Bern(t) || Bern(sigmoid(slope * t + bias)))]`` for ``t ~ U(0, 1)``, in nats.

    That is the expected BCE of the one-feature model ``sigmoid(slope * t + bias)`` minus the
    entropy floor ``E[H(t)] = 1/2``. ``bias`` defaults to ``-slope / 2``, the symmetric choice
    (see ``aebook.floors.best_sigmoid_affine``).
    """
    a = float(as_float64(slope, "slope"))
    b = -a / 2 if bias is None else float(as_float64(bias, "bias"))
    return expect_uniform(lambda t: bernoulli_kl(t, a * t + b), nodes)


def best_logit_excess(
    basis: Sequence[Callable[[torch.Tensor], torch.Tensor]], nodes: int = 512, tol: float = 1e-16
) -> tuple[np.ndarray, float]:
    """Return ``(coefficients, excess)``: the least ``E[KL(Bern(t) || Bern(sigmoid(z(t))))]``, ``t ~ U(0, 1)``, in nats.

    The logit is ``z(t) = sum_k c_k f_k(t)`` over the functions ``f_k`` of ``basis`` (each maps a
    float64 tensor of targets to one value per target; pass ``torch.ones_like`` for a bias). The
    expected excess is convex in ``c``, so a damped Newton iteration from ``c = 0`` finds its
    minimum; the expectations are by Gauss-Legendre quadrature in float64. With the basis
    ``(1, t)`` the result is ``aebook.floors.best_sigmoid_affine()``. The functions must be
    linearly independent on [0, 1] (otherwise the curvature is singular: LinAlgError).
    """
    if not basis:
        raise ValueError("basis must hold at least one function.")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}.")
    nodes = check_positive_int(nodes, "nodes")

    def features(t: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.as_tensor(f(t), dtype=torch.float64).expand_as(t) for f in basis])

    def excess(c: np.ndarray) -> float:
        return expect_uniform(lambda t: bernoulli_kl(t, torch.from_numpy(c) @ features(t)), nodes)

    def moment(c: np.ndarray, weight: str, i: int, j: int | None = None) -> float:
        def integrand(t: torch.Tensor) -> torch.Tensor:
            f = features(t)
            p = torch.sigmoid(torch.from_numpy(c) @ f)
            if weight == "gradient":  # d excess / d c_i = E[(p - t) f_i]
                return (p - t) * f[i]
            return p * (1 - p) * f[i] * f[j]  # d^2 excess / d c_i d c_j = E[p (1 - p) f_i f_j]

        return expect_uniform(integrand, nodes)

    k = len(basis)
    c = np.zeros(k)
    current = excess(c)
    for _ in range(100):
        grad = np.array([moment(c, "gradient", i) for i in range(k)])
        curvature = np.array([[moment(c, "curvature", i, j) for j in range(k)] for i in range(k)])
        step = np.linalg.solve(curvature, grad)
        decrement = float(grad @ step)  # twice the predicted drop of the excess
        if decrement / 2 < tol:
            break
        size = 1.0
        while excess(c - size * step) > current - 0.25 * size * decrement and size > 1e-10:
            size /= 2  # backtracking (Armijo): a full Newton step can overshoot far from the minimum
        c = c - size * step
        current = excess(c)
    else:  # pragma: no cover - damped Newton on a smooth convex function converges in a few steps
        raise RuntimeError("Newton iteration for the best logit did not converge.")
    return c, current


def sigmoid_affine_autoencoder(n_features: int, slope: float, bias: float) -> Autoencoder:
    """Return a linear sigmoid ``Autoencoder`` whose every output is ``sigmoid(slope * x_j + bias)``.

    The encoder is the identity and the decoder is ``slope * I`` with bias ``bias``, so the model
    belongs to the same class as ``Autoencoder(n_features, n_features, output="sigmoid")`` and can
    be passed to ``aebook.evaluate`` like a trained one (float32 parameters).
    """
    n_features = check_positive_int(n_features, "n_features")
    a = float(as_float64(slope, "slope"))
    b = float(as_float64(bias, "bias"))
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

    With ``logits = W x + c`` (``aebook.models.end_to_end_map``) this is
    ``mean_j sum_{k != j} W_jk**2``. For independent features, the cross terms only add noise to
    each logit; to second order they raise the BCE excess by ``cross_weight_cost`` times this
    value (see ``aebook.floors.SigmoidAffineOptimum``). Raises a ValueError for a model with a
    non-linear activation.
    """
    weight, _ = end_to_end_map(model)
    off = weight - np.diag(np.diag(weight))
    return float((off**2).sum(axis=1).mean())


def diagonal_excess(model: Autoencoder, nodes: int = 512) -> float:
    """Return ``mean_j sigmoid_affine_excess(W_jj, c_j + sum_{k != j} W_jk / 2)`` for a linear model, in nats.

    With ``logits = W x + c`` (``aebook.models.end_to_end_map``) and independent ``U(0, 1)``
    features, output ``j`` is ``sigmoid(W_jj t_j + c_j + u)`` with cross term ``u`` of mean
    ``sum_{k != j} W_jk / 2``. Replacing ``u`` by that mean leaves the one-feature model this
    function scores: the expected excess of the slopes and biases alone. The cross terms' variance
    adds, to second order, ``cross_weight_cost * cross_weight_energy(model)`` on top. Raises a
    ValueError for a model with a non-linear activation.
    """
    weight, bias = end_to_end_map(model)
    slopes = np.diag(weight)
    biases = bias + (weight.sum(axis=1) - slopes) / 2
    return float(np.mean([sigmoid_affine_excess(a, b, nodes) for a, b in zip(slopes, biases, strict=True)]))


def in_sample_optimism(n_features: int, n_rows: int, slope: float, bias: float, nodes: int = 512) -> float:
    """Return ``tr(J^-1 K) / n_rows``: how much lower a fitted linear sigmoid model's in-sample excess is, in nats.

    Output ``j`` of a linear sigmoid autoencoder on ``n_features`` iid ``U(0, 1)`` features has
    ``d + 1`` parameters (its row of the end-to-end map and its bias) fitted on ``n_rows`` rows,
    with inputs ``x = (t_1, ..., t_d, 1)``. At the optimum ``p = sigmoid(slope * t_j + bias)`` let
    ``J = E[p (1 - p) x x']`` (the curvature of the BCE) and ``K = E[(p - t_j)^2 x x']`` (the
    covariance of its gradient). To first order, the in-sample minimiser lies ``tr(J^-1 K) / (2n)``
    below the optimum on the training rows and as much above it on fresh data, so its in-sample
    excess is lower than its population excess by ``tr(J^-1 K) / n`` in expectation: the value
    returned. The expectations are by Gauss-Legendre quadrature in float64.
    """
    d = check_positive_int(n_features, "n_features")
    n = check_positive_int(n_rows, "n_rows")
    a = float(as_float64(slope, "slope"))
    b = float(as_float64(bias, "bias"))

    def moments(weight_of_t):  # E[w], E[w t], E[w t^2] for t = t_j ~ U(0, 1)
        return [expect_uniform(lambda t, k=k: weight_of_t(t) * t**k, nodes) for k in range(3)]

    def second_moment(weight_of_t) -> np.ndarray:  # E[w(t_j) x x'], x = (t_j, other features..., 1)
        e0, e1, e2 = moments(weight_of_t)
        m = np.full((d + 1, d + 1), e0 / 4)  # E[t_k t_l] = 1/4 between two other features
        m[np.arange(1, d), np.arange(1, d)] = e0 / 3  # E[t_k^2] = 1/3
        m[0, :], m[:, 0], m[d, :], m[:, d] = e1 / 2, e1 / 2, e0 / 2, e0 / 2
        m[0, 0], m[0, d], m[d, 0], m[d, d] = e2, e1, e1, e0
        return m

    p = lambda t: torch.sigmoid(a * t + b)  # noqa: E731
    curvature = second_moment(lambda t: p(t) * (1 - p(t)))
    covariance = second_moment(lambda t: (p(t) - t) ** 2)
    return float(np.trace(np.linalg.solve(curvature, covariance)) / n)


def paired_bce_gap(
    model: Autoencoder, reference: Autoencoder, x: object, batch_size: int = 8192
) -> tuple[float, float]:
    """Return ``(gap, se)``: mean BCE of ``model`` minus that of ``reference`` on ``x`` (per element), and its error.

    Both models are scored on the same rows, so the gap is a paired difference: ``se`` is the
    standard deviation of the per-row mean difference divided by ``sqrt(n_rows)`` (the rows are
    independent; the features within a row need not be). The floor is the same for both models,
    so the gap is also the difference of their excesses. Logits are computed in the models'
    dtype, the BCE in float64. Raises a ValueError for data outside [0, 1].
    """
    x = check_targets(as_data_tensor(x))
    elementwise = loss_for("bce", "sigmoid").elementwise
    batch_size = check_positive_int(batch_size, "batch_size")
    rows = []
    with torch.no_grad():
        for begin in range(0, x.shape[0], batch_size):
            batch = x[begin : begin + batch_size]
            target = batch.double()
            losses = []
            for m in (model, reference):
                param = next(m.parameters())
                z = m.logits(batch.to(device=param.device, dtype=param.dtype)).double().cpu()
                losses.append(elementwise(z, target))
            rows.append((losses[0] - losses[1]).mean(dim=1))
    diff = torch.cat(rows)
    return float(diff.mean()), float(diff.std() / diff.numel() ** 0.5)


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
    t = check_targets(as_float64(t, "t"))
    eta = as_float64(logits, "logits")
    return _log_expm1_over(eta) - eta * t


def continuous_bernoulli_mean(logits: object) -> torch.Tensor:
    """Return the mean of the continuous Bernoulli with these logits (float64, in (0, 1)).

    ``E[t] = 1 / (1 - exp(-eta)) - 1 / eta``, which is 1/2 at ``eta = 0`` and increases with ``eta``.
    """
    eta = as_float64(logits, "logits")
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
    t = as_float64(t, "t")
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
    t = as_float64(t, "t")
    mean = as_float64(mean, "mean")
    if not (isinstance(concentration, (int, float)) and not isinstance(concentration, bool) and concentration > 0):
        raise ValueError(f"concentration must be a positive number, got {concentration!r}.")
    for name, value in (("t", t), ("mean", mean)):
        if value.numel() and (float(value.min()) <= 0.0 or float(value.max()) >= 1.0):
            raise ValueError(f"{name} must lie strictly inside (0, 1) for a Beta likelihood; clip it first.")
    kappa = float(concentration)
    dist = torch.distributions.Beta(kappa * mean, kappa * (1 - mean))
    return -dist.log_prob(t)


def loss_minima(t: object, concentrations: Sequence[float] = (10.0, 100.0)) -> dict[str, torch.Tensor]:
    """Return, per target value ``t``, each loss at its ideal reconstruction of ``t`` (float64, nats or MSE).

    Keys: ``"BCE"`` (``H(t)``, the minimum, at ``p = t``), ``"continuous Bernoulli"`` (the minimum, at
    the distribution whose mean is ``t``), ``"MSE"`` (0, the minimum, at ``p = t``) and
    ``"Beta, concentration k"`` (the NLL with the mean at ``t`` and that fixed concentration: not
    exactly the minimum over the mean at fixed concentration, and with no minimum at all when the
    concentration is free).
    Targets must lie strictly inside (0, 1).
    """
    t = as_float64(t, "t")
    out = {
        "BCE": binary_entropy(check_targets(t)),
        "continuous Bernoulli": continuous_bernoulli_best(t)[1],
        "MSE": torch.zeros_like(t),
    }
    for kappa in concentrations:
        out[f"Beta, concentration {kappa:g}"] = beta_nll(t, t, kappa)
    return out


# --------------------------------------------------------------------------------------------
# The chapter's figures
# --------------------------------------------------------------------------------------------


def bce_traces(traces: Mapping[str, Trace], best_excess: float | None = None) -> np.ndarray:
    """Plot, one panel per labelled ``Trace``, the BCE, its entropy floor, the excess and the MSE per epoch.

    Log scale; the floor and (if given) the best excess a model class can reach are drawn as
    lines. Returns the array of Axes.
    """
    fig, axes = plt.subplots(1, len(traces), figsize=(5.2 * len(traces), 3.8), layout="constrained",
                             sharey=True, squeeze=False)
    for ax, (label, trace) in zip(axes[0], traces.items(), strict=True):
        ax.plot(trace.epoch, trace.loss, color="C0", label="BCE")
        ax.axhline(trace.floor, color="black", linestyle="--", linewidth=1, label="entropy floor")
        ax.plot(trace.epoch, trace.excess, color="C1", label="excess = BCE - floor")
        ax.plot(trace.epoch, trace.mse, color="C2", linestyle=":", label="reconstruction MSE")
        if best_excess is not None:
            ax.axhline(best_excess, color="C1", linestyle="-.", linewidth=1,
                       label=f"best excess of sigmoid(affine) = {best_excess:.5f}")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(f"{label} (floor {trace.floor:.4f})")
        ax.grid(True, which="major", alpha=0.3)
    axes[0, 0].set_ylabel("nats per element (MSE: per element)")
    axes[0, -1].legend(fontsize="small")
    return axes[0]


def sigmoid_fits(
    x: np.ndarray,
    models: Mapping[str, Autoencoder],
    slope: float | None = None,
    bias: float | None = None,
    feature: int = 0,
    n_points: int = 1500,
    ax: Axes | None = None,
) -> Axes:
    """Plot each model's reconstruction of one feature against its target, with the identity line.

    ``x`` are the inputs (also the targets); ``n_points`` of its rows are drawn. With ``slope`` and
    ``bias``, the curve ``sigmoid(slope * t + bias)`` is drawn too. Returns the Axes.
    """
    ax = ax or new_axes(5.0, 4.0)
    rows = torch.as_tensor(x)[:n_points]
    grid = np.linspace(0, 1, 201)
    ax.plot(grid, grid, color="black", linestyle="--", linewidth=1, label="identity p = t")
    if slope is not None and bias is not None:
        ax.plot(grid, 1 / (1 + np.exp(-(slope * grid + bias))), color="gray", linewidth=2,
                label=f"sigmoid({slope:.2f} t {bias:+.2f})")
    for i, (label, model) in enumerate(models.items()):
        with torch.no_grad():
            p = model(rows.to(next(model.parameters()).dtype))[:, feature].double().numpy()
        ax.scatter(rows[:, feature].double().numpy(), p, s=3, color=f"C{i}", alpha=0.5, label=label)
    return finish_axes(ax, f"target t (feature {feature})", "reconstruction p", legend={"markerscale": 3})


def minima_per_target(t: np.ndarray, minima: Mapping[str, np.ndarray], ax: Axes | None = None) -> Axes:
    """Plot, against the target ``t``, each loss at its ideal reconstruction (``loss_minima``); return the Axes."""
    ax = ax or new_axes()
    t = np.asarray(t, dtype=np.float64)
    for label, values in minima.items():
        ax.plot(t, np.asarray(values, dtype=np.float64), label=label)
    ax.axhline(0.0, color="black", linewidth=0.8)
    return finish_axes(ax, "target t", "loss per element at the ideal reconstruction\n(nats; Beta: mean at t)")
