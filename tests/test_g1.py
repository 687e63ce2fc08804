"""Unitree's 29-DoF G1 (``robot="g1"``): the set-up fetch, its hash check, the model, both modes.

The model comes from mjlab's wheel, fetched once at set-up (``python -m vla_bench.robots.fetch``,
run by ``scripts/setup.sh`` and ``.ci/run``). Tests that need it skip, saying so, when the cache
is empty; the hash and missing-cache checks run without it.
"""

from __future__ import annotations

import inspect
import json
import warnings
from pathlib import Path

import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from helpers import KITCHEN_TASK_ID, SMALL, make_env

import vla_bench
from vla_bench import assets
from vla_bench.env import VLAEnv
from vla_bench.errors import AssetError
from vla_bench.robots import fetch, get_robot
from vla_bench.robots.adapter import SIDES

SOURCE = assets.DOWNLOADED_ROBOTS["g1_29"]
needs_model = pytest.mark.skipif(
    not fetch.is_complete("g1_29"),
    reason=f"the 29-DoF G1 model is not fetched ({assets.robot_cache_dir() / 'g1_29'} is "
           f"missing); run `{assets.FETCH_COMMAND}`",
)


def _cached_wheel() -> Path | None:
    path = assets.robot_cache_dir() / fetch.WHEELS / SOURCE.filename
    return path if path.is_file() else None


# --------------------------------------------------------------------------- fetch and hash


def test_hash_is_pinned_with_the_version() -> None:
    assert SOURCE.requirement == "mjlab==1.6.0"
    assert len(SOURCE.sha256) == 64 and int(SOURCE.sha256, 16) >= 0


def test_a_foreign_wheel_is_rejected_and_nothing_is_extracted(tmp_path: Path) -> None:
    fake = tmp_path / SOURCE.filename
    fake.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty but valid zip archive
    dest = tmp_path / "g1_29"
    with pytest.raises(AssetError, match="SHA-256"):
        fetch.extract(fake, SOURCE, dest)
    assert not dest.exists()
    assert [p.name for p in tmp_path.iterdir()] == [fake.name], "no temporary folder left"


@pytest.mark.skipif(_cached_wheel() is None, reason="the verified wheel is not in the cache; "
                    f"run `{assets.FETCH_COMMAND}`")
def test_a_tampered_wheel_is_rejected_the_real_one_reproduces_the_cache(tmp_path: Path) -> None:
    wheel = _cached_wheel()
    assert wheel is not None
    tampered = tmp_path / "tampered" / SOURCE.filename
    tampered.parent.mkdir()
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit in the middle of the archive
    tampered.write_bytes(bytes(data))
    with pytest.raises(AssetError, match="does not match the recorded"):
        fetch.verify_wheel(tampered, SOURCE)
    with pytest.raises(AssetError):
        fetch.extract(tampered, SOURCE, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()

    files = fetch.extract(wheel, SOURCE, tmp_path / "good")
    cached = json.loads((assets.robot_cache_dir() / "g1_29" / assets.SOURCE_FILE).read_text())
    fresh = json.loads((tmp_path / "good" / assets.SOURCE_FILE).read_text())
    assert fresh == cached
    assert {"g1.xml", "LICENSE"} <= set(files)
    assert sum(f.endswith(".STL") for f in files) == 35
    assert "Apache License" in (tmp_path / "good" / "LICENSE").read_text()


def test_missing_cache_names_the_fetch_command(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLA_BENCH_ROBOT_ASSETS", str(tmp_path / "empty"))
    assert not fetch.is_complete("g1_29")
    with pytest.raises(AssetError, match="vla_bench.robots.fetch"):
        assets.robot_xml("g1_29")
    with pytest.raises(AssetError, match="vla_bench.robots.fetch"):
        vla_bench.make(KITCHEN_TASK_ID, robot="g1", cameras=())
    assert not (tmp_path / "empty").exists(), "looking for the model must not create the cache"
    # A copy from another release (a different recorded wheel hash) is not used either.
    stale = tmp_path / "stale" / "g1_29"
    stale.mkdir(parents=True)
    (stale / SOURCE.xml).write_text("<mujoco/>")
    (stale / assets.SOURCE_FILE).write_text(json.dumps({"wheel_sha256": "0" * 64}))
    monkeypatch.setenv("VLA_BENCH_ROBOT_ASSETS", str(stale.parent))
    assert not fetch.is_complete("g1_29")
    with pytest.raises(AssetError, match="another release"):
        assets.robot_xml("g1_29")


def test_fetch_is_idempotent_when_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    if not fetch.is_complete("g1_29"):
        pytest.skip(f"the 29-DoF G1 model is not fetched; run `{assets.FETCH_COMMAND}`")

    def no_download(*_: object) -> Path:
        raise AssertionError("a complete cache must not download again")

    monkeypatch.setattr(fetch, "download_wheel", no_download)
    logged: list[str] = []
    assert fetch.fetch("g1_29", log=logged.append) == assets.robot_xml("g1_29")
    assert "already" in logged[0]


# --------------------------------------------------------------------------- the model


def test_joint_groups() -> None:
    g1 = get_robot("g1")
    assert len(g1.body_joints) == 29 and len(set(g1.body_joints)) == 29
    assert len(g1.legs) == 12 and len(g1.waist) == 3
    for side in SIDES:
        joints = g1.arms[side].joints
        assert len(joints) == 7
        assert [j.split("_", 1)[1] for j in joints] == [
            "shoulder_pitch_joint", "shoulder_roll_joint", "shoulder_yaw_joint", "elbow_joint",
            "wrist_roll_joint", "wrist_pitch_joint", "wrist_yaw_joint"]
    assert set(g1.torque_limits) == set(g1.body_joints)
    default = inspect.signature(VLAEnv).parameters["robot"].default
    assert len(get_robot(default).body_joints) == 29, "the default robot is the 29-DoF G1"
    assert get_robot("g1_23").name == "g1_23" and len(get_robot("g1_23").body_joints) == 23


@needs_model
def test_compiled_model_matches_the_record(env_cache) -> None:
    env = env_cache(KITCHEN_TASK_ID, robot="g1", control_mode="joint_pos", cameras=())
    env.reset(seed=0)
    u = env.unwrapped
    m, h, g1 = u.model, u.handles, get_robot("g1")
    assert h.n_body == 29 and env.action_space.shape == (31,)
    assert [h.arm_slices[s].stop - h.arm_slices[s].start for s in SIDES] == [7, 7]
    limits = m.actuator_forcerange[h.actuator_ids, 1]
    np.testing.assert_allclose(limits, [g1.torque_limits[j] for j in g1.body_joints])
    assert limits.min() == 5.0 and limits.max() == 139.0  # wrist pitch/yaw, knee and hip roll
    names = {mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_GEOM, g) or "" for g in range(m.ngeom)}
    meshes = {m.mesh(int(m.geom_dataid[g])).name for g in range(m.ngeom)
              if m.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH}
    assert not any("hand_collision" in n for n in names)
    assert not any("rubber_hand" in n for n in meshes), "the gripper replaces the rubber hand"
    for side in SIDES:
        palm = m.body(f"robot/{side}_gripper/palm").id
        assert m.body(m.body_parentid[palm]).name == f"robot/{side}_wrist_yaw_link"
        # The rubber hand's 0.170 kg left with it: the link has its own URDF mass back.
        assert m.body_mass[m.body_parentid[palm]] == pytest.approx(0.08457647)
    # The head camera sits at Unitree's D435 mount, pitched down 47.6°.
    cam = m.camera("robot/head")
    assert m.body(m.cam_bodyid[cam.id]).name == "robot/torso_link"
    np.testing.assert_allclose(m.cam_pos[cam.id], [0.0576235, 0.01753, 0.42987])
    look = -u.data.cam_xmat[cam.id].reshape(3, 3)[:, 2]  # optical axis, world frame
    torso = u.data.xmat[m.body("robot/torso_link").id].reshape(3, 3)
    down = np.degrees(np.arcsin(-(torso.T @ look)[2]))
    assert down == pytest.approx(47.6, abs=0.1)


@needs_model
def test_joint_pos_env_resets_steps_and_stands() -> None:
    env = make_env(KITCHEN_TASK_ID, robot="g1", control_mode="joint_pos")
    try:
        obs, info = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        h = env.unwrapped.handles
        lo, hi = h.joint_range.T
        home = np.concatenate([2 * (h.home_qpos - lo) / (hi - lo) - 1, [-1, -1]])
        for _ in range(100):  # hold the home pose: the free-floating robot must not fall
            obs, _, terminated, truncated, info = env.step(home.astype(np.float32))
            assert info["sim_error"] == "" and not (terminated or truncated)
        assert info["safety"]["fall"] == 0.0
        assert env.observation_space.contains(obs)
        rng = np.random.default_rng(0)
        for _ in range(20):
            _, _, terminated, truncated, info = env.step(
                rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
            assert info["sim_error"] == ""
            if terminated or truncated:
                env.reset()
    finally:
        env.close()


@needs_model
def test_check_env_joint_pos() -> None:
    env = make_env(KITCHEN_TASK_ID, robot="g1", control_mode="joint_pos", image_size=SMALL)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_env(env.unwrapped, skip_render_check=True)
        problems = [str(w.message) for w in caught if "WARN:" in str(w.message)
                    and "infinity" not in str(w.message) and "too low" not in str(w.message)]
        assert not problems, problems
    finally:
        env.close()


@needs_model
def test_ee_delta_tracks_position_and_orientation(env_cache) -> None:
    """The IK drives all 7 arm joints: the TCP follows position and wrist-orientation deltas."""
    env = env_cache(KITCHEN_TASK_ID, robot="g1", cameras=())
    u = env.unwrapped
    d, h = u.data, u.handles
    part = u.robot_model.ee_action_slices()["right"]
    still = np.zeros(env.action_space.shape, np.float32)

    def tcp() -> tuple[np.ndarray, np.ndarray]:
        rot = d.xmat[h.pelvis_body].reshape(3, 3)
        site = h.tcp_sites["right"]
        return (rot.T @ (d.site_xpos[site] - d.xpos[h.pelvis_body]),
                rot.T @ d.site_xmat[site].reshape(3, 3))

    for dim, steps in ((2, 15), (4, 10)):  # +z 15 cm; +pitch 0.4 rad
        env.reset(seed=0)
        for _ in range(20):
            env.step(still)
        pos0, rot0 = tcp()
        act = still.copy()
        act[part.start + dim] = 0.5
        for _ in range(steps):
            _, _, _, _, info = env.step(act)
            assert info["sim_error"] == ""
        for _ in range(10):
            env.step(still)
        pos, rot = tcp()
        if dim == 2:
            assert pos[2] - pos0[2] == pytest.approx(0.15, abs=0.01)
            assert np.linalg.norm((pos - pos0)[:2]) < 0.01
        else:
            quat, vel = np.empty(4), np.empty(3)
            mujoco.mju_mat2Quat(quat, (rot @ rot0.T).ravel())
            mujoco.mju_quat2Vel(vel, quat, 1.0)
            np.testing.assert_allclose(vel, [0.0, 0.4, 0.0], atol=0.02)
            assert np.linalg.norm(pos - pos0) < 0.01, "a 7-DoF wrist turns in place"

