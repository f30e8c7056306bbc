"""The reader's model at full scale: 30,000 rows of U(0, 1) data, 100 features, 50 epochs.

The chapter ``book/original_question.ipynb`` runs the same models at a size that executes in
well under a minute on two CPU cores; this script runs them at the reader's scale and records
the result in ``benchmarks/original_question_full.json``, which the chapter reads and quotes.

Run from the repository root (minutes on an idle 2-core CPU; much less on a GPU)::

    .venv/bin/python benchmarks/original_question_full.py [--epochs 50] [--out PATH]

Every model is seeded, so a rerun on the same machine and torch version gives the same numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

import aebook
from aebook.monitor import DeadUnitTracker

N_ROWS, N_FEATURES, BATCH_SIZE, LR = 30_000, 100, 32, 1e-3  # the reader's data; Keras's defaults


def build(activation: str = "relu", init: str = "glorot", output: str = "sigmoid") -> aebook.Autoencoder:
    """The reader's architecture: 3 encoder layers of width 100 (code included), 2 decoder layers, a head."""
    return aebook.Autoencoder(N_FEATURES, N_FEATURES, hidden=(N_FEATURES, N_FEATURES), activation=activation,
                              output=output, init=init, seed=0)


def summary(model: aebook.Autoencoder, history: aebook.History, x: torch.Tensor,
            tracker: DeadUnitTracker | None, member: int) -> dict:
    ev = aebook.evaluate(model, x, history.loss_name)
    out = {
        "loss_per_epoch": [round(float(v), 6) for v in history.loss],
        "loss": round(ev.loss, 6), "floor": round(ev.floor, 6), "excess": round(ev.excess, 6),
        "mse": round(ev.mse, 6), "seconds": round(history.seconds, 1), "device": history.device,
    }
    if tracker is not None:
        out["dead_epochs"] = tracker.epochs
        out["dead_total"] = [int(v) for v in tracker.total[member]]
        out["dead_final_per_layer"] = [int(v) for v in tracker.dead[member, -1]]
        out["width"] = list(tracker.width)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)  # the recorded run
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("original_question_full.json"))
    args = parser.parse_args()
    x = aebook.data.uniform(N_ROWS, N_FEATURES, seed=0)
    record: dict = {
        "made_by": "benchmarks/original_question_full.py",
        "settings": {"n_rows": N_ROWS, "n_features": N_FEATURES, "batch_size": BATCH_SIZE, "lr": LR,
                     "epochs": args.epochs, "data_seed": 0, "model_seed": 0, "fit_seed": 0},
        "torch": torch.__version__, "machine": platform.machine(), "models": {},
    }
    fit = {"lr": LR, "batch_size": BATCH_SIZE, "epochs": args.epochs}
    runs = [
        ("relu, Glorot init (the reader's)", ["relu glorot", "relu pytorch"], "bce",
         [build(), build(init="pytorch")]),
        ("leaky ReLU", ["leaky_relu glorot"], "bce", [build("leaky_relu")]),
        ("linear, sigmoid, BCE", ["linear glorot bce"], "bce", [build("linear")]),
        ("linear, linear output, MSE", ["linear glorot mse"], "mse", [build("linear", output="linear")]),
    ]
    for title, names, loss, models in runs:
        start = time.perf_counter()
        tracker = DeadUnitTracker(x, models) if models[0].activation != "linear" else None
        histories = aebook.fit_many(models, x, loss=loss, seeds=[0] * len(models), on_epoch=tracker, **fit)
        for member, (name, model, history) in enumerate(zip(names, models, histories, strict=True)):
            record["models"][name] = summary(model, history, x, tracker, member)
            print(f"{name:20s} loss {record['models'][name]['loss']:.4f} excess {record['models'][name]['excess']:.4f}"
                  f" mse {record['models'][name]['mse']:.4f}", flush=True)
        print(f"  ({title}: {time.perf_counter() - start:.0f} s)", flush=True)
        args.out.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
