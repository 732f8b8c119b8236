#!/usr/bin/env bash
# Prepares `scripts/gpu-check.sh --prebuilt` for a GPU machine that has neither Rust nor a network
# (such as the device machines lent to this project's sessions): builds here the three programs
# the check runs (clwe-bench, the kernel tests, the kernel benches), stripped, and downloads the
# Vulkan and EGL loaders (Debian's amd64 packages) that such an image may lack, into gpu-bundle/
# (ignored by git, about 30 MB). Copy or carry gpu-bundle/ with the repository, then there:
#   bash scripts/gpu-check.sh --prebuilt gpu-bundle
# `--without-loaders` skips the download (for a machine that has libvulkan, and for CI).
set -euo pipefail
cd "$(dirname "$0")/.."
loaders=1
case "${1:-}" in
  "") ;;
  --without-loaders) loaders=0 ;;
  *) echo "gpu-bundle: unknown argument '$1' (expected --without-loaders or nothing)" >&2; exit 2 ;;
esac
out=gpu-bundle
rm -rf "$out"
mkdir -p "$out/debs"

# The executable of the test or bench target named $2 that `cargo <$1> --no-run` builds (in
# release mode: the tests as `scripts/test.sh` builds them, the benches by default).
executable() {
  local profile=()
  [ "$1" = bench ] || profile=(--release)
  cargo "$1" "${profile[@]}" --no-run --message-format=json "--$1" "$2" | python3 -c '
import json, sys
kind, name = sys.argv[1:]
found = [m["executable"] for m in map(json.loads, sys.stdin)
         if m.get("reason") == "compiler-artifact" and m.get("executable")
         and m["target"]["name"] == name and kind in m["target"]["kind"]]
sys.exit(f"gpu-bundle: cargo built no {kind} named {name}") if not found else print(found[-1])' "$1" "$2"
}

cargo build --release
cp target/release/clwe-bench "$out/clwe-bench"
cp "$(executable test gpu_kernels)" "$out/gpu_kernels"
cp "$(executable bench kernels)" "$out/kernels"
strip "$out/clwe-bench" "$out/gpu_kernels" "$out/kernels"
git rev-parse HEAD >"$out/REVISION" 2>/dev/null || echo unknown >"$out/REVISION"

if [ "$loaders" = 1 ]; then
  lists=$(mktemp -d)
  trap 'rm -rf "$lists"' EXIT
  apt=(apt-get -qq -oAPT::Sandbox::User=root -oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
  mkdir -p "$lists/partial"
  "${apt[@]}" update
  (cd "$out/debs" && "${apt[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
echo "gpu-bundle: $(du -sh "$out" | cut -f1) in $out/ (revision $(cat "$out/REVISION")); on the GPU machine:"
echo "  bash scripts/gpu-check.sh --prebuilt $out"
