"""book/keras_reader.py: the question's Keras model, its copy into aebook, the backend guard and the record."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import aebook
import keras_reader
from keras_reader import keras_readers_model, require_torch_backend, run_keras, to_aebook

ROOT = Path(__file__).resolve().parent.parent
# Keras 3.15.1's numpy conversions (get_weights, predict) warn under numpy 2; not this project's code
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def test_the_model_is_the_questions():
    model = keras_readers_model(0)
    dense = [layer for layer in model.layers if hasattr(layer, "kernel")]
    assert [tuple(layer.kernel.shape) for layer in dense] == [(100, 100)] * 6
    assert [layer.activation.__name__ for layer in dense] == ["relu"] * 5 + ["sigmoid"]
    # the optimizer's name gets a suffix when other Keras models were built in the process first
    assert model.loss == "binary_crossentropy" and isinstance(model.optimizer, keras_reader.keras.optimizers.Adam)
    assert model.optimizer.epsilon == 1e-7 and float(model.optimizer.learning_rate) == pytest.approx(1e-3)
    # Keras's defaults: Glorot-uniform kernels in [-sqrt(6 / 200), sqrt(6 / 200)], zero biases
    for layer in dense:
        kernel, bias = layer.get_weights()
        assert np.abs(kernel).max() <= (6 / 200) ** 0.5 and not bias.any()
    # the seed fixes the initial weights
    again = keras_readers_model(0).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), again, strict=True))
    assert not np.array_equal(keras_readers_model(1).get_weights()[0], again[0])


def test_copy_gives_the_same_outputs():
    model = keras_readers_model(3)
    # move the biases off zero, so that a copy that dropped or mixed them up would show
    model.set_weights([w + 0.05 * np.random.default_rng(i).standard_normal(w.shape).astype(w.dtype)
                       for i, w in enumerate(model.get_weights())])
    ours = to_aebook(model)
    assert isinstance(ours, aebook.Autoencoder) and ours.output == "sigmoid" and ours.activation == "relu"
    x = np.random.default_rng(0).random((257, 100), dtype=np.float32)
    keras_out = np.asarray(model.predict(x, verbose=0))
    with torch.no_grad():
        ours_out = ours(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours_out, keras_out, rtol=1e-5, atol=1e-6)
    # a kernel is (in, out) in Keras and (out, in) in nn.Linear
    first = model.layers[1].get_weights()[0]
    np.testing.assert_array_equal(ours.linear_layers()[0].weight.detach().numpy(), first.T)


def test_copy_refuses_another_shape():
    other = aebook.Autoencoder(100, 100, hidden=(100,), activation="relu", output="sigmoid")
    with pytest.raises(ValueError, match="Dense layers"):
        to_aebook(keras_readers_model(0), into=other)
    linear = aebook.Autoencoder(100, 100, hidden=(100, 100), output="sigmoid")
    with pytest.raises(ValueError, match="activations"):
        to_aebook(keras_readers_model(0), into=linear)


def test_backend_guard():
    env = {}
    assert require_torch_backend(env) == "torch" and env == {"KERAS_BACKEND": "torch"}
    assert require_torch_backend({"KERAS_BACKEND": "torch"}) == "torch"
    with pytest.raises(RuntimeError, match="KERAS_BACKEND is 'jax'.*torch"):
        require_torch_backend({"KERAS_BACKEND": "jax"})


def test_importing_with_another_backend_fails_clearly():
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "PYTHONPATH": str(ROOT / "book")}
    script = ("import sys\ntry:\n    import keras_reader\nexcept RuntimeError as err:\n"
              "    print('keras' in sys.modules, err)\n")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    # it stops before Keras is imported, and says what to do
    assert done.stdout.startswith("False KERAS_BACKEND is 'tensorflow'") and "Unset KERAS_BACKEND" in done.stdout


def test_run_keras_tiny():
    record = run_keras(epochs=1, n_rows=200)
    assert record["made_by"] == "book/keras_reader.py:run_keras" and record["versions"]["keras"] == "3.15.1"
    assert record["settings"]["keras_backend"] == "torch" and record["settings"]["seeds"] == [0, 1]
    assert list(record["results"]) == ["keras s0", "aebook s0", "keras s1", "aebook s1"]
    for name, result in record["results"].items():
        assert len(record["series"][f"{name} loss"]) == 1 and len(record["series"][f"{name} dead"]) == 2
        assert result["loss"] == pytest.approx(result["floor"] + result["excess"], abs=2e-6)
        assert result["units"] == 500 and sum(result["dead_final_per_layer"]) == result["dead_final"]
        # the loss each reports for the epoch is close to aebook's evaluation of the weights after it
        assert result["final_epoch_loss"] == pytest.approx(result["loss"], abs=0.01)
    check = record["check"]
    assert check["kwargs"] == {"epochs": 1, "seeds": [0]} and check["rtol"] == keras_reader.RTOL
    assert set(check["values"]) == {"keras s0 loss", "aebook s0 loss"}
    json.dumps(record)
    with pytest.raises(ValueError, match="epochs"):
        run_keras(epochs=0)
    with pytest.raises(ValueError, match="seeds"):
        run_keras(epochs=1, seeds=())


def test_keras_repeats_a_short_run_bitwise_in_a_fresh_process():
    # backs RTOL's comment: on the torch backend, one thread and the pinned CPU code path, a fresh process
    # gives the same epoch loss and the same weights, bit for bit
    from aebook.notebook import notebook_environment

    env = {**os.environ, "KERAS_BACKEND": "torch", "PYTHONPATH": str(ROOT / "book")}
    notebook_environment(env)
    script = ("import hashlib, torch\ntorch.set_num_threads(1)\nimport aebook, keras_reader\n"
              "x = aebook.data.uniform(2000, 100, seed=0).numpy()\n"
              "model = keras_reader.keras_readers_model(0)\n"
              "loss = model.fit(x, x, batch_size=32, epochs=1, shuffle=True, verbose=0).history['loss'][0]\n"
              "weights = b''.join(w.tobytes() for w in model.get_weights())\n"
              "print(repr(loss), hashlib.sha256(weights).hexdigest())\n")
    runs = [subprocess.Popen([sys.executable, "-W", "ignore", "-c", script], env=env, cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err for _, err in outputs]
    first, second = (out.split() for out, _ in outputs)
    assert len(first) == 2 and first == second


def test_stored_record_matches_the_chapter_settings():
    path = ROOT / "records" / "keras_reader.json"
    if not path.exists():
        pytest.skip("records/keras_reader.json not made yet")
    record = json.loads(path.read_text())
    settings = record["settings"]
    assert record["made_by"] == "book/keras_reader.py:run_keras"
    assert (settings["n_rows"], settings["n_features"], settings["batch_size"], settings["epochs"]) == (
        30_000, 100, 32, 50)
    assert settings["seeds"] == [0, 1] and settings["keras_backend"] == "torch" and "keras" in record["versions"]


def test_keras_source_quotes_the_installed_file():
    start, end, text = keras_reader.keras_source("src/backend/torch/nn.py", "if from_logits:",
                                                 "return tnn.binary_cross_entropy(output,",
                                                 after="def binary_crossentropy(")
    assert end > start and text.count("\n") == end - start
    assert "torch.clip(output, backend.epsilon(), 1.0 - backend.epsilon())" in text
    with pytest.raises(ValueError, match="no line containing"):
        keras_reader.keras_source("src/backend/torch/nn.py", "no such line anywhere", "x")
    with pytest.raises(ValueError, match="has no file"):
        keras_reader.keras_source("src/no_such_file.py", "a", "b")
