"""Make or check the records: runs too long for a chapter, saved as ``records/NAME.json`` for the chapter to read.

Each record is made by a committed function of its chapter's code (``book/<chapter>.py``) that
returns an ``aebook.records`` record. From the repository root::

    .venv/bin/python records/make.py NAME [NAME ...]     # remake (make records NAME=...)
    .venv/bin/python records/make.py --all               # remake every record, one after another
    .venv/bin/python records/make.py --check NAME        # re-run the record's check; exit 1 on a mismatch

Every run here uses one thread and the pinned CPU code path of ``aebook.notebook`` (set before
torch starts), so that a check reproduces the numbers of the run that made the record. Records take
minutes each (see README); never run them beside the test suite: on 2 cores that slows both.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: record name -> (chapter module under book/, the function in it that makes the record, its arguments)
RECORDS: dict[str, tuple[str, str, dict]] = {
    "original_question_full": ("original_question", "run_full_scale", {}),
    "bottleneck_convergence": ("bottleneck", "run_convergence", {}),
    "linear_mse_slow_lr": ("linear_mse", "run_slow_lr", {}),
    "readers_network_relu_sigmoid": ("original_question", "run_readers_network", {"group": "relu sigmoid"}),
    "readers_network_relu_linear": ("original_question", "run_readers_network", {"group": "relu linear"}),
    "readers_network_linear": ("original_question", "run_readers_network", {"group": "linear"}),
    "keras_reader": ("keras_reader", "run_keras", {}),
    "linear_mse_deep_stack": ("linear_mse", "run_deep_stack", {}),
    "deep_grid_linear": ("deep_grid", "run_reader_scale", {"architecture": "linear"}),
    "deep_grid_leaky_relu": ("deep_grid", "run_reader_scale", {"architecture": "leaky_relu"}),
    "deep_grid_relu": ("deep_grid", "run_reader_scale", {"architecture": "relu"}),
}


def _prepare() -> None:
    """Pin the environment before torch is imported: one thread, the stored-output CPU code path."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(ROOT))
    from aebook.notebook import notebook_environment  # noqa: E402  (imports torch after the variables)

    notebook_environment()
    import torch

    torch.set_num_threads(1)
    if str(ROOT / "book") not in sys.path:
        sys.path.insert(0, str(ROOT / "book"))


def maker(name: str) -> Callable[..., dict]:
    """Return the chapter function that makes record ``name``."""
    if name not in RECORDS:
        raise ValueError(f"unknown record {name!r}; choose one of {', '.join(map(repr, RECORDS))}.")
    module, function, kwargs = RECORDS[name]
    return functools.partial(getattr(importlib.import_module(module), function), **kwargs)


def make(name: str) -> Path:
    """Run the function that makes record ``name`` and write ``records/NAME.json``; return its path."""
    from aebook.records import save_record

    start = time.perf_counter()
    path = save_record(maker(name)(log=lambda line: print(line, flush=True)), HERE / f"{name}.json")
    print(f"{name}: written to {path} in {time.perf_counter() - start:.0f} s", flush=True)
    return path


def check(name: str) -> list[str]:
    """Re-run the check of record ``name`` (its ``check.made_by`` with ``check.kwargs``); return the mismatches."""
    from aebook.records import check_values, load_record

    record = load_record(HERE / f"{name}.json")
    spec = record["check"]
    path, function = spec["made_by"].split(":")
    fresh = getattr(importlib.import_module(Path(path).stem), function)(**spec["kwargs"])
    series = fresh["series"]
    return check_values(record, {k: series[k][: len(v)] for k, v in spec["values"].items() if k in series})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"the record(s): {', '.join(sorted(RECORDS))}")
    parser.add_argument("--all", action="store_true", help="make every record")
    parser.add_argument("--check", action="store_true", help="re-run each named record's check instead")
    args = parser.parse_args(argv)
    names = sorted(RECORDS) if args.all else args.names
    if not names:
        parser.error("name a record, or give --all")
    unknown = [name for name in names if name not in RECORDS]
    if unknown:
        parser.error(f"unknown record(s) {unknown}; choose from {', '.join(sorted(RECORDS))}")
    _prepare()
    if not args.check:
        for name in names:
            make(name)
        return 0
    failed = False
    for name in names:
        problems = check(name)
        print(f"{name}: {'OK' if not problems else 'MISMATCH'}")
        for line in problems:
            print(f"  {line}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
