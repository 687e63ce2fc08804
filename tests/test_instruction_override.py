"""``reset(options={"instruction": ...})``: other words, the same episode.

The override replaces the instruction text only: the seed still draws the task, scene and goal,
so the expert's rollout (states, success) is the one without the override. While it is active,
``info`` says so and keeps what the task drew; without it those keys are absent.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from helpers import assert_tree_equal

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError
from vla_bench.language import check_instruction

TASK_ID = "VLA-Kitchen-PlaceAppleInBasket-v1"
DOMAIN_ID = "VLA-Kitchen-v1"
FAMILY_ID = "VLA-Manipulation-v1"
WORDS = "Put the fruit you like best where it belongs (a paraphrase study)"
OVERRIDE_KEYS = ("instruction_override", "original_instruction")


def expert_rollout(env: gym.Env, seed: int, options: dict[str, Any] | None = None
                   ) -> tuple[list[np.ndarray], list[dict[str, Any]], list[str]]:
    """States, infos and instructions of the expert's whole episode."""
    obs, info = env.reset(seed=seed, options=options)
    states, infos, words = [obs["state"]], [info], [obs["instruction"]]
    while True:
        obs, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        states.append(obs["state"])
        infos.append(info)
        words.append(obs["instruction"])
        if terminated or truncated:
            return states, infos, words


def _without_override(info: dict[str, Any]) -> dict[str, Any]:
    """The info as the nominal episode has it: the original words, no override keys."""
    out = {k: v for k, v in info.items() if k not in OVERRIDE_KEYS}
    out[cv.INFO_TASK_DESCRIPTION] = info["original_instruction"]
    return out


def _check_same_episode(env: gym.Env, seed: int, options: dict[str, Any]) -> None:
    nominal_states, nominal_infos, nominal_words = expert_rollout(env, seed, options)
    assert not any(k in i for i in nominal_infos for k in OVERRIDE_KEYS)  # absent by default
    states, infos, words = expert_rollout(env, seed, {**options, "instruction": WORDS})
    assert set(words) == {WORDS}
    for info in infos:
        assert info["instruction_override"] is True
        assert info["original_instruction"] == nominal_words[0]
        assert info[cv.INFO_TASK_DESCRIPTION] == WORDS
    assert_tree_equal(states, nominal_states)
    assert_tree_equal([_without_override(i) for i in infos], nominal_infos)
    assert infos[-1][cv.INFO_SUCCESS] and nominal_infos[-1][cv.INFO_SUCCESS]
    # the next episode without the option is nominal again
    obs, info = env.reset(seed=seed, options=options)
    assert obs["instruction"] == nominal_words[0]
    assert not any(k in info for k in OVERRIDE_KEYS)


def test_override_keeps_the_episode(env_cache: Any) -> None:
    env = env_cache(TASK_ID, cameras=())
    _check_same_episode(env, 3, {})
    assert env.unwrapped.task_description == env.unwrapped.instruction != WORDS


def test_override_in_the_observation_space(env_cache: Any) -> None:
    env = env_cache(TASK_ID)
    obs, info = env.reset(seed=0, options={"instruction": WORDS})
    assert obs["instruction"] == WORDS and env.observation_space.contains(obs)
    longest = "a" * cv.INSTRUCTION_MAX_LENGTH
    assert env.reset(seed=0, options={"instruction": longest})[0]["instruction"] == longest


def test_override_with_the_task_option(env_cache: Any) -> None:
    env = env_cache(DOMAIN_ID, cameras=())
    _check_same_episode(env, 5, {"task": "PlaceAppleInBasket"})
    assert env.unwrapped.task.name == "PlaceAppleInBasket"


def test_override_through_the_family_env(env_cache: Any) -> None:
    env = env_cache(FAMILY_ID, cameras=())
    _check_same_episode(env, 2, {"task": "PickAndPlace"})
    # without a pinned task the seed still draws it, and the override changes only the words
    nominal_obs, nominal_info = env.reset(seed=11)
    obs, info = env.reset(seed=11, options={"instruction": WORDS})
    assert obs["instruction"] == WORDS and info["task"] == nominal_info["task"]
    assert info["original_instruction"] == nominal_obs["instruction"]
    assert_tree_equal(obs["state"], nominal_obs["state"])


@pytest.mark.parametrize("bad, says", [
    ("", "non-empty"), ("   ", "non-empty"), (None, "NoneType"), (7, "int"),
    ("x" * (cv.INSTRUCTION_MAX_LENGTH + 1), f"at most {cv.INSTRUCTION_MAX_LENGTH}"),
    ("Put the apple in the basket\n", "not allowed"), ("Café au lait", "not allowed"),
])
def test_bad_instructions_are_refused(env_cache: Any, bad: Any, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as err:
        check_instruction(bad)
    assert "ASCII letters, digits, spaces" in str(err.value)  # says what is allowed
    for env_id in (TASK_ID, FAMILY_ID):
        env = env_cache(env_id, cameras=())
        with pytest.raises(ConfigError, match=says):
            env.reset(seed=0, options={"instruction": bad})
        # a refused override leaves the env usable and nominal
        obs, info = env.reset(seed=0)
        assert "instruction_override" not in info and obs["instruction"] != bad


def test_unknown_options_name_the_valid_ones(env_cache: Any) -> None:
    for env_id in (TASK_ID, FAMILY_ID):
        env = env_cache(env_id, cameras=())
        with pytest.raises(ConfigError, match=r"\['instruction', 'task'\]"):
            env.reset(seed=0, options={"instructions": WORDS})
