"""Same seed, same numbers: what the stored notebook outputs rely on.

tests/test_train.py already checks that ``fit`` is bitwise reproducible on CPU and
tests/test_data_models.py that ``uniform`` and the initialisation are seeded. This file adds
``fit_many``, the other generators, and the thread count (nbval runs with whatever
``torch.get_num_threads()`` the machine gives, 1 on a small CI runner, 2 or more elsewhere).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import aebook


def _fit_many_run(loss: str, output: str, x: torch.Tensor):
    models = [aebook.Autoencoder(4, 3, hidden=(5,), activation="leaky_relu", output=output, seed=s) for s in (0, 1, 2)]
    histories = aebook.fit_many(models, x, loss=loss, lr=[1e-3, 3e-3, 1e-2], epochs=3, seeds=[7, 8, 9],
                                batch_size=64, device="cpu", progress=False)
    return [h.loss for h in histories], [p.detach().clone() for m in models for p in m.parameters()]


@pytest.mark.parametrize("loss, output", [("mse", "linear"), ("bce", "sigmoid")])
def test_fit_many_same_seeds_is_bitwise_identical_on_cpu(loss, output):
    x = aebook.data.uniform(500, 4, seed=0)
    (loss_a, params_a), (loss_b, params_b) = _fit_many_run(loss, output, x), _fit_many_run(loss, output, x)
    assert all(np.array_equal(a, b) for a, b in zip(loss_a, loss_b, strict=True))
    assert all(torch.equal(p, q) for p, q in zip(params_a, params_b, strict=True))


@pytest.mark.parametrize(
    "make",
    [
        lambda s: aebook.data.bernoulli(300, 5, p=0.3, seed=s),
        lambda s: aebook.data.redundant(300, 6, rank=2, noise=0.05, seed=s),
        lambda s: aebook.Autoencoder(6, 3, hidden=(4,), init="glorot", seed=s).linear_layers()[0].weight.detach(),
    ],
    ids=["bernoulli", "redundant", "glorot-init"],
)
def test_generators_are_bitwise_reproducible(make):
    assert torch.equal(make(3), make(3))
    assert not torch.equal(make(3), make(4))


@pytest.fixture
def threads():
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def test_fit_agrees_across_thread_counts(threads):
    # Reductions may be summed in a different order with more threads, so equality is to float32
    # round-off (a few ulp per step), far below the 5 significant digits that nbval compares (nbval_compare.py).
    x = aebook.data.uniform(2000, 8, seed=0)
    runs = []
    for n in (1, 2):
        threads(n)
        model = aebook.Autoencoder(8, 8, hidden=(16,), activation="relu", output="sigmoid", seed=0)
        h = aebook.fit(model, x, loss="bce", epochs=3, seed=0, device="cpu", progress=False)
        runs.append((h.loss, torch.cat([p.detach().flatten() for p in model.parameters()])))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-6)
    torch.testing.assert_close(runs[0][1], runs[1][1], rtol=1e-5, atol=1e-6)
