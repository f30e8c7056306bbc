"""Every record under records/ still comes from the code that claims to make it.

For each record, ``records/make.py --check NAME`` re-runs the record's ``check`` (the function named
in ``check.made_by`` with ``check.kwargs``: the first epoch of the recorded configuration, on the
full data) in a fresh process with one thread and the pinned CPU code path, and compares the
first-epoch losses with those the record stored, within the record's ``rtol``.

Tolerance: under the same code path and thread count the re-run is bitwise identical (measured:
relative difference 0). Switching MKL to its default code path on this machine moves a
first-epoch loss by about 1e-7 relative; a real change of configuration (a learning rate 10%
off, another seed) moves it by 1e-4 or more. rtol = 1e-5 sits between the two.
"""

from __future__ import annotations

import subprocess
import sys
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


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.stem)
def test_record_reproduces_from_its_code(path):
    out = subprocess.run([sys.executable, str(ROOT / "records" / "make.py"), "--check", path.stem],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
