"""Simulated people (:mod:`vla_bench.humans`): walking, facing, gestures, holding, collisions."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError, UnknownNameError
from vla_bench.humans import GESTURES, HAND_SPEED, SHOULDER, Person, add_person
from vla_bench.scene import compose as c
from vla_bench.sim import Sim


@pytest.fixture()
def scene() -> tuple[Sim, Person, Person]:
    spec = c.new_scene("people_test")
    c.add_floor(spec, (0.5, 0.5, 0.5, 1.0))
    cup = c.body(spec.worldbody, "cup", (0.0, 0.0, -5.0), free=True)
    c.box(cup, "cup", (0.03, 0.03, 0.05), mass=0.2)
    add_person(spec, "alice", shirt_rgba=(0.8, 0.1, 0.1, 1.0), holdable=["cup"])
    add_person(spec, "bob")
    model = spec.compile()
    data = mujoco.MjData(model)
    sim = Sim(model, data, None, lambda x, y: 0.0)  # type: ignore[arg-type]
    return sim, Person(sim, "alice"), Person(sim, "bob")


def _step(sim: Sim, *people: Person) -> None:
    for p in people:
        p.step()
    mujoco.mj_step(sim.model, sim.data, cv.SUBSTEPS)


def test_walk_reaches_goal_at_speed_and_faces_the_way(scene):
    sim, alice, _ = scene
    alice.place((0.0, 0.0), np.pi)  # facing away: must turn first
    n = 0
    while not alice.walk_toward((2.0, 1.0), speed=0.8):
        _step(sim, alice)
        n += 1
        assert n < 200
    assert np.allclose(alice.xy, (2.0, 1.0), atol=0.03)
    assert abs(alice.yaw - np.arctan2(1.0, 2.0)) < 0.1
    # sqrt(5) m at 0.8 m/s is 56 steps; the turn costs a few more, never less.
    assert 56 <= n <= 75
    assert not alice.parked


def test_face_turns_rate_limited(scene):
    sim, alice, _ = scene
    alice.place((0.0, 0.0), 0.0)
    assert not alice.face((-1.0, 0.0))  # pi away: one step cannot do it
    assert 0.1 < abs(alice.yaw) < 0.2
    for _ in range(30):
        done = alice.face((-1.0, 0.0))
    assert done and abs(abs(alice.yaw) - np.pi) < 0.06


def test_gestures_move_the_hand(scene):
    sim, alice, _ = scene
    alice.place((1.0, 0.0), 0.0)
    idle = alice.hand_pos
    assert idle[2] < 0.95
    alice.gesture("hand_out")
    prev = alice.hand_pos
    for _ in range(30):
        _step(sim, alice)
        assert np.linalg.norm(alice.hand_pos - prev) <= HAND_SPEED / cv.CONTROL_HZ + 1e-9
        prev = alice.hand_pos
    out = alice.hand_pos
    assert out[0] > idle[0] + 0.3 and 0.9 < out[2] < 1.1  # held out in front at ~1 m
    alice.gesture("wave")
    ys = []
    for _ in range(60):
        _step(sim, alice)
        ys.append(alice.hand_pos[1])
    assert alice.hand_pos[2] > 1.7  # above the head
    assert np.ptp(ys[-20:]) > 0.15  # swinging sideways
    alice.reach_to((1.4, -0.1, 1.1))
    alice.gesture("work")
    for _ in range(40):
        _step(sim, alice)
    assert np.linalg.norm(alice.hand_pos - (1.4, -0.1, 1.1)) < 0.02
    alice.reach_to((5.0, 0.0, 1.0))  # out of reach: stops at full stretch
    for _ in range(40):
        _step(sim, alice)
    shoulder = np.array([1.0, 0.0, 0.0]) + SHOULDER
    assert np.linalg.norm(alice.hand_pos - shoulder) < 0.6
    with pytest.raises(UnknownNameError):
        alice.gesture("dance")
    assert "hand_out" in GESTURES


def test_arm_links_join_shoulder_elbow_and_hand(scene):
    sim, alice, _ = scene
    alice.place((0.0, 0.0), 0.7)
    alice.gesture("hand_out")
    for _ in range(20):
        _step(sim, alice)
    upper, fore = sim.body_pos("alice_upper_arm"), sim.body_pos("alice_forearm")
    assert np.linalg.norm(fore - upper) == pytest.approx(0.30, abs=1e-6)
    assert np.linalg.norm(alice.hand_pos - fore) == pytest.approx(0.30, abs=1e-6)


def test_take_carry_and_release(scene):
    sim, alice, _ = scene
    alice.place((1.0, 0.0), 0.0)
    alice.gesture("hand_out")
    for _ in range(30):
        _step(sim, alice)
    sim.set_free_pose("cup", alice.hand_pos + np.array([0.04, 0.0, 0.0]))
    mujoco.mj_forward(sim.model, sim.data)
    offset0 = sim.body_pos("cup") - alice.hand_pos
    alice.take("cup")
    assert alice.holding("cup")
    for _ in range(40):
        alice.walk_toward((3.0, 0.0), speed=0.5)
        _step(sim, alice)
    assert sim.body_pos("cup")[0] > 2.0  # carried along
    assert np.linalg.norm(sim.body_pos("cup") - alice.hand_pos - offset0) < 0.03
    alice.release("cup")
    assert not alice.holding("cup")
    for _ in range(30):
        _step(sim, alice)
    assert sim.body_pos("cup")[2] < 0.1  # fell to the floor
    assert sim.data.warning.number.sum() == 0
    with pytest.raises(ConfigError):
        alice.take("floor")


def test_park_hides_and_people_do_not_collide_with_each_other(scene):
    sim, alice, bob = scene
    alice.place((0.0, 0.0), 0.0)
    bob.place((0.1, 0.05), 1.0)  # overlapping: two static bodies never make contacts
    mujoco.mj_step(sim.model, sim.data, 5)
    people = {sim.model.geom_bodyid[sim.geom_id(n)] for n in ("alice_torso", "bob_torso")}
    for i in range(sim.data.ncon):
        bodies = {sim.model.geom_bodyid[sim.data.contact.geom1[i]],
                  sim.model.geom_bodyid[sim.data.contact.geom2[i]]}
        assert not bodies <= people
    bob.park()
    mujoco.mj_forward(sim.model, sim.data)
    assert bob.parked and sim.body_pos("bob")[2] < -1.0
    alice.set_shirt((0.1, 0.8, 0.1, 1.0))
    assert np.allclose(sim.model.geom_rgba[sim.geom_id("alice_torso")], (0.1, 0.8, 0.1, 1.0))
    legs = sim.model.geom_rgba[sim.geom_id("alice_leg_0")]
    assert np.allclose(legs, (0.075, 0.6, 0.075, 1.0))  # same hue, darker: visible up close


def test_person_collides_with_robot():
    import vla_bench

    env = vla_bench.make("VLA-Office-GoToPrinter-v1", cameras=())
    env.reset(seed=0)
    # The office has no people: a robot scene with one added shows the contact bits match.
    spec = c.new_scene("people_robot")
    c.add_floor(spec, (0.5, 0.5, 0.5, 1.0))
    add_person(spec, "carl")
    model = spec.compile()
    g = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "carl_torso")
    robot_geoms = env.unwrapped.handles.geom_ids
    rm = env.unwrapped.model
    assert any((model.geom_contype[g] & rm.geom_conaffinity[r]) or
               (rm.geom_contype[r] & model.geom_conaffinity[g]) for r in robot_geoms)
    hand = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "carl_hand")
    assert model.geom_contype[hand] == 0 and model.geom_conaffinity[hand] == 0
    assert model.geom_group[g] == cv.GROUP_SCENE
    env.close()


def test_not_a_person_raises(scene):
    sim, _, _ = scene
    with pytest.raises(ConfigError):
        Person(sim, "cup")
    with pytest.raises(ConfigError):
        Person(sim, "alice").walk_toward((1.0, 0.0), speed=0.0)
