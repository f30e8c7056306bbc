"""Root pytest configuration.

1. Kernels started by nbval inherit the environment that ``make execute`` used to make the stored
   outputs (``aebook.reproducible``): ``AEBOOK_PROGRESS=0``, so ``aebook.fit`` draws no bar, and
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
"""

from __future__ import annotations

import os

import pytest

from aebook.reproducible import notebook_environment

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


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _chapter_times:
        return
    terminalreporter.section("chapter execution times under nbval")
    for notebook, (seconds, load) in sorted(_chapter_times.items()):
        terminalreporter.write_line(
            f"{notebook:40s} {seconds:6.1f} s   budget {budget_for(load):4.0f} s   (1-min load {load:.1f})"
        )
