"""Damped-least-squares inverse kinematics for the grippers' tool centre points (TCP).

Works on a scratch :class:`mujoco.MjData` so the simulation state is never touched. Position
and orientation errors are weighted: an arm with fewer than six joints cannot reach every 6-D
pose, so the solver trades orientation (``rot_weight`` metres per radian) against position.

Both arms are solved together with the waist, one ``mj_kinematics`` per iteration. The waist is
shared by the arms and used sparingly: its columns are scaled down (moving it costs more than
moving an arm joint), and in the null space of the hands' targets it is pulled back to its home
pose, so it bends only where an arm alone falls short (reaching low, far, or across) and
straightens again, hands held where they are, when it need not.
Joints at a limit that the step would push further are frozen for that iteration, so the other
joints (the waist among them) take up the motion. Joints are hinges, so the Jacobian comes
straight from joint anchors and axes (no ``mj_comPos``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np


def orientation_error(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Rotation vector (world frame) taking ``current`` to ``target`` (both 3x3)."""
    rel = target @ current.T
    quat = np.empty(4)
    mujoco.mju_mat2Quat(quat, rel.ravel())
    vel = np.empty(3)
    mujoco.mju_quat2Vel(vel, quat, 1.0)
    return vel


@dataclass(frozen=True)
class ArmChain:
    """One chain for the solver: its TCP site (``-1`` for the waist) and hinge joints."""

    site: int
    qpos_adr: np.ndarray
    joint_range: np.ndarray


class ArmsIK:
    """Solve joint targets for several arms (and a shared waist) so their sites reach poses."""

    def __init__(
        self,
        model: mujoco.MjModel,
        arms: Sequence[ArmChain],
        *,
        waist: ArmChain | None = None,
        waist_home: np.ndarray | None = None,
        damping: float = 0.05,
        rot_weight: float = 0.08,
        waist_scale: float = 0.2,
        waist_return: float = 0.5,
        return_gate: float = 0.01,
        iterations: int = 2,
    ) -> None:
        self.model = model
        self.scratch = mujoco.MjData(model)
        self.arms = list(arms)
        no_waist = ArmChain(-1, np.zeros(0, int), np.zeros((0, 2)))
        self.waist = waist if waist is not None and len(waist.qpos_adr) else no_waist
        self.waist_home = (np.zeros(len(self.waist.qpos_adr)) if waist_home is None
                           else np.asarray(waist_home, float))
        chains = [self.waist, *self.arms]
        joint_ids = [np.array([np.flatnonzero(model.jnt_qposadr == a)[0] for a in c.qpos_adr],
                              int) for c in chains]
        self._ids = np.concatenate(joint_ids)  # every solved joint, in column order
        if np.any(model.jnt_type[self._ids] != mujoco.mjtJoint.mjJNT_HINGE):
            raise ValueError("ArmsIK supports hinge joints only")
        self.damping, self.rot_weight, self.iterations = damping, rot_weight, iterations
        self.waist_scale, self.waist_return = waist_scale, waist_return
        self.return_gate = return_gate  # m: no return while a hand misses its target by this
        # Columns: waist, then each arm; the waist's are scaled (see the module docstring).
        self._cols = np.cumsum([0] + [len(ids) for ids in joint_ids])
        self._scale = np.ones(self._cols[-1])
        self._scale[: self._cols[1]] = waist_scale
        self._lo = np.concatenate([c.joint_range[:, 0] for c in chains])
        self._hi = np.concatenate([c.joint_range[:, 1] for c in chains])
        self._adr = np.concatenate([c.qpos_adr for c in chains]).astype(int)

    def solve(
        self,
        qpos: np.ndarray,
        targets: Sequence[tuple[np.ndarray, np.ndarray | None]],
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """Joint angles per arm (in ``qpos_adr`` order) and of the waist, reaching the targets.

        ``targets`` holds one ``(position, rotation)`` per arm; a ``None`` rotation solves
        position only. ``qpos`` is the full current configuration; only arm and waist joints
        change.
        """
        d, w, cols = self.scratch, self.rot_weight, self._cols
        d.qpos[:] = qpos
        q = qpos[self._adr].copy()
        n_w = cols[1]
        for _ in range(self.iterations):
            d.qpos[self._adr] = q
            mujoco.mj_kinematics(self.model, d)
            rows_j, rows_e = [], []
            for i, (arm, (pos, rot)) in enumerate(zip(self.arms, targets, strict=True)):
                with_rot = rot is not None and w > 0
                jac = np.zeros((6 if with_rot else 3, cols[-1]))
                site_pos = d.site_xpos[arm.site]
                for part in (slice(0, n_w), slice(cols[i + 1], cols[i + 2])):
                    ids = self._ids[part]
                    axes = d.xaxis[ids]
                    jac[:3, part] = np.cross(axes, site_pos - d.xanchor[ids]).T
                    if with_rot:
                        jac[3:, part] = w * axes.T
                err = pos - site_pos
                if with_rot:
                    err = np.concatenate([err, w * orientation_error(
                        rot, d.site_xmat[arm.site].reshape(3, 3))])
                rows_j.append(jac)
                rows_e.append(err)
            # Secondary: the waist back towards home, within what the hands leave free. The
            # damped projector leaks a little of it into the hands' motion where an arm is near
            # full stretch, so it eases off while a hand is still far from its target.
            home = np.zeros(cols[-1])
            miss = max(float(np.linalg.norm(e[:3])) for e in rows_e)
            home[:n_w] = (self.waist_return * max(0.0, 1.0 - miss / self.return_gate)
                          * (self.waist_home - q[:n_w]))
            jac, err = np.vstack(rows_j) * self._scale, np.concatenate(rows_e)
            dq = self._step(jac, err, q, home)
            q = np.clip(q + dq, self._lo, self._hi)
            if dq @ dq < 1e-8:
                break
        arms = [q[cols[i + 1]: cols[i + 2]] for i in range(len(self.arms))]
        return arms, q[:n_w]

    def _step(self, jac: np.ndarray, err: np.ndarray, q: np.ndarray, home: np.ndarray
              ) -> np.ndarray:
        """One damped least-squares step on the (column-scaled) Jacobian, plus ``home`` (a
        motion in the scaled joint space) projected into its null space; joints that would
        push past a limit are frozen and the step solved again."""
        free = np.ones(len(q), bool)
        damp = self.damping**2 * np.eye(len(err))
        for _ in range(2):
            j = jac * free
            pinv = j.T @ np.linalg.inv(j @ j.T + damp)
            u = pinv @ err + (home - pinv @ (j @ home)) * free
            dq = self._scale * u
            blocked = ((q <= self._lo + 1e-6) & (dq < 0)) | ((q >= self._hi - 1e-6) & (dq > 0))
            if not np.any(blocked & free):
                break
            free &= ~blocked
        return dq
