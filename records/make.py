"""Make a record: a run too long for a chapter, saved as ``records/NAME.json`` for the chapter to read.

Each record is made by a committed function of its chapter's code (``book/<chapter>.py``);
this runner calls it and writes what it returns. From the repository root::

    .venv/bin/python records/make.py NAME [--out PATH]

``NAME`` is one of ``RECORDS`` below. The runs take minutes on an idle 2-core CPU (see each
function's docstring); a run that saves partial results as it goes writes them to the same file.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOOK = HERE.parent / "book"

#: record name -> (chapter module under book/, the function in it that makes the record)
RECORDS = {
    "original_question_full": ("original_question", "run_full_scale"),
    "bottleneck_convergence": ("bottleneck", "run_convergence"),
}


def maker(name: str) -> Callable[..., dict]:
    """Return the chapter function that makes record ``name``."""
    if name not in RECORDS:
        raise ValueError(f"unknown record {name!r}; choose one of {', '.join(map(repr, RECORDS))}.")
    if str(BOOK) not in sys.path:
        sys.path.insert(0, str(BOOK))
    module, function = RECORDS[name]
    return getattr(importlib.import_module(module), function)


def write(record: dict, out: Path) -> None:
    """Write ``record`` to ``out`` as indented JSON."""
    out.write_text(json.dumps(record, indent=1) + "\n")


def make(name: str, out: Path | None = None, **kwargs: object) -> dict:
    """Run the function that makes record ``name`` (``kwargs`` go to it) and write ``records/NAME.json`` (or ``out``).

    Returns the record. A function that takes ``log`` prints its progress lines; one that takes
    ``save`` is given one that writes its partial records to the same file.
    """
    out = Path(out) if out is not None else HERE / f"{name}.json"
    function = maker(name)
    parameters = inspect.signature(function).parameters
    if "log" in parameters:
        kwargs.setdefault("log", lambda line: print(line, flush=True))
    if "save" in parameters:
        kwargs.setdefault("save", lambda partial: write(partial, out))
    record = function(**kwargs)
    write(record, out)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(RECORDS), help="the record to make")
    parser.add_argument("--out", type=Path, default=None, help="where to write it (default: records/NAME.json)")
    args = parser.parse_args(argv)
    make(args.name, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
