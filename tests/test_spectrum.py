"""aebook.floors: the Marchenko-Pastur prediction of the sample PCA floor of iid data."""

import numpy as np
import pytest

import aebook
from aebook.floors import (
    covariance_eigenvalues,
    marchenko_pastur_edges,
    marchenko_pastur_eigenvalues,
    marchenko_pastur_floor,
    pca_floor,
    population_floor,
)


def test_edges_and_eigenvalues_are_consistent():
    lo, hi = marchenko_pastur_edges(1001, 100, 1.0)
    # centred data: n - 1 = 1000 effective rows, g = 0.1; scale (n - 1) / n
    scale = 1000 / 1001
    assert lo == pytest.approx(scale * (1 - 0.1**0.5) ** 2)
    assert hi == pytest.approx(scale * (1 + 0.1**0.5) ** 2)
    values = marchenko_pastur_eigenvalues(1001, 100, 1.0)
    assert values.shape == (100,) and np.all(np.diff(values) < 0)
    assert lo < values[-1] and values[0] < hi
    # the Marchenko-Pastur law has mean = variance (times the centring scale)
    assert values.mean() == pytest.approx(scale, rel=1e-3)


def test_floor_limits():
    assert marchenko_pastur_floor(2000, 50, 0, 2.0) == pytest.approx(2.0 * 1999 / 2000, rel=1e-3)
    assert marchenko_pastur_floor(2000, 50, 50, 2.0) == 0.0
    assert population_floor(100, 10, 1 / 12) == pytest.approx(90 / 1200)
    # for n >> d the sample spectrum collapses onto the population value
    assert marchenko_pastur_floor(10**7, 20, 5, 1 / 12) == pytest.approx(population_floor(20, 5, 1 / 12), rel=2e-3)


def test_prediction_matches_uniform_samples():
    # Over 8 data sets the mean sample floor agrees with the prediction; each single floor
    # fluctuates by about the sd of trace/d, sqrt((1/80 - 1/144) / (n d)), and stays within 4 of them.
    n, d = 1000, 100
    sd = np.sqrt((1 / 80 - 1 / 144) / (n * d))
    for k in (10, 50, 90):
        predicted = marchenko_pastur_floor(n, d, k, 1 / 12)
        floors = np.array([pca_floor(aebook.data.uniform(n, d, seed=s), k) for s in range(8)])
        assert np.all(np.abs(floors - predicted) < 4 * sd)
        assert abs(floors.mean() - predicted) < 4 * sd / np.sqrt(8)
        assert np.all(floors < population_floor(d, k, 1 / 12))


def test_sample_eigenvalues_fall_inside_predicted_edges():
    x = aebook.data.uniform(2000, 100, seed=0)
    eig = covariance_eigenvalues(x).numpy()
    lo, hi = marchenko_pastur_edges(2000, 100, 1 / 12)
    # finite-size (Tracy-Widom) fluctuations of the extremes are O(n^(-2/3)) relative: a few percent
    assert lo * 0.95 < eig.min() and eig.max() < hi * 1.05


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: marchenko_pastur_edges(10, 10, 1.0), "more rows than columns"),
        (lambda: marchenko_pastur_edges(100, 10, 0.0), "variance"),
        (lambda: marchenko_pastur_floor(100, 10, 11, 1.0), r"\[0, d\]"),
        (lambda: marchenko_pastur_floor(100, 10, -1, 1.0), r"\[0, d\]"),
        (lambda: population_floor(10, 2, -1.0), "variance"),
        (lambda: population_floor(0, 0, 1.0), "positive integer"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
