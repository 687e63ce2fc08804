"""GoToPrinter / GoToLocation / FindObject: the words name one of several alternatives, and a
robot counts as at one place only (the nearest)."""

from __future__ import annotations

import numpy as np

import vla_bench
from vla_bench.domains.office.go_to_printer import PRINTERS
from vla_bench.scene.props import COLORS


def test_printers_differ_by_colour_and_the_instruction_names_the_goal():
    env = vla_bench.make("VLA-Office-GoToPrinter-v1", cameras=())
    try:
        goals = set()
        for seed in range(3):
            obs, _ = env.reset(seed=seed)
            task, sim = env.unwrapped.task, env.unwrapped.sim
            assert len(set(task.colours)) == len(PRINTERS)
            for name, colour in zip(PRINTERS, task.colours, strict=True):
                assert np.allclose(sim.model.geom_rgba[sim.geom_id(f"{name}_body")],
                                   COLORS[colour])
            assert f"{task.colours[task.target]} printer" in obs["instruction"].lower()
            goals.add(task.goal)
        assert len(goals) >= 2
    finally:
        env.close()


def test_standing_between_two_printers_counts_for_one_only():
    env = vla_bench.make("VLA-Office-GoToPrinter-v1", cameras=())
    try:
        env.reset(seed=0)
        task, sim = env.unwrapped.task, env.unwrapped.sim
        (a, yaw), (b, _) = task.place_front(sim, PRINTERS[1]), task.place_front(sim, PRINTERS[2])
        # Midway between two fronts and 0.4 m out, facing the wall: within 0.8 m of both.
        mid = (a + b) / 2 + 0.4 * np.array([np.cos(yaw), np.sin(yaw)])
        sim.set_robot_base(mid, yaw + np.pi)
        sim.forward_kinematics()
        assert all(np.linalg.norm(mid - f) < 0.8 for f in (a, b))
        assert len(task._waiting_at(sim)) == 1  # at rest, near and facing both: one counts
    finally:
        env.close()


def test_find_object_needs_both_words():
    """Each object shares its kind with one other and its colour with another."""
    from vla_bench.domains.office.find_object import KINDS

    env = vla_bench.make("VLA-Navigation-FindObject-v1", cameras=())
    try:
        for seed in range(2):
            env.reset(seed=seed)
            task = env.unwrapped.task
            assert len(task.goals()) == 4
            for (k,) in task.goals():
                others = [j for (j,) in task.goals() if j != k]
                assert any(KINDS[j] == KINDS[k] for j in others)
                assert any(task.colours[j] == task.colours[k] for j in others)
                assert len({(task.colours[j], KINDS[j]) for (j,) in task.goals()}) == 4
    finally:
        env.close()
