"""SortPapers: the "sorted" predicate (right tray, wrong tray, papers not asked for)."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from helpers import make_env

ENV_ID = "VLA-Office-SortPapers-v1"


@pytest.fixture(scope="module")
def env():
    e = make_env(ENV_ID, cameras=())
    yield e
    e.close()


def _drop_in(sim, paper: str, tray: str, up: float = 0.03) -> None:
    pos = sim.body_pos(tray) + np.array([0.0, 0.0, up])
    sim.set_free_pose(paper, pos)


def _episode(env, *, one_colour: bool):
    """The first seed whose instruction is (or is not) about one colour."""
    for seed in range(40):
        env.reset(seed=seed)
        task = env.unwrapped.task
        if (task.named is not None) == one_colour:
            return task, env.unwrapped.sim
    raise AssertionError("no such episode in 40 seeds")


@pytest.mark.parametrize("one_colour", [False, True])
def test_sorting_the_asked_papers_succeeds(env, one_colour: bool) -> None:
    task, sim = _episode(env, one_colour=one_colour)
    assert not task.evaluate(sim).success
    count = dict.fromkeys(task.trays, 0)
    for paper in task.required:
        tray = task.trays[task.tray_colors.index(task.paper_colors[task.papers.index(paper)])]
        _drop_in(sim, paper, tray, up=0.03 + 0.046 * count[tray])  # a second one on top
        count[tray] += 1
    mujoco.mj_forward(sim.model, sim.data)
    ev = task.evaluate(sim)
    assert ev.success and not ev.failure
    assert ev.progress["papers_sorted"] == len(task.required)


def test_wrong_tray_fails(env) -> None:
    task, sim = _episode(env, one_colour=False)
    paper = task.papers[0]
    other = [t for t, col in zip(task.trays, task.tray_colors, strict=True)
             if col != task.paper_colors[0]][0]
    _drop_in(sim, paper, other)
    mujoco.mj_forward(sim.model, sim.data)
    ev = task.evaluate(sim)
    assert ev.failure and not ev.success and "other colour" in ev.failure_reason


def test_sorting_a_paper_not_asked_for_fails(env) -> None:
    task, sim = _episode(env, one_colour=True)
    extra = next(p for p in task.papers if p not in task.required)
    col = task.paper_colors[task.papers.index(extra)]
    _drop_in(sim, extra, task.trays[task.tray_colors.index(col)])
    mujoco.mj_forward(sim.model, sim.data)
    ev = task.evaluate(sim)
    assert ev.failure and not ev.success
