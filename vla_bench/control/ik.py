"""Damped-least-squares inverse kinematics for one arm's tool centre point (TCP).

Works on a scratch :class:`mujoco.MjData` so the simulation state is never touched. Position
and orientation errors are weighted: a 5-DoF humanoid arm cannot reach every 6-D pose, so the
solver trades orientation (``rot_weight`` metres per radian) against position.
"""

from __future__ import annotations

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


class ArmIK:
    """Solve joint targets for one arm so that a site reaches a target pose."""

    def __init__(
        self,
        model: mujoco.MjModel,
        site: int,
        dof_adr: np.ndarray,
        qpos_adr: np.ndarray,
        joint_range: np.ndarray,
        *,
        damping: float = 0.05,
        rot_weight: float = 0.08,
        iterations: int = 8,
    ) -> None:
        self.model = model
        self.scratch = mujoco.MjData(model)
        self.site = site
        self.dof_adr = dof_adr
        self.qpos_adr = qpos_adr
        self.lo, self.hi = joint_range[:, 0], joint_range[:, 1]
        self.damping = damping
        self.rot_weight = rot_weight
        self.iterations = iterations
        self._jacp = np.zeros((3, model.nv))
        self._jacr = np.zeros((3, model.nv))

    def solve(
        self,
        qpos: np.ndarray,
        target_pos: np.ndarray,
        target_mat: np.ndarray | None,
        rot_weight: float | None = None,
    ) -> np.ndarray:
        """Arm joint angles (in ``qpos_adr`` order) that bring the site to the target.

        ``qpos`` is the full current configuration; only the arm joints are changed.
        """
        d = self.scratch
        d.qpos[:] = qpos
        w = self.rot_weight if rot_weight is None else rot_weight
        q = qpos[self.qpos_adr].copy()
        for _ in range(self.iterations):
            d.qpos[self.qpos_adr] = q
            mujoco.mj_kinematics(self.model, d)
            mujoco.mj_comPos(self.model, d)
            pos_err = target_pos - d.site_xpos[self.site]
            mujoco.mj_jacSite(self.model, d, self._jacp, self._jacr, self.site)
            jac = self._jacp[:, self.dof_adr]
            err = pos_err
            if target_mat is not None and w > 0:
                rot_err = orientation_error(target_mat, d.site_xmat[self.site].reshape(3, 3))
                jac = np.vstack([jac, w * self._jacr[:, self.dof_adr]])
                err = np.concatenate([pos_err, w * rot_err])
            if np.linalg.norm(err) < 1e-4:
                break
            jjt = jac @ jac.T + self.damping**2 * np.eye(jac.shape[0])
            dq = jac.T @ np.linalg.solve(jjt, err)
            q = np.clip(q + dq, self.lo, self.hi)
        return q
