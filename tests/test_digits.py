"""book/digits.py: loading and scaling the digits, binarising, pixel shares, training per width, table, figures."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import aebook
from digits import (
    LOSS_SEED_STEP,
    TABLE_HEADER,
    WIDTH_SEED_STEP,
    binarise,
    exact_shares,
    excess_curves,
    html_table,
    image_grid,
    load_digits01,
    one_per_class,
    pca_reconstruction,
    pick,
    reconstruct,
    run_seeds,
    scale_intensities,
    summary_rows,
    train_widths,
    training_curves,
    value_share_bars,
    value_shares,
)

# --- the data --------------------------------------------------------------------------------------


def test_the_digits_load_from_disk_scaled_to_the_unit_interval():
    x, labels = load_digits01()
    assert x.shape == (1797, 64) and x.dtype == torch.float32 and labels.shape == (1797,)
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    # ink counts 0-16 become multiples of 1/16, exactly (powers of two divide exactly in float32)
    assert torch.equal(x * 16, torch.round(x * 16))
    assert sorted(set(labels.tolist())) == list(range(10))


def test_scale_intensities():
    x = scale_intensities(np.array([[0, 8, 16], [4, 12, 16]]))
    assert x.dtype == torch.float32
    np.testing.assert_array_equal(x.numpy(), [[0, 0.5, 1], [0.25, 0.75, 1]])
    np.testing.assert_array_equal(scale_intensities(np.array([[0.0, 255.0]]), max_value=255).numpy(), [[0, 1]])


@pytest.mark.parametrize(
    ("counts", "kwargs", "match"),
    [
        (np.array([[0, 17]]), {}, r"must lie in \[0, 16\]"),
        (np.array([[-1, 3]]), {}, "must lie in"),
        (np.array([1, 2, 3]), {}, "2-D"),
        (np.array([[np.nan, 1.0]]), {}, "NaN"),
        (np.array([[1, 2]]), {"max_value": 0}, "max_value must be a positive number"),
        (np.array([[1, 2]]), {"max_value": True}, "max_value must be a positive number"),
    ],
)
def test_scale_intensities_refuses_bad_input(counts, kwargs, match):
    with pytest.raises(ValueError, match=match):
        scale_intensities(counts, **kwargs)


def test_binarise():
    x = torch.tensor([[0.0, 0.25, 0.5, 0.75, 1.0]])
    np.testing.assert_array_equal(binarise(x).numpy(), [[0, 0, 1, 1, 1]])
    np.testing.assert_array_equal(binarise(x, threshold=0.8).numpy(), [[0, 0, 0, 0, 1]])
    assert aebook.floors.bce_floor(binarise(x)) == 0.0
    with pytest.raises(ValueError, match="threshold"):
        binarise(x, threshold=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        binarise(x + 1)


def test_value_and_exact_shares_add_up_to_the_floor():
    x = torch.tensor([[0.0, 0.0, 1.0, 0.5], [0.25, 0.0, 1.0, 0.5]])
    values, shares = value_shares(x)
    np.testing.assert_array_equal(values, [0, 0.25, 0.5, 1])
    np.testing.assert_allclose(shares, [3 / 8, 1 / 8, 2 / 8, 2 / 8])
    s = exact_shares(x)
    assert (s.zero, s.one, s.between) == (3 / 8, 2 / 8, 3 / 8)
    h = aebook.floors.binary_entropy(torch.tensor([0.25, 0.5, 0.5])).mean().item()
    assert s.floor_between == pytest.approx(h)
    # the floor is carried by the pixels in between only
    assert aebook.floors.bce_floor(x) == pytest.approx(s.between * s.floor_between, rel=1e-12)
    assert math.isnan(exact_shares(torch.tensor([[0.0, 1.0]])).floor_between)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        exact_shares(torch.tensor([[2.0]]))


def test_one_per_class():
    labels = np.array([3, 1, 0, 1, 2, 0])
    np.testing.assert_array_equal(one_per_class(labels, classes=(0, 1, 2, 3)), [2, 1, 4, 0])
    with pytest.raises(ValueError, match="no row has label 7"):
        one_per_class(labels, classes=(7,))
    with pytest.raises(ValueError, match="1-D"):
        one_per_class(labels.reshape(2, 3))


def test_pca_reconstruction_reaches_the_pca_floor():
    both = aebook.data.redundant(600, 5, rank=2, noise=0.1, seed=0)  # one basis; two sets of rows
    x, new = both[:300], both[300:]
    for k in (0, 2, 5):
        recon = pca_reconstruction(x, k)
        assert recon.dtype == torch.float64 and recon.shape == x.shape
        mse = float(((recon - x.double()) ** 2).mean())
        assert mse == pytest.approx(aebook.floors.pca_floor(x, k), rel=1e-9, abs=1e-12)
    # fitted on other rows: on new rows drawn the same way it comes close to the floor, and it never beats
    # the floor of those new rows (that floor is the best of all rank-k linear maps on them)
    held_out = float(((pca_reconstruction(new, 2, fit_on=x) - new.double()) ** 2).mean())
    assert aebook.floors.pca_floor(new, 2) <= held_out < 1.2 * aebook.floors.pca_floor(new, 2)
    with pytest.raises(ValueError, match="encoding dim"):
        pca_reconstruction(x, 6)
    with pytest.raises(ValueError, match="features"):
        pca_reconstruction(x, 1, fit_on=x[:, :4])
    with pytest.raises(ValueError, match="more rows than columns"):
        pca_reconstruction(x, 1, fit_on=x[:5])


# --- training and the table ------------------------------------------------------------------------


def test_run_seeds_give_every_loss_and_width_its_own_block():
    assert run_seeds((0, 1), 0, 0) == [0, 1]
    assert run_seeds((0, 1), 1, 2, offset=10_000) == [10_000 + LOSS_SEED_STEP + 2 * WIDTH_SEED_STEP,
                                                       10_001 + LOSS_SEED_STEP + 2 * WIDTH_SEED_STEP]
    blocks = [s for i in range(2) for j in range(4) for s in run_seeds(range(4), i, j)]
    assert len(set(blocks)) == len(blocks)
    with pytest.raises(ValueError, match="base seeds"):
        run_seeds((WIDTH_SEED_STEP,), 0, 0)
    with pytest.raises(ValueError, match="widths per call"):
        run_seeds((0,), 0, LOSS_SEED_STEP // WIDTH_SEED_STEP)


def test_train_widths_groups_seeds_per_loss_and_width():
    x = aebook.data.uniform(64, 6, seed=0)
    runs = train_widths(x, widths=(2, 6), seeds=(0, 1), epochs=2, lr=1e-2, batch_size=32)
    assert len(runs) == 2 * 2 * 2
    # every run has its own seed: MSE is the second loss, width 2 the first width
    assert len({r.seed for r in runs}) == len(runs)
    group = pick(runs, "mse", 2)
    assert [r.seed for r in group] == run_seeds((0, 1), 1, 0) == [LOSS_SEED_STEP, LOSS_SEED_STEP + 1]
    assert all(r.model.output == "sigmoid" for r in group)
    assert [r.seed for r in pick(runs, "bce", 6)] == [WIDTH_SEED_STEP, WIDTH_SEED_STEP + 1]
    # the evaluation is aebook.evaluate's, with the floor of the loss: PCA at k < d, 0 at k = d, entropy for BCE
    assert group[0].evaluation == aebook.evaluate(group[0].model, x, "mse")
    assert group[0].evaluation.floor == pytest.approx(aebook.floors.pca_floor(x, 2))
    assert pick(runs, "mse", 6)[0].evaluation.floor == 0.0
    assert pick(runs, "bce", 6)[1].evaluation.floor == pytest.approx(aebook.floors.bce_floor(x))
    # a run is what fit gives one model with the run's seed (initial weights and batch order)
    seed = group[1].seed
    alone = aebook.Autoencoder(6, 2, output="sigmoid", seed=seed)
    h = aebook.fit(alone, x, loss="mse", lr=1e-2, batch_size=32, epochs=2, seed=seed, progress=False)
    np.testing.assert_allclose(h.loss, group[1].history.loss, rtol=1e-5)
    assert reconstruct(group[0].model, x).shape == (64, 6)
    # another call with an offset keeps clear of these seeds
    more = train_widths(x, widths=(2,), losses=("bce",), seeds=(0, 1), epochs=1, seed_offset=10_000)
    assert [r.seed for r in more] == [10_000, 10_001]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"widths": (7,)}, "at most the 6 features"),
        ({"widths": ()}, "at least one width"),
        ({"widths": (2,), "seeds": ()}, "at least one width and one seed"),
        ({"widths": (2,), "losses": ("hinge",)}, "unknown loss"),
        ({"widths": (2,), "output": "linear"}, "sigmoid output"),
        ({"widths": (2,), "seeds": (100,)}, "base seeds"),
        ({"widths": tuple(range(1, 7)) * 2}, "widths per call"),
    ],
)
def test_train_widths_refuses_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_widths(aebook.data.uniform(20, 6), epochs=1, **kwargs)


def test_pick_names_what_there_is():
    runs = train_widths(aebook.data.uniform(20, 3, seed=0), widths=(1,), losses=("mse",), seeds=(0,), epochs=1)
    with pytest.raises(ValueError, match=r"\('mse', 1\)"):
        pick(runs, "bce", 1)


def test_summary_rows_and_html_table():
    x = aebook.data.uniform(64, 4, seed=0)
    runs = train_widths(x, widths=(1, 4), seeds=(0, 1, 2), epochs=1, batch_size=32)
    pca = {k: aebook.floors.pca_floor(x, k) for k in (1, 4)}
    rows = summary_rows(runs, pca)
    assert [row[:2] for row in rows] == [("BCE", "1"), ("BCE", "4"), ("MSE", "1"), ("MSE", "4")]
    assert all(len(row) == len(TABLE_HEADER) for row in rows)
    mse = [r.evaluation.mse for r in pick(runs, "mse", 1)]
    assert rows[2][5] == f"{np.mean(mse):.4f} [{min(mse):.4f}, {max(mse):.4f}]"
    assert rows[0][2].endswith("nats") and rows[2][2].endswith("MSE") and rows[3][6] == "0.0000"
    table = html_table(runs, pca)
    assert table.startswith("<table>") and table.count("<tr>") == 5 and "loss − floor" in table
    with pytest.raises(ValueError, match="no entry for width 4"):
        summary_rows(runs, {1: pca[1]})
    with pytest.raises(ValueError, match="at least one run"):
        summary_rows([], pca)


# --- figures ---------------------------------------------------------------------------------------


def test_image_grid_lays_out_rows_of_images():
    images = np.linspace(0, 1, 3 * 4).reshape(3, 4)
    ax = image_grid({"a": images, "b": torch.tensor(images)}, shape=(2, 2), column_labels=["x", "y", "z"])
    mosaic = ax.images[0].get_array()
    assert mosaic.shape == (2 * 2 + 1, 3 * 2 + 2)  # one line of gap between images
    gaps = np.ma.getmaskarray(mosaic)  # NaN, drawn in the gap colour
    assert gaps[2].all() and gaps[:, 2].all() and not gaps[:2, :2].any()
    np.testing.assert_array_equal(mosaic[:2, :2], images[0].reshape(2, 2))
    np.testing.assert_array_equal(mosaic[3:5, 3:5], images[1].reshape(2, 2))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y", "z"]
    plt.close("all")


@pytest.mark.parametrize(
    ("rows", "kwargs", "match"),
    [
        ({}, {}, "at least one"),
        ({"a": np.zeros((2, 5))}, {}, r"\(n_images, 64\)"),
        ({"a": np.zeros((2, 64)), "b": np.zeros((3, 64))}, {}, "same number of images"),
        ({"a": np.zeros((2, 64))}, {"column_labels": ["x"]}, "1 entries for 2 images"),
    ],
)
def test_image_grid_refuses_bad_rows(rows, kwargs, match):
    with pytest.raises(ValueError, match=match):
        image_grid(rows, **kwargs)
    plt.close("all")


def test_value_share_bars_and_excess_curves_draw_what_they_are_given():
    ax = value_share_bars(np.array([0.0, 0.5, 1.0]), np.array([0.5, 0.2, 0.3]))
    assert [round(p.get_height(), 6) for p in ax.patches] == [50.0, 20.0, 30.0]
    with pytest.raises(ValueError, match="one length"):
        value_share_bars(np.array([0.0, 1.0]), np.array([1.0]))
    ax = excess_curves({"a": [0.3, 0.2, 0.1]}, references={"b": 0.05})
    assert ax.get_yscale() == "log" and list(ax.lines[0].get_ydata()) == [0.3, 0.2, 0.1]
    assert list(ax.lines[1].get_ydata()) == [0.05, 0.05]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    with pytest.raises(ValueError, match="at least one"):
        excess_curves({})
    plt.close("all")


def test_training_curves_draw_one_colour_per_group():
    ax = training_curves({"a": [[0.3, 0.2, 0.1], [0.4, 0.2, 0.15]], "b": [[1.0, 0.5, 0.25]]},
                         floors={"b": 0.2})
    assert ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert len(lines) == 4 and list(lines[1].get_ydata()) == [0.4, 0.2, 0.15]
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    assert lines[3].get_color() == lines[2].get_color() and list(lines[3].get_ydata()) == [0.2, 0.2]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]  # each group once
    with pytest.raises(ValueError, match="at least one"):
        training_curves({})
    with pytest.raises(ValueError, match="at least one"):
        training_curves({"a": []})
    with pytest.raises(ValueError, match="<= 0"):
        training_curves({"a": [[0.1, 0.0]]})
    with pytest.raises(ValueError, match="name no group"):
        training_curves({"a": [[0.1]]}, floors={"c": 0.1})
    plt.close("all")
