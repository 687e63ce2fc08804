"""Every task a fair test: goals that vary and are named, a blind expert that can fail, goals
the default cameras can see (issue: task validity)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import TASK_IDS

import vla_bench
from vla_bench import conventions as cv
from vla_bench.checking import blind_goal, check_task, table_row
from vla_bench.errors import ConfigError
from vla_bench.visibility import MIN_PIXELS, goal_geom_mask, goal_pixels

SEEDS = range(6)


@pytest.fixture(scope="module", params=TASK_IDS)
def task_env(request):
    env = vla_bench.make(request.param, cameras=())
    yield env
    env.close()


def test_goals_are_named_alternatives_that_vary(task_env):
    base = task_env.unwrapped
    drawn = set()
    for seed in SEEDS:
        task_env.reset(seed=seed)
        task = base.task
        goals = [tuple(g) for g in task.goals()]
        assert task.goal_fields, f"{task.name} declares no goal_fields"
        assert len(goals) >= 3, f"{task.name} seed {seed}: only {len(goals)} alternatives"
        assert len(set(goals)) == len(goals), f"{task.name}: repeated alternatives {goals}"
        assert task.goal in goals, f"{task.name}: the goal {task.goal} is not among {goals}"
        drawn.add(task.goal)
    assert len(drawn) >= 2, f"{base.task.name}: the same goal {drawn} on seeds {list(SEEDS)}"


def test_pursuing_another_goal_leaves_the_scored_goal(task_env):
    task_env.reset(seed=1)
    task = task_env.unwrapped.task
    other = next(g for g in task.goals() if tuple(g) != task.goal)
    copy = task.pursuing(other)
    assert copy.goal == tuple(other) and task.goal != tuple(other)
    assert blind_goal(task, 1) in [tuple(g) for g in task.goals()]
    assert blind_goal(task, 1) != task.goal


def test_goal_bodies_exist_and_show_in_some_episode(task_env):
    base = task_env.unwrapped
    seen = 0
    for seed in SEEDS[:3]:
        task_env.reset(seed=seed)
        assert base.task.goal_bodies(base._task_sim), f"{base.task.name} names no goal body"
        assert goal_geom_mask(task_env).any(), f"{base.task.name}: goal bodies have no geoms"
        seen += sum(goal_pixels(task_env).values()) >= MIN_PIXELS
    if base.task.name != "FindObject":  # a search task by its card
        assert seen, f"{base.task.name}: goal out of view on seeds 0-2"


def test_pursue_rejects_a_goal_not_in_the_scene():
    env = vla_bench.make("VLA-Office-GoToPrinter-v1", cameras=())
    try:
        env.reset(seed=0)
        with pytest.raises(ConfigError, match="not one of this episode's goals"):
            env.unwrapped.pursue(("no such goal",))
        env.unwrapped.pursue(env.unwrapped.task.goal)
        env.unwrapped.pursue(None)
    finally:
        env.close()


def test_check_reports_blind_and_visibility_columns():
    c = check_task("VLA-Navigation-GoToLocation-v1", range(2), ("blind",))
    assert len(c.results["blind"]) == len(c.results["expert"]) == len(c.visible) == 2
    # blind = the uniform draw's expectation: (expert + (k - 1) wrong) / k per seed.
    want = np.mean([(e + (k - 1) * w) / k for (e, _), (w, _), k in
                    zip(c.results["expert"], c.results["blind"], c.alternatives, strict=True)])
    assert c.rate("blind") == pytest.approx(want)
    row = table_row(c)
    assert row[0] == "VLA-Navigation-GoToLocation-v1" and row[4] == f"{want:.2f}"
    assert "/2)" in row[5] and "/2)" in row[6]


def test_blind_draw_is_another_goal_and_deterministic():
    env = vla_bench.make("VLA-Navigation-GoToLocation-v1", cameras=())
    try:
        drawn = set()
        for seed in range(8):
            env.reset(seed=seed)
            task = env.unwrapped.task
            g = blind_goal(task, seed)
            assert g != task.goal and g in [tuple(x) for x in task.goals()]
            assert blind_goal(task, seed) == g
            drawn.add(g)
        assert len(drawn) >= 2
    finally:
        env.close()


def test_blind_expert_fails_when_it_pursues_another_goal():
    """Scored against the instruction's goal, the expert toward a different alternative must
    not succeed (else the words decide nothing)."""
    env = vla_bench.make("VLA-Navigation-GoToLocation-v1", cameras=())
    try:
        env.reset(seed=3)
        base = env.unwrapped
        other = next(g for g in base.task.goals() if tuple(g) != base.task.goal)
        base.pursue(other)
        info = {}
        for _ in range(base.task.max_episode_steps):
            _, _, term, trunc, info = env.step(base.expert_action())
            if term or trunc:
                break
        assert not info["is_success"]
    finally:
        env.close()


def test_default_observation_has_the_front_camera():
    env = vla_bench.make("VLA-Outdoor-WalkToTree-v1", image_size=(64, 64))
    try:
        obs, _ = env.reset(seed=0)
        assert env.unwrapped.cameras == cv.DEFAULT_CAMERAS == ("head", "front")
        assert obs["rgb_front"].shape == (64, 64, 3) and obs["depth_front"].shape == (64, 64, 1)
        # The front view looks further: its median depth exceeds the downward head view's.
        assert np.median(obs["depth_front"]) > np.median(obs["depth"])
    finally:
        env.close()


def test_segmentation_counts_only_unoccluded_pixels():
    """A box hidden behind a nearer one gets no pixels; moved aside, it does."""
    import mujoco

    from vla_bench.rendering import RGBDRenderer

    model = mujoco.MjModel.from_xml_string("""
    <mujoco><worldbody>
      <camera name="cam" pos="0 0 0" xyaxes="0 -1 0 0 0 1"/>
      <body name="near" mocap="true" pos="2 0 0">
        <geom name="near" type="box" size=".3 .3 .3" group="2"/>
      </body>
      <geom name="far" type="box" size=".1 .1 .1" pos="4 0 0" group="2"/>
    </worldbody></mujoco>""")
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    renderer = RGBDRenderer(model, 64, 64)
    try:
        seg = renderer.segment(data, 0)
        far, near = model.geom("far").id, model.geom("near").id
        assert (seg == far).sum() == 0 and (seg == near).sum() > 100
        data.mocap_pos[0] = [2.0, 5.0, 0.0]
        mujoco.mj_forward(model, data)
        seg = renderer.segment(data, 0)
        assert (seg == far).sum() > 10 and (seg == near).sum() == 0
        assert (seg == -1).sum() > 0  # background
    finally:
        renderer.close()


def test_goal_pixels_are_the_goal_mask_of_the_segmentation():
    env = vla_bench.make("VLA-Kitchen-PlaceAppleInBasket-v1", cameras=())
    try:
        env.reset(seed=0)
        base = env.unwrapped
        pixels = goal_pixels(env, ("head",))["head"]
        seg = base._segmenter.segment(base.data, base._resolve_camera("head"))
        assert pixels == int(goal_geom_mask(env)[seg[seg >= 0]].sum()) > 0
        names = {base.model.geom(int(g)).name for g in np.unique(seg[seg >= 0])}
        assert "counter_top" in names
    finally:
        env.close()


def test_check_without_blind_runs_has_no_blind_figure() -> None:
    """``vla-bench check --no-blind`` reports no blind figure instead of failing on it."""
    from vla_bench.checking import TaskCheck

    c = TaskCheck("VLA-Office-GoToPrinter-v1", [0, 1], {"expert": [(True, 9), (False, 9)]},
                  alternatives=[4, 4])
    assert c.blind_per_seed() == [] and c.rate("blind") is None and c.rate("expert") == 0.5
    c.results["blind"] = [(False, 3), (True, 3)]
    assert c.blind_per_seed() == [0.25, 0.75] and c.rate("blind") == 0.5
