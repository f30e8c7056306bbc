"""Measure what moves a record check: the same run twice, MKL/ATen default paths, and a learning rate 10% off.

Prints the largest relative difference of first-epoch losses (tests/test_records.py cites the output).
Run from the repository root: .venv/bin/python scripts/measure_record_tolerance.py  (about a minute)
"""
import json
import os
import subprocess
import sys

code = r'''
import os, sys, json
sys.path.insert(0, "book")
import torch; torch.set_num_threads(1)
import linear_mse, original_question
lr = float(os.environ.get("LR_SCALE", "1"))
linear_mse.SLOW_LR = 1e-5 * lr
a = linear_mse.run_slow_lr(epochs=1)["series"]
original_question.LR = 1e-3 * lr
b = original_question.run_full_scale(epochs=1)["series"]
print(json.dumps({**a, **b}))
'''
def run(env):
    e = {k: v for k, v in os.environ.items() if k not in ("MKL_CBWR", "ATEN_CPU_CAPABILITY")}
    e.update({"OMP_NUM_THREADS": "1", **env})
    out = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
pinned = {"MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "AEBOOK_PROGRESS": "0"}
base = run(pinned)
again = run(pinned)
unpinned = run({"AEBOOK_PROGRESS": "0"})
lr = run({**pinned, "LR_SCALE": "1.1"})
def rel(a, b):
    return max(abs(a[k][0] - b[k][0]) / abs(b[k][0]) for k in b if k.endswith("loss"))
def relmin(a, b):
    return min(abs(a[k][0] - b[k][0]) / abs(b[k][0]) for k in b if k.endswith("loss"))
print("pinned twice: max rel", rel(again, base))
print("MKL/ATen default vs pinned: max rel", rel(unpinned, base))
print("lr x1.1: min rel", relmin(lr, base), "max", rel(lr, base))
