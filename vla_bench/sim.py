"""Typed helpers over ``MjModel``/``MjData``: named lookup, poses, contacts.

Tasks and experts read and write the simulation only through :class:`Sim`, so they never
index raw arrays by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import mujoco
import numpy as np

from vla_bench.errors import UnknownNameError
from vla_bench.robots.adapter import RobotHandles


class Sim:
    """A compiled scene: model, data, robot handles and name lookups."""

    def __init__(
        self,
        model: mujoco.MjModel,
        data: mujoco.MjData,
        robot: RobotHandles,
        ground_height: Callable[[float, float], float],
    ) -> None:
        self.model, self.data, self.robot = model, data, robot
        self.ground_height = ground_height
        self._id = cache(self._lookup)
        self._finger_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._body_geoms: dict[str, np.ndarray] = {}

    def _lookup(self, kind: mujoco.mjtObj, name: str) -> int:
        idx = mujoco.mj_name2id(self.model, kind, name)
        if idx < 0:
            names = [mujoco.mj_id2name(self.model, kind, i) or "" for i in range(self._count(kind))]
            raise UnknownNameError(str(kind).split(".")[-1].replace("mjOBJ_", "").lower(), name,
                                   [n for n in names if n])
        return idx

    def _count(self, kind: mujoco.mjtObj) -> int:
        return {mujoco.mjtObj.mjOBJ_BODY: self.model.nbody, mujoco.mjtObj.mjOBJ_GEOM: self.model.ngeom,
                mujoco.mjtObj.mjOBJ_JOINT: self.model.njnt, mujoco.mjtObj.mjOBJ_SITE: self.model.nsite,
                mujoco.mjtObj.mjOBJ_CAMERA: self.model.ncam}.get(kind, 0)

    def body_id(self, name: str) -> int:
        """Id of a body by name."""
        return self._id(mujoco.mjtObj.mjOBJ_BODY, name)

    def geom_id(self, name: str) -> int:
        """Id of a geom by name."""
        return self._id(mujoco.mjtObj.mjOBJ_GEOM, name)

    def joint_id(self, name: str) -> int:
        """Id of a joint by name."""
        return self._id(mujoco.mjtObj.mjOBJ_JOINT, name)

    def camera_id(self, name: str) -> int:
        """Id of a camera by name."""
        return self._id(mujoco.mjtObj.mjOBJ_CAMERA, name)

    # -- poses ---------------------------------------------------------------------------
    def body_pos(self, name: str) -> np.ndarray:
        """World position of a body (after the last forward pass)."""
        return self.data.xpos[self.body_id(name)].copy()

    def positions(self, names: list[str]) -> np.ndarray:
        """World positions ``(n, 3)`` of several bodies."""
        return self.data.xpos[[self.body_id(n) for n in names]]

    def inside(
        self, names: list[str], container: str, half_xy: tuple[float, float],
        z_range: tuple[float, float],
    ) -> np.ndarray:
        """Which bodies' origins lie in a box in ``container``'s frame (xy half extents, z range)."""
        b = self.body_id(container)
        local = (self.positions(names) - self.data.xpos[b]) @ self.data.xmat[b].reshape(3, 3)
        return ((np.abs(local[:, 0]) < half_xy[0]) & (np.abs(local[:, 1]) < half_xy[1])
                & (local[:, 2] > z_range[0]) & (local[:, 2] < z_range[1]))

    def body_mat(self, name: str) -> np.ndarray:
        """World rotation matrix of a body."""
        return self.data.xmat[self.body_id(name)].reshape(3, 3).copy()

    def body_speed(self, name: str) -> float:
        """Linear speed of a body's origin in m/s."""
        vel = np.empty(6)
        mujoco.mj_objectVelocity(self.model, self.data, mujoco.mjtObj.mjOBJ_BODY,
                                 self.body_id(name), vel, 0)
        return float(np.linalg.norm(vel[3:]))

    def robot_at_rest(self, max_speed: float, max_turn: float) -> bool:
        """Pelvis horizontal speed below ``max_speed`` (m/s) and yaw rate below ``max_turn``."""
        vel = np.empty(6)
        mujoco.mj_objectVelocity(self.model, self.data, mujoco.mjtObj.mjOBJ_BODY,
                                 self.robot.pelvis_body, vel, 0)
        return bool(np.linalg.norm(vel[3:5]) < max_speed and abs(vel[2]) < max_turn)

    def set_free_pose(self, joint: str, pos: np.ndarray, quat: np.ndarray | None = None) -> None:
        """Place a free-jointed body (and zero its velocity)."""
        j = self.joint_id(joint)
        adr, dof = self.model.jnt_qposadr[j], self.model.jnt_dofadr[j]
        self.data.qpos[adr: adr + 3] = pos
        self.data.qpos[adr + 3: adr + 7] = (1.0, 0.0, 0.0, 0.0) if quat is None else quat
        self.data.qvel[dof: dof + 6] = 0.0

    def set_static_pose(self, body: str, pos: np.ndarray, yaw: float | None = None) -> None:
        """Move a fixed (world-attached) body; valid without recompiling."""
        b = self.body_id(body)
        self.model.body_pos[b] = pos
        if yaw is not None:
            self.model.body_quat[b] = (np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2))

    def set_rgba(self, geom: str, rgba: tuple[float, ...] | np.ndarray) -> None:
        """Recolour a geom."""
        self.model.geom_rgba[self.geom_id(geom)] = rgba

    def robot_base(self) -> np.ndarray:
        """``(x, y, yaw)`` of the robot's pelvis."""
        b = self.robot.pelvis_body
        mat = self.data.xmat[b].reshape(3, 3)
        return np.array([*self.data.xpos[b][:2], np.arctan2(mat[1, 0], mat[0, 0])])

    def set_robot_base(self, xy: np.ndarray, yaw: float) -> None:
        """Place the robot's base at ``xy`` facing ``yaw`` (before the episode starts)."""
        h = self.robot
        if h.floating:
            adr = h.base_qpos_adr
            self.data.qpos[adr[0]: adr[0] + 2] = xy
            self.data.qpos[adr[3]: adr[3] + 4] = (np.cos(yaw / 2), 0, 0, np.sin(yaw / 2))
        else:
            self.data.qpos[h.base_qpos_adr[[0, 1, 3]]] = (xy[0], xy[1], yaw)

    def tcp(self, side: str) -> np.ndarray:
        """World position of a gripper's tool centre point."""
        return self.data.site_xpos[self.robot.tcp_sites[side]].copy()

    def gripper_opening(self, side: str) -> float:
        """Opening in ``[0, 1]`` (1 fully open)."""
        from vla_bench.control.controller import GRIPPER_STROKE

        q = self.data.qpos[self.robot.gripper_qpos_adr[side]]
        return float(np.clip(q.mean() / GRIPPER_STROKE, 0.0, 1.0))

    # -- contacts ------------------------------------------------------------------------
    def body_geoms(self, body: str) -> np.ndarray:
        """Geom ids attached to a body."""
        if body not in self._body_geoms:
            self._body_geoms[body] = np.flatnonzero(self.model.geom_bodyid == self.body_id(body))
        return self._body_geoms[body]

    def in_contact(self, geoms_a: np.ndarray, geoms_b: np.ndarray) -> bool:
        """True if any geom of ``a`` touches any geom of ``b``."""
        n = self.data.ncon
        if n == 0:
            return False
        mask_a = np.zeros(self.model.ngeom, bool)
        mask_b = np.zeros(self.model.ngeom, bool)
        mask_a[geoms_a] = True
        mask_b[geoms_b] = True
        g1, g2 = self.data.contact.geom1[:n], self.data.contact.geom2[:n]
        return bool(np.any((mask_a[g1] & mask_b[g2]) | (mask_a[g2] & mask_b[g1])))

    def grasped_by(self, body: str, side: str) -> bool:
        """Both fingers of a gripper touch the body (a physical pinch, no attachment)."""
        left, right = self._fingers(side)
        geoms = self.body_geoms(body)
        return self.in_contact(geoms, left) and self.in_contact(geoms, right)

    def _fingers(self, side: str) -> tuple[np.ndarray, np.ndarray]:
        if side not in self._finger_cache:
            names = {g: mujoco.mj_id2name(self.model, mujoco.mjtObj.mjOBJ_GEOM, int(g)) or ""
                     for g in self.robot.pad_geom_ids}
            mine = {g: n for g, n in names.items() if f"{side}_gripper/" in n}
            self._finger_cache[side] = (
                np.array([g for g, n in mine.items() if n.endswith("left")], int),
                np.array([g for g, n in mine.items() if n.endswith("right")], int),
            )
        return self._finger_cache[side]
