"""aebook.schedule.fit_schedule: one model through a piecewise-constant learning-rate schedule."""

import numpy as np
import pytest

import aebook
from aebook.schedule import fit_schedule


def test_schedule_equals_consecutive_fits():
    x = aebook.data.uniform(200, 3, seed=0)
    a, b = aebook.Autoencoder(3, 2, seed=0), aebook.Autoencoder(3, 2, seed=0)
    seen = []
    h = fit_schedule(a, x, "mse", [(1e-2, 3), (1e-3, 2)], batch_size=40, seed=5, progress=False,
                     on_epoch=lambda epoch, model: seen.append(epoch))
    h1 = aebook.fit(b, x, loss="mse", lr=1e-2, epochs=3, batch_size=40, seed=5, progress=False)
    h2 = aebook.fit(b, x, loss="mse", lr=1e-3, epochs=2, batch_size=40, seed=6, progress=False)
    np.testing.assert_allclose(h.loss, np.concatenate([h1.loss, h2.loss]), rtol=1e-6)
    assert h.epochs == 5 and h.lr == 1e-3 and seen == [1, 2, 3, 4, 5]
    assert h.steps == h1.steps + h2.steps and h.extra["schedule"] == [(1e-2, 3), (1e-3, 2)]
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    ("schedule", "kwargs", "match"),
    [
        ([], {}, "empty"),
        ([(1e-3,)], {}, "pair"),
        ([(1e-3, 0)], {}, "positive integer"),
        ([(1e-3, 2)], {"lr": 1e-2}, "takes no 'lr'"),
        ([(-1.0, 2)], {}, "lr must be a positive number"),
    ],
)
def test_bad_schedules_raise(schedule, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_schedule(aebook.Autoencoder(2, 1), aebook.data.uniform(10, 2), "mse", schedule, progress=False, **kwargs)
