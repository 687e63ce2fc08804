"""The evaluator's language controls (shuffled / blank instruction) and the language gain."""

from __future__ import annotations

import numpy as np
import pytest

import vla_bench
from vla_bench import conventions as cv
from vla_bench.env import INFO_INSTRUCTION_OVERRIDE, INFO_ORIGINAL_INSTRUCTION
from vla_bench.evaluation.metrics.language import language_gain
from vla_bench.evaluation.metrics.robustness import robustness_metrics
from vla_bench.evaluation.metrics.stats import paired_difference_interval
from vla_bench.evaluation.perturbations import perturb

ENV_ID = "VLA-Navigation-GoToLocation-v1"


def _goal_after_reset(env, seed):
    obs, info = env.reset(seed=seed)
    return obs, info, env.unwrapped.task.goal


def test_shuffled_instruction_keeps_the_goal_and_records_the_override():
    env = vla_bench.make(ENV_ID, cameras=())
    wrapped = perturb(vla_bench.make(ENV_ID, cameras=()), "instruction_shuffled", 1.0, seed=0)
    try:
        told = set()
        for seed in range(6):
            obs, _, goal = _goal_after_reset(env, seed)
            wobs, winfo, wgoal = _goal_after_reset(wrapped, seed)
            assert wgoal == goal  # same episode, same goal
            assert winfo[INFO_INSTRUCTION_OVERRIDE] is True
            assert winfo[INFO_ORIGINAL_INSTRUCTION] == obs[cv.OBS_INSTRUCTION]
            told.add(wobs[cv.OBS_INSTRUCTION] != obs[cv.OBS_INSTRUCTION])
        assert True in told  # another episode's words, not this one's
    finally:
        env.close()
        wrapped.close()


def test_shuffled_instruction_is_deterministic():
    a = perturb(vla_bench.make(ENV_ID, cameras=()), "instruction_shuffled", 1.0, seed=3)
    b = perturb(vla_bench.make(ENV_ID, cameras=()), "instruction_shuffled", 1.0, seed=3)
    try:
        for seed in (0, 5):
            assert (a.reset(seed=seed)[0][cv.OBS_INSTRUCTION]
                    == b.reset(seed=seed)[0][cv.OBS_INSTRUCTION])
    finally:
        a.close()
        b.close()


def test_blank_instruction_is_empty_and_in_the_observation_space():
    env = perturb(vla_bench.make(ENV_ID, cameras=()), "instruction_blank", 1.0, seed=0)
    try:
        obs, info = env.reset(seed=0)
        assert obs[cv.OBS_INSTRUCTION] == "" == info[cv.INFO_TASK_DESCRIPTION]
        assert env.observation_space[cv.OBS_INSTRUCTION].contains("")
        obs, *_ = env.step(env.action_space.sample() * 0)
        assert obs[cv.OBS_INSTRUCTION] == ""
    finally:
        env.close()


def _rec(seed, success, pert="nominal", axis=None, env_id="A"):
    return {"key": f"{env_id}|test_seen|{pert}|{seed}", "env_id": env_id, "split": "test_seen",
            "seed": seed, "perturbation": pert, "perturbation_axis": axis,
            "perturbation_level": None if axis is None else 1.0, "success": success}


def test_language_gain_pairs_episodes_and_stays_out_of_robustness():
    nominal = [_rec(s, s < 8) for s in range(10)]
    shuffled = [_rec(s, s < 3, "instruction_shuffled:1", "instruction_shuffled")
                for s in range(10)]
    gain = language_gain(nominal + shuffled)
    g = gain["shuffled"]
    assert g["n_pairs"] == 10 and g["gain"] == pytest.approx(0.5)
    assert g["nominal_success"] == pytest.approx(0.8) and g["control_success"] == 0.3
    assert g["pairs"] == {"both": 3, "nominal_only": 5, "control_only": 0, "neither": 2}
    lo, hi = g["ci95"]
    assert 0.0 < lo < 0.5 < hi < 1.0
    assert g["by_task"]["A"]["gain"] == pytest.approx(0.5)
    assert "blank" not in gain
    # A control is not a perturbation: the robustness figures never see it.
    assert robustness_metrics(nominal + shuffled)["conditions"] == {}


def test_paired_interval_contains_the_difference_and_narrows_with_n():
    small = paired_difference_interval(3, 5, 0, 2)
    big = paired_difference_interval(30, 50, 0, 20)
    assert small[0] < 0.5 < small[1] and big[0] < 0.5 < big[1]
    assert big[1] - big[0] < small[1] - small[0]
    assert paired_difference_interval(0, 0, 0, 0) is None
    # Identical outcomes: zero difference, an interval around 0 inside [-1, 1].
    lo, hi = paired_difference_interval(5, 0, 0, 5)
    assert -1.0 <= lo < 0.0 < hi <= 1.0
    # Coverage: paired outcomes (nominal 0.7, control 0.4, correlated) drawn 2000 times.
    rng = np.random.default_rng(0)
    probs = [0.35, 0.35, 0.05, 0.25]  # both, nominal only, control only, neither
    covered = 0
    for table in rng.multinomial(50, probs, size=2000):
        lo, hi = paired_difference_interval(*map(int, table))
        covered += lo <= 0.3 <= hi
    assert 0.93 <= covered / 2000 <= 0.98
