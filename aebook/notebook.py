"""Notebook: stored outputs the same on every machine: the kernel's environment (``notebook_environment``:
MKL and PyTorch pick a code path per CPU that rounds differently; on x86-64 ``MKL_CBWR=AVX2`` and
``ATEN_CPU_CAPABILITY=avx2`` pin it, read by torch at start, so ``conftest.py`` and ``make execute`` set
them), numbers glued rounded (nbval compares them by ``repr``: ``glue_number``; ``round_out`` for bounds,
which must stay true after rounding) and ``html_table`` for result tables."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Iterable, MutableMapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from html import escape

#: Set for every kernel that makes or checks stored outputs: progress bars never reach them.
NOTEBOOK_ENV = {"AEBOOK_PROGRESS": "0"}
#: Added on x86-64 only (see the module docstring).
X86_NUMERICS_ENV = {"MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}


def notebook_environment(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Set the stored-output environment in ``environ`` (default ``os.environ``); return what was set."""
    environ = os.environ if environ is None else environ  # no default argument: the API page would print it
    wanted = dict(NOTEBOOK_ENV)
    if platform.machine().lower() in ("x86_64", "amd64"):
        wanted.update(X86_NUMERICS_ENV)
    environ.update(wanted)
    return wanted


def _check_digits(digits: int) -> None:
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a positive integer (significant digits), got {digits!r}.")


def glue_number(key: str, value: float, digits: int = 4) -> float:
    """Glue ``value`` under ``key`` (myst-nb, not displayed) rounded to ``digits`` significant digits; return it."""
    _check_digits(digits)
    from myst_nb import glue  # a book dependency: imported only when a chapter glues
    rounded = float(f"{float(value):.{digits}g}")
    glue(key, rounded, display=False)
    return rounded


def round_out(value: float, digits: int = 2, up: bool = True) -> float:
    """Round ``value`` to ``digits`` significant digits up (``up=True``, for "at most") or down (for "at least").

    ``round_out(x) >= x`` (``<= x`` down) holds for the float itself, so a glued bound stays true after
    rounding: 0.00079024 rounds up to 0.00079 only to nearest, but to 0.000791 here.
    """
    _check_digits(digits)
    if not math.isfinite(value := float(value)):
        raise ValueError(f"round_out needs a finite number, got {value!r}.")
    if value == 0.0:
        return 0.0
    exact = Decimal(repr(value))  # the shortest decimal that reads back as this float; float() of a
    quantum = Decimal(1).scaleb(exact.adjusted() - digits + 1)  # decimal above (below) it is above (below)
    return float(exact.quantize(quantum, rounding=ROUND_CEILING if up else ROUND_FLOOR))


def html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Return an HTML ``<table>`` of text cells (escaped) under ``header`` (notebook Markdown has no tables)."""
    cells = lambda tag, texts: "".join(f"<{tag}>{escape(t, quote=False)}</{tag}>" for t in texts)  # noqa: E731
    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"
