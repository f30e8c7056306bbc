"""book/original_question.py: the reader's model, the full-scale record and the chapter's figures."""

import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch

import aebook
import original_question
from original_question import (
    READERS_NETWORK,
    count_phrase,
    dead_units_over_training,
    excess_curves,
    readers_model,
    run_full_scale,
    run_readers_network,
    value_span,
)

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent


def test_readers_model_is_the_keras_one():
    model = readers_model()
    assert [(layer.in_features, layer.out_features) for layer in model.linear_layers()] == [(100, 100)] * 6
    assert model.activation == "relu" and model.output == "sigmoid" and model.encoding_dim == 100
    assert readers_model("linear", output="linear").output == "linear"


def test_run_full_scale_tiny():
    record = run_full_scale(epochs=1, n_rows=300)
    assert record["made_by"] == "book/original_question.py:run_full_scale"
    assert record["settings"]["n_rows"] == 300 and record["settings"]["epochs"] == 1
    names = ["relu glorot", "relu pytorch", "leaky_relu glorot", "linear glorot bce", "linear glorot mse"]
    assert list(record["results"]) == names
    assert len(record["series"]["relu glorot loss"]) == 1 and len(record["series"]["relu glorot dead"]) == 2
    assert "linear glorot bce dead" not in record["series"]
    relu = record["results"]["relu glorot"]
    assert relu["units"] == 500 and relu["loss"] == pytest.approx(relu["floor"] + relu["excess"], abs=2e-6)
    assert record["check"]["kwargs"] == {"epochs": 1} and set(record["check"]["values"]) == {f"{n} loss" for n in names}
    json.dumps(record)
    with pytest.raises(ValueError, match="epochs"):
        run_full_scale(epochs=0)


def test_run_readers_network_tiny():
    record = run_readers_network("linear", epochs=2, n_rows=300)
    members = [n for n in READERS_NETWORK if n.startswith("linear ")]
    assert list(record["settings"]["members"]) == members and record["settings"]["group"] == "linear"
    for name in members:
        assert len(record["series"][f"{name} loss"]) == 2 and len(record["series"][f"{name} small sv"]) == 3
        assert list(record["results"][name]["singular_values"]) == ["0"]
    assert record["check"]["kwargs"] == {"group": "linear", "epochs": 1}
    relu = run_readers_network("relu sigmoid", epochs=1, n_rows=200)
    assert len(relu["series"]["relu sigmoid s1 dead"]) == 2
    with pytest.raises(ValueError, match="READERS_NETWORK"):
        run_readers_network("sigmoid")


@pytest.mark.parametrize("name", ["original_question_full", "readers_network_relu_sigmoid",
                                  "readers_network_relu_linear", "readers_network_linear"])
def test_stored_record_matches_the_chapter_settings(name):
    path = ROOT / "records" / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{path.name} not made yet")
    record = json.loads(path.read_text())
    settings = record["settings"]
    assert (settings["n_rows"], settings["n_features"], settings["batch_size"]) == (
        original_question.N_ROWS, original_question.N_FEATURES, original_question.BATCH_SIZE)
    if name == "original_question_full":
        assert record["made_by"] == "book/original_question.py:run_full_scale" and settings["epochs"] == 50
    else:
        assert record["made_by"] == "book/original_question.py:run_readers_network" and settings["epochs"] == 300
        assert {n: tuple(m.values()) for n, m in settings["members"].items()} == {
            n: v for n, v in READERS_NETWORK.items() if n.startswith(settings["group"] + " ")}


def test_figures_draw_what_they_are_given():
    ax = dead_units_over_training([0, 1, 2], {"a": [1, 3, 4], "b": [0, 0, 2]}, units=10, title="t")
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert ax.get_ylabel() == "dead units (of 10)" and ax.get_ylim()[0] == 0
    ax = excess_curves({"x (BCE)": [0.3, 0.2, 0.1]})
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    assert ax.get_yscale() == "log"


def test_best_bent_logit_recovers_the_sigmoid_affine_optimum_and_improves_with_knots():
    best = aebook.floors.best_sigmoid_affine()
    coef, excess = original_question.best_bent_logit(0)
    assert coef[1] == pytest.approx(best.slope, rel=1e-4) and excess == pytest.approx(best.excess, rel=1e-4)
    excesses = [original_question.best_bent_logit(m)[1] for m in (0, 2, 4)]
    assert excesses[0] > excesses[1] > excesses[2] > 0
    with pytest.raises(ValueError, match="knots"):
        original_question.best_bent_logit(-1)


def test_hand_built_model_computes_its_logit():
    coef = [-1.0, 3.0, 2.0, -4.0]  # two knots, at 1/3 and 2/3
    model = original_question.hand_built_model(coef, n_features=3)
    t = torch.rand(50, 3)
    expected = coef[0] + coef[1] * t + coef[2] * torch.relu(t - 1 / 3) + coef[3] * torch.relu(t - 2 / 3)
    torch.testing.assert_close(model.logits(t), expected, atol=1e-5, rtol=0)
    plain = original_question.hand_built_model([-2.6, 5.2])  # no knots: the reader's exact widths
    assert [layer.out_features for layer in plain.linear_layers()] == [100] * 6


def test_value_span_prints_one_value_when_the_ends_print_alike():
    assert value_span(0.02585, 0.02589) == "0.0259"
    assert value_span(0.02503, 0.02512) == "0.0250 to 0.0251"
    assert value_span(234, 234, "d") == "234" and value_span(126, 130, "d") == "126 to 130"
    with pytest.raises(ValueError, match="lo <= hi"):
        value_span(2.0, 1.0)


def test_count_phrase_gets_the_plural_right():
    assert [count_phrase(n, "epoch") for n in (0, 1, 2)] == ["no epochs", "1 epoch", "2 epochs"]
    assert count_phrase(np.int64(3), "unit") == "3 units"
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="count"):
            count_phrase(bad, "epoch")
