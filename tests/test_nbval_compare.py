"""The comparison rules the root conftest adds to nbval (``nbval_compare.py``).

Numbers: decimal numbers compared to 5 significant digits, integers exactly, through nbval's own
``compare_outputs``. Figures: PNGs compared by RMS, a planted change fails, an identical figure
passes. The last test runs ``pytest --nbval`` on a small notebook with planted differences, so
the conftest hooks are checked as the chapters use them.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest
from nbval.plugin import IPyNbCell, get_sanitize_patterns, nocolors

import nbval_compare
from nbval_compare import (
    FIGURE_RMS_TOLERANCE,
    SIGNIFICANT_DIGITS,
    compare_figures,
    round_numbers,
    round_significant,
    use_significant_digits,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------- significant digits
def same(a: str, b: str) -> bool:
    return round_numbers(a) == round_numbers(b)


def test_five_significant_digits_is_the_setting():
    assert SIGNIFICANT_DIGITS == 5


def test_small_numbers_differ_where_four_decimals_hid_them():
    old_floats_rule = (r"(\d+\.\d{4})\d+", r"\1")  # what nbval_sanitize.cfg used to do
    assert re.sub(*old_floats_rule, "0.00011") == re.sub(*old_floats_rule, "0.00019")
    assert not same("0.00011", "0.00019")
    assert not same("standard error 1.1e-04", "standard error 1.9e-04")
    assert not same("excess 0.004947 nats", "excess 0.004948 nats")


def test_numbers_agree_to_five_significant_digits():
    assert same("0.123456", "0.123457")
    assert round_numbers("0.123456") == "0.12346"
    assert not same("0.12345", "0.12346")  # printed with 5 digits: compared in full
    assert same("a = 5.19936, b = -2.59968", "a = 5.19941, b = -2.59971")
    assert same("16.635532", "16.635528")
    assert not same("16.635532", "16.634532")


def test_rounding_is_exact_decimal_half_away_from_zero():
    assert round_significant("0.123455") == "0.12346"  # binary float 0.123455 is just below
    assert round_significant("0.123454") == "0.12345"
    assert round_significant("9.99996") == "10.0"  # the carry adds a digit
    assert round_numbers("-0.123456") == "-0.12346"


def test_integers_are_compared_exactly():
    assert round_numbers("938 steps, 1,890 epochs, 123456789 rows") == "938 steps, 1,890 epochs, 123456789 rows"
    assert not same("938 steps", "939 steps")
    assert not same("dead units [16, 22, 28, 16, 25]", "dead units [16, 22, 28, 16, 24]")
    assert not same("1234567", "1234568")


def test_scientific_notation():
    assert round_numbers("1.2345e-05") == "1.2345e-05"
    assert same("1.23456e-05", "1.23464e-05")
    assert not same("1.2345e-05", "1.2346e-05")
    assert same("1.2345E-05", "0.000012345")  # one canonical form, whatever the printing
    assert round_numbers("1e-05") == "1e-05"
    assert round_numbers("epochs to 1e-5") == "epochs to 1e-05"
    assert round_numbers("2.951e-08") == "2.951e-08"
    assert round_numbers("7.6e-04") == "0.00076"


def test_one_canonical_form_for_a_value():
    assert same("0.5", "0.50000")
    assert same("0.5", "0.500001")
    assert round_numbers("99.0") == "99.0" and not same("99.0", "99")  # a float stays a float
    assert round_numbers("0.000") == "0.0"
    assert round_numbers("123456.7") == "123460.0"


def test_text_that_is_not_a_decimal_number_is_left_alone():
    for text in ["torch 2.13.0", "127.0.0.1", "float32", "x_1.5", "[TQDM]", "at 0xADDR", "nan", "inf"]:
        assert round_numbers(text) == text
    assert round_numbers("loss 0.5062.") == "loss 0.5062."  # a full stop after a number
    assert round_numbers("0.80% of the floor, 7.61234ms") == "0.8% of the floor, 7.6123ms"


def fake_cell(patterns):
    """Enough of an nbval cell item to run nbval's own ``sanitize`` and ``compare_outputs``."""
    cell = types.SimpleNamespace(
        parent=types.SimpleNamespace(sanitize_patterns=dict(patterns), skip_compare=("metadata", "image/png")),
        colors=nocolors,
        format_output_compare=lambda *args: None,
    )
    cell.sanitize = types.MethodType(IPyNbCell.sanitize, cell)
    use_significant_digits(cell)
    return cell


def glue_output(text):
    return nbformat.from_dict(
        {
            "output_type": "display_data",
            "metadata": {"scrapbook": {"name": "x"}},
            "data": {"application/papermill.record/text/plain": text},
        }
    )


def stream(text):
    return nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": text})


@pytest.mark.parametrize(
    ("stored", "fresh", "equal"),
    [
        ("0.00011", "0.00019", False),
        ("0.123456", "0.123457", True),
        ("938", "939", False),
        ("1.2345e-05", "1.2345e-05", True),
        ("1.2345e-05", "1.2346e-05", False),
    ],
)
def test_nbval_compare_outputs_uses_significant_digits(stored, fresh, equal):
    patterns = get_sanitize_patterns((ROOT / "nbval_sanitize.cfg").read_text())
    cell = fake_cell(patterns)
    assert IPyNbCell.compare_outputs(cell, [glue_output(fresh)], [glue_output(stored)]) is equal
    line = "loss {} after 100%|##| 938/938 [00:01<00:00, {}it/s] at 0x7f{}\n"  # tqdm rate, address: replaced
    fresh_out, stored_out = stream(line.format(fresh, "812.3", "ab")), stream(line.format(stored, "9", "cd"))
    assert IPyNbCell.compare_outputs(cell, [fresh_out], [stored_out]) is equal


# -------------------------------------------------------------------------------------------- figures
def figure_png(label="lr = 0.001", scale=1.0, title="2 features", size=(6.0, 3.8)) -> bytes:
    """A figure like the chapters' (loss curves on a log scale, legend, grid) as PNG bytes."""
    fig, ax = plt.subplots(figsize=size, dpi=100)
    t = np.arange(1, 91)
    for i, lr in enumerate([1e-5, 1e-4, 1e-3, 1e-2]):
        y = 0.8 * np.exp(-t * lr * 300) + 1e-7
        ax.plot(t, y * scale if i == 2 else y, label=label if i == 2 else f"lr = {lr}")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training MSE per element")
    ax.legend()
    ax.grid(alpha=0.3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")  # as the inline backend does
    plt.close(fig)
    return buffer.getvalue()


def outputs(*pngs: bytes):
    return [
        nbformat.from_dict(
            {
                "output_type": "display_data",
                "metadata": {},
                "data": {"image/png": base64.b64encode(png).decode(), "text/plain": "<Figure>"},
            }
        )
        for png in pngs
    ]


@pytest.fixture(scope="module")
def base_png():
    return figure_png()


def test_identical_figures_pass(base_png, tmp_path):
    result = compare_figures(outputs(base_png), outputs(figure_png()), keep_dir=tmp_path / "keep")
    assert result.ok and result.rms == [0.0]
    assert not (tmp_path / "keep").exists()


def test_a_subpixel_change_passes(base_png):
    result = compare_figures(outputs(base_png), outputs(figure_png(scale=1.001)))  # a curve 0.1 % higher
    assert result.ok and 0 < result.rms[0] < FIGURE_RMS_TOLERANCE


@pytest.mark.parametrize(
    "change",
    [
        {"label": "lr = 0.002"},  # one character of the legend
        {"title": "3 features"},  # one character of the title
        {"scale": 1.01},  # one curve moved up by 1 %
        {"scale": 1.05},
    ],
)
def test_a_planted_change_fails(base_png, tmp_path, change):
    result = compare_figures(outputs(base_png), outputs(figure_png(**change)), keep_dir=tmp_path)
    assert not result.ok
    assert result.rms[0] > 2 * FIGURE_RMS_TOLERANCE  # well clear of the tolerance
    assert f"figure 1 of 1 differs from the stored one: RMS {result.rms[0]:.3f} > tolerance" in result.problems[0]
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == ["figure1-actual-failed-diff.png", "figure1-actual.png", "figure1-expected.png"]
    assert str(tmp_path / "figure1-actual-failed-diff.png") in result.problems[0]


def test_a_different_number_of_figures_fails(base_png):
    result = compare_figures(outputs(base_png, base_png), outputs(base_png))
    assert result.problems == ["the stored outputs have 2 figure(s), the fresh run made 1"]
    assert not compare_figures(outputs(), outputs(base_png)).ok
    assert compare_figures(outputs(), outputs()).ok


def test_a_different_image_size_fails(base_png):
    result = compare_figures(outputs(base_png), outputs(figure_png(size=(6.0, 4.0))))
    assert len(result.problems) == 1 and "image size differs: stored" in result.problems[0]


def test_split_base64_lines_are_read():
    png = figure_png(size=(2, 2))
    encoded = base64.b64encode(png).decode()
    stored = [{"output_type": "display_data", "data": {"image/png": [encoded[:100], encoded[100:]]}}]
    assert nbval_compare.png_images(stored) == [png]


# ------------------------------------------------------------------- end to end, through pytest --nbval
PLOT = """fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([0, 1, 2], [0, 1, 4], label="{label}")
ax.set_title("{title}")
ax.legend()
plt.show()"""


def test_nbval_run_checks_numbers_and_figures(tmp_path):
    """Stored outputs with planted differences: each planted cell fails, the others pass."""
    nbclient = pytest.importorskip("nbclient")
    short, long = "t", "a title much wider than the axes of this small figure"
    sources = [
        "import matplotlib.pyplot as plt",  # 0
        "print(0.123457)",  # 1: stored 0.123456 -> passes at 5 significant digits
        "print(0.00019)",  # 2: stored 0.00011 -> fails
        "print('938 steps')",  # 3: stored 939 -> fails
        PLOT.format(label="a", title=short),  # 4: the same figure -> passes
        PLOT.format(label="a", title=short),  # 5: stored with label "b" -> fails on RMS
        PLOT.format(label="a", title=short),  # 6: stored without its PNG -> fails on the count
        PLOT.format(label="a", title=short),  # 7: stored with a long title -> fails on the size
    ]
    executed_as = dict(enumerate(sources))
    executed_as[5] = PLOT.format(label="b", title=short)
    executed_as[7] = PLOT.format(label="a", title=long)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(executed_as[i]) for i in range(len(sources))]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute(cwd=str(tmp_path))
    for cell, source in zip(nb.cells, sources, strict=True):
        cell.source = source
    nb.cells[1].outputs[0].text = "0.123456\n"
    nb.cells[2].outputs[0].text = "0.00011\n"
    nb.cells[3].outputs[0].text = "939 steps\n"
    del nb.cells[6].outputs[0].data["image/png"]
    nbformat.write(nb, tmp_path / "planted.ipynb")
    for name in ("conftest.py", "nbval_compare.py", "nbval_sanitize.cfg"):
        shutil.copy(ROOT / name, tmp_path / name)

    diffs = tmp_path / "diffs"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with=nbval_sanitize.cfg", "planted.ipynb"],
        cwd=tmp_path, env={**os.environ, "AEBOOK_FIGURE_DIFF_DIR": str(diffs)},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = result.stdout
    outcome = {int(n): status for status, n in re.findall(r"^(PASSED|FAILED) planted\.ipynb::Cell (\d+)", out, re.M)}
    assert outcome == {
        0: "PASSED", 1: "PASSED", 2: "FAILED", 3: "FAILED", 4: "PASSED", 5: "FAILED", 6: "FAILED", 7: "FAILED",
    }, out[-4000:]  # fmt: skip
    assert re.search(r"planted\.ipynb::Cell 5: figures differ from the stored outputs\n  figure 1 of 1 differs", out)
    assert "the stored outputs have 0 figure(s), the fresh run made 1" in out
    assert "image size differs: stored" in out
    assert (diffs / "planted" / "cell5" / "figure1-actual-failed-diff.png").is_file()
    assert "figures compared with the stored outputs" in out and f"tolerance {FIGURE_RMS_TOLERANCE}" in out
