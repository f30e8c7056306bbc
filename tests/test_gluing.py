import pytest

from aebook.notebook import glue_number


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
