"""Numbers for the prose: glue a value rounded to a few significant digits.

nbval compares each glued value's ``repr`` with the stored one, so a chapter glues rounded
numbers, never a raw float whose last digits depend on the machine. The chapters call
``glue_number(key, value)`` and paste the value into their prose with MyST's ``glue:text`` role.
"""

from __future__ import annotations


def glue_number(key: str, value: float, digits: int = 4) -> float:
    """Glue ``value`` under ``key`` (myst-nb, not displayed), rounded to ``digits`` significant digits.

    Returns the rounded value that was glued. ``digits`` must be a positive integer.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a positive integer (significant digits), got {digits!r}.")
    from myst_nb import glue  # a book dependency: imported only when a chapter glues

    rounded = float(f"{float(value):.{digits}g}")
    glue(key, rounded, display=False)
    return rounded
