"""Tests for book/bce_uniform.py, the code of the chapter "Sigmoid + BCE on uniform data"."""

import math

import numpy as np
import pytest
import torch

import aebook
import bce_uniform
from aebook.floors import bernoulli_kl, best_sigmoid_affine, binary_entropy, expect_uniform

# ----------------------------------------------------------------------------- the sigmoid(affine) class


def test_sigmoid_affine_excess_is_the_expected_kl_and_minimal_at_the_best():
    assert bce_uniform.sigmoid_affine_excess(3.0, -1.0) == expect_uniform(lambda t: bernoulli_kl(t, 3.0 * t - 1.0))
    assert bce_uniform.sigmoid_affine_excess(3.0) == bce_uniform.sigmoid_affine_excess(3.0, -1.5)  # default b = -a/2
    best = best_sigmoid_affine()
    assert bce_uniform.sigmoid_affine_excess(best.slope, best.bias) == pytest.approx(best.excess, rel=1e-12)
    for da, db in [(1e-2, 0), (-1e-2, 0), (0, 1e-2), (0, -1e-2)]:
        assert bce_uniform.sigmoid_affine_excess(best.slope + da, best.bias + db) > best.excess
    with pytest.raises(ValueError, match="NaN or infinite"):
        bce_uniform.sigmoid_affine_excess(float("nan"))


def test_best_logit_excess_recovers_the_affine_optimum_and_gains_only_from_an_odd_term():
    one = torch.ones_like
    best = best_sigmoid_affine()
    coef, excess = bce_uniform.best_logit_excess([one, lambda t: t])
    assert coef == pytest.approx([best.bias, best.slope], rel=1e-10)
    assert excess == pytest.approx(best.excess, rel=1e-12)
    # an even term in s = t - 1/2 gets a zero coefficient; an odd one (a cubic) lowers the excess
    coef, excess = bce_uniform.best_logit_excess([one, lambda t: t, lambda t: (t - 0.5) ** 2])
    assert abs(coef[2]) < 1e-10 and excess == pytest.approx(best.excess, rel=1e-12)
    coef, excess = bce_uniform.best_logit_excess([one, lambda t: t, lambda t: (t - 0.5) ** 3])
    assert coef[2] > 0 and excess < best.excess / 2
    # the minimum: nudging any coefficient raises the excess
    for k in range(3):
        for step in (1e-3, -1e-3):
            nudged = coef.copy()
            nudged[k] += step
            z = lambda t, c=nudged: c[0] + c[1] * t + c[2] * (t - 0.5) ** 3  # noqa: E731
            assert expect_uniform(lambda t, z=z: bernoulli_kl(t, z(t))) > excess
    # the one-function logit c t: a 1-D convex problem, checked against a grid
    (c,), excess = bce_uniform.best_logit_excess([lambda t: t])
    grid = np.linspace(c - 0.05, c + 0.05, 11)
    assert min(expect_uniform(lambda t, g=g: bernoulli_kl(t, g * t)) for g in grid) == pytest.approx(excess, abs=1e-12)
    with pytest.raises(ValueError, match="at least one"):
        bce_uniform.best_logit_excess([])
    with pytest.raises(np.linalg.LinAlgError):  # a copy of t: the curvature is singular
        bce_uniform.best_logit_excess([one, lambda t: t, lambda t: t])


def test_sigmoid_affine_autoencoder_reaches_the_best_excess():
    best = best_sigmoid_affine()
    model = bce_uniform.sigmoid_affine_autoencoder(3, best.slope, best.bias)
    weight, bias = aebook.models.end_to_end_map(model)
    assert np.allclose(weight, best.slope * np.eye(3), atol=1e-6) and np.allclose(bias, best.bias, atol=1e-6)
    x = aebook.data.uniform(20_000, 3, seed=1)
    result = aebook.evaluate(model, x, "bce")
    # sampling error of a mean over 60,000 elements: excess_sd / sqrt(60,000) ~ 4e-5; allow 5 of them
    assert result.excess == pytest.approx(best.excess, abs=5 * best.excess_sd / math.sqrt(x.numel()))


def test_cross_weight_energy():
    model = bce_uniform.sigmoid_affine_autoencoder(3, 2.0, -1.0)
    assert bce_uniform.cross_weight_energy(model) == 0.0
    with torch.no_grad():
        model.linear_layers()[1].weight[0, 1] = 0.5
    assert bce_uniform.cross_weight_energy(model) == pytest.approx(0.25 / 3)
    with pytest.raises(ValueError, match="activation='linear'"):
        bce_uniform.cross_weight_energy(aebook.Autoencoder(2, 2, hidden=(4,), activation="relu", seed=0))


def test_diagonal_excess_scores_slopes_and_biases_with_the_cross_mean_folded_in():
    best = best_sigmoid_affine()
    model = bce_uniform.sigmoid_affine_autoencoder(3, best.slope, best.bias)
    assert bce_uniform.diagonal_excess(model) == pytest.approx(best.excess, rel=1e-6)  # float32 parameters
    with torch.no_grad():
        model.linear_layers()[1].weight[0, 1] = 0.5  # output 0: bias + 0.5 * E[t_1] = bias + 0.25
    weight, bias = aebook.models.end_to_end_map(model)
    expected = np.mean([
        bce_uniform.sigmoid_affine_excess(weight[0, 0], bias[0] + 0.25),
        bce_uniform.sigmoid_affine_excess(weight[1, 1], bias[1]),
        bce_uniform.sigmoid_affine_excess(weight[2, 2], bias[2]),
    ])
    assert bce_uniform.diagonal_excess(model) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="activation='linear'"):
        bce_uniform.diagonal_excess(aebook.Autoencoder(2, 2, hidden=(4,), activation="relu", seed=0))


def test_in_sample_optimism_is_the_trace_of_curvature_inverse_times_gradient_covariance():
    a, b, d, n = 5.0, -2.5, 3, 1_000
    p = lambda t: torch.sigmoid(a * t + b)  # noqa: E731
    e = {name: [expect_uniform(lambda t, k=k, w=w: w(t) * t**k) for k in range(3)]
         for name, w in (("J", lambda t: p(t) * (1 - p(t))), ("K", lambda t: (p(t) - t) ** 2))}
    mats = {}
    for name, (e0, e1, e2) in e.items():  # x = (t_j, t_k, t_l, 1), written out entry by entry
        mats[name] = np.array([
            [e2, e1 / 2, e1 / 2, e1],
            [e1 / 2, e0 / 3, e0 / 4, e0 / 2],
            [e1 / 2, e0 / 4, e0 / 3, e0 / 2],
            [e1, e0 / 2, e0 / 2, e0],
        ])
    expected = np.trace(np.linalg.solve(mats["J"], mats["K"])) / n
    assert bce_uniform.in_sample_optimism(d, n, a, b) == pytest.approx(expected, rel=1e-10)
    assert bce_uniform.in_sample_optimism(d, 2 * n, a, b) == pytest.approx(expected / 2, rel=1e-12)
    with pytest.raises(ValueError):
        bce_uniform.in_sample_optimism(0, n, a, b)


def test_paired_bce_gap_is_the_excess_difference_with_a_per_row_standard_error():
    x = aebook.data.uniform(5_000, 3, seed=2)
    a = bce_uniform.sigmoid_affine_autoencoder(3, 5.0, -2.5)
    b = bce_uniform.sigmoid_affine_autoencoder(3, 4.0, -2.0)
    assert bce_uniform.paired_bce_gap(a, a, x) == (0.0, 0.0)
    gap, se = bce_uniform.paired_bce_gap(a, b, x, batch_size=777)  # batches that do not divide the rows
    assert gap == pytest.approx(aebook.evaluate(a, x).excess - aebook.evaluate(b, x).excess, abs=1e-7)
    z = [m.logits(x).detach().double() for m in (a, b)]
    t = x.double()
    per_row = (torch.nn.functional.binary_cross_entropy_with_logits(z[0], t, reduction="none")
               - torch.nn.functional.binary_cross_entropy_with_logits(z[1], t, reduction="none")).mean(dim=1)
    assert gap == pytest.approx(float(per_row.mean()), rel=1e-12)
    assert se == pytest.approx(float(per_row.std()) / math.sqrt(5_000), rel=1e-9) and se > 0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bce_uniform.paired_bce_gap(a, b, 2 * x)


# ----------------------------------------------------------------------------- continuous likelihoods


def test_continuous_bernoulli_nll_matches_torch():
    t = torch.linspace(0.0, 1.0, 41, dtype=torch.float64)
    eta = torch.tensor([-30.0, -5.0, -0.7, 0.3, 4.0, 25.0], dtype=torch.float64)[:, None]
    expected = -torch.distributions.ContinuousBernoulli(logits=eta).log_prob(t)
    assert torch.allclose(bce_uniform.continuous_bernoulli_nll(t, eta), expected, atol=1e-9)
    # near eta = 0 (where torch switches to a Taylor expansion) the density is ~1: NLL ~ 0 at t = 1/2
    assert float(bce_uniform.continuous_bernoulli_nll(0.5, 1e-6)) == pytest.approx(0.0, abs=1e-12)


def test_continuous_bernoulli_nll_is_finite_for_extreme_logits():
    value = bce_uniform.continuous_bernoulli_nll(torch.tensor([0.0, 1.0]), torch.tensor([-1e5, -1e5]))
    assert torch.isfinite(value).all()
    # eta -> -inf: density ~ |eta| e^{eta t}; at t = 0 the NLL is -log|eta|
    assert float(value[0]) == pytest.approx(-math.log(1e5), rel=1e-9)


def test_continuous_bernoulli_mean_is_monotone_and_symmetric():
    eta = torch.linspace(-50, 50, 1001, dtype=torch.float64)
    mean = bce_uniform.continuous_bernoulli_mean(eta)
    assert (torch.diff(mean) > 0).all() and float(mean[500]) == pytest.approx(0.5, abs=1e-14)
    assert torch.allclose(mean + bce_uniform.continuous_bernoulli_mean(-eta), torch.ones_like(mean), atol=1e-14)
    dist = torch.distributions.ContinuousBernoulli(logits=torch.tensor([-3.0, 2.0], dtype=torch.float64))
    assert torch.allclose(bce_uniform.continuous_bernoulli_mean(torch.tensor([-3.0, 2.0])), dist.mean, atol=1e-12)


def test_continuous_bernoulli_best_matches_mean_and_minimises():
    t = torch.tensor([1e-4, 0.2, 0.5, 0.7, 0.999], dtype=torch.float64)
    eta, nll = bce_uniform.continuous_bernoulli_best(t)
    assert torch.allclose(bce_uniform.continuous_bernoulli_mean(eta), t, rtol=1e-10, atol=1e-14)
    for shift in (-1e-3, 1e-3):
        assert (bce_uniform.continuous_bernoulli_nll(t, eta + shift) > nll).all()
    assert float(nll[2]) == pytest.approx(0.0, abs=1e-12) and (nll[[0, 1, 3, 4]] < 0).all()
    with pytest.raises(ValueError, match="strictly inside"):
        bce_uniform.continuous_bernoulli_best(torch.tensor([0.0, 0.5]))


def test_beta_nll_matches_torch_and_refuses_bad_input():
    t, mean = torch.tensor([0.3, 0.6]), torch.tensor([0.4, 0.5])
    expected = -torch.distributions.Beta(torch.tensor([4.0, 5.0]), torch.tensor([6.0, 5.0])).log_prob(t)
    assert torch.allclose(bce_uniform.beta_nll(t, mean, 10), expected.double(), atol=1e-6)
    with pytest.raises(ValueError, match="concentration"):
        bce_uniform.beta_nll(t, mean, 0)
    with pytest.raises(ValueError, match="strictly inside"):
        bce_uniform.beta_nll(torch.tensor([0.0]), torch.tensor([0.5]), 10)


def test_loss_minima_keys_and_values():
    t = torch.tensor([0.25, 0.5], dtype=torch.float64)
    minima = bce_uniform.loss_minima(t, concentrations=(10,))
    assert list(minima) == ["BCE", "continuous Bernoulli", "MSE", "Beta, concentration 10"]
    assert torch.allclose(minima["BCE"], binary_entropy(t))
    assert (minima["MSE"] == 0).all()
