"""Unitree H1 (19-DoF body: 10 leg, 1 waist, 2×4 arm) from robosuite-models, with parallel-jaw grippers.

Torque limits follow Unitree's H1 specification (hip 200 N·m, knee 300 N·m, ankle 40 N·m,
torso 200 N·m, shoulder 40 N·m, elbow 18 N·m).
"""

from __future__ import annotations

import math

from vla_bench.robots.adapter import ArmModel, RobotModel

_LEGS = tuple(
    f"{s}_leg_{j}_joint" for s in ("left", "right")
    for j in ("hip_yaw", "hip_roll", "hip_pitch", "knee", "ankle")
)
_ARM = ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow")
_Q = (math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0)

H1 = RobotModel(
    name="h1",
    asset="h1",
    root_body="base",
    pelvis_body="pelvis",
    torso_body="torso_link",
    legs=_LEGS,
    waist=("torso_joint",),
    arms={
        "right": ArmModel(joints=tuple(f"right_{j}_joint" for j in _ARM), hand_body="right_elbow_link",
                          hand_pos=(0.27, 0.0, 0.0), hand_quat=_Q),
        "left": ArmModel(joints=tuple(f"left_{j}_joint" for j in _ARM), hand_body="left_elbow_link",
                         hand_pos=(0.27, 0.0, 0.0), hand_quat=_Q),
    },
    torque_limits={
        **{j: 300.0 if "knee" in j else 40.0 if "ankle" in j else 200.0 for j in _LEGS},
        "torso_joint": 200.0,
        **{f"{s}_{j}_joint": 18.0 if j == "elbow" else 40.0
           for s in ("left", "right") for j in _ARM},
    },
    home={
        # Hips -0.1 / ankles -0.3 put the centre of mass over the middle of the feet, so the
        # joint servos alone hold this pose on a free pelvis (joint_pos). With the symmetric
        # -0.2 / -0.2 the centre of mass sat on the heels and the H1 fell backwards in 2 s.
        "left_leg_hip_pitch_joint": -0.1, "left_leg_knee_joint": 0.4, "left_leg_ankle_joint": -0.3,
        "right_leg_hip_pitch_joint": -0.1, "right_leg_knee_joint": 0.4, "right_leg_ankle_joint": -0.3,
        "right_shoulder_pitch_joint": 0.1, "right_shoulder_roll_joint": -0.35,
        "right_elbow_joint": 1.3,
        "left_shoulder_pitch_joint": 0.1, "left_shoulder_roll_joint": 0.35, "left_elbow_joint": 1.3,
    },
    kp={"legs": 400.0, "waist": 400.0, "arms": 150.0},
    head_camera_pos=(0.1, 0.0, 0.62),
    head_camera_pitch=math.radians(45.0),
    foot_bodies=("left_ankle_link", "right_ankle_link"),
    description="Unitree H1, 19-DoF body, 1.8 m, 47 kg",
)
