"""The core's shape: layers that only import downwards, a plot module apart, and no matplotlib on import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import aebook

PACKAGE = Path(aebook.__file__).parent

#: Bottom to top. A module may import only modules listed before it.
#: ``callbacks`` (the Keras callback) is on top: nothing in aebook imports it, so ``import aebook`` loads no Keras.
LAYERS = ["data", "losses", "models", "floors", "engine", "train", "evaluate", "diagnose", "callbacks"]
#: Apart from the stack: they import nothing from aebook.
STANDALONE = {"plot", "notebook", "records"}


def _internal_imports(path: Path) -> set[str]:
    """The aebook modules that the module at ``path`` imports (``from .x import`` / ``from . import x``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("aebook"):
            found.add((node.module or "aebook.").split(".")[1] if "." in (node.module or "") else "__init__")
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("aebook."))
    return found


def test_every_module_is_placed_in_a_layer():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert modules == set(LAYERS) | STANDALONE


def test_the_core_stays_small():
    """Twelve modules and 1,800 lines, plus the records and callbacks modules that their issues added (own budgets)."""
    files = sorted(p for p in PACKAGE.glob("*.py") if p.stem not in ("records", "callbacks"))
    lines = sum(len(p.read_text().splitlines()) for p in files)
    assert len(files) <= 12 and lines <= 1800, (len(files), lines)
    assert len((PACKAGE / "records.py").read_text().splitlines()) <= 150
    assert len((PACKAGE / "callbacks.py").read_text().splitlines()) < 80


def test_modules_import_only_downwards_so_there_are_no_cycles():
    for name in LAYERS:
        below = set(LAYERS[: LAYERS.index(name)])
        upward = _internal_imports(PACKAGE / f"{name}.py") - below
        assert not upward, f"aebook.{name} imports {sorted(upward)}, which are not below it in {LAYERS}"
    for name in STANDALONE:
        assert not _internal_imports(PACKAGE / f"{name}.py"), f"aebook.{name} must import nothing from aebook"


def test_first_docstring_line_names_the_module_s_job():
    for path in PACKAGE.glob("*.py"):
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc and len(doc.splitlines()[0]) > 20, f"{path.name} needs a first docstring line saying its job"


def _loaded_modules(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True, timeout=120)
    return set(out.stdout.split())


def test_import_aebook_does_not_load_matplotlib_until_plot_is_used():
    assert "matplotlib" not in _loaded_modules("import aebook")
    assert "matplotlib" in _loaded_modules("import aebook\naebook.plot.new_axes")


def test_diagnose_help_does_not_load_matplotlib():
    code = "import sys, runpy\nsys.argv = ['aebook', 'diagnose', '--help']\ntry:\n"
    code += "    runpy.run_module('aebook', run_name='__main__')\nexcept SystemExit:\n    pass"
    assert "matplotlib" not in _loaded_modules(code)
