"""Typed helpers over ``MjModel``/``MjData``: named lookup, poses, joints, welds, contacts.

Tasks and experts read and write the simulation only through :class:`Sim`, so they never
index raw arrays by hand (nothing under ``vla_bench/domains`` touches ``sim.model`` or
``sim.data``).

Two things make that safe to share between the tasks of one scene:

- **Scopes.** Each task builds under a name prefix (``cut_vegetable/knife``); the env hands
  the task a view made by :meth:`Sim.scoped`, in which ``"knife"`` means the task's own body
  and any other name falls through to the scene (layout fixtures, the robot).
- **The ledger.** Every write to the *model* (static poses, colours, sizes, cameras, weld
  frames, gravity compensation, contact bits) goes through :class:`ModelLedger`, which holds
  the compiled values; :meth:`ModelLedger.restore` at each reset undoes all of them at once,
  so no episode leaks into the next.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import mujoco
import numpy as np

from vla_bench import geometry
from vla_bench.errors import ConfigError, UnknownNameError
from vla_bench.robots.adapter import RobotHandles

# Model fields that may change between episodes. Everything else is fixed at compile time.
LEDGER_FIELDS = (
    "body_pos", "body_quat", "body_gravcomp", "body_mass",
    "geom_rgba", "geom_size", "geom_pos", "geom_quat", "geom_contype", "geom_conaffinity",
    "geom_friction", "mat_rgba", "cam_pos", "cam_quat", "cam_fovy",
    "light_pos", "light_dir", "light_diffuse", "light_ambient",
    "eq_data", "eq_active0",
)


class ModelLedger:
    """The compiled values of :data:`LEDGER_FIELDS`, restored together at every reset."""

    def __init__(self, model: mujoco.MjModel) -> None:
        self.model = model
        self._nominal = {f: getattr(model, f).copy() for f in LEDGER_FIELDS}
        self._headlight = (model.vis.headlight.diffuse.copy(), model.vis.headlight.ambient.copy())

    def nominal(self, field: str) -> np.ndarray:
        """A field's compiled value (read-only copy)."""
        return self._nominal[field]

    def restore(self) -> None:
        """Put every ledger field back to its compiled value."""
        for name, value in self._nominal.items():
            getattr(self.model, name)[:] = value
        self.model.vis.headlight.diffuse[:], self.model.vis.headlight.ambient[:] = self._headlight

    def write(self, field: str, index: object, value: object) -> None:
        """``model.<field>[index] = value``; the field must be one the ledger restores."""
        if field not in self._nominal:
            raise ConfigError(f"model field {field!r} is not restored at reset; add it to "
                              "vla_bench.sim.LEDGER_FIELDS before editing it per episode")
        getattr(self.model, field)[index] = value

    def diff(self) -> list[str]:
        """Fields that differ from their compiled values now (empty right after restore)."""
        model = self.model
        return [f for f, v in self._nominal.items() if not np.array_equal(getattr(model, f), v)]


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
        self.ledger = ModelLedger(model)
        self.prefix = ""
        self._id = cache(self._lookup)
        self._finger_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._body_geoms: dict[str, np.ndarray] = {}

    def scoped(self, prefix: str) -> Sim:
        """A view of the same simulation in which names resolve under ``prefix`` first."""
        view = Sim.__new__(Sim)
        view.__dict__.update(self.__dict__)
        view.prefix = prefix
        view._id = cache(view._lookup)
        view._finger_cache = self._finger_cache
        view._body_geoms = {}
        return view

    def _lookup(self, kind: mujoco.mjtObj, name: str) -> int:
        if self.prefix:
            idx = mujoco.mj_name2id(self.model, kind, self.prefix + name)
            if idx >= 0:
                return idx
        idx = mujoco.mj_name2id(self.model, kind, name)
        if idx < 0:
            names = [mujoco.mj_id2name(self.model, kind, i) or "" for i in range(self._count(kind))]
            raise UnknownNameError(str(kind).split(".")[-1].replace("mjOBJ_", "").lower(), name,
                                   [n for n in names if n])
        return idx

    def _count(self, kind: mujoco.mjtObj) -> int:
        return {mujoco.mjtObj.mjOBJ_BODY: self.model.nbody, mujoco.mjtObj.mjOBJ_GEOM: self.model.ngeom,
                mujoco.mjtObj.mjOBJ_JOINT: self.model.njnt, mujoco.mjtObj.mjOBJ_SITE: self.model.nsite,
                mujoco.mjtObj.mjOBJ_CAMERA: self.model.ncam, mujoco.mjtObj.mjOBJ_EQUALITY:
                self.model.neq, mujoco.mjtObj.mjOBJ_MATERIAL: self.model.nmat}.get(kind, 0)

    def full_name(self, name: str) -> str:
        """The scene-wide name a scoped ``name`` resolves to (a body, geom or joint)."""
        for kind in (mujoco.mjtObj.mjOBJ_BODY, mujoco.mjtObj.mjOBJ_GEOM, mujoco.mjtObj.mjOBJ_JOINT):
            if self.prefix and mujoco.mj_name2id(self.model, kind, self.prefix + name) >= 0:
                return self.prefix + name
        return name

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

    def site_id(self, name: str) -> int:
        """Id of a site by name."""
        return self._id(mujoco.mjtObj.mjOBJ_SITE, name)

    def equality_id(self, name: str) -> int:
        """Id of an equality constraint (weld, joint coupling) by name."""
        return self._id(mujoco.mjtObj.mjOBJ_EQUALITY, name)

    def material_id(self, name: str) -> int:
        """Id of a material by name."""
        return self._id(mujoco.mjtObj.mjOBJ_MATERIAL, name)

    def equality_names(self) -> list[str]:
        """Names of all equality constraints as this view addresses them.

        This scope's own lose their prefix (``assist_person/x_holds_cup`` -> ``x_holds_cup``),
        others keep their scene name; each one resolves with :meth:`equality_id`. For code that
        finds constraints by a naming pattern (a person's ``{name}_holds_{body}`` welds).
        """
        names = [mujoco.mj_id2name(self.model, mujoco.mjtObj.mjOBJ_EQUALITY, e) or ""
                 for e in range(self.model.neq)]
        p = self.prefix
        return [n[len(p):] if p and n.startswith(p) else n for n in names if n]

    @property
    def time(self) -> float:
        """Simulated time in seconds."""
        return float(self.data.time)

    def forward_kinematics(self) -> None:
        """Recompute world poses after writing positions (no dynamics)."""
        mujoco.mj_kinematics(self.model, self.data)

    # -- frames ----------------------------------------------------------------------------
    def to_robot_frame(self, points: np.ndarray) -> np.ndarray:
        """World points ``(..., 3)`` or ``(..., 2)`` in the robot frame (:mod:`geometry`)."""
        return geometry.to_robot_frame(points, self.robot_base())

    def from_robot_frame(self, points: np.ndarray) -> np.ndarray:
        """Robot-frame points ``(..., 3)`` or ``(..., 2)`` in the world frame."""
        return geometry.from_robot_frame(points, self.robot_base())

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

    def robot_fallen(self) -> bool:
        """The env's ``fall`` criterion now, for tasks that end on a fall.

        Torso tilted beyond ``FALL_TILT`` from upright, or the pelvis lower than
        ``FALL_HEIGHT_FRACTION`` of the standing height above the ground under it.
        """
        from vla_bench import conventions as cv

        h = self.robot
        torso = self.data.xmat[h.torso_body].reshape(3, 3)
        tilt = float(np.arccos(np.clip(torso[2, 2], -1.0, 1.0)))
        x, y, z = self.data.xpos[h.pelvis_body]
        height = float(z - self.ground_height(float(x), float(y)))
        return tilt > cv.FALL_TILT or height < cv.FALL_HEIGHT_FRACTION * h.standing_height

    def set_free_pose(self, joint: str, pos: np.ndarray, quat: np.ndarray | None = None) -> None:
        """Place a free-jointed body (and zero its velocity)."""
        j = self.joint_id(joint)
        adr, dof = self.model.jnt_qposadr[j], self.model.jnt_dofadr[j]
        self.data.qpos[adr: adr + 3] = pos
        self.data.qpos[adr + 3: adr + 7] = (1.0, 0.0, 0.0, 0.0) if quat is None else quat
        self.data.qvel[dof: dof + 6] = 0.0

    def set_static_pose(self, body: str, pos: np.ndarray, yaw: float | None = None,
                        quat: np.ndarray | None = None) -> None:
        """Move a fixed (world- or parent-attached) body; valid without recompiling."""
        b = self.body_id(body)
        self.ledger.write("body_pos", b, pos)
        if yaw is not None:
            self.ledger.write("body_quat", b, geometry.yaw_quat(yaw))
        elif quat is not None:
            self.ledger.write("body_quat", b, quat)

    def static_pose(self, body: str) -> tuple[np.ndarray, float]:
        """A body's position and yaw relative to its parent, as set in the model."""
        b = self.body_id(body)
        return self.model.body_pos[b].copy(), geometry.quat_yaw(self.model.body_quat[b])

    def static_quat(self, body: str) -> np.ndarray:
        """A body's orientation relative to its parent, as set in the model."""
        return self.model.body_quat[self.body_id(body)].copy()

    def set_rgba(self, geom: str | int | np.ndarray, rgba: tuple[float, ...] | np.ndarray) -> None:
        """Recolour a geom (by name) or geoms (by id)."""
        idx = self.geom_id(geom) if isinstance(geom, str) else geom
        self.ledger.write("geom_rgba", idx, rgba)

    def rgba(self, geom: str | int | np.ndarray) -> np.ndarray:
        """Current colour of a geom (by name) or geoms (by id)."""
        idx = self.geom_id(geom) if isinstance(geom, str) else geom
        return self.model.geom_rgba[idx].copy()

    def set_body_rgba(self, body: str, rgba: tuple[float, ...] | np.ndarray,
                      visible_only: bool = True) -> None:
        """Recolour every geom of a body (only the drawn ones unless ``visible_only=False``)."""
        from vla_bench.conventions import VISIBLE_GROUPS

        geoms = self.body_geoms(body)
        if visible_only:
            geoms = geoms[np.isin(self.model.geom_group[geoms], VISIBLE_GROUPS)]
        self.ledger.write("geom_rgba", geoms, rgba)

    def set_material_rgba(self, material: str, rgba: tuple[float, ...] | np.ndarray) -> None:
        """Recolour a material."""
        self.ledger.write("mat_rgba", self.material_id(material), rgba)

    def geom_size(self, geom: str) -> np.ndarray:
        """A geom's size parameters."""
        return self.model.geom_size[self.geom_id(geom)].copy()

    def set_geom_size(self, geom: str, size: np.ndarray) -> None:
        """Resize a primitive geom (its collision bound is not recomputed: keep it smaller)."""
        self.ledger.write("geom_size", self.geom_id(geom), size)

    def set_geom_local_pos(self, geom: str, pos: np.ndarray) -> None:
        """Move a geom within its body."""
        self.ledger.write("geom_pos", self.geom_id(geom), pos)

    def geom_local_pos(self, geom: str) -> np.ndarray:
        """A geom's position within its body."""
        return self.model.geom_pos[self.geom_id(geom)].copy()

    def geom_pos(self, geom: str) -> np.ndarray:
        """World position of a geom's centre."""
        return self.data.geom_xpos[self.geom_id(geom)].copy()

    def geom_mat(self, geom: str) -> np.ndarray:
        """World rotation matrix of a geom."""
        return self.data.geom_xmat[self.geom_id(geom)].reshape(3, 3).copy()

    def site_pos(self, site: str) -> np.ndarray:
        """World position of a site."""
        return self.data.site_xpos[self.site_id(site)].copy()

    def site_mat(self, site: str) -> np.ndarray:
        """World rotation matrix of a site."""
        return self.data.site_xmat[self.site_id(site)].reshape(3, 3).copy()

    def set_contact_bits(self, geom: str, contype: int | None = None,
                         conaffinity: int | None = None) -> None:
        """Change which contact classes a geom collides with (bits: :mod:`conventions`)."""
        g = self.geom_id(geom)
        if contype is not None:
            self.ledger.write("geom_contype", g, contype)
        if conaffinity is not None:
            self.ledger.write("geom_conaffinity", g, conaffinity)

    def contact_bits(self, geom: str) -> tuple[int, int]:
        """``(contype, conaffinity)`` of a geom now."""
        g = self.geom_id(geom)
        return int(self.model.geom_contype[g]), int(self.model.geom_conaffinity[g])

    def set_gravcomp(self, body: str | int, value: float) -> None:
        """Gravity compensation of a body (1 floats it, 0 lets it fall)."""
        b = self.body_id(body) if isinstance(body, str) else body
        self.ledger.write("body_gravcomp", b, value)

    def set_camera_pose(self, camera: str, pos: np.ndarray, quat: np.ndarray) -> None:
        """Move a camera relative to its parent body."""
        c = self.camera_id(camera)
        self.ledger.write("cam_pos", c, pos)
        self.ledger.write("cam_quat", c, quat)

    def camera_pose(self, camera: str) -> tuple[np.ndarray, np.ndarray]:
        """A camera's position and orientation relative to its parent body."""
        c = self.camera_id(camera)
        return self.model.cam_pos[c].copy(), self.model.cam_quat[c].copy()

    # -- joints ----------------------------------------------------------------------------
    def _joint_slices(self, joint: str) -> tuple[slice, slice]:
        j = self.joint_id(joint)
        n = {0: 7, 1: 4}.get(int(self.model.jnt_type[j]), 1)
        nv = {0: 6, 1: 3}.get(int(self.model.jnt_type[j]), 1)
        adr, dof = int(self.model.jnt_qposadr[j]), int(self.model.jnt_dofadr[j])
        return slice(adr, adr + n), slice(dof, dof + nv)

    def joint_qpos(self, joint: str) -> float:
        """Position of a hinge (rad) or slide (m) joint."""
        return float(self.data.qpos[self._joint_slices(joint)[0]][0])

    def joint_qvel(self, joint: str) -> float:
        """Velocity of a hinge (rad/s) or slide (m/s) joint."""
        return float(self.data.qvel[self._joint_slices(joint)[1]][0])

    def set_joint_qpos(self, joint: str, value: float, velocity: float = 0.0) -> None:
        """Set a hinge or slide joint's position (and velocity, zero by default)."""
        qs, vs = self._joint_slices(joint)
        self.data.qpos[qs] = value
        self.data.qvel[vs] = velocity

    def free_pose(self, joint: str) -> tuple[np.ndarray, np.ndarray]:
        """Position and quaternion of a free joint."""
        qs, _ = self._joint_slices(joint)
        q = self.data.qpos[qs]
        return q[:3].copy(), q[3:7].copy()

    def joint_anchor(self, joint: str) -> np.ndarray:
        """World position of a joint's anchor."""
        return self.data.xanchor[self.joint_id(joint)].copy()

    def joint_axis(self, joint: str) -> np.ndarray:
        """World direction of a hinge or slide joint's axis."""
        return self.data.xaxis[self.joint_id(joint)].copy()

    # -- mocap bodies ------------------------------------------------------------------------
    def _mocap(self, body: str) -> int:
        k = int(self.model.body_mocapid[self.body_id(body)])
        if k < 0:
            raise ConfigError(f"body {body!r} is not a mocap body")
        return k

    def mocap_pose(self, body: str) -> tuple[np.ndarray, np.ndarray]:
        """Position and quaternion of a mocap body."""
        k = self._mocap(body)
        return self.data.mocap_pos[k].copy(), self.data.mocap_quat[k].copy()

    def set_mocap_pose(self, body: str, pos: np.ndarray, quat: np.ndarray | None = None,
                       yaw: float | None = None) -> None:
        """Move a mocap body (``quat`` or ``yaw``; orientation kept if neither is given)."""
        k = self._mocap(body)
        self.data.mocap_pos[k] = pos
        if yaw is not None:
            self.data.mocap_quat[k] = geometry.yaw_quat(yaw)
        elif quat is not None:
            self.data.mocap_quat[k] = quat

    # -- equality constraints ------------------------------------------------------------
    def weld_active(self, name: str) -> bool:
        """Whether an equality constraint (weld, joint coupling) is on."""
        return bool(self.data.eq_active[self.equality_id(name)])

    def set_weld(self, name: str, active: bool) -> None:
        """Switch an equality constraint on or off for this episode."""
        self.data.eq_active[self.equality_id(name)] = int(active)

    def set_weld_relpose(self, name: str, pos: np.ndarray, quat: np.ndarray = (1.0, 0, 0, 0),
                         anchor: np.ndarray = (0.0, 0.0, 0.0), torquescale: float = 1.0) -> None:
        """Set a weld's frame: body 2 held at ``pos``/``quat`` in body 1's frame."""
        e = self.equality_id(name)
        self.ledger.write("eq_data", (e, slice(0, 3)), anchor)
        self.ledger.write("eq_data", (e, slice(3, 6)), pos)
        self.ledger.write("eq_data", (e, slice(6, 10)), quat)
        self.ledger.write("eq_data", (e, 10), torquescale)

    def contact_force(self, geoms_a: np.ndarray, geoms_b: np.ndarray) -> float:
        """Total normal force (N) of the contacts between geom sets ``a`` and ``b`` now."""
        n = self.data.ncon
        if n == 0:
            return 0.0
        a = np.zeros(self.model.ngeom, bool)
        b = np.zeros(self.model.ngeom, bool)
        a[np.atleast_1d(geoms_a)] = True
        b[np.atleast_1d(geoms_b)] = True
        g1, g2 = self.data.contact.geom1[:n], self.data.contact.geom2[:n]
        total, f = 0.0, np.zeros(6)
        for i in np.flatnonzero((a[g1] & b[g2]) | (a[g2] & b[g1])):
            mujoco.mj_contactForce(self.model, self.data, int(i), f)
            total += abs(f[0])
        return total

    def apply_force(self, body: str, force: np.ndarray, point: np.ndarray | None = None) -> None:
        """Push ``body`` with a world-frame ``force`` (N) at world ``point`` (default: its
        centre of mass) from now until changed; a zero force clears it. ``reset`` clears it.

        For scripted agents that act on objects physically (a co-worker pushing on a part).
        """
        b = self.body_id(body)
        f = np.asarray(force, float)
        torque = np.zeros(3) if point is None else np.cross(
            np.asarray(point, float) - self.data.xipos[b], f)
        self.data.xfrc_applied[b] = np.concatenate([f, torque])

    def robot_base(self) -> np.ndarray:
        """``(x, y, yaw)`` of the robot's pelvis."""
        b = self.robot.pelvis_body
        return np.array([*self.data.xpos[b][:2], geometry.mat_yaw(self.data.xmat[b].reshape(3, 3))])

    def pelvis_pos(self) -> np.ndarray:
        """World position of the robot's pelvis, height included (e.g. "a hand above it")."""
        return self.data.xpos[self.robot.pelvis_body].copy()

    def set_robot_base(self, xy: np.ndarray, yaw: float) -> None:
        """Place the robot's base at ``xy`` facing ``yaw`` (before the episode starts)."""
        h = self.robot
        if h.floating:
            adr = h.base_qpos_adr
            self.data.qpos[adr[0]: adr[0] + 2] = xy
            self.data.qpos[adr[3]: adr[3] + 4] = geometry.yaw_quat(yaw)
        else:
            self.data.qpos[h.base_qpos_adr[[0, 1, 3]]] = (xy[0], xy[1], yaw)

    def tcp(self, side: str) -> np.ndarray:
        """World position of a gripper's tool centre point."""
        return self.data.site_xpos[self.robot.tcp_sites[side]].copy()

    def tcp_mat(self, side: str) -> np.ndarray:
        """World rotation matrix of a gripper's tool centre point (the frame experts command).

        For experts that predict where a held object goes when the hand turns.
        """
        return self.data.site_xmat[self.robot.tcp_sites[side]].reshape(3, 3).copy()

    def gripper_opening(self, side: str) -> float:
        """Opening in ``[0, 1]`` (1 fully open)."""
        q = self.data.qpos[self.robot.gripper_qpos_adr[side]]
        return float(np.clip(q.mean() / self.robot.model.gripper_stroke, 0.0, 1.0))

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

    def arm_geoms(self) -> np.ndarray:
        """Geom ids of both arms, from the first arm joint's body down (hands, grippers).

        For predicates that ask "was it the hand or arm that touched it" (a door pushed open by
        hand, not by walking the body through it).
        """
        if "__arms__" not in self._body_geoms:
            h, m = self.robot, self.model
            arm = np.zeros(m.nbody, bool)
            for side in h.arm_slices:
                joints = h.joint_ids[h.arm_slices[side]]
                if len(joints):
                    arm[m.jnt_bodyid[joints[0]]] = True
            for b in range(1, m.nbody):  # bodies are numbered parents first
                arm[b] |= arm[m.body_parentid[b]]
            self._body_geoms["__arms__"] = np.flatnonzero(arm[m.geom_bodyid])
        return self._body_geoms["__arms__"]

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
