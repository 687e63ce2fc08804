"""Every registered id passes Gymnasium's env checker and keeps its spaces' promises."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from helpers import ENV_IDS, SMALL, make_env, seeded_actions

from vla_bench import conventions as cv


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env(env_id: str) -> None:
    env = make_env(env_id, image_size=SMALL)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_env(env.unwrapped, skip_render_check=True)
        # check_env reports soft problems as warnings; our envs should raise none of them,
        # except the note on unbounded Boxes (depth to the far plane, proprioception).
        problems = [str(w.message) for w in caught if "WARN:" in str(w.message)
                    and "infinity" not in str(w.message) and "too low" not in str(w.message)]
        assert not problems, problems
    finally:
        env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_spaces_and_contract(env_id: str, env_cache) -> None:
    env = env_cache(env_id)
    u = env.unwrapped
    assert env.action_space.dtype == np.float32
    assert np.all(env.action_space.low == -1) and np.all(env.action_space.high == 1)
    assert len(u.action_layout) == env.action_space.shape[0]
    assert len(set(u.action_layout)) == len(u.action_layout), "action names must be unique"
    assert len(u.state_layout) == env.observation_space[cv.OBS_STATE].shape[0]
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    for key in (cv.INFO_SUCCESS, cv.INFO_SUCCESS_ONCE, cv.INFO_FAILURE, cv.INFO_TASK,
                cv.INFO_TASK_DESCRIPTION, cv.INFO_SAFETY, cv.INFO_SIM_ERROR, cv.INFO_CAMERAS):
        assert key in info, key
    assert set(info[cv.INFO_SAFETY]) == set(cv.SAFETY_CATEGORIES)
    assert info[cv.INFO_TASK_DESCRIPTION] == obs[cv.OBS_INSTRUCTION] == u.task_description
    assert u.task.name in {t.name for t in u.task_entries}
    for action in seeded_actions(env, 5, seed=1):
        obs, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(obs)
        assert isinstance(reward, float)
        assert isinstance(terminated, bool) and isinstance(truncated, bool)
        assert all(v in (0.0, 1.0) for v in info[cv.INFO_SAFETY].values())


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_observations_do_not_alias(env_id: str, env_cache) -> None:
    """A returned observation is never overwritten by a later step."""
    env = env_cache(env_id)
    obs0, _ = env.reset(seed=3)
    snapshot = {k: np.array(v, copy=True) for k, v in obs0.items()}
    for action in seeded_actions(env, 3, seed=3):
        env.step(action)
    for k, v in snapshot.items():
        assert np.array_equal(np.asarray(obs0[k]), v), f"obs[{k!r}] was modified in place"


def test_close_is_idempotent() -> None:
    env = make_env(ENV_IDS[0])
    env.reset(seed=0)
    env.close()
    env.close()
