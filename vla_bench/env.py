"""``VLAEnv``: the Gymnasium environment. It owns the model, stepping and observations; task
logic lives in the tasks, control in :mod:`vla_bench.control`, conventions in
:mod:`vla_bench.conventions`.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from vla_bench import conventions as cv
from vla_bench.control.controller import Controller, action_layout
from vla_bench.errors import ConfigError, InvalidActionError, UnknownNameError
from vla_bench.geometry import mat_yaw, to_robot_frame
from vla_bench.language import check_instruction
from vla_bench.randomization import Randomization, Randomizer
from vla_bench.registry import TaskEntry, find_task
from vla_bench.robots import get_robot
from vla_bench.robots.adapter import PREFIX, SIDES, resolve_handles
from vla_bench.safety import SafetyMonitor
from vla_bench.scene import compose
from vla_bench.scene.layouts import make_layout
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

CAMERAS = ("head", "front", "wrist_right", "wrist_left", "external")
RESET_OPTIONS = ("instruction", "task")
# info keys present only while a reset(options={"instruction": ...}) override is active
INFO_INSTRUCTION_OVERRIDE = "instruction_override"
INFO_ORIGINAL_INSTRUCTION = "original_instruction"
_SETTLE_STEPS = 50  # physics steps after placing objects, so they rest before step 0


def task_prefix(name: str) -> str:
    """The name prefix a task's scene elements get: ``CutVegetable`` -> ``cut_vegetable/``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() + "/"


class VLAEnv(gym.Env[dict[str, Any], np.ndarray]):
    """A humanoid in a domain scene, told in words what to do.

    Args:
        domain: ``kitchen``, ``workshop``, ``office`` or ``outdoor``.
        tasks: task names this env samples from (set by the registered id).
        task: pin one of ``tasks`` for every episode (else sampled per episode).
        robot: ``"g1"`` (default: Unitree's 29-DoF G1), ``"g1_23"`` (its 23-DoF variant) or
            ``"h1"``.
        control_mode: ``"ee_delta"`` (default), ``"joint_pos"`` (free-floating whole body) or
            ``"base_only"``.
        cameras: camera names; the first fills ``rgb``/``depth``, others add
            ``rgb_<name>``/``depth_<name>``. Any of ``head``, ``front``, ``wrist_right``,
            ``wrist_left``, ``external``; default :data:`vla_bench.conventions.DEFAULT_CAMERAS`.
            ``()`` gives a state-and-language-only observation.
        image_size: ``(height, width)`` of every camera.
        phrasing: ``"train"`` templates or held-out ``"test"`` templates.
        render_mode: ``"rgb_array"`` renders the third-person camera in ``render()``.
        high_quality: shadows and multisampling (slow on a CPU).
        mesh_keep: fraction of visual mesh faces kept (1.0 = original meshes).
        randomize: domain randomisation strengths in ``[0, 1]`` for ``lighting``, ``colors``,
            ``camera`` and ``distractors`` (see :mod:`vla_bench.randomization`); off by default.
        split: generalisation split (:data:`vla_bench.conventions.SPLITS`): ``"train"``
            (default) and ``"test_seen"`` share one distribution; ``"unseen_objects"`` draws
            held-out object colours/kinds, ``"unseen_phrasings"`` the held-out templates (same
            as ``phrasing="test"``), ``"unseen_layouts"`` held-out fixture arrangements;
            ``"cross_domain"`` runs like ``"test_seen"`` (the protocol decides the domains).
        gait: in ``ee_delta`` and ``base_only`` the legs step with the commanded base velocity
            (kinematic animation on the carried pelvis: :mod:`vla_bench.control.gait`); ``False``
            holds them in the standing pose while the base glides.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": cv.CONTROL_HZ}

    def __init__(
        self,
        domain: str,
        tasks: Sequence[str],
        task: str | None = None,
        robot: str = cv.DEFAULT_ROBOT,
        control_mode: str = "ee_delta",
        cameras: Sequence[str] = cv.DEFAULT_CAMERAS,
        image_size: Sequence[int] = cv.DEFAULT_IMAGE_SIZE,
        phrasing: str = "train",
        render_mode: str | None = None,
        high_quality: bool = False,
        mesh_keep: float = 0.1,
        randomize: dict[str, float] | None = None,
        split: str = "train",
        gait: bool = True,
        **unknown: Any,
    ) -> None:
        _reject_unknown(unknown)
        self._check_args(control_mode, cameras, image_size, phrasing, render_mode, mesh_keep,
                         split)
        self.split = split
        self.gait = bool(gait)
        self.domain, self.control_mode = domain, control_mode
        self.phrasing = "test" if split == "unseen_phrasings" else phrasing
        self.render_mode = render_mode
        self.cameras = tuple(cameras)
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.randomization = Randomization.from_mapping(randomize)
        self.robot_model = get_robot(robot)
        floating = control_mode == "joint_pos"
        entries = _select_tasks(domain, tasks, task)

        self.layout = make_layout(domain)
        self.layout.held_out = split == "unseen_layouts"
        spec, task_bodies = self._build_scene(entries, high_quality, floating, mesh_keep)
        self._compile(spec, control_mode, floating)
        self._index_tasks(task_bodies)
        self.action_layout = action_layout(control_mode, self.handles)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (len(self.action_layout),), np.float32)
        self.state_layout = self._state_layout()
        self.observation_space = gym.spaces.Dict(self._obs_spaces())
        self.task: Task = self.tasks[0]
        self._task_sim = self._task_sims[0]
        self.task_description = ""
        self._original_instruction: str | None = None
        self._steps = 0
        self._success_once = False
        self._expert = None
        self._expert_goal: Goal | None = None
        self._warnings0 = self.data.warning.number.copy()
        self._person_distance: float | None = None

    # -- construction steps --------------------------------------------------------------
    def _build_scene(self, entries: list[TaskEntry], high_quality: bool, floating: bool,
                     mesh_keep: float) -> tuple[mujoco.MjSpec, list[set[str]]]:
        """Layout, then each task under its own name prefix, distractors, the robot."""
        spec = compose.new_scene(f"vla_{self.domain}", high_quality=high_quality)
        self.layout.build(spec)
        self.tasks: list[Task] = []
        task_bodies: list[set[str]] = []
        for entry in entries:
            task_obj = entry.load()(self.layout)
            task_obj.held_out_objects = self.split == "unseen_objects"
            before = compose.named_elements(spec)
            task_obj.build(spec)
            renames = compose.prefix_new_elements(spec, before, task_prefix(entry.name))
            task_bodies.append(set(renames.get("bodies", {}).values()))
            self.tasks.append(task_obj)
        self.task_entries = entries
        if self.randomization.n_distractors:
            from vla_bench.scene.props import DISTRACTOR_SHAPES, distractor

            for i in range(self.randomization.n_distractors):
                distractor(spec, f"distractor_{i}", DISTRACTOR_SHAPES[i % len(DISTRACTOR_SHAPES)])
        compose.attach_robot(spec, self.robot_model, floating=floating, mesh_keep=mesh_keep)
        return spec, task_bodies

    def _compile(self, spec: mujoco.MjSpec, control_mode: str, floating: bool) -> None:
        """Model, data, robot handles, the shared :class:`Sim`, controller and safety monitor."""
        self.model = spec.compile()
        self.data = mujoco.MjData(self.model)
        self.handles = resolve_handles(self.model, self.robot_model, floating)
        self.base_height = self._standing_offset()
        # The ledger inside holds the compiled model: every reset restores it in one go.
        self._sim = Sim(self.model, self.data, self.handles, self.layout.ground_height)
        self.controller = Controller(self.model, self.handles, control_mode,
                                     self.layout.ground_height, self.base_height, gait=self.gait)
        ground = np.array([g for g in range(self.model.ngeom)
                           if self.model.geom_contype[g] == cv.CONTACT_GROUND])
        self.safety = SafetyMonitor(self.model, self.handles, ground)
        self._camera_ids = {c: self._resolve_camera(c) for c in self.cameras}
        self._vel6 = np.zeros(6)
        self._tcp_ids = np.array([self.handles.tcp_sites[s] for s in SIDES])
        self._finger_adr = np.concatenate([self.handles.gripper_qpos_adr[s] for s in SIDES])
        self._renderer = None
        self._video_renderer = None
        self._segmenter = None  # segmentation passes of vla_bench.visibility
        self._images: dict[str, np.ndarray] = {}  # the last rendered camera frames
        self._reuse_images = False

    def _index_tasks(self, task_bodies: list[set[str]]) -> None:
        """Per task: its scoped Sim, its free props and mocap bodies (for parking)."""
        self._task_sims = [self._sim.scoped(task_prefix(t.name)) for t in self.tasks]
        self._task_free_joints = [self._free_joints(names) for names in task_bodies]
        self._task_mocap = [[self.model.body_mocapid[b] for b in self._body_ids(names)
                             if self.model.body_mocapid[b] >= 0] for names in task_bodies]
        # Task props are never recoloured as scenery: instructions may name their colours.
        task_geoms = np.flatnonzero(np.isin(self.model.geom_bodyid,
                                            list(self._body_ids(set().union(*task_bodies)))))
        self._randomizer = Randomizer(self._sim, self.randomization,
                                      np.union1d(self.handles.geom_ids, task_geoms))

    @property
    def sim(self) -> Sim:
        """The simulation as the current task sees it (its own names first, then the scene's)."""
        return self._task_sim

    @staticmethod
    def _check_args(control_mode: str, cameras: Sequence[str], image_size: Sequence[int],
                    phrasing: str, render_mode: str | None, mesh_keep: float, split: str
                    ) -> None:
        if split not in cv.SPLITS:
            raise UnknownNameError("split", split, cv.SPLITS)
        if control_mode not in cv.CONTROL_MODES:
            raise UnknownNameError("control_mode", control_mode, cv.CONTROL_MODES)
        if isinstance(cameras, str):
            raise ConfigError(f"cameras must be a sequence of names, e.g. ({cameras!r},)")
        for cam in cameras:
            if cam not in CAMERAS:
                raise UnknownNameError("camera", cam, CAMERAS)
        if len(set(cameras)) != len(cameras):
            raise ConfigError(f"cameras lists a camera twice: {list(cameras)}")
        if (len(image_size) != 2 or not all(isinstance(v, (int, np.integer)) for v in image_size)
                or not all(16 <= v <= 2048 for v in image_size)):
            raise ConfigError(f"image_size must be (height, width) integers in [16, 2048], "
                              f"got {image_size!r}")
        if phrasing not in ("train", "test"):
            raise ConfigError(f"phrasing must be 'train' or 'test', got {phrasing!r}")
        if render_mode not in (None, "rgb_array"):
            raise ConfigError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if not 0.01 <= mesh_keep <= 1.0:
            raise ConfigError(f"mesh_keep must be in [0.01, 1.0], got {mesh_keep!r}")

    def _body_ids(self, bodies: set[str]) -> set[int]:
        return {mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, b) for b in bodies}

    def _free_joints(self, bodies: set[str]) -> list[int]:
        """Free joints of the given bodies (a task's movable props)."""
        ids = self._body_ids(bodies)
        return [j for j in range(self.model.njnt)
                if self.model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE
                and self.model.jnt_bodyid[j] in ids]

    def _park_inactive_props(self) -> None:
        """Move other tasks' props of a domain env out of the scene for this episode.

        Free props float (gravity-compensated) and mocap fixtures sit far above and beyond the
        scene, each in its own slot: out of every camera's range and out of contact. They come
        back when their task is drawn (its ``initialize`` places them).
        """
        m, d = self.model, self.data
        slots = iter(np.array([200.0 + 2.0 * k, 200.0, 60.0]) for k in range(10**6))
        for task, joints, mocap in zip(self.tasks, self._task_free_joints, self._task_mocap,
                                       strict=True):
            active = task is self.task
            for j in joints:
                self._sim.set_gravcomp(int(m.jnt_bodyid[j]), 0.0 if active else 1.0)
                if not active:
                    adr, dof = m.jnt_qposadr[j], m.jnt_dofadr[j]
                    d.qpos[adr: adr + 7] = (*next(slots), 1.0, 0.0, 0.0, 0.0)
                    d.qvel[dof: dof + 6] = 0.0
            if not active:
                for k in mocap:
                    d.mocap_pos[k] = next(slots)

    def _paint_held_out(self, rng: np.random.Generator) -> None:
        """Give the task's ``held_out_bodies`` colours no training episode shows."""
        from vla_bench.scene.props import COLORS, HELD_OUT_COLORS

        sim = self._task_sim
        for body in self.task.held_out_bodies:
            rgba = COLORS[HELD_OUT_COLORS[int(rng.integers(len(HELD_OUT_COLORS)))]]
            geoms = sim.body_geoms(body)
            sim.set_rgba(geoms[self.model.geom_group[geoms] == cv.GROUP_SCENE], rgba)

    def _resolve_camera(self, name: str) -> int:
        full = name if name == "external" else PREFIX + name
        return mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, full)

    def _standing_offset(self) -> float:
        """Base height at which the soles just touch flat ground at z = 0 in the home pose."""
        from vla_bench.control.gait import standing_base_height

        offset, self.handles.standing_height = standing_base_height(self.model, self.handles)
        return offset

    def _state_layout(self) -> tuple[str, ...]:
        joints = self.robot_model.body_joints
        return (("base_vx", "base_vy", "base_wz", "pelvis_height", "gravity_x", "gravity_y",
                 "gravity_z") + tuple(f"q/{j}" for j in joints) + tuple(f"dq/{j}" for j in joints)
                + tuple(f"{s}_gripper_opening" for s in SIDES)
                + tuple(f"{s}_tcp_{a}" for s in SIDES for a in "xyz"))

    def _obs_spaces(self) -> dict[str, gym.Space]:
        h, w = self.image_size
        spaces: dict[str, gym.Space] = {}
        for i, cam in enumerate(self.cameras):
            sfx = "" if i == 0 else f"_{cam}"
            spaces[cv.OBS_RGB + sfx] = gym.spaces.Box(0, 255, (h, w, 3), np.uint8)
            spaces[cv.OBS_DEPTH + sfx] = gym.spaces.Box(0.0, np.inf, (h, w, 1), np.float32)
        spaces[cv.OBS_STATE] = gym.spaces.Box(-np.inf, np.inf, (len(self.state_layout),),
                                              np.float32)
        # min_length 0: the evaluator's blank-instruction control shows an empty instruction.
        spaces[cv.OBS_INSTRUCTION] = gym.spaces.Text(
            min_length=0, max_length=cv.INSTRUCTION_MAX_LENGTH, charset=cv.INSTRUCTION_CHARSET)
        return spaces

    # -- Gymnasium API -------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start an episode.

        Options (combinable):

        * ``{"task": name}`` picks the task for this episode.
        * ``{"instruction": text}`` replaces the episode's instruction text
          (``obs["instruction"]``, ``info["task_description"]``) and keeps its goal: the task, scene
          and goal are the ones the seed draws, so the episode is the same as without the
          option but for the words (for paraphrase studies). ``text`` must be a non-empty
          string within :data:`~vla_bench.conventions.INSTRUCTION_MAX_LENGTH` and
          :data:`~vla_bench.conventions.INSTRUCTION_CHARSET`, else :class:`ConfigError`.
          While an override is active every ``info`` of the episode has
          ``instruction_override=True`` and ``original_instruction`` (what the task drew);
          without one both keys are absent.
        """
        super().reset(seed=seed)
        rng = self.np_random
        options = options or {}
        unknown = set(options) - set(RESET_OPTIONS)
        if unknown:
            raise ConfigError(f"unknown reset option(s) {sorted(unknown)}; "
                              f"valid: {list(RESET_OPTIONS)}")
        override = check_instruction(options["instruction"]) if "instruction" in options \
            else None
        if "task" in options:
            names = [e.name for e in self.task_entries]
            if options["task"] not in names:
                raise UnknownNameError("task", str(options["task"]), names)
            index = names.index(options["task"])
        else:
            index = int(rng.integers(len(self.tasks)))
        self.task, self._task_sim = self.tasks[index], self._task_sims[index]
        m, d, h = self.model, self.data, self.handles
        self._randomizer.run_reset_hooks()
        self._sim.ledger.restore()  # every model edit of the last episode, undone at once
        mujoco.mj_resetData(m, d)
        d.qpos[h.qpos_adr] = h.home_qpos
        d.qpos[h.base_qpos_adr[2]] = self.base_height
        for side in SIDES:
            d.qpos[h.gripper_qpos_adr[side]] = self.robot_model.gripper_stroke
        if len(self.tasks) > 1:
            self._park_inactive_props()
        self.layout.initialize(self._sim, rng)
        sim = self._task_sim
        self.instruction = self.task.initialize(sim, rng, self.phrasing)
        # The override changes the words only: no draw depends on it.
        self._original_instruction = None if override is None else self.instruction
        if override is not None:
            self.instruction = override
        self.task_description = self.instruction
        if self.split == "unseen_objects":
            self._paint_held_out(rng)
        if self.randomization.active:
            self._randomizer.apply(rng, self._sim, self.layout)
        # Both base kinds keep x, y, z in base_qpos_adr[:3]; on terrain (outdoor) a free pelvis
        # must start on the ground too, not with its feet sunk into the heightfield.
        x, y = d.qpos[h.base_qpos_adr[0]], d.qpos[h.base_qpos_adr[1]]
        d.qpos[h.base_qpos_adr[2]] = self.layout.ground_height(x, y) + self.base_height
        mujoco.mj_forward(m, d)
        self.controller.reset(d)
        mujoco.mj_step(m, d, _SETTLE_STEPS)
        self.controller.reset(d)
        self._steps = 0
        self._reuse_images = False
        self._success_once = False
        self._expert = None
        self._expert_goal = None
        self._warnings0 = d.warning.number.copy()
        self._person_distance = None
        for monitor in self.task.monitors():
            monitor.reset(sim)
        evaluation = self.task.evaluate(sim)
        return self._observation(), self._info(evaluation, None, None)

    def step(self, action: np.ndarray) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Advance one control step (``SUBSTEPS`` physics steps) with ``action`` held."""
        action = self._validate(action)
        m, d, sim = self.model, self.data, self._task_sim
        self.task.advance(sim)
        self.controller.apply(action, d)
        mujoco.mj_step(m, d, cv.SUBSTEPS)
        self._steps += 1
        sim_error = self._sim_error()
        if sim_error:
            evaluation = Evaluation(success=False, failure=True, failure_reason="sim_error")
        else:
            for monitor in self.task.monitors():
                monitor.update(sim)
            evaluation = self.task.evaluate(sim)
        self._success_once |= evaluation.success
        terminated = bool(evaluation.success or evaluation.failure)
        truncated = (not terminated) and self._steps >= self.task.max_episode_steps
        # Everything read from the state comes before rendering, which flushes the CPU caches.
        info = self._info(evaluation, sim_error, action)
        obs = self._observation()
        return obs, float(evaluation.success), terminated, truncated, info

    def skip_next_images(self) -> None:
        """Let the next ``step`` return the last camera frames instead of rendering new ones.

        For a caller that will not read that step's images, such as an evaluator executing an
        action chunk open loop: rendering is most of a step's cost on the CPU. The physics,
        the state, ``info`` and every later step are the same as without the call; only that
        one observation's images are stale (copies of the step before's). ``reset`` cancels
        it.
        """
        self._reuse_images = bool(self._images)

    def render(self) -> np.ndarray | None:
        """Third-person RGB frame (``render_mode="rgb_array"``)."""
        if self.render_mode != "rgb_array":
            return None
        from vla_bench.rendering import RGBDRenderer

        if self._video_renderer is None:
            self._video_renderer = RGBDRenderer(self.model, 360, 480)
        cam = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, "external")
        return self._video_renderer.render(self.data, cam)[0]

    def close(self) -> None:
        """Release the renderers."""
        for r in (self._renderer, self._video_renderer, self._segmenter):
            if r is not None:
                r.close()
        self._renderer = self._video_renderer = self._segmenter = None

    # -- expert ----------------------------------------------------------------------------
    def expert_action(self) -> np.ndarray:
        """The task's scripted expert's next action (privileged state; the traditional baseline)."""
        if self._expert is None:
            task = self.task if self._expert_goal is None else self.task.pursuing(
                self._expert_goal)
            self._expert = task.expert(self._task_sim)
        return self._expert.act(self._task_sim, self.controller, self.control_mode)

    def pursue(self, goal: Goal | None) -> None:
        """Point this episode's expert at ``goal`` (one of ``task.goals()``) while the episode
        is still scored against the instruction's goal: the competent policy that ignores the
        words, whose success is the task's measured chance level. ``None``: the true goal.
        Call after ``reset``; the next reset forgets it."""
        if goal is not None and tuple(goal) not in [tuple(g) for g in self.task.goals()]:
            raise ConfigError(f"{goal!r} is not one of this episode's goals "
                              f"{list(self.task.goals())}")
        self._expert_goal = None if goal is None else tuple(goal)
        self._expert = None

    # -- internals -----------------------------------------------------------------------
    def _validate(self, action: Any) -> np.ndarray:
        try:
            raw = np.asarray(action)
            # float64 conversion alone turns None into NaN and drops imaginary parts.
            if raw.dtype.kind not in "biuf":
                raise TypeError(f"dtype {raw.dtype}")
            arr = raw.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidActionError(
                f"action must be numeric (real numbers), got {type(action).__name__} ({exc})"
            ) from exc
        if arr.shape != self.action_space.shape:
            raise InvalidActionError(
                f"action has shape {arr.shape}, expected {self.action_space.shape} for "
                f"control_mode {self.control_mode!r}; layout: env.unwrapped.action_layout")
        if not np.all(np.isfinite(arr)):
            bad = [self.action_layout[i] for i in np.flatnonzero(~np.isfinite(arr))]
            raise InvalidActionError(f"action has NaN/inf in {bad}; actions must be finite, "
                                     "in [-1, 1] (values outside are clipped)")
        return np.clip(arr, -1.0, 1.0)

    def _sim_error(self) -> str | None:
        # MuJoCo checks qpos/qvel/qacc itself each step (warnings BADQPOS/BADQVEL/BADQACC, after
        # which it resets the state), so new warnings are the divergence signal.
        warnings = self.data.warning.number
        if int(warnings.sum()) == int(self._warnings0.sum()):
            return None
        new = np.flatnonzero(warnings > self._warnings0)
        self._warnings0 = warnings.copy()
        names = [mujoco.mjtWarning(int(i)).name for i in new]
        return f"MuJoCo warning {', '.join(names)}"

    def _observation(self) -> dict[str, Any]:
        state = self._state()  # before rendering, which flushes the CPU caches
        obs: dict[str, Any] = {}
        if self._reuse_images:
            self._reuse_images = False
            obs.update({k: v.copy() for k, v in self._images.items()})  # never shared
        elif self.cameras:
            if self._renderer is None:
                from vla_bench.rendering import RGBDRenderer

                self._renderer = RGBDRenderer(self.model, *self.image_size)
            for i, cam in enumerate(self.cameras):
                rgb, depth = self._renderer.render(self.data, self._camera_ids[cam])
                sfx = "" if i == 0 else f"_{cam}"
                obs[cv.OBS_RGB + sfx] = rgb
                obs[cv.OBS_DEPTH + sfx] = depth
            self._images = dict(obs)
        obs[cv.OBS_STATE] = state
        obs[cv.OBS_INSTRUCTION] = self.instruction
        return obs

    def _state(self) -> np.ndarray:
        d, h = self.data, self.handles
        pelvis = h.pelvis_body
        mat = d.xmat[pelvis].reshape(3, 3)
        if h.floating:  # the pelvis' own velocity (the free joint's origin sits below it)
            vel = self._vel6
            mujoco.mj_objectVelocity(self.model, d, mujoco.mjtObj.mjOBJ_BODY, pelvis, vel, 0)
            lin, wz = vel[3:], float(vel[2])
        else:  # carried base: x, y, z slides and the yaw hinge
            lin = d.qvel[h.base_dof_adr[:3]]
            wz = float(d.qvel[h.base_dof_adr[3]])
        x, y, z = d.xpos[pelvis]
        base = np.array([x, y, mat_yaw(mat)])  # the robot frame: pelvis heading on the ground
        tcp = to_robot_frame(d.site_xpos[self._tcp_ids], base)
        v = to_robot_frame(lin[:2], np.array([0.0, 0.0, base[2]]))
        opening = d.qpos[self._finger_adr].reshape(2, 2).mean(1) / self.robot_model.gripper_stroke
        head = np.array([v[0], v[1], wz, z - self.layout.ground_height(x, y),
                         -mat[2, 0], -mat[2, 1], -mat[2, 2]])
        return np.concatenate([head, d.qpos[h.qpos_adr], d.qvel[h.dof_adr],
                               np.clip(opening, 0.0, 1.0), tcp.ravel()]).astype(np.float32)

    def _camera_info(self) -> dict[str, dict[str, np.ndarray]]:
        from vla_bench.rendering import camera_info

        out = {}
        for cam in self.cameras:
            ci = camera_info(self.model, self.data, self._camera_ids[cam], *self.image_size)
            out[cam] = {"intrinsics": ci.intrinsics, "extrinsics": ci.extrinsics}
        return out

    def _info(self, ev: Evaluation, sim_error: str | None, action: np.ndarray | None
              ) -> dict[str, Any]:
        xy = self.data.xpos[self.handles.pelvis_body][:2]
        ground = self.layout.ground_height(float(xy[0]), float(xy[1]))
        costs, values = self.safety(self.data, ground, ev.task_cost)
        social = self._social()
        costs["human_proximity"] = float(bool(social) and social["violation"])
        info = {
            cv.INFO_SUCCESS: bool(ev.success),
            cv.INFO_SUCCESS_ONCE: bool(self._success_once or ev.success),
            cv.INFO_FAILURE: bool(ev.failure),
            cv.INFO_FAILURE_REASON: ev.failure_reason or "",
            cv.INFO_TASK: self.task.name,
            cv.INFO_TASK_DESCRIPTION: self.instruction,
            cv.INFO_SAFETY: costs,
            "safety_values": values,
            "progress": dict(ev.progress),
            cv.INFO_SIM_ERROR: sim_error or "",
            "elapsed_steps": self._steps,
            cv.INFO_CAMERAS: self._camera_info(),
        }
        if self._original_instruction is not None:
            info[INFO_INSTRUCTION_OVERRIDE] = True
            info[INFO_ORIGINAL_INSTRUCTION] = self._original_instruction
        if social:
            info[cv.INFO_SOCIAL] = {k: social[k] for k in ("distance_m", "approach_speed",
                                                          "facing_cos")}
        return info

    def _social(self) -> dict[str, float] | None:
        """Distance, approach speed and facing towards the nearest simulated person."""
        people = self.task.people(self._task_sim)
        if len(people) == 0:
            return None
        pelvis = self.data.xpos[self.handles.pelvis_body]
        offsets = np.asarray(people, float) - pelvis[:2]
        dists = np.linalg.norm(offsets, axis=1)
        k = int(np.argmin(dists))
        dist = float(dists[k])
        prev = self._person_distance
        approach = 0.0 if prev is None else (prev - dist) * cv.CONTROL_HZ
        self._person_distance = dist
        heading = self.data.xmat[self.handles.pelvis_body].reshape(3, 3)[:2, 0]
        facing = float(heading @ offsets[k] / max(np.linalg.norm(heading) * dist, 1e-9))
        limit = cv.HUMAN_MIN_DISTANCE + max(approach, 0.0) * cv.HUMAN_STOP_TIME
        return {"distance_m": dist, "approach_speed": approach, "facing_cos": facing,
                "violation": dist < limit}


def _reject_unknown(unknown: dict[str, Any]) -> None:
    """A misspelt keyword names the closest valid one."""
    if not unknown:
        return
    valid = [p for p in inspect.signature(VLAEnv.__init__).parameters
             if p not in ("self", "unknown")]
    bad = next(iter(unknown))
    close = difflib.get_close_matches(bad, valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"unknown argument {bad!r}.{hint} Valid: {', '.join(valid)}")


def _select_tasks(domain: str, tasks: Sequence[str], task: str | None) -> list[TaskEntry]:
    """The registry entries this env samples from (``task`` pins one of ``tasks``)."""
    entries = [find_task(t, domain) for t in tasks]
    if task is None:
        return entries
    if task not in [e.name for e in entries]:
        raise UnknownNameError("task", task, [e.name for e in entries])
    return [find_task(task, domain)]
