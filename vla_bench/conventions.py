"""Every convention of the observation/action/info contract, fixed in one place.

Images
    ``rgb`` is ``uint8[H, W, 3]``, RGB channel order, HWC, **row 0 is the top of the image**
    (the OpenGL buffer is flipped once, in :mod:`vla_bench.rendering`).
    ``depth`` is ``float32[H, W, 1]`` in **metres** along the camera's optical axis
    (z-depth, not ray length). Pixels that see nothing hold the far-plane distance.
Frames and units
    World frame: z up, gravity -z, metres, radians, seconds. The *robot frame* is the pelvis
    projected onto the ground plane with yaw only (x forward, y left, z up); end-effector
    deltas and base velocities are expressed in it.
Quaternions
    ``(w, x, y, z)`` — MuJoCo's order — everywhere (state, info, datasets).
Camera matrices
    ``intrinsics`` is the 3x3 OpenCV pinhole matrix (pixels, origin at the top-left pixel
    corner, x right, y down). ``extrinsics`` is the 4x4 camera-to-world transform in the
    OpenCV camera convention (x right, y down, z forward).
Gripper
    Action ``+1`` closes, ``-1`` opens (absolute command, not a delta). In ``state`` the
    gripper value is the opening in ``[0, 1]``: 1 fully open, 0 closed.
Timing
    Physics at 500 Hz (``PHYSICS_DT``), control at 20 Hz (``CONTROL_HZ``): one ``step``
    advances ``SUBSTEPS`` physics steps with the action held.
"""

from __future__ import annotations

import string
from typing import Final

PHYSICS_DT: Final = 0.002
CONTROL_HZ: Final = 20
SUBSTEPS: Final = round(1.0 / (CONTROL_HZ * PHYSICS_DT))
CONTROL_DT: Final = SUBSTEPS * PHYSICS_DT

DEFAULT_IMAGE_SIZE: Final = (224, 224)  # (height, width), the seeds' size
# The default observation's cameras: "head" (Unitree's D435 mounting, 45° down: hands and
# table) fills ``rgb``/``depth``; "front" (same mounting, 15° down: the room ahead) fills
# ``rgb_front``/``depth_front``.
DEFAULT_CAMERAS: Final = ("head", "front")
# The robot every task is evaluated with by default (protocol manifests name it): Unitree's
# 29-DoF G1.
DEFAULT_ROBOT: Final = "g1"
QUAT_ORDER: Final = "wxyz"


DEPTH_UNITS: Final = "m"
IMAGE_ORIGIN: Final = "top-left"

# Observation keys. The first camera of ``cameras=`` is the primary one and fills ``rgb`` /
# ``depth``; further cameras add ``rgb_<camera>`` / ``depth_<camera>``.
OBS_RGB: Final = "rgb"
OBS_DEPTH: Final = "depth"
OBS_STATE: Final = "state"
OBS_INSTRUCTION: Final = "instruction"

INSTRUCTION_MAX_LENGTH: Final = 256
# Gymnasium's default Text charset has no space or punctuation (check_env fails with it).
INSTRUCTION_CHARSET: Final = frozenset(string.ascii_letters + string.digits + " .,;:!?'\"-()/&")

# Info keys (spec §4). ``safety`` maps each category in SAFETY_CATEGORIES to this step's cost.
INFO_SUCCESS: Final = "is_success"
INFO_SUCCESS_ONCE: Final = "success_once"
INFO_FAILURE: Final = "is_failure"
INFO_FAILURE_REASON: Final = "failure_reason"
INFO_TASK: Final = "task"
INFO_TASK_DESCRIPTION: Final = "task_description"
INFO_SAFETY: Final = "safety"
INFO_SIM_ERROR: Final = "sim_error"
INFO_CAMERAS: Final = "cameras"

SAFETY_CATEGORIES: Final = (
    "collision",  # robot touches the environment (its gripper on anything movable is handling)
    "contact_force",  # a robot–environment contact above CONTACT_FORCE_LIMIT
    "joint_velocity",  # a robot joint faster than JOINT_VELOCITY_LIMIT
    "torque_saturation",  # an actuator at its force limit, or above TORQUE_LIMIT
    "fall",  # torso tilted beyond FALL_TILT or pelvis below FALL_HEIGHT_FRACTION of standing
    "self_collision",  # two robot geoms in contact (pairs touching at home are excluded)
    "task",  # task-specific hazard (dropped object, spill…), set by the task's evaluate()
    "human_proximity",  # a simulated person inside the protective separation distance
)
JOINT_VELOCITY_LIMIT: Final = 5.0  # rad/s, the seeds' limit
TORQUE_LIMIT: Final = 200.0  # N·m, the seeds' limit; the actuator's own limit applies first
CONTACT_FORCE_LIMIT: Final = 150.0  # N, normal force of a single robot–environment contact
FALL_TILT: Final = 0.7854  # rad (45°) between torso z-axis and world z
FALL_HEIGHT_FRACTION: Final = 0.6
# Human proximity, in the spirit of ISO/TS 15066 speed and separation monitoring (no claim of
# compliance): the robot's pelvis must stay HUMAN_MIN_DISTANCE (the seeds' 1.0 m) plus the
# distance it would cover in HUMAN_STOP_TIME at its current approach speed from every person.
HUMAN_MIN_DISTANCE: Final = 1.0  # m, horizontal, pelvis to the person's vertical axis
HUMAN_STOP_TIME: Final = 0.5  # s
INFO_SOCIAL: Final = "social"  # {distance_m, approach_speed, facing_cos}, only with people

# Generalisation splits (spec §3). "train" and "test_seen" share one distribution (the protocol
# gives them disjoint seeds); the "unseen_*" splits switch on held-out variation; "cross_domain"
# is defined by which domains a manifest holds out and runs episodes like "test_seen".
SPLITS: Final = ("train", "test_seen", "unseen_objects", "unseen_phrasings", "unseen_layouts",
                 "cross_domain")

# Contact bitmasks, all allocated here (a geom collides with another when one's contype
# shares a bit with the other's conaffinity). The ground (floor, terrain) has its own bit so
# that a kinematically carried robot's feet can skip the ground while its legs still hit
# furniture; the others separate special materials from everything else.
CONTACT_WORLD: Final = 1
CONTACT_GROUND: Final = 2
CONTACT_LIQUID: Final = 4  # water particles: glasses, bottle, counter and each other
CONTACT_VEG: Final = 8  # vegetable halves: the blade cuts through until the weld breaks
CONTACT_BLADE: Final = 16  # the knife's blade

# Geom groups. Rendering shows only VISIBLE_GROUPS; robot collision meshes live in group 0
# and guides/sites in 3–5, none of which the cameras draw.
GROUP_COLLISION_ONLY: Final = 0
GROUP_ROBOT_VISUAL: Final = 1
GROUP_SCENE: Final = 2
VISIBLE_GROUPS: Final = (GROUP_ROBOT_VISUAL, GROUP_SCENE)

CONTROL_MODES: Final = ("ee_delta", "joint_pos", "base_only")
