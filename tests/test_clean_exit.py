"""What a new user runs first ends cleanly: no GL teardown traceback, and RecordVideo works.

A script that never calls ``env.close()`` leaves its renderers to interpreter exit, after
``mujoco.egl``'s own ``eglTerminate`` hook; ``vla_bench.rendering`` closes them first. Each
script runs in a fresh interpreter, because the failure only shows at that interpreter's exit.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
from helpers import KITCHEN_TASK_ID, SMALL

import vla_bench

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(240)

# Two envs, one of them with two renderers (observation + render()), none closed.
_TWO_ENVS = f"""
import gymnasium as gym
import vla_bench

a = gym.make({KITCHEN_TASK_ID!r}, image_size={SMALL!r}, cameras=("head", "external"),
             render_mode="rgb_array")
b = gym.make({KITCHEN_TASK_ID!r}, image_size={SMALL!r})
for env in (a, b):
    env.reset(seed=0)
    env.step(env.unwrapped.expert_action())
assert a.render().shape == (360, 480, 3)
print("ok")
"""

# An env dropped mid-run (freed by the garbage collector, not close()), then another one used.
_DROPPED = f"""
import gc
import gymnasium as gym
import vla_bench

env = gym.make({KITCHEN_TASK_ID!r}, image_size={SMALL!r}, render_mode="rgb_array")
env.reset(seed=0)
env.render()
del env
gc.collect()
other = gym.make({KITCHEN_TASK_ID!r}, image_size={SMALL!r})
obs, _ = other.reset(seed=1)
assert obs["rgb"].std() > 0
print("ok")
"""

# A vector env of two, never closed.
_VECTOR = f"""
import functools
import gymnasium as gym
import vla_bench

venv = gym.vector.SyncVectorEnv(
    [functools.partial(vla_bench.make, {KITCHEN_TASK_ID!r}, image_size={SMALL!r})] * 2)
obs, _ = venv.reset(seed=0)
assert obs["rgb"].shape == (2, *{SMALL!r}, 3)
print("ok")
"""

# The same with worker processes (as tests/test_vector.py starts them), never closed.
_ASYNC_VECTOR = f"""
import functools
import gymnasium as gym
import vla_bench

if __name__ == "__main__":
    venv = gym.vector.AsyncVectorEnv(
        [functools.partial(vla_bench.make, {KITCHEN_TASK_ID!r}, image_size={SMALL!r})] * 2,
        shared_memory=False, context="forkserver")
    obs, _ = venv.reset(seed=0)
    assert obs["rgb"].shape == (2, *{SMALL!r}, 3)
    print("ok")
"""


def _quick_start() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README's quick start has no python block"
    return match.group(1)


def _run_clean(script: str, tmp_path: Path, *, user_env: bool = False) -> str:
    """Run ``script`` in a fresh interpreter; assert it succeeds with nothing on stderr."""
    path = tmp_path / "script.py"
    path.write_text(script)
    env = dict(os.environ)
    if user_env:  # as a new user runs it: the backend is chosen by vla_bench, not the tests
        for key in ("MUJOCO_GL", "PYOPENGL_PLATFORM"):
            env.pop(key, None)
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, (
        proc.stderr[-3000:])
    assert proc.stderr.strip() == "", proc.stderr[-3000:]
    return proc.stdout


def test_quick_start_exits_cleanly(tmp_path: Path) -> None:
    """The README's quick start, verbatim (it never closes its env)."""
    out = _run_clean(_quick_start(), tmp_path, user_env=True)
    assert out.strip().splitlines()[-1].startswith(("True", "False")), out


@pytest.mark.parametrize("script", [_TWO_ENVS, _DROPPED, _VECTOR, _ASYNC_VECTOR],
                         ids=["two_envs", "dropped", "vector", "async_vector"])
def test_unclosed_envs_exit_cleanly(script: str, tmp_path: Path) -> None:
    assert _run_clean(script, tmp_path).strip().endswith("ok")


def test_record_video_writes_an_mp4(tmp_path: Path) -> None:
    """``gymnasium.wrappers.RecordVideo`` works with the ``video`` extra (part of ``dev``)."""
    pytest.importorskip("moviepy", reason="RecordVideo needs pip install 'vla_bench[video]'")
    env = gym.wrappers.RecordVideo(
        vla_bench.make(KITCHEN_TASK_ID, cameras=(), render_mode="rgb_array"),
        video_folder=str(tmp_path / "videos"), name_prefix="kitchen")
    try:
        env.reset(seed=0)
        for _ in range(10):
            env.step(env.unwrapped.expert_action())
    finally:
        env.close()
    videos = sorted((tmp_path / "videos").glob("*.mp4"))
    assert [v.name for v in videos] == ["kitchen-episode-0.mp4"]
    assert videos[0].stat().st_size > 1000
