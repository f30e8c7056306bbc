"""Every record under records/ still comes from the code that claims to make it.

For each record, ``records/make.py --check NAME`` re-runs the record's ``check`` (the function named
in ``check.made_by`` with ``check.kwargs``: the first epoch of the recorded configuration, on the
full data) in a fresh process with one thread and the pinned CPU code path, and compares the
first-epoch losses with those the record stored, within the record's ``rtol``.

Tolerance, measured on this project's machine (AMD EPYC, one thread) for the first epoch of the
2-feature record and of the reader's-scale record (``scripts/measure_record_tolerance.py``):
the same run twice differs by 0, and so does a run under MKL's and ATen's default code paths
instead of the pinned one; a learning rate 10% off moves the first-epoch losses by 5.8e-4 to 3e-2
relative. ``fit_many`` against ``fit`` (another summation order) differs by ~1e-8 relative
(tests/test_engine_exact.py). rtol = 1e-5 is far above round-off and 58 times below the smallest
real change measured.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aebook.records import KEYS, load_record

ROOT = Path(__file__).resolve().parent.parent
RECORDS = sorted((ROOT / "records").glob("*.json"))


def _make_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("records_make", ROOT / "records" / "make.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_record_file_is_made_by_make_py_and_back():
    assert sorted(p.stem for p in RECORDS) == sorted(_make_module().RECORDS)


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.stem)
def test_record_has_every_key_and_a_check(path):
    record = load_record(path)
    assert set(KEYS) <= set(record)
    assert record["check"]["values"] and 0 < record["check"]["rtol"] <= 1e-5
    assert all(len(v) >= 1 for v in record["series"].values())


def _check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "records" / "make.py"), "--check", path.stem],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)


@pytest.fixture(scope="module")
def checks() -> dict[str, subprocess.CompletedProcess]:
    """Every record's check, two at a time (each is one thread; the machine has two cores)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip((p.stem for p in RECORDS), pool.map(_check, RECORDS), strict=True))


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.stem)
def test_record_reproduces_from_its_code(path, checks):
    out = checks[path.stem]
    assert out.returncode == 0, out.stdout + out.stderr


def test_check_values_reports_a_planted_drift():
    from aebook.records import check_values

    record = {"check": {"values": {"a loss": [0.5], "b loss": [0.25]}, "rtol": 1e-5}}
    assert check_values(record, {"a loss": [0.5], "b loss": [0.25 * (1 + 1e-6)]}) == []
    problems = check_values(record, {"a loss": [0.5 * (1 + 1e-4)], "b loss": [0.25]})
    assert len(problems) == 1 and problems[0].startswith("a loss")
    assert check_values(record, {"a loss": [0.5]}) == ["b loss: not re-run"]
