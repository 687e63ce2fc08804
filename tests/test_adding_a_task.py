"""The README's "Adding a task" walk-through, followed as a user would: its code block is saved
as a module outside the package, imported, and its env made and solved by its expert."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"

CHECK = textwrap.dedent('''
    import gymnasium as gym
    import numpy as np

    import touch_block
    import vla_bench

    ids = [t.env_id for t in vla_bench.TASKS]
    assert "VLA-Kitchen-TouchBlock-v1" in ids, ids
    assert "TouchBlock" not in gym.spec("VLA-Kitchen-v1").kwargs["tasks"]  # released id unchanged
    env = gym.make("VLA-Kitchen-TouchBlock-v1", cameras=())
    assert env.spec.max_episode_steps == 150
    u = env.unwrapped
    assert u.sim.full_name("block_red") == "touch_block/block_red"
    seen = set()
    for seed in range(3):
        obs, info = env.reset(seed=seed)
        seen.add(u.task.target)
        done = False
        while not done:
            obs, r, term, trunc, info = env.step(u.expert_action())
            first = u.task.evaluate(u.sim)
            assert u.task.evaluate(u.sim) == first  # evaluate is pure
            done = term or trunc
        assert info["is_success"], (seed, obs["instruction"], info["failure_reason"])
    # The blind expert: toward another block it holds over the wrong one, which fails.
    env.reset(seed=0)
    other = next(g for g in u.task.goals() if g != u.task.goal)
    u.pursue(other)
    done = False
    while not done:
        obs, r, term, trunc, info = env.step(u.expert_action())
        done = term or trunc
    assert info["is_failure"] and not info["is_success"]
    print("ok", sorted(seen))
''')


def test_readme_toy_task_runs(tmp_path: Path) -> None:
    text = README.read_text()
    match = re.search(r"<!-- adding-a-task:begin -->\s*```python\n(.*?)```", text, re.S)
    assert match, "README lost its 'Adding a task' code block"
    (tmp_path / "touch_block.py").write_text(match.group(1))
    (tmp_path / "check.py").write_text(CHECK)
    out = subprocess.run([sys.executable, "check.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("ok")
