"""Scene composition with ``mujoco.MjSpec``: the arena, the robot attachment, and compile.

Every MjSpec call of the package lives under ``vla_bench/scene`` (plus the robot adapter),
so MuJoCo API changes have one blast radius.
"""

from __future__ import annotations

import mujoco
import numpy as np

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError
from vla_bench.robots.adapter import PREFIX, RobotModel, build_robot_spec

Vec3 = tuple[float, float, float] | list[float] | np.ndarray


def new_scene(name: str, *, high_quality: bool = False) -> mujoco.MjSpec:
    """An empty arena: physics options and the CPU-friendly render settings.

    Shadows, multisampling and reflections cost 10–20x on a software renderer, so they are off
    unless ``high_quality`` is asked for.
    """
    spec = mujoco.MjSpec()
    spec.modelname = name
    spec.option.timestep = cv.PHYSICS_DT
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.option.impratio = 10.0
    spec.compiler.autolimits = True
    spec.compiler.degree = False  # radians everywhere (MjSpec's default reads hinge ranges in degrees)
    vis = spec.visual
    vis.quality.shadowsize = 4096 if high_quality else 0
    vis.quality.offsamples = 4 if high_quality else 0
    vis.map.znear = 0.01
    vis.map.zfar = 50.0
    vis.headlight.ambient = [0.35, 0.35, 0.35]
    vis.headlight.diffuse = [0.45, 0.45, 0.45]
    vis.headlight.specular = [0.0, 0.0, 0.0]
    spec.stat.extent = 2.0
    spec.stat.center = [0.0, 0.0, 0.8]
    spec.worldbody.add_light(
        name="sun", pos=[0, 0, 6], dir=[0.2, 0.3, -1], diffuse=[0.6, 0.6, 0.6],
        castshadow=int(high_quality), type=int(mujoco.mjtLightType.mjLIGHT_DIRECTIONAL),
    )
    return spec


def add_floor(spec: mujoco.MjSpec, rgba: Vec3 | list[float], size: float = 12.0) -> mujoco.MjsGeom:
    """Ground plane on the ground contact bit (a carried robot's feet skip it)."""
    return spec.worldbody.add_geom(
        name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[size, size, 0.05],
        rgba=list(rgba), contype=cv.CONTACT_GROUND, conaffinity=cv.CONTACT_GROUND,
        group=cv.GROUP_SCENE, friction=[1.0, 0.01, 0.001],
    )


def attach_robot(
    spec: mujoco.MjSpec, robot: RobotModel, *, floating: bool, mesh_keep: float
) -> None:
    """Attach the robot (names prefixed ``robot/``) at the world origin."""
    robot_spec = build_robot_spec(robot, floating=floating, mesh_keep=mesh_keep)
    spec.attach(robot_spec, prefix=PREFIX, frame=spec.worldbody.add_frame())


def body(
    parent: mujoco.MjsBody, name: str, pos: Vec3, *, quat: list[float] | None = None,
    free: bool = False,
) -> mujoco.MjsBody:
    """A child body; ``free`` gives it a free joint named like the body."""
    b = parent.add_body(name=name, pos=list(pos), quat=quat or [1, 0, 0, 0])
    if free:
        b.add_freejoint(name=name)
    return b


def box(
    b: mujoco.MjsBody, name: str, half: Vec3, pos: Vec3 = (0, 0, 0), *,
    rgba: Vec3 | list[float] = (0.7, 0.7, 0.7, 1), collide: bool = True, **kw: object,
) -> mujoco.MjsGeom:
    """A box geom drawn in the scene group."""
    return _geom(b, name, mujoco.mjtGeom.mjGEOM_BOX, list(half), pos, rgba, collide, **kw)


def cylinder(
    b: mujoco.MjsBody, name: str, radius: float, half_height: float, pos: Vec3 = (0, 0, 0), *,
    rgba: Vec3 | list[float] = (0.7, 0.7, 0.7, 1), collide: bool = True, **kw: object,
) -> mujoco.MjsGeom:
    """A z-aligned cylinder geom."""
    return _geom(b, name, mujoco.mjtGeom.mjGEOM_CYLINDER, [radius, half_height, 0], pos, rgba,
                 collide, **kw)


def sphere(
    b: mujoco.MjsBody, name: str, radius: float, pos: Vec3 = (0, 0, 0), *,
    rgba: Vec3 | list[float] = (0.7, 0.7, 0.7, 1), collide: bool = True, **kw: object,
) -> mujoco.MjsGeom:
    """A sphere geom."""
    return _geom(b, name, mujoco.mjtGeom.mjGEOM_SPHERE, [radius, 0, 0], pos, rgba, collide, **kw)


def capsule(
    b: mujoco.MjsBody, name: str, radius: float, half_length: float, pos: Vec3 = (0, 0, 0), *,
    rgba: Vec3 | list[float] = (0.7, 0.7, 0.7, 1), collide: bool = True, **kw: object,
) -> mujoco.MjsGeom:
    """A z-aligned capsule geom."""
    return _geom(b, name, mujoco.mjtGeom.mjGEOM_CAPSULE, [radius, half_length, 0], pos, rgba,
                 collide, **kw)


def _geom(
    b: mujoco.MjsBody, name: str, kind: mujoco.mjtGeom, size: list[float], pos: Vec3,
    rgba: Vec3 | list[float], collide: bool, **kw: object,
) -> mujoco.MjsGeom:
    bits = cv.CONTACT_WORLD | cv.CONTACT_GROUND if collide else 0
    g = b.add_geom(name=name, type=kind, size=size, pos=list(pos), rgba=list(rgba),
                   contype=bits, conaffinity=bits, group=cv.GROUP_SCENE)
    for key, value in kw.items():
        setattr(g, key, value)
    return g


def add_camera(
    spec: mujoco.MjSpec, name: str, pos: Vec3, target: Vec3, fovy: float = 60.0
) -> mujoco.MjsCamera:
    """A fixed world camera at ``pos`` looking at ``target`` (z up)."""
    pos_a, tgt = np.asarray(pos, float), np.asarray(target, float)
    fwd = tgt - pos_a
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    return spec.worldbody.add_camera(
        name=name, pos=list(pos_a), xyaxes=[*right, *up], fovy=fovy
    )


# Spec element lists that carry names, and the fields of other elements that refer to them.
_NAMED_KINDS = ("bodies", "geoms", "joints", "sites", "cameras", "lights", "equalities",
                "actuators", "sensors", "tendons", "meshes", "materials", "textures", "hfields",
                "pairs", "excludes")
_OBJ_KIND = {
    mujoco.mjtObj.mjOBJ_BODY: "bodies", mujoco.mjtObj.mjOBJ_XBODY: "bodies",
    mujoco.mjtObj.mjOBJ_GEOM: "geoms", mujoco.mjtObj.mjOBJ_JOINT: "joints",
    mujoco.mjtObj.mjOBJ_SITE: "sites", mujoco.mjtObj.mjOBJ_TENDON: "tendons",
    mujoco.mjtObj.mjOBJ_CAMERA: "cameras", mujoco.mjtObj.mjOBJ_ACTUATOR: "actuators",
}


def named_elements(spec: mujoco.MjSpec) -> dict[str, set[str]]:
    """The names in use, per element kind (a snapshot to diff against after a build)."""
    return {kind: {e.name for e in getattr(spec, kind) if e.name} for kind in _NAMED_KINDS}


def prefix_new_elements(spec: mujoco.MjSpec, before: dict[str, set[str]], prefix: str
                        ) -> dict[str, dict[str, str]]:
    """Rename every element added since ``before`` to ``prefix + name``; fix references.

    Tasks of one scene build into one spec; renaming each task's elements as soon as it has
    built keeps their names apart (two tasks may both call a body ``"knife"``). References
    by name (excludes, pairs, equalities, actuator/sensor targets, meshes, materials,
    textures) are rewritten to match. Returns ``{kind: {old: new}}``.
    """
    if any(not t.name or t.name not in before["tendons"] for t in spec.tendons):
        # MjSpec (3.17) keeps a wrap's target as a name with no setter, so a tendon built here
        # would point at pre-rename names and the scene would not compile.
        raise ConfigError("a task's build() added a tendon: tendon wraps cannot follow the "
                          "per-task name prefix; build tendons in the domain layout instead")
    renames: dict[str, dict[str, str]] = {}
    for kind in _NAMED_KINDS:
        for element in getattr(spec, kind):
            if element.name and element.name not in before[kind]:
                renames.setdefault(kind, {})[element.name] = prefix + element.name
                element.name = prefix + element.name

    def ren(kind: str, name: str) -> str:
        return renames.get(kind, {}).get(name, name)

    for ex in spec.excludes:
        ex.bodyname1, ex.bodyname2 = ren("bodies", ex.bodyname1), ren("bodies", ex.bodyname2)
    for pair in spec.pairs:
        pair.geomname1, pair.geomname2 = ren("geoms", pair.geomname1), ren("geoms", pair.geomname2)
    for eq in spec.equalities:
        kind = _OBJ_KIND.get(eq.objtype, "bodies")
        eq.name1, eq.name2 = ren(kind, eq.name1), ren(kind, eq.name2)
    for act in spec.actuators:
        act.target = ren(_actuator_kind(act), act.target)
    for sensor in spec.sensors:
        sensor.objname = ren(_OBJ_KIND.get(sensor.objtype, "bodies"), sensor.objname)
        sensor.refname = ren(_OBJ_KIND.get(sensor.reftype, "bodies"), sensor.refname)
    for geom in spec.geoms:
        geom.meshname = ren("meshes", geom.meshname)
        geom.material = ren("materials", geom.material)
        geom.hfieldname = ren("hfields", geom.hfieldname)
    for site in spec.sites:
        site.material = ren("materials", site.material)
    for mat in spec.materials:
        names = [ren("textures", t) for t in mat.textures]
        if names != list(mat.textures):
            mat.textures = names
    for cam in spec.cameras:
        cam.targetbody = ren("bodies", cam.targetbody)
    for light in spec.lights:
        light.targetbody = ren("bodies", light.targetbody)
    return renames


def _actuator_kind(act: mujoco.MjsActuator) -> str:
    return {mujoco.mjtTrn.mjTRN_JOINT: "joints", mujoco.mjtTrn.mjTRN_JOINTINPARENT: "joints",
            mujoco.mjtTrn.mjTRN_TENDON: "tendons", mujoco.mjtTrn.mjTRN_SITE: "sites",
            mujoco.mjtTrn.mjTRN_BODY: "bodies"}.get(act.trntype, "joints")
