"""The ``vla-bench`` command line: list, demo (with a real video), check, clean errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import pytest
from helpers import KITCHEN_TASK_ID

import vla_bench
from vla_bench.cli import main


def test_list(capsys) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for env_id in vla_bench.env_ids():
        assert env_id in out
    assert "cannot load task" not in out
    assert "Pick up the" in out


def test_demo_writes_video(tmp_path: Path, capsys) -> None:
    out = tmp_path / "demo.mp4"
    assert main(["demo", "--env", KITCHEN_TASK_ID, "--steps", "12", "--seed", "1",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "instruction:" in text and "safety:" in text and "result:" in text
    frames = iio.imread(out)
    assert frames.shape[0] == 13  # reset frame + 12 steps
    assert frames.shape[1] == 360 and frames.shape[2] == 480 + 360  # third-person | head
    assert frames.std() > 10


def test_check_prints_markdown_table(capsys) -> None:
    assert main(["check", "--episodes", "1", "--env", KITCHEN_TASK_ID]) == 0
    out = capsys.readouterr().out
    assert ("| task | alternatives | expert success | random success | blind success | "
            "wrong-goal success | goal visible at reset | expert steps to success |") in out
    row = next(line for line in out.splitlines() if line.startswith(f"| {KITCHEN_TASK_ID}"))
    # Expert success itself is tested in test_tasks.py; here only the table's shape.
    rate = r"\d+% \(\d/1\)"
    assert re.fullmatch(rf"\| {KITCHEN_TASK_ID} \| \d+ \| {rate} \| {rate} \| \d\.\d\d \| {rate} "
                        rf"\| {rate} \| [\d–]+ \|", row), row


@pytest.mark.parametrize("argv", [
    ["demo", "--env", "VLA-Kitchn-v1"],
    ["check", "--env", "VLA-Nowhere-v1"],
])
def test_errors_are_one_clean_line(argv: list[str], capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vla-bench: error: unknown environment id")
    assert "\n" not in err and "Traceback" not in err


def test_console_script_exit_status() -> None:
    """The installed entry point: clean one-line error and exit status 2, no traceback."""
    exe = Path(sys.executable).with_name("vla-bench")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "vla_bench.cli"]
    proc = subprocess.run([*cmd, "demo", "--env", "VLA-Kitchn-v1"], capture_output=True,
                          text=True, timeout=120, env={**os.environ})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "Did you mean 'VLA-Kitchen-v1'" in proc.stderr
