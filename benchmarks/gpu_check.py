"""Check and time aebook on a CUDA GPU, in one command. On a machine without CUDA it prints
"no CUDA device, skipped" and exits 0.

Run from the repository root, with the CUDA build of torch installed in .venv (see README)::

    .venv/bin/python benchmarks/gpu_check.py              # checks, unit tests on CUDA, timings
    .venv/bin/python benchmarks/gpu_check.py --no-tests   # skip the unit tests
    .venv/bin/python benchmarks/gpu_check.py --full-epochs 1024   # the answer's full run

What it does, in order (each check prints PASS or FAIL; the exit status is 1 if any failed):

1. ``fit`` on CUDA gives the CPU's loss curve within float32 tolerance. The batch order of a
   minibatch run comes from a generator on the training device, and CUDA's ``randperm`` differs
   from the CPU's, so the curves are compared on a full-batch run (one batch = every row, whose
   loss and gradient do not depend on the order); minibatch runs are compared by their final
   losses over several seeds.
2. ``fit_many`` member ``i`` equals ``fit`` of model ``i`` on CUDA (curves and weights).
3. The unit tests (``tests/``) on CUDA: ``device=None`` picks CUDA when it is there.
4. Steps per second: ``fit`` on CUDA vs on the CPU, and vs a DataLoader baseline (the answer's
   loop: batches from a CPU DataLoader moved to the GPU, ``loss.item()`` every step).
5. The original question at full scale: 30,000 x 100 uniform rows, batch 128, the reader's ReLU
   model (hidden (100, 100), Glorot init, sigmoid, BCE, Adam 1e-3): ``--full-epochs`` epochs
   (default 20), the time projected to the answer's 1,024 epochs; goal on one H100: <= 30 s.
6. ``fit_many`` on the grid of the "Deep leaky-ReLU models" chapter at d = 100 with 16 seeds per
   cell, its table and model-steps per second.

``--self-test`` runs the same code with the CPU standing in for CUDA at small sizes (to check the
script itself on a machine without a GPU; its numbers mean nothing).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

import aebook
from aebook.losses import loss_function

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book"))  # the chapters' own modules: deep_grid (check 6)
RTOL_CURVE = 1e-4  # float32: rounding ~6e-8 per operation, summed in a different order on the GPU
FAILED: list[str] = []


def check(ok: bool, what: str, detail: str = "") -> None:
    print(f"  {'PASS' if ok else 'FAIL'}  {what}{'  (' + detail + ')' if detail else ''}", flush=True)
    if not ok:
        FAILED.append(what)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_fit(model: aebook.Autoencoder, x: torch.Tensor, device: torch.device,
              **kwargs: object) -> tuple[aebook.History, float]:
    """Run ``aebook.fit`` and return (history, steps per second), synchronising around it."""
    sync(device)
    start = time.perf_counter()
    h = aebook.fit(model, x, device=device, progress=False, **kwargs)
    sync(device)
    return h, h.steps / (time.perf_counter() - start)


def baseline_rate(model: aebook.Autoencoder, x: torch.Tensor, device: torch.device, epochs: int) -> float:
    """Steps per second of the answer's loop on ``device``: CPU DataLoader, batch to device, loss.item()."""
    model = model.to(device)
    loader = DataLoader(TensorDataset(x), batch_size=128, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = loss_function("bce", model.output)
    steps = 0
    sync(device)
    start = time.perf_counter()
    for _ in range(epochs):
        for (batch,) in loader:
            batch = batch.to(device)
            optimizer.zero_grad()
            value = loss_fn(model.decoder(model.encoder(batch)), batch)
            value.backward()
            optimizer.step()
            value.item()
            steps += 1
    sync(device)
    return steps / (time.perf_counter() - start)


def readers_model(seed: int = 0) -> aebook.Autoencoder:
    return aebook.Autoencoder(100, 100, hidden=(100, 100), activation="relu", output="sigmoid", init="glorot",
                              seed=seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-tests", action="store_true", help="skip the unit tests on CUDA")
    parser.add_argument("--full-epochs", type=int, default=20, help="epochs of the full-scale run (answer: 1024)")
    parser.add_argument("--self-test", action="store_true", help="CPU stands in for CUDA, small sizes")
    args = parser.parse_args(argv)

    if not args.self_test and not torch.cuda.is_available():
        print("no CUDA device, skipped (torch.cuda.is_available() is False; torch "
              f"{torch.__version__}). Nothing to check on this machine.")
        return 0
    torch.set_float32_matmul_precision("highest")  # no TF32: compare float32 with float32
    gpu = torch.device("cpu") if args.self_test else torch.device("cuda")
    cpu = torch.device("cpu")
    scale = 10 if args.self_test else 1
    name = "CPU (self-test)" if args.self_test else torch.cuda.get_device_name(0)
    print(f"device: {name}; torch {torch.__version__}; CUDA {torch.version.cuda}; "
          f"CPU threads {torch.get_num_threads()}")

    print("\n1. fit on the device vs fit on the CPU")
    for d, hidden, act, loss in [(2, (), "linear", "bce"), (100, (100,), "leaky_relu", "mse")]:
        x = aebook.data.uniform(2048 // scale, d, seed=0)
        curves = {}
        for dev in (cpu, gpu):
            m = aebook.Autoencoder(d, d, hidden=hidden, activation=act, output="sigmoid", seed=0)
            curves[dev.type] = aebook.fit(m, x, loss=loss, lr=1e-2, batch_size=len(x), epochs=100 // scale,
                                          device=dev, progress=False).loss
        worst = float(np.max(np.abs(curves[gpu.type] / curves["cpu"] - 1)))
        check(worst < RTOL_CURVE, f"full-batch loss curve, d={d} {act} {loss}", f"max relative difference {worst:.1e}")
        finals = {}
        for dev in (cpu, gpu):
            finals[dev.type] = np.array([
                aebook.fit(aebook.Autoencoder(d, d, hidden=hidden, activation=act, output="sigmoid", seed=s), x,
                           loss=loss, lr=1e-2, epochs=20 // scale + 1, seed=s, device=dev, progress=False).final
                for s in range(4)])
        spread = finals["cpu"].max() - finals["cpu"].min()
        gap = abs(np.median(finals[gpu.type]) - np.median(finals["cpu"]))
        check(gap <= max(2 * spread, 1e-3 * np.median(finals["cpu"])),
              f"minibatch final loss over 4 seeds, d={d}",
              f"median CPU {np.median(finals['cpu']):.4g}, device {np.median(finals[gpu.type]):.4g}, CPU seed "
              f"spread {spread:.2g}; batch orders differ between devices")

    print("\n2. fit_many member i == fit(model i) on the device")
    x = aebook.data.uniform(1000 // scale * 2, 4, seed=0)
    kwargs = dict(n_features=4, encoding_dim=2, hidden=(5,), activation="leaky_relu", output="sigmoid")
    lrs, seeds = [1e-3, 3e-3, 1e-2], [4, 5, 6]
    batched = [aebook.Autoencoder(seed=i, **kwargs) for i in range(3)]
    hs = aebook.fit_many(batched, x, loss="bce", lr=lrs, epochs=4, seeds=seeds, batch_size=64, device=gpu,
                         progress=False)
    for i, (model, h) in enumerate(zip(batched, hs, strict=True)):
        alone = aebook.Autoencoder(seed=i, **kwargs)
        ha = aebook.fit(alone, x, loss="bce", lr=lrs[i], epochs=4, seed=seeds[i], batch_size=64, device=gpu,
                        progress=False)
        worst = float(np.max(np.abs(h.loss / ha.loss - 1)))
        same_weights = all(torch.allclose(p, q, rtol=1e-4, atol=1e-6)
                           for p, q in zip(model.parameters(), alone.parameters(), strict=True))
        check(worst < 1e-5 and same_weights, f"member {i}", f"max relative curve difference {worst:.1e}")

    if not args.no_tests and not args.self_test:
        print("\n3. unit tests on CUDA (device=None picks CUDA)")
        env = {**os.environ, "AEBOOK_PROGRESS": "0"}
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
                                 "-k", "not browser"], cwd=ROOT, env=env, capture_output=True, text=True)
        print("  " + "\n  ".join(result.stdout.strip().splitlines()[-3:]))
        check(result.returncode == 0, "pytest tests/ on CUDA")

    print("\n4. steps per second (BCE, batch 128)")
    print(f"  {'model':>16s} {'CPU fit':>9s} {'dev fit':>9s} {'dev/CPU':>8s} {'dev baseline':>13s} "
          f"{'fit/baseline':>13s}")
    for d, label, make in [(2, "d=2 linear", lambda: aebook.Autoencoder(2, 2, output="sigmoid", seed=0)),
                           (100, "d=100 reader's", readers_model)]:
        x = aebook.data.uniform(30_000 // scale, d, seed=0)
        _, cpu_rate = timed_fit(make(), x, cpu, loss="bce", epochs=1)
        timed_fit(make(), x, gpu, loss="bce", epochs=1)  # warm up (CUDA context, kernels)
        _, dev_rate = timed_fit(make(), x, gpu, loss="bce", epochs=2)
        base = baseline_rate(make(), x, gpu, epochs=1)
        print(f"  {label:>16s} {cpu_rate:9.0f} {dev_rate:9.0f} {dev_rate / cpu_rate:7.1f}x {base:13.0f} "
              f"{dev_rate / base:12.1f}x", flush=True)

    print(f"\n5. the original question at full scale: 30,000 x 100, batch 128, {args.full_epochs} epoch(s)")
    x = aebook.data.uniform(30_000 // scale, 100, seed=0)
    model = readers_model()
    h, rate = timed_fit(model, x, gpu, loss="bce", lr=1e-3, batch_size=128, epochs=args.full_epochs)
    steps_1024 = 1024 * -(-len(x) // 128)
    projected = steps_1024 / rate
    ev = aebook.evaluate(model, x, "bce")
    print(f"  {rate:.0f} steps/s; {h.steps} steps in {h.steps / rate:.1f} s; projected for the answer's 1,024 epochs "
          f"({steps_1024} steps): {projected:.0f} s (goal on one H100: <= 30 s)")
    print(f"  final BCE {ev.loss:.4f} nats, floor {ev.floor:.4f}, excess {ev.excess:.4f}, reconstruction MSE "
          f"{ev.mse:.4f}")

    print("\n6. fit_many on the chapter's grid at d = 100, 16 seeds per cell")
    from deep_grid import markdown_table, run_grid  # the chapter's grid table (aebook.diagnose's is per model)

    sync(gpu)
    start = time.perf_counter()
    cells = run_grid(100, ["linear", "leaky_relu", "relu"], seeds=range(16 if not args.self_test else 2),
                     n_samples=30_000 // scale, epochs=max(1, 20 // scale), lr=3e-3, init="glorot", device=gpu,
                     progress=False)
    sync(gpu)
    seconds = time.perf_counter() - start
    model_steps = sum(h.steps for c in cells for h in c.histories)
    print(f"  {len(cells)} cells, {model_steps} model-steps in {seconds:.1f} s: {model_steps / seconds:.0f} "
          "model-steps/s (evaluation included)\n")
    print(markdown_table(cells))

    print(f"\n{'all checks passed' if not FAILED else 'FAILED: ' + '; '.join(FAILED)}")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
