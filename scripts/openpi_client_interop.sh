#!/usr/bin/env bash
# openpi's own client against `vla-bench serve`, from its own venv (openpi-client pins
# numpy < 2, which clashes with ours): builds the venv, serves our `random` policy, runs
# scripts/openpi_client_check.py there (metadata, LIBERO-style requests, reproducible actions,
# openpi's error path, reconnection), and compares openpi-client's msgpack bytes of a fixed
# observation with vla_bench's codec byte for byte.
#
#   bash scripts/openpi_client_interop.sh      # needs `bash scripts/setup.sh` first
#
# Env: OPENPI_VENV (default .venv-openpi), OPENPI_CLIENT_VERSION (0.1.2), PORT (8766).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${OPENPI_VENV:-.venv-openpi}"
VERSION="${OPENPI_CLIENT_VERSION:-0.1.2}"
PORT="${PORT:-8766}"
WORK="$(mktemp -d)"
[ -x .venv/bin/vla-bench ] || { echo "our venv is missing: run 'bash scripts/setup.sh' first"; exit 1; }

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import openpi_client" 2>/dev/null; then
    python3 -m venv "$VENV"
    # openpi-client 0.1.2 imports typing_extensions without declaring it
    "$VENV/bin/pip" install --quiet "openpi-client==$VERSION" typing_extensions
fi
"$VENV/bin/python" -c "import importlib.metadata as m; print('openpi-client', m.version('openpi-client'), '/ numpy', m.version('numpy'))"

source scripts/serve_lib.sh
start_server "$WORK/serve.log" .venv/bin/vla-bench serve --policy random --port "$PORT"
"$VENV/bin/python" scripts/openpi_client_check.py "$PORT" "$WORK"
.venv/bin/python - "$WORK/openpi_client.msgpack" <<'PY'
import sys
import numpy as np
from vla_bench.serving import codec
fixed = {"observation/image": np.arange(24, dtype=np.uint8).reshape(2, 4, 3),
         "observation/state": np.array([0.5, -1.25, 3.0], np.float32),
         "prompt": "pick up the apple", "nested": {"n": 3, "x": np.float64(2.5)}}
theirs = open(sys.argv[1], "rb").read()
if codec.packb(fixed) != theirs:
    sys.exit("FAIL  vla_bench's msgpack bytes differ from openpi-client's")
back = codec.unpackb(theirs)
assert np.array_equal(back["observation/image"], fixed["observation/image"])
print(f"ok    vla_bench's codec writes openpi-client's bytes exactly ({len(theirs)} bytes) and reads them back")
PY
echo "openpi client interop: all checks passed"
