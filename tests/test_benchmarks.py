"""The throughput benchmark runs end to end (tiny sizes; the figures are in the README)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_throughput_script_runs(tmp_path: Path) -> None:
    out = tmp_path / "tp.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "throughput.py"), "--steps", "5",
         "--resets", "3", "--task-steps", "0", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ratio env / floor" in proc.stdout
    res = json.loads(out.read_text())
    assert res["replay_exact"], "the raw floor must replay the env's trajectory exactly"
    assert res["env_steps_per_s"] > 0 and res["raw_steps_per_s"] > 0
    assert res["reset_ms_median"] > 0


def test_serving_latency_script_runs(tmp_path: Path) -> None:
    out = tmp_path / "sl.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "serving_latency.py"), "--calls", "5",
         "--episodes", "1", "--max-steps", "5", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(out.read_text())
    for keys in ("vla_bench", "libero"):
        rt = res["round_trip"][keys]
        assert 0 < rt["median_ms"] <= rt["p95_ms"] and rt["obs_bytes"] > 100_000
    assert res["eval_episodes_per_min"]["through_server"] > 0


def test_gait_slip_script_runs(tmp_path: Path) -> None:
    out = tmp_path / "gait.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gait_slip.py"), "--robots", "g1",
         "--seconds", "1.5", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(out.read_text())
    assert len(rows) == 8 and all(r["robot"] == "g1" for r in rows)
    for r in rows:
        assert r["stances"] >= 2 and 0 <= r["median_cm"] <= r["max_cm"]
        assert r["fastest_joint_rad_s"] > 0.5, "the legs move while walking"


def test_train_throughput_script_runs() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "train_throughput.py"), "--arch", "advanced",
         "bcz", "--steps", "1", "--batch-size", "2", "--acts", "2"],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith(("| advanced", "| bcz"))]
    assert len(rows) == 2
