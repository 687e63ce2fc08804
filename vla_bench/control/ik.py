"""Damped-least-squares inverse kinematics for the grippers' tool centre points (TCP).

Works on a scratch :class:`mujoco.MjData` so the simulation state is never touched. Position
and orientation errors are weighted: a 5-DoF humanoid arm cannot reach every 6-D pose, so the
solver trades orientation (``rot_weight`` metres per radian) against position. All arms are
solved together, one ``mj_kinematics`` per iteration; arm joints are hinges, so the Jacobian
comes straight from joint anchors and axes (no ``mj_comPos``).
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
    """One arm for the solver: its TCP site and hinge joints."""

    site: int
    qpos_adr: np.ndarray
    joint_range: np.ndarray


class ArmsIK:
    """Solve joint targets for several arms so their sites reach target poses."""

    def __init__(
        self,
        model: mujoco.MjModel,
        arms: Sequence[ArmChain],
        *,
        damping: float = 0.05,
        rot_weight: float = 0.08,
        iterations: int = 2,
    ) -> None:
        self.model = model
        self.scratch = mujoco.MjData(model)
        self.arms = list(arms)
        self.joint_ids = [np.array([np.flatnonzero(model.jnt_qposadr == a)[0] for a in arm.qpos_adr])
                          for arm in self.arms]
        for ids in self.joint_ids:
            if np.any(model.jnt_type[ids] != mujoco.mjtJoint.mjJNT_HINGE):
                raise ValueError("ArmsIK supports hinge joints only")
        self.damping, self.rot_weight, self.iterations = damping, rot_weight, iterations
        self._jac = [np.zeros((6, len(ids))) for ids in self.joint_ids]
        self._err = np.zeros(6)
        self._damp = {n: damping**2 * np.eye(n) for n in (3, 6)}

    def solve(
        self,
        qpos: np.ndarray,
        targets: Sequence[tuple[np.ndarray, np.ndarray | None]],
    ) -> list[np.ndarray]:
        """Joint angles per arm (in ``qpos_adr`` order) reaching ``(position, rotation)`` targets.

        ``qpos`` is the full current configuration; only arm joints change. A ``None`` rotation
        solves position only.
        """
        d, w = self.scratch, self.rot_weight
        d.qpos[:] = qpos
        qs = [qpos[arm.qpos_adr].copy() for arm in self.arms]
        active = list(range(len(self.arms)))
        for _ in range(self.iterations):
            for i in active:
                d.qpos[self.arms[i].qpos_adr] = qs[i]
            mujoco.mj_kinematics(self.model, d)
            still = []
            for i in active:
                arm, ids = self.arms[i], self.joint_ids[i]
                pos, rot = targets[i]
                site_pos = d.site_xpos[arm.site]
                axes = d.xaxis[ids]
                r = site_pos - d.xanchor[ids]
                with_rot = rot is not None and w > 0
                rows = 6 if with_rot else 3
                jac, err = self._jac[i][:rows], self._err[:rows]
                jac[0] = axes[:, 1] * r[:, 2] - axes[:, 2] * r[:, 1]
                jac[1] = axes[:, 2] * r[:, 0] - axes[:, 0] * r[:, 2]
                jac[2] = axes[:, 0] * r[:, 1] - axes[:, 1] * r[:, 0]
                err[:3] = pos - site_pos
                if with_rot:
                    jac[3:] = w * axes.T
                    err[3:] = w * orientation_error(rot, d.site_xmat[arm.site].reshape(3, 3))
                dq = jac.T @ np.linalg.solve(jac @ jac.T + self._damp[rows], err)
                qs[i] = np.clip(qs[i] + dq, arm.joint_range[:, 0], arm.joint_range[:, 1])
                if dq @ dq > 1e-8:  # not yet converged (as far as a 5-DoF arm can)
                    still.append(i)
            active = still
            if not active:
                break
        return qs
