"""aebook.DeadUnitTracker: the on_epoch recorder of dead ReLU units (EvaluationTracker: tests/test_bottleneck.py)."""

import numpy as np
import pytest
import torch

import aebook
from aebook import DeadUnitTracker


def relu_model(seed=0):
    return aebook.Autoencoder(4, 3, hidden=(5,), activation="relu", output="sigmoid", seed=seed)


def test_dead_unit_tracker_counts_at_init_and_each_epoch():
    x = aebook.data.uniform(200, 4, seed=0)
    models = [relu_model(0), relu_model(1)]
    tracker = DeadUnitTracker(x, models)
    aebook.fit_many(models, x, loss="bce", epochs=3, batch_size=50, progress=False, on_epoch=tracker)
    assert tracker.epochs == [0, 1, 2, 3]
    assert tracker.width == (5, 3, 5)
    assert tracker.dead.shape == (2, 4, 3) and tracker.total.shape == (2, 4)
    # the last count is the trained models' own count
    for i, model in enumerate(models):
        assert tuple(tracker.dead[i, -1]) == aebook.models.dead_units(model, x).dead
    assert np.all((0 <= tracker.fraction) & (tracker.fraction <= 1))


def test_dead_unit_tracker_with_fit_and_every():
    x = aebook.data.uniform(100, 4, seed=0)
    model = relu_model()
    tracker = DeadUnitTracker(x, model, every=2)
    aebook.fit(model, x, loss="bce", epochs=5, batch_size=50, progress=False, on_epoch=tracker)
    assert tracker.epochs == [0, 2, 4]


def test_first_epoch_reaching():
    x = aebook.data.uniform(50, 3, seed=0)
    model = aebook.Autoencoder(3, 2, hidden=(4,), activation="relu", seed=0)
    tracker = DeadUnitTracker(x, model)
    with torch.no_grad():
        layer = model.linear_layers()[0]
        layer.weight.zero_()
        layer.bias.fill_(-1.0)  # all 4 units of the first layer dead from now on
    tracker(1, model)
    tracker(2, model)
    assert tracker.total[0].tolist()[1:] == [tracker.total[0, -1]] * 2
    assert tracker.first_epoch_reaching(1.0) == [1]
    with pytest.raises(ValueError, match="share"):
        tracker.first_epoch_reaching(0.0)


def test_no_dead_units_gives_none():
    x = aebook.data.uniform(50, 3, seed=0)
    model = aebook.Autoencoder(3, 2, hidden=(4,), activation="relu", seed=0)
    with torch.no_grad():
        for layer in model.linear_layers():
            layer.weight.fill_(0.1)
            layer.bias.fill_(1.0)
    assert DeadUnitTracker(x, model).first_epoch_reaching(0.5) == [None]


def test_dead_unit_tracker_refuses_bad_input():
    x = aebook.data.uniform(10, 4, seed=0)
    with pytest.raises(ValueError, match="linear"):
        DeadUnitTracker(x, aebook.Autoencoder(4, 2))
    with pytest.raises(ValueError, match="non-empty"):
        DeadUnitTracker(x, [])
    with pytest.raises(ValueError, match="features"):
        DeadUnitTracker(aebook.data.uniform(10, 3, seed=0), relu_model())
    tracker = DeadUnitTracker(x, relu_model())
    with pytest.raises(ValueError, match="made for 1"):
        tracker(1, [relu_model(), relu_model(1)])


def test_a_tracker_refuses_a_call_with_other_models():
    x = aebook.data.uniform(64, 3, seed=0)
    models = [aebook.Autoencoder(3, 3, hidden=(4,), activation="relu", seed=s) for s in (0, 1)]
    tracker = DeadUnitTracker(x, models)
    with pytest.raises(ValueError, match=r"made for 2 model\(s\) but was called with 1"):
        tracker(1, models[:1])
