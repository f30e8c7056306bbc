"""``make refresh`` (scripts/refresh.py): re-execute, print the drift of glued values, then store."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("refresh", ROOT / "scripts" / "refresh.py")
refresh = importlib.util.module_from_spec(_spec)
sys.modules["refresh"] = refresh  # dataclasses look their module up there
_spec.loader.exec_module(refresh)


def _glue_output(name: str, text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output(
        "display_data",
        data={refresh.GLUE_PREFIX + "text/plain": text},
        metadata={"scrapbook": {"name": name, "mime_prefix": refresh.GLUE_PREFIX}},
    )


def _notebook(stored: dict[str, str]) -> nbformat.NotebookNode:
    """A notebook that glues a = 0.25 and n = 7 when run, with ``stored`` as its old glue outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell(
        "from myst_nb import glue\nglue('a', 0.25, display=False)\nglue('n', 7, display=False)"
    )
    cell.outputs = [_glue_output(k, v) for k, v in stored.items()]
    nb.cells = [nbformat.v4.new_markdown_cell("# Drift"), cell]
    return nb


def test_glued_values_parses_numbers_and_hashes_figures():
    nb = _notebook({"a": "0.2", "n": "7", "s": "'text'"})
    nb.cells[1].outputs.append(nbformat.v4.new_output(
        "display_data",
        data={refresh.GLUE_PREFIX + "image/png": "iVBOR", refresh.GLUE_PREFIX + "text/plain": "<Figure>"},
        metadata={"scrapbook": {"name": "fig", "mime_prefix": refresh.GLUE_PREFIX}},
    ))
    values = refresh.glued_values(nb)
    assert values["a"] == 0.2 and values["n"] == 7 and values["s"] == "text"
    assert values["fig"].startswith("<image/png sha1 ")


def test_compare_and_format():
    drifts = refresh.compare({"a": 0.2, "n": 7, "gone": 1.0, "z": 0}, {"a": 0.25, "n": 7, "new": 3, "z": 1e-9})
    by_key = {d.key: d for d in drifts}
    assert by_key["a"].relative == pytest.approx(0.25)
    assert by_key["n"].relative == 0.0 and not by_key["n"].changed
    assert math.isinf(by_key["z"].relative)
    lines = refresh.format_drift("book/x.ipynb", drifts)
    assert lines[0] == "book/x.ipynb: 4 of 5 glued values changed"
    text = "\n".join(lines)
    assert "+25.000%" in text and "removed" in text and "new key" in text and "from 0" in text
    assert " n " not in text  # unchanged values are listed only with --all
    assert " n " in "\n".join(refresh.format_drift("book/x.ipynb", drifts, show_all=True))


def test_refresh_prints_drift_then_stores(tmp_path):
    path = tmp_path / "drift.ipynb"
    nbformat.write(_notebook({"a": "0.2", "n": "7"}), path)
    run = [sys.executable, str(ROOT / "scripts" / "refresh.py")]

    dry = subprocess.run([*run, "--dry-run", str(path)], capture_output=True, text=True, timeout=300)
    assert dry.returncode == 0, dry.stderr
    assert "1 of 2 glued values changed" in dry.stdout
    assert "0.2" in dry.stdout and "0.25" in dry.stdout and "+25.000%" in dry.stdout
    assert refresh.glued_values(nbformat.read(path, as_version=4))["a"] == 0.2  # dry run: unchanged

    real = subprocess.run([*run, str(path)], capture_output=True, text=True, timeout=300)
    assert real.returncode == 0, real.stderr
    assert "+25.000%" in real.stdout
    assert refresh.glued_values(nbformat.read(path, as_version=4)) == {"a": 0.25, "n": 7}
    assert not list(tmp_path.glob(".*.ipynb"))  # the scratch copy is gone


def test_refresh_keeps_a_notebook_that_fails(tmp_path):
    path = tmp_path / "broken.ipynb"
    nb = _notebook({"a": "0.2"})
    nb.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('boom')"))
    nbformat.write(nb, path)
    before = path.read_bytes()
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "refresh.py"), str(path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "FAILED to execute, stored outputs kept" in result.stdout
    assert path.read_bytes() == before
