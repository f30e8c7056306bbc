"""Notebook: what makes a chapter's stored outputs the same on every machine: the environment its
kernel runs under (``notebook_environment``) and numbers glued rounded (``glue_number``, and
``round_out`` for bounds, which must stay true after rounding); ``html_table`` for result tables.

MKL and PyTorch pick a code path per CPU that rounds differently, so on x86-64 ``MKL_CBWR=AVX2`` and
``ATEN_CPU_CAPABILITY=avx2`` pin it; torch reads them at start, so ``conftest.py`` and ``make execute``
set them for the kernel. nbval compares glued values by ``repr``, so chapters glue rounded numbers.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Iterable, MutableMapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from html import escape

#: Set for every kernel that makes or checks stored outputs.
NOTEBOOK_ENV = {"AEBOOK_PROGRESS": "0"}  # progress bars never reach the stored outputs

#: Added on x86-64 only (see the module docstring).
X86_NUMERICS_ENV = {"MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}


def notebook_environment(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Set the stored-output environment in ``environ`` (default: ``os.environ``), replacing any values
    there; return what was set."""
    if environ is None:  # not a default argument: the API page would print the build machine's environment
        environ = os.environ
    wanted = dict(NOTEBOOK_ENV)
    if platform.machine().lower() in ("x86_64", "amd64"):
        wanted.update(X86_NUMERICS_ENV)
    environ.update(wanted)
    return wanted


def glue_number(key: str, value: float, digits: int = 4) -> float:
    """Glue ``value`` under ``key`` (myst-nb, not displayed) rounded to ``digits`` significant digits; return it."""
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a positive integer (significant digits), got {digits!r}.")
    from myst_nb import glue  # a book dependency: imported only when a chapter glues
    rounded = float(f"{float(value):.{digits}g}")
    glue(key, rounded, display=False)
    return rounded


def round_out(value: float, digits: int = 2, up: bool = True) -> float:
    """Round ``value`` to ``digits`` significant digits up (``up=True``, for "at most") or down (for "at least").

    The result is a plain float with at most ``digits`` significant digits, and ``round_out(x) >= x``
    (``<= x`` when rounding down) holds for the float ``x`` itself, so a bound glued from it stays
    true after rounding: 0.00079024 rounds up to 0.00079 only to nearest, but to 0.000791 here.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a positive integer (significant digits), got {digits!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"round_out needs a finite number, got {value!r}.")
    if value == 0.0:
        return 0.0
    exact = Decimal(repr(value))  # the shortest decimal that reads back as this float
    quantum = Decimal(1).scaleb(exact.adjusted() - digits + 1)
    rounded = float(exact.quantize(quantum, rounding=ROUND_CEILING if up else ROUND_FLOOR))
    # float() of a decimal at or above (below) repr(value) is at or above (below) value: rounding is monotone
    return rounded


def html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Return an HTML ``<table>`` of text cells (escaped), one ``<tr>`` per row under ``header``.

    Jupyter Book renders notebook Markdown outputs as CommonMark, which has no tables; an HTML
    output renders everywhere.
    """
    head = "".join(f"<th>{escape(text, quote=False)}</th>" for text in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(text, quote=False)}</td>" for text in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
