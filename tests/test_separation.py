"""aebook.evaluate's separation statistics: do all runs of one side end above all of the other,
and how likely is that by chance (two chapters use them: deep_grid and digits)."""

import pytest

from aebook.evaluate import chance_of_separation, fully_above


def test_separation_helpers():
    assert fully_above([3, 4], [1, 2]) and not fully_above([2, 4], [1, 3])
    assert chance_of_separation(4) == pytest.approx(1 / 70)
    assert chance_of_separation(2, 3) == pytest.approx(1 / 10)


@pytest.mark.parametrize(
    "call", [lambda: fully_above([], [1.0]), lambda: chance_of_separation(0)]
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError, match="at least one value"):
        call()
