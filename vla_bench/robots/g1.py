"""Unitree G1, the default ``robot="g1"``: 29-DoF body (12 leg, 3 waist, 2×7 arm) as it ships.

Parallel-jaw grippers replace the hands (below).

The model is Unitree's ``g1_29dof_rev_1_0`` MJCF with its meshes, taken from mjlab 1.6.0's wheel
(``mjlab/asset_zoo/robots/unitree_g1/xmls``) by ``python -m vla_bench.robots.fetch`` at set-up;
see ``assets.DOWNLOADED_ROBOTS``. The wheel's one licence file, mjlab's Apache-2.0 ``LICENSE``,
is extracted beside the model; the wheel carries no separate Unitree licence.

Torque limits are the ``effort`` limits of Unitree's own URDF (``unitree_ros``,
``robots/g1_description/g1_29dof_rev_1_0.urdf``): hip pitch/yaw 88 N·m, hip roll and knee
139 N·m, ankle pitch/roll 35 N·m, waist yaw 88 N·m, waist roll/pitch 35 N·m, shoulder
pitch/roll/yaw, elbow and wrist roll 25 N·m, wrist pitch/yaw 5 N·m. (mjlab instead gives the
ankles and waist roll/pitch 2 × 25 = 50 N·m, the two motors of their linkages; the 23-DoF
record's ankles use 50 N·m too. We keep Unitree's joint-level figure.)

The head camera sits at Unitree's RealSense D435 mounting from the same URDF (``d435_joint``:
``xyz = 0.0576 0.0175 0.4299`` in ``torso_link``, pitched down 0.8308 rad = 47.6°).

The gripper replaces the rubber hand on the wrist-yaw link. Removed from the asset: each side's
``*_rubber_hand`` visual mesh, its ``*_hand_collision`` capsule and ``*_palm`` site, and the
hand's 0.170 kg from ``*_wrist_yaw_link`` (the MJCF lumps hand and link into one body, so the
link gets back its own inertial from the URDF); also the pelvis's tracking light and camera,
which would light and film every scene. The gripper mounts where the hand did, on the flange
at the end of the wrist-yaw link.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from vla_bench.robots.adapter import SIDES, ArmModel, RobotModel

_LEG = ("hip_pitch", "hip_roll", "hip_yaw", "knee", "ankle_pitch", "ankle_roll")
_LEGS = tuple(f"{s}_{j}_joint" for s in ("left", "right") for j in _LEG)
_WAIST = ("waist_yaw_joint", "waist_roll_joint", "waist_pitch_joint")
_ARM = ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow",
        "wrist_roll", "wrist_pitch", "wrist_yaw")
_Q = (math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0)  # gripper +z along hand +x
_FLANGE = (0.042, 0.0, 0.0)  # end of the wrist-yaw link's mesh (the rubber hand began at 0.0415)

_TORQUE = {
    "hip_pitch": 88.0, "hip_roll": 139.0, "hip_yaw": 88.0, "knee": 139.0,
    "ankle_pitch": 35.0, "ankle_roll": 35.0,
    "waist_yaw": 88.0, "waist_roll": 35.0, "waist_pitch": 35.0,
    "shoulder_pitch": 25.0, "shoulder_roll": 25.0, "shoulder_yaw": 25.0, "elbow": 25.0,
    "wrist_roll": 25.0, "wrist_pitch": 5.0, "wrist_yaw": 5.0,
}

# Unitree's URDF inertial of the bare wrist-yaw link (left side; the right mirrors y):
# mass, centre of mass, and (ixx, iyy, izz, ixy, ixz, iyz).
_WRIST_YAW_MASS = 0.08457647
_WRIST_YAW_COM = (0.02200381568, 0.00049485096, 0.00053861123)
_WRIST_YAW_INERTIA = (4.929128828e-5, 5.973338134e-5, 3.928083826e-5,
                      -4.5735494e-7, 4.45867591e-6, 4.3217198e-7)


def _joint(side: str, name: str) -> str:
    return f"{side}_{name}_joint"


def _torque(joint: str) -> float:
    name = joint.removesuffix("_joint").removeprefix("left_").removeprefix("right_")
    return _TORQUE[name]


def replace_hands(spec: mujoco.MjSpec) -> None:
    """Strip the rubber hands (the gripper replaces them) and the asset's light and camera."""
    for light in list(spec.lights):
        spec.delete(light)
    for camera in list(spec.cameras):
        spec.delete(camera)
    for side in SIDES:
        body = spec.body(f"{side}_wrist_yaw_link")
        for geom in list(body.geoms):
            if geom.meshname == f"{side}_rubber_hand" or geom.name == f"{side}_hand_collision":
                spec.delete(geom)
        for site in list(body.sites):  # the palm site
            spec.delete(site)
        sign = 1.0 if side == "left" else -1.0
        ixx, iyy, izz, ixy, ixz, iyz = _WRIST_YAW_INERTIA
        ixy, iyz = sign * ixy, sign * iyz
        # The MJCF gives principal moments + frame, so the full tensor is diagonalised here.
        moments, axes = np.linalg.eigh(np.array([[ixx, ixy, ixz], [ixy, iyy, iyz],
                                                 [ixz, iyz, izz]]))
        if np.linalg.det(axes) < 0:
            axes[:, 2] *= -1.0
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, axes.ravel())
        body.mass = _WRIST_YAW_MASS
        body.ipos = [_WRIST_YAW_COM[0], sign * _WRIST_YAW_COM[1], _WRIST_YAW_COM[2]]
        body.iquat = quat.tolist()
        body.inertia = moments.tolist()


G1 = RobotModel(
    name="g1",
    asset="g1_29",
    root_body="pelvis",
    pelvis_body="pelvis",
    torso_body="torso_link",
    legs=_LEGS,
    waist=_WAIST,
    arms={
        side: ArmModel(joints=tuple(_joint(side, j) for j in _ARM),
                       hand_body=f"{side}_wrist_yaw_link", hand_pos=_FLANGE, hand_quat=_Q)
        for side in SIDES
    },
    torque_limits={j: _torque(j) for j in _LEGS + _WAIST + tuple(
        _joint(s, a) for s in SIDES for a in _ARM)},
    home={
        **{_joint(s, j): v for s in ("left", "right")
           for j, v in (("hip_pitch", -0.1), ("knee", 0.3), ("ankle_pitch", -0.2))},
        # Forearms forward and elbows out: the grippers' collision boxes stay 4.0 cm from the
        # hip and thigh geoms (23-DoF G1: 3.9 cm); with a 0.25 rad roll they were 2.0 cm.
        "right_shoulder_pitch_joint": 0.2, "right_shoulder_roll_joint": -0.3,
        "right_elbow_joint": 1.0,
        "left_shoulder_pitch_joint": 0.2, "left_shoulder_roll_joint": 0.3,
        "left_elbow_joint": 1.0,
    },
    kp={"legs": 300.0, "waist": 300.0, "arms": 120.0},
    head_camera_pos=(0.0576235, 0.01753, 0.42987),
    head_camera_pitch=0.8307767239493009,
    foot_bodies=("left_ankle_roll_link", "right_ankle_roll_link"),
    # Measured with the unchanged pick-and-place expert on VLA-Kitchen-PlaceAppleInBasket-v1,
    # right hand (x, |y|): (0.27, 0.22), (0.29, 0.20), (0.27, 0.18), (0.29, 0.18), (0.31, 0.18)
    # succeed on seeds 0–7; (0.25, 0.22) 7/8; (0.31, 0.22), (0.35, 0.22), (0.31, 0.26) 0/3.
    # (0.28, 0.20), inside the working set: seeds 0–9 10/10. The left hand mirrors the right.
    grasp_reach={"right": (0.28, -0.20), "left": (0.28, 0.20)},
    description="Unitree G1, 29-DoF body (7-DoF arms, 3-DoF waist), 1.32 m, 35 kg",
    edit_spec=replace_hands,
)
