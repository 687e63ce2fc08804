"""A kinematic walking gait for the carried modes (``ee_delta``, ``base_only``).

In those modes the base actuators carry the pelvis (x/y/z slides and a yaw hinge) and the
robot's feet do not collide with the ground, so walking is animation, not balance: the legs
play footsteps that match the commanded base velocity ``(vx, vy, wz)``. Its real-robot
counterpart is Unitree's locomotion controller, which takes the same ``(vx, vy, wz)``.

How it works, per control step:

* **Footsteps.** One *step* lasts :attr:`GaitParams.period`: both feet are down for the first
  :attr:`GaitParams.double_support` seconds, then one foot swings. A planted foot keeps a
  fixed *world* pose (its anchor); it is re-expressed in the moving base frame every step, so it
  stays where it is on the ground while the pelvis passes over it. A swing foot lifts off
  vertically, travels on a minimum-jerk path :attr:`GaitParams.lift` above the ground and sets
  down vertically on its landing spot: its nominal place beside the pelvis where the pelvis will
  be at the middle of that foot's next stance, predicted from the command. A step is shortened
  (down to :attr:`GaitParams.min_period`) when the stance foot would otherwise fall behind the
  hips by more than :attr:`GaitParams.reach`; the first step from standing is a short one.
* **Pelvis bob.** The pelvis dips during double support (legs apart) and rises over the stance
  foot, twice per stride, by at least what the legs' geometry needs to reach both footholds,
  and sits :attr:`GaitParams.crouch` lower while walking. It is zero when standing.
* **Leg IK.** Damped least squares on each leg's chain (hip to foot) places the foot body at
  its target pose in the base frame (like :mod:`vla_bench.control.ik` for the arms), for the
  pelvis pose extrapolated with its measured velocity.
* **Servo plan.** The env holds each leg target for a whole control step and the leg servos
  are PD position servos, so IK angles used as targets would lag and overshoot by centimetres.
  :class:`LegServos` picks the targets with a model of the servos (see there).
* **Standing.** With a zero command the gait finishes its step, brings the other foot to its
  nominal place, then stands with both feet planted and no bob.

Foot slip: :class:`FootProbe` reads the feet and their sole heights, :func:`record_feet` samples
them every physics step of a rollout, and :func:`stance_slip` gives, per stance (sole within
:data:`SOLE_CONTACT_HEIGHT` of the ground), how far the foot moved horizontally. The carried robot's
feet do not collide with the ground, so contact here is geometric.

Generic over robots: everything comes from the :class:`~vla_bench.robots.RobotModel`'s leg
joints (two chains of equal length, hip first), foot bodies and joint ranges. Deterministic.

The sole: the foot's lowest collision point, measured here from the geoms' shapes. The standing
base height (:attr:`Gait.base_height`) uses it; ``geom_rbound`` (a bounding sphere) would put the
soles centimetres above the ground.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mujoco
import numpy as np

from vla_bench.control.ik import orientation_error
from vla_bench.conventions import CONTROL_DT
from vla_bench.geometry import from_robot_frame, to_robot_frame, wrap, yaw_matrix
from vla_bench.robots.adapter import RobotHandles

CLEARANCE = 0.002  # m: soles stand this far above the ground
SOLE_CONTACT_HEIGHT = 0.01  # m: a sole this close to the ground counts as in contact (slip metric)


@dataclass(frozen=True)
class GaitParams:
    """Timing and shape of the gait (seconds, metres)."""

    period: float = 0.55  # one step (half a stride): touchdown to the other foot's touchdown
    min_period: float = 0.3  # steps shorten down to this so a stance foot stays within reach
    settle_period: float = 0.4  # steps at a zero command (bringing the feet home) are quicker
    reach: float = 0.28  # × leg length: farthest a stance foot goes from its nominal place
    side_reach: float = 0.5  # × reach, sideways (hip roll ranges are narrow, feet collide)
    double_support: float = 0.05  # both feet down at the start of every step
    lift: float = 0.05  # swing-foot clearance at mid-swing
    bob_per_speed: float = 0.04  # s: pelvis dip per m/s of commanded speed ...
    bob_max: float = 0.03  # ... up to this (the legs' geometry may need more at a long step)
    # While walking the pelvis also sits this much lower (knees a little more bent), so a
    # trailing leg late in its stance still reaches its foot; it fades in/out over a step.
    crouch: float = 0.015
    # The leg servos' targets are planned so that the joints follow the IK trajectory sampled
    # at these times ahead (s, whole control steps); a servo model predicts the response.
    horizon: tuple[float, ...] = (0.05, 0.1)
    lead_z: float = 0.03  # s: the pelvis height target is for this far ahead (servo lag)
    # The swing foot moves along the ground only within this part of the swing, and rises /
    # sets down within the first / last ``climb`` of it: it lifts off and lands nearly
    # vertically, so it does not scuff along the ground while its sole is still low.
    travel: tuple[float, float] = (0.05, 0.95)
    climb: float = 0.3
    freeze: float = 0.6  # the landing spot stops following the command after this swing fraction
    # Landing spots follow the command low-passed with this time constant (s): a command that
    # jumps every control step (a random policy) must not throw the feet around; a steady one
    # is followed after a short first step or two.
    smoothing: float = 0.25
    # The base speeds up and slows down at most this fast while walking (m/s², m/s², rad/s²;
    # the controller enforces it): planted feet cannot follow a pelvis that jumps to full
    # speed in one control step, and neither can a real robot's.
    accel: tuple[float, float, float] = (1.5, 1.5, 4.0)
    standing_tolerance: float = 0.01  # m: a foot this close to its nominal place is home
    min_width: float = 0.7  # feet never land closer sideways than this × their nominal spacing


def _ramp_mean(v0: np.ndarray, v1: np.ndarray, accel: np.ndarray, span: float) -> np.ndarray:
    """Mean velocity over ``span`` seconds of a velocity going from ``v0`` to ``v1`` at
    ``accel`` (per component), then holding ``v1``."""
    if span <= 0:
        return v0.copy()
    ramp = np.abs(v1 - v0) / accel  # time to reach v1
    within = np.minimum(ramp, span)
    # Over the ramp the velocity is linear from v0; its end value at `within` ...
    end = v0 + (v1 - v0) * np.divide(within, ramp, out=np.ones_like(ramp), where=ramp > 0)
    return ((v0 + end) / 2 * within + v1 * (span - within)) / span


def _smoothstep5(u: float) -> float:
    """Minimum-jerk profile on [0, 1]: zero velocity and acceleration at both ends."""
    u = min(max(u, 0.0), 1.0)
    return u * u * u * (10.0 + u * (-15.0 + 6.0 * u))


def lowest_point(model: mujoco.MjModel, data: mujoco.MjData, geom: int) -> float:
    """World height of the lowest point of a geom (its support point along -z)."""
    c = data.geom_xpos[geom]
    r = data.geom_xmat[geom].reshape(3, 3)
    size = model.geom_size[geom]
    kind = model.geom_type[geom]
    up = r[2]  # world z of the geom's local axes
    if kind == mujoco.mjtGeom.mjGEOM_SPHERE:
        return float(c[2] - size[0])
    if kind == mujoco.mjtGeom.mjGEOM_CAPSULE:
        return float(c[2] - size[1] * abs(up[2]) - size[0])
    if kind == mujoco.mjtGeom.mjGEOM_CYLINDER:
        return float(c[2] - size[1] * abs(up[2]) - size[0] * np.sqrt(max(0.0, 1 - up[2] ** 2)))
    if kind == mujoco.mjtGeom.mjGEOM_BOX:
        return float(c[2] - np.abs(up) @ size)
    if kind == mujoco.mjtGeom.mjGEOM_ELLIPSOID:
        return float(c[2] - np.linalg.norm(up * size))
    if kind == mujoco.mjtGeom.mjGEOM_MESH:
        mesh = model.geom_dataid[geom]
        start, n = model.mesh_vertadr[mesh], model.mesh_vertnum[mesh]
        return float(c[2] + np.min(model.mesh_vert[start:start + n] @ up))
    return float(c[2] - model.geom_rbound[geom])  # any other shape: its bounding sphere


@dataclass(frozen=True)
class Leg:
    """One leg: where its joints sit in the robot's arrays and which body is its foot."""

    joints: slice  # into RobotHandles' body-joint arrays (actuator_ids, joint_range, ...)
    joint_ids: np.ndarray
    qpos_adr: np.ndarray
    foot_body: int  # the body of the chain's last joint: the IK places its origin
    sole_geoms: np.ndarray  # collision geoms of the foot (the sole is their lowest point)


def find_legs(model: mujoco.MjModel, handles: RobotHandles) -> list[Leg]:
    """The robot's two legs, left first (hip on +y at home)."""
    names = handles.model.legs
    if len(names) % 2 or not names:
        raise ValueError(f"robot {handles.model.name}: legs must be two chains of equal length")
    n = len(names) // 2
    legs = []
    for first in (0, n):
        part = slice(first, first + n)
        ids = handles.joint_ids[part]
        foot = int(model.jnt_bodyid[ids[-1]])
        hip = int(model.jnt_bodyid[ids[0]])
        geoms = [g for g in handles.foot_geom_ids if _below(model, int(model.geom_bodyid[g]), hip)]
        solid = [g for g in geoms if model.geom_contype[g] or model.geom_conaffinity[g]]
        legs.append(Leg(joints=part, joint_ids=ids, qpos_adr=handles.qpos_adr[part],
                        foot_body=foot, sole_geoms=np.array(solid or geoms, int)))
    if np.any(model.jnt_type[handles.joint_ids[: 2 * n]] != mujoco.mjtJoint.mjJNT_HINGE):
        raise ValueError("the gait supports hinge leg joints only")
    # Left first: order by the hip's side in the home pose (body_pos chain, base frame).
    d = mujoco.MjData(model)
    d.qpos[handles.qpos_adr] = handles.home_qpos
    mujoco.mj_kinematics(model, d)
    base = int(handles.pelvis_body)
    side = [float(d.xmat[base].reshape(3, 3)[:, 1] @ (d.xpos[leg.foot_body] - d.xpos[base]))
            for leg in legs]
    return legs if side[0] >= side[1] else legs[::-1]


def _sole(model: mujoco.MjModel, data: mujoco.MjData, legs: list[Leg]) -> float:
    return min(lowest_point(model, data, g) for leg in legs for g in leg.sole_geoms)


def standing_base_height(model: mujoco.MjModel, handles: RobotHandles) -> tuple[float, float]:
    """``(base z, pelvis height)`` of the robot standing in its home pose on flat ground at z = 0.

    The base z is the value of the base's z coordinate (carried slide or free joint) that puts
    the soles :data:`CLEARANCE` above the ground; the pelvis height is measured from the soles.
    The soles are the feet's lowest collision points, from the geoms' shapes.
    """
    d = mujoco.MjData(model)
    d.qpos[handles.qpos_adr] = handles.home_qpos
    mujoco.mj_kinematics(model, d)
    sole = _sole(model, d, find_legs(model, handles))
    base_z = float(d.qpos[handles.base_qpos_adr[2]] - sole + CLEARANCE)
    return base_z, float(d.xpos[handles.pelvis_body][2] - sole)


def _below(model: mujoco.MjModel, body: int, ancestor: int) -> bool:
    while body > 0:
        if body == ancestor:
            return True
        body = model.body_parentid[body]
    return False


def knee_limited_ranges(model: mujoco.MjModel, handles: RobotHandles, legs: list[Leg],
                        margin: float = 0.05) -> list[np.ndarray]:
    """Each leg's joint ranges with the knee kept on its home side of straight.

    Several legs' knees may bend backwards (G1: down to -0.33 rad); an IK chasing a foot at
    the edge of reach would straighten and flip them. The knee is the joint that changes the
    hip-to-foot distance most at home; its straight angle is the one that maximises it.
    """
    d = mujoco.MjData(model)
    out = []
    for leg in legs:
        ranges = handles.joint_range[leg.joints].copy()
        home = handles.home_qpos[leg.joints]

        base = _leg_length(model, d, leg, home)
        effect = [abs(_leg_length(model, d, leg, home + 0.05 * np.eye(len(home))[j]) - base)
                  for j in range(len(home))]
        knee = int(np.argmax(effect))
        grid = np.linspace(ranges[knee, 0], ranges[knee, 1], 401)
        bent = [_leg_length(model, d, leg, np.where(np.arange(len(home)) == knee, g, home))
                for g in grid]
        straight = grid[int(np.argmax(bent))]
        if home[knee] >= straight:
            ranges[knee, 0] = max(ranges[knee, 0], straight + margin)
        else:
            ranges[knee, 1] = min(ranges[knee, 1], straight - margin)
        out.append(ranges)
    return out


def _leg_length(model: mujoco.MjModel, d: mujoco.MjData, leg: Leg, q: np.ndarray) -> float:
    """Hip-to-foot distance of a leg at joint angles ``q``."""
    d.qpos[leg.qpos_adr] = q
    mujoco.mj_kinematics(model, d)
    return float(np.linalg.norm(d.xpos[leg.foot_body] - d.xanchor[leg.joint_ids[0]]))


class LegIK:
    """Damped-least-squares IK placing each leg's foot body at a pose in the base frame.

    Works on a scratch ``MjData`` whose base sits at the origin with zero yaw (at the height
    given), so targets are base-frame poses with world heights. Position and orientation are
    both asked for; a 5-DoF leg (the H1 cannot roll its foot) trades orientation at ``rot_weight``
    metres per radian.
    """

    def __init__(self, model: mujoco.MjModel, handles: RobotHandles, legs: list[Leg], *,
                 damping: float = 0.01, rot_weight: float = 0.3, iterations: int = 8,
                 tolerance: float = 5e-4, max_step: float = 0.3) -> None:
        self.model, self.h, self.legs = model, handles, legs
        self.scratch = mujoco.MjData(model)
        self.ranges = knee_limited_ranges(model, handles, legs)
        self.damping, self.rot_weight = damping, rot_weight
        self.iterations, self.tolerance, self.max_step = iterations, tolerance, max_step
        self._damp = damping**2 * np.eye(6)

    def solve(self, qpos: np.ndarray, base_z: float,
              targets: list[tuple[np.ndarray, np.ndarray]]
              ) -> tuple[list[np.ndarray], list[float]]:
        """Joint angles per leg reaching ``(position, rotation)`` base-frame targets, and each
        foot's position error (m) at the last evaluation.

        ``qpos`` seeds the solution (the last one: successive targets are close).
        """
        d, m, w = self.scratch, self.model, self.rot_weight
        d.qpos[:] = qpos
        d.qpos[self.h.base_qpos_adr] = (0.0, 0.0, base_z, 0.0)
        ranges = self.ranges
        qs = [np.clip(qpos[leg.qpos_adr], r[:, 0], r[:, 1])
              for leg, r in zip(self.legs, ranges, strict=True)]
        errors = [np.inf] * len(self.legs)
        active = list(range(len(self.legs)))
        for _ in range(self.iterations):
            for i in active:
                d.qpos[self.legs[i].qpos_adr] = qs[i]
            mujoco.mj_kinematics(m, d)
            still = []
            for i in active:
                leg, (pos, rot) = self.legs[i], targets[i]
                foot = d.xpos[leg.foot_body]
                axes = d.xaxis[leg.joint_ids]
                r = foot - d.xanchor[leg.joint_ids]
                jac = np.empty((6, len(leg.joint_ids)))
                jac[0] = axes[:, 1] * r[:, 2] - axes[:, 2] * r[:, 1]
                jac[1] = axes[:, 2] * r[:, 0] - axes[:, 0] * r[:, 2]
                jac[2] = axes[:, 0] * r[:, 1] - axes[:, 1] * r[:, 0]
                jac[3:] = w * axes.T
                err = np.concatenate([pos - foot, w * orientation_error(
                    rot, d.xmat[leg.foot_body].reshape(3, 3))])
                errors[i] = float(np.linalg.norm(err[:3]))
                if np.abs(err).max() < self.tolerance:
                    continue  # this leg is done
                dq = jac.T @ np.linalg.solve(jac @ jac.T + self._damp, err)
                dq *= min(1.0, self.max_step / max(float(np.abs(dq).max()), 1e-12))
                qs[i] = np.clip(qs[i] + dq, ranges[i][:, 0], ranges[i][:, 1])
                still.append(i)
            active = still
            if not active:
                break
        return qs, errors

    def solve_robust(self, qpos: np.ndarray, base_z: float,
                     targets: list[tuple[np.ndarray, np.ndarray]], home: list[np.ndarray]
                     ) -> list[np.ndarray]:
        """:meth:`solve`; a leg whose solution misses by more than 2 cm is solved again from
        the home pose (a seed at the edge of reach can leave a leg on a far-off branch)."""
        qs, errors = self.solve(qpos, base_z, targets)
        if max(errors) <= 0.02:
            return qs
        fresh = qpos.copy()
        for leg, q in zip(self.legs, home, strict=True):
            fresh[leg.qpos_adr] = q
        again, errors_again = self.solve(fresh, base_z, targets)
        return [b if e2 < e1 else a
                for a, b, e1, e2 in zip(qs, again, errors, errors_again, strict=True)]


class LegServos:
    """Plans the leg servo targets so that the joints follow a desired trajectory.

    The leg actuators are PD position servos and the env holds each target for a whole
    control step (:data:`~vla_bench.conventions.SUBSTEPS` physics steps). Asked for the IK
    angles directly, a swinging leg lags by centimetres and then overshoots at touchdown, and
    the foot lands sliding. So, per leg, the joints are modelled as they are simulated:
    ``M q'' = kp (c - q) - (kv + damping) q'`` (``M`` the leg block of the current joint-space
    inertia, armature included; gravity is compensated in the carried modes), integrated like
    MuJoCo's implicit-in-velocity Euler. The targets of this step and the next are the least-
    squares fit of the predicted joint angles to the desired ones at the horizon samples; this
    step's is applied (a two-step model-predictive servo). Coriolis forces, the base's own
    acceleration and torque saturation are left out.
    """

    def __init__(self, model: mujoco.MjModel, handles: RobotHandles, legs: list[Leg],
                 horizon: tuple[float, ...], dt: float = 0.005) -> None:
        self.model, self.legs, self.dt = model, legs, dt
        self.dofs = [handles.dof_adr[leg.joints] for leg in legs]
        acts = [handles.actuator_ids[leg.joints] for leg in legs]
        self.kp = [model.actuator_gainprm[a, 0].copy() for a in acts]
        self.kd = [-model.actuator_biasprm[a, 2] + model.dof_damping[dof]
                   for a, dof in zip(acts, self.dofs, strict=True)]
        # The model steps at ``dt`` (5 ms: stable and close to the 2 ms physics for these
        # servos, at a fifth of the cost). Samples fall at the ends of control steps.
        self.per_step = round(CONTROL_DT / dt)
        self.samples = [round(t / CONTROL_DT) for t in horizon]
        if any(abs(k * CONTROL_DT - t) > 1e-9 or k < 1 for k, t in zip(self.samples, horizon,
                                                                            strict=True)):
            raise ValueError("horizon samples must be whole control steps ahead")
        self._mass = np.zeros((model.nv, model.nv))
        self.smoothness = 1.0  # weight of |c_this - c_next| against the position errors (rad)

    def plan(self, data: mujoco.MjData, desired: list[list[np.ndarray]]) -> list[np.ndarray]:
        """This step's servo targets per leg; ``desired[j][leg]`` are the joint angles wanted
        at horizon sample ``j``."""
        mujoco.mj_fullM(self.model, data, self._mass)
        out = []
        for i, dof in enumerate(self.dofs):
            n = len(dof)
            eye = np.eye(n)
            mass = self._mass[np.ix_(dof, dof)]
            inv = np.linalg.inv(mass + self.dt * np.diag(self.kd[i]))
            keep, push = inv @ mass, self.dt * inv * self.kp[i]  # v+ = keep v + push (c - q)
            # One model step on x = [q, v]: x+ = a x + b c (q+ = q + dt v+); then a whole
            # control step with the target held: x+ = a_step x + b_step c.
            a = np.block([[eye - self.dt * push, self.dt * keep], [-push, keep]])
            b = np.vstack([self.dt * push, push])
            a_step, b_step = np.eye(2 * n), np.zeros((2 * n, n))
            for _ in range(self.per_step):
                a_step, b_step = a @ a_step, a @ b_step + b
            # Joint angles at each sample as maps of [x0, c_this, c_next].
            x = np.hstack([np.eye(2 * n), np.zeros((2 * n, 2 * n))])
            rows = []
            for k in range(1, max(self.samples) + 1):
                x = a_step @ x
                held = 2 * n if k == 1 else 3 * n  # column of the target held in step k
                x[:, held:held + n] += b_step
                if k in self.samples:
                    rows.append(x[:n])
            big = np.concatenate(rows)
            x0 = np.concatenate([data.qpos[self.legs[i].qpos_adr], data.qvel[dof]])
            want = np.concatenate([desired[j][i] for j in range(len(self.samples))])
            # A small penalty on the change between the two targets keeps the plan from
            # ringing (alternating targets that cancel out over the horizon).
            smooth = self.smoothness * np.hstack([eye, -eye])
            lhs = np.vstack([big[:, 2 * n:], smooth])
            rhs = np.concatenate([want - big[:, :2 * n] @ x0, np.zeros(n)])
            c, *_ = np.linalg.lstsq(lhs, rhs, rcond=None)
            out.append(c[:n])
        return out


class Gait:
    """Footsteps, pelvis bob and leg joint targets from a commanded base velocity."""

    def __init__(self, model: mujoco.MjModel, handles: RobotHandles,
                 ground_height: Callable[[float, float], float],
                 params: GaitParams = GaitParams()) -> None:
        self.model, self.h, self.p = model, handles, params
        self.ground_height = ground_height
        self.legs = find_legs(model, handles)
        self.ik = LegIK(model, handles, self.legs)
        self.servos = LegServos(model, handles, self.legs, params.horizon)
        self._measure_home()
        self.reset_state()

    # -- geometry at home ----------------------------------------------------------------
    def _measure_home(self) -> None:
        """Standing base height, nominal foot poses and leg length, from the home pose."""
        m, h = self.model, self.h
        d = mujoco.MjData(m)
        d.qpos[h.qpos_adr] = h.home_qpos
        mujoco.mj_kinematics(m, d)
        sole = _sole(m, d, self.legs)
        self.base_height = standing_base_height(m, h)[0]
        # Foot body origin relative to the ground under it, and its pose in the base frame.
        self.foot_height = np.array([d.xpos[leg.foot_body][2] - sole for leg in self.legs])
        self.nominal = np.array([d.xpos[leg.foot_body][:2] for leg in self.legs])
        self.foot_rot = [d.xmat[leg.foot_body].reshape(3, 3).copy() for leg in self.legs]
        hips = np.array([d.xanchor[leg.joint_ids[0]] for leg in self.legs])
        self.leg_length = float(np.mean(hips[:, 2] - (sole + self.foot_height)))
        self.home_q = [h.home_qpos[leg.joints].copy() for leg in self.legs]

    # -- state ---------------------------------------------------------------------------
    def reset_state(self) -> None:
        """Standing, feet not yet placed (see :meth:`reset`)."""
        self.anchors = np.zeros((2, 4))  # planted pose per foot: world x, y, z, yaw
        self.landing = np.zeros(4)
        self.walking = False
        self.swing = 0  # which foot swings in the current step
        self.t = 0.0  # time into the current step
        self.period = self.p.period  # duration of the current step
        self.bob_prev = self.bob_cur = 0.0  # pelvis dip of the previous / current step
        self.crouch_prev = self.crouch_cur = 0.0  # and its crouch
        self.q = [q.copy() for q in self.home_q]
        self.planned = np.zeros(3)  # the low-passed target velocity that places the footsteps
        self.vel = np.zeros(3)  # the base's velocity command this step

    def reset(self, data: mujoco.MjData) -> None:
        """Plant both feet at their nominal places under the base's current pose."""
        self.reset_state()
        pose = self._base_pose(data)
        for i in range(2):
            self.anchors[i] = self._nominal_pose(pose, i)

    def _base_pose(self, data: mujoco.MjData) -> np.ndarray:
        q = data.qpos[self.h.base_qpos_adr]
        return np.array([q[0], q[1], q[3]])

    def _nominal_pose(self, base: np.ndarray, foot: int) -> np.ndarray:
        """World pose (x, y, z, yaw) of a foot at its nominal place for a base pose."""
        xy = from_robot_frame(self.nominal[foot], base)
        z = self.ground_height(float(xy[0]), float(xy[1])) + self.foot_height[foot]
        return np.array([xy[0], xy[1], z, base[2]])

    def _at_nominal(self, base: np.ndarray) -> bool:
        tol = self.p.standing_tolerance
        for i in range(2):
            want = self._nominal_pose(base, i)
            if (np.hypot(*(self.anchors[i, :2] - want[:2])) > tol
                    or abs(wrap(self.anchors[i, 3] - want[3])) > 0.03):
                return False
        return True

    # -- per control step ----------------------------------------------------------------
    def step(self, data: mujoco.MjData, command: np.ndarray, goal: np.ndarray,
             target: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """Leg joint targets (``RobotModel.legs`` order) and the pelvis height offset.

        ``command`` is this step's base velocity ``(vx, vy, wz)`` in the robot frame (m/s,
        rad/s) and ``target`` the velocity it is speeding up or slowing down to, at
        :attr:`GaitParams.accel` (default: ``command``); ``goal`` is the base controller's
        target pose ``(x, y, yaw)``, where the base is heading.
        """
        p = self.p
        target = command if target is None else target
        self.vel = np.asarray(command, float)
        moving = bool(max(np.abs(command).max(), np.abs(target).max()) > 1e-3)
        self.planned += (target - self.planned) * CONTROL_DT / (p.smoothing + CONTROL_DT)
        if not np.abs(target).max() > 1e-3:
            self.planned[:] = 0.0  # a stop is planned at once: the feet head home
        if not self.walking:
            if moving or not self._at_nominal(goal):
                self._start(target, goal)
        else:
            self.t += CONTROL_DT
            if self.t >= self.period - 1e-9:
                # The step is timed for the faster of now and where the base is heading.
                fast = np.where(np.abs(target) > np.abs(command), target, command)
                self._touchdown(fast, goal, moving)
        if self.walking and self.t - p.double_support < p.freeze * self._swing_time:
            self._plan_landing(self.planned, goal)
        return self._targets(data), self._bob(self.t + p.lead_z)

    @property
    def _swing_time(self) -> float:
        return self.period - self.p.double_support

    def _step_period(self, command: np.ndarray, goal: np.ndarray, reach: float = 1.0) -> float:
        """Duration of the step starting now: the nominal one, shortened so that the stance
        foot is still within reach when it lifts off (at the end of the next double support).

        Matters when the base starts fast from standing: a full-length first step would leave
        the stance foot far behind the hips. ``reach`` scales :attr:`GaitParams.reach`.
        """
        p = self.p
        stance = 1 - self.swing
        nominal = self.nominal[stance]
        # In a base frame stretched sideways, the reach limit is a circle.
        stretch = np.array([1.0, 1.0 / p.side_reach])
        offset = (to_robot_frame(self.anchors[stance, :2], goal) - nominal) * stretch
        # The planted foot's velocity in the base frame: minus the base's at that point.
        vel = -(command[:2] + command[2] * np.array([-nominal[1], nominal[0]])) * stretch
        a, b = vel @ vel, offset @ vel
        if a < 1e-9:
            return p.settle_period
        c = offset @ offset - (reach * p.reach * self.leg_length) ** 2
        disc = b * b - a * c
        until = (-b + np.sqrt(disc)) / a if disc > 0 else 0.0  # |offset + vel·τ| = reach
        return float(np.clip(until - p.double_support, p.min_period, p.period))

    def _start(self, command: np.ndarray, goal: np.ndarray) -> None:
        """Begin walking with the foot on the side the command leads to (else the farther one)."""
        self.walking, self.t, self.bob_prev, self.crouch_prev = True, 0.0, 0.0, 0.0
        vy, wz = command[1], command[2]
        if abs(vy) > 1e-3 or abs(wz) > 1e-3:
            self.swing = 0 if (vy if abs(vy) > 1e-3 else wz) > 0 else 1  # left foot leads left
        else:
            off = [np.hypot(*(self.anchors[i, :2] - self._nominal_pose(goal, i)[:2]))
                   for i in range(2)]
            self.swing = int(np.argmax(off)) if max(off) > 1e-9 else 0
        # The first step is a short one, timed for the speed the base is heading to: the pelvis
        # has not crouched yet.
        self.period = self._step_period(command, goal, reach=0.5)
        self._plan_landing(self.planned, goal)

    def _touchdown(self, command: np.ndarray, goal: np.ndarray, moving: bool) -> None:
        """The swing foot lands; the next step starts, or the gait stands."""
        self.anchors[self.swing] = self.landing
        self.t -= self.period
        self.bob_prev, self.crouch_prev = self.bob_cur, self.crouch_cur
        if not moving and self._at_nominal(goal):
            self.walking, self.t = False, 0.0
            self.bob_prev = self.bob_cur = self.crouch_prev = self.crouch_cur = 0.0
            return
        self.swing = 1 - self.swing
        self.period = self._step_period(command, goal)

    def _predict(self, goal: np.ndarray, command: np.ndarray, ahead: float) -> np.ndarray:
        """Base pose ``ahead`` seconds on, its velocity going from this step's to ``command``
        at the acceleration limit (midpoint rule for yaw)."""
        mean = _ramp_mean(self.vel, command, np.asarray(self.p.accel), ahead)
        yaw = goal[2] + mean[2] * ahead
        mid = goal[2] + mean[2] * ahead / 2
        xy = goal[:2] + yaw_matrix(mid)[:2, :2] @ mean[:2] * ahead
        return np.array([xy[0], xy[1], yaw])

    def _plan_landing(self, command: np.ndarray, goal: np.ndarray) -> None:
        """Landing spot: the nominal place under the pelvis at the middle of the next stance;
        and the pelvis dip that this step's double support needs."""
        p = self.p
        to_touchdown = self.period - self.t
        stance = self.period + p.double_support  # each foot's stance lasts this long
        mid = self._predict(goal, command, to_touchdown + stance / 2)
        self.landing = self._nominal_pose(mid, self.swing)
        # At the double support after touchdown, the hips are over the predicted base: each
        # leg must reach its foot, so the pelvis drops at least by the compass-gait sag.
        ds = self._predict(goal, command, to_touchdown + p.double_support / 2)
        self._keep_apart(ds)
        feet = (self.landing, self.anchors[1 - self.swing])
        reach = max(np.hypot(*(f[:2] - self._nominal_pose(ds, i)[:2]))
                    for i, f in zip((self.swing, 1 - self.swing), feet, strict=True))
        reach = min(reach, 0.9 * self.leg_length)
        sag = self.leg_length - np.sqrt(self.leg_length**2 - reach**2)
        half_width = np.abs(self.nominal[:, 1]).max()
        speed = np.hypot(command[0], command[1]) + abs(command[2]) * half_width
        self.bob_cur = max(sag, min(p.bob_max, p.bob_per_speed * speed))
        # No crouch on a step that ends standing (zero command, landing at the nominal place).
        self.crouch_cur = p.crouch * min(1.0, max(speed, reach) / 0.1)

    def _keep_apart(self, base: np.ndarray) -> None:
        """Move the landing spot out sideways if it would put the feet closer than
        :attr:`GaitParams.min_width` of their nominal spacing (side-stepping brings the
        trailing foot in; closer, the feet would collide)."""
        side = 1.0 if self.nominal[self.swing, 1] > self.nominal[1 - self.swing, 1] else -1.0
        width = abs(self.nominal[0, 1] - self.nominal[1, 1]) * self.p.min_width
        land = to_robot_frame(self.landing[:2], base)
        stance = to_robot_frame(self.anchors[1 - self.swing, :2], base)
        short = width - side * (land[1] - stance[1])
        if short > 0:
            land[1] += side * short
            xy = from_robot_frame(land, base)
            self.landing[:3] = (xy[0], xy[1], self.ground_height(float(xy[0]), float(xy[1]))
                                + self.foot_height[self.swing])

    def _bob(self, t: float) -> float:
        """Pelvis height offset (≤ 0): deepest mid double support, zero over the stance foot.

        The dip's depth blends from the previous step's to this step's, so it is continuous
        across touchdowns and zero once the gait stands.
        """
        if not self.walking:
            return 0.0
        p = self.p
        s = min(t, self.period) / self.period
        shape = 0.5 * (1.0 + np.cos(2 * np.pi * (s - p.double_support / (2 * self.period))))
        blend = _smoothstep5(s)
        depth = self.bob_prev + (self.bob_cur - self.bob_prev) * blend
        crouch = self.crouch_prev + (self.crouch_cur - self.crouch_prev) * blend
        return float(-depth * shape - crouch)

    def _lift_fraction(self, foot: int, t: float) -> float:
        """How far up its swing arc a foot is at time ``t``: 0 on the ground, 1 at the top."""
        if not self.walking or foot != self.swing:
            return 0.0
        u = min(max((t - self.p.double_support) / self._swing_time, 0.0), 1.0)
        climb = self.p.climb
        return min(_smoothstep5(u / climb), _smoothstep5((1.0 - u) / climb))

    def _foot_pose(self, foot: int, t: float) -> np.ndarray:
        """World pose of a foot at time ``t`` into the current step."""
        if not self.walking or foot != self.swing:
            return self.anchors[foot]
        u = (t - self.p.double_support) / self._swing_time
        u = min(max(u, 0.0), 1.0)
        u0, u1 = self.p.travel
        a, b, k = self.anchors[foot], self.landing, _smoothstep5((u - u0) / (u1 - u0))
        pose = a + (b - a) * k
        pose[3] = a[3] + wrap(b[3] - a[3]) * k
        pose[2] += self.p.lift * self._lift_fraction(foot, t)
        return pose

    def _targets(self, data: mujoco.MjData) -> np.ndarray:
        """Leg servo targets: IK along the planned feet over the horizon, then the servo plan."""
        h = self.h
        q = data.qpos[h.base_qpos_adr]
        v = data.qvel[h.base_dof_adr]
        # The base's velocity servos reach this step's targets within ~10 ms, so those (not
        # the measured velocity) say where the pelvis will be: it matters when the command jumps.
        v_xy_yaw = data.ctrl[h.base_actuators[[0, 1, 3]]]
        seed = data.qpos.copy()
        desired = []
        for ahead in self.p.horizon:
            # The pelvis where its velocity targets take it; the feet where the plan has them.
            base = np.array([q[0], q[1], q[3]]) + v_xy_yaw * ahead
            targets = []
            for i in range(2):
                pose = self._foot_pose(i, self.t + ahead)
                pos = np.append(to_robot_frame(pose[:2], base), pose[2])
                targets.append((pos, yaw_matrix(wrap(pose[3] - base[2])) @ self.foot_rot[i]))
            for leg, qi in zip(self.legs, self.q, strict=True):
                seed[leg.qpos_adr] = qi
            self.q = self.ik.solve_robust(seed, q[2] + v[2] * ahead, targets, self.home_q)
            desired.append(self.q)
        self.q = desired[self.p.horizon.index(CONTROL_DT)] if CONTROL_DT in self.p.horizon \
            else desired[0]
        out = np.empty(len(h.model.legs))
        for leg, c in zip(self.legs, self.servos.plan(data, desired), strict=True):
            out[leg.joints] = c
        return out


# -- measuring foot slip --------------------------------------------------------------------
class FootProbe:
    """Reads each foot's horizontal position and sole height above the ground from a state."""

    def __init__(self, model: mujoco.MjModel, handles: RobotHandles,
                 ground_height: Callable[[float, float], float]) -> None:
        self.model, self.ground_height = model, ground_height
        self.legs = find_legs(model, handles)

    def sample(self, data: mujoco.MjData) -> tuple[np.ndarray, np.ndarray]:
        """``(xy (2, 2), sole height above the ground (2,))``, left foot first."""
        xy = np.array([data.xpos[leg.foot_body][:2] for leg in self.legs])
        height = np.array([
            min(lowest_point(self.model, data, g) for g in leg.sole_geoms)
            - self.ground_height(float(p[0]), float(p[1]))
            for leg, p in zip(self.legs, xy, strict=True)])
        return xy, height


def stance_slip(xy: np.ndarray, height: np.ndarray, contact: float = SOLE_CONTACT_HEIGHT
                ) -> list[list[float]]:
    """Per foot, the slip of each stance in a rollout.

    ``xy`` is ``(T, feet, 2)`` foot positions and ``height`` ``(T, feet)`` sole heights above
    the ground (as :meth:`FootProbe.sample` gives them, sampled densely, e.g. every physics
    step). A stance is a run of samples with the sole within ``contact`` of the ground; its
    slip is the largest horizontal distance between two positions of the foot during it.
    """
    slips: list[list[float]] = []
    for foot in range(xy.shape[1]):
        down = height[:, foot] <= contact
        runs, start = [], None
        for i, d in enumerate(np.append(down, False)):
            if d and start is None:
                start = i
            elif not d and start is not None:
                runs.append((start, i))
                start = None
        per = []
        for a, b in runs:
            pts = xy[a:b, foot]
            diff = pts[:, None, :] - pts[None, :, :]
            per.append(float(np.sqrt((diff**2).sum(-1)).max()))
        slips.append(per)
    return slips


def record_feet(model: mujoco.MjModel, data: mujoco.MjData, apply: Callable[[], None],
                probe: FootProbe, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Run ``steps`` control steps, sampling the feet every physics step, for
    :func:`stance_slip`: ``apply()`` writes one step's commands (e.g.
    ``lambda: controller.apply(action, data)``); returns ``(xy, sole heights)``."""
    from vla_bench.conventions import SUBSTEPS

    xy, height = [], []
    for _ in range(steps):
        apply()
        for _ in range(SUBSTEPS):
            mujoco.mj_step(model, data)
            sample = probe.sample(data)
            xy.append(sample[0])
            height.append(sample[1])
    return np.array(xy), np.array(height)
