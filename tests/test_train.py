import numpy as np
import pytest
import torch

import aebook
from aebook.engine import StackedAutoencoders
from aebook.losses import loss_and_grad, loss_function


@pytest.mark.parametrize("activation", ["linear", "relu", "leaky_relu"])
@pytest.mark.parametrize(
    "loss,output", [("mse", "linear"), ("mse", "sigmoid"), ("bce", "sigmoid"), ("bce_prob", "sigmoid")]
)
def test_engine_gradient_equals_autograd(activation, loss, output):
    model = aebook.Autoencoder(5, 3, hidden=(4,), activation=activation, output=output, seed=0).double()
    x = aebook.data.uniform(16, 5, seed=1).double()
    value = loss_function(loss, output)(model.logits(x), x)
    value.backward()
    expected = torch.cat([t.grad.flatten() for layer in model.linear_layers() for t in (layer.weight, layer.bias)])

    stack = StackedAutoencoders([model], torch.device("cpu"), torch.float64)
    logits, inputs, pre = stack.forward(x.unsqueeze(0))
    engine_value, grad_logits = loss_and_grad(loss, output, logits, x.unsqueeze(0))
    grad = stack.backward(grad_logits, inputs, pre)[0]
    assert engine_value.item() == pytest.approx(value.item(), rel=1e-12)
    torch.testing.assert_close(grad, expected, rtol=1e-10, atol=1e-12)


def test_fit_linear_mse_converges_below_1e5():
    x = aebook.data.uniform(2000, 2, seed=0)
    model = aebook.Autoencoder(2, 2, seed=0)
    h = aebook.fit(model, x, loss="mse", lr=1e-2, batch_size=128, epochs=200, tol=1e-5, progress=False)
    assert h.converged and h.final < 1e-5
    assert h.epochs == len(h.loss) and h.epochs_to(1e-5) == h.epochs
    assert h.steps == h.epochs * 16  # ceil(2000 / 128) steps per epoch


def test_history_contract():
    x = aebook.data.uniform(300, 2, seed=0)
    h = aebook.fit(aebook.Autoencoder(2, 2, seed=0), x, epochs=3, progress=False)
    assert isinstance(h.loss, np.ndarray) and h.loss.ndim == 1 and len(h.loss) == 3
    assert h.final == h.loss[-1] and h.epochs == 3 and not h.converged and h.seconds > 0


def test_same_seed_gives_bitwise_identical_run_on_cpu():
    x = aebook.data.uniform(1000, 4, seed=0)
    runs = []
    for _ in range(2):
        model = aebook.Autoencoder(4, 4, hidden=(6,), activation="relu", output="sigmoid", seed=5)
        h = aebook.fit(model, x, loss="bce", epochs=3, seed=7, device="cpu", progress=False)
        runs.append((h.loss, [p.detach().clone() for p in model.parameters()]))
    assert np.array_equal(runs[0][0], runs[1][0])
    assert all(torch.equal(p, q) for p, q in zip(runs[0][1], runs[1][1], strict=True))


def test_batch_seed_changes_the_run():
    x = aebook.data.uniform(1000, 2, seed=0)
    a = aebook.fit(aebook.Autoencoder(2, 2, seed=0), x, epochs=2, seed=0, progress=False)
    b = aebook.fit(aebook.Autoencoder(2, 2, seed=0), x, epochs=2, seed=1, progress=False)
    assert not np.array_equal(a.loss, b.loss)


def test_fit_reports_the_mean_epoch_loss_of_what_it_trains():
    # With lr so small that nothing moves, the epoch loss is the loss of the initial model.
    x = aebook.data.uniform(512, 3, seed=0)
    model = aebook.Autoencoder(3, 3, output="sigmoid", seed=0)
    before = aebook.evaluate(model, x, "bce").loss
    h = aebook.fit(model, x, loss="bce", lr=1e-12, epochs=1, progress=False)
    assert h.final == pytest.approx(before, rel=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"loss": "hinge"}, "unknown loss"),
        ({"lr": -1.0}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"epochs": 0}, "epochs"),
        ({"tol": -1.0}, "tol"),
        ({"device": "tpu"}, "device"),
        ({"device": "banana"}, "device"),
    ],
)
def test_fit_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        aebook.fit(aebook.Autoencoder(2, 2, output="sigmoid"), torch.rand(10, 2), progress=False, **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_fit_refuses_unavailable_cuda():
    with pytest.raises(ValueError, match="CUDA is not available"):
        aebook.fit(aebook.Autoencoder(2, 2), torch.rand(10, 2), device="cuda", progress=False)


@pytest.mark.parametrize(
    "x, match",
    [
        (torch.rand(10), "2-D"),
        (torch.rand(10, 3), "expects 2"),
        (torch.tensor([[0.1, float("nan")]]), "NaN"),
        (torch.tensor([[0.1, 1.2]]), r"\[0, 1\]"),
        (torch.tensor([[-0.1, 0.2]]), r"\[0, 1\]"),
    ],
)
def test_fit_bad_data(x, match):
    with pytest.raises(ValueError, match=match):
        aebook.fit(aebook.Autoencoder(2, 2, output="sigmoid"), x, loss="bce", progress=False)


def test_bce_needs_sigmoid_output():
    with pytest.raises(ValueError, match="output='sigmoid'"):
        aebook.fit(aebook.Autoencoder(2, 2, output="linear"), torch.rand(10, 2), loss="bce", progress=False)


def test_divergence_stops_with_a_message():
    x = aebook.data.uniform(256, 4, seed=0) * 1e3
    model = aebook.Autoencoder(4, 4, hidden=(8, 8), seed=0)
    with pytest.raises(aebook.TrainingDiverged, match="lower learning rate") as info:
        aebook.fit(model, x, loss="mse", lr=1e12, epochs=50, progress=False)
    assert isinstance(info.value, ValueError)


def test_ctrl_c_returns_the_history_so_far(monkeypatch):
    import aebook.train as train

    calls = {"n": 0}
    real_step = train.Adam.step

    def interrupt_on_third_epoch(self, grad):
        calls["n"] += 1
        if calls["n"] > 2 * 4:  # 4 steps per epoch below
            raise KeyboardInterrupt
        real_step(self, grad)

    monkeypatch.setattr(train.Adam, "step", interrupt_on_third_epoch)
    with pytest.warns(UserWarning, match="interrupted after 2"):
        h = aebook.fit(aebook.Autoencoder(2, 2, seed=0), aebook.data.uniform(512, 2), epochs=10, progress=False)
    assert h.interrupted and h.epochs == 2 and len(h.loss) == 2


def test_ctrl_c_mid_epoch_leaves_the_weights_of_the_last_finished_step(monkeypatch):
    import aebook.train as train

    real_step = train.Adam.step
    seen = {"steps": 0}

    def interrupt_in_step_11(self, grad):  # epoch 3 of 4-step epochs, before the update
        if seen["steps"] == 10:
            raise KeyboardInterrupt
        real_step(self, grad)
        seen["steps"] += 1
        seen["params"] = self.params.detach().clone()  # (1, P): layer by layer, weight then bias

    monkeypatch.setattr(train.Adam, "step", interrupt_in_step_11)
    model = aebook.Autoencoder(2, 2, hidden=(3,), activation="leaky_relu", seed=0)
    with pytest.warns(UserWarning, match="interrupted after 2"):
        aebook.fit(model, aebook.data.uniform(512, 2), epochs=10, progress=False)
    flat = torch.cat([t.detach().flatten() for layer in model.linear_layers() for t in (layer.weight, layer.bias)])
    assert torch.equal(flat, seen["params"][0])  # step 10's weights, not epoch 2's and not the initial ones


def test_progress_bar_can_be_turned_off_and_on(capsys, monkeypatch):
    x = aebook.data.uniform(256, 2, seed=0)
    aebook.fit(aebook.Autoencoder(2, 2, seed=0), x, epochs=2, progress=False)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("AEBOOK_PROGRESS", "1")
    aebook.fit(aebook.Autoencoder(2, 2, seed=0), x, epochs=2)
    assert "epoch" in capsys.readouterr().err
    monkeypatch.setenv("AEBOOK_PROGRESS", "0")
    aebook.fit(aebook.Autoencoder(2, 2, seed=0), x, epochs=2)
    assert capsys.readouterr().err == ""


def test_evaluate_splits_loss_into_floor_and_excess():
    x = aebook.data.uniform(4000, 3, seed=0)
    model = aebook.Autoencoder(3, 3, output="sigmoid", seed=0)
    ev = aebook.evaluate(model, x, "bce")
    assert ev.floor == pytest.approx(aebook.floors.bce_floor(x))
    assert ev.excess == pytest.approx(ev.loss - ev.floor)
    assert ev.excess > 0  # BCE >= H(t) with equality only at p = t
    assert aebook.excess(model, x, "bce") == pytest.approx(ev.excess)
    with torch.no_grad():
        direct = float(torch.nn.functional.binary_cross_entropy_with_logits(model.logits(x).double(), x.double()))
        mse = float(((model(x).double() - x.double()) ** 2).mean())
    assert ev.loss == pytest.approx(direct, rel=1e-6) and ev.mse == pytest.approx(mse, rel=1e-6)


def test_on_epoch_sees_the_current_weights():
    x = aebook.data.uniform(512, 2, seed=0)
    seen = []

    def record(epoch, model):
        seen.append((epoch, aebook.evaluate(model, x, "mse").loss))

    h = aebook.fit(aebook.Autoencoder(2, 2, seed=0), x, lr=1e-2, epochs=3, progress=False, on_epoch=record)
    assert [e for e, _ in seen] == [1, 2, 3]
    assert seen[-1][1] < seen[0][1]
    assert h.epochs == 3
