#!/usr/bin/env bash
# The first run on a GPU machine, in one command: the adapters, every kernel test (and the
# shader portability tests) on the default adapter — the hardware GPU where there is one — the
# kernel benches on the `gpu` grid (five large shapes, ~6 minutes of benches, designed for a
# datacenter GPU), with the GEMM tuner timing every variant per shape class first (its choices
# and timings land in <out>/gemm-tuning.json and in the tables' backend lines), and
# `clwe-bench report`, written to results/timings/<adapter>/; it ends by printing what to
# commit. `--software` does the same on Mesa's software adapter at smoke size (what CI runs)
# and writes to target/gpu-check/<adapter>/, never to results/. `--prebuilt DIR` runs the
# programs that scripts/gpu-bundle.sh built into DIR instead of building with cargo, for a
# machine without Rust or a network: it unpacks DIR's Vulkan/EGL loaders where libvulkan is
# missing, points the loaders at NVIDIA's driver files where the image keeps them aside, and
# leaves out the shader portability tests (they do not depend on the adapter; CI runs them).
#   bash scripts/gpu-check.sh [--software] [--prebuilt DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
software=0 prebuilt=""
while [ $# -gt 0 ]; do
  case "$1" in
    --software) software=1 ;;
    --prebuilt)
      [ -n "${2:-}" ] && [ -x "${2:-}/clwe-bench" ] \
        || { echo "gpu-check: --prebuilt '${2:-}' is not a folder made by scripts/gpu-bundle.sh" >&2; exit 2; }
      prebuilt=$2
      shift ;;
    *) echo "gpu-check: unknown argument '$1' (expected --software or --prebuilt DIR)" >&2; exit 2 ;;
  esac
  shift
done
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/clwe-bench-xdg}"
if [ -z "$prebuilt" ]; then
  bash scripts/setup.sh
  cargo build --release
  bin=target/release/clwe-bench
else
  bin=$prebuilt/clwe-bench
  echo "== prebuilt programs of revision $(cat "$prebuilt/REVISION" 2>/dev/null || echo unknown)"
  # grep reads all of ldconfig's output (no -q), so pipefail never sees ldconfig cut off by SIGPIPE.
  if ! ldconfig -p | grep libvulkan >/dev/null && compgen -G "$prebuilt/debs/*.deb" >/dev/null; then
    echo "gpu-check: no libvulkan here; unpacking the loaders of $prebuilt/debs" >&2
    for deb in "$prebuilt"/debs/*.deb; do dpkg -x "$deb" /; done
    ldconfig
  fi
  nvidia=/usr/local/nvidia/share
  if [ -f "$nvidia/vulkan/icd.d/nvidia_icd.json" ] && ! compgen -G "/usr/share/vulkan/icd.d/nvidia*" >/dev/null \
     && ! compgen -G "/etc/vulkan/icd.d/nvidia*" >/dev/null; then
    export VK_DRIVER_FILES=$nvidia/vulkan/icd.d/nvidia_icd.json
    export __EGL_VENDOR_LIBRARY_FILENAMES=$nvidia/glvnd/egl_vendor.d/10_nvidia.json
  fi
fi
echo "== adapters"
$bin info
adapter=$($bin info --json | python3 -c '
import json, sys
software = sys.argv[1] == "1"
usable = [a for a in json.load(sys.stdin)["adapters"] if a.get("usable")]
chosen = [a for a in usable if a.get("hardware")] or (usable if software else [])
print(chosen[0]["adapter"] if chosen else "")
' "$software")
if [ -z "$adapter" ]; then
  echo "gpu-check: no hardware GPU adapter (see the list above); --software checks the software adapter" >&2
  exit 1
fi
slug=$(printf '%s' "$adapter" | tr -cs 'A-Za-z0-9' '-' | sed 's/^-//; s/-$//' | tr 'A-Z' 'a-z')
if [ "$software" = 1 ]; then
  out=target/gpu-check/$slug grid=smoke bench_args=(--quick --noplot)
  export CLWE_BENCH_SOFTWARE=1
else
  out=results/timings/$slug grid=gpu bench_args=(--noplot)
fi
echo "== kernel and shader tests ($adapter)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ -n "$prebuilt" ]; then
  tests=("$prebuilt/gpu_kernels")
else
  tests=(cargo test --release --test gpu_kernels --test shader_portability)
fi
if ! "${tests[@]}" >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "gpu-check: kernel tests failed" >&2
  exit 1
fi
grep "^test result" "$log"
echo "== kernel benches ($grid grid)"
criterion=target/criterion-gpu-check
rm -rf "$criterion"
mkdir -p "$out"
# Tune afresh, software adapter included, and keep the tuner's cache beside the tables.
rm -f "$out/gemm-tuning.json"
export CLWE_BENCH_TUNE=always CLWE_BENCH_CACHE_DIR="$out"
start=$(date +%s)
if [ -n "$prebuilt" ]; then
  benches=("$prebuilt/kernels" --bench)
else
  benches=(cargo bench --bench kernels --)
fi
CRITERION_HOME="$criterion" CLWE_BENCH_GRID=$grid "${benches[@]}" "${bench_args[@]}" 2>&1 | tail -n 3
echo "benches took $(( $(date +%s) - start )) s"
$bin report --criterion "$criterion" --out "$out"
tables=("$out/timings-wgpu.md")
[ "$software" = 0 ] || tables+=("$out/timings-cpu.md")
for table in "${tables[@]}"; do
  grep -q "calibration" "$table" || { echo "gpu-check: $table lacks the calibration rows" >&2; exit 1; }
  grep -q '^- backend `' "$table" || { echo "gpu-check: $table lacks the adapter line (backend metadata not found)" >&2; exit 1; }
done
grep -q "products (GEMM variant per shape class): .*tuned" "$out/timings-wgpu.md" \
  || { echo "gpu-check: $out/timings-wgpu.md does not record the tuner's choice" >&2; exit 1; }
[ -s "$out/gemm-tuning.json" ] || { echo "gpu-check: the tuner wrote no $out/gemm-tuning.json" >&2; exit 1; }
echo "== GEMM tuning ($out/gemm-tuning.json)"
grep "products (GEMM" "$out/timings-wgpu.md"
echo "== done: tables and figures in $out"
if [ "$software" = 0 ]; then
  echo "commit them:  git add $out && git commit -m 'GPU timings on $adapter'"
fi
