"""book/bottleneck.py: fit_schedule, EvaluationTracker, mse_with_error and the convergence record."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import aebook
from bottleneck import EvaluationTracker, fit_schedule, mse_with_error, paired_mse_difference, run_convergence

ROOT = Path(__file__).resolve().parent.parent

# --- fit_schedule ----------------------------------------------------------------------------------


def test_schedule_equals_consecutive_fits():
    x = aebook.data.uniform(200, 3, seed=0)
    a, b = aebook.Autoencoder(3, 2, seed=0), aebook.Autoencoder(3, 2, seed=0)
    seen = []
    h = fit_schedule(a, x, "mse", [(1e-2, 3), (1e-3, 2)], batch_size=40, seed=5, progress=False,
                     on_epoch=lambda epoch, model: seen.append(epoch))
    h1 = aebook.fit(b, x, loss="mse", lr=1e-2, epochs=3, batch_size=40, seed=5, progress=False)
    h2 = aebook.fit(b, x, loss="mse", lr=1e-3, epochs=2, batch_size=40, seed=6, progress=False)
    np.testing.assert_allclose(h.loss, np.concatenate([h1.loss, h2.loss]), rtol=1e-6)
    assert h.epochs == 5 and h.lr == 1e-3 and seen == [1, 2, 3, 4, 5]
    assert h.steps == h1.steps + h2.steps and h.extra["schedule"] == [(1e-2, 3), (1e-3, 2)]
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    ("schedule", "kwargs", "match"),
    [
        ([], {}, "empty"),
        ([(1e-3,)], {}, "pair"),
        ([(1e-3, 0)], {}, "positive integer"),
        ([(1e-3, 2)], {"lr": 1e-2}, "takes no 'lr'"),
        ([(-1.0, 2)], {}, "lr must be a positive number"),
    ],
)
def test_bad_schedules_raise(schedule, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_schedule(aebook.Autoencoder(2, 1), aebook.data.uniform(10, 2), "mse", schedule, progress=False, **kwargs)


# --- EvaluationTracker -----------------------------------------------------------------------------


def test_evaluation_tracker_follows_the_gap_across_fit_calls():
    x = aebook.data.uniform(400, 6, seed=0)
    model = aebook.Autoencoder(6, 3, seed=0)
    tracker = EvaluationTracker(x, "mse", model, every=2)
    aebook.fit(model, x, loss="mse", lr=1e-2, epochs=4, batch_size=50, progress=False, on_epoch=tracker)
    aebook.fit(model, x, loss="mse", lr=1e-3, epochs=2, batch_size=50, progress=False, on_epoch=tracker)
    assert tracker.epochs == [0, 2, 4, 6]
    assert tracker.floor[0] == pytest.approx(aebook.floors.pca_floor(x, 3))
    assert tracker.loss_values.shape == (1, 4)
    np.testing.assert_allclose(tracker.excess, tracker.loss_values - tracker.floor[:, None])
    assert tracker.relative_gap[0, -1] == pytest.approx(aebook.evaluate(model, x, "mse").excess / tracker.floor[0])
    # a linear model cannot beat the PCA floor (float32 round-off aside)
    assert np.all(tracker.relative_gap > -1e-5)


def test_evaluation_tracker_computes_each_floor_once(monkeypatch):
    x = aebook.data.uniform(300, 6, seed=0)
    models = [aebook.Autoencoder(6, k, seed=0) for k in (2, 3)]
    tracker = EvaluationTracker(x, "mse", models)
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return 0.0

    for module in (sys.modules["aebook.evaluate"], sys.modules["aebook.floors"], sys.modules["bottleneck"]):
        monkeypatch.setattr(module, "loss_floor", counted)
    for epoch in (1, 2):  # as fit_many would call it after each epoch
        tracker(epoch, models)
    assert calls == []  # no floor computed after the first count
    assert tracker.epochs == [0, 1, 2] and len(tracker.evaluations) == 3
    # each model is judged against the floor of its own code width
    np.testing.assert_allclose(tracker.floor, [aebook.floors.pca_floor(x, 2), aebook.floors.pca_floor(x, 3)])
    for row in tracker.evaluations:
        for model, ev in zip(models, row, strict=True):
            assert ev.floor == tracker.floor[models.index(model)]


def test_evaluation_tracker_relative_gap_needs_a_floor():
    x = aebook.data.uniform(40, 3, seed=0)
    tracker = EvaluationTracker(x, "mse", aebook.Autoencoder(3, 3, seed=0))
    with pytest.raises(ValueError, match="floor is 0"):
        _ = tracker.relative_gap
    with pytest.raises(ValueError, match="unknown loss"):
        EvaluationTracker(x, "l1", aebook.Autoencoder(3, 3))
    with pytest.raises(ValueError, match="made for 1"):
        tracker(1, [aebook.Autoencoder(3, 3), aebook.Autoencoder(3, 3)])
    with pytest.raises(ValueError, match="non-empty"):
        EvaluationTracker(x, "mse", [])
    with pytest.raises(ValueError, match="features"):
        EvaluationTracker(x, "mse", aebook.Autoencoder(4, 2))


def test_evaluation_tracker_refuses_a_call_with_other_models():
    x = aebook.data.uniform(64, 3, seed=0)
    models = [aebook.Autoencoder(3, 3, hidden=(4,), activation="relu", seed=s) for s in (0, 1)]
    tracker = EvaluationTracker(x, "mse", models)
    with pytest.raises(ValueError, match=r"made for 2 model\(s\) but was called with 1"):
        tracker(1, models[:1])


# --- mse_with_error --------------------------------------------------------------------------------


def test_mse_with_error_matches_evaluate():
    x = aebook.data.uniform(500, 3, seed=0)
    model = aebook.Autoencoder(3, 1, seed=0)
    mse, se = mse_with_error(model, x)
    assert mse == pytest.approx(aebook.evaluate(model, x, "mse").mse, rel=1e-6)
    assert 0 < se < mse
    with pytest.raises(ValueError, match="features"):
        mse_with_error(model, aebook.data.uniform(5, 2, seed=0))
    with pytest.raises(ValueError, match="2 rows"):
        mse_with_error(model, x[:1])


def test_paired_mse_difference_is_the_difference_of_the_mses():
    x = aebook.data.uniform(500, 3, seed=0)
    a, b = aebook.Autoencoder(3, 1, seed=0), aebook.Autoencoder(3, 2, seed=1)
    diff, se = paired_mse_difference(a, b, x)
    assert diff == pytest.approx(mse_with_error(a, x)[0] - mse_with_error(b, x)[0], rel=1e-9)
    assert se > 0
    # a model against itself: no difference and no spread
    assert paired_mse_difference(a, a, x) == (0.0, 0.0)
    # the per-row differences: their mean and sd / sqrt(n)
    with torch.no_grad():
        per_row = ((a(x) - x).double() ** 2).mean(1) - ((b(x) - x).double() ** 2).mean(1)
    assert se == pytest.approx(float(per_row.std()) / 500**0.5, rel=1e-4)
    with pytest.raises(ValueError, match="features"):
        paired_mse_difference(a, aebook.Autoencoder(2, 1), x)
    with pytest.raises(ValueError, match="2 rows"):
        paired_mse_difference(a, b, x[:1])


# --- the record records/bottleneck_convergence.json ------------------------------------------------

TINY = {
    "iid d=5 k=2": ({"kind": "uniform", "n": 300, "d": 5, "seed": 0}, 2),
    "rank 1 + noise d=4 k=1": ({"kind": "redundant", "n": 200, "d": 4, "rank": 1, "noise": 0.1, "seed": 0}, 1),
}


def test_run_convergence_tiny():
    record = run_convergence(TINY, seeds=(1, 2), schedule=[(1e-2, 1)], extension=[(1e-3, 1)], log=None)
    assert record["made_by"] == "book/bottleneck.py:run_convergence"
    assert record["settings"] == {"batch_size": 50, "schedule": [[1e-2, 1]], "extension": [[1e-3, 1]], "seeds": [1, 2],
                                  "cases": {n: {"data": d, "k": k} for n, (d, k) in TINY.items()}}
    case = record["results"]["cases"]["iid d=5 k=2"]
    assert case["k"] == 2 and case["floor"] == round(aebook.floors.pca_floor(aebook.data.uniform(300, 5), 2), 8)
    assert len(case["gap_after_schedule"]) == len(case["gap_after_extension"]) == 2
    assert len(record["series"]["iid d=5 k=2 s2 loss"]) == 2  # one epoch of schedule, one of extension
    assert set(record["check"]["values"]) == {f"{n} s1 loss" for n in TINY}
    json.dumps(record)  # JSON-ready


def test_stored_record_matches_its_settings():
    record = json.loads((ROOT / "records" / "bottleneck_convergence.json").read_text())
    assert record["made_by"] == "book/bottleneck.py:run_convergence"
    import bottleneck

    settings = record["settings"]
    assert (settings["batch_size"], settings["schedule"], settings["extension"], settings["seeds"]) == (
        bottleneck.BATCH_SIZE, [list(p) for p in bottleneck.SCHEDULE], [list(p) for p in bottleneck.EXTENSION],
        list(bottleneck.SEEDS))
    assert {name: (c["data"], c["k"]) for name, c in record["results"]["cases"].items()} == bottleneck.CASES
