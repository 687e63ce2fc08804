"""Test helpers: ids to parametrize over, env construction, exact recursive comparison."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

import vla_bench

SMALL = (64, 64)  # (height, width) for tests that need images but not detail
ENV_IDS = vla_bench.env_ids()
TASK_IDS = [t.env_id for t in vla_bench.TASKS]
KITCHEN_IDS = [i for i in ENV_IDS if i.startswith("VLA-Kitchen")]
KITCHEN_TASK_ID = "VLA-Kitchen-PlaceAppleInBasket-v1"
CONTROL_MODES = ("ee_delta", "base_only", "joint_pos")


def make_env(env_id: str, **kwargs: Any) -> gym.Env:
    """``vla_bench.make`` with small images unless told otherwise."""
    kwargs.setdefault("image_size", SMALL)
    return vla_bench.make(env_id, **kwargs)


def assert_tree_equal(a: Any, b: Any, path: str = "") -> None:
    """Exact recursive equality of dicts/lists/tuples/arrays/scalars, with the failing path."""
    where = path or "<root>"
    if isinstance(a, dict):
        assert isinstance(b, dict), f"{where}: dict vs {type(b).__name__}"
        assert a.keys() == b.keys(), f"{where}: keys differ {sorted(a)} vs {sorted(b)}"
        for k in a:
            assert_tree_equal(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{where}: sequences differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_tree_equal(x, y, f"{path}[{i}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a_arr, b_arr = np.asarray(a), np.asarray(b)
        assert a_arr.shape == b_arr.shape, f"{where}: shape {a_arr.shape} vs {b_arr.shape}"
        assert a_arr.dtype == b_arr.dtype, f"{where}: dtype {a_arr.dtype} vs {b_arr.dtype}"
        assert np.array_equal(a_arr, b_arr, equal_nan=a_arr.dtype.kind == "f"), \
            f"{where}: arrays differ (max abs diff " \
            f"{np.max(np.abs(a_arr.astype(float) - b_arr.astype(float)))})"
    elif isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        pass
    else:
        assert type(a) is type(b), f"{where}: type {type(a).__name__} vs {type(b).__name__}"
        assert a == b, f"{where}: {a!r} != {b!r}"


def seeded_actions(env: gym.Env, n: int, seed: int) -> list[np.ndarray]:
    """``n`` uniform actions in the action space from a local generator (no global RNG)."""
    rng = np.random.default_rng(seed)
    space = env.action_space
    return [rng.uniform(space.low, space.high).astype(space.dtype) for _ in range(n)]


def robot_params() -> list:
    """Every registered robot as a pytest param; a downloaded one the set-up has not fetched
    yet is skipped with the command that fetches it (CI's ``.ci/run`` fetches first)."""
    import pytest

    from vla_bench import assets
    from vla_bench.robots import ROBOTS
    from vla_bench.robots.fetch import is_complete

    params = []
    for name in sorted(ROBOTS):
        asset = ROBOTS[name].asset
        missing = asset in assets.DOWNLOADED_ROBOTS and not is_complete(asset)
        marks = [pytest.mark.skip(reason=f"robot {name!r} is not fetched: run "
                                  "`python -m vla_bench.robots.fetch`")] if missing else []
        params.append(pytest.param(name, marks=marks))
    return params
