"""Launch buttons one setting away (scripts/launch.py): the config, the site check, the Colab cell, Binder's files."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import launch  # noqa: E402

URL = "https://github.com/example/aebook"


def test_parse_url_accepts_github_and_explains_anything_else():
    assert launch.parse_url(URL) == ("example", "aebook")
    assert launch.parse_url(URL + "/") == ("example", "aebook")
    for bad in ("", "github.com/example/aebook", "https://gitlab.com/a/b", "https://github.com/only-owner"):
        with pytest.raises(ValueError, match="OWNER/REPO"):
            launch.parse_url(bad)


def test_the_launch_config_turns_on_colab_and_binder(tmp_path):
    path = launch.write_config(URL, tmp_path / "_config.yml")
    config = yaml.safe_load(path.read_text())
    assert config["repository"]["url"] == URL
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert all(Path(f).is_absolute() and Path(f).exists() for f in config["bibtex_bibfiles"])
    plain = yaml.safe_load((ROOT / "_config.yml").read_text())  # the book's own: no URL, no buttons
    assert not plain["repository"]["url"] and "colab_url" not in plain["launch_buttons"]


def _site(tmp_path: Path, links: bool) -> Path:
    for chapter in launch.chapters():
        page = tmp_path / f"{chapter}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        body = ""
        if links:
            body = (f'<a href="https://colab.research.google.com/github/example/aebook/blob/main/{chapter}.ipynb">'
                    f'<a href="https://mybinder.org/v2/gh/example/aebook/main?urlpath=tree/{chapter}.ipynb">')
        page.write_text(f"<html>{body}</html>")
    return tmp_path


def test_the_site_check_finds_missing_and_unwanted_links(tmp_path):
    with_links = _site(tmp_path / "a", links=True)
    without = _site(tmp_path / "b", links=False)
    assert launch.check_site(with_links, URL) == []
    assert launch.check_site(without, None) == []
    assert len(launch.check_site(without, URL)) == 2 * len(launch.chapters())
    assert len(launch.check_site(with_links, None)) == len(launch.chapters())


def test_every_chapter_starts_with_the_colab_cell():
    assert launch.chapters(), "no notebook chapters in _toc.yml"
    for chapter in launch.chapters():
        first = json.loads((ROOT / f"{chapter}.ipynb").read_text())["cells"][0]
        assert first["cell_type"] == "code" and "".join(first["source"]) == launch.COLAB_CELL, chapter
        assert first["metadata"].get("tags") == ["remove-cell"] and first["outputs"] == [], chapter


def test_the_colab_cell_does_nothing_where_aebook_is_installed():
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        exec(compile(launch.COLAB_CELL, "colab-cell", "exec"), {})
    assert out.getvalue() == ""


def test_stamp_writes_the_url_into_the_first_cell(tmp_path, monkeypatch):
    book = tmp_path / "book"
    book.mkdir()
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/ch\n")
    cell = {"cell_type": "code", "metadata": {"tags": ["remove-cell"]}, "outputs": [], "execution_count": None,
            "source": launch.COLAB_CELL.splitlines(keepends=True)}
    (book / "ch.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                               "nbformat_minor": 5}))
    monkeypatch.setattr(launch, "ROOT", tmp_path)
    assert launch.stamp(URL) == [book / "ch.ipynb"]
    source = "".join(json.loads((book / "ch.ipynb").read_text())["cells"][0]["source"])
    assert f'REPO_URL = "{URL}"' in source and source.count("REPO_URL = ") == 1
    assert launch.stamp(URL) == []  # idempotent
    with pytest.raises(ValueError, match="OWNER/REPO"):
        launch.stamp("not a url")


def test_binder_installs_the_cpu_torch_and_aebook():
    requirements = (ROOT / "binder" / "requirements.txt").read_text()
    assert "download.pytorch.org/whl/cpu" in requirements and "-r ../requirements.txt" in requirements
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK) and "pip install --no-deps -e ." in post_build.read_text()
