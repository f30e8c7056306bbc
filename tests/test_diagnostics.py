import numpy as np
import pytest
import torch

import aebook
from aebook.models import dead_units, end_to_end_map, singular_values


def test_end_to_end_map_reproduces_logits():
    model = aebook.Autoencoder(4, 3, hidden=(5,), seed=0)
    weight, bias = end_to_end_map(model)
    x = aebook.data.uniform(6, 4, seed=0)
    logits = model.logits(x).detach().double().numpy()
    np.testing.assert_allclose(x.double().numpy() @ weight.T + bias, logits, rtol=1e-5)
    assert len(singular_values(model)) == 4
    assert singular_values(model)[-1] < 1e-6  # encoding dim 3 < 4: rank at most 3


def test_end_to_end_map_needs_linear_model():
    with pytest.raises(ValueError, match="activation='linear'"):
        end_to_end_map(aebook.Autoencoder(2, 2, activation="relu"))


def test_dead_units_counts_units_that_never_fire():
    model = aebook.Autoencoder(3, 2, hidden=(4,), activation="relu", seed=0)
    with torch.no_grad():
        first = model.linear_layers()[0]
        first.weight[:2] = 0.0
        first.bias[:2] = -1.0  # two units of the first layer are always negative
        first.weight[2:] = 1.0
        first.bias[2:] = 1.0  # positive for inputs in [0, 1)
    counted = dead_units(model, aebook.data.uniform(100, 3, seed=0))
    assert counted.width == (4, 2, 4)
    assert counted.dead[0] == 2
    assert counted.total >= 2 and 0 < counted.fraction <= 1


def test_linear_model_has_no_activation_layers_to_count():
    assert dead_units(aebook.Autoencoder(3, 3), torch.rand(5, 3)).width == ()
