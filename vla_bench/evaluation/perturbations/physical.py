"""Physical axes: heavier or lighter objects, slipperier contacts, shoves on the pelvis.

``mass`` and ``friction`` edit the model right after the env's reset — the episode starts
from exactly the nominal state — and the edits are undone at the start of the next reset
(see :mod:`~vla_bench.evaluation.perturbations.base`). ``push`` acts through
``data.xfrc_applied``, which MuJoCo's reset clears.

``mass`` and ``friction`` say when they cannot act (:meth:`not_applicable`): ``mass`` needs a
free object, ``friction`` a contact that matters (see each class). The runner drops such
conditions from the plan and lists them with the reason, so they never count as "robust".
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from vla_bench.evaluation.perturbations.base import PerturbationWrapper

PUSH_STEPS = 2  # control steps a push lasts (0.1 s, 50 physics steps)
PUSH_FIRST = (10, 40)  # control steps before the first push (0.5–2 s)
PUSH_GAP = (30, 60)  # control steps from one push's start to the next (1.5–3 s)
# Force applied per newton of level on a free-floating pelvis (joint_pos): measured on
# WalkToTree with the G1 holding its home pose, one push along x, peak pelvis displacement
# from the unpushed run: 60 N → 4 cm, 100 N → 9 cm, 140 N → falls; its carried base moves
# 1 cm at 600 N, 10 cm at 1000 N and 26 cm at 1400 N (H1: 12 cm at 100 N, falls at 140 N;
# carried 9 cm at 1000 N, 23 cm at 1400 N). So level L means L N on the carried base and
# 0.1·L N on the free pelvis, and the default levels stay mild, medium and severe in both.
FREE_FLOATING_PUSH_SCALE = 0.1
_SCHEDULE_STEPS = 10_000  # pushes are drawn up front for this many control steps


class Mass(PerturbationWrapper):
    """The mass and rotational inertia of every free object (the task's movable props and any
    clutter; not the robot) multiplied by ``level``, as if made of a denser material."""

    axis = "mass"
    edits_model = True

    def __init__(self, env: gym.Env, level: float, seed: int) -> None:
        super().__init__(env, level, seed)
        self.bodies = free_objects(self.base)

    @classmethod
    def not_applicable(cls, base: Any) -> str | None:
        """Not applicable without a free object: the robot's own mass is never scaled."""
        if len(free_objects(base)):
            return None
        return "the task has no free objects (the axis scales only those, never the robot)"

    def on_reset(self, obs: dict[str, Any], info: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Scale the objects' mass and inertia, and the subtree masses that contain them."""
        m, e, f = self.base.model, self._edits, self.level
        assert e is not None
        b = self.bodies
        if len(b):
            subtree = m.body_subtreemass.copy()
            for body in b:  # each object's extra mass counts in every ancestor's subtree
                extra, node = m.body_mass[body] * (f - 1.0), body
                while True:
                    subtree[node] += extra
                    if node == 0:
                        break
                    node = m.body_parentid[node]
            e.set("body_mass", b, m.body_mass[b] * f)
            e.set("body_inertia", b, m.body_inertia[b] * f)
            e.set("body_subtreemass", slice(None), subtree)
        return obs, info


class Friction(PerturbationWrapper):
    """Every geom's friction coefficients (sliding, torsional, rolling) multiplied by
    ``level``. MuJoCo gives a contact the larger coefficients of its two geoms, so scaling
    every geom (robot included) scales every contact by exactly ``level``: grasps slip and feet
    skid alike."""

    axis = "friction"
    edits_model = True

    @classmethod
    def not_applicable(cls, base: Any) -> str | None:
        """Not applicable when no contact can matter: the base is carried (``ee_delta``,
        ``base_only``: the feet skip ground contacts), nothing is free to move, no task is a
        manipulation task, and no door swings (a hinge with more than 10° of travel, which a
        body can push open). Friction then reaches only the robot's contacts with itself (an
        arm brushing the hip) and with fixed geometry or fixtures that need a grasp to move
        (drawers), none of which a navigation or social task is judged on; on GoToPrinter the
        expert's run at friction ×0.3 is identical to nominal to the last qpos digit. A free
        pelvis (``joint_pos``) stands on its feet, so there the axis always applies, as it does
        on PushDoorOpen."""
        if base.handles.floating or len(free_objects(base)):
            return None
        if any(getattr(t, "family", None) == "manipulation" for t in base.tasks):
            return None
        if len(swinging_hinges(base)):
            return None
        return ("it reaches only the robot's contacts with itself and with fixed geometry: the "
                "base is carried (the feet skip ground contacts), no object is free, no task "
                "manipulates and no door swings")

    def on_reset(self, obs: dict[str, Any], info: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Scale the friction of every geom and explicit contact pair."""
        m, e = self.base.model, self._edits
        assert e is not None
        e.set("geom_friction", slice(None), m.geom_friction * self.level)
        if m.npair:
            e.set("pair_friction", slice(None), m.pair_friction * self.level)
        return obs, info


class Push(PerturbationWrapper):
    """Horizontal shoves on the pelvis, each held for 2 control steps (0.1 s), in a random
    direction; the first after 0.5–2 s, then one every 1.5–3 s. The level is the force in
    newtons on the carried base; a free-floating pelvis gets 0.1 × level.

    The carried base of ``ee_delta``/``base_only`` is a velocity servo limited to 600 N per
    axis that tracks its commanded pose, so it gives way only beyond about 600 N: measured
    peak displacements from the nominal path are about 1 cm at 600 N, 4–10 cm at 1000 N,
    17–26 cm at 1400 N and 50 cm at 2000 N (the default levels are 600, 1000, 1400). A
    free-floating pelvis (``joint_pos``) has no servo: holding its home pose it moves 4 cm
    under 60 N, 9 cm under 100 N and falls under 140 N, so there the force is scaled by 0.1
    and the same levels stay mild, medium and severe (``force_n`` is the applied force).
    """

    axis = "push"

    def __init__(self, env: gym.Env, level: float, seed: int) -> None:
        super().__init__(env, level, seed)
        self.body = int(self.base.handles.pelvis_body)
        scale = FREE_FLOATING_PUSH_SCALE if self.base.handles.floating else 1.0
        self.force_n = self.level * scale
        self.onsets = np.zeros(0, int)
        self.forces = np.zeros((0, 3))
        self._t = 0
        self._pushing = False

    def on_reset(self, obs: dict[str, Any], info: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Draw this episode's push times and directions."""
        rng = self.rng
        first = int(rng.integers(PUSH_FIRST[0], PUSH_FIRST[1] + 1))
        gaps = rng.integers(PUSH_GAP[0], PUSH_GAP[1] + 1, _SCHEDULE_STEPS // PUSH_GAP[0])
        self.onsets = first + np.concatenate([[0], np.cumsum(gaps)[:-1]])
        heading = rng.uniform(-np.pi, np.pi, len(self.onsets))
        self.forces = self.force_n * np.stack(
            [np.cos(heading), np.sin(heading), np.zeros_like(heading)], 1)
        self._t = 0
        self._pushing = False
        return obs, info

    def force_at(self, step: int) -> np.ndarray:
        """World-frame force (N) on the pelvis during control step ``step`` (0-based)."""
        k = int(np.searchsorted(self.onsets, step, side="right")) - 1
        if k >= 0 and step < self.onsets[k] + PUSH_STEPS:
            return self.forces[k]
        return np.zeros(3)

    def before_step(self) -> None:
        """Apply (or clear) the push for the coming control step."""
        force = self.force_at(self._t)
        self._t += 1
        data = self.base.data
        if np.any(force):
            data.xfrc_applied[self.body, :3] = force
            self._pushing = True
        elif self._pushing:
            data.xfrc_applied[self.body, :3] = 0.0
            self._pushing = False

    def restore(self) -> None:
        """Remove a push in progress."""
        super().restore()
        if self._pushing:
            self.base.data.xfrc_applied[self.body, :3] = 0.0
            self._pushing = False


def free_objects(base: Any) -> np.ndarray:
    """Bodies with a free joint that are not part of the robot."""
    m = base.model
    robot_root = m.body_rootid[base.handles.pelvis_body]
    bodies = m.jnt_bodyid[m.jnt_type == mujoco.mjtJoint.mjJNT_FREE]
    return np.array(sorted(b for b in bodies if m.body_rootid[b] != robot_root), int)



SWING_MIN_RAD = np.radians(10.0)  # a hinge with less travel is a fixed fixture


def swinging_hinges(base: Any) -> np.ndarray:
    """Hinge joints outside the robot that can turn more than :data:`SWING_MIN_RAD`."""
    m = base.model
    robot_root = m.body_rootid[base.handles.pelvis_body]
    hinge = (m.jnt_type == mujoco.mjtJoint.mjJNT_HINGE) & \
        (m.body_rootid[m.jnt_bodyid] != robot_root)
    travel = np.where(m.jnt_limited.astype(bool), m.jnt_range[:, 1] - m.jnt_range[:, 0], np.inf)
    return np.flatnonzero(hinge & (travel > SWING_MIN_RAD))
