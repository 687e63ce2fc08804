"""Visual domain randomisation applied at reset: lighting, colours and camera pose.

Off by default (released ids are unaffected). When on, the draws come from the episode's RNG
*after* the task has set up the episode, so the task's own randomisation (object poses,
target, instruction) is the same with and without it, and ``reset(seed)`` still determines
everything. Every touched model field is restored to its compiled value at the start of each
reset, so nothing accumulates across episodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mujoco
import numpy as np

from vla_bench.errors import ConfigError

KNOBS = ("lighting", "colors", "camera")


@dataclass(frozen=True)
class Randomization:
    """Strengths in ``[0, 1]``; 0 turns a knob off.

    lighting: light and headlight intensities scaled by ``U(1 - 0.6 s, 1 + 0.6 s)``, light
        directions tilted by up to ``0.5 s`` rad.
    colors: every non-robot geom's RGB shifted by ``U(-0.25 s, 0.25 s)`` per channel.
    camera: every camera moved by up to ``2 s`` cm per axis and turned by up to ``3 s`` degrees.
    """

    lighting: float = 0.0
    colors: float = 0.0
    camera: float = 0.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, float] | None) -> Randomization:
        """Validate a ``{"lighting": 0.5, …}`` mapping (the env's ``randomize=`` argument)."""
        values = dict(values or {})
        unknown = set(values) - set(KNOBS)
        if unknown:
            raise ConfigError(f"unknown randomize knob(s) {sorted(unknown)}; valid: {list(KNOBS)}")
        for key, value in values.items():
            if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
                raise ConfigError(f"randomize[{key!r}] must be a number in [0, 1], got {value!r}")
        return cls(**{k: float(v) for k, v in values.items()})

    @property
    def active(self) -> bool:
        """Any knob on."""
        return bool(self.lighting or self.colors or self.camera)


class Randomizer:
    """Applies a :class:`Randomization` to one compiled model."""

    def __init__(self, model: mujoco.MjModel, spec: Randomization, robot_geoms: np.ndarray) -> None:
        self.model, self.spec = model, spec
        self._nominal = {
            "light_diffuse": model.light_diffuse.copy(),
            "light_ambient": model.light_ambient.copy(),
            "light_dir": model.light_dir.copy(),
            "cam_pos": model.cam_pos.copy(),
            "cam_quat": model.cam_quat.copy(),
            "geom_rgba": model.geom_rgba.copy(),
        }
        self._headlight = (model.vis.headlight.diffuse.copy(), model.vis.headlight.ambient.copy())
        self._scene_geoms = np.setdiff1d(np.arange(model.ngeom), robot_geoms)

    def restore(self) -> None:
        """Put every field this class edits back to its compiled value."""
        if not self.spec.active:
            return
        for name, value in self._nominal.items():
            getattr(self.model, name)[:] = value
        self.model.vis.headlight.diffuse[:], self.model.vis.headlight.ambient[:] = self._headlight

    def apply(self, rng: np.random.Generator) -> None:
        """Draw this episode's lighting, colours and camera poses (call after the task set-up)."""
        s, m = self.spec, self.model
        if s.lighting:
            nl = m.nlight
            gain = rng.uniform(1 - 0.6 * s.lighting, 1 + 0.6 * s.lighting, nl + 1)
            m.light_diffuse[:] = np.clip(m.light_diffuse * gain[:nl, None], 0, 1)
            m.light_ambient[:] = np.clip(m.light_ambient * gain[:nl, None], 0, 1)
            tilt = rng.uniform(-0.5 * s.lighting, 0.5 * s.lighting, (nl, 3))
            dirs = m.light_dir + tilt
            m.light_dir[:] = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
            m.vis.headlight.diffuse[:] = np.clip(self._headlight[0] * gain[-1], 0, 1)
            m.vis.headlight.ambient[:] = np.clip(self._headlight[1] * gain[-1], 0, 1)
        if s.colors:
            g = self._scene_geoms
            shift = rng.uniform(-0.25 * s.colors, 0.25 * s.colors, (len(g), 3))
            m.geom_rgba[g, :3] = np.clip(m.geom_rgba[g, :3] + shift, 0, 1)
        if s.camera:
            nc = m.ncam
            m.cam_pos[:] += rng.uniform(-0.02 * s.camera, 0.02 * s.camera, (nc, 3))
            angles = np.deg2rad(rng.uniform(-3 * s.camera, 3 * s.camera, (nc, 3)))
            for c in range(nc):
                turn = np.empty(4)
                mujoco.mju_euler2Quat(turn, angles[c], "xyz")
                out = np.empty(4)
                mujoco.mju_mulQuat(out, m.cam_quat[c], turn)
                m.cam_quat[c] = out
