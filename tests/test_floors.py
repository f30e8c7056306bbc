import numpy as np
import pytest
import torch

import aebook
from aebook.floors import bce_floor, binary_entropy, loss_floor, pca_floor


def test_binary_entropy_known_values():
    h = binary_entropy(torch.tensor([0.0, 1.0, 0.5]))
    assert h[0] == 0 and h[1] == 0
    assert h[2] == pytest.approx(np.log(2))


def test_bce_floor_of_binary_data_is_zero():
    assert bce_floor(aebook.data.bernoulli(1000, 4, seed=0)) == 0.0


def test_bce_floor_of_uniform_data_is_one_half():
    # E[H(t)] = 1/2 for t ~ U(0,1); Var[H(t)] = 1/3 - 1/4 + ... < 0.03, so with 1e6 draws the
    # standard error is below 2e-4 and 0.002 is a 10-sigma bound.
    x = aebook.data.uniform(100_000, 10, seed=0)
    assert bce_floor(x) == pytest.approx(0.5, abs=2e-3)


def test_bce_floor_refuses_values_outside_unit_interval():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bce_floor(torch.tensor([[0.5, 1.5]]))


def test_pca_floor_of_iid_uniform_is_close_to_population_value():
    d, k = 20, 5
    x = aebook.data.uniform(50_000, d, seed=0)
    population = (d - k) / (12 * d)
    sample = pca_floor(x, k)
    # The smallest sample eigenvalues sit below the population value 1/12, so the floor is a
    # little lower; the spread of the sample eigenvalues is O(sqrt(d/n)) relative.
    assert sample < population
    assert sample == pytest.approx(population, rel=4 * np.sqrt(d / 50_000))


def test_pca_floor_extremes():
    x = aebook.data.uniform(2000, 6, seed=0)
    assert pca_floor(x, 6) == pytest.approx(0.0, abs=1e-12)
    total_variance = float(x.double().var(dim=0, unbiased=False).mean())
    assert pca_floor(x, 0) == pytest.approx(total_variance)


def test_pca_floor_of_rank_one_data_is_zero_for_k_one():
    x = aebook.data.redundant(1000, 4, rank=1, seed=0)
    assert pca_floor(x, 1) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("k", [-1, 3, 1.5])
def test_pca_floor_refuses_bad_k(k):
    with pytest.raises(ValueError, match="encoding dim"):
        pca_floor(torch.rand(10, 2), k)


def test_loss_floor_dispatch():
    x = aebook.data.uniform(1000, 4, seed=0)
    assert loss_floor(x, "bce") == bce_floor(x)
    assert loss_floor(x, "mse") == 0.0
    assert loss_floor(x, "mse", encoding_dim=2) == pca_floor(x, 2)
    with pytest.raises(ValueError, match="unknown loss"):
        loss_floor(x, "hinge")


@pytest.mark.parametrize(
    "bad, match",
    [
        (torch.zeros(3), "2-D"),
        (torch.tensor([[0.1, float("nan")]]), "NaN"),
        (torch.tensor([[0.1, float("inf")]]), "NaN or infinite"),
        (np.array([["a", "b"]]), "numeric"),
        ([[0.1, 0.2]], "torch.Tensor or numpy"),
    ],
)
def test_floors_refuse_bad_data(bad, match):
    with pytest.raises(ValueError, match=match):
        bce_floor(bad)
