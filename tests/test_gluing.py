import numpy as np
import pytest

from aebook.notebook import glue_number, html_table, round_out


@pytest.fixture
def glued(monkeypatch):
    calls = []
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda key, value, display=True: calls.append((key, value, display)))
    return calls


def test_glues_the_rounded_value_without_displaying_it(glued):
    assert glue_number("loss", 0.123456789) == 0.1235
    assert glue_number("tiny", 3.14159e-8, digits=2) == 3.1e-08
    assert glued == [("loss", 0.1235, False), ("tiny", 3.1e-08, False)]


@pytest.mark.parametrize("digits", [0, -1, 2.5, True])
def test_refuses_digits_that_are_not_a_positive_integer(glued, digits):
    with pytest.raises(ValueError, match="positive integer"):
        glue_number("x", 1.0, digits=digits)
    assert glued == []


def test_round_out_rounds_away_from_the_value():
    # to nearest, 0.00079024 is 0.00079, below it; outwards the bound holds and keeps its digits
    assert round_out(0.00079024, 3) == 0.000791 and round_out(0.00079024, 3, up=False) == 0.00079
    assert round_out(2.354e-7, 1) == 3e-7 and round_out(0.6649, 2) == 0.67 and round_out(99.95, 2) == 100.0
    assert round_out(-0.0123, 2) == -0.012 and round_out(-0.0123, 2, up=False) == -0.013
    assert round_out(0.1, 2) == round_out(0.1, 2, up=False) == 0.1 and round_out(0.0, 3) == 0.0
    rng = np.random.default_rng(0)
    for x in rng.lognormal(-5, 4, size=500):
        for digits in (1, 2, 3):
            lo, hi = round_out(x, digits, up=False), round_out(x, digits)
            assert lo <= x <= hi and type(hi) is float
            assert len(f"{hi:e}".split("e")[0].replace(".", "").rstrip("0")) <= digits
    with pytest.raises(ValueError, match="digits"):
        round_out(1.0, 0)
    with pytest.raises(ValueError, match="finite"):
        round_out(float("nan"))


def test_html_table_escapes_its_cells():
    table = html_table(["a", "b<c"], [["1", "x & y"], ["2", "3"]])
    assert table == (
        "<table><thead><tr><th>a</th><th>b&lt;c</th></tr></thead><tbody>"
        "<tr><td>1</td><td>x &amp; y</td></tr><tr><td>2</td><td>3</td></tr></tbody></table>"
    )
