"""Control modes: how a normalised action in ``[-1, 1]`` becomes actuator commands.

``ee_delta`` (default)
    base velocity ``(vx, vy, wz)`` in the robot frame + per arm an end-effector delta pose
    ``(dx, dy, dz, droll, dpitch, dyaw)`` in the robot frame + gripper (``+1`` close).
    IK (:mod:`vla_bench.control.ik`) turns the end-effector targets into arm and waist joint
    targets: all of each arm's joints, and the waist where an arm alone falls short. The base
    controller carries the pelvis (x/y/yaw velocity servos, height servo on the ground), so the
    robot stays upright, and the legs walk (below).
``joint_pos``
    absolute position targets for every actuated body joint, mapped from ``[-1, 1]`` to the
    joint range (``q = lo + (a + 1) / 2 · (hi − lo)``), + both grippers. The pelvis is free
    and nothing is gravity-compensated: the joint servos carry the whole weight, and the robot
    balances on its own feet or falls. Holding the home pose keeps it standing on flat ground.
``base_only``
    ``(vx, vy, wz)``; arms hold home, grippers open. For navigation.

Walking (default; ``Controller(..., gait=False)`` or ``make(..., gait=False)`` turns it off):
in ``ee_delta`` and ``base_only`` the legs play a kinematic gait driven by the base velocity,
and the pelvis bobs with it (:mod:`vla_bench.control.gait`). The pelvis is still carried: this
is animation, not balance. Its real-robot counterpart is Unitree's locomotion controller, which
takes the same ``(vx, vy, wz)``. While walking, the base velocity follows the command at most
at :attr:`~vla_bench.control.gait.GaitParams.accel`. Without the gait the legs hold home and the
base glides, following the command at once.
"""

from __future__ import annotations

from collections.abc import Callable

import mujoco
import numpy as np

from vla_bench.control.gait import Gait
from vla_bench.control.ik import ArmChain, ArmsIK
from vla_bench.conventions import CONTROL_DT
from vla_bench.errors import ConfigError
from vla_bench.geometry import yaw_matrix
from vla_bench.robots.adapter import SIDES, RobotHandles

BASE_SCALE = np.array([0.6, 0.3, 1.0])  # m/s, m/s, rad/s at |a| = 1
EE_POS_SCALE = 0.02  # m per control step at |a| = 1
EE_ROT_SCALE = 0.08  # rad per control step at |a| = 1
ROT_WEIGHT_5DOF = 0.08  # m per rad: IK orientation weight, arms that cannot reach every pose
ROT_WEIGHT_7DOF = 0.25  # ... and arms with six joints or more
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
        gait: bool = True,
    ) -> None:
        self.model, self.h, self.mode = model, handles, mode
        self.layout = action_layout(mode, handles)
        if mode != "joint_pos" and handles.floating:
            raise ConfigError(f"control_mode {mode!r} needs the carried base, not a free pelvis")
        self.ground_height = ground_height
        self.base_height = base_height  # base_z joint value on flat ground at z = 0
        n_legs, n_waist = len(handles.model.legs), len(handles.model.waist)
        self._waist = slice(n_legs, n_legs + n_waist)
        self.ik = ArmsIK(model, [
            ArmChain(handles.tcp_sites[side], handles.qpos_adr[handles.arm_slices[side]],
                     handles.joint_range[handles.arm_slices[side]])
            for side in SIDES
        ], waist=ArmChain(-1, handles.qpos_adr[self._waist], handles.joint_range[self._waist]),
            waist_home=handles.home_qpos[self._waist],
            # A 7-DoF arm can hold the wrist's orientation as well as its position.
            rot_weight=ROT_WEIGHT_7DOF if min(len(a.joints) for a in handles.model.arms.values())
            >= 6 else ROT_WEIGHT_5DOF)
        # Walking legs (carried modes only); its standing height is measured from the soles,
        # like the env's, and replaces the one given.
        self.gait = Gait(model, handles, ground_height) if gait and mode != "joint_pos" else None
        if self.gait is not None:
            self.base_height = self.gait.base_height
        self.base_target = np.zeros(3)
        self.base_vel = np.zeros(3)  # velocity command followed in the last step
        self.base_command = np.zeros(3)  # ... and the one the action asked for
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
            # Planted feet need the ground: stand at the sole-measured height before anything
            # is measured, wherever the caller put the base.
            x, y, _ = self.base_pose(data)
            data.qpos[self.h.base_qpos_adr[2]] = self.ground_height(x, y) + self.base_height
            # Cameras and lights must follow the base too (mj_camlight), or the reset
            # observation is rendered from the old pose; nothing else of the state changes.
            mujoco.mj_kinematics(self.model, data)
            mujoco.mj_camlight(self.model, data)
        self.base_target = self.base_pose(data)
        self.base_vel = np.zeros(3)
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
        vel = self._apply_base(action[:3], data)
        if self.mode == "base_only":
            data.ctrl[h.actuator_ids] = h.home_qpos
            for side in SIDES:
                data.ctrl[h.gripper_actuators[side]] = h.model.gripper_stroke
            self._apply_gait(vel, data)
            return
        legs = slice(0, len(h.model.legs))
        data.ctrl[h.actuator_ids[legs]] = h.home_qpos[legs]
        self._apply_gait(vel, data)
        x, y, yaw = self.base_pose(data)
        world = yaw_matrix(yaw)
        targets = []
        for side, part in h.model.ee_action_slices().items():
            a = action[part]
            pos, rot = self._arm_target(side, a[:6], data)
            targets.append((world @ pos + np.array([x, y, 0.0]), world @ rot))
            data.ctrl[h.gripper_actuators[side]] = h.model.gripper_stroke * (1.0 - a[6]) / 2
        arms, waist = self.ik.solve(data.qpos, targets)
        for side, q in zip(SIDES, arms, strict=True):
            data.ctrl[h.actuator_ids[h.arm_slices[side]]] = q
        data.ctrl[h.actuator_ids[self._waist]] = waist

    def _apply_base(self, a: np.ndarray, data: mujoco.MjData) -> np.ndarray:
        """Base servo commands; returns the velocity command ``(vx, vy, wz)`` it follows."""
        h = self.h
        vel = self.base_command = a * BASE_SCALE
        if self.gait is not None:
            # A walking robot speeds up over its first steps (GaitParams.accel).
            step = np.asarray(self.gait.p.accel) * CONTROL_DT
            vel = self.base_vel + np.clip(vel - self.base_vel, -step, step)
        self.base_vel = vel
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
        return vel

    def _apply_gait(self, vel: np.ndarray, data: mujoco.MjData) -> None:
        """Leg targets from the gait, and its pelvis bob on the height servo (if walking)."""
        if self.gait is None:
            return
        h = self.h
        legs, bob = self.gait.step(data, vel, self.base_target, self.base_command)
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
