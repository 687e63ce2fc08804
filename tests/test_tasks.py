"""Task semantics: no free success, the scripted expert solves its task, safety signals fire."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import ENV_IDS, KITCHEN_TASK_ID, TASK_IDS, make_env

EXPERT_SEEDS = (0, 1, 2)


def _run_expert(env, seed: int) -> tuple[bool, int, dict]:
    env.reset(seed=seed)
    info: dict = {}
    steps = 0
    while steps < env.unwrapped.task.max_episode_steps:
        _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        steps += 1
        if terminated or truncated:
            break
    return bool(info["is_success"]), steps, info


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_no_success_at_reset(env_id: str, env_cache) -> None:
    env = env_cache(env_id, cameras=())
    for seed in range(5):
        _, info = env.reset(seed=seed)
        assert not info["is_success"] and not info["success_once"], f"seed {seed}"
        assert not info["is_failure"], f"seed {seed}: {info['failure_reason']}"
        assert not any(info["safety"].values()), f"seed {seed}: {info['safety']}"


@pytest.mark.parametrize("env_id", TASK_IDS)
def test_zero_action_does_not_succeed(env_id: str, env_cache) -> None:
    env = env_cache(env_id, cameras=())
    env.reset(seed=0)
    zero = np.zeros(env.action_space.shape, np.float32)
    for t in range(100):
        _, _, terminated, truncated, info = env.step(zero)
        assert not info["is_success"], f"standing still succeeded at step {t}"
        assert info["safety"]["fall"] == 0.0
        if terminated or truncated:
            break


@pytest.mark.parametrize("seed", EXPERT_SEEDS)
def test_kitchen_expert_succeeds(seed: int, env_cache) -> None:
    env = env_cache(KITCHEN_TASK_ID, cameras=())
    success, steps, info = _run_expert(env, seed)
    assert success, f"seed {seed}: expert failed after {steps} steps ({info['failure_reason']})"
    assert info["success_once"] and info["sim_error"] == ""


@pytest.mark.parametrize("seed", (0, 1))
@pytest.mark.parametrize("env_id", [i for i in TASK_IDS if i != KITCHEN_TASK_ID])
def test_expert_succeeds_on_fixed_seeds(env_id: str, seed: int, env_cache) -> None:
    env = env_cache(env_id, cameras=())
    success, steps, info = _run_expert(env, seed)
    assert success, f"seed {seed}: expert failed after {steps} steps ({info['failure_reason']})"


def test_expert_works_with_cameras(env_cache) -> None:
    """The expert uses privileged state only; the observation does not change its actions."""
    a = env_cache(KITCHEN_TASK_ID, cameras=())
    b = env_cache(KITCHEN_TASK_ID)
    a.reset(seed=4)
    b.reset(seed=4)
    for _ in range(10):
        act_a, act_b = a.unwrapped.expert_action(), b.unwrapped.expert_action()
        np.testing.assert_array_equal(act_a, act_b)
        a.step(act_a)
        b.step(act_b)


@pytest.mark.slow
@pytest.mark.parametrize("env_id", TASK_IDS)
def test_expert_success_rate_50_seeds(env_id: str) -> None:
    env = make_env(env_id, cameras=())
    try:
        results = [_run_expert(env, seed)[0] for seed in range(50)]
    finally:
        env.close()
    rate = float(np.mean(results))
    failed = [s for s, ok in enumerate(results) if not ok]
    assert rate >= 0.9, f"expert success {rate:.0%}; failed seeds {failed}"


@pytest.mark.slow
@pytest.mark.parametrize("env_id", TASK_IDS)
def test_validity_targets_50_seeds(env_id: str) -> None:
    """The README table's targets: blind (the measured chance level) ≤ 0.34 and the goal
    visible at reset in ≥ 50 % of episodes (search tasks excepted)."""
    from vla_bench.checking import check_task

    c = check_task(env_id, range(50), ("blind",))
    assert c.rate("blind") <= 0.34, f"blind success {c.rate('blind'):.0%}"
    if "FindObject" not in env_id:  # a search task by its card
        assert np.mean(c.visible) >= 0.5, f"goal visible in {np.mean(c.visible):.0%}"


# -- safety signals are real --------------------------------------------------------------

def test_driving_into_the_counter_is_a_collision(env_cache) -> None:
    env = env_cache(KITCHEN_TASK_ID, cameras=(), control_mode="base_only")
    _, info = env.reset(seed=0)
    assert info["safety"]["collision"] == 0.0
    layout = env.unwrapped.action_layout
    forward = np.zeros(len(layout), np.float32)
    forward[layout.index("base_vx")] = 1.0
    collided = []
    for _ in range(60):
        _, _, _, _, info = env.step(forward)
        collided.append(info["safety"]["collision"])
        assert info["sim_error"] == ""
    assert max(collided) == 1.0, "full speed into the counter for 3 s never registered a collision"
    assert collided[0] == 0.0, "no collision on the first step, before reaching the counter"


def test_standing_still_is_safe(env_cache) -> None:
    env = env_cache(KITCHEN_TASK_ID, cameras=(), control_mode="base_only")
    env.reset(seed=0)
    zero = np.zeros(env.action_space.shape, np.float32)
    totals: dict[str, float] = {}
    for _ in range(40):
        _, _, _, _, info = env.step(zero)
        for k, v in info["safety"].items():
            totals[k] = totals.get(k, 0.0) + v
    assert not any(totals.values()), totals


def test_whole_body_mode_can_fall(env_cache) -> None:
    env = env_cache(KITCHEN_TASK_ID, cameras=(), control_mode="joint_pos")
    _, info = env.reset(seed=0)
    assert info["safety"]["fall"] == 0.0, "upright at reset"
    minus = -np.ones(env.action_space.shape, np.float32)
    falls = []
    for _ in range(100):
        _, _, _, _, info = env.step(minus)
        falls.append(info["safety"]["fall"])
    assert max(falls) == 1.0, "all joints at their lower limits for 5 s and the robot never fell"
    assert falls[-1] == 1.0, "a fallen robot stays fallen"
