"""The observation contract (conventions.py): dtypes, shapes, metres, row 0 on top, cameras.

Depth and camera matrices are checked against MuJoCo's own ray caster: a ray cast from the
camera's position through pixel (row, col) by the reported intrinsics and extrinsics must hit
at the reported depth. That pins down units, z-depth, the image's row order and the camera
conventions at once.
"""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from helpers import KITCHEN_TASK_ID

from vla_bench import conventions as cv

CAMS = ("head", "external", "wrist_right")
SIZE = (48, 80)  # non-square, so that a height/width swap shows


@pytest.fixture(scope="module")
def multi(env_cache):
    env = env_cache(KITCHEN_TASK_ID, cameras=CAMS, image_size=SIZE)
    obs, info = env.reset(seed=0)
    return env, obs, info


def _key(kind: str, cam: str) -> str:
    return kind if cam == CAMS[0] else f"{kind}_{cam}"


def test_keys_dtypes_shapes(multi) -> None:
    env, obs, _ = multi
    h, w = SIZE
    expected = {"state", "instruction"} | {_key(k, c) for k in ("rgb", "depth") for c in CAMS}
    assert set(obs) == expected
    assert set(env.observation_space.spaces) == expected
    for cam in CAMS:
        rgb, depth = obs[_key("rgb", cam)], obs[_key("depth", cam)]
        assert rgb.dtype == np.uint8 and rgb.shape == (h, w, 3), cam
        assert depth.dtype == np.float32 and depth.shape == (h, w, 1), cam
        assert np.all(np.isfinite(depth)) and np.all(depth > 0), cam
        assert rgb.std() > 5, f"{cam} image is (nearly) constant"
        assert rgb.flags.c_contiguous and depth.flags.c_contiguous
    assert obs["state"].dtype == np.float32
    assert env.observation_space.contains(obs)


def test_instruction_is_text(multi) -> None:
    env, obs, info = multi
    space = env.observation_space["instruction"]
    assert isinstance(space, gym.spaces.Text)
    assert isinstance(obs["instruction"], str) and obs["instruction"]
    assert space.contains(obs["instruction"])
    assert " " in space.character_set  # gymnasium's default charset has no space
    assert obs["instruction"] == info["task_description"]


def test_head_depth_is_metric(multi) -> None:
    _, obs, _ = multi
    median = float(np.median(obs["depth"]))
    assert 0.3 < median < 3.0, f"head camera sees the counter at {median:.2f} m?"


def test_row_zero_is_top(multi) -> None:
    """The third-person camera sees the far wall at the top and the near floor at the bottom."""
    _, obs, _ = multi
    depth = obs["depth_external"][..., 0]
    quarter = depth.shape[0] // 4
    assert depth[:quarter].mean() > depth[-quarter:].mean() + 0.2


def test_camera_matrices(multi) -> None:
    _, _, info = multi
    h, w = SIZE
    assert set(info["cameras"]) == set(CAMS)
    for cam in CAMS:
        k = np.asarray(info["cameras"][cam]["intrinsics"])
        e = np.asarray(info["cameras"][cam]["extrinsics"])
        assert k.shape == (3, 3) and e.shape == (4, 4), cam
        assert k[0, 0] > 0 and k[1, 1] > 0 and k[2, 2] == 1
        assert k[0, 2] == pytest.approx(w / 2) and k[1, 2] == pytest.approx(h / 2)
        rot = e[:3, :3]
        np.testing.assert_allclose(rot.T @ rot, np.eye(3), atol=1e-6)
        assert np.linalg.det(rot) == pytest.approx(1.0, abs=1e-6)
        np.testing.assert_array_equal(e[3], [0, 0, 0, 1])


@pytest.mark.parametrize("cam", CAMS)
def test_depth_matches_ray_casts(multi, cam: str) -> None:
    env, obs, info = multi
    m, d = env.unwrapped.model, env.unwrapped.data
    depth = obs[_key("depth", cam)][..., 0]
    k = info["cameras"][cam]["intrinsics"]
    e = info["cameras"][cam]["extrinsics"]
    groups = np.zeros(mujoco.mjNGROUP, np.uint8)
    groups[list(cv.VISIBLE_GROUPS)] = 1
    geom = np.zeros(1, np.int32)
    # The camera's own mount is left out: the G1's D435 sits inside the head shell (part of
    # the torso mesh), whose inside faces the renderer culls but a ray would hit.
    name = cam if cam == "external" else f"robot/{cam}"
    mount = int(m.cam_bodyid[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_CAMERA, name)]) or -1
    errors = []
    h, w = depth.shape
    for row in range(2, h, 6):
        for col in range(2, w, 6):
            # Pixel centres: the intrinsics put the origin at the top-left pixel's corner.
            ray_cam = np.array([(col + 0.5 - k[0, 2]) / k[0, 0],
                                (row + 0.5 - k[1, 2]) / k[1, 1], 1.0])
            ray = e[:3, :3] @ ray_cam
            norm = np.linalg.norm(ray)
            dist = mujoco.mj_ray(m, d, e[:3, 3], ray / norm, groups, 1, mount, geom)
            if dist >= 0:
                errors.append(abs(dist / norm - depth[row, col]))
    assert len(errors) > 0.5 * (h // 6) * (w // 6), "most pixels should see something"
    errors = np.array(errors)
    assert np.median(errors) < 0.005 and np.mean(errors < 0.02) > 0.9, \
        f"{cam}: depth disagrees with ray casts (median error {np.median(errors):.3f} m)"


def test_wrist_camera_moves_with_the_hand(env_cache) -> None:
    env = env_cache(KITCHEN_TASK_ID, cameras=("wrist_right",), image_size=SIZE)
    env.reset(seed=1)
    layout = env.unwrapped.action_layout
    action = np.zeros(len(layout), np.float32)
    action[layout.index("right_dz")] = 1.0
    _, _, _, _, info0 = env.step(np.zeros_like(action))
    for _ in range(5):
        _, _, _, _, info = env.step(action)
    moved = np.linalg.norm(info["cameras"]["wrist_right"]["extrinsics"][:3, 3]
                           - info0["cameras"]["wrist_right"]["extrinsics"][:3, 3])
    assert moved > 0.02


def test_default_observation_is_224_head_and_front_rgbd(env_cache) -> None:
    env = env_cache(KITCHEN_TASK_ID, image_size=cv.DEFAULT_IMAGE_SIZE)
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"rgb", "depth", "rgb_front", "depth_front", "state", "instruction"}
    for sfx in ("", "_front"):
        assert obs["rgb" + sfx].shape == (224, 224, 3)
        assert obs["depth" + sfx].shape == (224, 224, 1)


def test_state_only_observation(env_cache) -> None:
    env = env_cache(KITCHEN_TASK_ID, cameras=())
    obs, info = env.reset(seed=0)
    assert set(obs) == {"state", "instruction"}
    assert info["cameras"] == {}
    assert env.observation_space.contains(obs)
