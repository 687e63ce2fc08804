"""Visual axes: pixel noise on the RGB images, and lighting, scenery colours and camera pose
changed in the model after each reset (and undone at the next one).

Levels are strengths in ``[0, 1]`` except ``image_noise``, whose level is the noise standard
deviation as a fraction of the 0–255 range.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from vla_bench import conventions as cv
from vla_bench.evaluation.perturbations.base import (
    ObservationPerturbation,
    PerturbationWrapper,
    check_not_after_obs_perturbation,
    image_keys,
)

LIGHT_GAIN = 0.75  # level 1: intensities x1.75 or /1.75
LIGHT_TILT = 0.5  # rad of light-direction tilt at level 1
COLOR_SHIFT = 0.5  # per-channel shift drawn from U(-0.5, 0.5) at level 1
CAMERA_SHIFT = 0.05  # m of camera translation at level 1
CAMERA_TURN = 10.0  # degrees of camera rotation at level 1
_DEFAULT_RGBA = np.array([0.5, 0.5, 0.5, 1.0], np.float32)  # MuJoCo: geom colour left unset


class ImageNoise(ObservationPerturbation):
    """Additive Gaussian pixel noise, std ``level * 255``, on every RGB camera; then clipped
    to ``[0, 255]`` and rounded to ``uint8``. A fresh draw every step."""

    axis = "image_noise"

    def observation(self, obs: dict[str, Any]) -> dict[str, Any]:
        """Noisy copies of the RGB images."""
        out = dict(obs)
        sigma = np.float32(self.level * 255.0)
        for key in image_keys(obs, cv.OBS_RGB):
            img = obs[key]
            noise = self.rng.standard_normal(img.shape, dtype=np.float32) * sigma
            out[key] = np.clip(img + noise, 0.0, 255.0).round().astype(np.uint8)
        return out


class _ModelEditVisual(PerturbationWrapper):
    """A visual axis that edits the model at reset, refreshes derived camera/light poses and
    re-renders the reset images."""

    edits_model = True

    def __init__(self, env: gym.Env, level: float, seed: int) -> None:
        check_not_after_obs_perturbation(env, self.axis)
        super().__init__(env, level, seed)

    def on_reset(self, obs: dict[str, Any], info: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Edit the model, then re-render the reset observation with the edit."""
        self.edit()
        # Rendering reads the world poses of cameras and lights from MjData, computed at the
        # env's last forward pass; mj_camlight recomputes them alone (no physics touched).
        mujoco.mj_camlight(self.base.model, self.base.data)
        return self.rerender(obs, info), info

    def edit(self) -> None:
        """Draw and apply this episode's edit through ``self._edits``."""
        raise NotImplementedError


class Lighting(_ModelEditVisual):
    """Every light (and the headlight) is made brighter or darker — a fair coin — by the gain
    ``g = 1 + 0.75 * level`` (or ``1 / g``), clipped to ``[0, 1]``, and each light's direction is
    tilted by ``0.5 * level`` rad about a random axis."""

    axis = "lighting"

    def edit(self) -> None:
        """Scale intensities and tilt directions."""
        m, e, rng = self.base.model, self._edits, self.rng
        assert e is not None
        gain = 1.0 + LIGHT_GAIN * self.level
        self.gain = gain if rng.random() < 0.5 else 1.0 / gain
        for name in ("light_diffuse", "light_ambient", "light_specular", "vis.headlight.diffuse",
                     "vis.headlight.ambient", "vis.headlight.specular"):
            e.set(name, slice(None), np.clip(e.field(name) * self.gain, 0.0, 1.0))
        angle = LIGHT_TILT * self.level
        for i in range(m.nlight):
            axis = rng.standard_normal(3)
            e.set("light_dir", i, _rotate(m.light_dir[i], axis / np.linalg.norm(axis), angle))


class Colors(_ModelEditVisual):
    """Scenery colours (floor, walls, the layout's furniture; not the robot, and not the task's
    objects, whose colours instructions refer to) shifted per geom and channel by
    ``U(-0.5 level, 0.5 level)``, clipped to ``[0, 1]``. Geoms coloured by a material (their
    own colour left at MuJoCo's default) get their material shifted instead, if only scenery
    uses it."""

    axis = "colors"

    def __init__(self, env: gym.Env, level: float, seed: int) -> None:
        super().__init__(env, level, seed)
        self.geoms, self.materials = scenery(self.base)

    def edit(self) -> None:
        """Shift the scenery's RGB."""
        m, e, s = self.base.model, self._edits, COLOR_SHIFT * self.level
        assert e is not None
        g, mats = self.geoms, self.materials
        shift = self.rng.uniform(-s, s, (len(g) + len(mats), 3))
        e.set("geom_rgba", (g, slice(0, 3)), np.clip(m.geom_rgba[g, :3] + shift[:len(g)], 0, 1))
        if len(mats):
            e.set("mat_rgba", (mats, slice(0, 3)),
                  np.clip(m.mat_rgba[mats, :3] + shift[len(g):], 0, 1))


class CameraPose(_ModelEditVisual):
    """Every observation camera moved by ``0.05 * level`` m in a random direction and turned by
    ``10 * level`` degrees about a random axis (in its own frame), for the whole episode."""

    axis = "camera_pose"

    def __init__(self, env: gym.Env, level: float, seed: int) -> None:
        super().__init__(env, level, seed)
        self.camera_ids = camera_ids(self.base)

    def edit(self) -> None:
        """Shift and turn the cameras."""
        m, e, rng = self.base.model, self._edits, self.rng
        assert e is not None
        angle = np.deg2rad(CAMERA_TURN * self.level)
        for cam in self.camera_ids:
            direction = rng.standard_normal(3)
            axis = rng.standard_normal(3)
            shift = CAMERA_SHIFT * self.level * direction / np.linalg.norm(direction)
            e.set("cam_pos", cam, m.cam_pos[cam] + shift)
            turn = np.empty(4)
            mujoco.mju_axisAngle2Quat(turn, axis / np.linalg.norm(axis), angle)
            quat = np.empty(4)
            mujoco.mju_mulQuat(quat, m.cam_quat[cam], turn)
            e.set("cam_quat", cam, quat)


def _rotate(v: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' rotation of ``v`` about the unit ``axis``."""
    c, s = np.cos(angle), np.sin(angle)
    return v * c + np.cross(axis, v) * s + axis * np.dot(axis, v) * (1 - c)


def camera_ids(base: Any) -> list[int]:
    """Model ids of the env's observation cameras (``env.unwrapped.cameras``)."""
    from vla_bench.robots.adapter import PREFIX

    out = []
    for name in base.cameras:
        full = name if name == "external" else PREFIX + name
        out.append(mujoco.mj_name2id(base.model, mujoco.mjtObj.mjOBJ_CAMERA, full))
    return out


def scenery(base: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(geom ids, material ids)`` of the scenery whose colours carry no task meaning.

    Scenery is the world body's geoms (floor, walls, terrain) and the layout's fixtures with
    their child bodies (furniture, doors). Task props (apples, coloured containers and boxes)
    are built by tasks, not the layout, so they are never included.
    """
    m = base.model
    inside = np.zeros(m.nbody, bool)
    for fx in base.layout.fixtures.values():
        inside[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, fx.body)] = True
    for b in range(1, m.nbody):  # MuJoCo orders parents before children
        if m.body_parentid[b] != 0 and inside[m.body_parentid[b]]:
            inside[b] = True
    inside[0] = True
    geoms = np.flatnonzero(inside[m.geom_bodyid])
    geoms = np.setdiff1d(geoms, base.handles.geom_ids)
    by_material = (m.geom_matid[geoms] >= 0) & np.all(m.geom_rgba[geoms] == _DEFAULT_RGBA, axis=1)
    mats = np.unique(m.geom_matid[geoms[by_material]])
    others = np.setdiff1d(np.arange(m.ngeom), geoms)
    mats = np.setdiff1d(mats, m.geom_matid[others])  # shared with the robot or props: left alone
    return geoms[~by_material], mats.astype(int)
