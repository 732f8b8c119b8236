#!/usr/bin/env bash
# The test command of the README: set-up, then every test (unit, property, statistical, and the
# WGSL kernels on whatever wgpu adapter exists), in release mode so the benches reuse the build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/clwe-bench-xdg}"
cargo test --release
# The benches in criterion's test mode, on one tiny shape and every adapter: they cannot rot.
CLWE_BENCH_GRID=smoke CLWE_BENCH_SOFTWARE=1 cargo test --release --benches
