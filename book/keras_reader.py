"""Chapter "The reader's code, run by Keras" (keras_reader.ipynb): the question's Keras model as written,
trained by Keras 3 on its torch backend, and judged by ``aebook`` the same way as ``aebook``'s own reproduction.

* ``keras_readers_model`` builds and compiles the question's model exactly as the question wrote it.
* ``to_aebook`` copies a Keras model's weights into an ``aebook.Autoencoder``, so that
  ``aebook.evaluate`` and ``aebook.models.dead_units`` judge both models with one ruler.
* ``run_keras`` makes the record ``records/keras_reader.json`` (``python records/make.py keras_reader``):
  both models, two seeds, the reader's data (30,000 rows of ``U(0, 1)``, 100 features), 50 epochs.

Keras is imported here, in the chapter's code, never by ``aebook``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence

#: The backend this chapter runs Keras on: the one that installs beside the project's torch pin.
BACKEND = "torch"


def require_torch_backend(environ: MutableMapping[str, str] = os.environ) -> str:
    """Make Keras pick the torch backend: set ``KERAS_BACKEND=torch`` in ``environ`` unless it is set; return it.

    Raises:
        RuntimeError: if ``KERAS_BACKEND`` names another backend.
    """
    backend = environ.setdefault("KERAS_BACKEND", BACKEND)
    if backend != BACKEND:
        raise RuntimeError(
            f"KERAS_BACKEND is {backend!r}, but this chapter runs Keras on the {BACKEND!r} backend (the one "
            f"installed with the project's torch pin). Unset KERAS_BACKEND or set it to {BACKEND!r} before "
            "starting Python: Keras reads it once, when it is first imported.")
    return backend


# Keras chooses its backend once, when `keras` is first imported, from KERAS_BACKEND (or ~/.keras/keras.json;
# the variable wins). Its default is TensorFlow, which this project does not install, so the variable must
# be set before the import below, and a different value set by the caller is an error, not something to
# override silently: Keras may already run on that backend in this process.
require_torch_backend()

import keras  # noqa: E402  (after KERAS_BACKEND: see above)
import numpy as np  # noqa: E402

import aebook  # noqa: E402
from aebook import Autoencoder, DeadUnitTracker  # noqa: E402
from aebook.data import check_positive_int  # noqa: E402
from aebook.records import make_record  # noqa: E402
from original_question import BATCH_SIZE, LR, N_FEATURES, N_ROWS  # noqa: E402

if keras.backend.backend() != BACKEND:  # keras was imported earlier in this process with another backend
    raise RuntimeError(f"Keras already runs on the {keras.backend.backend()!r} backend in this process; this "
                       f"chapter needs {BACKEND!r}. Restart Python with KERAS_BACKEND={BACKEND}.")

__all__ = ["BACKEND", "RTOL", "keras_readers_model", "keras_source", "require_torch_backend", "run_keras",
           "to_aebook", "to_aebook_blank"]

#: The record check's tolerance on first-epoch losses (see ``run_keras``), the one measured for ``aebook``'s
#: records (``tests/test_records.py``) and assumed for Keras's: Keras on the torch backend repeats a short run
#: bitwise in a fresh process on one CPU thread (``tests/test_keras_reader.py``), as ``aebook`` does.
RTOL = 1e-5


def keras_readers_model(seed: int) -> keras.Model:
    """Return the question's model, as written, built after ``keras.utils.set_random_seed(seed)`` and compiled.

    Input(100); Dense(100, relu) x 3 (the third is the code); Dense(100, relu) x 2; Dense(100, sigmoid);
    ``compile(optimizer="adam", loss="binary_crossentropy")``. The seed fixes the initial weights (Keras's
    defaults: Glorot-uniform kernels, zero biases) and, for a ``fit`` that follows, the batch order.
    """
    keras.utils.set_random_seed(int(seed))
    inputs = keras.Input(shape=(N_FEATURES,))
    encoded = keras.layers.Dense(100, activation="relu")(inputs)
    encoded = keras.layers.Dense(100, activation="relu")(encoded)
    encoded = keras.layers.Dense(100, activation="relu")(encoded)
    decoded = keras.layers.Dense(100, activation="relu")(encoded)
    decoded = keras.layers.Dense(100, activation="relu")(decoded)
    decoded = keras.layers.Dense(N_FEATURES, activation="sigmoid")(decoded)
    model = keras.Model(inputs, decoded)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def to_aebook_blank() -> Autoencoder:
    """Return an ``aebook.Autoencoder`` of the question's shape for ``to_aebook`` to fill."""
    return Autoencoder(N_FEATURES, N_FEATURES, hidden=(N_FEATURES, N_FEATURES), activation="relu", output="sigmoid")


def _dense_layers(model: keras.Model) -> list:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def to_aebook(model: keras.Model, into: Autoencoder | None = None) -> Autoencoder:
    """Copy the weights of the question's Keras model into an ``aebook.Autoencoder``; return it.

    ``into`` (default: a new ``Autoencoder(100, 100, hidden=(100, 100), activation="relu",
    output="sigmoid")``) is overwritten. A Keras ``Dense`` kernel is ``(in, out)`` and computes
    ``x @ kernel + bias``; an ``nn.Linear`` weight is ``(out, in)`` and computes ``x @ weight.T + bias``,
    so each kernel is transposed.

    Raises:
        ValueError: if the two models' layers do not match in number, shape or activation.
    """
    import torch

    into = to_aebook_blank() if into is None else into
    dense, linear = _dense_layers(model), into.linear_layers()
    if len(dense) != len(linear):
        raise ValueError(f"the Keras model has {len(dense)} Dense layers, the aebook model {len(linear)}; "
                         "build both with the question's six layers.")
    activations = [keras.activations.serialize(layer.activation) for layer in dense]
    wanted = [into.activation] * (len(dense) - 1) + [into.output]
    if activations != wanted:
        raise ValueError(f"the Keras activations {activations} differ from the aebook model's {wanted}.")
    with torch.no_grad():
        for layer, target in zip(dense, linear, strict=True):
            kernel, bias = (np.asarray(w) for w in layer.get_weights())
            if kernel.shape != (target.in_features, target.out_features):
                raise ValueError(f"a Keras kernel of shape {kernel.shape} cannot fill an nn.Linear of shape "
                                 f"{tuple(target.weight.shape)} (out, in).")
            target.weight.copy_(torch.from_numpy(kernel.T.copy()))
            target.bias.copy_(torch.from_numpy(bias.copy()))
    return into.eval()


class _DeadUnitsEachEpoch(keras.callbacks.Callback):
    """Count the dead units of the Keras model before training and after each epoch, with ``aebook``'s ruler."""

    def __init__(self, x: object) -> None:
        super().__init__()
        self.x = x
        self.copy = to_aebook_blank()
        self.total: list[int] = []

    def _count(self) -> None:
        self.total.append(aebook.models.dead_units(to_aebook(self.model, self.copy), self.x).total)

    def on_train_begin(self, logs: Mapping | None = None) -> None:
        self._count()

    def on_epoch_end(self, epoch: int, logs: Mapping | None = None) -> None:
        self._count()


def _judge(model: Autoencoder, x: object, history: Sequence[float]) -> dict:
    """The results of one trained model: aebook's evaluation, dead units, and outputs where Keras's clip binds."""
    import torch

    ev = aebook.evaluate(model, x, "bce")
    dead = aebook.models.dead_units(model, x)
    with torch.no_grad():
        p = model(x)
    eps = keras.config.epsilon()
    clipped = int(((p < eps) | (p > 1 - eps)).sum())
    return {"loss": ev.loss, "floor": ev.floor, "excess": ev.excess, "mse": ev.mse, "final_epoch_loss": history[-1],
            "dead_final": dead.total, "dead_final_per_layer": list(dead.dead), "units": sum(dead.width),
            "clipped_outputs": clipped}


def run_keras(epochs: int = 50, seeds: Sequence[int] = (0, 1), n_rows: int = N_ROWS,
              log: Callable[[str], None] | None = None) -> dict:
    """Train the question's Keras model and ``aebook``'s reproduction for ``epochs`` epochs per seed; return the record.

    Data: ``aebook.data.uniform(n_rows, 100, seed=0)`` for both. Per seed ``s``:

    * **keras**: ``keras_readers_model(s)`` (``keras.utils.set_random_seed(s)``, then the question's
      model), ``fit(x, x, batch_size=32, epochs=epochs, shuffle=True, verbose=0)`` on the torch backend;
    * **aebook**: ``aebook.Autoencoder(100, 100, hidden=(100, 100), activation="relu", output="sigmoid",
      init="glorot", seed=s)`` (``original_question.readers_model`` re-seeded), ``aebook.fit(loss="bce",
      lr=1e-3, batch_size=32, epochs=epochs, seed=s)``.

    Series: ``"keras s0 loss"``, ``"aebook s0 loss"``, ... (the per-epoch mean training loss each
    reports, nats per element) and ``"... dead"`` (dead units, epoch 0 first). Results per model
    (``"keras s0"``, ...): ``aebook.evaluate``'s BCE, floor, excess and MSE of the final weights (the
    Keras model's copied by ``to_aebook``), dead units in total and per layer, and how many outputs lie
    outside Keras's clip ``[1e-7, 1 - 1e-7]``. The check re-runs one epoch of seed 0.
    """
    epochs, n_rows = check_positive_int(epochs, "epochs"), check_positive_int(n_rows, "n_rows")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty; give at least one seed, e.g. seeds=(0,).")
    start = time.perf_counter()
    x = aebook.data.uniform(n_rows, N_FEATURES, seed=0)
    x_np = x.numpy()
    series: dict[str, list] = {}
    results: dict[str, dict] = {}
    for seed in seeds:
        model = keras_readers_model(seed)
        dead = _DeadUnitsEachEpoch(x)
        fitted = model.fit(x_np, x_np, batch_size=BATCH_SIZE, epochs=epochs, shuffle=True, verbose=0,
                           callbacks=[dead])
        name = f"keras s{seed}"
        series[f"{name} loss"] = [float(v) for v in fitted.history["loss"]]
        series[f"{name} dead"] = dead.total
        results[name] = _judge(to_aebook(model), x, series[f"{name} loss"])

        ours = Autoencoder(N_FEATURES, N_FEATURES, hidden=(N_FEATURES, N_FEATURES), activation="relu",
                           output="sigmoid", init="glorot", seed=seed)
        tracker = DeadUnitTracker(x, ours)
        history = aebook.fit(ours, x, loss="bce", lr=LR, batch_size=BATCH_SIZE, epochs=epochs, seed=seed,
                             progress=False, on_epoch=tracker)
        name = f"aebook s{seed}"
        series[f"{name} loss"] = history.loss.tolist()
        series[f"{name} dead"] = tracker.total[0].tolist()
        results[name] = _judge(ours, x, series[f"{name} loss"])
        if log is not None:
            for who in ("keras", "aebook"):
                r = results[f"{who} s{seed}"]
                log(f"{who} s{seed}: BCE {r['loss']:.4f} excess {r['excess']:.4f} MSE {r['mse']:.4f} "
                    f"dead {r['dead_final']} ({time.perf_counter() - start:.0f} s so far)")
    settings = {"n_rows": n_rows, "n_features": N_FEATURES, "batch_size": BATCH_SIZE, "lr": LR, "epochs": epochs,
                "seeds": seeds, "data_seed": 0, "keras_backend": keras.backend.backend(),
                "keras": "the question's model; compile(optimizer='adam', loss='binary_crossentropy'); "
                         "fit(x, x, batch_size=32, shuffle=True) after keras.utils.set_random_seed(seed)",
                "aebook": "Autoencoder(100, 100, hidden=(100, 100), activation='relu', output='sigmoid', "
                          "init='glorot', seed=seed); fit(loss='bce', lr=1e-3, batch_size=32, seed=seed)",
                "keras_epsilon": keras.config.epsilon(), "keras_adam_epsilon": keras.optimizers.Adam().epsilon}
    check = {"made_by": "book/keras_reader.py:run_keras", "kwargs": {"epochs": 1, "seeds": [0]},
             "values": {k: v[:1] for k, v in series.items() if k.endswith(" loss") and k.split()[1] == "s0"},
             "rtol": RTOL}
    return make_record("book/keras_reader.py:run_keras", settings, series, time.perf_counter() - start, check,
                       results, packages=("keras",))


# --- Keras's own source, quoted by the chapter ----------------------------------------------------------


def keras_source(path: str, first: str, last: str, after: str | None = None) -> tuple[int, int, str]:
    """Return ``(first line number, last line number, text)`` of the installed Keras file ``path`` (under
    ``keras/``, e.g. ``"src/backend/torch/nn.py"``): from the first line containing ``first`` (searched
    from the first line containing ``after``, e.g. ``"def binary_crossentropy("``, when given) to the
    next line containing ``last``, inclusive. The chapter quotes Keras through this, so that its quotes
    are the installed code, not a copy that could go stale.

    Raises:
        ValueError: if the file or a marker is not found.
    """
    from pathlib import Path

    file = Path(keras.__file__).resolve().parent / path
    if not file.is_file():
        raise ValueError(f"Keras {keras.__version__} has no file {path!r} under {file.parent}.")
    lines = file.read_text().splitlines()

    def find(text: str, start: int) -> int:
        found = next((i for i in range(start, len(lines)) if text in lines[i]), None)
        if found is None:
            raise ValueError(f"{path} (Keras {keras.__version__}): no line containing {text!r} after line {start}.")
        return found

    begin = find(first, find(after, 0) if after else 0)
    end = find(last, begin)
    return begin + 1, end + 1, "\n".join(lines[begin : end + 1])
