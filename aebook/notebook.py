"""Notebook: what makes a chapter's stored outputs the same on every machine: the environment its
kernel runs under (``notebook_environment``) and numbers glued rounded (``glue_number``).

The environment under which stored notebook outputs are made and checked.

nbval compares a chapter's fresh outputs with the stored ones, so a chapter must print the same
numbers on every machine that runs the test suite. Seeds fix the data, the initialisation and the
batch order; what is left is the CPU. Intel's MKL and PyTorch's own kernels pick a code path for
the processor they find (AVX-512 on many Intel Xeons, AVX2 on AMD EPYC), and the paths sum in
different orders. The difference is one rounding, but a long training run amplifies it: measured
on this project, an Intel AVX-512 machine and an AMD AVX2 machine gave dead-unit counts of 23 and
24 for the same seeded model. Two variables pin the code path on x86-64:

* ``MKL_CBWR=AVX2``: MKL's conditional numerical reproducibility (CNR) mode, which MKL documents
  as giving the same results on every Intel or compatible processor with AVX2, for a fixed
  number of threads;
* ``ATEN_CPU_CAPABILITY=avx2``: PyTorch's vectorised kernels use AVX2 even where AVX-512 exists.

Both are read when torch starts its kernels, so they must be in the environment of the process
that runs the notebook: the test suite (``conftest.py``) and ``make execute`` put them there for
the kernels they start. CNR mode is not MKL's default even on an AVX2 machine: on the AMD EPYC
machine where the stored outputs were made it changes some results of long runs (the deep
bottleneck of the compressibility chapter, for one), which is why the outputs are made and
checked under it. Other architectures (ARM) are left alone: there a few values that depend on a
long training run may differ in their last printed digit.

nbval also compares each glued value's ``repr`` with the stored one, so a chapter glues rounded
numbers, never a raw float whose last digits depend on the machine: it calls
``glue_number(key, value)`` and pastes the value into its prose with MyST's ``glue:text`` role.
"""

from __future__ import annotations

import os
import platform
from collections.abc import MutableMapping

#: Set for every kernel that makes or checks stored outputs.
NOTEBOOK_ENV = {"AEBOOK_PROGRESS": "0"}  # progress bars never reach the stored outputs

#: Added on x86-64 only (see the module docstring).
X86_NUMERICS_ENV = {"MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}


def notebook_environment(environ: MutableMapping[str, str] = os.environ) -> dict[str, str]:
    """Set the stored-output environment in ``environ`` (``os.environ`` by default).

    The values replace any already set: a kernel with progress bars or another code path would
    not reproduce the stored outputs. Returns the variables set, name to value.
    """
    wanted = dict(NOTEBOOK_ENV)
    if platform.machine().lower() in ("x86_64", "amd64"):
        wanted.update(X86_NUMERICS_ENV)
    environ.update(wanted)
    return wanted


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
