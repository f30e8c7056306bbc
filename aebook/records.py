"""Records: runs too long for a chapter, saved as JSON with what made them and a check that re-runs their start.

A record is made by a committed function of a chapter's code (``made_by``, e.g.
``"book/original_question.py:run_readers_network"``) and holds:

* ``settings``: everything needed to re-run it; ``versions`` (torch, numpy, keras when used),
  ``machine`` and ``seconds`` (wall time of the whole run);
* ``series``: name -> per-epoch values (losses in nats per element for BCE, MSE per element);
* ``results``: anything else the chapter reads;
* ``check``: what the record test re-runs (``made_by``, a function of the chapter's code, called
  with ``kwargs``) and the ``values`` (name -> numbers) it must give back, within ``rtol``.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

KEYS = ("made_by", "settings", "versions", "machine", "seconds", "series", "results", "check")
CHECK_KEYS = ("made_by", "kwargs", "values", "rtol")


def versions(*extra: str) -> dict[str, str]:
    """Return the versions of torch and numpy, and of each importable package named in ``extra``."""
    found = {"torch": torch.__version__, "numpy": np.__version__}
    for name in extra:
        found[name] = __import__(name).__version__
    return found


def machine() -> dict[str, object]:
    """Return what the run ran on: architecture, processor name where readable, cores, threads, CUDA device."""
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "architecture": platform.machine(), "cpu": cpu, "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def _rounded(values: Sequence[float], digits: int = 8) -> list[float]:
    return [float(f"{float(v):.{digits}g}") for v in values]


def make_record(made_by: str, settings: Mapping, series: Mapping[str, Sequence[float]], seconds: float,
                check: Mapping, results: Mapping | None = None, packages: Sequence[str] = ()) -> dict:
    """Return a record (a JSON-ready dict with the keys in ``KEYS``); series values keep 8 significant digits.

    Raises:
        ValueError: if ``made_by`` is not ``"path.py:function"`` or ``check`` lacks a key of ``CHECK_KEYS``.
    """
    if not (isinstance(made_by, str) and ".py:" in made_by):
        raise ValueError(f"made_by must name the file and function, e.g. 'book/x.py:run', got {made_by!r}.")
    missing = [key for key in CHECK_KEYS if key not in check]
    if missing:
        raise ValueError(f"check lacks {missing}; give made_by, kwargs, values (name -> numbers) and rtol.")
    return {
        "made_by": made_by, "settings": dict(settings), "versions": versions(*packages), "machine": machine(),
        "seconds": round(float(seconds), 1), "series": {k: _rounded(v) for k, v in series.items()},
        "results": dict(results or {}),
        "check": {**check, "values": {k: _rounded(v, 10) for k, v in check["values"].items()}},
    }


def save_record(record: Mapping, path: str | Path) -> Path:
    """Write ``record`` as indented JSON to ``path`` (made atomically: a stopped run leaves the old file)."""
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    tmp.replace(path)
    return path


def load_record(path: str | Path) -> dict:
    """Read a record from ``path`` and return it.

    Raises:
        ValueError: if the file is missing, is not JSON, or lacks a key of ``KEYS``.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such record; make it with `make records NAME={path.stem}`.")
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not JSON ({err}); remake it with `make records NAME={path.stem}`.") from None
    missing = [key for key in KEYS if key not in record]
    if missing:
        raise ValueError(f"{path}: the record lacks {missing}; remake it with `make records NAME={path.stem}`.")
    return record


def check_values(record: Mapping, fresh: Mapping[str, Sequence[float]]) -> list[str]:
    """Compare ``fresh`` re-run values with ``record["check"]``; return one line per disagreement (empty if none)."""
    check = record["check"]
    problems = []
    for name, stored in check["values"].items():
        if name not in fresh:
            problems.append(f"{name}: not re-run")
            continue
        got, want = np.asarray(fresh[name], dtype=float), np.asarray(stored, dtype=float)
        if got.shape != want.shape or not np.allclose(got, want, rtol=check["rtol"], atol=0):
            worst = float(np.max(np.abs(got - want) / np.abs(want))) if got.shape == want.shape else float("nan")
            problems.append(f"{name}: re-run {got.tolist()} vs record {want.tolist()} (worst rel. diff {worst:.2g})")
    return problems
