"""One evaluation episode: the policy drives an env from a manifest seed to a record.

Isolation: an exception raised by the policy (in ``bind``/``seed``/``reset``/``act``, or an
action the env rejects) ends the episode with ``failure_reason = "policy_error: <Type>: msg"``
and the traceback in ``error``; a call that exceeds ``policy_timeout_s`` ends it with
``"policy_timeout"``; an exception inside the env ends it with ``"sim_error: …"``. None of these
stop the run: the caller gets the record and, for timeouts and env crashes, a flag to replace
the policy or env before the next episode. The post-episode hook (``episode_confidence()``)
is different: the outcome is decided by then, so its error or timeout goes to ``hook_error``
and the outcome stands.

No privileged channel: the env and ``info`` stay here. A policy gets its observations and
:func:`policy_spec` (``setup(spec)``); only a policy the registry lists as privileged (the
expert) is also bound to the env (``bind(env)``).
"""

from __future__ import annotations

import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from vla_bench import conventions as cv
from vla_bench.errors import InvalidActionError
from vla_bench.evaluation.records import EpisodeRecorder, episode_key
from vla_bench.policies.base import CameraSpec, PolicySpec, as_output
from vla_bench.policies.registry import is_privileged

_ALARM = hasattr(signal, "setitimer")


@dataclass(frozen=True)
class EpisodeSpec:
    """Which episode to run: a manifest entry under one perturbation."""

    env_id: str
    task: str
    domain: str
    family: str
    split: str
    perturbation: str
    seed: int
    max_steps: int

    @property
    def key(self) -> str:
        """The record key."""
        return episode_key(self.env_id, self.split, self.perturbation, self.seed)


class PolicyTimeout(BaseException):
    """A policy call ran past the timeout (internal to the runner).

    A ``BaseException``, like ``KeyboardInterrupt``, so that a policy's own ``except
    Exception`` cannot swallow it when it is raised inside the policy's code.
    """


class PolicyCallError(Exception):
    """A policy call raised; carries the original exception and its traceback."""

    def __init__(self, exc: BaseException, tb: str) -> None:
        super().__init__(f"{type(exc).__name__}: {exc}")
        self.exc, self.tb = exc, tb


class _CallThread:
    """A daemon thread that runs policy calls so the caller can stop waiting.

    Python cannot kill a thread: after a timeout the thread is abandoned (daemon, so it never
    blocks interpreter exit) and the policy it holds is replaced.
    """

    def __init__(self) -> None:
        self._in: queue.SimpleQueue = queue.SimpleQueue()
        self._out: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._loop, daemon=True, name="vla-bench-policy").start()

    def _loop(self) -> None:
        while True:
            fn, args = self._in.get()
            t0 = time.perf_counter()
            try:
                result: tuple[bool, Any] = (True, fn(*args))
            except BaseException as exc:  # noqa: BLE001 - reported to the caller, not lost
                result = (False, (exc, traceback.format_exc()))
            self._out.put((result, time.perf_counter() - t0))

    def call(self, fn: Callable[..., Any], args: tuple, timeout: float) -> tuple[Any, float]:
        self._in.put((fn, args))
        try:
            (ok, value), elapsed = self._out.get(timeout=timeout)
        except queue.Empty:
            raise PolicyTimeout from None
        if not ok:
            raise PolicyCallError(*value)
        return value, elapsed


def _raise_timeout(signum: int, frame: Any) -> None:
    raise PolicyTimeout


def _call_with_alarm(fn: Callable[..., Any], args: tuple, timeout: float) -> tuple[Any, float]:
    """Run ``fn`` under a SIGALRM timer: no thread hand-off, so no per-call overhead."""
    old = signal.signal(signal.SIGALRM, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        t0 = time.perf_counter()
        try:
            result = fn(*args)
        except Exception as exc:  # noqa: BLE001 - isolated per episode
            raise PolicyCallError(exc, traceback.format_exc()) from exc
        return result, time.perf_counter() - t0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, old)


class PolicyCaller:
    """Calls a policy's methods, timing them and enforcing an optional per-call timeout.

    ``factory()`` builds the policy; after a timeout the instance is dropped and the next
    episode gets a fresh one. Timeouts use a SIGALRM timer in a process's main thread (local
    and process-pool workers): it interrupts Python code and sleeps at no per-call cost, but
    not a C extension that never returns to the interpreter. Elsewhere (Ray actors'
    threads, Windows) calls run in a helper thread that is abandoned on timeout, which
    catches any hang at the price of a thread hand-off per call.
    """

    def __init__(self, factory: Callable[[], Any], timeout_s: float | None) -> None:
        self._factory = factory
        self.timeout_s = timeout_s
        self._thread: _CallThread | None = None
        self.policy: Any = None

    def ensure(self) -> Any:
        """The policy, built on first use or after a timeout."""
        if self.policy is None:
            self.policy = self._factory()
        return self.policy

    def has(self, method: str) -> bool:
        return callable(getattr(self.ensure(), method, None))

    def call(self, method: str, *args: Any) -> tuple[Any, float]:
        """``(result, seconds)``; raises PolicyTimeout or PolicyCallError."""
        fn = getattr(self.ensure(), method)
        if self.timeout_s is None:
            t0 = time.perf_counter()
            try:
                result = fn(*args)
            except Exception as exc:  # noqa: BLE001 - isolated per episode
                raise PolicyCallError(exc, traceback.format_exc()) from exc
            return result, time.perf_counter() - t0
        try:
            if _ALARM and threading.current_thread() is threading.main_thread():
                return _call_with_alarm(fn, args, self.timeout_s)
            if self._thread is None:
                self._thread = _CallThread()
            return self._thread.call(fn, args, self.timeout_s)
        except PolicyTimeout:
            self._thread = None  # abandoned with the policy it may still be stuck in
            self.policy = None
            raise


def policy_spec(env: Any) -> PolicySpec:
    """What a policy may know about ``env`` (just reset): no world pose, no simulator.

    Camera extrinsics are camera-to-robot (the frame of ``obs["state"]``'s TCP positions:
    origin below the pelvis, x along its heading), so they say where a camera sits on the
    robot, not where the robot stands.
    """
    from vla_bench.geometry import mat_yaw, yaw_matrix
    from vla_bench.rendering import camera_info

    base = env.unwrapped
    space = base.action_space
    pelvis = base.data.xpos[base.handles.pelvis_body]
    yaw = mat_yaw(base.data.xmat[base.handles.pelvis_body].reshape(3, 3))
    world_to_robot = np.eye(4)
    rot = yaw_matrix(yaw)
    world_to_robot[:3, :3] = rot.T
    world_to_robot[:3, 3] = -rot.T @ np.array([pelvis[0], pelvis[1], 0.0])
    height, width = base.image_size
    cams = []
    for i, cam in enumerate(base.cameras):
        info = camera_info(base.model, base.data, base._camera_ids[cam], height, width)
        sfx = "" if i == 0 else f"_{cam}"
        ext = world_to_robot @ info.extrinsics
        cams.append(CameraSpec(
            name=cam, rgb_key=cv.OBS_RGB + sfx, depth_key=cv.OBS_DEPTH + sfx, height=height,
            width=width, intrinsics=tuple(tuple(float(v) for v in row) for row in
                                          info.intrinsics),
            extrinsics=tuple(tuple(float(v) for v in row) for row in ext)))
    return PolicySpec(action_layout=tuple(base.action_layout),
                      action_low=float(np.min(space.low)), action_high=float(np.max(space.high)),
                      state_layout=tuple(base.state_layout), control_mode=str(base.control_mode),
                      control_hz=float(cv.CONTROL_HZ), cameras=tuple(cams))


def pelvis_xy(env: Any) -> np.ndarray:
    """The pelvis' horizontal position (world frame)."""
    base = env.unwrapped
    return base.data.xpos[base.handles.pelvis_body][:2].copy()


@dataclass
class EpisodeOutcome:
    """A finished episode's record and whether the env must be rebuilt."""

    record: dict[str, Any]
    env_broken: bool = False


def run_episode(env: Any, caller: PolicyCaller, spec: EpisodeSpec, *, policy_name: str,
                estop: Sequence[str] = ("fall",), video_path: Path | None = None,
                video_rel: str | None = None) -> EpisodeOutcome:
    """Run ``spec`` on ``env`` (already wrapped for its perturbation) and build its record."""
    t0 = time.perf_counter()
    rec = EpisodeRecorder(env_id=spec.env_id, task=spec.task, domain=spec.domain,
                          family=spec.family, split=spec.split, perturbation=spec.perturbation,
                          seed=spec.seed, policy=policy_name, max_steps=spec.max_steps)
    failure: str | None = None
    error: str | None = None
    hook_error: str | None = None
    stopped: str | None = None
    post_conf: float | None = None
    env_broken = False
    writer = None
    try:
        obs, info = env.reset(seed=spec.seed)
    except Exception as exc:  # noqa: BLE001 - an env that cannot reset is this episode's failure
        record = rec.finish(failure_reason=f"sim_error: reset failed: {type(exc).__name__}: "
                            f"{exc}", error=traceback.format_exc(),
                            wall_time_s=time.perf_counter() - t0)
        return EpisodeOutcome(record, env_broken=True)
    rec.start(obs[cv.OBS_INSTRUCTION], pelvis_xy(env), _override(info, obs))
    del info  # nothing of it reaches the policy
    if video_path is not None:
        writer = _VideoWriter(video_path)
        writer.append(env.render())
    try:
        if caller.has("setup"):
            caller.call("setup", policy_spec(env))
        if is_privileged(caller.ensure()) and caller.has("bind"):
            caller.call("bind", env)
        if caller.has("seed"):
            caller.call("seed", int(spec.seed))
        caller.call("reset", obs[cv.OBS_INSTRUCTION])
        pending: list[np.ndarray] = []
        skip_images = image_skipper(env)
        while True:
            if not pending:
                result, elapsed = caller.call("act", obs)
                rec.act_timing(elapsed)
                try:
                    out = as_output(result)
                except Exception as exc:  # a malformed output is the policy's error
                    raise PolicyCallError(exc, traceback.format_exc()) from exc
                rec.confidence(out.confidence)
                pending = list(out.actions)
            action = pending.pop(0)
            if pending and skip_images is not None:
                skip_images()  # the chunk runs open loop: nobody reads this step's images
            try:
                obs, _, terminated, truncated, info = env.step(action)
            except InvalidActionError as exc:
                raise PolicyCallError(exc, traceback.format_exc()) from exc
            except Exception as exc:  # noqa: BLE001 - the env crashed: not the policy's fault
                failure = f"sim_error: {type(exc).__name__}: {exc}"
                error, env_broken = traceback.format_exc(), True
                break
            if writer is not None:
                writer.append(env.render())
            budget_hit = rec.steps + 1 >= spec.max_steps
            rec.step(action, info, terminated, truncated or (budget_hit and not terminated),
                     pelvis_xy(env))
            hit = [c for c in estop if info[cv.INFO_SAFETY].get(c, 0.0) > 0]
            if hit:
                stopped = hit[0]
                break
            if terminated or truncated or budget_hit:
                break
    except PolicyTimeout:
        failure = "policy_timeout"
        error = f"a policy call took longer than policy_timeout_s={caller.timeout_s} s"
    except PolicyCallError as exc:
        failure = f"policy_error: {exc}"
        error = exc.tb or str(exc)
    if failure is None and caller.policy is not None and caller.has("episode_confidence"):
        post_conf, hook_error = _post_episode(caller)
    video_rel_out = None
    if writer is not None:
        if writer.close():
            video_rel_out = video_rel
    record = rec.finish(failure_reason=failure, error=error, estop=stopped,
                        post_episode_confidence=post_conf, hook_error=hook_error,
                        wall_time_s=time.perf_counter() - t0,
                        video=video_rel_out)
    return EpisodeOutcome(record, env_broken=env_broken)


def image_skipper(env: Any) -> Callable[[], None] | None:
    """The env's ``skip_next_images``, unless a wrapper delays observations (so that a step's
    images are read later, when the policy asks again) or the env has none."""
    layer = env
    while isinstance(layer, gym.Wrapper):
        if getattr(layer, "delays_observations", False):
            return None
        layer = layer.env
    return getattr(layer, "skip_next_images", None)


def _override(info: dict[str, Any], obs: dict[str, Any]) -> str | None:
    """The instruction text a user substituted (``reset(options={"instruction": ...})``), or
    ``None``. The env flags it with ``info["instruction_override"]``: ``True`` (the observation
    then carries the substituted text) or the text itself."""
    flag = info.get("instruction_override")
    if flag is True:
        return str(obs[cv.OBS_INSTRUCTION])
    return flag if isinstance(flag, str) else None


def _post_episode(caller: PolicyCaller) -> tuple[float | None, str | None]:
    """``(episode_confidence(), None)`` or ``(None, error)``: the post-episode hook runs once
    the outcome is decided, so a failure here is recorded apart and changes no outcome."""
    try:
        value, _ = caller.call("episode_confidence")
    except PolicyTimeout:
        return None, (f"policy_timeout: episode_confidence() took longer than "
                      f"policy_timeout_s={caller.timeout_s} s")
    except PolicyCallError as exc:
        return None, f"policy_error: episode_confidence(): {exc}"
    if value is None:
        return None, None
    try:
        conf = float(value)
    except (TypeError, ValueError):
        conf = float("nan")
    if not (np.isfinite(conf) and 0.0 <= conf <= 1.0):
        return None, (f"policy_error: episode_confidence() returned {value!r}, not a "
                      "probability in [0, 1]")
    return conf, None


class _VideoWriter:
    """Streams frames to ``<path>.tmp.mp4`` and renames on close (no half videos)."""

    def __init__(self, path: Path) -> None:
        import imageio.v2 as imageio

        self.path = path
        self.tmp = path.with_name(path.stem + ".tmp.mp4")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._w = imageio.get_writer(self.tmp, fps=cv.CONTROL_HZ, codec="libx264",
                                     macro_block_size=8, ffmpeg_log_level="error")
        self.frames = 0

    def append(self, frame: np.ndarray | None) -> None:
        if frame is not None:
            self._w.append_data(frame)
            self.frames += 1

    def close(self) -> bool:
        self._w.close()
        if self.frames == 0:
            self.tmp.unlink(missing_ok=True)
            return False
        self.tmp.replace(self.path)
        return True
