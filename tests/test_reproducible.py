"""The environment that stored outputs are made and checked in (``aebook.notebook``)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from aebook.notebook import NOTEBOOK_ENV, X86_NUMERICS_ENV, notebook_environment

X86 = platform.machine().lower() in ("x86_64", "amd64")


def test_sets_and_overrides_the_notebook_variables():
    environ = {"AEBOOK_PROGRESS": "1", "UNRELATED": "kept"}
    applied = notebook_environment(environ)
    assert environ["AEBOOK_PROGRESS"] == "0" and environ["UNRELATED"] == "kept"
    assert applied == {**NOTEBOOK_ENV, **(X86_NUMERICS_ENV if X86 else {})}
    assert all(environ[name] == value for name, value in applied.items())


def _child_capability(extra: dict[str, str]) -> str:
    """PyTorch's CPU code path in a fresh process, as a kernel started with ``extra`` sees it."""
    base = {k: v for k, v in os.environ.items() if k not in X86_NUMERICS_ENV}
    code = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    out = subprocess.run([sys.executable, "-c", code], env={**base, **extra}, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not X86, reason="the CPU code path is pinned on x86-64 only")
def test_a_child_process_runs_the_pinned_code_path():
    environ: dict[str, str] = {}
    notebook_environment(environ)
    assert _child_capability(environ) == "AVX2"  # also on a machine with AVX-512
    # the variable is what decides it: the same child with another value runs another path
    assert _child_capability({**environ, "ATEN_CPU_CAPABILITY": "default"}) == "DEFAULT"
