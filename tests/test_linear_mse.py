"""Tests of book/linear_mse.py, the code of the chapter "Linear model, uniform data, MSE"."""

import numpy as np
import pytest
import torch

import aebook
from linear_mse import epoch_series, identity_gap, singular_value_plot


def _set_map(model: aebook.Autoencoder, weight: torch.Tensor, bias: torch.Tensor) -> None:
    """Make a hidden=() linear model compute x -> weight x + bias (encoder = identity)."""
    enc, dec = model.linear_layers()
    with torch.no_grad():
        enc.weight.copy_(torch.eye(model.n_features))
        enc.bias.zero_()
        dec.weight.copy_(weight)
        dec.bias.copy_(bias)


def test_identity_map_has_no_gap():
    model = aebook.Autoencoder(3, 3, seed=0)
    _set_map(model, torch.eye(3), torch.zeros(3))
    gap = identity_gap(model, aebook.data.uniform(500, 3, seed=0))
    np.testing.assert_allclose(gap.singular_values, 1.0, atol=1e-6)
    assert gap.loss == pytest.approx(0.0, abs=1e-12) and gap.collapsed == 0 and gap.collapsed_bound == 0.0


def test_gap_loss_equals_the_models_mse():
    model = aebook.Autoencoder(4, 4, hidden=(5,), seed=1)
    x = aebook.data.uniform(2000, 4, seed=1)
    gap = identity_gap(model, x)
    mse = aebook.evaluate(model, x, "mse").mse
    assert gap.loss == pytest.approx(mse, rel=1e-5)
    assert gap.covariance_term >= 0 and gap.mean_term >= 0


def test_collapsed_direction_costs_its_variance():
    # W = I except one zero direction: the loss is that coordinate's variance / d, and the bound holds.
    d = 4
    model = aebook.Autoencoder(d, d, seed=0)
    weight = torch.eye(d)
    weight[0, 0] = 0.0
    x = aebook.data.uniform(5000, d, seed=2)
    _set_map(model, weight, torch.tensor([x[:, 0].mean().item(), 0.0, 0.0, 0.0]))
    gap = identity_gap(model, x)
    assert gap.collapsed == 1
    variance = x[:, 0].double().var(unbiased=False).item()
    assert gap.loss == pytest.approx(variance / d, rel=1e-6)
    assert gap.mean_term == pytest.approx(0.0, abs=1e-12)
    assert 0 < gap.collapsed_bound <= gap.loss


def test_identity_gap_rejects_bad_input():
    x = aebook.data.uniform(10, 2, seed=0)
    with pytest.raises(ValueError, match="output='linear'"):
        identity_gap(aebook.Autoencoder(2, 2, output="sigmoid"), x)
    with pytest.raises(ValueError, match="threshold"):
        identity_gap(aebook.Autoencoder(2, 2), x, threshold=1.5)
    with pytest.raises(ValueError, match="features"):
        identity_gap(aebook.Autoencoder(3, 3), x)
    with pytest.raises(ValueError, match="activation='linear'"):
        identity_gap(aebook.Autoencoder(2, 2, activation="relu"), x)


def test_epoch_series_plots_one_point_per_epoch():
    import matplotlib

    matplotlib.use("Agg")
    ax = epoch_series({"a": [3, 2, 0], "b": [1, 1]}, ylabel="directions")
    lines = ax.get_lines()
    assert [list(line.get_xdata()) for line in lines] == [[1, 2, 3], [1, 2]]
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "directions"
    with pytest.raises(ValueError, match="at least one"):
        epoch_series({}, ylabel="y")
    with pytest.raises(ValueError, match="1-D"):
        epoch_series({"a": []}, ylabel="y")


def test_singular_value_plot_draws_each_map_and_the_identity():
    import matplotlib

    matplotlib.use("Agg")
    model = aebook.Autoencoder(3, 3, seed=0)
    ax = singular_value_plot({"init": aebook.models.singular_values(model), "two": np.array([2.0, 0.5])})
    lines = ax.get_lines()
    assert [list(line.get_xdata()) for line in lines[:2]] == [[1, 2, 3], [1, 2]]
    assert ax.get_yscale() == "log" and "identity" in lines[2].get_label()


def test_run_slow_lr_tiny():
    from linear_mse import run_slow_lr

    record = run_slow_lr(epochs=2, seeds=(0, 1), n_rows=500)
    assert list(record["results"]) == ["pytorch s0", "pytorch s1", "glorot s0", "glorot s1"]
    assert all(len(v) <= 2 for v in record["series"].values()) and record["settings"]["steps_per_epoch"] == 4
    assert record["check"]["kwargs"] == {"epochs": 1}


def test_run_deep_stack_tiny():
    """The deep-stack record: per-seed loss, collapsed count and smallest singular value (epoch 0 first)."""
    from linear_mse import run_deep_stack

    record = run_deep_stack(epochs=2, seeds=(0, 1), n_rows=300)
    series, results = record["series"], record["results"]
    for s in ("s0", "s1"):
        assert len(series[f"{s} loss"]) == 2
        assert len(series[f"{s} small sv"]) == len(series[f"{s} min sv"]) == 3  # epochs 0, 1, 2
        assert 0 <= min(series[f"{s} small sv"]) and max(series[f"{s} small sv"]) <= 100
        assert results[s]["epochs_to_1e-5"] is None and results[s]["epochs"] == 2
        assert sorted(results[s]["singular_values"], key=int) == ["0", "2"]  # every 25 epochs, and the end
        spectrum = results[s]["singular_values"]["2"]
        assert spectrum == sorted(spectrum, reverse=True) and series[f"{s} min sv"][-1] == pytest.approx(
            spectrum[-1], rel=1e-4, abs=1e-6)
    assert record["check"]["kwargs"] == {"epochs": 1} and set(record["check"]["values"]) == {"s0 loss", "s1 loss"}
    with pytest.raises(ValueError, match="epochs"):
        run_deep_stack(epochs=0)
