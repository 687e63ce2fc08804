"""Building blocks shared by every task: geometry, monitors, the model ledger, per-task name
prefixes and labelled expert phases."""

from __future__ import annotations

import re
from pathlib import Path

import mujoco
import numpy as np
import pytest
from helpers import make_env

from vla_bench import geometry as geo
from vla_bench.env import task_prefix
from vla_bench.errors import ConfigError
from vla_bench.experts.base import Expert, Grip, Reach, Retry
from vla_bench.monitors import Dwell, Latch, Peak
from vla_bench.scene import compose


def test_robot_frame_round_trip() -> None:
    rng = np.random.default_rng(0)
    base = np.array([1.5, -0.7, 2.3])
    pts = rng.normal(size=(5, 3))
    local = geo.to_robot_frame(pts, base)
    np.testing.assert_allclose(geo.from_robot_frame(local, base), pts, atol=1e-12)
    # A point one metre ahead of the robot is (1, 0) in its frame.
    ahead = np.array([base[0] + np.cos(base[2]), base[1] + np.sin(base[2])])
    np.testing.assert_allclose(geo.to_robot_frame(ahead, base), [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(local[:, 2], pts[:, 2])  # heights stay world heights


def test_yaw_helpers_agree() -> None:
    for yaw in np.linspace(-3.1, 3.1, 9):
        q = geo.yaw_quat(yaw)
        np.testing.assert_allclose(geo.quat_to_mat(q), geo.yaw_matrix(yaw), atol=1e-12)
        assert geo.quat_yaw(q) == pytest.approx(yaw)
        assert geo.mat_yaw(geo.yaw_matrix(yaw)) == pytest.approx(yaw)
        np.testing.assert_allclose(geo.mat_to_quat(geo.yaw_matrix(yaw)), q * np.sign(q[0]),
                                   atol=1e-12)
    assert geo.wrap(3 * np.pi) == pytest.approx(-np.pi)
    assert -np.pi <= geo.wrap(-7.0) < np.pi
    q = geo.quat_mul(geo.yaw_quat(0.3), geo.yaw_quat(0.4))
    np.testing.assert_allclose(q, geo.yaw_quat(0.7), atol=1e-12)


def test_monitors_count_what_they_are_told() -> None:
    flags = iter([{"a": True}, {"a": True, "b": True}, {"b": True}, {"a": True}])
    dwell = Dwell(("a", "b"), lambda sim: next(flags))
    dwell.reset(None)
    seen = []
    for _ in range(4):
        dwell.update(None)
        seen.append((dwell.steps("a"), dwell.steps("b")))
    assert seen == [(1, 0), (2, 1), (0, 2), (1, 0)]
    assert dwell.reached(2) == []
    values = iter([False, True, False])
    latch = Latch(lambda sim: next(values))
    latch.reset(None)
    for _ in range(3):
        latch.update(None)
    assert latch.value and latch.first_step == 2
    xs = iter([1.0, 5.0, 2.0, 3.0])
    peak = Peak(lambda sim: next(xs))
    peak.reset(None)
    for _ in range(3):
        peak.update(None)
    assert peak.value == 5.0


def test_two_tasks_may_use_the_same_names() -> None:
    spec = mujoco.MjSpec()
    board = spec.worldbody.add_body(name="board")
    board.add_geom(name="wood", size=[0.1, 0.1, 0.01], type=mujoco.mjtGeom.mjGEOM_BOX)
    for prefix in ("cut_vegetable/", "use_tool/"):
        before = compose.named_elements(spec)
        knife = spec.worldbody.add_body(name="knife", pos=[0, 0, 0.5])
        knife.add_geom(name="blade", size=[0.05, 0.01, 0.01], type=mujoco.mjtGeom.mjGEOM_BOX)
        knife.add_freejoint(name="knife_free")
        spec.add_exclude(bodyname1="knife", bodyname2="board")
        spec.add_equality(name="hold", type=mujoco.mjtEq.mjEQ_WELD, name1="knife",
                          name2="board", objtype=mujoco.mjtObj.mjOBJ_BODY)
        renames = compose.prefix_new_elements(spec, before, prefix)
        assert renames["bodies"] == {"knife": prefix + "knife"}
    model = spec.compile()
    for prefix in ("cut_vegetable/", "use_tool/"):
        e = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_EQUALITY, prefix + "hold")
        assert model.body(model.eq_obj1id[e]).name == prefix + "knife"
        assert model.body(model.eq_obj2id[e]).name == "board"
    assert model.nexclude == 2


def test_scoped_sim_and_ledger_restore() -> None:
    env = make_env("VLA-Kitchen-v1", cameras=())
    u = env.unwrapped
    nominal = {f: u._sim.ledger.nominal(f) for f in ("body_pos", "geom_rgba", "body_gravcomp")}
    for seed in range(3):
        env.reset(seed=seed)
        prefix = u.sim.prefix
        assert prefix == task_prefix(u.task.name)
        env.step(np.zeros(env.action_space.shape, np.float32))
    assert u._sim.ledger.diff(), "episodes edit the model (layout jitter, colours, parking)"
    u._sim.ledger.restore()
    assert u._sim.ledger.diff() == []
    for field, value in nominal.items():
        np.testing.assert_array_equal(getattr(u.model, field), value)
    with pytest.raises(ConfigError, match="LEDGER_FIELDS"):
        u._sim.ledger.write("body_inertia", 0, (1.0, 1.0, 1.0))
    env.close()


def test_expert_phases_by_label() -> None:
    with pytest.raises(ConfigError, match="unknown phase label 'nowhere'"):
        Expert([Grip("right", 1.0), Retry(lambda s: True, to="nowhere")])
    with pytest.raises(ConfigError, match="used twice"):
        Expert([Grip("right", 1.0).named("a"), Grip("right", -1.0).named("a")])
    rot = np.eye(3)
    reach = Reach("right", lambda s: np.zeros(3), rot, freeze=True).named("approach")
    grip = Grip("right", 1.0, steps=3)
    retry = Retry(lambda s: False, to="approach", times=1)
    expert = Expert([Grip("right", -1.0, steps=1), reach, grip, retry])
    assert expert.labels == {"approach": 1}
    reach._frozen, grip._done = np.ones(3), 3
    expert._rearm(expert.labels["approach"])
    assert reach._frozen is None and grip._done == 0


def test_a_task_tendon_is_refused_with_a_reason() -> None:
    spec = mujoco.MjSpec()
    before = compose.named_elements(spec)
    body = spec.worldbody.add_body(name="arm")
    body.add_geom(size=[0.05, 0, 0])
    body.add_site(name="a")
    spec.add_tendon(name="cable").wrap_site("a")
    with pytest.raises(ConfigError, match="build tendons in the domain layout"):
        compose.prefix_new_elements(spec, before, "task/")
    assert spec.body("arm") is not None  # nothing renamed before refusing


def test_readme_task_table_matches_the_registry() -> None:
    """The README's task table (id, family, scene, first training phrasing) is the registry's."""
    import vla_bench

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = re.findall(r"^\| `(VLA-[\w-]+)` \| (\w+) \| (\w+) \| (.+) \|$", text, re.M)
    table = {r[0]: r[1:] for r in rows}
    for t in vla_bench.TASKS:
        tmpl = t.load().templates.train[0]
        assert table.get(t.env_id) == (t.family, t.domain, tmpl[0].upper() + tmpl[1:]), \
            f"README task table row of {t.env_id} is stale"
