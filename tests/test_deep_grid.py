"""Tests of book/deep_grid.py, the code of the chapter "Deep leaky-ReLU models"."""

import numpy as np
import pytest
import torch

import aebook
from deep_grid import (
    Cell,
    build_model,
    cell_seed,
    cells_from_record,
    dead_unit_curves,
    find,
    grid_excess_curves,
    grid_panels,
    grid_strip,
    html_table,
    make_data,
    markdown_table,
    run_grid,
    run_reader_scale,
)


@pytest.fixture(scope="module")
def cells() -> list[Cell]:
    return run_grid(3, ["linear", "leaky_relu"], seeds=[0, 1], n_samples=200, epochs=3, lr=1e-2,
                    progress=False, track_dead_units=True)


def test_grid_has_every_cell_in_order(cells):
    keys = [(c.architecture, c.loss, c.data) for c in cells]
    assert keys == [(a, loss, d) for a in ("linear", "leaky_relu") for loss in ("mse", "bce")
                    for d in ("uniform", "bernoulli")]
    for c in cells:
        assert len(c.models) == len(c.histories) == len(c.evaluations) == 2
        assert c.n_features == 3 and c.curves.shape == (2, 3)
        assert c.label == f"{c.loss.upper()} / {c.data}"


def test_cell_members_equal_fit_and_evaluate(cells):
    """A grid member is what fit + evaluate give for the same model seed and batch seed."""
    c = find(cells, "leaky_relu", "bce", "uniform")
    own = cell_seed("leaky_relu", "bce", "uniform", 1)  # each cell draws its own seeds
    model = build_model("leaky_relu", 3, seed=own)
    h = aebook.fit(model, c.x, loss="bce", lr=1e-2, epochs=3, seed=own, progress=False)
    np.testing.assert_allclose(c.histories[1].loss, h.loss, rtol=1e-5)
    ev = aebook.evaluate(model, c.x, "bce")
    assert c.loss_values[1] == pytest.approx(ev.loss, rel=1e-5)
    assert c.mse[1] == pytest.approx(ev.mse, rel=1e-4)


def test_floors_and_excess(cells):
    for c in cells:
        assert c.floor == (aebook.floors.bce_floor(c.x) if c.loss == "bce" else 0.0)
        np.testing.assert_allclose(c.excess, c.loss_values - c.floor)
        np.testing.assert_allclose(c.curves, np.stack([h.loss for h in c.histories]) - c.floor)
    assert find(cells, "linear", "bce", "bernoulli").floor == 0.0  # H(0) = H(1) = 0


def test_dead_units_are_tracked_only_for_activations(cells):
    assert find(cells, "linear", "mse", "uniform").dead is None
    tracker = find(cells, "leaky_relu", "mse", "uniform").dead
    assert tracker is not None and tracker.epochs == [0, 1, 2, 3]
    assert tracker.total.shape == (2, 4)


def test_build_model_architectures():
    linear = build_model("linear", 4, seed=0)
    deep = build_model("relu", 4, seed=0, init="glorot")
    assert linear.hidden == () and linear.output == "sigmoid"
    assert deep.hidden == (4,) and deep.encoding_dim == 4 and deep.activation == "relu"
    assert len(deep.linear_layers()) == 4  # three hidden layers of width 4, then the output layer
    torch.testing.assert_close(build_model("relu", 4, seed=0).logits(torch.ones(1, 4)),
                               build_model("relu", 4, seed=0).logits(torch.ones(1, 4)))


def test_make_data():
    assert set(make_data("bernoulli", 50, 2).unique().tolist()) <= {0.0, 1.0}
    x = make_data("uniform", 50, 2, seed=3)
    assert x.shape == (50, 2) and torch.equal(x, aebook.data.uniform(50, 2, seed=3))


def test_markdown_table(cells):
    table = markdown_table(cells)
    lines = table.splitlines()
    assert len(lines) == 2 + len(cells)
    assert lines[0].startswith("| d | architecture") and "leaky_relu" in table


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: make_data("gaussian", 10, 2), "unknown data set"),
        (lambda: build_model("tanh", 2, seed=0), "unknown architecture"),
        (lambda: run_grid(2, ["tanh"], progress=False), "unknown architecture"),
        (lambda: run_grid(2, losses=["hinge"], progress=False), "unknown loss"),
        (lambda: run_grid(2, datasets=[], progress=False), "at least one"),
        (lambda: run_grid(2, seeds=[], progress=False), "at least one seed"),
        (lambda: run_grid(2, epochs=0, seeds=[0], n_samples=10, progress=False), "epochs"),
        (lambda: find([], "linear", "mse", "uniform"), "no cell"),
        (lambda: markdown_table([]), "at least one cell"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_plots_accept_cells(cells):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = grid_panels(grid_excess_curves, {"a": cells, "b": cells[:2]})
    assert len(axes) == 2 and axes[0].get_yscale() == "log"
    ax = grid_strip(cells, value="mse")
    assert ax.get_ylabel().startswith("reconstruction MSE")
    ax = dead_unit_curves(cells)
    assert "never fire" in ax.get_ylabel()
    with pytest.raises(ValueError, match="excess"):
        grid_strip(cells, value="loss")
    with pytest.raises(ValueError, match="track_dead_units"):
        dead_unit_curves([c for c in cells if c.architecture == "linear"])
    with pytest.raises(ValueError, match="at least one panel"):
        grid_panels(grid_strip, {})
    plt.close("all")


def test_html_table(cells):
    html = html_table(cells)
    assert html.startswith("<table>") and html.count("<tr>") == 1 + len(cells) and "leaky_relu" in html


def test_html_and_markdown_tables_show_the_same_texts(cells):
    import re

    html = html_table(cells, fmt=".5f")
    lines = markdown_table(cells, fmt=".5f").splitlines()
    md_rows = [[t.strip() for t in line.strip("|").split("|")] for line in lines]
    html_rows = [re.findall(r"<t[hd]>(.*?)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>", html)]
    assert html_rows == [md_rows[0]] + md_rows[2:]


def test_no_two_runs_of_the_grid_share_a_seed(cells):
    """Independent runs: every (architecture, loss, data, seed) gets its own initialisation and batch order."""
    seeds = [cell_seed(c.architecture, c.loss, c.data, s) for c in cells for s in (0, 1)]
    assert len(set(seeds)) == len(seeds)
    initial = [build_model(c.architecture, 3, seed=cell_seed(c.architecture, c.loss, c.data, 0)).encoder[0].weight
               for c in cells]
    for i in range(len(initial)):
        for j in range(i):
            assert not torch.equal(initial[i], initial[j])
    with pytest.raises(ValueError, match="0..999"):
        cell_seed("linear", "mse", "uniform", 1000)
    with pytest.raises(ValueError, match="no grid cell"):
        cell_seed("tanh", "mse", "uniform", 0)


def test_a_reader_scale_record_reads_back_as_cells():
    """run_reader_scale (tiny here) makes a record whose cells match a direct run_grid."""
    record = run_reader_scale("leaky_relu", epochs=2, n_seeds=2, n_samples=120)
    cells = cells_from_record(record)
    assert [(c.loss, c.data) for c in cells] == [(loss, d) for loss in ("mse", "bce")
                                                for d in ("uniform", "bernoulli")]
    direct = run_grid(100, ["leaky_relu"], seeds=range(2), n_samples=120, epochs=2, lr=1e-3, init="glorot",
                      progress=False, track_dead_units=True)
    for got, want in zip(cells, direct, strict=True):
        np.testing.assert_allclose(got.mse, want.mse, rtol=1e-6)
        np.testing.assert_allclose(got.curves, want.curves, rtol=1e-6, atol=1e-9)
        np.testing.assert_array_equal(got.dead.total, want.dead.total)
        assert got.floor == pytest.approx(want.floor) and got.n_elements == want.n_elements
    relu = cells_from_record(run_reader_scale("relu", epochs=1, n_seeds=1, n_samples=60))
    assert [c.data for c in relu] == ["uniform", "uniform"]


# --- the code in the chapter's exercise solutions runs (shrunk to seconds) ----------------------
EXERCISE_SHRINK = [
    [("seeds=range(100, 112)", "seeds=range(100, 102)"), ("epochs=100", "epochs=2")],
    [("EPOCHS = 600", "EPOCHS = 2"), ("seeds=range(3)", "seeds=range(2)"), ("n_samples=10_000", "n_samples=256"),
     ('make_data("uniform", 10_000, 100, seed=1)', 'make_data("uniform", 256, 100, seed=1)')],
]


def exercise_snippets() -> list[str]:
    import re
    from pathlib import Path

    import nbformat

    nb = nbformat.read(Path(__file__).resolve().parent.parent / "book" / "deep_grid.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return re.findall(r"```python\n(.*?)```", text, re.S)


@pytest.mark.parametrize("index", range(len(EXERCISE_SHRINK)))
def test_exercise_solution_code_runs(index, capsys):
    """Each ```python block of the solutions runs as printed, with smaller sizes swapped in."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    snippets = exercise_snippets()
    assert len(snippets) == len(EXERCISE_SHRINK)
    code = snippets[index]
    for old, new in EXERCISE_SHRINK[index]:
        assert old in code, f"exercise snippet {index + 1} no longer contains {old!r}; update EXERCISE_SHRINK"
        code = code.replace(old, new)
    exec(compile(code, f"<deep_grid exercise snippet {index + 1}>", "exec"), {})
    plt.close("all")
    assert capsys.readouterr().out.count("\n") >= 4
