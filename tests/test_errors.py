"""Bad input to the public API gives a clear ValueError (issue 6's list, beyond the foundation's,
which tests/test_train.py, test_floors.py, test_data_models.py and test_fit_many.py cover)."""

from __future__ import annotations

import pytest
import torch

import aebook
from aebook.floors import loss_floor, pca_floor


# ----------------------------------------------------------------------------- fit_many
@pytest.mark.parametrize(
    "other, differs_in",
    [
        ({"n_features": 3, "encoding_dim": 2}, "n_features"),
        ({"n_features": 2, "encoding_dim": 2, "hidden": (4,)}, "hidden"),
        ({"n_features": 2, "encoding_dim": 2, "activation": "relu"}, "activation"),
        ({"n_features": 2, "encoding_dim": 2, "output": "sigmoid"}, "output"),
    ],
)
def test_fit_many_refuses_mismatched_models(other, differs_in):
    models = [aebook.Autoencoder(2, 2, seed=0), aebook.Autoencoder(seed=1, **other)]
    with pytest.raises(ValueError, match=rf"model 1 differs from model 0 in .*{differs_in}.*group the models"):
        aebook.fit_many(models, torch.rand(10, 2), progress=False)


def test_fit_many_refuses_mixed_dtypes_and_non_models():
    with pytest.raises(ValueError, match="one dtype and device"):
        aebook.fit_many([aebook.Autoencoder(2, 2), aebook.Autoencoder(2, 2).double()], torch.rand(10, 2),
                        progress=False)
    with pytest.raises(ValueError, match="aebook.Autoencoder"):
        aebook.fit_many([aebook.Autoencoder(2, 2), torch.nn.Linear(2, 2)], torch.rand(10, 2), progress=False)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"seeds": [0, 1, 2]}, "seeds has 3 entries but there are 2 models"),
        ({"lr": [1e-3, -1.0]}, "lr must be a positive number"),
        ({"loss": "hinge"}, "unknown loss"),
        ({"device": "banana"}, "unknown device"),
    ],
)
def test_fit_many_bad_arguments(kwargs, match):
    models = [aebook.Autoencoder(2, 2, seed=i) for i in range(2)]
    with pytest.raises(ValueError, match=match):
        aebook.fit_many(models, torch.rand(10, 2), progress=False, **kwargs)


def test_fit_many_bad_data_names_the_problem():
    models = [aebook.Autoencoder(2, 2, output="sigmoid", seed=i) for i in range(2)]
    with pytest.raises(ValueError, match="expects 2"):
        aebook.fit_many(models, torch.rand(10, 3), progress=False)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        aebook.fit_many(models, torch.rand(10, 2) + 1, loss="bce", progress=False)


# ----------------------------------------------------------------------------- pca_floor with n <= d
@pytest.mark.parametrize("n", [3, 10])
def test_pca_floor_refuses_no_more_rows_than_columns(n):
    x = torch.rand(n, 10)
    with pytest.raises(ValueError, match=rf"{n} rows and 10 columns.*more rows than columns.*floor would be 0"):
        pca_floor(x, 2)
    with pytest.raises(ValueError, match="more rows than columns"):
        loss_floor(x, "mse", encoding_dim=2)


def test_pca_floor_accepts_more_rows_than_columns():
    assert pca_floor(torch.rand(11, 10), 2) > 0


# ----------------------------------------------------------------------------- devices
@pytest.mark.parametrize("device", ["banana", "tpu", "cuda:x", 3.5])
def test_pick_device_refuses_unknown_names(device):
    with pytest.raises(ValueError, match=r"device .*(use None, 'auto', 'cpu')"):
        aebook.pick_device(device)


@pytest.mark.parametrize("device", ["meta", "xpu"])
def test_pick_device_refuses_devices_aebook_does_not_train_on(device):
    with pytest.raises(ValueError, match="unsupported device"):
        aebook.pick_device(device)


def test_pick_device_accepts_cpu_and_chooses_automatically():
    assert aebook.pick_device("cpu") == torch.device("cpu")
    assert aebook.pick_device(torch.device("cpu")) == torch.device("cpu")
    assert aebook.pick_device(None) == aebook.pick_device("auto")
    assert aebook.pick_device(None).type in ("cuda", "mps", "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda", 1)])
def test_pick_device_refuses_cuda_without_cuda_and_does_not_fall_back(device):
    with pytest.raises(ValueError, match="CUDA is not available.*device='cpu'"):
        aebook.pick_device(device)
    models = [aebook.Autoencoder(2, 2, seed=i) for i in range(2)]
    with pytest.raises(ValueError, match="CUDA is not available"):
        aebook.fit_many(models, torch.rand(10, 2), device=device, progress=False)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_pick_device_refuses_a_cuda_index_that_does_not_exist():
    with pytest.raises(ValueError, match="does not exist"):
        aebook.pick_device(f"cuda:{torch.cuda.device_count()}")


def test_pick_device_refuses_unavailable_mps():
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        pytest.skip("MPS is available here")
    with pytest.raises(ValueError, match="MPS is not available"):
        aebook.pick_device("mps")


# ----------------------------------------------------------------------------- evaluation and diagnostics
@pytest.mark.parametrize(
    "x, loss, match",
    [
        (torch.rand(10, 3), "mse", "expects 2"),
        (torch.tensor([[0.5, float("nan")]]), "mse", "NaN"),
        (torch.rand(10, 2) * 2, "bce", r"\[0, 1\]"),
        (torch.rand(10), "mse", "2-D"),
        (torch.rand(10, 2), "hinge", "unknown loss"),
    ],
)
def test_evaluate_bad_input(x, loss, match):
    with pytest.raises(ValueError, match=match):
        aebook.evaluate(aebook.Autoencoder(2, 2, output="sigmoid"), x, loss)


def test_dead_units_bad_input():
    model = aebook.Autoencoder(2, 2, hidden=(3,), activation="relu")
    with pytest.raises(ValueError, match="expects 2"):
        aebook.models.dead_units(model, torch.rand(10, 3))
    with pytest.raises(ValueError, match="NaN"):
        aebook.models.dead_units(model, torch.tensor([[float("inf"), 0.0]]))
