"""Where episodes run: in this process, in a local process pool, or on a Ray cluster.

Every backend drives the same :class:`EpisodeWorker`, which keeps one env per
``(env_id, split)`` (and one perturbation wrapper per ``(env_id, split, perturbation)``) alive
across episodes and one policy instance for all of them. Backends yield records as episodes
finish, in completion order; the runner writes them.

- ``serial``: one worker in this process (``workers=1`` with ``backend="process"``).
- ``process``: ``workers`` processes from a ``forkserver`` context (``fork`` hangs once the
  parent holds a GL context); a worker that dies stops the run with a clear error, and the
  finished episodes stay saved for the resume.
- ``ray``: ``workers`` Ray actors, each an :class:`EpisodeWorker`; ``ray`` is imported only
  here. ``ray.init(address=...)`` joins a cluster, or starts a local instance when no address
  is given and Ray is not initialised yet. Worker nodes need vla_bench installed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vla_bench.errors import VlaBenchError
from vla_bench.evaluation.episode import EpisodeSpec, PolicyCaller, run_episode

BACKENDS = ("process", "ray")
PERTURBATION_SEED = 0  # the protocol's perturbation seed: draws then depend on the episode seed


class WorkerCrashError(VlaBenchError, RuntimeError):
    """A worker process or actor died (segfault, out of memory, killed)."""


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker needs (picklable: it crosses process and Ray boundaries)."""

    policy_name: str
    policy_target: Any  # "module:factory" string or a picklable callable
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    estop: tuple[str, ...] = ("fall",)
    policy_timeout_s: float | None = None
    video_dir: str | None = None  # absolute; None: no videos
    run_dir: str = "."


def _select_gl_backend() -> None:
    # Must happen before anything imports OpenGL in this process.
    if "MUJOCO_GL" not in os.environ:
        import ctypes.util

        os.environ["MUJOCO_GL"] = "egl" if ctypes.util.find_library("EGL") else "osmesa"
    os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])


def drop_not_applicable(specs: Sequence[EpisodeSpec], env_kwargs: dict[str, Any]
                        ) -> tuple[list[EpisodeSpec], list[str]]:
    """The specs without the perturbation conditions that cannot act on their env, and one
    ``"<env id>: <axis:level> not applicable: <reason>"`` note per dropped condition.

    A condition that changes nothing (``mass`` with no free object, ``friction`` where no
    contact matters) would pair every episode with an identical nominal one and pull the
    robustness score toward 1, so it is not run; the note keeps it visible in the run's
    config, the CLI output and the report. The env is built the way the worker builds it
    (``env_kwargs`` plus the axis' own), once per env id.
    """
    from vla_bench.evaluation.perturbations import get_axis, merge_env_kwargs
    from vla_bench.evaluation.perturbations.axes import STRUCTURAL_AXES, not_applicable
    from vla_bench.evaluation.records import parse_perturbation

    reasons: dict[tuple[str, str], str | None] = {}
    kept: list[EpisodeSpec] = []
    notes: list[str] = []
    for spec in specs:
        key = (spec.env_id, spec.perturbation)
        if key not in reasons:
            reason = None
            if spec.perturbation != "nominal":
                axis, level = parse_perturbation(spec.perturbation)
                if axis in STRUCTURAL_AXES:
                    kwargs = merge_env_kwargs(env_kwargs, get_axis(axis).env_kwargs(level))
                    reason = not_applicable(axis, spec.env_id, kwargs)
            reasons[key] = reason
            if reason is not None:
                notes.append(f"{spec.env_id}: {spec.perturbation} not applicable: {reason}")
        if reasons[key] is None:
            kept.append(spec)
    return kept, notes


def video_name(key: str) -> str:
    """A file name for an episode key (no ``|`` or ``:``)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in key) + ".mp4"


class EpisodeWorker:
    """Runs episodes one at a time, reusing envs and one policy instance."""

    def __init__(self, config: WorkerConfig) -> None:
        _select_gl_backend()
        from vla_bench.policies.registry import load_factory

        self.config = config
        factory = load_factory(config.policy_target)
        kwargs = dict(config.policy_kwargs)
        self.caller = PolicyCaller(lambda: factory(**kwargs), config.policy_timeout_s)
        self.caller.ensure()  # bad kwargs fail here, before any episode
        self._envs: dict[tuple[str, str, str], Any] = {}
        self._wrapped: dict[tuple[str, str, str, str], Any] = {}
        self._meta: dict[str, Any] | None = None

    def policy_meta(self) -> dict[str, Any]:
        """Parameter count and privilege of the policy, for the run's compute figures."""
        if self._meta is None:
            self._meta = self._policy_meta()
        return self._meta

    def _policy_meta(self) -> dict[str, Any]:
        policy = self.caller.ensure()
        n = getattr(policy, "num_parameters", None)
        try:
            params = int(n()) if callable(n) else None
        except Exception:  # noqa: BLE001 - optional hook; a failure means "unknown"
            params = None
        return {"num_parameters": params, "privileged": bool(getattr(policy, "privileged", False))}

    def _env(self, spec: EpisodeSpec) -> Any:
        axis_kwargs: dict[str, Any] = {}
        axis = level = None
        if spec.perturbation != "nominal":
            from vla_bench.evaluation.perturbations import get_axis
            from vla_bench.evaluation.records import parse_perturbation

            axis, level = parse_perturbation(spec.perturbation)
            axis_kwargs = get_axis(axis).env_kwargs(level)  # e.g. distractor props, built in
        key = (spec.env_id, spec.split, json.dumps(axis_kwargs, sort_keys=True))
        if key not in self._envs:
            from vla_bench.evaluation.perturbations import merge_env_kwargs
            from vla_bench.registry import make_from_config

            kwargs = merge_env_kwargs(self.config.env_kwargs, axis_kwargs)
            kwargs["split"] = spec.split
            if self.config.video_dir is not None:
                kwargs["render_mode"] = "rgb_array"
            self._envs[key] = make_from_config(spec.env_id, kwargs)
        env = self._envs[key]
        if axis is None:
            return env
        wkey = (*key, spec.perturbation)
        if wkey not in self._wrapped:
            from vla_bench.evaluation.perturbations import perturb

            # Wrappers are reusable: each reset re-seeds them from the episode seed and undoes
            # the previous episode's model edits.
            self._wrapped[wkey] = perturb(env, axis, level, seed=PERTURBATION_SEED)
        return self._wrapped[wkey]

    def _drop_env(self, spec: EpisodeSpec) -> None:
        for key in [k for k in self._envs if k[:2] == (spec.env_id, spec.split)]:
            env = self._envs.pop(key)
            try:
                env.close()
            except Exception:  # noqa: BLE001 - it is broken already; a fresh one replaces it
                pass
        for k in [k for k in self._wrapped if k[:2] == (spec.env_id, spec.split)]:
            del self._wrapped[k]

    def run(self, spec: EpisodeSpec) -> dict[str, Any]:
        """Run one episode and return its record."""
        env = self._env(spec)
        video_path = video_rel = None
        if self.config.video_dir is not None:
            name = video_name(spec.key)
            video_path = Path(self.config.video_dir) / name
            video_rel = os.path.relpath(video_path, self.config.run_dir)
        outcome = run_episode(env, self.caller, spec, policy_name=self.config.policy_name,
                              estop=self.config.estop, video_path=video_path,
                              video_rel=video_rel)
        if outcome.env_broken:
            self._drop_env(spec)
        return outcome.record

    def close(self) -> None:
        """Close every env."""
        for env in self._envs.values():
            env.close()
        self._envs.clear()
        self._wrapped.clear()


# -- serial ----------------------------------------------------------------------------------

def run_serial(config: WorkerConfig, specs: Sequence[EpisodeSpec], meta: dict[str, Any]
               ) -> Iterator[dict[str, Any]]:
    """Episodes in this process, in order."""
    worker = EpisodeWorker(config)
    meta.update(worker.policy_meta())
    try:
        for spec in specs:
            yield worker.run(spec)
    finally:
        worker.close()


# -- process pool ----------------------------------------------------------------------------

class WorkerInitError(VlaBenchError, RuntimeError):
    """A worker could not start or build an env (bad policy kwargs, missing package, bad env
    kwargs); carries the original message across the process boundary."""


_WORKER: EpisodeWorker | None = None
_INIT_ERROR: str | None = None


def _init_process(config: WorkerConfig, threads: int) -> None:
    # Before any policy imports torch: its default of one thread per core in every worker
    # oversubscribes the cores (measured: 10x slower with 2 workers on 2 cores). The user's
    # own OMP_NUM_THREADS wins.
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    # An exception here would kill the worker and surface as a misleading "process died":
    # keep the message and raise it with the first task instead.
    global _WORKER, _INIT_ERROR
    try:
        _WORKER = EpisodeWorker(config)
    except Exception as exc:  # noqa: BLE001 - re-raised in _run_in_process
        _INIT_ERROR = str(exc) if isinstance(exc, VlaBenchError) else \
            f"{type(exc).__name__}: {exc}"


def _run_in_process(spec: EpisodeSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    if _WORKER is None:
        raise WorkerInitError(_INIT_ERROR or "worker not initialised")
    try:
        return _WORKER.run(spec), _WORKER.policy_meta()
    except VlaBenchError as exc:
        # Some vla_bench errors take several constructor arguments and would not unpickle in
        # the parent; their message is what matters.
        raise WorkerInitError(f"{spec.key}: {exc}") from None


def run_processes(config: WorkerConfig, specs: Sequence[EpisodeSpec], workers: int,
                  meta: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Episodes across ``workers`` local processes, yielded as they finish."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = mp.get_context("forkserver" if sys.platform != "win32" else "spawn")
    todo = iter(specs)
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_process,
                             initargs=(config, threads)) as pool:
        pending: dict[Any, EpisodeSpec] = {}
        try:
            while True:
                # Two in flight per worker: no idle gap between episodes, little lost on a kill.
                while len(pending) < 2 * workers:
                    spec = next(todo, None)
                    if spec is None:
                        break
                    pending[pool.submit(_run_in_process, spec)] = spec
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    spec = pending.pop(fut)
                    try:
                        record, policy_meta = fut.result()
                    except BrokenProcessPool as exc:
                        raise WorkerCrashError(
                            f"a worker process died while running {spec.key} ({exc}); the "
                            "finished episodes are saved: re-run the same command to resume"
                        ) from exc
                    meta.update(policy_meta)
                    yield record
        finally:
            for fut in pending:
                fut.cancel()


# -- Ray -------------------------------------------------------------------------------------

def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise VlaBenchError("backend='ray' needs Ray: pip install 'vla_bench[ray]'") from exc
    return ray


def run_ray(config: WorkerConfig, specs: Sequence[EpisodeSpec], workers: int,
            meta: dict[str, Any], address: str | None = None) -> Iterator[dict[str, Any]]:
    """Episodes across ``workers`` Ray actors, yielded as they finish."""
    ray = _ray()
    if not ray.is_initialized():
        if address:
            ray.init(address=address)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    # One CPU per actor: more actors than the cluster's CPUs would sit unscheduled, holding
    # their queued episodes until the end. Ray also sets OMP_NUM_THREADS to an actor's
    # num_cpus (checked with Ray 2.60: torch sees 1 thread), so torch policies do not
    # oversubscribe the node as they would in a bare process pool.
    workers = max(1, min(workers, int(ray.cluster_resources().get("CPU", workers))))
    actor_cls = ray.remote(num_cpus=1, max_restarts=0)(_RayWorker)
    actors = [actor_cls.remote(config) for _ in range(workers)]
    todo = iter(specs)
    inflight: dict[Any, tuple[Any, EpisodeSpec]] = {}

    def submit(actor: Any) -> None:
        spec = next(todo, None)
        if spec is not None:
            inflight[actor.run.remote(spec)] = (actor, spec)

    try:
        for actor in actors:  # two per actor: the next episode is queued while one runs
            submit(actor)
            submit(actor)
        while inflight:
            ready, _ = ray.wait(list(inflight), num_returns=1)
            actor, spec = inflight.pop(ready[0])
            try:
                record, policy_meta = ray.get(ready[0])
            except ray.exceptions.RayActorError as exc:
                raise WorkerCrashError(
                    f"a Ray worker died while running {spec.key} ({exc}); the finished episodes "
                    "are saved: re-run the same command to resume") from exc
            meta.update(policy_meta)
            submit(actor)
            yield record
    finally:
        _stop_actors(ray, actors)


def _stop_actors(ray: Any, actors: Sequence[Any]) -> None:
    """Kill every actor, which also ends its running and queued episodes.

    Runs in the ``finally`` of :func:`run_ray`, often while an error is propagating, so it must
    neither raise (that would mask the real error) nor stop at the first failure (that would
    leave actors running). ``ray.cancel`` is not used: with ``force=True`` it raises
    ``ValueError`` for actor tasks, and ``ray.kill`` is Ray's way to stop an actor's tasks.
    """
    for actor in actors:
        try:
            ray.kill(actor)
        except Exception:  # noqa: BLE001 - already dead or unreachable: nothing left to stop
            pass


class _RayWorker:
    """Ray actor body: an :class:`EpisodeWorker` (kept module-level so Ray can pickle it)."""

    def __init__(self, config: WorkerConfig) -> None:
        self.worker = EpisodeWorker(config)

    def run(self, spec: EpisodeSpec) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.worker.run(spec), self.worker.policy_meta()


def iter_records(backend: str, config: WorkerConfig, specs: Sequence[EpisodeSpec],
                 workers: int, meta: dict[str, Any], ray_address: str | None = None
                 ) -> Iterable[dict[str, Any]]:
    """Dispatch to a backend."""
    if backend == "ray":
        return run_ray(config, specs, workers, meta, ray_address)
    if workers <= 1 or len(specs) <= 1:
        return run_serial(config, specs, meta)
    return run_processes(config, specs, min(workers, len(specs)), meta)

