"""Workshop layout: the ``unseen_layouts`` split is an arrangement no training episode has."""

from __future__ import annotations

import numpy as np
import pytest

import vla_bench
from vla_bench.domains.workshop.layout import BENCH_HALF, BENCH_TOP, HELD_OUT_ROOM_SHIFT

ENV_ID = "VLA-Workshop-PlaceBoltInContainer-v1"


def _arrangement(env) -> dict[str, float]:
    """Bench yaw, room shift and the machines' sides (y) this episode."""
    sim = env.unwrapped.sim
    return {
        "bench_yaw": abs(sim.static_pose("workbench")[1]),
        "room_y": float(sim.static_pose("workshop_walls")[0][1]),
        "drill_y": float(sim.static_pose("drill_press")[0][1]),
        "rack_y": float(sim.static_pose("bin_rack")[0][1]),
    }


@pytest.mark.parametrize("split", ["train", "unseen_layouts"])
def test_held_out_workshop_is_turned_and_rearranged(split: str) -> None:
    env = vla_bench.make(ENV_ID, cameras=(), split=split)
    held_out = split == "unseen_layouts"
    try:
        for seed in range(4):
            env.reset(seed=seed)
            a = _arrangement(env)
            # Training benches turn at most 3°; a held-out bench is turned end for end.
            assert (a["bench_yaw"] > np.pi - 0.06) == held_out, a
            assert (a["bench_yaw"] < 0.06) != held_out, a
            assert a["room_y"] == (HELD_OUT_ROOM_SHIFT if held_out else 0.0)
            assert a["drill_y"] < 0 and (a["rack_y"] < 0) == held_out, a
            # The vise stays at the +y end (tasks keep it clear): at the front in training, at
            # the back of the turned bench.
            center = env.unwrapped.sim.static_pose("workbench")[0]
            jaw = env.unwrapped.sim.geom_pos("vise_jaw_fixed") - center
            assert jaw[1] > 0.7 and (jaw[0] > 0) == held_out, jaw
            # The task's objects stand on the bench top either way.
            bolt = env.unwrapped.sim.body_pos(env.unwrapped.task.bolt)
            assert np.all(np.abs(bolt[:2] - center[:2]) < np.array(BENCH_HALF)), bolt
            assert BENCH_TOP < bolt[2] < BENCH_TOP + 0.1, bolt
    finally:
        env.close()


def test_training_episodes_do_not_change() -> None:
    """The arrangement code keeps training episodes as they were built (nominal poses)."""
    env = vla_bench.make(ENV_ID, cameras=())
    try:
        env.reset(seed=0)
        for fx in env.unwrapped.layout.fixtures.values():
            pos = env.unwrapped.sim.static_pose(fx.body)[0]
            assert np.all(np.abs(pos[:2] - np.array(fx.base_pos)[:2]) <= 0.04), fx.body
    finally:
        env.close()
