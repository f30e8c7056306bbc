"""aebook.diagnose (function and model diagnosis) and the `python -m aebook diagnose` command."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import aebook
from aebook.diagnose import diagnose, diagnose_model, load_array, markdown_table

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aebook", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


# --- the function -------------------------------------------------------------------------------


def test_uniform_data_has_entropy_floor_and_flat_spectrum():
    x = aebook.data.uniform(5000, 10, seed=0)
    report = diagnose(x, "bce", encoding_dims=[5])
    assert report.n_rows == 5000 and report.n_features == 10
    assert report.in_unit_interval and not report.binary
    # E[H(t)] = 1/2 for t ~ U(0, 1); the sd of H(t) is < 0.2, so 5e4 values give a se < 1e-3.
    assert report.bce_floor == pytest.approx(0.5, abs=5e-3)
    assert report.variance == pytest.approx(1 / 12, rel=0.02)
    assert report.pca_floors[5] == pytest.approx(aebook.floors.pca_floor(x, 5))
    text = report.report()
    assert "entropy floor 0.5" in text and "about what iid noise keeps" in text


def test_binary_data_has_zero_floor():
    report = diagnose(aebook.data.bernoulli(500, 4, seed=0), "bce", encoding_dims=2)
    assert report.binary and report.bce_floor == 0.0
    assert "binary" in report.report()


def test_rank_one_data_is_read_as_compressible():
    x = aebook.data.redundant(500, 6, rank=1, seed=0)
    report = diagnose(x, "mse", encoding_dims=[1, 3, 6])
    assert not report.in_unit_interval and report.bce_floor is None
    assert report.pca_floors[1] < 1e-6 and report.pca_floors[6] == 0.0
    assert report.k99 == 1
    text = report.report()
    assert "BCE: does not apply" in text and "low-dimensional" in text and "no bottleneck" in text


def test_default_encoding_dims_are_between_one_and_d_minus_one():
    report = diagnose(aebook.data.uniform(400, 20, seed=0), "mse")
    assert set(report.pca_floors) == {1, 2, 5, 10, 15, 19}


def test_too_few_rows_skips_the_pca_floor():
    report = diagnose(aebook.data.uniform(5, 10, seed=0), "mse")
    assert report.pca_floors == {} and "too few rows" in report.report()


@pytest.mark.parametrize(
    ("x", "loss", "dims", "match"),
    [
        (torch.rand(10, 3) * 2, "bce", None, r"\[0, 1\]"),
        (torch.rand(10), "mse", None, "2-D"),
        (torch.tensor([[0.1, float("nan")], [0.2, 0.3]]), "mse", None, "NaN"),
        (torch.rand(10, 3), "hinge", None, "unknown loss"),
        (torch.rand(10, 3), "mse", [0], "positive integer"),
    ],
)
def test_diagnose_refuses_bad_input(x, loss, dims, match):
    with pytest.raises(ValueError, match=match):
        diagnose(x, loss, encoding_dims=dims)


def test_diagnose_model_splits_floor_and_excess():
    x = aebook.data.uniform(300, 4, seed=0)
    model = aebook.Autoencoder(4, 4, hidden=(6,), activation="relu", output="sigmoid", seed=0)
    d = diagnose_model(model, x, "bce")
    ev = aebook.evaluate(model, x, "bce")
    assert d.loss == pytest.approx(ev.loss) and d.excess == pytest.approx(ev.loss - ev.floor)
    assert d.units == 6 + 4 + 6 and 0 <= d.dead <= d.units
    assert d.explained_variance == pytest.approx(1 - ev.mse / float(x.double().var(0, unbiased=False).mean()))
    linear = diagnose_model(aebook.Autoencoder(4, 4, seed=0), x, "mse")
    assert linear.dead is None and linear.floor == 0.0
    table = markdown_table({"relu": d, "linear": linear})
    assert table.count("\n") == 3 and "| linear | MSE |" in table and "of 16" in table
    with pytest.raises(ValueError):
        markdown_table({})
    leaky = diagnose_model(aebook.Autoencoder(4, 4, hidden=(6,), activation="leaky_relu", output="sigmoid", seed=0),
                           x, "bce")
    assert leaky.activation == "leaky_relu" and "never positive" in markdown_table({"leaky": leaky})


# --- files ------------------------------------------------------------------------------------


def test_load_array_reads_npy_and_csv_with_header(tmp_path):
    x = np.random.default_rng(0).random((20, 3))
    np.save(tmp_path / "x.npy", x)
    np.testing.assert_array_equal(load_array(tmp_path / "x.npy"), x)
    (tmp_path / "x.csv").write_text("a,b,c\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in x) + "\n")
    np.testing.assert_allclose(load_array(tmp_path / "x.csv"), x)


def test_load_array_reads_one_column_csv_as_one_feature(tmp_path):
    (tmp_path / "one.csv").write_text("0.1\n0.2\n0.3\n")
    assert load_array(tmp_path / "one.csv").shape == (3, 1)


def test_load_array_converts_integer_npy(tmp_path):
    np.save(tmp_path / "ints.npy", np.array([[0, 1], [1, 0]], dtype=np.int64))
    assert load_array(tmp_path / "ints.npy").dtype == np.float64


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("missing.npy", None, "no such file"),
        ("x.txt", "1,2\n", "unsupported file type"),
        ("x.csv", "1,2\n3,abc\n", "row 2, column 2"),
        ("x.csv", "1,2\n3\n", "same number of columns"),
        ("x.csv", "1,2\n3,\n", "empty"),
        ("x.csv", "", "no data rows"),
        ("x.csv", "a,b\n", "no data rows"),
        ("x.csv", "1,nan\n2,3\n", "NaN"),
        ("x.npy", b"not a numpy file", "could not read"),
        ("x.csv", b"\xff\xfe\x00\x81", "not a text file"),
    ],
)
def test_load_array_refuses_bad_files(tmp_path, name, content, match):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match=match):
        load_array(path)


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.arange(5.0), r"shape \(5,\).*reshape\(-1, 1\)"),
        (np.zeros((2, 3, 4)), r"shape \(2, 3, 4\)"),
        (np.array([["a", "b"]]), "dtype"),
        (np.zeros((0, 3)), "empty"),
        (np.array([[1.0, np.inf]]), "infinite"),
    ],
)
def test_load_array_refuses_bad_arrays(tmp_path, array, match):
    np.save(tmp_path / "x.npy", array)
    with pytest.raises(ValueError, match=match):
        load_array(tmp_path / "x.npy")


def test_load_array_refuses_pickled_objects(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="could not read"):
        load_array(tmp_path / "obj.npy")


# --- the command --------------------------------------------------------------------------------


def test_cli_diagnoses_npy(tmp_path):
    np.save(tmp_path / "u.npy", aebook.data.uniform(2000, 8, seed=0).numpy())
    result = run_cli("diagnose", tmp_path / "u.npy", "--loss", "bce", "--encoding-dim", "4")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "2000 rows x 8 features" in out and "PCA k = 4" in out
    assert re.search(r"entropy floor 0\.(49|50)\d\d nats", out)
    assert "PCA k = 2:" not in out  # only the encoding dim asked for


def test_cli_diagnoses_csv_with_several_dims(tmp_path):
    x = aebook.data.redundant(300, 5, rank=1, seed=0).numpy()
    (tmp_path / "r.csv").write_text("\n".join(",".join(f"{v:.9g}" for v in row) for row in x) + "\n")
    result = run_cli("diagnose", tmp_path / "r.csv", "--loss", "mse", "--encoding-dim", "1", "--encoding-dim", "3")
    assert result.returncode == 0, result.stderr
    assert "PCA k = 1:" in result.stdout and "PCA k = 3:" in result.stdout
    assert "BCE: does not apply" in result.stdout


def write_bad(tmp_path: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "missing.npy"
    if kind == "extension":
        path = tmp_path / "data.txt"
        path.write_text("1,2\n")
        return path
    if kind == "non-numeric":
        path = tmp_path / "words.csv"
        path.write_text("x,y\n1,2\nthree,4\n")
        return path
    path = tmp_path / f"{kind}.npy"
    arrays = {
        "nan": np.array([[0.1, np.nan], [0.2, 0.3]]),
        "1-d": np.linspace(0, 1, 10),
        "3-d": np.zeros((4, 3, 2)),
        "bce-range": np.array([[0.5, 1.5], [0.2, -0.1], [0.3, 0.4]]),
    }
    np.save(path, arrays[kind])
    return path


@pytest.mark.parametrize(
    ("kind", "match"),
    [
        ("missing", "no such file"),
        ("extension", "unsupported file type"),
        ("non-numeric", "row 3, column 1"),
        ("nan", "NaN"),
        ("1-d", "2-D table"),
        ("3-d", "2-D table"),
        ("bce-range", r"\[0, 1\]"),
    ],
)
def test_cli_refuses_bad_files_with_one_line_and_exit_2(tmp_path, kind, match):
    result = run_cli("diagnose", write_bad(tmp_path, kind), "--loss", "bce")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("python -m aebook diagnose: error: ")
    assert "Traceback" not in result.stderr
    assert re.search(match, lines[0]), lines[0]


def test_cli_mse_accepts_data_outside_unit_interval(tmp_path):
    result = run_cli("diagnose", write_bad(tmp_path, "bce-range"), "--loss", "mse")
    assert result.returncode == 0, result.stderr
    assert "BCE: does not apply" in result.stdout


def test_cli_usage_errors_exit_2(tmp_path):
    np.save(tmp_path / "u.npy", np.random.default_rng(0).random((10, 2)))
    for args in (["diagnose", tmp_path / "u.npy"], ["diagnose", tmp_path / "u.npy", "--loss", "hinge"], []):
        result = run_cli(*args)
        assert result.returncode == 2 and "usage:" in result.stderr and "Traceback" not in result.stderr


def test_cli_help_documents_the_command():
    result = run_cli("diagnose", "--help")
    assert result.returncode == 0 and "--encoding-dim" in result.stdout and ".csv" in result.stdout


def test_main_returns_status_without_exiting(tmp_path, capsys):
    from aebook.diagnose import main

    assert main(["diagnose", str(tmp_path / "none.csv"), "--loss", "mse"]) == 2
    assert "no such file" in capsys.readouterr().err
