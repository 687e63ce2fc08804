"""Unitree G1, 23-DoF variant (``robot="g1_23"``: 12 leg, 1 waist, 2×5 arm), parallel-jaw grippers.

The model comes from robosuite-models.

Torque limits are Unitree's published peak joint torques for the G1 (hip 88 N·m, knee 139 N·m,
ankle 50 N·m, waist 88 N·m, arm 25 N·m). The robosuite-models G1 is the 23-DoF variant: its
arms end at the elbow-roll (forearm) joint, so the wrist has one rotational DoF.
"""

from __future__ import annotations

import math

from vla_bench.robots.adapter import ArmModel, RobotModel

_LEGS = tuple(
    f"{s}_leg_{j}_joint"
    for s in ("l", "r")
    for j in ("hip_pitch", "hip_roll", "hip_yaw", "knee", "ankle_pitch", "ankle_roll")
)
_ARM = ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow_pitch", "elbow_roll")
_Q = (math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0)  # gripper +z along forearm +x

G1_23 = RobotModel(
    name="g1_23",
    asset="g1",
    root_body="base",
    pelvis_body="pelvis",
    torso_body="torso_link",
    legs=_LEGS,
    waist=("torso_joint",),
    arms={
        "right": ArmModel(joints=tuple(f"r_{j}_joint" for j in _ARM), hand_body="r_elbow_roll_link",
                          hand_pos=(0.115, 0.0, 0.0), hand_quat=_Q),
        "left": ArmModel(joints=tuple(f"l_{j}_joint" for j in _ARM), hand_body="l_elbow_roll_link",
                         hand_pos=(0.115, 0.0, 0.0), hand_quat=_Q),
    },
    torque_limits={
        **{j: 139.0 if "knee" in j else 50.0 if "ankle" in j else 88.0 for j in _LEGS},
        "torso_joint": 88.0,
        **{f"{s}_{j}_joint": 25.0 for s in ("l", "r") for j in _ARM},
    },
    home={
        "l_leg_hip_pitch_joint": -0.1, "l_leg_knee_joint": 0.3, "l_leg_ankle_pitch_joint": -0.2,
        "r_leg_hip_pitch_joint": -0.1, "r_leg_knee_joint": 0.3, "r_leg_ankle_pitch_joint": -0.2,
        "r_shoulder_pitch_joint": 0.2, "r_shoulder_roll_joint": -0.25, "r_elbow_pitch_joint": 1.0,
        "l_shoulder_pitch_joint": 0.2, "l_shoulder_roll_joint": 0.25, "l_elbow_pitch_joint": 1.0,
    },
    kp={"legs": 300.0, "waist": 300.0, "arms": 120.0},
    head_camera_pos=(0.08, 0.0, 0.43),
    head_camera_pitch=math.radians(45.0),
    foot_bodies=("l_ankle_pitch_link", "l_ankle_roll_link", "r_ankle_pitch_link",
                 "r_ankle_roll_link"),
    description="Unitree G1, 23-DoF body, 1.32 m, 35 kg",
)
