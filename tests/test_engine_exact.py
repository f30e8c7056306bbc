"""The training engine against PyTorch's own arithmetic, at the precision the arithmetic allows.

* ``aebook.engine.Adam`` against ``torch.optim.Adam`` in float64: they agree to ~1e-16, so a
  missing bias correction or a wrong beta fails at once.
* ``fit`` in float64 against a plain autograd + ``torch.optim.Adam`` loop over the same batches:
  hand-written gradients, activations (including leaky ReLU's ``negative_slope``), losses and the
  learning rate (which must not pass through float32) all have to be right to ~1e-12.
* ``fit_many`` member i against ``fit``: losses and weights to float32 round-off, for
  ReLU, every loss, ``tol`` (a converged member is frozen) and ``on_epoch``.
* Glorot initialisation: the weights have Glorot's spread, which PyTorch's default does not.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import aebook
from aebook.engine import Adam
from aebook.losses import loss_function


def _params(model: aebook.Autoencoder) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


@pytest.mark.parametrize("lrs", [[1e-3], [1e-3, 3e-2]])
def test_adam_matches_torch_adam_in_float64(lrs):
    gen = torch.Generator().manual_seed(0)
    k, p = len(lrs), 37
    start = torch.randn(k, p, generator=gen, dtype=torch.float64)
    grads = [torch.randn(k, p, generator=gen, dtype=torch.float64) for _ in range(25)]
    ours = Adam(start.clone(), torch.tensor(lrs, dtype=torch.float64))
    theirs = [torch.nn.Parameter(start[m].clone()) for m in range(k)]
    optims = [torch.optim.Adam([theirs[m]], lr=lrs[m]) for m in range(k)]
    for g in grads:
        ours.step(g)
        for m in range(k):
            theirs[m].grad = g[m].clone()
            optims[m].step()
    for m in range(k):
        np.testing.assert_allclose(ours.params[m].numpy(), theirs[m].detach().numpy(), rtol=0, atol=1e-14)


def _reference_fit(model: aebook.Autoencoder, x: torch.Tensor, loss: str, lr: float, batch_size: int,
                   epochs: int, seed: int) -> list[float]:
    """A plain autograd loop over the batches ``fit`` draws: the arithmetic ``fit`` must reproduce."""
    loss_fn = loss_function(loss, model.output)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    n, per_epoch = x.shape[0], []
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        total = 0.0
        for begin in range(0, n, batch_size):
            batch = x[order[begin : begin + batch_size]]
            optimizer.zero_grad()
            value = loss_fn(model.logits(batch), batch)
            value.backward()
            optimizer.step()
            total += value.item() * batch.shape[0]
        per_epoch.append(total / n)
    return per_epoch


CONFIGS = [
    dict(activation="linear", output="linear", loss="mse", hidden=()),
    dict(activation="relu", output="sigmoid", loss="bce", hidden=(5,)),
    dict(activation="leaky_relu", output="sigmoid", loss="mse", hidden=(5,), negative_slope=0.2),
    dict(activation="leaky_relu", output="sigmoid", loss="bce_prob", hidden=(4,), negative_slope=0.3),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c['activation']}-{c['output']}-{c['loss']}")
def test_fit_in_float64_matches_an_autograd_loop(config):
    config = dict(config)
    loss = config.pop("loss")
    x = aebook.data.uniform(300, 6, seed=1).double()
    ours = aebook.Autoencoder(6, 3, seed=2, init="glorot", **config).double()
    theirs = aebook.Autoencoder(6, 3, seed=2, init="glorot", **config).double()
    lr = 1e-3  # not a float32 number: a rate rounded to float32 moves the weights by ~1e-10
    history = aebook.fit(ours, x, loss=loss, lr=lr, batch_size=32, epochs=3, seed=5, device="cpu", progress=False)
    expected = _reference_fit(theirs, x, loss, lr, 32, 3, 5)
    np.testing.assert_allclose(_params(ours).numpy(), _params(theirs).numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(history.loss, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "config",
    [
        dict(activation="relu", output="sigmoid", loss="bce", hidden=(8,)),
        dict(activation="relu", output="sigmoid", loss="bce_prob", hidden=(8,)),
        dict(activation="leaky_relu", output="linear", loss="mse", hidden=(8,), negative_slope=0.1),
    ],
    ids=lambda c: f"{c['activation']}-{c['loss']}",
)
def test_fit_many_member_equals_fit_for_its_seed(config):
    config = dict(config)
    loss = config.pop("loss")
    x = aebook.data.uniform(500, 6, seed=0)
    seeds = [0, 1, 2]
    batched = [aebook.Autoencoder(6, 6, seed=s, **config) for s in seeds]
    counted: list[int] = []
    histories = aebook.fit_many(batched, x, loss=loss, lr=[1e-3, 2e-3, 5e-3], batch_size=50, epochs=3,
                                seeds=seeds, device="cpu", progress=False,
                                on_epoch=lambda epoch, models: counted.append(epoch))
    assert counted == [1, 2, 3]
    for i, s in enumerate(seeds):
        alone = aebook.Autoencoder(6, 6, seed=s, **config)
        h = aebook.fit(alone, x, loss=loss, lr=[1e-3, 2e-3, 5e-3][i], batch_size=50, epochs=3, seed=s,
                       device="cpu", progress=False)
        # A batched matmul may sum in another order than K = 1: float32 round-off (~1e-8 here), no more.
        np.testing.assert_allclose(histories[i].loss, h.loss, rtol=1e-6, atol=0)
        np.testing.assert_allclose(_params(batched[i]).numpy(), _params(alone).numpy(), rtol=0, atol=1e-6)


def test_a_member_that_reaches_tol_is_frozen_at_that_epoch():
    """With ``tol``, members stop at different epochs; each keeps exactly the weights ``fit`` stops with."""
    x = aebook.data.uniform(400, 3, seed=0).double()
    lrs = [3e-2, 1e-2, 3e-3]
    models = [aebook.Autoencoder(3, 3, seed=i).double() for i in range(3)]
    histories = aebook.fit_many(models, x, loss="mse", lr=lrs, batch_size=20, epochs=60, seeds=[0, 1, 2],
                                tol=2e-3, device="cpu", progress=False)
    stopped = [h.epochs for h in histories]
    assert len(set(stopped)) > 1 and all(h.converged for h in histories[:2]), stopped
    for i in range(3):
        alone = aebook.Autoencoder(3, 3, seed=i).double()
        h = aebook.fit(alone, x, loss="mse", lr=lrs[i], batch_size=20, epochs=60, seed=i, tol=2e-3,
                       device="cpu", progress=False)
        assert h.epochs == histories[i].epochs
        np.testing.assert_allclose(_params(models[i]).numpy(), _params(alone).numpy(), rtol=0, atol=1e-12)


def test_glorot_initialisation_has_glorot_spread_and_zero_biases():
    model = aebook.Autoencoder(100, 100, hidden=(100,), seed=0, init="glorot")
    default = aebook.Autoencoder(100, 100, hidden=(100,), seed=0)
    for layer, plain in zip(model.linear_layers(), default.linear_layers(), strict=True):
        fan_out, fan_in = layer.weight.shape
        bound = math.sqrt(6 / (fan_in + fan_out))  # Glorot-uniform: U(-bound, bound), sd = bound / sqrt(3)
        w = layer.weight.detach()
        assert float(w.abs().max()) <= bound
        assert float(w.abs().max()) > 0.95 * bound > 1.5 / math.sqrt(fan_in)  # beyond PyTorch's default bound
        # 10,000 weights: the sample sd is within ~1% of the population sd; 5% is a wide margin.
        assert float(w.std()) == pytest.approx(bound / math.sqrt(3), rel=0.05)
        assert float(plain.weight.detach().std()) < 0.7 * bound / math.sqrt(3)
        assert torch.count_nonzero(layer.bias) == 0


def test_orthogonal_initialisation_is_orthogonal_with_zero_biases():
    model = aebook.Autoencoder(100, 100, hidden=(100,), seed=0, init="orthogonal")
    for layer in model.linear_layers():
        w = layer.weight.detach().double()
        torch.testing.assert_close(w @ w.T, torch.eye(100, dtype=torch.float64), atol=1e-5, rtol=0)
        assert torch.count_nonzero(layer.bias) == 0
