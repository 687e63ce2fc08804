"""Robot adapters: how a humanoid from an asset package becomes part of a vla_bench scene.

Tasks and controllers are written against :class:`RobotModel` (static description) and
:class:`RobotHandles` (indices in a compiled model), never against one robot's joint names.
A new humanoid is a new :class:`RobotModel` record (see ``g1.py``, ``h1.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import mujoco
import numpy as np

from vla_bench import assets
from vla_bench import conventions as cv
from vla_bench.errors import ConfigError

PREFIX = "robot/"
SIDES = ("right", "left")
CARRIED_LEG_KP = 1000.0  # N·m/rad: leg servo stiffness in the carried modes


@dataclass(frozen=True, kw_only=True)
class ArmModel:
    """One arm: its joints (shoulder → wrist) and where the end effector is mounted."""

    joints: tuple[str, ...]
    hand_body: str
    hand_pos: tuple[float, float, float]
    # Rotation (wxyz) from the hand body to the gripper frame (gripper +z = approach axis).
    hand_quat: tuple[float, float, float, float]


@dataclass(frozen=True, kw_only=True)
class RobotModel:
    """Static description of a humanoid, enough to build, control and monitor it."""

    name: str
    asset: str  # robosuite-models robots/<asset>, or a key of assets.DOWNLOADED_ROBOTS
    root_body: str
    pelvis_body: str
    torso_body: str
    legs: tuple[str, ...]
    waist: tuple[str, ...]
    arms: dict[str, ArmModel]
    torque_limits: dict[str, float]  # joint name -> N·m (actuator force limit)
    home: dict[str, float]  # joint name -> rad; unlisted joints are 0
    kp: dict[str, float]  # "legs" | "waist" | "arms" -> N·m/rad
    head_camera_pos: tuple[float, float, float]  # in the torso frame
    head_camera_pitch: float  # rad, positive looks down
    head_camera_fovy: float = 58.0  # deg, vertical field of view (RealSense D435 depth)
    # The forward-looking view beside the manipulation view: same mounting, a shallow pitch, so
    # that goals across a room or a field (landmarks, people, cones) are in frame at reset.
    front_camera_pitch: float = 0.26  # rad (15°) down
    foot_bodies: tuple[str, ...] = ()  # bodies whose geoms are the feet (ground contact)
    # Where each hand grasps best, robot frame (x forward, y left), m: experts stand so that
    # the object lies here. Measured for the parallel-jaw gripper at the arm's home height.
    grasp_reach: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {"right": (0.31, -0.22), "left": (0.31, 0.22)})
    # The fingertips reach this far below the TCP: a pinch lower than this above a surface
    # would press the fingers into it, so short objects are grasped above their centre.
    grasp_min_height: float = 0.037
    gripper_stroke: float = 0.045  # m of travel per finger (fully open)
    description: str = ""
    # Asset-specific edits applied to the loaded spec before anything else (e.g. removing a
    # hand the gripper replaces, or a light/camera the asset brings along); None: none.
    edit_spec: Callable[[mujoco.MjSpec], None] | None = None

    @property
    def body_joints(self) -> tuple[str, ...]:
        """Actuated body joints in action/state order: legs, waist, right arm, left arm."""
        return self.legs + self.waist + self.arms["right"].joints + self.arms["left"].joints

    def ee_action_slices(self) -> dict[str, slice]:
        """Per side, the slice of an ``ee_delta`` action holding that arm's 6 deltas + gripper.

        The layout is base ``(vx, vy, wz)``, then each side of :data:`SIDES` in order.
        """
        return {side: slice(3 + 7 * i, 3 + 7 * (i + 1)) for i, side in enumerate(SIDES)}

    def reach(self, side: str = "right") -> np.ndarray:
        """:attr:`grasp_reach` of one hand as an array."""
        return np.array(self.grasp_reach[side], float)


@dataclass
class RobotHandles:
    """Indices of one robot inside a compiled scene model."""

    model: RobotModel
    floating: bool
    joint_ids: np.ndarray  # body joints, RobotModel.body_joints order
    qpos_adr: np.ndarray
    dof_adr: np.ndarray
    actuator_ids: np.ndarray  # one position actuator per body joint, same order
    joint_range: np.ndarray  # (n, 2)
    home_qpos: np.ndarray  # body joint angles at home
    arm_slices: dict[str, slice]  # side -> slice into body joints
    gripper_actuators: dict[str, np.ndarray]
    gripper_qpos_adr: dict[str, np.ndarray]
    tcp_sites: dict[str, int]
    base_qpos_adr: np.ndarray  # planar: x, y, z, yaw; floating: free joint (7)
    base_dof_adr: np.ndarray
    base_actuators: np.ndarray  # planar: vx, vy, z, wz; floating: empty
    pelvis_body: int
    torso_body: int
    geom_ids: np.ndarray  # all robot geoms
    pad_geom_ids: np.ndarray  # gripper pads/fingers (allowed to touch graspable objects)
    foot_geom_ids: np.ndarray
    standing_height: float  # pelvis height above the ground when standing
    self_contact_exclusions: set[tuple[int, int]] = field(default_factory=set)

    @property
    def n_body(self) -> int:
        """Number of actuated body joints."""
        return len(self.joint_ids)


def _absolute_mesh_paths(spec: mujoco.MjSpec, folder: Path) -> None:
    folder = folder / spec.meshdir  # the asset's <compiler meshdir>, relative to its XML
    for mesh in spec.meshes:
        if mesh.file and not Path(mesh.file).is_absolute():
            mesh.file = str((folder / mesh.file).resolve())


def _simplify_visual_meshes(spec: mujoco.MjSpec, keep: float) -> None:
    """Point visual geoms at decimated copies of their meshes; collision meshes stay intact."""
    by_name = {m.name: m for m in spec.meshes}
    copies: dict[str, str] = {}
    for geom in spec.geoms:
        if geom.type != mujoco.mjtGeom.mjGEOM_MESH or geom.contype or geom.conaffinity:
            continue
        src = by_name.get(geom.meshname)
        if src is None or not src.file:
            continue
        if src.name not in copies:
            verts, faces = assets.simplified_mesh(Path(src.file), keep)
            copy = spec.add_mesh(name=f"{src.name}_render")
            copy.uservert = verts.astype(np.float32).ravel().tolist()
            copy.userface = faces.astype(np.int32).ravel().tolist()
            copy.scale = src.scale
            copies[src.name] = copy.name
        geom.meshname = copies[src.name]


def _set_contacts(spec: mujoco.MjSpec, touches_ground: bool) -> None:
    bits = cv.CONTACT_WORLD | (cv.CONTACT_GROUND if touches_ground else 0)
    for geom in spec.geoms:
        if geom.contype or geom.conaffinity:
            geom.contype, geom.conaffinity = bits, bits
            geom.group = cv.GROUP_COLLISION_ONLY if geom.group != cv.GROUP_SCENE else geom.group


def build_robot_spec(
    robot: RobotModel, *, floating: bool, mesh_keep: float, grippers: bool = True
) -> mujoco.MjSpec:
    """The robot as a standalone spec, ready to attach with prefix :data:`PREFIX`.

    ``floating`` gives the pelvis a free joint (whole-body mode: the robot can fall);
    otherwise the pelvis rides on x/y/z slides and a yaw hinge driven by the base controller.

    Gravity compensation differs between the two, on purpose:

    * floating (``joint_pos``): none. Every body has its full weight and only the joint
      actuators, within their torque limits, carry it. MuJoCo applies a body's ``gravcomp``
      to every DoF of its chain; the free joint has no actuator, so compensation would reach
      it as an invisible lift (it made the G1 hover above the floor).
    * carried (``ee_delta``, ``base_only``): every body but the root is compensated. On the
      body joints (``actgravcomp``) the gravity torque is added to the joint's actuator and
      the sum is clamped to the joint's torque limit, like a real controller's feed-forward;
      on the base slides and yaw hinge it acts passively, i.e. the carrier holds the weight
      that its height servo would otherwise hold. Without it the arms sag 2–3 cm.
    """
    xml = assets.robot_xml(robot.asset)
    spec = mujoco.MjSpec.from_file(str(xml))
    _absolute_mesh_paths(spec, xml.parent)
    if robot.edit_spec is not None:
        robot.edit_spec(spec)
    for act in list(spec.actuators):
        spec.delete(act)
    for sensor in list(spec.sensors):
        spec.delete(sensor)
    if mesh_keep < 1.0:
        _simplify_visual_meshes(spec, mesh_keep)
    for geom in spec.geoms:
        if not (geom.contype or geom.conaffinity):
            geom.group = cv.GROUP_ROBOT_VISUAL
    for site in spec.sites:
        site.group = 4

    root = spec.body(robot.root_body)
    for joint in list(root.joints):
        spec.delete(joint)
    if floating:
        root.add_freejoint(name="root")
    else:
        for name, axis, kind in (
            ("base_x", (1, 0, 0), mujoco.mjtJoint.mjJNT_SLIDE),
            ("base_y", (0, 1, 0), mujoco.mjtJoint.mjJNT_SLIDE),
            ("base_z", (0, 0, 1), mujoco.mjtJoint.mjJNT_SLIDE),
            ("base_yaw", (0, 0, 1), mujoco.mjtJoint.mjJNT_HINGE),
        ):
            root.add_joint(name=name, type=kind, axis=list(axis), armature=1.0)

    groups = {"legs": robot.legs, "waist": robot.waist}
    groups["arms"] = robot.arms["right"].joints + robot.arms["left"].joints
    for group, names in groups.items():
        for name in names:
            joint = spec.joint(name)
            legs = group != "arms"
            joint.armature = max(joint.armature, 0.03 if legs else 0.02)  # rotor inertia
            joint.damping[0] = max(float(joint.damping[0]), 1.0 if legs else 0.5)
            limit = robot.torque_limits[name]
            if not floating:
                # Carried modes: the joint's gravity torque goes through its actuator and the
                # sum is clamped to the torque limit (see the docstring).
                joint.actgravcomp = 1
                joint.actfrclimited = mujoco.mjtLimited.mjLIMITED_TRUE
                joint.actfrcrange = [-limit, limit]
            act = spec.add_actuator(name=name, target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
            kp = robot.kp[group]
            if not floating and group == "legs":
                # Carried: the legs bear no weight and only play the gait (control.gait);
                # stiffer servos keep its planted feet planted at walking speed.
                kp = max(kp, CARRIED_LEG_KP)
            # Legs: kv = kp / 25 (40 ms servo time constant) keeps a free-floating robot stable
            # under random targets; damping is integrated implicitly (implicitfast). Arms: a
            # lighter 20 ms constant so end-effector tracking stays crisp.
            act.set_to_position(kp=kp, kv=kp / (25.0 if legs else 50.0))
            act.ctrlrange = joint.range
            act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
            act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
            act.forcerange = [-limit, limit]

    if not floating:
        # Base controller actuators: velocity servos on x, y, yaw; a stiff height servo on z.
        # Force limits are real: pushing into a counter stalls the base and shows up as contact.
        for name, kind, gain, limit in (
            ("base_vx", "vel", 4000.0, 600.0),
            ("base_vy", "vel", 4000.0, 600.0),
            ("base_z", "pos", 40000.0, 3000.0),
            ("base_wz", "vel", 800.0, 200.0),
        ):
            joint = {"base_vx": "base_x", "base_vy": "base_y", "base_z": "base_z",
                     "base_wz": "base_yaw"}[name]
            act = spec.add_actuator(name=name, target=joint, trntype=mujoco.mjtTrn.mjTRN_JOINT)
            if kind == "vel":
                act.set_to_velocity(kv=gain)
            else:
                act.set_to_position(kp=gain, kv=2 * (gain * 40.0) ** 0.5)
            act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
            act.forcerange = [-limit, limit]

    torso = spec.body(robot.torso_body)
    # Both views from the head camera's mounting: "head" (manipulation) and "front" (the room).
    for name, pitch in (("head", robot.head_camera_pitch), ("front", robot.front_camera_pitch)):
        torso.add_camera(
            name=name,
            pos=list(robot.head_camera_pos),
            xyaxes=[0, -1, 0, np.sin(pitch), 0, np.cos(pitch)],
            fovy=robot.head_camera_fovy,
        )
    if grippers:
        _attach_grippers(spec, robot)
    if not floating:
        for body in spec.bodies:
            if body.name != robot.root_body:
                body.gravcomp = 1.0
    _set_contacts(spec, touches_ground=floating)
    for body1, body2 in _home_contact_pairs(robot, spec):
        spec.add_exclude(bodyname1=body1, bodyname2=body2)
    return spec


_HOME_PAIRS: dict[str, list[tuple[str, str]]] = {}


def _home_contact_pairs(robot: RobotModel, spec: mujoco.MjSpec) -> list[tuple[str, str]]:
    """Body pairs whose collision meshes already touch in the home pose.

    Convex hulls of neighbouring links overlap in the asset (e.g. G1 shoulder and torso);
    without an exclusion they would push against the servos and read as self-collision.
    """
    if robot.name not in _HOME_PAIRS:
        model = spec.copy().compile()
        data = mujoco.MjData(model)
        for name, value in robot.home.items():
            data.qpos[model.jnt_qposadr[model.joint(name).id]] = value
        mujoco.mj_forward(model, data)
        pairs = set()
        for con in data.contact[: data.ncon]:
            b1, b2 = model.geom_bodyid[con.geom1], model.geom_bodyid[con.geom2]
            if b1 != b2:
                pairs.add(tuple(sorted((model.body(b1).name, model.body(b2).name))))
        _HOME_PAIRS[robot.name] = sorted(pairs)
    return _HOME_PAIRS[robot.name]


def _attach_grippers(spec: mujoco.MjSpec, robot: RobotModel) -> None:
    gripper_xml = assets.leaf_asset("grippers", "parallel_jaw", "gripper.xml")
    for side, arm in robot.arms.items():
        gripper = mujoco.MjSpec.from_file(str(gripper_xml))
        hand = spec.body(arm.hand_body)
        frame = hand.add_frame(pos=list(arm.hand_pos), quat=list(arm.hand_quat))
        frame.attach_body(gripper.body("palm"), f"{side}_gripper/", "")
        for finger in ("finger_left", "finger_right"):
            name = f"{side}_gripper/{finger}"
            act = spec.add_actuator(name=name, target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
            act.set_to_position(kp=500.0, kv=20.0)
            act.ctrlrange = [0.0, 0.045]
            act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
            act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
            act.forcerange = [-25.0, 25.0]
        # The wrist camera looks along the approach axis from just behind the palm.
        spec.body(f"{side}_gripper/palm").add_camera(
            name=f"wrist_{side}", pos=[-0.06, 0, 0.0], xyaxes=[0, -1, 0, -1, 0, 0], fovy=70
        )
    for a, b in (("right_gripper/palm", robot.arms["right"].hand_body),
                 ("left_gripper/palm", robot.arms["left"].hand_body)):
        spec.add_exclude(bodyname1=a, bodyname2=b)


def resolve_handles(model: mujoco.MjModel, robot: RobotModel, floating: bool) -> RobotHandles:
    """Find every index the env, controllers and safety monitors need."""

    def jid(name: str) -> int:
        idx = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, PREFIX + name)
        if idx < 0:
            raise ConfigError(f"robot {robot.name}: joint {name!r} missing from the model")
        return idx

    def aid(name: str) -> int:
        return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_ACTUATOR, PREFIX + name)

    names = robot.body_joints
    joint_ids = np.array([jid(n) for n in names])
    arm_slices, start = {}, len(robot.legs) + len(robot.waist)
    for side in SIDES:
        n = len(robot.arms[side].joints)
        arm_slices[side] = slice(start, start + n)
        start += n
    if floating:
        root = jid("root")
        base_q = np.arange(model.jnt_qposadr[root], model.jnt_qposadr[root] + 7)
        base_d = np.arange(model.jnt_dofadr[root], model.jnt_dofadr[root] + 6)
        base_a = np.array([], int)
    else:
        base_j = [jid(n) for n in ("base_x", "base_y", "base_z", "base_yaw")]
        base_q = model.jnt_qposadr[base_j]
        base_d = model.jnt_dofadr[base_j]
        base_a = np.array([aid(n) for n in ("base_vx", "base_vy", "base_z", "base_wz")])
    root_body = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, PREFIX + robot.root_body)
    robot_bodies = {b for b in range(model.nbody) if _is_descendant(model, b, root_body)}
    geom_ids = np.array([g for g in range(model.ngeom) if model.geom_bodyid[g] in robot_bodies])
    geom_names = {g: mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, g) or "" for g in geom_ids}
    pads = np.array([g for g, n in geom_names.items() if "_gripper/" in n], int)
    if not robot.foot_bodies:
        raise ConfigError(f"robot {robot.name!r} names no foot_bodies")
    foot_bodies = {mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, PREFIX + b)
                   for b in robot.foot_bodies}
    feet = np.array([g for g in geom_ids if model.geom_bodyid[g] in foot_bodies], int)
    grip_act, grip_q, tcp = {}, {}, {}
    for side in SIDES:
        fingers = [f"{side}_gripper/finger_left", f"{side}_gripper/finger_right"]
        grip_act[side] = np.array([aid(f) for f in fingers])
        grip_q[side] = np.array([model.jnt_qposadr[jid(f)] for f in fingers])
        tcp[side] = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, f"{PREFIX}{side}_gripper/tcp")
    home = np.array([robot.home.get(n, 0.0) for n in names])
    return RobotHandles(
        model=robot,
        floating=floating,
        joint_ids=joint_ids,
        qpos_adr=model.jnt_qposadr[joint_ids].copy(),
        dof_adr=model.jnt_dofadr[joint_ids].copy(),
        actuator_ids=np.array([aid(n) for n in names]),
        joint_range=model.jnt_range[joint_ids].copy(),
        home_qpos=home,
        arm_slices=arm_slices,
        gripper_actuators=grip_act,
        gripper_qpos_adr=grip_q,
        tcp_sites=tcp,
        base_qpos_adr=np.asarray(base_q),
        base_dof_adr=np.asarray(base_d),
        base_actuators=base_a,
        pelvis_body=mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, PREFIX + robot.pelvis_body),
        torso_body=mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, PREFIX + robot.torso_body),
        geom_ids=geom_ids,
        pad_geom_ids=pads,
        foot_geom_ids=feet,
        standing_height=0.0,
    )


def _is_descendant(model: mujoco.MjModel, body: int, ancestor: int) -> bool:
    while body > 0:
        if body == ancestor:
            return True
        body = model.body_parentid[body]
    return ancestor == 0
