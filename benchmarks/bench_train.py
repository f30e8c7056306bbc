"""How fast is aebook's training core? Ratios against a DataLoader baseline, measured in one process.

Three measurements, after a check of thread settings (benchmarks/RESULTS.md has the latest output
and what limits each):

1. ``fit`` vs a baseline written the way the original answer wrote it: a ``DataLoader`` over a
   ``TensorDataset`` (``shuffle=True, batch_size=128``), autograd, ``torch.optim.Adam`` and the
   loss read back to the host every step (``loss.item()``). Same model class, initial weights,
   data, loss, batch size and number of steps. Target: ``fit`` >= 2x the baseline for the
   2-feature linear model.
2. ``fit_many`` with K models vs K sequential ``fit`` calls (model-steps per second). Target:
   >= 20x at K = 64 for the 2-feature model; the sweep over K shows where batching stops paying.
3. Wall time to execute every chapter (``book/*.ipynb``) with the project's executor, on temporary
   copies (the stored outputs are never touched). Target: <= 5 minutes.
4. The reader's model (100 features, ReLU widths 100, sigmoid output, Glorot initialisation, BCE,
   Adam 1e-3, batch 32): steps per second of ``fit`` against the question's own code run by Keras 3
   on its torch backend (``book/keras_reader.py``: ``model.fit(x, x, batch_size=32, shuffle=True)``)
   and against a plain PyTorch loop (a ``randperm`` per epoch, autograd, ``torch.optim.Adam``, no
   per-step host sync). No target; printed as ratios.

The machine is shared and noisy, so every comparison runs its two sides alternately, several
times, and reports the median of the per-pair ratios; the 1-minute load average is printed with
each line. Run from the repository root::

    .venv/bin/python benchmarks/bench_train.py                 # everything (a few minutes on 2 cores)
    .venv/bin/python benchmarks/bench_train.py --skip-book     # training measurements only
    .venv/bin/python benchmarks/bench_train.py --profile       # also print a torch.profiler summary
    .venv/bin/python benchmarks/bench_train.py --threads 1     # torch.set_num_threads(1) first
    .venv/bin/python benchmarks/bench_train.py --only-reader   # only section 4 (seconds)
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

import aebook
from aebook.losses import loss_function

ROOT = Path(__file__).resolve().parent.parent
BOOK_TARGET_S = 300.0


def load() -> str:
    """The 1-minute load average, as text."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:  # pragma: no cover
        return "n/a"


def build(d: int, arch: str, seed: int = 0) -> aebook.Autoencoder:
    """The benchmark models: ``linear`` (d -> d -> d) or ``deep`` (the reader's: ReLU, hidden (d, d))."""
    if arch == "linear":
        return aebook.Autoencoder(d, d, output="sigmoid", seed=seed)
    return aebook.Autoencoder(d, d, hidden=(d, d), activation="relu", output="sigmoid", seed=seed)


def baseline_fit(model: aebook.Autoencoder, x: torch.Tensor, loss: str, lr: float, batch_size: int,
                 epochs: int, seed: int) -> tuple[int, float]:
    """Train ``model`` the way the original answer did; return (steps, mean loss of the last epoch).

    DataLoader over an in-memory TensorDataset, autograd, torch.optim.Adam, and the loss brought
    to the host every step. The model is called through its ``nn.Sequential`` parts directly, so
    the baseline pays nothing for aebook's input checks.
    """
    torch.manual_seed(seed)
    loader = DataLoader(TensorDataset(x), batch_size=batch_size, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = loss_function(loss, model.output)
    steps, last = 0, []
    for _ in range(epochs):
        last = []
        for (batch,) in loader:
            optimizer.zero_grad()
            value = loss_fn(model.decoder(model.encoder(batch)), batch)
            value.backward()
            optimizer.step()
            last.append(value.item())  # the per-step host sync ("loss converted to numpy every step")
            steps += 1
    return steps, sum(last) / len(last)


def timed(fn: Callable[[], int]) -> tuple[float, float]:
    """Run ``fn`` (which returns a number of steps); return (steps per second, seconds)."""
    start = time.perf_counter()
    steps = fn()
    seconds = time.perf_counter() - start
    return steps / seconds, seconds


def compare_fit(d: int, arch: str, n: int, epochs: int, repeats: int, lr: float = 1e-3) -> dict:
    """Baseline vs ``fit`` on the same model, data and steps, alternated ``repeats`` times."""
    x = aebook.data.uniform(n, d, seed=0)
    base_rates, fit_rates, ratios = [], [], []
    finals = {}
    for r in range(repeats):
        model = build(d, arch)
        holder = {}

        def run_base(model=model, holder=holder, r=r):
            steps, holder["final"] = baseline_fit(model, x, "bce", lr, 128, epochs, seed=r)
            return steps

        model2 = build(d, arch)

        def run_fit(model2=model2, holder=holder, r=r):
            h = aebook.fit(model2, x, loss="bce", lr=lr, batch_size=128, epochs=epochs, seed=r, device="cpu",
                           progress=False)
            holder["fit_final"] = h.final
            return h.steps

        # alternate which side goes first, so a load change does not favour one side
        order = [("base", run_base), ("fit", run_fit)] if r % 2 == 0 else [("fit", run_fit), ("base", run_base)]
        rates = {}
        for name, fn in order:
            rates[name], _ = timed(fn)
        base_rates.append(rates["base"])
        fit_rates.append(rates["fit"])
        ratios.append(rates["fit"] / rates["base"])
        finals = {"baseline": holder["final"], "fit": holder["fit_final"]}
    return {
        "d": d, "arch": arch, "steps": epochs * -(-n // 128),
        "base": statistics.median(base_rates), "fit": statistics.median(fit_rates),
        "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios), "finals": finals,
    }


def compare_many(d: int, arch: str, k: int, n: int, epochs: int, repeats: int, lr: float = 1e-3) -> dict:
    """``fit_many`` of K models vs K sequential ``fit`` calls (and vs the baseline), in model-steps/s."""
    x = aebook.data.uniform(n, d, seed=0)
    many_rates, seq_rates, base_rates = [], [], []
    for r in range(repeats):
        models = [build(d, arch, seed=i) for i in range(k)]

        def run_many(models=models):
            hs = aebook.fit_many(models, x, loss="bce", lr=lr, batch_size=128, epochs=epochs, seeds=list(range(k)),
                                 device="cpu", progress=False)
            return sum(h.steps for h in hs)

        def run_seq():
            return sum(aebook.fit(build(d, arch, seed=i), x, loss="bce", lr=lr, batch_size=128, epochs=epochs,
                                  seed=i, device="cpu", progress=False).steps for i in range(k))

        def run_base():
            return sum(baseline_fit(build(d, arch, seed=i), x, "bce", lr, 128, epochs, seed=i)[0]
                       for i in range(min(k, 4)))  # the baseline's rate per model does not depend on K

        order = [run_many, run_seq] if r % 2 == 0 else [run_seq, run_many]
        rates = {fn: timed(fn)[0] for fn in order}
        many_rates.append(rates[run_many])
        seq_rates.append(rates[run_seq])
        if r == 0:
            base_rates.append(timed(run_base)[0])
    many, seq = statistics.median(many_rates), statistics.median(seq_rates)
    return {"d": d, "arch": arch, "k": k, "many": many, "seq": seq, "ratio": statistics.median(
        [m / s for m, s in zip(many_rates, seq_rates, strict=True)]), "vs_base": many / base_rates[0]}


_THREAD_WORKLOAD = """
import sys, time, torch, aebook
if len(sys.argv) > 1:
    torch.set_num_threads(int(sys.argv[1]))
rates = []
for d, epochs in [(2, 8), (100, 2)]:
    x = aebook.data.uniform(1024, d, seed=0)
    models = [aebook.Autoencoder(d, d, hidden=(d,), activation="leaky_relu", output="sigmoid", seed=i)
              for i in range(4)]
    aebook.fit_many(models, x, loss="bce", epochs=1, device="cpu", progress=False)  # warm up
    start = time.perf_counter()
    h = aebook.fit_many(models, x, loss="bce", epochs=epochs, device="cpu", progress=False)
    rates.append(h[0].steps / (time.perf_counter() - start))
print(*rates)
"""

THREAD_SETTINGS = [
    ("default (OMP_WAIT_POLICY unset)", {}, []),
    ("OMP_WAIT_POLICY=PASSIVE", {"OMP_WAIT_POLICY": "PASSIVE"}, []),
    ("torch.set_num_threads(1), policy unset", {}, ["1"]),
]


def compare_thread_settings(repeats: int = 2) -> None:
    """Time a small fit_many workload (K = 4 leaky-ReLU models) in fresh processes under each setting.

    The OpenMP wait policy must be set before torch is imported, hence one process per run.
    """
    import subprocess

    rates: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in THREAD_SETTINGS}
    for _ in range(repeats):
        for name, env, args in THREAD_SETTINGS:
            base_env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}  # the default is unset
            out = subprocess.run([sys.executable, "-c", _THREAD_WORKLOAD, *args], env={**base_env, **env},
                                 capture_output=True, text=True, check=True).stdout.split()
            rates[name].append((float(out[0]), float(out[1])))
    base = [statistics.median(v[i] for v in rates[THREAD_SETTINGS[0][0]]) for i in range(2)]
    print(f"{'setting':>44s} {'d=2 st/s':>9s} {'ratio':>6s} {'d=100 st/s':>11s} {'ratio':>6s} {'load':>5s}")
    for name, _, _ in THREAD_SETTINGS:
        med = [statistics.median(v[i] for v in rates[name]) for i in range(2)]
        print(f"{name:>44s} {med[0]:9.0f} {med[0] / base[0]:5.1f}x {med[1]:11.0f} {med[1] / base[1]:5.1f}x "
              f"{load():>5s}", flush=True)


def plain_torch_fit(model: aebook.Autoencoder, x: torch.Tensor, lr: float, batch_size: int, epochs: int,
                    seed: int) -> int:
    """Train ``model`` with BCE by a plain PyTorch loop; return the number of steps.

    A shuffled order per epoch (``randperm``), autograd through the model's ``nn.Sequential`` parts,
    ``binary_cross_entropy_with_logits`` and ``torch.optim.Adam``; the loss is summed on the device,
    never read back per step.
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps, total = 0, torch.zeros(())
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for begin in range(0, len(x), batch_size):
            batch = x[order[begin : begin + batch_size]]
            optimizer.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model.decoder(model.encoder(batch)), batch)
            loss.backward()
            optimizer.step()
            total += loss.detach()
            steps += 1
    return steps


def compare_reader(n: int, repeats: int) -> dict:
    """The reader's model, batch 32: ``fit`` vs Keras (torch backend) vs a plain PyTorch loop, in steps/s.

    Each repeat runs the three sides once, one epoch of ``n`` rows each, in a rotating order; the
    ratios are medians of the per-repeat ratios. Keras is imported here (through the chapter's
    ``book/keras_reader.py``, which sets ``KERAS_BACKEND=torch`` first), never by ``aebook``.
    """
    sys.path.insert(0, str(ROOT / "book"))
    import keras_reader  # the chapter's code: sets KERAS_BACKEND=torch, then imports keras

    x = aebook.data.uniform(n, 100, seed=0)
    x_np = x.numpy()

    def ours() -> aebook.Autoencoder:
        return aebook.Autoencoder(100, 100, hidden=(100, 100), activation="relu", output="sigmoid", init="glorot",
                                  seed=0)

    def run_fit() -> int:
        return aebook.fit(ours(), x, loss="bce", lr=1e-3, batch_size=32, epochs=1, seed=0, device="cpu",
                          progress=False).steps

    def run_keras() -> int:
        model = keras_readers_model(0)
        model.fit(x_np, x_np, batch_size=32, epochs=1, shuffle=True, verbose=0)
        return -(-n // 32)

    def run_plain() -> int:
        return plain_torch_fit(ours(), x, 1e-3, 32, 1, seed=0)

    keras_readers_model = keras_reader.keras_readers_model
    warm = aebook.data.uniform(256, 100, seed=1).numpy()  # first calls pay for lazy initialisation
    keras_readers_model(0).fit(warm, warm, batch_size=32, epochs=1, verbose=0)
    aebook.fit(ours(), torch.from_numpy(warm), loss="bce", batch_size=32, epochs=1, progress=False, device="cpu")
    plain_torch_fit(ours(), torch.from_numpy(warm), 1e-3, 32, 1, seed=0)
    sides = [("fit", run_fit), ("keras", run_keras), ("plain", run_plain)]
    rates: dict[str, list[float]] = {name: [] for name, _ in sides}
    for r in range(repeats):
        for name, fn in sides[r % 3:] + sides[: r % 3]:  # rotate who goes first
            rates[name].append(timed(fn)[0])
    return {
        "steps": -(-n // 32), "rates": {name: statistics.median(v) for name, v in rates.items()},
        "vs_keras": statistics.median([f / k for f, k in zip(rates["fit"], rates["keras"], strict=True)]),
        "vs_plain": statistics.median([f / p for f, p in zip(rates["fit"], rates["plain"], strict=True)]),
        "plain_vs_keras": statistics.median([p / k for p, k in zip(rates["plain"], rates["keras"], strict=True)]),
        "keras": keras_reader.keras.__version__, "backend": keras_reader.keras.backend.backend(),
    }


def book_time(timeout: int = 600) -> tuple[float, list[tuple[str, float]]]:
    """Execute every book/*.ipynb on a temporary copy of the repository layout; return (total, per notebook)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from execute_notebooks import execute  # the project's own executor

    os.environ["AEBOOK_PROGRESS"] = "0"
    notebooks = sorted((ROOT / "book").glob("*.ipynb"))
    times = []
    with tempfile.TemporaryDirectory(prefix="aebook_bench_") as tmp:
        tmp_root = Path(tmp)
        # the chapters run in book/ and may read ../something: mirror the top level with links
        for entry in ROOT.iterdir():
            if entry.name not in ("book", ".git", "_build", ".venv"):
                (tmp_root / entry.name).symlink_to(entry)
        (tmp_root / "book").mkdir()
        for entry in (ROOT / "book").iterdir():
            if entry.suffix != ".ipynb":
                (tmp_root / "book" / entry.name).symlink_to(entry)
        for nb in notebooks:
            copy = tmp_root / "book" / nb.name
            shutil.copyfile(nb, copy)
            seconds = execute(copy, timeout=timeout)
            times.append((nb.name, seconds))
            print(f"  {nb.name:32s} {seconds:6.1f} s   (load {load()})", flush=True)
    return sum(s for _, s in times), times


def profile_fit(d: int, arch: str, n: int) -> None:
    """Print where ``fit``'s time goes (torch.profiler, self CPU time)."""
    from torch.profiler import ProfilerActivity, profile

    x = aebook.data.uniform(n, d, seed=0)
    aebook.fit(build(d, arch), x, loss="bce", epochs=1, device="cpu", progress=False)  # warm up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        aebook.fit(build(d, arch), x, loss="bce", epochs=1, device="cpu", progress=False)
    print(f"\ntorch.profiler, fit d={d} {arch}, {-(-n // 128)} steps, {torch.get_num_threads()} thread(s):")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000, help="rows for the fit-vs-baseline runs (default 30000)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per timed run (default 1)")
    parser.add_argument("--repeats", type=int, default=5, help="alternating repeats per comparison (default 5)")
    parser.add_argument("--many-rows", type=int, default=4096, help="rows for the fit_many runs (default 4096)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads before measuring")
    parser.add_argument("--skip-book", action="store_true", help="do not time the whole book")
    parser.add_argument("--only-book", action="store_true", help="time only the whole book")
    parser.add_argument("--profile", action="store_true", help="print a torch.profiler summary of fit")
    parser.add_argument("--reader-rows", type=int, default=8192,
                        help="rows (one epoch, batch 32) per timed run of section 4 (default 8192: 256 steps)")
    parser.add_argument("--only-reader", action="store_true", help="run only section 4 (fit vs Keras vs plain loop)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    print(f"date {time.strftime('%Y-%m-%d %H:%M %Z')}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs; torch {torch.__version__}; threads {torch.get_num_threads()}; "
          f"python {platform.python_version()}; 1-min load at start {load()}")

    if args.only_reader:
        args.skip_book = True
    training = not (args.only_book or args.only_reader)
    if training and not args.threads:
        print("\n0. thread settings: fit_many, K = 4 leaky-ReLU models (d -> d -> d -> d -> d), 1024 rows, "
              "fresh process each, median of 2")
        compare_thread_settings()

    if training:
        # warm up both code paths once (first calls pay for lazy initialisation)
        warm = aebook.data.uniform(512, 2, seed=0)
        baseline_fit(build(2, "linear"), warm, "bce", 1e-3, 128, 1, seed=0)
        aebook.fit(build(2, "linear"), warm, loss="bce", epochs=1, device="cpu", progress=False)

        print(f"\n1. fit vs DataLoader baseline (BCE, batch 128, {args.rows} rows x {args.epochs} epoch(s) per run, "
              f"median of {args.repeats} alternating runs)")
        print(f"{'model':>16s} {'steps':>6s} {'baseline st/s':>14s} {'fit st/s':>10s} {'fit/baseline':>13s} "
              f"{'[min, max]':>14s} {'load':>5s}")
        for d, arch in [(2, "linear"), (100, "linear"), (100, "deep")]:
            r = compare_fit(d, arch, args.rows, args.epochs, args.repeats)
            target = ("   target >= 2x: " + ("met" if r["ratio"] >= 2 else "MISSED")
                      if (d, arch) == (2, "linear") else "")
            print(f"{f'd={d} {arch}':>16s} {r['steps']:6d} {r['base']:14.0f} {r['fit']:10.0f} {r['ratio']:12.2f}x "
                  f"[{r['ratio_min']:.2f}, {r['ratio_max']:.2f}] {load():>5s}{target}", flush=True)
            print(f"{'':>16s} last-epoch loss: baseline {r['finals']['baseline']:.4f}, fit {r['finals']['fit']:.4f}")

        print(f"\n2. fit_many (K models in one pass) vs K sequential fit calls, model-steps/s "
              f"({args.many_rows} rows x {args.epochs} epoch(s), median of 3 alternating runs)")
        print(f"{'model':>16s} {'K':>3s} {'sequential':>11s} {'fit_many':>10s} {'many/seq':>9s} {'many/baseline':>14s} "
              f"{'load':>5s}")
        for d, arch, ks in [(2, "linear", (1, 4, 16, 64)), (100, "linear", (1, 4, 16, 64)), (100, "deep", (1, 4, 16))]:
            for k in ks:
                r = compare_many(d, arch, k, args.many_rows, args.epochs, repeats=3)
                target = ("   target >= 20x: " + ("met" if r["ratio"] >= 20 else "MISSED")
                          if (d, arch, k) == (2, "linear", 64) else "")
                print(f"{f'd={d} {arch}':>16s} {k:3d} {r['seq']:11.0f} {r['many']:10.0f} {r['ratio']:8.1f}x "
                      f"{r['vs_base']:13.1f}x {load():>5s}{target}", flush=True)

    if args.profile:
        profile_fit(2, "linear", args.rows)
        profile_fit(100, "deep", 4096)

    if not args.skip_book:
        print("\n3. whole book: execute every book/*.ipynb (temporary copies; stored outputs untouched)")
        total, times = book_time()
        verdict = "met" if total <= BOOK_TARGET_S else "MISSED"
        print(f"  total {total:.1f} s for {len(times)} notebooks; target <= {BOOK_TARGET_S:.0f} s: {verdict} "
              f"(load {load()})")

    if not args.only_book:
        print(f"\n4. the reader's model (100 features, ReLU, widths 100, sigmoid, Glorot, BCE, Adam 1e-3, batch 32): "
              f"steps/s, {args.reader_rows} rows x 1 epoch per run, median of {args.repeats} rotating runs")
        r = compare_reader(args.reader_rows, args.repeats)
        rates = r["rates"]
        print(f"{'steps':>6s} {'fit st/s':>9s} {'Keras st/s':>11s} {'plain st/s':>11s} {'fit/Keras':>10s} "
              f"{'fit/plain':>10s} {'plain/Keras':>12s} {'load':>5s}")
        print(f"{r['steps']:6d} {rates['fit']:9.0f} {rates['keras']:11.0f} {rates['plain']:11.0f} "
              f"{r['vs_keras']:9.2f}x {r['vs_plain']:9.2f}x {r['plain_vs_keras']:11.2f}x {load():>5s}   "
              f"(Keras {r['keras']}, {r['backend']} backend)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
