"""Checks on the book's sources that need no browser and no kernel: the table of contents, the
configuration, the API page, and the hygiene of every chapter notebook in ``_toc.yml``.

Each check states the rule it keeps (see ../shared/design.md and the notebook rules), so a
failure says what to fix. The chapters are read from ``_toc.yml``, never from a fixed list.
"""

from __future__ import annotations

import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

import aebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from launch import COLAB_CELL  # noqa: E402

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC_FILE = ROOT / "_toc.yml"


def toc_docnames() -> list[str]:
    toc = yaml.safe_load(TOC_FILE.read_text())
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return [re.sub(r"\.(md|ipynb)$", "", n) for n in names]


DOCNAMES = toc_docnames()
NOTEBOOKS = [ROOT / f"{d}.ipynb" for d in DOCNAMES if (ROOT / f"{d}.ipynb").exists()]
GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`([^`:]+)(?::[^`]*)?`")


# ----------------------------------------------------------------------------- toc and config
def test_every_toc_entry_exists():
    missing = [d for d in DOCNAMES if not any((ROOT / f"{d}{s}").exists() for s in (".md", ".ipynb"))]
    assert not missing, f"_toc.yml lists {missing}, which have no .md or .ipynb file"


def test_every_chapter_file_is_in_the_toc():
    # only_build_toc_files is on, so a chapter missing from _toc.yml is silently not built.
    files = sorted(p for p in (ROOT / "book").glob("*") if p.suffix in (".md", ".ipynb") and not p.name.startswith("."))
    orphans = [str(p.relative_to(ROOT)) for p in files if str(p.relative_to(ROOT).with_suffix("")) not in DOCNAMES]
    assert not orphans, f"{orphans} are not in _toc.yml, so the book does not show them"


def test_config_keeps_its_invariants():
    assert CONFIG["execute"]["execute_notebooks"] == "off", "stored outputs are the source of truth"
    assert ".venv" in CONFIG["exclude_patterns"], "without it Sphinx parses site-packages (toolchain pitfall 6)"
    assert CONFIG["only_build_toc_files"] is True
    sphinx = CONFIG["sphinx"]["config"]
    assert sphinx["nb_kernel_rgx_aliases"] == {".*": "python3"}
    for bib in CONFIG["bibtex_bibfiles"]:
        assert (ROOT / bib).exists(), f"bibtex file {bib} is missing"
    assert "sphinxcontrib.bibtex" in sphinx["extensions"] and "sphinx.ext.autodoc" in sphinx["extensions"]


def test_launch_buttons_have_a_repository():
    # The theme's launch-button code crashes the build on notebook pages without a repository URL.
    launch = CONFIG.get("launch_buttons") or {}
    wanted = [k for k in ("colab_url", "binderhub_url", "jupyterhub_url", "deepnote_url") if launch.get(k)]
    if wanted:
        assert (CONFIG.get("repository") or {}).get("url"), f"{wanted} need repository.url in _config.yml"


# Modules whose names are all implementation detail: their public face is re-exported at the
# top level (aebook.fit, aebook.fit_many, ...), which the API page documents.
INTERNAL_MODULES = {"engine"}


def test_api_page_covers_every_public_module():
    """Each public submodule is on the API page, or re-exported at the top level, or internal."""
    if "book/api" not in DOCNAMES:
        pytest.skip("book/api is not in _toc.yml")
    text = (ROOT / "book" / "api.md").read_text()
    assert re.search(r"automodule:: aebook\s*$", text, re.MULTILINE), "api.md must document the top level"
    exported_from = {getattr(getattr(aebook, n), "__module__", None) for n in aebook.__all__}
    missing = []
    for info in pkgutil.iter_modules(aebook.__path__):
        name = info.name
        if name.startswith("_") or name in INTERNAL_MODULES:
            continue
        if f"automodule:: aebook.{name}" not in text and f"aebook.{name}" not in exported_from:
            missing.append(f"aebook.{name}")
    assert not missing, (
        f"{missing} are public modules that book/api.md does not document and aebook does not re-export; "
        "add an automodule section to book/api.md (or name the module with a leading underscore)"
    )


# ----------------------------------------------------------------------------- chapter hygiene
def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.fixture(params=NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
def notebook(request):
    return request.param, nbformat.read(request.param, as_version=4)


def test_notebook_kernel_and_title(notebook):
    path, nb = notebook
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{path.name}: kernelspec must be python3"
    cells = list(nb.cells)
    # the launch cell (scripts/launch.py COLAB_CELL, hidden on the site) may come before the title
    if cells and cells[0].cell_type == "code" and cells[0].source == COLAB_CELL:  # its tag: test_launch.py
        cells = cells[1:]
    first = cells[0] if cells else None
    assert first is not None and first.cell_type == "markdown" and first.source.startswith("# "), (
        f"{path.name}: the first cell (after the Colab cell) must be markdown starting with '# Title'"
    )


def test_notebook_was_executed_top_to_bottom(notebook):
    # Stored outputs come from `make execute` (one clean run, top to bottom), never from hand edits.
    path, nb = notebook
    counts = [c.get("execution_count") for c in _code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..{len(counts)}; "
        f"run `make execute NB={path.relative_to(ROOT)}`"
    )


def test_notebook_outputs_are_stable_and_clean(notebook):
    path, nb = notebook
    problems = []
    for i, cell in enumerate(_code_cells(nb), start=1):
        tags = cell.metadata.get("tags", [])
        for out in cell.get("outputs", []):
            if out.output_type == "error" and "raises-exception" not in tags:
                problems.append(f"code cell {i} stores an error ({out.ename}) but is not tagged raises-exception")
            data = out.get("data", {})
            if any(k.endswith("image/svg+xml") for k in data):
                problems.append(f"code cell {i} stores an SVG (nbval compares it; use PNG)")
            if "application/vnd.jupyter.widget-view+json" in data:
                problems.append(f"code cell {i} stores a widget (a progress bar?): set progress off")
            if re.search(r"at 0x[0-9a-f]{6,}", data.get("text/plain", "")):
                problems.append(f"code cell {i} prints an object repr with an address; end plot cells with plt.show()")
    if "widgets" in nb.metadata:
        problems.append("notebook metadata holds widget state")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def test_notebook_glues_every_key_it_pastes_and_rounds_them(notebook):
    path, nb = notebook
    glued = {}
    for cell in _code_cells(nb):
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None:
                glued[name] = out.get("data", {}).get("application/papermill.record/text/plain", "")
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    pasted = set(GLUE_ROLE.findall(prose))
    unresolved = sorted(k for k in pasted if "::" not in k and k not in glued)
    assert not unresolved, f"{path.name}: the prose pastes {unresolved}, which no stored output glues"
    # A raw float repr (up to 17 significant digits) changes in its last digits between machines
    # and makes nbval flaky: glue rounded values, e.g. round(v, 6) or float(f"{v:.4g}").
    raw = {k: v for k, v in glued.items() if (significant_digits(v) or 0) > 10}
    assert not raw, f"{path.name}: glue rounded numbers, not raw floats: {raw}"


def significant_digits(text: str) -> int | None:
    """Return the significant digits of a float repr such as '0.012345' or '1.5e-05', else None."""
    if not re.fullmatch(r"-?(\d+\.\d*|\d*\.\d+|\d+(\.\d*)?e[-+]?\d+)", text.strip()):
        return None
    mantissa = text.strip().lstrip("-").split("e")[0].replace(".", "")
    return len(mantissa.strip("0")) or 1


def test_significant_digits():
    assert significant_digits("0.012345") == 5
    assert significant_digits("1.5e-05") == 2
    assert significant_digits("0.49998234567891234") == 17
    assert significant_digits("7") is None and significant_digits("'text'") is None


# ----------------------------------------------------------------------------- the time budget can fail
def test_chapter_time_budget_fails_a_slow_chapter(tmp_path):
    """The root conftest's budget check reports a chapter that takes longer than its budget."""
    for name in ("conftest.py", "nbval_compare.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Slow"), nbformat.v4.new_code_cell("import time\ntime.sleep(2)")]
    nbformat.write(nb, tmp_path / "slow.ipynb")
    env = {**os.environ, "AEBOOK_CHAPTER_BUDGET_S": "0.2"}  # even at load 8 on 2 cores: 0.8 s < 2 s
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env", "slow.ipynb"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert "FAILED ::chapter time budget" in result.stdout
    assert "slow.ipynb:" in result.stdout and "> budget" in result.stdout
