"""Domain randomisation applied at reset: lighting, colours, camera pose and extra clutter.

Off by default (released ids are unaffected). When on, the draws come from the episode's RNG
*after* the task has set up the episode, so the task's own randomisation (object poses,
target, instruction) is the same with and without it, and ``reset(seed)`` still determines
everything. Every touched model field is restored to its compiled value at the start of each
reset, so nothing accumulates across episodes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mujoco
import numpy as np

from vla_bench.errors import ConfigError
from vla_bench.geometry import yaw_quat

if TYPE_CHECKING:
    from vla_bench.sim import Sim

KNOBS = ("lighting", "colors", "camera", "distractors")
MAX_DISTRACTORS = 4


@dataclass(frozen=True)
class Randomization:
    """Strengths in ``[0, 1]``; 0 turns a knob off.

    lighting: light and headlight intensities scaled by ``U(1 - 0.6 s, 1 + 0.6 s)``, light
        directions tilted by up to ``0.5 s`` rad.
    colors: the scenery's RGB (floor, walls, furniture; not the robot, and not free objects,
        whose colours instructions refer to) shifted by ``U(-0.25 s, 0.25 s)`` per channel.
    camera: every camera moved by up to ``2 s`` cm per axis and turned by up to ``3 s`` degrees.
    distractors: ``round(4 s)`` extra clutter props (boxes, cylinders) in random colours on the
        domain's work surface (kitchen counter, workshop bench), clear of the task's objects;
        no effect in domains without one (office, outdoor).
    """

    lighting: float = 0.0
    colors: float = 0.0
    camera: float = 0.0
    distractors: float = 0.0

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
        return bool(self.lighting or self.colors or self.camera or self.distractors)

    @property
    def n_distractors(self) -> int:
        """Extra props this strength places each episode."""
        return int(round(MAX_DISTRACTORS * self.distractors))


class Randomizer:
    """Applies a :class:`Randomization` to one compiled model."""

    def __init__(self, sim: Sim, spec: Randomization, robot_geoms: np.ndarray) -> None:
        model = sim.model
        self.sim, self.model, self.spec = sim, model, spec
        # The fields edited here (lights, cameras, colours, headlight) are in the sim's
        # ledger, which the env restores at every reset: nothing to undo here.
        self._headlight = (model.vis.headlight.diffuse.copy(), model.vis.headlight.ambient.copy())
        # Scenery only: free objects keep their colours, which instructions refer to.
        free_bodies = model.jnt_bodyid[model.jnt_type == mujoco.mjtJoint.mjJNT_FREE]
        scenery = ~np.isin(model.geom_bodyid, free_bodies)
        self._scene_geoms = np.setdiff1d(np.flatnonzero(scenery), robot_geoms)
        # Run first at every reset, active or not: evaluation perturbations register their
        # undo here so a perturbed model never leaks into the next episode, wrapped or not.
        self.reset_hooks: list[Callable[[], None]] = []

    def run_reset_hooks(self) -> None:
        """Undo evaluation perturbations (registered hooks), before the ledger restores."""
        for hook in self.reset_hooks:
            hook()

    def apply(self, rng: np.random.Generator, sim: Sim | None = None, layout: object = None
              ) -> None:
        """Draw this episode's lighting, colours, cameras and clutter (after the task set-up)."""
        s, m = self.spec, self.model
        if s.n_distractors and sim is not None and layout is not None:
            self._place_distractors(rng, sim, layout)
        if s.lighting:
            nl = m.nlight
            gain = rng.uniform(1 - 0.6 * s.lighting, 1 + 0.6 * s.lighting, nl + 1)
            for field in ("light_diffuse", "light_ambient"):
                scaled = np.clip(getattr(m, field) * gain[:nl, None], 0, 1)
                self.sim.ledger.write(field, slice(None), scaled)
            tilt = rng.uniform(-0.5 * s.lighting, 0.5 * s.lighting, (nl, 3))
            dirs = m.light_dir + tilt
            self.sim.ledger.write("light_dir", slice(None),
                                 dirs / np.linalg.norm(dirs, axis=1, keepdims=True))
            m.vis.headlight.diffuse[:] = np.clip(self._headlight[0] * gain[-1], 0, 1)
            m.vis.headlight.ambient[:] = np.clip(self._headlight[1] * gain[-1], 0, 1)
        if s.colors:
            g = self._scene_geoms
            shift = rng.uniform(-0.25 * s.colors, 0.25 * s.colors, (len(g), 3))
            rgba = m.geom_rgba[g].copy()
            rgba[:, :3] = np.clip(rgba[:, :3] + shift, 0, 1)
            self.sim.set_rgba(g, rgba)
        if s.camera:
            nc = m.ncam
            self.sim.ledger.write("cam_pos", slice(None), m.cam_pos + rng.uniform(
                -0.02 * s.camera, 0.02 * s.camera, (nc, 3)))
            angles = np.deg2rad(rng.uniform(-3 * s.camera, 3 * s.camera, (nc, 3)))
            for c in range(nc):
                turn = np.empty(4)
                mujoco.mju_euler2Quat(turn, angles[c], "xyz")
                out = np.empty(4)
                mujoco.mju_mulQuat(out, m.cam_quat[c], turn)
                self.sim.ledger.write("cam_quat", c, out)

    def _place_distractors(self, rng: np.random.Generator, sim: Sim, layout: object) -> None:
        from vla_bench.scene.props import COLORS

        region = layout.distractor_surface(sim)  # type: ignore[attr-defined]
        m = self.model
        names = [f"distractor_{i}" for i in range(self.spec.n_distractors)]
        if region is None:
            for i, name in enumerate(names):  # parked: floating far away, out of view
                sim.set_free_pose(name, np.array([300.0 + 2 * i, 300.0, 60.0]))
                sim.set_gravcomp(name, 1.0)
            return
        lo, hi, top = region
        free = [j for j in range(m.njnt) if m.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE]
        taken = []
        for j in free:
            name = m.body(m.jnt_bodyid[j]).name
            pos = sim.data.qpos[m.jnt_qposadr[j]: m.jnt_qposadr[j] + 3]
            if not name.startswith("distractor_") and np.all(pos[:2] > lo - 0.15) \
                    and np.all(pos[:2] < hi + 0.15) and pos[2] > top - 0.1:
                taken.append(np.array(pos[:2]))
        palette = list(COLORS.values())
        for name in names:
            for _ in range(200):
                xy = rng.uniform(lo, hi)
                if all(np.linalg.norm(xy - t) > 0.18 for t in taken):
                    break
            taken.append(xy)
            yaw = rng.uniform(-np.pi, np.pi)
            sim.set_free_pose(name, np.array([xy[0], xy[1], top + 0.002]), yaw_quat(yaw))
            sim.set_gravcomp(name, 0.0)
            sim.set_rgba(sim.body_geoms(name), palette[int(rng.integers(len(palette)))])
