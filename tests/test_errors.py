"""Bad input gets one clear error naming the problem (and the valid alternatives)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from helpers import KITCHEN_TASK_ID

import vla_bench
from vla_bench import ConfigError, InvalidActionError, UnknownNameError, VlaBenchError


@pytest.fixture(scope="module")
def env(env_cache):
    e = env_cache(KITCHEN_TASK_ID, cameras=())
    e.reset(seed=0)
    return e


def _n(env) -> int:
    return env.action_space.shape[0]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_action(env, bad: float) -> None:
    action = np.zeros(_n(env), np.float32)
    action[2] = bad
    with pytest.raises(InvalidActionError, match=r"NaN/inf") as exc:
        env.step(action)
    assert env.unwrapped.action_layout[2] in str(exc.value), "message names the bad dimension"


@pytest.mark.parametrize("shape", [(0,), (3,), (1, 17), (100,)])
def test_wrong_shape_action(env, shape: tuple[int, ...]) -> None:
    if shape == (1, 17):
        shape = (1, _n(env))
    with pytest.raises(InvalidActionError, match=r"shape") as exc:
        env.step(np.zeros(shape, np.float32))
    assert str(env.action_space.shape) in str(exc.value), "message gives the expected shape"


@pytest.mark.parametrize("make_bad", [
    lambda n: "forward",
    lambda n: ["a"] * n,
    lambda n: [None] * n,
    lambda n: {"vx": 1.0},
    lambda n: None,
    lambda n: object(),
    lambda n: np.ones(n, complex),
])
def test_non_numeric_action(env, make_bad) -> None:
    with pytest.raises(InvalidActionError, match=r"numeric|shape"):
        env.step(make_bad(_n(env)))


def test_out_of_range_actions_are_clipped_not_rejected(env) -> None:
    env.reset(seed=0)
    obs, *_ = env.step(np.full(_n(env), 5.0))
    assert env.observation_space.contains(obs)
    # A plain list and float64 are accepted too.
    env.step([0.0] * _n(env))


def test_errors_are_catchable_as_builtin_types() -> None:
    assert issubclass(InvalidActionError, ValueError)
    assert issubclass(ConfigError, ValueError)
    assert issubclass(UnknownNameError, KeyError)
    for cls in (InvalidActionError, ConfigError, UnknownNameError):
        assert issubclass(cls, VlaBenchError)


def test_unknown_env_id_suggests() -> None:
    with pytest.raises(UnknownNameError) as exc:
        vla_bench.make("VLA-Kitchn-v1")
    msg = str(exc.value)
    assert "VLA-Kitchn-v1" in msg and "Did you mean" in msg and "'VLA-Kitchen-v1'" in msg
    assert "\n" not in msg


def test_misspelt_kwarg_suggests() -> None:
    with pytest.raises(ConfigError, match=r"camras.*Did you mean 'cameras'"):
        gym.make("VLA-Kitchen-v1", camras=("head",))


@pytest.mark.parametrize(("kwargs", "exc", "pattern"), [
    ({"image_size": (0, 0)}, ConfigError, r"image_size"),
    ({"image_size": (64,)}, ConfigError, r"image_size"),
    ({"image_size": (64.5, 64)}, ConfigError, r"image_size"),
    ({"image_size": (100_000, 64)}, ConfigError, r"image_size"),
    ({"control_mode": "ee_delt"}, UnknownNameError, r"Did you mean 'ee_delta'"),
    ({"control_mode": "torque"}, UnknownNameError, r"control_mode.*ee_delta"),
    ({"robot": "g2"}, UnknownNameError, r"robot 'g2'.*Did you mean .*'g1'"),
    ({"robot": "atlas"}, UnknownNameError, r"Valid robots: g1, g1_23, h1"),
    ({"task": "PlaceApple"}, UnknownNameError, r"Did you mean 'PlaceAppleInBasket'"),
    ({"task": "WalkToTree"}, UnknownNameError, r"task 'WalkToTree'"),
    ({"cameras": ("hed",)}, UnknownNameError, r"Did you mean 'head'"),
    ({"cameras": "head"}, ConfigError, r"sequence"),
    ({"cameras": ("head", "head")}, ConfigError, r"twice"),
    ({"phrasing": "val"}, ConfigError, r"phrasing"),
    ({"render_mode": "ansi"}, ConfigError, r"render_mode"),
    ({"mesh_keep": 0.0}, ConfigError, r"mesh_keep"),
])
@pytest.mark.filterwarnings("ignore:.*render_mode")
def test_bad_config(kwargs, exc, pattern) -> None:
    with pytest.raises(exc, match=pattern):
        gym.make("VLA-Kitchen-v1", **kwargs)


def test_bad_reset_options(env) -> None:
    with pytest.raises(ConfigError, match=r"tsk"):
        env.reset(options={"tsk": "PlaceAppleInBasket"})
    with pytest.raises(UnknownNameError, match=r"PlaceAppleInBsket"):
        env.reset(options={"task": "PlaceAppleInBsket"})
