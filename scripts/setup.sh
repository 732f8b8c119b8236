#!/usr/bin/env bash
# Set-up for a fresh Debian machine: the Mesa software adapters wgpu runs shaders on when there is
# no GPU (llvmpipe over GL ships with the base image; lavapipe over Vulkan needs
# mesa-vulkan-drivers), numpy for the Python example and spirv-tools for the shader tests. Idempotent; installs only as root and
# only what is missing.
set -euo pipefail
command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust from https://rustup.rs" >&2; exit 1; }
if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing mesa-vulkan-drivers (lavapipe) …" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers libvulkan1 libegl1 libgl1 >/dev/null
  else
    echo "setup: lavapipe (mesa-vulkan-drivers) not installed and not root: GPU-kernel tests use whatever adapter exists" >&2
  fi
fi
# numpy for the bring-your-own-learner example the tests run (Debian's python3-numpy).
if ! /usr/bin/python3 -c 'import numpy' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing python3-numpy …" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends python3 python3-numpy >/dev/null
  else
    echo "setup: python3-numpy not installed and not root: the Python example is skipped" >&2
  fi
fi
# spirv-val for the shader portability test (every WGSL module translated to SPIR-V is validated).
if ! command -v spirv-val >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing spirv-tools …" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends spirv-tools >/dev/null
  else
    echo "setup: spirv-tools not installed and not root: the SPIR-V validation test will fail" >&2
  fi
fi
# lavapipe warns when XDG_RUNTIME_DIR is unset; give it a private one.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  mkdir -p -m 0700 /tmp/clwe-bench-xdg
fi
