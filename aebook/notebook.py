"""Notebook: what makes a chapter's stored outputs the same on every machine: the environment its
kernel runs under (``notebook_environment``) and numbers glued rounded (``glue_number``).

MKL and PyTorch pick a code path per CPU that rounds differently, so on x86-64 ``MKL_CBWR=AVX2`` and
``ATEN_CPU_CAPABILITY=avx2`` pin it; torch reads them at start, so ``conftest.py`` and ``make execute``
set them for the kernel. nbval compares glued values by ``repr``, so chapters glue rounded numbers.
"""

from __future__ import annotations

import os
import platform
from collections.abc import MutableMapping

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
