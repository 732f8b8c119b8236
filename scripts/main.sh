#!/usr/bin/env bash
# The main job of the README: set-up, then the default experiments, written to results/:
# the verified construction and width table, and the `quick` sweep (a few minutes on 2 cores;
# the CPU backend unless a hardware GPU is present).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

cargo build --release
./target/release/clwe-bench construction --out results/construction
./target/release/clwe-bench sweep quick --out results/quick --restart
