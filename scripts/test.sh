#!/usr/bin/env bash
# The test command of the README: set-up, then every test (unit, property, statistical, CLI,
# sweep kill/resume, and the WGSL kernels on whatever wgpu adapter exists), in release mode so
# the benches reuse the build; the API docs with warnings denied; then `scripts/gpu-check.sh
# --software` (built here and from a prebuilt bundle) and the learner benches in smoke mode, so
# they cannot rot.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/clwe-bench-xdg}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --release 2>&1 | tee "$log"

# The API docs build without a broken or private intra-doc link.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet

# The GPU check at smoke size on the software adapter (kernel benches and `report` included),
# and the learner benches on one tiny case. The check's test lines stay out of $log: the same
# tests ran above, and the count at the end counts each test once.
bash scripts/gpu-check.sh --software 2>&1 | tail -n 4
# The same check from programs built ahead (what a GPU machine without Rust runs), loaders aside.
bash scripts/gpu-bundle.sh --without-loaders 2>&1 | tail -n 2
bash scripts/gpu-check.sh --software --prebuilt gpu-bundle 2>&1 | tail -n 2
CRITERION_HOME=target/criterion-smoke CLWE_BENCH_GRID=smoke \
  cargo bench --bench learners -- --quick --noplot 2>&1 | tail -n 3

# The bring-your-own-learner example (examples/), with a Python that has numpy.
python=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import numpy' 2>/dev/null; then python=$candidate; break; fi
done
if [ -n "$python" ]; then
  "$python" examples/bring_your_own_learner.py target/release/clwe-bench 2>&1 | tee -a "$log" | tail -n 3
  grep -q "learning view (against f): learned" "$log" || { echo "the example's learner was not judged learned" >&2; exit 1; }
  echo "test result: ok. 1 passed; 0 failed (examples/bring_your_own_learner.py)" | tee -a "$log"
else
  echo "no Python with numpy: examples/bring_your_own_learner.py skipped" >&2
fi

passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
echo "tests: $passed passed, $failed failed"
