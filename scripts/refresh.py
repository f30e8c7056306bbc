"""Re-execute chapters and show how their glued numbers drift, before the stored outputs change.

``make refresh`` (or ``python scripts/refresh.py [NOTEBOOK ...]``, default: every book/*.ipynb)
executes each notebook with ``scripts/execute_notebooks.py``'s ``execute`` on a copy next to it
(same folder, so relative paths and the kernel behave as in ``make execute``), then prints, for
every value the notebook glues, the stored (old) value, the new one and the relative change,
and only then replaces the notebook with the re-executed copy. A chapter that fails to execute
is left untouched and reported. So a change in outputs becomes a reviewable table, not a
surprise in a diff of JSON.

Options: ``--dry-run`` prints the drift and keeps the stored notebooks as they are;
``--all`` also lists the values that did not change.

Exit status: 0 when every notebook executed (drift is information, not an error), 1 if one failed.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from execute_notebooks import execute  # noqa: E402  (a sibling script, not a package)

GLUE_PREFIX = "application/papermill.record/"


@dataclass(frozen=True)
class Drift:
    """One glued value before and after re-execution."""

    key: str
    old: object
    new: object

    @property
    def changed(self) -> bool:
        return self.old != self.new

    @property
    def relative(self) -> float | None:
        """``(new - old) / |old|`` for two numbers (``inf`` from 0 to non-zero), else None."""
        if not (_is_number(self.old) and _is_number(self.new)):
            return None
        if self.old == self.new:
            return 0.0
        if self.old == 0:
            return math.inf
        return (self.new - self.old) / abs(self.old)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def glued_values(notebook: nbformat.NotebookNode) -> dict[str, object]:
    """Return ``{key: value}`` for every value the notebook's stored outputs glue.

    Numbers and other Python literals are parsed from their ``text/plain`` repr; anything else
    (a figure, an object repr) is represented by its repr or by a short hash of its data.
    """
    values: dict[str, object] = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is None:
                continue
            data = output.get("data", {})
            text = data.get(GLUE_PREFIX + "text/plain")
            others = {k: v for k, v in data.items() if k.startswith(GLUE_PREFIX) and not k.endswith("text/plain")}
            if others:  # e.g. a glued figure: compare the data, show a hash
                blob = "".join(str(others[k]) for k in sorted(others))
                values[name] = f"<{', '.join(k[len(GLUE_PREFIX):] for k in sorted(others))} "
                values[name] += f"sha1 {hashlib.sha1(blob.encode()).hexdigest()[:10]}>"
                continue
            try:
                values[name] = ast.literal_eval(text) if text is not None else None
            except (ValueError, SyntaxError):
                values[name] = text
    return values


def compare(old: dict[str, object], new: dict[str, object]) -> list[Drift]:
    """Pair the old and new glued values by key (a key only on one side pairs with None)."""
    keys = list(old) + [k for k in new if k not in old]
    return [Drift(k, old.get(k), new.get(k)) for k in keys]


def format_drift(notebook: str, drifts: list[Drift], show_all: bool = False) -> list[str]:
    """Return the table lines for one notebook."""
    changed = [d for d in drifts if d.changed]
    lines = [f"{notebook}: {len(changed)} of {len(drifts)} glued values changed"]
    for d in drifts if show_all else changed:
        if d.old is None:
            rel = "new key"
        elif d.new is None:
            rel = "removed"
        elif d.relative is None:
            rel = "changed" if d.changed else "same"
        elif math.isinf(d.relative):
            rel = "from 0"
        else:
            rel = f"{d.relative:+.3%}"
        lines.append(f"  {d.key:32s} {_show(d.old):>16s} -> {_show(d.new):<16s} {rel}")
    return lines


def _show(value: object) -> str:
    if value is None:
        return "-"
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."


def _name(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def refresh(path: Path, dry_run: bool = False, show_all: bool = False) -> bool:
    """Re-execute ``path``, print the drift of its glued values, then store it; return success."""
    path = path.resolve()
    old = glued_values(nbformat.read(path, as_version=4))
    scratch = path.with_name(f".{path.stem}.refresh.ipynb")
    scratch.write_bytes(path.read_bytes())
    try:
        try:
            seconds = execute(scratch)
        except Exception as err:  # report any execution failure, keep the stored notebook, go on
            last_line = (str(err).strip().splitlines() or [""])[-1]
            print(f"{_name(path)}: FAILED to execute, stored outputs kept\n  {type(err).__name__}: {last_line}",
                  flush=True)
            return False
        new = glued_values(nbformat.read(scratch, as_version=4))
        lines = format_drift(_name(path), compare(old, new), show_all)
        lines[0] += f" (executed in {seconds:.1f} s)"
        print("\n".join(lines), flush=True)
        if not dry_run:
            os.replace(scratch, path)
        return True
    finally:
        scratch.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every book/*.ipynb")
    parser.add_argument("--dry-run", action="store_true", help="print the drift, keep the stored notebooks")
    parser.add_argument("--all", action="store_true", help="also list the values that did not change")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(p for p in (ROOT / "book").glob("*.ipynb") if not p.name.startswith("."))
    ok = [refresh(p, dry_run=args.dry_run, show_all=args.all) for p in paths]
    if args.dry_run:
        print("dry run: stored notebooks unchanged")
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
