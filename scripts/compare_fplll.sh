#!/usr/bin/env bash
# LLL speed against fplll, side by side (SPEC §7; issue 10): installs Debian's fplll-tools and
# python3-fpylll where missing (as root), builds clwe-bench, then runs scripts/compare_fplll.py.
#   bash scripts/compare_fplll.sh [--out results/lll/fplll-comparison.md] [--repeats 3] [--timeout 120]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v fplll >/dev/null || ! /usr/bin/python3 -c 'import fpylll' 2>/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "compare_fplll: install fplll-tools and python3-fpylll (needs root)" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends fplll-tools python3-fpylll >/dev/null
fi
cargo build --release
/usr/bin/python3 scripts/compare_fplll.py --bin target/release/clwe-bench "$@"
