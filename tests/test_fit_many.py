import numpy as np
import pytest
import torch

import aebook


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_features": 3, "encoding_dim": 3, "output": "sigmoid", "loss": "bce"},
        {"n_features": 4, "encoding_dim": 2, "hidden": (5,), "activation": "leaky_relu", "loss": "mse"},
    ],
)
def test_member_equals_fit(kwargs):
    loss = kwargs.pop("loss")
    x = aebook.data.uniform(700, kwargs["n_features"], seed=0)
    lrs, seeds = [1e-3, 3e-3, 1e-2], [4, 5, 6]
    batched = [aebook.Autoencoder(seed=i, **kwargs) for i in range(3)]
    histories = aebook.fit_many(batched, x, loss=loss, lr=lrs, epochs=4, seeds=seeds, batch_size=64, progress=False)
    for i, (model, h) in enumerate(zip(batched, histories, strict=True)):
        alone = aebook.Autoencoder(seed=i, **kwargs)
        h_alone = aebook.fit(alone, x, loss=loss, lr=lrs[i], epochs=4, seed=seeds[i], batch_size=64, progress=False)
        np.testing.assert_allclose(h.loss, h_alone.loss, rtol=1e-5)
        for p, q in zip(model.parameters(), alone.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)


def test_tol_stops_members_independently():
    x = aebook.data.uniform(1000, 2, seed=0)
    models = [aebook.Autoencoder(2, 2, seed=0) for _ in range(2)]
    fast, slow = aebook.fit_many(models, x, lr=[1e-2, 1e-4], epochs=150, tol=1e-3, progress=False)
    assert fast.converged and fast.epochs < slow.epochs
    alone = aebook.fit(aebook.Autoencoder(2, 2, seed=0), x, lr=1e-2, epochs=150, tol=1e-3, seed=0, progress=False)
    assert alone.epochs == fast.epochs


def test_different_architectures_are_refused():
    models = [aebook.Autoencoder(2, 2), aebook.Autoencoder(2, 1)]
    with pytest.raises(ValueError, match="encoding_dim"):
        aebook.fit_many(models, torch.rand(10, 2), progress=False)


def test_per_member_arguments_must_match_the_model_count():
    models = [aebook.Autoencoder(2, 2), aebook.Autoencoder(2, 2)]
    with pytest.raises(ValueError, match="one per model"):
        aebook.fit_many(models, torch.rand(10, 2), lr=[1e-3], progress=False)
    with pytest.raises(ValueError, match="non-empty"):
        aebook.fit_many([], torch.rand(10, 2), progress=False)
