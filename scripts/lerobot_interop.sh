#!/usr/bin/env bash
# LeRobot interoperability, for real, in LeRobot's own venv (lerobot pins torch < 2.11, which
# clashes with ours, so it never enters our dependencies):
#   1. builds a venv with lerobot (pinned below) and vla_bench's core + `serve` extra (they do
#      not clash with lerobot's pins);
#   2. writes a small dataset with our `vla-bench generate` and loads it with LeRobot's own
#      LeRobotDataset from the local path, checking frames, actions, states, tasks and episode
#      boundaries against what we wrote (scripts/lerobot_check_dataset.py);
#   3. saves a randomly initialised ACT policy for that dataset with LeRobot, serves it from the
#      LeRobot venv through `vla-bench serve` (scripts/lerobot_policy.py), and drives it with
#      `vla-bench eval --policy openpi` from our venv; the episodes must run without errors.
#
#   bash scripts/lerobot_interop.sh            # needs `bash scripts/setup.sh` first (our .venv)
#
# Env: LEROBOT_VENV (default .venv-lerobot), LEROBOT_VERSION (default 0.4.4), PORT (8765),
# WORK (a scratch folder; default a fresh temporary one). The first run downloads lerobot and
# its CUDA build of torch from PyPI (several GB); later runs reuse the venv. LeRobot decodes
# video with torchcodec, which needs the system's FFmpeg libraries: installed with apt-get when
# missing and run as root, else the check falls back to LeRobot's PyAV decoder (and says so).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${LEROBOT_VENV:-.venv-lerobot}"
VERSION="${LEROBOT_VERSION:-0.4.4}"
PORT="${PORT:-8765}"
WORK="${WORK:-$(mktemp -d)}"
[ -x .venv/bin/vla-bench ] || { echo "our venv is missing: run 'bash scripts/setup.sh' first"; exit 1; }

echo "== 1. LeRobot venv ($VENV, lerobot==$VERSION)"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import lerobot, vla_bench" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "lerobot==$VERSION"
    "$VENV/bin/pip" install --quiet -e ".[serve]"
fi
"$VENV/bin/python" -c "import importlib.metadata as m, torch; print('lerobot', m.version('lerobot'), '/ torch', torch.__version__)"
if ! ldconfig -p | grep -q "libavutil.so"; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y --no-install-recommends ffmpeg >/dev/null
    else
        export VIDEO_BACKEND=pyav
        echo "no FFmpeg libraries for torchcodec (and not root): LeRobot will decode with PyAV"
    fi
fi
export HF_HUB_OFFLINE=1  # nothing is fetched from the hub: the dataset and policy are local

echo "== 2. a vla-bench dataset, loaded by LeRobotDataset"
.venv/bin/vla-bench generate --env VLA-Office-GoToPrinter-v1 --episodes 2 --out "$WORK/dataset"
"$VENV/bin/python" scripts/lerobot_check_dataset.py "$WORK/dataset"

echo "== 3. a LeRobot ACT policy served from its venv, driven by vla-bench eval"
"$VENV/bin/python" scripts/lerobot_policy.py make --dataset "$WORK/dataset" --out "$WORK/act"
source scripts/serve_lib.sh
start_server "$WORK/serve.log" env PYTHONPATH=scripts "$VENV/bin/vla-bench" serve \
    --policy lerobot_policy:make_policy --policy-kwargs "{\"path\": \"$WORK/act\"}" --port "$PORT"
.venv/bin/vla-bench eval --policy openpi --policy-kwargs \
    "{\"port\": $PORT, \"keys\": {\"rgb\": \"rgb\", \"rgb_front\": \"rgb_front\", \"state\": \"state\", \"instruction\": \"instruction\"}}" \
    --env VLA-Office-GoToPrinter-v1 --cameras head,front --episodes 2 --max-steps 40 \
    --out "$WORK/eval"
.venv/bin/python - "$WORK/eval/episodes.jsonl" <<'EOF'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
errors = [r["error"] for r in records if r.get("error")]
if errors:
    sys.exit("episodes ended in errors:\n" + errors[0])
print(f"ok    {len(records)} episodes driven by the LeRobot policy, "
      f"{sum(r['steps'] for r in records)} steps, no errors")
EOF
echo "LeRobot interop: all checks passed (work folder $WORK)"
