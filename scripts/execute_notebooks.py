"""Re-execute chapter notebooks in place, top to bottom, with the project's own kernel.

This is the only way stored outputs are produced (``make execute``). The kernel runs in the
environment of ``aebook.notebook`` (no progress bars, a fixed CPU code path), the same one
that nbval's kernels get, and per-cell timing metadata is not recorded, so a re-run only
changes what really changed.

Usage: python scripts/execute_notebooks.py [NOTEBOOK ...]   (default: every book/*.ipynb)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from aebook.notebook import notebook_environment

ROOT = Path(__file__).resolve().parent.parent


def execute(path: Path, timeout: int = 600) -> float:
    """Execute ``path`` in place in its own folder; return the wall time in seconds."""
    notebook_environment()  # the kernel inherits it: no progress bars, a fixed CPU code path
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)
    return seconds


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted((ROOT / "book").glob("*.ipynb"))
    for path in paths:
        print(f"executing {path} ...", flush=True)
        print(f"  done in {execute(path.resolve()):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
