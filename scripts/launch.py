"""Launch buttons, one setting away: ``make book REPO_URL=https://github.com/OWNER/REPO``.

Two jobs, both driven by the repository's public URL:

* ``config URL`` writes ``_build/launch/_config.yml``: the book's ``_config.yml`` with
  ``repository.url`` set and the Colab and Binder launch buttons turned on, for
  ``jupyter-book build --config``; it prints the file's path. Without ``REPO_URL`` the book is built
  from ``_config.yml`` itself, which has no URL and no launch buttons.
* ``check HTML_DIR [URL]`` checks a built site: with a URL, every chapter notebook's page links to
  Colab (``https://colab.research.google.com/github/OWNER/REPO/blob/BRANCH/book/CH.ipynb``) and to
  Binder (``https://mybinder.org/v2/gh/OWNER/REPO/BRANCH?urlpath=...book/CH.ipynb``); without one,
  no page has a launch link. Exit status 1 on a problem.

* ``stamp URL`` writes the URL into the first cell of every chapter notebook (``COLAB_CELL``),
  the line ``REPO_URL = "..."``; ``make book REPO_URL=...`` runs it, so the notebooks that
  Colab opens from the repository know where to clone it from. Commit the stamped notebooks when
  you publish.

A chapter launched on Colab runs that first cell: where ``aebook`` is missing it clones the
repository, installs ``aebook`` and changes into ``book/``; elsewhere (Binder, a local clone,
nbval) it does nothing and prints nothing. Binder installs ``binder/requirements.txt`` (torch's
CPU build) and runs ``binder/postBuild`` (``pip install -e .``).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
GITHUB = re.compile(r"^https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)/?$")


def parse_url(url: str) -> tuple[str, str]:
    """Return (owner, repo) of a ``https://github.com/OWNER/REPO`` URL; raise ValueError otherwise."""
    match = GITHUB.match(url.strip())
    if not match:
        raise ValueError(f"REPO_URL must look like https://github.com/OWNER/REPO, got {url!r}.")
    return match["owner"], match["repo"]


def write_config(url: str, out: Path = ROOT / "_build" / "launch" / "_config.yml") -> Path:
    """Write the book's config with ``repository.url`` and the Colab/Binder buttons on; return its path."""
    parse_url(url)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["repository"]["url"] = url.strip().rstrip("/")
    config["launch_buttons"].update({"colab_url": "https://colab.research.google.com",
                                     "binderhub_url": "https://mybinder.org"})
    # paths in the config are read relative to the book's root, not to this file
    config["bibtex_bibfiles"] = [str(ROOT / name) for name in config["bibtex_bibfiles"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(config, sort_keys=False))
    return out


#: The first cell of every chapter notebook (tagged remove-cell: the site does not show it).
COLAB_CELL = '''# On Colab (or anywhere aebook is missing): fetch the book's code first.
REPO_URL = ""  # written by `make book REPO_URL=https://github.com/OWNER/REPO`
try:
    import aebook  # noqa: F401
except ModuleNotFoundError:
    import os
    import subprocess
    import sys

    if not REPO_URL:
        raise RuntimeError(
            "aebook is not installed and this notebook has no REPO_URL: "
            "clone the book's repository and run the chapter from its book/."
        ) from None
    clone = ["git", "clone", "--depth", "1", REPO_URL, "ae-book"]
    subprocess.run(clone, check=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--no-deps", "-e", "ae-book"], check=True)
    subprocess.run([*pip, "myst-nb==1.4.0"], check=True)  # glue
    os.chdir("ae-book/book")
    sys.path[:0] = [os.getcwd(), os.path.dirname(os.getcwd())]'''  # no final newline, as ruff format
REPO_LINE = re.compile(r'^REPO_URL = "[^"]*"', re.MULTILINE)


def stamp(url: str) -> list[Path]:
    """Write ``url`` into the ``REPO_URL = "..."`` line of each chapter's first cell; return the changed files."""
    parse_url(url)
    changed = []
    for chapter in chapters():
        path = ROOT / f"{chapter}.ipynb"
        text = path.read_text()
        notebook = json.loads(text)
        first = notebook["cells"][0]
        source = "".join(first["source"])
        if first["cell_type"] != "code" or not REPO_LINE.search(source):
            raise ValueError(f"{path.name}: its first cell is not the Colab cell (scripts/launch.py COLAB_CELL).")
        new = REPO_LINE.sub(f'REPO_URL = "{url.strip().rstrip("/")}"', source, count=1)
        if new != source:
            first["source"] = new.splitlines(keepends=True)
            path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
            changed.append(path)
    return changed


def chapters() -> list[str]:
    """Return the notebook chapters of ``_toc.yml``, e.g. ``["book/linear_mse", ...]``."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [c["file"] for c in toc["chapters"] if (ROOT / f"{c['file']}.ipynb").exists()]


def check_site(html: Path, url: str | None) -> list[str]:
    """Return the problems with the launch links of the site in ``html`` (empty: all is well)."""
    problems = []
    branch = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"].get("branch", "main")
    for chapter in chapters():
        page = (html / f"{chapter}.html").read_text()
        if url is None:
            if "colab.research.google.com" in page or "mybinder.org" in page:
                problems.append(f"{chapter}: launch links without REPO_URL")
            continue
        owner, repo = parse_url(url)
        colab = f"https://colab.research.google.com/github/{owner}/{repo}/blob/{branch}/{chapter}.ipynb"
        binder = f"https://mybinder.org/v2/gh/{owner}/{repo}/{branch}?urlpath="
        if colab not in page:
            problems.append(f"{chapter}: no Colab link {colab}")
        if binder not in page or f"{chapter}.ipynb" not in page.split(binder, 1)[-1][:300]:
            problems.append(f"{chapter}: no Binder link {binder}...{chapter}.ipynb")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "config":
        print(write_config(argv[1]))
        return 0
    if len(argv) == 2 and argv[0] == "stamp":
        for path in stamp(argv[1]):
            print(f"REPO_URL written into {path.relative_to(ROOT)}")
        return 0
    if len(argv) in (2, 3) and argv[0] == "check":
        problems = check_site(Path(argv[1]), argv[2] if len(argv) == 3 else None)
        for line in problems:
            print(line)
        print("launch links: OK" if not problems else f"launch links: {len(problems)} problem(s)")
        return 1 if problems else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
