"""Tests for the BCE part of the core that both BCE chapters use: ``aebook.floors.expect_uniform``,
``bernoulli_kl``, ``best_sigmoid_affine``, ``aebook.fit_traced``/``Trace``, and the two BCE loss forms."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import aebook
from aebook import floors
from aebook.floors import binary_entropy
from aebook.losses import loss_function


def _excess(slope: float, bias: float) -> float:
    """E[KL(Bern(t) || Bern(sigmoid(slope t + bias)))] for t ~ U(0, 1), from the core alone."""
    return floors.expect_uniform(lambda t: floors.bernoulli_kl(t, slope * t + bias))


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


# ----------------------------------------------------------------------------- quadrature and KL


def test_expect_uniform_known_integrals():
    # E[H(t)] = 1/2 exactly (the chapter's derivation); E[t^2] = 1/3; E[log t] = -1 (end-point singularity)
    assert floors.expect_uniform(binary_entropy) == pytest.approx(0.5, abs=1e-11)
    assert floors.expect_uniform(lambda t: t**2) == pytest.approx(1 / 3, abs=1e-13)
    assert floors.expect_uniform(torch.log) == pytest.approx(-1.0, abs=1e-8)


def test_expect_uniform_refuses_bad_input():
    with pytest.raises(ValueError, match="one value per node"):
        floors.expect_uniform(lambda t: t.sum())
    with pytest.raises(ValueError, match="positive integer"):
        floors.expect_uniform(torch.log, nodes=0)


def test_bernoulli_kl_is_bce_minus_entropy_and_zero_at_target():
    t = torch.tensor([0.0, 0.2, 0.5, 0.9, 1.0], dtype=torch.float64)
    z = torch.tensor([-3.0, 1.0, 0.0, -2.0, 4.0], dtype=torch.float64)
    bce_value = F.binary_cross_entropy_with_logits(z, t, reduction="none")
    assert torch.allclose(floors.bernoulli_kl(t, z), bce_value - binary_entropy(t), atol=1e-14)
    inner = torch.tensor([0.1, 0.3, 0.5, 0.8], dtype=torch.float64)
    assert torch.allclose(floors.bernoulli_kl(inner, torch.logit(inner)), torch.zeros(4, dtype=torch.float64),
                          atol=1e-14)
    assert (floors.bernoulli_kl(inner, torch.logit(inner) + 0.1) > 0).all()


def test_bernoulli_kl_is_accurate_for_large_logits():
    # softplus(z) - t z would cancel to 0 in float64 at z = 40; the stable form keeps e^-40
    assert float(floors.bernoulli_kl(1.0, 40.0)) == pytest.approx(math.exp(-40), rel=1e-12)


@pytest.mark.parametrize("t", [-0.1, 1.5])
def test_bernoulli_kl_refuses_targets_outside_unit_interval(t):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        floors.bernoulli_kl(torch.tensor([t]), torch.tensor([0.0]))


def test_bernoulli_kl_refuses_non_finite_and_non_numbers():
    with pytest.raises(ValueError, match="NaN or infinite"):
        floors.bernoulli_kl(torch.tensor([0.5]), torch.tensor([float("nan")]))
    with pytest.raises(ValueError, match="number"):
        floors.bernoulli_kl("0.5", 0.0)


# ----------------------------------------------------------------------------- the best sigmoid(affine)


def test_best_sigmoid_affine_is_the_minimum():
    best = floors.best_sigmoid_affine()
    assert best.bias == -best.slope / 2
    # a brute-force grid over (a, b) does not beat it
    grid = min(
        _excess(a, b)
        for a in np.linspace(best.slope - 0.5, best.slope + 0.5, 11)
        for b in np.linspace(best.bias - 0.5, best.bias + 0.5, 11)
    )
    assert best.excess <= grid + 1e-15
    # first-order conditions in both directions, by central differences
    h = 1e-4
    da = _excess(best.slope + h, best.bias) - _excess(best.slope - h, best.bias)
    db = _excess(best.slope, best.bias + h) - _excess(best.slope, best.bias - h)
    assert abs(da) / (2 * h) < 1e-8 and abs(db) / (2 * h) < 1e-8
    # independent check of the value (slope and excess found by a 1-D grid in a first exploration)
    assert best.slope == pytest.approx(5.1994, abs=1e-3)
    assert best.excess == pytest.approx(0.004947, abs=1e-6)
    assert 0 < best.mse < 0.01 and best.excess_sd > 0 and best.cross_weight_cost > 0


def test_cross_weight_cost_matches_a_direct_expectation():
    # excess of sigmoid(a t + b + c (u - 1/2)) with u ~ U(0, 1) independent, for a small c: second order
    best = floors.best_sigmoid_affine()
    c = 0.05
    u, w = np.polynomial.legendre.leggauss(64)
    u, w = (u + 1) / 2, w / 2
    shifted = [_excess(best.slope, best.bias + c * (ui - 0.5)) for ui in u]
    direct = float(np.dot(w, shifted))
    assert direct - best.excess == pytest.approx(best.cross_weight_cost * c**2, rel=1e-2)


# ----------------------------------------------------------------------------- fit_traced


def test_fit_traced_records_every_epoch():
    x = aebook.data.uniform(512, 2, seed=0)
    model = aebook.Autoencoder(2, 2, output="sigmoid", seed=0)
    reference = aebook.Autoencoder(2, 2, output="sigmoid", seed=0)
    trace = aebook.fit_traced(model, x, "bce", lr=1e-2, batch_size=64, epochs=3, seed=0, progress=False)
    history = aebook.fit(reference, x, loss="bce", lr=1e-2, batch_size=64, epochs=3, seed=0, progress=False)
    assert isinstance(trace, aebook.Trace)
    assert list(trace.epoch) == [1, 2, 3]
    assert np.array_equal(trace.reported, history.loss)  # tracing does not change the training
    final = aebook.evaluate(model, x, "bce")
    assert trace.final == pytest.approx(final.loss, rel=1e-6)
    assert trace.floor == aebook.floors.bce_floor(x)
    assert np.allclose(trace.excess, trace.loss - trace.floor)
    assert trace.mse[-1] == pytest.approx(final.mse, rel=1e-5)
    assert np.all(np.isnan(trace.saturated)) and trace.exact
    traced = aebook.fit_traced(aebook.Autoencoder(2, 2, output="sigmoid", seed=0), x, "bce", exact=False,
                               saturation=True, lr=1e-2, batch_size=64, epochs=2, seed=0, progress=False)
    assert np.all(traced.saturated == 0) and not traced.exact


def test_fit_traced_refuses_bad_input():
    x = aebook.data.uniform(64, 2, seed=0)
    model = aebook.Autoencoder(2, 2, output="sigmoid", seed=0)
    with pytest.raises(ValueError, match="on_epoch"):
        aebook.fit_traced(model, x, "bce", epochs=1, on_epoch=lambda e, m: None)
    with pytest.raises(ValueError, match="unknown loss"):
        aebook.fit_traced(model, x, "hinge", epochs=1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        aebook.fit_traced(model, x * 2, "bce_prob", epochs=1, progress=False)


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
    model = _affine_model(2, 5.0, -2.5)
    logit, prob = aebook.evaluate(model, x, "bce"), aebook.evaluate(model, x, "bce_prob")
    assert logit.floor == prob.floor == aebook.floors.bce_floor(x)
    assert logit.excess == pytest.approx(logit.loss - logit.floor)
    assert prob.loss == pytest.approx(logit.loss, rel=1e-6)
    assert aebook.excess(model, x, "bce") == logit.excess
