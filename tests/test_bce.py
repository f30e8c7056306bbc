"""Tests for aebook.bce (the analysis behind the two BCE chapters) and the BCE loss forms."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import aebook
from aebook import bce
from aebook.floors import binary_entropy
from aebook.losses import loss_function

# ----------------------------------------------------------------------------- quadrature and KL


def test_expect_uniform_known_integrals():
    # E[H(t)] = 1/2 exactly (the chapter's derivation); E[t^2] = 1/3; E[log t] = -1 (end-point singularity)
    assert bce.expect_uniform(binary_entropy) == pytest.approx(0.5, abs=1e-11)
    assert bce.expect_uniform(lambda t: t**2) == pytest.approx(1 / 3, abs=1e-13)
    assert bce.expect_uniform(torch.log) == pytest.approx(-1.0, abs=1e-8)


def test_expect_uniform_refuses_bad_input():
    with pytest.raises(ValueError, match="one value per node"):
        bce.expect_uniform(lambda t: t.sum())
    with pytest.raises(ValueError, match="positive integer"):
        bce.expect_uniform(torch.log, nodes=0)


def test_bernoulli_kl_is_bce_minus_entropy_and_zero_at_target():
    t = torch.tensor([0.0, 0.2, 0.5, 0.9, 1.0], dtype=torch.float64)
    z = torch.tensor([-3.0, 1.0, 0.0, -2.0, 4.0], dtype=torch.float64)
    bce_value = F.binary_cross_entropy_with_logits(z, t, reduction="none")
    assert torch.allclose(bce.bernoulli_kl(t, z), bce_value - binary_entropy(t), atol=1e-14)
    inner = torch.tensor([0.1, 0.3, 0.5, 0.8], dtype=torch.float64)
    assert torch.allclose(bce.bernoulli_kl(inner, torch.logit(inner)), torch.zeros(4, dtype=torch.float64), atol=1e-14)
    assert (bce.bernoulli_kl(inner, torch.logit(inner) + 0.1) > 0).all()


def test_bernoulli_kl_is_accurate_for_large_logits():
    # softplus(z) - t z would cancel to 0 in float64 at z = 40; the stable form keeps e^-40
    assert float(bce.bernoulli_kl(1.0, 40.0)) == pytest.approx(math.exp(-40), rel=1e-12)


@pytest.mark.parametrize("t", [-0.1, 1.5])
def test_bernoulli_kl_refuses_targets_outside_unit_interval(t):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bce.bernoulli_kl(torch.tensor([t]), torch.tensor([0.0]))


def test_bernoulli_kl_refuses_non_finite_and_non_numbers():
    with pytest.raises(ValueError, match="NaN or infinite"):
        bce.bernoulli_kl(torch.tensor([0.5]), torch.tensor([float("nan")]))
    with pytest.raises(ValueError, match="number"):
        bce.bernoulli_kl("0.5", 0.0)


# ----------------------------------------------------------------------------- the best sigmoid(affine)


def test_best_sigmoid_affine_is_the_minimum():
    best = bce.best_sigmoid_affine()
    assert best.bias == -best.slope / 2
    # a brute-force grid over (a, b) does not beat it
    grid = min(
        bce.sigmoid_affine_excess(a, b)
        for a in np.linspace(best.slope - 0.5, best.slope + 0.5, 11)
        for b in np.linspace(best.bias - 0.5, best.bias + 0.5, 11)
    )
    assert best.excess <= grid + 1e-15
    # first-order conditions in both directions, by central differences
    h = 1e-4
    da = (bce.sigmoid_affine_excess(best.slope + h, best.bias) - bce.sigmoid_affine_excess(best.slope - h, best.bias))
    db = (bce.sigmoid_affine_excess(best.slope, best.bias + h) - bce.sigmoid_affine_excess(best.slope, best.bias - h))
    assert abs(da) / (2 * h) < 1e-8 and abs(db) / (2 * h) < 1e-8
    # independent check of the value (slope and excess found by a 1-D grid in a first exploration)
    assert best.slope == pytest.approx(5.1994, abs=1e-3)
    assert best.excess == pytest.approx(0.004947, abs=1e-6)
    assert 0 < best.mse < 0.01 and best.excess_sd > 0 and best.cross_weight_cost > 0


def test_cross_weight_cost_matches_a_direct_expectation():
    # excess of sigmoid(a t + b + c (u - 1/2)) with u ~ U(0, 1) independent, for a small c: second order
    best = bce.best_sigmoid_affine()
    c = 0.05
    u, w = np.polynomial.legendre.leggauss(64)
    u, w = (u + 1) / 2, w / 2
    shifted = [bce.sigmoid_affine_excess(best.slope, best.bias + c * (ui - 0.5)) for ui in u]
    direct = float(np.dot(w, shifted))
    assert direct - best.excess == pytest.approx(best.cross_weight_cost * c**2, rel=1e-2)


def test_sigmoid_affine_autoencoder_reaches_the_best_excess():
    best = bce.best_sigmoid_affine()
    model = bce.sigmoid_affine_autoencoder(3, best.slope, best.bias)
    weight, bias = aebook.diagnostics.end_to_end_map(model)
    assert np.allclose(weight, best.slope * np.eye(3), atol=1e-6) and np.allclose(bias, best.bias, atol=1e-6)
    x = aebook.data.uniform(20_000, 3, seed=1)
    result = aebook.evaluate(model, x, "bce")
    # sampling error of a mean over 60,000 elements: excess_sd / sqrt(60,000) ~ 4e-5; allow 5 of them
    assert result.excess == pytest.approx(best.excess, abs=5 * best.excess_sd / math.sqrt(x.numel()))


def test_cross_weight_energy():
    model = bce.sigmoid_affine_autoencoder(3, 2.0, -1.0)
    assert bce.cross_weight_energy(model) == 0.0
    with torch.no_grad():
        model.linear_layers()[1].weight[0, 1] = 0.5
    assert bce.cross_weight_energy(model) == pytest.approx(0.25 / 3)
    with pytest.raises(ValueError, match="activation='linear'"):
        bce.cross_weight_energy(aebook.Autoencoder(2, 2, hidden=(4,), activation="relu", seed=0))


# ----------------------------------------------------------------------------- fit_traced


def test_fit_traced_records_every_epoch():
    x = aebook.data.uniform(512, 2, seed=0)
    model = aebook.Autoencoder(2, 2, output="sigmoid", seed=0)
    reference = aebook.Autoencoder(2, 2, output="sigmoid", seed=0)
    trace = bce.fit_traced(model, x, "bce", lr=1e-2, batch_size=64, epochs=3, seed=0, progress=False)
    history = aebook.fit(reference, x, loss="bce", lr=1e-2, batch_size=64, epochs=3, seed=0, progress=False)
    assert list(trace.epoch) == [1, 2, 3]
    assert np.array_equal(trace.reported, history.loss)  # tracing does not change the training
    final = aebook.evaluate(model, x, "bce")
    assert trace.final == pytest.approx(final.loss, rel=1e-6)
    assert trace.floor == aebook.floors.bce_floor(x)
    assert np.allclose(trace.excess, trace.loss - trace.floor)
    assert trace.mse[-1] == pytest.approx(final.mse, rel=1e-5)
    assert np.all(np.isnan(trace.saturated)) and trace.exact
    traced = bce.fit_traced(aebook.Autoencoder(2, 2, output="sigmoid", seed=0), x, "bce", exact=False,
                            saturation=True, lr=1e-2, batch_size=64, epochs=2, seed=0, progress=False)
    assert np.all(traced.saturated == 0) and not traced.exact


def test_fit_traced_refuses_bad_input():
    x = aebook.data.uniform(64, 2, seed=0)
    model = aebook.Autoencoder(2, 2, output="sigmoid", seed=0)
    with pytest.raises(ValueError, match="on_epoch"):
        bce.fit_traced(model, x, "bce", epochs=1, on_epoch=lambda e, m: None)
    with pytest.raises(ValueError, match="unknown loss"):
        bce.fit_traced(model, x, "hinge", epochs=1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bce.fit_traced(model, x * 2, "bce_prob", epochs=1, progress=False)


# ----------------------------------------------------------------------------- continuous likelihoods


def test_continuous_bernoulli_nll_matches_torch():
    t = torch.linspace(0.0, 1.0, 41, dtype=torch.float64)
    eta = torch.tensor([-30.0, -5.0, -0.7, 0.3, 4.0, 25.0], dtype=torch.float64)[:, None]
    expected = -torch.distributions.ContinuousBernoulli(logits=eta).log_prob(t)
    assert torch.allclose(bce.continuous_bernoulli_nll(t, eta), expected, atol=1e-9)
    # near eta = 0 (where torch switches to a Taylor expansion) the density is ~1: NLL ~ 0 at t = 1/2
    assert float(bce.continuous_bernoulli_nll(0.5, 1e-6)) == pytest.approx(0.0, abs=1e-12)


def test_continuous_bernoulli_nll_is_finite_for_extreme_logits():
    value = bce.continuous_bernoulli_nll(torch.tensor([0.0, 1.0]), torch.tensor([-1e5, -1e5]))
    assert torch.isfinite(value).all()
    # eta -> -inf: density ~ |eta| e^{eta t}; at t = 0 the NLL is -log|eta|
    assert float(value[0]) == pytest.approx(-math.log(1e5), rel=1e-9)


def test_continuous_bernoulli_mean_is_monotone_and_symmetric():
    eta = torch.linspace(-50, 50, 1001, dtype=torch.float64)
    mean = bce.continuous_bernoulli_mean(eta)
    assert (torch.diff(mean) > 0).all() and float(mean[500]) == pytest.approx(0.5, abs=1e-14)
    assert torch.allclose(mean + bce.continuous_bernoulli_mean(-eta), torch.ones_like(mean), atol=1e-14)
    dist = torch.distributions.ContinuousBernoulli(logits=torch.tensor([-3.0, 2.0], dtype=torch.float64))
    assert torch.allclose(bce.continuous_bernoulli_mean(torch.tensor([-3.0, 2.0])), dist.mean, atol=1e-12)


def test_continuous_bernoulli_best_matches_mean_and_minimises():
    t = torch.tensor([1e-4, 0.2, 0.5, 0.7, 0.999], dtype=torch.float64)
    eta, nll = bce.continuous_bernoulli_best(t)
    assert torch.allclose(bce.continuous_bernoulli_mean(eta), t, rtol=1e-10, atol=1e-14)
    for shift in (-1e-3, 1e-3):
        assert (bce.continuous_bernoulli_nll(t, eta + shift) > nll).all()
    assert float(nll[2]) == pytest.approx(0.0, abs=1e-12) and (nll[[0, 1, 3, 4]] < 0).all()
    with pytest.raises(ValueError, match="strictly inside"):
        bce.continuous_bernoulli_best(torch.tensor([0.0, 0.5]))


def test_beta_nll_matches_torch_and_refuses_bad_input():
    t, mean = torch.tensor([0.3, 0.6]), torch.tensor([0.4, 0.5])
    expected = -torch.distributions.Beta(torch.tensor([4.0, 5.0]), torch.tensor([6.0, 5.0])).log_prob(t)
    assert torch.allclose(bce.beta_nll(t, mean, 10), expected.double(), atol=1e-6)
    with pytest.raises(ValueError, match="concentration"):
        bce.beta_nll(t, mean, 0)
    with pytest.raises(ValueError, match="strictly inside"):
        bce.beta_nll(torch.tensor([0.0]), torch.tensor([0.5]), 10)


def test_loss_minima_keys_and_values():
    t = torch.tensor([0.25, 0.5], dtype=torch.float64)
    minima = bce.loss_minima(t, concentrations=(10,))
    assert list(minima) == ["BCE", "continuous Bernoulli", "MSE", "Beta, concentration 10"]
    assert torch.allclose(minima["BCE"], binary_entropy(t))
    assert (minima["MSE"] == 0).all()


# ----------------------------------------------------------------------------- float32 round-off


def test_sigmoid_saturation_logit():
    z = bce.sigmoid_saturation_logit()
    zt = torch.tensor([z])
    assert torch.sigmoid(zt) == 1.0 and torch.sigmoid(torch.nextafter(zt, torch.zeros(1))) < 1.0
    assert z == pytest.approx(24 * math.log(2), abs=2**-19)  # one float32 spacing at 16
    assert bce.sigmoid_saturation_logit(torch.float64) == pytest.approx(53 * math.log(2), abs=1e-12)
    with pytest.raises(ValueError, match="dtype"):
        bce.sigmoid_saturation_logit(torch.int32)


def test_logit_sweep_matches_autograd_of_the_loss_functions():
    z = torch.tensor([-40.0, -20.0, -3.0, 0.5, 10.0, 16.0, 17.0, 30.0])
    for target in (0, 1):
        sweep = bce.logit_sweep(z, target)
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
    z_star = bce.sigmoid_saturation_logit()
    one = bce.logit_sweep([z_star, 20.0], 1)
    zero = bce.logit_sweep([20.0, -20.0], 0)
    assert np.all(one.grad["bce"] == 0) and np.all(one.grad["bce_prob"] == 0)  # both gradients vanish
    assert np.all(one.true_grad < 0) and np.all(one.loss["bce_prob"] == 0) and np.all(one.loss["bce"] > 0)
    assert zero.loss["bce_prob"][0] == 100.0 and zero.grad["bce_prob"][0] == 0.0  # clamped, stuck
    assert zero.grad["bce"][0] == pytest.approx(1.0)
    assert zero.loss["bce"][1] == 0.0 and zero.true_loss[1] > 0  # the logit-scale cancellation
    with pytest.raises(ValueError, match="0 or 1"):
        bce.logit_sweep([0.0], 0.5)


def test_bce_parts_split_a_saturated_model():
    # a hand-built model with logits +-20: target-1 outputs saturate in float32
    model = bce.sigmoid_affine_autoencoder(2, 40.0, -20.0)
    x = aebook.data.bernoulli(1000, 2, seed=0)
    parts = bce.bce_parts(model, x)
    assert parts.saturated_ones == 1.0 and parts.min_logit_ones == pytest.approx(20.0)
    assert parts.max_logit_zeros == pytest.approx(-20.0)
    expected = math.log1p(math.exp(-20.0))
    assert parts.true["total"] == pytest.approx(expected, rel=1e-6)
    assert parts.true["ones"] == pytest.approx(parts.ones_fraction * expected, rel=1e-6)
    assert parts.bce_prob["ones"] == 0.0 and parts.bce["zeros"] == 0.0
    assert parts.bce["ones"] == pytest.approx(parts.true["ones"], rel=1e-5)
    assert parts.bce_prob["zeros"] == pytest.approx(parts.true["zeros"], rel=1e-5)


def test_bce_parts_refuses_non_binary_data_and_linear_models():
    model = bce.sigmoid_affine_autoencoder(2, 1.0, 0.0)
    with pytest.raises(ValueError, match="binary"):
        bce.bce_parts(model, aebook.data.uniform(10, 2, seed=0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bce.bce_parts(model, torch.tensor([[0.0, 2.0]]))
    with pytest.raises(ValueError, match="output='sigmoid'"):
        bce.bce_parts(aebook.Autoencoder(2, 2, seed=0), aebook.data.bernoulli(10, 2, seed=0))


# ----------------------------------------------------------------------------- the two BCE forms


def test_probability_scale_loss_is_sigmoid_then_bce():
    z = torch.tensor([[-3.0, 0.2], [1.5, 2.0]])
    t = torch.tensor([[0.0, 0.3], [1.0, 0.9]])
    prob = loss_function("bce_prob", "sigmoid")(z, t)
    assert torch.equal(prob, F.binary_cross_entropy(torch.sigmoid(z), t))
    # away from saturation the two forms agree to float32 precision: p carries an absolute error of
    # ~2**-24, so ln(1 - p) is off by ~2**-24 / (1 - p) (about 1e-6 here for p = sigmoid(2))
    assert float(prob) == pytest.approx(float(loss_function("bce", "sigmoid")(z, t)), rel=1e-6)


@pytest.mark.parametrize("loss", ["bce", "bce_prob"])
def test_bce_losses_refuse_targets_outside_unit_interval(loss):
    model = aebook.Autoencoder(2, 2, output="sigmoid", seed=0)
    x = torch.tensor([[0.5, 1.5], [0.2, 0.1]])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        aebook.fit(model, x, loss=loss, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        aebook.evaluate(model, x, loss)


def test_evaluate_reports_the_excess_for_both_forms():
    x = aebook.data.uniform(2000, 2, seed=0)
    model = bce.sigmoid_affine_autoencoder(2, 5.0, -2.5)
    logit, prob = aebook.evaluate(model, x, "bce"), aebook.evaluate(model, x, "bce_prob")
    assert logit.floor == prob.floor == aebook.floors.bce_floor(x)
    assert logit.excess == pytest.approx(logit.loss - logit.floor)
    assert prob.loss == pytest.approx(logit.loss, rel=1e-6)
    assert aebook.excess(model, x, "bce") == logit.excess
