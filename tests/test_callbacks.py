"""aebook.callbacks.KerasExcess: floor and excess in a real Keras fit, its errors, no Keras on ``import aebook``."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # the test chooses the backend; aebook never does

import ast
import importlib.util
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import torch

import aebook
from aebook.callbacks import KerasExcess

ROOT = Path(__file__).resolve().parent.parent
# Keras 3.15.1's numpy conversions warn under numpy 2; not this project's code
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def _uniform_x() -> np.ndarray:
    return aebook.data.uniform(2000, 10, seed=0).numpy()


def _fit(x: np.ndarray, callback: KerasExcess, epochs: int, verbose: int) -> keras.callbacks.History:
    keras.utils.set_random_seed(0)
    dense = [keras.layers.Dense(4, activation="relu"), keras.layers.Dense(10, activation="sigmoid")]
    model = keras.Sequential([keras.Input(shape=(10,)), *dense])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model.fit(x, x, batch_size=64, epochs=epochs, verbose=verbose, callbacks=[callback])


def test_a_keras_fit_logs_the_bce_floor_and_the_excess():
    x = _uniform_x()
    callback = KerasExcess(x, "bce")
    history = _fit(x, callback, epochs=2, verbose=0).history
    floor = aebook.floors.loss_floor(x, "bce")
    assert len(history["floor"]) == len(history["loss"]) == 2
    assert np.allclose(history["floor"], floor, rtol=0, atol=1e-12)
    assert np.allclose(history["excess"], np.array(history["loss"]) - floor, rtol=0, atol=1e-12)
    assert callback.floor == floor and callback.excess == history["excess"] and callback.val_excess == []
    # H(U) has mean 1/2 for U ~ U(0, 1): the floor of n*d iid targets is within 5 standard errors of it
    h = aebook.floors.binary_entropy
    sd_h = (aebook.floors.expect_uniform(lambda t: h(t) ** 2) - aebook.floors.expect_uniform(h) ** 2) ** 0.5
    assert abs(floor - 0.5) < 5 * sd_h / np.sqrt(x.size)
    assert all(e > 0 for e in history["excess"])  # BCE >= H element by element (Keras's clip only adds)


def test_the_progress_output_shows_floor_and_excess(capsys):
    x = _uniform_x()[:256]
    _fit(x, KerasExcess(x), epochs=1, verbose=2)
    out = capsys.readouterr().out
    assert "floor:" in out and "excess:" in out


def test_mse_with_a_code_uses_the_pca_floor_and_validation_gets_an_excess():
    x = _uniform_x()
    callback = KerasExcess(x, loss="mse", encoding_dim=3)
    assert callback.floor == aebook.floors.pca_floor(x, 3) > 0
    logs = {"loss": 0.1, "val_loss": 0.2}
    callback.on_epoch_end(0, logs)
    assert logs["excess"] == 0.1 - callback.floor and logs["val_excess"] == 0.2 - callback.floor
    assert callback.excess == [logs["excess"]] and callback.val_excess == [logs["val_excess"]]
    # a torch tensor gives the same floor; without a code (or a code as wide as the data) the MSE floor is 0
    assert KerasExcess(torch.from_numpy(x), "mse", 3).floor == callback.floor
    assert KerasExcess(x, "mse").floor == KerasExcess(x, "mse", encoding_dim=10).floor == 0.0


@pytest.mark.parametrize(
    ("x", "kwargs", "match"),
    [
        (np.full((5, 3), 0.5), {"loss": "binary_crossentropy"}, "unknown loss 'binary_crossentropy'; choose one of"),
        (np.full(10, 0.5), {}, r"x must be 2-D \(n_samples, n_features\), got shape \(10,\)"),
        (np.full((5, 3), 2.0), {"loss": "bce"}, r"BCE targets must lie in \[0, 1\].*use loss='mse'"),
        (np.full((5, 3), 0.5), {"loss": "mse", "encoding_dim": 0}, "encoding_dim must be a positive integer, got 0"),
        (np.full((5, 3), 0.5), {"loss": "mse", "encoding_dim": 4}, r"integer in \[0, d\] = \[0, 3\], got 4"),
        (np.full((5, 3), 0.5), {"loss": "mse", "encoding_dim": 2.0}, "encoding_dim must be a positive integer"),
    ],
)
def test_bad_input_raises_a_clear_value_error(x, kwargs, match):
    with pytest.raises(ValueError, match=match):
        KerasExcess(x, **kwargs)


def test_logs_without_a_loss_say_what_is_missing():
    with pytest.raises(ValueError, match=r"logs of epoch 3 have no 'loss' \(keys: \['accuracy'\]\)"):
        KerasExcess(_uniform_x()).on_epoch_end(3, {"accuracy": 1.0})
    with pytest.raises(ValueError, match="no 'loss'"):
        KerasExcess(_uniform_x()).on_epoch_end(0, None)


def test_import_aebook_loads_no_keras_and_aebook_never_sets_the_backend(tmp_path):
    # A fresh process, with no KERAS_BACKEND and Keras configured (KERAS_HOME/keras.json) for TensorFlow.
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "tensorflow"}))
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"} | {"KERAS_HOME": str(tmp_path)}
    code = (
        "import os, sys, aebook\nprint('keras' in sys.modules, 'KERAS_BACKEND' in os.environ)\nimport aebook.callbacks"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.split() == ["False", "False"], done.stderr
    if importlib.util.find_spec("tensorflow") is None:
        # aebook.callbacks leaves the reader's choice alone (setting KERAS_BACKEND would have made this import
        # work), and the error says how to choose a backend
        assert done.returncode != 0 and "choose an installed backend with KERAS_BACKEND" in done.stderr, done.stderr


def test_the_api_page_writes_the_signature_of_the_code():
    """book/api.md writes the signature out (with Keras mocked, autodoc would show ``*args, **kwargs``)."""
    text = (ROOT / "book" / "api.md").read_text()
    found = re.search(r"^\.\. autoclass:: aebook\.callbacks\.KerasExcess(\(.*\))$", text, re.MULTILINE)
    assert found, "book/api.md must document aebook.callbacks.KerasExcess with its signature"
    written = ast.parse(f"def f{found.group(1)}: pass").body[0].args
    params = list(inspect.signature(KerasExcess).parameters.values())
    assert [a.arg for a in written.args] == [p.name for p in params]
    assert [ast.unparse(a.annotation) for a in written.args] == [p.annotation for p in params]
    assert [ast.literal_eval(d) for d in written.defaults] == [p.default for p in params if p.default is not p.empty]
