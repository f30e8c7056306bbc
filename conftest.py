"""Root pytest configuration.

1. Kernels started by nbval inherit the environment that ``make execute`` used to make the stored
   outputs (``aebook.notebook``): ``AEBOOK_PROGRESS=0``, so ``aebook.fit`` draws no bar, and
   on x86-64 the CPU code path that makes the numbers the same on Intel and AMD processors.

2. Each chapter keeps to a time budget. The nbval run already executes every chapter, so its
   time is measured there, not by executing the notebooks again: the durations of the setup,
   call and teardown phases of a notebook's nbval items are summed (kernel start and shutdown
   included). One last test, ``chapter time budget``, is appended after the notebooks and fails
   if a chapter took longer than its budget.

   The budget is a generous ceiling, not a benchmark: chapters are written to run in about
   35 s alone on a 2-core CPU, and the ceiling is ``AEBOOK_CHAPTER_BUDGET_S`` (default 60 s),
   the "well under a minute" of the design. Wall time of CPU-bound work grows with the load of
   a shared machine, so when the 1-minute load average seen during a chapter exceeds the
   number of cores, its budget grows by the same factor (load / cores); a chapter that grows
   to minutes on an idle machine still fails. The times are printed in the terminal summary.

3. Stored outputs are compared more strictly than nbval does by itself (``nbval_compare.py``,
   next to this file, holds the rules and the reasons for their thresholds): decimal numbers in
   text outputs to 5 significant digits, integers exactly (``nbval_sanitize.cfg`` keeps only the
   tqdm and memory-address replacements), and every PNG figure against the stored one within an
   RMS tolerance, from the outputs of the same nbval run. A figure that differs fails its cell;
   the stored, fresh and difference images are kept under ``_build/nbval-figure-diffs/``
   (``AEBOOK_FIGURE_DIFF_DIR``), and the largest RMS seen is printed in the terminal summary.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from nbval.plugin import IPyNbCell, NbCellError

import nbval_compare
from aebook.notebook import notebook_environment

notebook_environment()  # inherited by every kernel nbval starts

BUDGET_S = float(os.environ.get("AEBOOK_CHAPTER_BUDGET_S", "60"))
CORES = os.cpu_count() or 1

# notebook path (as in the node id) -> [seconds, highest 1-minute load average seen]
_chapter_times: dict[str, list[float]] = {}


def _notebook_of(nodeid: str) -> str | None:
    path = nodeid.split("::", 1)[0]
    return path if path.endswith(".ipynb") else None


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover - not available on this platform
        return 0.0


def budget_for(load: float) -> float:
    """Return the time budget in seconds for a chapter that ran at this 1-minute load average."""
    return BUDGET_S * max(1.0, load / CORES)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    notebook = _notebook_of(report.nodeid)
    if notebook is not None:
        seconds, load = _chapter_times.setdefault(notebook, [0.0, 0.0])
        _chapter_times[notebook] = [seconds + report.duration, max(load, _load())]


class ChapterTimeBudget(pytest.Item):
    """Fails if a chapter executed under nbval took longer than its budget (see module docstring)."""

    def runtest(self) -> None:
        slow = [
            f"{notebook}: {seconds:.1f} s > budget {budget_for(load):.0f} s (1-min load {load:.1f} on {CORES} cores)"
            for notebook, (seconds, load) in sorted(_chapter_times.items())
            if seconds > budget_for(load)
        ]
        if slow:
            raise ChapterTooSlow(
                "chapters over their time budget (make them smaller, or move the large run behind a flag):\n  "
                + "\n  ".join(slow)
            )

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ChapterTooSlow):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, "chapter time budget"


class ChapterTooSlow(Exception):
    """A chapter took longer than its time budget."""


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Append the time-budget check after the notebooks, if any notebook is to run."""
    if any(_notebook_of(item.nodeid) for item in items):
        items.append(ChapterTimeBudget.from_parent(session, name="chapter time budget"))


# ------------------------------------------------------------------ numbers and figures (item 3)
FIGURE_DIFF_DIR = Path(
    os.environ.get("AEBOOK_FIGURE_DIFF_DIR") or Path(__file__).resolve().parent / "_build" / "nbval-figure-diffs"
)
_figures = {"figures": 0, "cells": 0, "max_rms": 0.0, "max_at": "", "failed": 0}


def pytest_itemcollected(item: pytest.Item) -> None:
    if isinstance(item, IPyNbCell):
        nbval_compare.use_significant_digits(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if call.when == "call" and isinstance(item, IPyNbCell):
        _check_figures(item, call, report)
    return report


def _check_figures(item: IPyNbCell, call: pytest.CallInfo, report: pytest.TestReport) -> None:
    """Fail a cell whose fresh figures differ from its stored ones (see ``nbval_compare``)."""
    if not item.options["check"] or item.cell.execution_count is None or item.test_outputs is None:
        return  # nbval does not compare this cell's outputs (tag, --nbval-lax, unrun cell)
    if report.skipped:
        return
    if call.excinfo is not None and not (
        isinstance(call.excinfo.value, NbCellError) and str(call.excinfo.value) == "Cell outputs differ"
    ):
        return  # the cell raised or timed out: its outputs are incomplete
    notebook = _notebook_of(item.nodeid) or str(item.path)
    keep = FIGURE_DIFF_DIR / Path(notebook).stem / f"cell{item.cell_num}"
    shutil.rmtree(keep, ignore_errors=True)  # only this run's mismatches stay there
    result = nbval_compare.compare_figures(item.cell.outputs, item.test_outputs, keep_dir=keep)
    if result.rms:
        _figures["cells"] += 1
        _figures["figures"] += len(result.rms)
        if max(result.rms) >= _figures["max_rms"]:
            _figures["max_rms"], _figures["max_at"] = max(result.rms), f"{notebook}::Cell {item.cell_num}"
    if result.ok:
        return
    _figures["failed"] += 1
    message = (
        f"{notebook}::Cell {item.cell_num}: figures differ from the stored outputs\n  "
        + "\n  ".join(result.problems)
        + f"\n\nInput:\n{item.cell.source}"
    )
    if report.passed:
        report.outcome = "failed"
        report.longrepr = message
    else:  # nbval already failed the cell on its text outputs: add the figures to its report
        report.sections.append(("figures", message))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if _figures["figures"] or _figures["failed"]:
        terminalreporter.section("figures compared with the stored outputs")
        where = f" ({_figures['max_at']})" if _figures["max_rms"] > 0 else " (all pixel-identical)"
        terminalreporter.write_line(
            f"{_figures['figures']} figures in {_figures['cells']} cells, largest RMS difference "
            f"{_figures['max_rms']:.3f}{where}, tolerance {nbval_compare.FIGURE_RMS_TOLERANCE} (0-255 scale)"
        )
        if _figures["failed"]:
            terminalreporter.write_line(
                f"{_figures['failed']} cell(s) with differing figures; images kept under {FIGURE_DIFF_DIR}"
            )
    if not _chapter_times:
        return
    terminalreporter.section("chapter execution times under nbval")
    for notebook, (seconds, load) in sorted(_chapter_times.items()):
        terminalreporter.write_line(
            f"{notebook:40s} {seconds:6.1f} s   budget {budget_for(load):4.0f} s   (1-min load {load:.1f})"
        )
