"""Tests for book/bernoulli.py, the code of the chapter "Bernoulli data" (float32 round-off in BCE)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import aebook
import bernoulli
from aebook.losses import loss_function


def _affine_model(n_features: int, slope: float, bias: float) -> aebook.Autoencoder:
    """A linear sigmoid autoencoder whose every output is sigmoid(slope * x_j + bias)."""
    model = aebook.Autoencoder(n_features, n_features, output="sigmoid", seed=0)
    encoder, decoder = model.linear_layers()
    with torch.no_grad():
        encoder.weight.copy_(torch.eye(n_features))
        encoder.bias.zero_()
        decoder.weight.copy_(slope * torch.eye(n_features))
        decoder.bias.fill_(bias)
    return model.eval()


def test_sigmoid_saturation_logit():
    z = bernoulli.sigmoid_saturation_logit()
    zt = torch.tensor([z])
    assert torch.sigmoid(zt) == 1.0 and torch.sigmoid(torch.nextafter(zt, torch.zeros(1))) < 1.0
    assert z == pytest.approx(24 * math.log(2), abs=2**-19)  # one float32 spacing at 16
    assert bernoulli.sigmoid_saturation_logit(torch.float64) == pytest.approx(53 * math.log(2), abs=1e-12)
    with pytest.raises(ValueError, match="dtype"):
        bernoulli.sigmoid_saturation_logit(torch.int32)


def test_logit_sweep_matches_autograd_of_the_loss_functions():
    z = torch.tensor([-40.0, -20.0, -3.0, 0.5, 10.0, 16.0, 17.0, 30.0])
    for target in (0, 1):
        sweep = bernoulli.logit_sweep(z, target)
        for name in ("bce", "bce_prob"):
            zz = z.clone().requires_grad_(True)
            value = loss_function(name, "sigmoid")(zz, torch.full_like(zz, float(target)))
            # mean reduction over 8 elements: scale back to per-element values
            (grad,) = torch.autograd.grad(value * len(z), zz)
            tt = torch.full_like(z, float(target))
            per_element = (F.binary_cross_entropy_with_logits(z, tt, reduction="none") if name == "bce"
                           else F.binary_cross_entropy(torch.sigmoid(z), tt, reduction="none"))
            assert np.allclose(sweep.loss[name], per_element.double().numpy(), rtol=1e-6, atol=0)
            assert np.allclose(sweep.grad[name], grad.double().numpy(), rtol=1e-5, atol=1e-30)


def test_logit_sweep_shows_the_float32_failures():
    z_star = bernoulli.sigmoid_saturation_logit()
    one = bernoulli.logit_sweep([z_star, 20.0], 1)
    zero = bernoulli.logit_sweep([20.0, -20.0], 0)
    assert np.all(one.grad["bce"] == 0) and np.all(one.grad["bce_prob"] == 0)  # both gradients vanish
    assert np.all(one.true_grad < 0) and np.all(one.loss["bce_prob"] == 0) and np.all(one.loss["bce"] > 0)
    assert zero.loss["bce_prob"][0] == 100.0 and zero.grad["bce_prob"][0] == 0.0  # clamped, stuck
    assert zero.grad["bce"][0] == pytest.approx(1.0)
    assert zero.loss["bce"][1] == 0.0 and zero.true_loss[1] > 0  # the logit-scale cancellation
    with pytest.raises(ValueError, match="0 or 1"):
        bernoulli.logit_sweep([0.0], 0.5)


def test_bce_parts_split_a_saturated_model():
    # a hand-built model with logits +-20: target-1 outputs saturate in float32
    model = _affine_model(2, 40.0, -20.0)
    x = aebook.data.bernoulli(1000, 2, seed=0)
    parts = bernoulli.bce_parts(model, x)
    assert parts.saturated_ones == 1.0 and parts.min_logit_ones == pytest.approx(20.0)
    assert parts.max_logit_ones == pytest.approx(20.0)
    assert parts.max_logit_zeros == pytest.approx(-20.0) and parts.min_logit_zeros == pytest.approx(-20.0)
    expected = math.log1p(math.exp(-20.0))
    assert parts.true["total"] == pytest.approx(expected, rel=1e-6)
    assert parts.true["ones"] == pytest.approx(parts.ones_fraction * expected, rel=1e-6)
    assert parts.bce_prob["ones"] == 0.0 and parts.bce["zeros"] == 0.0
    assert parts.bce["ones"] == pytest.approx(parts.true["ones"], rel=1e-5)
    assert parts.bce_prob["zeros"] == pytest.approx(parts.true["zeros"], rel=1e-5)


def test_bce_parts_refuses_non_binary_data_and_linear_models():
    model = _affine_model(2, 1.0, 0.0)
    with pytest.raises(ValueError, match="binary"):
        bernoulli.bce_parts(model, aebook.data.uniform(10, 2, seed=0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bernoulli.bce_parts(model, torch.tensor([[0.0, 2.0]]))
    with pytest.raises(ValueError, match="output='sigmoid'"):
        bernoulli.bce_parts(aebook.Autoencoder(2, 2, seed=0), aebook.data.bernoulli(10, 2, seed=0))
