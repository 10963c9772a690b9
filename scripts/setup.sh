#!/usr/bin/env bash
# Installs what a fresh machine lacks to build, test and run AdamFamily:
#   - libstdc++ with GLIBCXX_3.4.32 (TorchSharp 0.107 / LibTorch 2.10 need GCC 13's runtime);
#     on Debian 12 it comes from Debian 13 (trixie) through an apt source pinned low;
#   - Debian's dataset-fashion-mnist (the lab's real data), when apt is available;
#   - Debian's slurm-wlm and munge, as root (the Slurm executor's integration test; scripts/slurm-local.sh);
#   - the .NET 10 SDK is expected on PATH (it is on the project's machines; Debian's archive has none to install).
# Idempotent: each step checks first and does nothing when the need is met.
# Exit codes: 0 ready, 2 a requirement is missing and this script cannot install it.
set -euo pipefail

say() { printf '[setup] %s\n' "$*" >&2; }

libstdcxx_path() {
  ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 /{print $NF; exit}'
}

has_glibcxx_3_4_32() {
  local lib; lib=$(libstdcxx_path)
  [ -n "$lib" ] && grep -qa 'GLIBCXX_3.4.32' "$lib"
}

is_root() { [ "$(id -u)" = "0" ]; }

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
}

ensure_libstdcxx() {
  if has_glibcxx_3_4_32; then return 0; fi
  local os_id="" os_ver=""
  if [ -r /etc/os-release ]; then
    os_id=$(. /etc/os-release; echo "${ID:-}")
    os_ver=$(. /etc/os-release; echo "${VERSION_ID:-}")
  fi
  if [ "$os_id" != "debian" ] || [ "$os_ver" != "12" ]; then
    say "ERROR: libstdc++ lacks GLIBCXX_3.4.32 (needed by TorchSharp 0.107 / LibTorch 2.10)."
    say "       This script only knows how to fix Debian 12; on $os_id $os_ver install GCC 13+'s libstdc++6."
    exit 2
  fi
  if ! is_root; then
    say "ERROR: libstdc++ lacks GLIBCXX_3.4.32 and installing it needs root."
    say "       Run: sudo $0"
    exit 2
  fi
  say "Debian 12: installing libstdc++6 from Debian 13 (trixie), pinned low so nothing else moves."
  echo 'deb http://deb.debian.org/debian trixie main' > /etc/apt/sources.list.d/trixie-libstdcxx.list
  cat > /etc/apt/preferences.d/trixie-libstdcxx.pref <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
  apt_updated=0
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 >/dev/null
  ldconfig
  if ! has_glibcxx_3_4_32; then
    say "ERROR: installed libstdc++6 from trixie but GLIBCXX_3.4.32 is still missing ($(libstdcxx_path))."
    exit 2
  fi
  say "libstdc++ now provides GLIBCXX_3.4.32."
}

ensure_fashion_mnist() {
  if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || \
     [ -d /usr/share/datasets/fashion-mnist ]; then return 0; fi
  if ! command -v apt-get >/dev/null || ! is_root; then
    say "note: Fashion-MNIST not installed (apt-get install dataset-fashion-mnist); the lab falls back to its synthetic task."
    return 0
  fi
  say "installing dataset-fashion-mnist"
  apt_update_once
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; then
    say "note: could not install dataset-fashion-mnist; the lab falls back to its synthetic task."
  fi
}

ensure_slurm() {
  # Slurm and munge for afm's Slurm executor and its integration test (scripts/slurm-local.sh runs a one-node cluster).
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then return 0; fi
  if ! command -v apt-get >/dev/null || ! is_root; then
    say "note: Slurm is not installed (as root: apt-get install slurm-wlm munge); the Slurm integration test is skipped outside CI."
    return 0
  fi
  say "installing slurm-wlm and munge (the Slurm executor's integration test)"
  apt_update_once
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; then
    say "ERROR: could not install slurm-wlm and munge."
    exit 2
  fi
}

ensure_dotnet() {
  if ! command -v dotnet >/dev/null && [ -x "$HOME/.dotnet/dotnet" ]; then export PATH="$HOME/.dotnet:$PATH"; fi
  if ! command -v dotnet >/dev/null; then
    say "ERROR: the .NET SDK (dotnet, version 10) is not on PATH. Install the .NET 10 SDK and rerun."
    exit 2
  fi
  if ! dotnet --list-sdks 2>/dev/null | grep -qE '^(1[0-9])\.'; then
    say "ERROR: the tests and afm target .NET 10, but dotnet lists no 10.x SDK ($(dotnet --list-sdks 2>/dev/null | tr '\n' ' ')). Install the .NET 10 SDK."
    exit 2
  fi
}

ensure_dotnet
ensure_libstdcxx
ensure_fashion_mnist
ensure_slurm
