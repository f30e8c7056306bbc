"""book/original_question.py: the reader's model, the full-scale record and the chapter's figures."""

import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import original_question
from original_question import dead_units_over_training, excess_curves, readers_model, run_full_scale

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent


def test_readers_model_is_the_keras_one():
    model = readers_model()
    assert [(layer.in_features, layer.out_features) for layer in model.linear_layers()] == [(100, 100)] * 6
    assert model.activation == "relu" and model.output == "sigmoid" and model.encoding_dim == 100
    assert readers_model("linear", output="linear").output == "linear"


def test_run_full_scale_tiny():
    saved = []
    record = run_full_scale(epochs=1, n_rows=300, save=lambda r: saved.append(json.dumps(r)))
    assert record["made_by"] == "book/original_question.py:run_full_scale"
    assert record["settings"]["n_rows"] == 300 and record["settings"]["epochs"] == 1
    assert list(record["models"]) == ["relu glorot", "relu pytorch", "leaky_relu glorot", "linear glorot bce",
                                      "linear glorot mse"]
    relu = record["models"]["relu glorot"]
    assert len(relu["loss_per_epoch"]) == 1 and relu["dead_epochs"] == [0, 1] and len(relu["dead_total"]) == 2
    assert relu["width"] == [100] * 5 and "dead_total" not in record["models"]["linear glorot bce"]
    assert relu["loss"] == pytest.approx(relu["floor"] + relu["excess"], abs=2e-6)
    assert len(saved) == 4 and json.loads(saved[-1]) == record  # saved after each group of models
    with pytest.raises(ValueError, match="epochs"):
        run_full_scale(epochs=0)


def test_stored_record_matches_its_settings():
    record = json.loads((ROOT / "records" / "original_question_full.json").read_text())
    assert record["made_by"] == "book/original_question.py:run_full_scale"
    assert record["settings"] == {"n_rows": original_question.N_ROWS, "n_features": original_question.N_FEATURES,
                                  "batch_size": original_question.BATCH_SIZE, "lr": original_question.LR,
                                  "epochs": 50, "data_seed": 0, "model_seed": 0, "fit_seed": 0}


def test_figures_draw_what_they_are_given():
    ax = dead_units_over_training([0, 1, 2], {"a": [1, 3, 4], "b": [0, 0, 2]}, units=10, title="t")
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert ax.get_ylabel() == "dead units (of 10)" and ax.get_ylim()[0] == 0
    ax = excess_curves({"x (BCE)": [0.3, 0.2, 0.1]})
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    assert ax.get_yscale() == "log"
