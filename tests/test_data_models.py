import numpy as np
import pytest
import torch

import aebook


def test_uniform_shape_range_and_seed():
    x = aebook.data.uniform(1000, 3, seed=1)
    assert x.shape == (1000, 3) and x.dtype == torch.float32
    assert 0.0 <= float(x.min()) and float(x.max()) < 1.0
    assert torch.equal(x, aebook.data.uniform(1000, 3, seed=1))
    assert not torch.equal(x, aebook.data.uniform(1000, 3, seed=2))


def test_generators_do_not_touch_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    aebook.data.uniform(10, 2, seed=0)
    aebook.data.bernoulli(10, 2, seed=0)
    aebook.data.redundant(10, 4, rank=2, noise=0.1, seed=0)
    aebook.Autoencoder(4, 2, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_bernoulli_values_and_rate():
    x = aebook.data.bernoulli(20_000, 5, p=0.3, seed=0)
    assert set(torch.unique(x).tolist()) == {0.0, 1.0}
    assert abs(float(x.mean()) - 0.3) < 0.01  # 5 sigma for 1e5 draws is 0.0072


def test_redundant_rank_one_rows_are_constant():
    x = aebook.data.redundant(100, 4, rank=1, seed=0)
    assert torch.allclose(x, x[:, :1].expand(-1, 4))
    assert torch.linalg.matrix_rank(x) == 1


def test_redundant_low_rank():
    x = aebook.data.redundant(500, 10, rank=3, seed=0)
    assert torch.linalg.matrix_rank(x) == 3  # float32 tolerance: the data are float32


@pytest.mark.parametrize(
    "call",
    [
        lambda: aebook.data.uniform(0, 2),
        lambda: aebook.data.uniform(10, -1),
        lambda: aebook.data.bernoulli(10, 2, p=1.5),
        lambda: aebook.data.redundant(10, 2, rank=3),
        lambda: aebook.data.redundant(10, 2, noise=-1.0),
    ],
)
def test_generator_bad_arguments(call):
    with pytest.raises(ValueError):
        call()


def test_linear_model_is_the_affine_composition():
    m = aebook.Autoencoder(n_features=3, encoding_dim=2, seed=0)
    enc, dec = m.linear_layers()
    x = aebook.data.uniform(5, 3, seed=0)
    expected = (x @ enc.weight.T + enc.bias) @ dec.weight.T + dec.bias
    assert torch.allclose(m(x), expected)
    assert torch.allclose(m.logits(x), expected)


def test_sigmoid_head_and_logits():
    m = aebook.Autoencoder(2, 2, output="sigmoid", seed=0)
    x = aebook.data.uniform(7, 2, seed=0)
    assert torch.allclose(m(x), torch.sigmoid(m.logits(x)))


def test_architecture_mirrors_hidden_widths():
    m = aebook.Autoencoder(10, 3, hidden=(8, 5), activation="relu", seed=0)
    shapes = [tuple(layer.weight.shape) for layer in m.linear_layers()]
    assert shapes == [(8, 10), (5, 8), (3, 5), (5, 3), (8, 5), (10, 8)]
    assert sum(isinstance(layer, torch.nn.ReLU) for layer in m.modules()) == 5


def test_seed_fixes_initialisation():
    a, b = aebook.Autoencoder(4, 4, seed=3), aebook.Autoencoder(4, 4, seed=3)
    c = aebook.Autoencoder(4, 4, seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.encoder[0].weight, c.encoder[0].weight)


def test_glorot_init_has_zero_bias_and_glorot_range():
    m = aebook.Autoencoder(100, 100, hidden=(100,), init="glorot", seed=0)
    for layer in m.linear_layers():
        assert torch.count_nonzero(layer.bias) == 0
        limit = np.sqrt(6 / (layer.in_features + layer.out_features))
        assert float(layer.weight.detach().abs().max()) <= limit


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"activation": "tanh"}, "activation"),
        ({"output": "softmax"}, "output"),
        ({"init": "he"}, "init"),
        ({"hidden": (0,)}, "hidden"),
    ],
)
def test_model_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        aebook.Autoencoder(2, 2, **kwargs)


def test_model_refuses_wrong_width_and_shape():
    m = aebook.Autoencoder(3, 3)
    with pytest.raises(ValueError, match="expects 3"):
        m(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="2-D"):
        m(torch.zeros(3))
