#!/bin/bash
# Mutation probe of the training core (issue: tests that catch a broken move). Each line plants one
# small bug in a copy of the tree (never in the working tree) and runs the core tests there; every
# mutation must make them fail (rc=1), and the unmutated baseline must pass (rc=0).
# Usage: bash scripts/mutation_probe.sh   (about two minutes on 2 cores)
set -u
WORK="$(mktemp -d)/tree"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
run() {  # name, file, python-replacement
  rm -rf "$WORK" && mkdir "$WORK" && cp -r $SRC/aebook $SRC/tests $SRC/conftest.py $SRC/nbval_compare.py $SRC/pyproject.toml $SRC/nbval_sanitize.cfg $SRC/book "$WORK"/ 2>/dev/null
  python3 - "$2" "$3" "$4" "$WORK" <<'PY'
import sys
path, old, new = sys.argv[1], sys.argv[2], sys.argv[3]
p = sys.argv[4] + '/' + path
s = open(p).read()
assert old in s, (path, old)
open(p, 'w').write(s.replace(old, new))
PY
  cd "$WORK" && PYTHONPATH="$WORK" OMP_NUM_THREADS=1 timeout 900 $SRC/.venv/bin/python -m pytest -p no:cacheprovider -o addopts="" -q -x \
     tests/test_engine_exact.py tests/test_train.py tests/test_fit_many.py tests/test_data_models.py > "$WORK.$1.log" 2>&1
  rc=$?
  echo "$1: rc=$rc $(tail -1 "$WORK.$1.log")"
  cd $SRC
}
run baseline aebook/engine.py 'BETA1, BETA2' 'BETA1, BETA2'
[ "$rc" -eq 0 ] || { echo "the unmutated baseline fails: fix the tests before reading the mutations"; exit 1; }
run adam_no_bias_correction aebook/engine.py 'bias1 = 1 - BETA1**self.step_count' 'bias1 = 1.0'
run adam_no_bias2_correction aebook/engine.py 'bias2_sqrt = (1 - BETA2**self.step_count) ** 0.5' 'bias2_sqrt = 1.0'
run adam_beta2_0.99 aebook/engine.py 'BETA1, BETA2, EPS = 0.9, 0.999, 1e-8' 'BETA1, BETA2, EPS = 0.9, 0.99, 1e-8'
run freeze_noop aebook/engine.py 'self.lr[member] = 0.0' 'pass'
run glorot_not_applied aebook/models.py 'nn.init.xavier_uniform_ if self.init == "glorot"' '(lambda w: w) if self.init == "glorot"'
run leaky_slope_ignored aebook/engine.py 'return F.leaky_relu(a, self.negative_slope)' 'return F.leaky_relu(a, 0.01)'
run leaky_slope_ignored_in_grad aebook/engine.py 'grad * self.negative_slope)' 'grad * 0.01)'
run lr_through_float32 aebook/train.py 'torch.tensor([float(lr) for lr in lrs], dtype=torch.float64)' 'torch.tensor([float(lr) for lr in lrs])'
