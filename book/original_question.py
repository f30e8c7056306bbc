"""Chapter "Back to the question" (original_question.ipynb): the reader's model, its figures and its full-scale record.

* ``readers_model`` builds the reader's Keras autoencoder with ``aebook``.
* ``knots``, ``best_bent_logit`` and ``hand_built_model`` set the reader's network's weights by hand
  (section "Capacity or optimisation?").
* ``run_full_scale`` makes the record ``records/original_question_full.json``
  (``make records NAME=original_question_full``): the chapter's models at the reader's scale,
  30,000 rows of ``U(0, 1)`` data, 100 features, 50 epochs. ``run_readers_network`` makes the
  records ``records/readers_network_{relu_sigmoid,relu_linear,linear}.json``: the reader's widths
  trained with MSE for 300 epochs (``READERS_NETWORK``).
* The figures ``dead_units_over_training`` and ``excess_curves`` draw what they are given and
  never train.
* ``value_span`` and ``count_phrase`` write the prose phrases the chapter glues ("0.0250 to 0.0251",
  "1 epoch"), so that two ends that round alike print once and a count gets its plural right.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from matplotlib.axes import Axes

import aebook
from aebook import Autoencoder, DeadUnitTracker, Recorder
from aebook.data import check_positive_int
from aebook.plot import finish_axes, new_axes
from aebook.records import make_record

__all__ = ["BATCH_SIZE", "LR", "N_FEATURES", "N_ROWS", "READERS_NETWORK", "best_bent_logit", "hand_built_model",
           "knots", "dead_units_over_training",
           "excess_curves", "readers_model", "run_full_scale", "run_readers_network", "count_phrase", "value_span"]

N_ROWS, N_FEATURES, BATCH_SIZE, LR = 30_000, 100, 32, 1e-3  # the reader's data; Keras's defaults


def readers_model(activation: str = "relu", init: str = "glorot", output: str = "sigmoid") -> Autoencoder:
    """Return the reader's architecture, seeded: 3 encoder layers of width 100 (code included), 2 decoder layers
    and an output layer, with ``activation`` between them and Keras's initialisation by default."""
    return aebook.Autoencoder(N_FEATURES, N_FEATURES, hidden=(N_FEATURES, N_FEATURES), activation=activation,
                              output=output, init=init, seed=0)


# --- what the reader's network can represent (section "Capacity or optimisation?") -----------------


def knots(m: int) -> np.ndarray:
    """Return ``m`` evenly spaced knots inside (0, 1): ``k / (m + 1)`` for ``k = 1..m``."""
    return np.arange(1, m + 1) / (m + 1)


def best_bent_logit(m: int, grid: int = 20_000) -> tuple[np.ndarray, float]:
    """Return the best per-feature logit ``z(t) = a0 + a1 t + sum_k c_k relu(t - knot_k)`` for ``t ~ U(0, 1)``.

    "Best" minimises the expected BCE excess ``E[KL(Bern(t) || Bern(sigmoid(z(t))))]`` over the
    coefficients ``(a0, a1, c_1..c_m)`` for the ``m`` knots of ``knots(m)``; the problem is convex
    (BCE is convex in the logit, and ``z`` is linear in the coefficients), so L-BFGS in float64 on a
    midpoint grid of ``grid`` points finds the minimum. ``m = 0`` is the sigmoid(affine) model.

    Returns:
        ``(coefficients, excess)``: the ``m + 2`` coefficients and the expected excess in nats per element.
    """
    m = int(m)
    if m < 0:
        raise ValueError(f"m is a number of knots and must be >= 0, got {m!r}.")
    t = (torch.arange(grid, dtype=torch.float64) + 0.5) / grid
    basis = torch.stack([torch.ones_like(t), t, *[torch.relu(t - k) for k in knots(m)]], dim=1)
    coef = torch.zeros(m + 2, dtype=torch.float64)
    coef[1], coef[0] = 4.0, -2.0  # start from a sigmoid(affine) model
    coef.requires_grad_(True)
    entropy = aebook.floors.binary_entropy(t)
    optimizer = torch.optim.LBFGS([coef], max_iter=500, tolerance_grad=1e-14, tolerance_change=1e-16,
                                  line_search_fn="strong_wolfe")

    def excess() -> torch.Tensor:
        return (aebook.floors.bce_logits64(t, basis @ coef) - entropy).mean()

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        value = excess()
        value.backward()
        return value

    for _ in range(5):
        optimizer.step(closure)
    with torch.no_grad():
        return coef.detach().numpy(), float(excess())


def hand_built_model(coefficients: Sequence[float], n_features: int = N_FEATURES) -> Autoencoder:
    """Return a ReLU autoencoder whose every output is ``sigmoid(a0 + a1 t + sum_k c_k relu(t - knot_k))`` of its input.

    The weights are set by hand, not trained. Inputs in [0, 1] pass unchanged through ReLU layers of
    identity weights (a ReLU does nothing to a non-negative number). With ``m`` knots
    (``len(coefficients) - 2``) the last hidden layer needs ``n_features * (m + 1)`` units: one
    copy of each input and one ``relu(t - knot)`` per knot; with ``m = 0`` this is the reader's
    architecture exactly (width ``n_features`` everywhere) computing ``sigmoid(a1 t + a0)``.
    """
    a0, a1, *c = [float(v) for v in coefficients]
    m, d = len(c), n_features
    wide = d * (m + 1)
    model = aebook.Autoencoder(d, d, hidden=(wide, d), activation="relu", output="sigmoid", init="glorot", seed=0)
    layers = model.linear_layers()  # d -> wide -> d -> d (code) -> d -> wide -> d
    eye = torch.eye(d)
    with torch.no_grad():
        for layer in layers:
            layer.weight.zero_()
            layer.bias.zero_()
        layers[0].weight[:d] = eye  # the copy of x; the other units of this layer stay 0
        for layer in layers[1:4]:
            layer.weight[:, :d] = eye
        layers[4].weight[:d] = eye  # decoder's last hidden layer: x, then relu(x - knot_k) per knot
        for k, knot in enumerate(knots(m), start=1):
            layers[4].weight[k * d:(k + 1) * d] = eye
            layers[4].bias[k * d:(k + 1) * d] = -knot
        out = layers[5]
        out.weight[:, :d] = a1 * eye
        for k, ck in enumerate(c, start=1):
            out.weight[:, k * d:(k + 1) * d] = ck * eye
        out.bias.fill_(a0)
    return model.eval()


# --- records: original_question_full.json and readers_network_*.json under records/ -------------------

RTOL = 1e-5  # the record check's tolerance on first-epoch losses; see tests/test_records.py


def _check_spec(function: str, kwargs: dict, series: Mapping[str, Sequence[float]]) -> dict:
    """The record's ``check``: re-run ``function(**kwargs)`` (one epoch) and compare its first-epoch losses."""
    return {"made_by": f"book/original_question.py:{function}", "kwargs": kwargs,
            "values": {name: list(values[:1]) for name, values in series.items() if name.endswith("loss")},
            "rtol": RTOL}


def run_full_scale(epochs: int = 50, n_rows: int = N_ROWS, log: Callable[[str], None] | None = None) -> dict:
    """Train the chapter's five BCE/MSE models at the reader's scale for ``epochs`` epochs; return the record.

    The chapter runs the same models on 2,000 rows; this runs them on ``n_rows`` rows of ``U(0, 1)``
    data with 100 features (the recorded run: 30,000 rows, 50 epochs). Series: ``"<model> loss"``
    per epoch (nats per element for BCE, MSE per element), and for ReLU models ``"<model> dead"``,
    the dead units per epoch (epoch 0 first). Results per model: final loss, floor, excess, MSE and
    the dead units per layer at the end.
    """
    epochs, n_rows = check_positive_int(epochs, "epochs"), check_positive_int(n_rows, "n_rows")
    start = time.perf_counter()
    x = aebook.data.uniform(n_rows, N_FEATURES, seed=0)
    fit = {"lr": LR, "batch_size": BATCH_SIZE, "epochs": epochs, "progress": False}
    groups = [
        (["relu glorot", "relu pytorch"], "bce", [readers_model(), readers_model(init="pytorch")]),
        (["leaky_relu glorot"], "bce", [readers_model("leaky_relu")]),
        (["linear glorot bce"], "bce", [readers_model("linear")]),
        (["linear glorot mse"], "mse", [readers_model("linear", output="linear")]),
    ]
    series: dict[str, list] = {}
    results: dict[str, dict] = {}
    for names, loss, models in groups:
        tracker = DeadUnitTracker(x, models) if models[0].activation != "linear" else None
        histories = aebook.fit_many(models, x, loss=loss, seeds=[0] * len(models), on_epoch=tracker, **fit)
        for member, (name, model, history) in enumerate(zip(names, models, histories, strict=True)):
            ev = aebook.evaluate(model, x, loss)
            series[f"{name} loss"] = history.loss.tolist()
            results[name] = {"loss": ev.loss, "floor": ev.floor, "excess": ev.excess, "mse": ev.mse}
            if tracker is not None:
                series[f"{name} dead"] = tracker.total[member].tolist()
                results[name]["dead_final_per_layer"] = tracker.dead[member, -1].tolist()
                results[name]["units"] = sum(tracker.width)
            if log is not None:
                log(f"{name:20s} loss {ev.loss:.4f} excess {ev.excess:.4f} mse {ev.mse:.4f}")
    settings = {"n_rows": n_rows, "n_features": N_FEATURES, "batch_size": BATCH_SIZE, "lr": LR, "epochs": epochs,
                "data_seed": 0, "model_seed": 0, "fit_seed": 0, "init": "glorot unless named"}
    return make_record("book/original_question.py:run_full_scale", settings, series, time.perf_counter() - start,
                       _check_spec("run_full_scale", {"epochs": 1}, series), results)


#: The reader's network with the loss changed to MSE (section "Does MSE reach zero here?"): name -> (activation,
#: output, init, lr, seed). Every member has its own initialisation (its seed) and batch order (same seed).
READERS_NETWORK = {
    "relu sigmoid s0": ("relu", "sigmoid", "glorot", LR, 0),
    "relu sigmoid s1": ("relu", "sigmoid", "glorot", LR, 1),
    "relu linear s0": ("relu", "linear", "glorot", LR, 0),
    "relu linear s1": ("relu", "linear", "glorot", LR, 1),
    "linear s0": ("linear", "linear", "glorot", LR, 0),
    "linear s1": ("linear", "linear", "glorot", LR, 1),
    "linear orthogonal s0": ("linear", "linear", "orthogonal", LR, 0),
    "linear lr 3e-3 s0": ("linear", "linear", "glorot", 3e-3, 0),
}
SV_EVERY = 10  # full singular-value spectra of the linear members every this many epochs


def run_readers_network(group: str, epochs: int = 300, n_rows: int = N_ROWS,
                        log: Callable[[str], None] | None = None) -> dict:
    """Train the reader's widths (100 everywhere, five hidden layers) with MSE for ``epochs`` epochs; return the record.

    ``group`` picks the members of ``READERS_NETWORK`` whose names start with it (one record each,
    so that each takes under half an hour on one CPU thread): ``"relu sigmoid"`` (ReLU hidden layers
    with the reader's sigmoid output), ``"relu linear"`` (a linear output) and ``"linear"`` (the deep
    linear stack), two seeds each; the linear stack also with an orthogonal initialisation and with
    learning rate 3e-3 (one seed each). Data: ``n_rows`` rows of
    ``U(0, 1)``, 100 features (seed 0); Adam, batch 32, Glorot initialisation unless named.
    Series per member: ``"<m> loss"`` (MSE per element, per epoch); ReLU members ``"<m> dead"``
    (dead units, epoch 0 first); linear members ``"<m> small sv"`` (singular values of the
    end-to-end map below 0.5, epoch 0 first). Results: each linear member's full singular values
    every ``SV_EVERY`` epochs, and each member's final evaluation.
    """
    epochs, n_rows = check_positive_int(epochs, "epochs"), check_positive_int(n_rows, "n_rows")
    start = time.perf_counter()
    x = aebook.data.uniform(n_rows, N_FEATURES, seed=0)
    series: dict[str, list] = {}
    results: dict[str, dict] = {}
    by_shape: dict[tuple[str, str], list[str]] = {}
    for name, (activation, output, *_rest) in READERS_NETWORK.items():
        if name.startswith(group + " "):
            by_shape.setdefault((activation, output), []).append(name)
    if not by_shape:
        raise ValueError(f"no member of READERS_NETWORK starts with {group!r}; use 'relu sigmoid', 'relu linear' "
                         "or 'linear'.")
    for (activation, output), names in by_shape.items():
        settings = [READERS_NETWORK[n] for n in names]
        models = [aebook.Autoencoder(N_FEATURES, N_FEATURES, hidden=(N_FEATURES, N_FEATURES), activation=activation,
                                     output=output, init=init, seed=seed) for _, _, init, _, seed in settings]
        if activation == "linear":
            recorder = Recorder(lambda model: aebook.models.singular_values(model).tolist(), models)
        else:
            recorder = DeadUnitTracker(x, models)
        histories = aebook.fit_many(models, x, loss="mse", lr=[s[3] for s in settings], batch_size=BATCH_SIZE,
                                    epochs=epochs, seeds=[s[4] for s in settings], on_epoch=recorder, progress=False)
        for member, (name, model, history) in enumerate(zip(names, models, histories, strict=True)):
            ev = aebook.evaluate(model, x, "mse")
            series[f"{name} loss"] = history.loss.tolist()
            results[name] = {"mse": ev.mse, "epochs_to_1e-5": history.epochs_to(1e-5)}
            if activation == "linear":
                spectra = np.array([row[member] for row in recorder.values])  # (counts, 100)
                series[f"{name} small sv"] = (spectra < 0.5).sum(axis=1).tolist()
                results[name]["singular_values"] = {str(e): [round(v, 6) for v in spectra[e]]
                                                    for e in range(0, len(spectra), SV_EVERY)}
            else:
                series[f"{name} dead"] = recorder.total[member].tolist()
            if log is not None:
                log(f"{name:22s} MSE {ev.mse:.3g} after {epochs} epochs ({time.perf_counter() - start:.0f} s so far)")
    eigenvalues = aebook.floors.covariance_eigenvalues(x)
    results["data"] = {"covariance_eigenvalues": [float(v) for v in eigenvalues], "variance_per_element":
                       float(eigenvalues.sum() / N_FEATURES)}
    members = [n for names in by_shape.values() for n in names]
    settings = {"group": group, "n_rows": n_rows, "n_features": N_FEATURES, "hidden": [N_FEATURES, N_FEATURES],
                "loss": "mse", "batch_size": BATCH_SIZE, "epochs": epochs, "data_seed": 0,
                "members": {n: dict(zip(("activation", "output", "init", "lr", "seed"), READERS_NETWORK[n],
                                        strict=True)) for n in members}}
    return make_record("book/original_question.py:run_readers_network", settings, series,
                       time.perf_counter() - start,
                       _check_spec("run_readers_network", {"group": group, "epochs": 1}, series), results)


# --- figures ---------------------------------------------------------------------------------------


def dead_units_over_training(
    epochs: Sequence[int],
    totals: Mapping[str, Sequence[int]],
    units: int,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Plot the number of dead units against epoch (0 = at initialisation) for each label; return the Axes.

    ``units`` is the number of units in all activation layers; it sets the right-hand axis in %.
    """
    ax = ax or new_axes()
    for label, total in totals.items():
        ax.plot(np.asarray(epochs), np.asarray(total), marker=".", label=label)
    ax.set_ylim(bottom=0)
    right = ax.secondary_yaxis("right", functions=(lambda v: 100 * v / units, lambda p: p * units / 100))
    right.set_ylabel("dead units (%)")
    return finish_axes(ax, "epoch (0 = initialisation)", f"dead units (of {units})", title)


def excess_curves(
    excess: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Plot per-epoch training loss minus its floor for each label, on a log scale; return the Axes.

    Values are in the units of each run's loss (nats per element for BCE, MSE per element for
    MSE); put the loss in the label when runs with different losses share the plot.
    """
    ax = ax or new_axes()
    for label, values in excess.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
    return finish_axes(ax, "epoch", "training loss − floor\n(nats per element for BCE, MSE per element)", title,
                       logy=True)


# --- prose phrases ---------------------------------------------------------------------------------


def value_span(lo: float, hi: float, spec: str = ".4f") -> str:
    """Return ``"lo to hi"`` formatted with ``spec``, or the one value when both ends print alike.

    >>> value_span(0.02585, 0.02589), value_span(0.02503, 0.02512), value_span(126, 130, "d")
    ('0.0259', '0.0250 to 0.0251', '126 to 130')
    """
    if lo > hi:
        raise ValueError(f"value_span needs lo <= hi, got {lo!r} > {hi!r}.")
    low, high = format(lo, spec), format(hi, spec)
    return low if low == high else f"{low} to {high}"


def count_phrase(n: int, noun: str) -> str:
    """Return ``"no epochs"``, ``"1 epoch"`` or ``"3 epochs"`` for ``noun="epoch"`` (plural by adding "s")."""
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"count_phrase needs a count (an integer >= 0), got {n!r}.")
    n = int(n)
    if n == 0:
        return f"no {noun}s"
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
