"""Control modes: how a normalised action in ``[-1, 1]`` becomes actuator commands.

``ee_delta`` (default)
    base velocity ``(vx, vy, wz)`` in the robot frame + per arm an end-effector delta pose
    ``(dx, dy, dz, droll, dpitch, dyaw)`` in the robot frame + gripper (``+1`` close).
    IK turns the end-effector targets into arm joint targets; legs hold the standing pose and
    the base controller carries the pelvis (x/y/yaw velocity servos, height servo on the
    ground), so the robot stays upright. Documented simplification: no walking gait.
``joint_pos``
    absolute position targets for every actuated body joint, mapped from ``[-1, 1]`` to the
    joint range (``q = lo + (a + 1) / 2 · (hi − lo)``), + both grippers. The pelvis is free
    and nothing is gravity-compensated: the joint servos carry the whole weight, and the robot
    balances on its own feet or falls. Holding the home pose keeps it standing on flat ground.
``base_only``
    ``(vx, vy, wz)``; arms hold home, grippers open. For navigation.

Walking (opt-in, ``Controller(..., gait=True)``): in ``ee_delta`` and ``base_only`` the legs
play a kinematic gait driven by the commanded base velocity instead of holding home, and the
pelvis bobs with it (:mod:`vla_bench.control.gait`). The pelvis is still carried; the gait's
standing height (measured from the soles) replaces ``base_height``.
"""

from __future__ import annotations

from collections.abc import Callable

import mujoco
import numpy as np

from vla_bench.control.gait import Gait
from vla_bench.control.ik import ArmChain, ArmsIK
from vla_bench.errors import ConfigError
from vla_bench.geometry import yaw_matrix
from vla_bench.robots.adapter import SIDES, RobotHandles

BASE_SCALE = np.array([0.6, 0.3, 1.0])  # m/s, m/s, rad/s at |a| = 1
EE_POS_SCALE = 0.02  # m per control step at |a| = 1
EE_ROT_SCALE = 0.08  # rad per control step at |a| = 1
_WINDUP = 0.05  # m: targets never run further than this ahead of the measured pose
_EE_DIMS = ("dx", "dy", "dz", "droll", "dpitch", "dyaw")


def action_layout(mode: str, handles: RobotHandles) -> tuple[str, ...]:
    """Name of every action dimension for ``mode``."""
    base = ("base_vx", "base_vy", "base_wz")
    if mode == "ee_delta":
        arms = tuple(f"{s}_{d}" for s in SIDES for d in (*_EE_DIMS, "gripper"))
        return base + arms
    if mode == "base_only":
        return base
    if mode == "joint_pos":
        return tuple(handles.model.body_joints) + ("right_gripper", "left_gripper")
    raise ConfigError(f"unknown control_mode {mode!r}; use one of ee_delta, joint_pos, base_only")


def rotvec_matrix(rotvec: np.ndarray) -> np.ndarray:
    """Rotation matrix of an axis-angle vector."""
    quat = np.empty(4)
    angle = float(np.linalg.norm(rotvec))
    axis = rotvec / angle if angle > 1e-12 else np.array([1.0, 0.0, 0.0])
    mujoco.mju_axisAngle2Quat(quat, axis, angle)
    mat = np.empty(9)
    mujoco.mju_quat2Mat(mat, quat)
    return mat.reshape(3, 3)


class Controller:
    """Maps actions to ``data.ctrl`` for one robot in one control mode."""

    def __init__(
        self,
        model: mujoco.MjModel,
        handles: RobotHandles,
        mode: str,
        ground_height: Callable[[float, float], float],
        base_height: float,
        *,
        gait: bool = False,
    ) -> None:
        self.model, self.h, self.mode = model, handles, mode
        self.layout = action_layout(mode, handles)
        if mode != "joint_pos" and handles.floating:
            raise ConfigError(f"control_mode {mode!r} needs the carried base, not a free pelvis")
        self.ground_height = ground_height
        self.base_height = base_height  # base_z joint value on flat ground at z = 0
        self.ik = ArmsIK(model, [
            ArmChain(handles.tcp_sites[side], handles.qpos_adr[handles.arm_slices[side]],
                     handles.joint_range[handles.arm_slices[side]])
            for side in SIDES
        ])
        # Walking legs (carried modes only); its sole-based standing height is the right one
        # for feet on the ground, so it replaces the one given.
        self.gait = Gait(model, handles, ground_height) if gait and mode != "joint_pos" else None
        if self.gait is not None:
            self.base_height = self.gait.base_height
        self.base_target = np.zeros(3)
        self.ee_pos: dict[str, np.ndarray] = {}
        self.ee_rot: dict[str, np.ndarray] = {}

    # -- state ---------------------------------------------------------------------------
    def base_pose(self, data: mujoco.MjData) -> np.ndarray:
        """``(x, y, yaw)`` of the carried base."""
        q = data.qpos[self.h.base_qpos_adr]
        return np.array([q[0], q[1], q[3]])

    def tcp_in_robot_frame(self, data: mujoco.MjData, side: str) -> tuple[np.ndarray, np.ndarray]:
        """Position and rotation of a gripper's TCP in the robot frame."""
        x, y, yaw = self.base_pose(data)
        rot = yaw_matrix(yaw)
        site = self.h.tcp_sites[side]
        pos = rot.T @ (data.site_xpos[site] - np.array([x, y, 0.0]))
        return pos, rot.T @ data.site_xmat[site].reshape(3, 3)

    def reset(self, data: mujoco.MjData) -> None:
        """Hold the current pose; called after the episode's initial state is set."""
        if self.mode == "joint_pos":
            # Servo targets start at the current (home) pose, not at the all-zero ctrl that
            # mj_resetData leaves: the free robot must not be driven off its pose while it settles.
            self.hold(data)
            return
        if self.gait is not None:
            # Stand at the gait's standing height before anything is measured: the env may
            # have placed the base higher (its estimate uses the feet's bounding spheres), and
            # planted feet need the ground.
            x, y, _ = self.base_pose(data)
            data.qpos[self.h.base_qpos_adr[2]] = self.ground_height(x, y) + self.base_height
            mujoco.mj_kinematics(self.model, data)
        self.base_target = self.base_pose(data)
        for side in SIDES:
            self.ee_pos[side], self.ee_rot[side] = self.tcp_in_robot_frame(data, side)
        self.hold(data)
        if self.gait is not None:
            self.gait.reset(data)

    def hold(self, data: mujoco.MjData) -> None:
        """Commands that keep the robot where it is (used at reset)."""
        h = self.h
        data.ctrl[h.actuator_ids] = np.clip(data.qpos[h.qpos_adr], h.joint_range[:, 0],
                                            h.joint_range[:, 1])
        if not h.floating:
            data.ctrl[h.base_actuators] = 0.0
            data.ctrl[h.base_actuators[2]] = data.qpos[h.base_qpos_adr[2]]
        for side in SIDES:
            data.ctrl[h.gripper_actuators[side]] = data.qpos[h.gripper_qpos_adr[side]]

    # -- action → ctrl -------------------------------------------------------------------
    def apply(self, action: np.ndarray, data: mujoco.MjData) -> None:
        """Write the actuator commands for one control step."""
        h = self.h
        if self.mode == "joint_pos":
            lo, hi = h.joint_range[:, 0], h.joint_range[:, 1]
            n = h.n_body
            data.ctrl[h.actuator_ids] = lo + (action[:n] + 1.0) * 0.5 * (hi - lo)
            stroke = h.model.gripper_stroke
            for i, side in enumerate(SIDES):
                data.ctrl[h.gripper_actuators[side]] = stroke * (1.0 - action[n + i]) / 2
            return
        self._apply_base(action[:3], data)
        if self.mode == "base_only":
            data.ctrl[h.actuator_ids] = h.home_qpos
            for side in SIDES:
                data.ctrl[h.gripper_actuators[side]] = h.model.gripper_stroke
            self._apply_gait(action[:3], data)
            return
        legs_waist = slice(0, len(h.model.legs) + len(h.model.waist))
        data.ctrl[h.actuator_ids[legs_waist]] = h.home_qpos[legs_waist]
        self._apply_gait(action[:3], data)
        x, y, yaw = self.base_pose(data)
        world = yaw_matrix(yaw)
        targets = []
        for side, part in h.model.ee_action_slices().items():
            a = action[part]
            pos, rot = self._arm_target(side, a[:6], data)
            targets.append((world @ pos + np.array([x, y, 0.0]), world @ rot))
            data.ctrl[h.gripper_actuators[side]] = h.model.gripper_stroke * (1.0 - a[6]) / 2
        for side, q in zip(SIDES, self.ik.solve(data.qpos, targets)):
            data.ctrl[h.actuator_ids[h.arm_slices[side]]] = q

    def _apply_base(self, a: np.ndarray, data: mujoco.MjData) -> None:
        from vla_bench.conventions import CONTROL_DT

        h = self.h
        vel = a * BASE_SCALE
        x, y, yaw = self.base_pose(data)
        rot = yaw_matrix(yaw)[:2, :2]
        v_world = rot @ vel[:2]
        self.base_target[:2] += v_world * CONTROL_DT
        self.base_target[2] += vel[2] * CONTROL_DT
        # Track an integrated pose so the base does not drift; clamp it so a blocked base
        # (pushing into furniture) does not wind up.
        err = self.base_target - np.array([x, y, yaw])
        err[2] = (err[2] + np.pi) % (2 * np.pi) - np.pi
        err = np.clip(err, -_WINDUP, _WINDUP)
        self.base_target = np.array([x, y, yaw]) + err
        data.ctrl[h.base_actuators[0]] = v_world[0] + 4.0 * err[0]
        data.ctrl[h.base_actuators[1]] = v_world[1] + 4.0 * err[1]
        data.ctrl[h.base_actuators[3]] = vel[2] + 4.0 * err[2]
        data.ctrl[h.base_actuators[2]] = self.ground_height(x, y) + self.base_height

    def _apply_gait(self, a: np.ndarray, data: mujoco.MjData) -> None:
        """Leg targets from the gait, and its pelvis bob on the height servo (if walking)."""
        if self.gait is None:
            return
        h = self.h
        legs, bob = self.gait.step(data, a * BASE_SCALE, self.base_target)
        data.ctrl[h.actuator_ids[: len(h.model.legs)]] = legs
        data.ctrl[h.base_actuators[2]] += bob

    def _arm_target(self, side: str, a: np.ndarray, data: mujoco.MjData
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Integrate the delta into the robot-frame TCP target, clamped near the measured pose."""
        cur_pos, _ = self.tcp_in_robot_frame(data, side)
        pos = self.ee_pos[side] + a[:3] * EE_POS_SCALE
        pos = cur_pos + np.clip(pos - cur_pos, -_WINDUP, _WINDUP)
        rot = rotvec_matrix(a[3:6] * EE_ROT_SCALE) @ self.ee_rot[side]
        self.ee_pos[side], self.ee_rot[side] = pos, rot
        return pos, rot
